//! `cargo xtask chaos [--runs N] [--seed S] [--timing P]`: the chaos runner
//! (`aci-cmk-chaos` in `tests/`) on a release build: random flows on random fault schedules,
//! killed at a random point and run again; every run must converge.

use crate::cargo;

/// Runs the chaos runner with `args`; an error unless every run converged.
pub fn run(args: &[String]) -> Result<(), String> {
    let status = cargo::command()
        .args([
            "run",
            "-q",
            "--release",
            "-p",
            "aci-cmk-integration-tests",
            "--bin",
            "aci-cmk-chaos",
            "--",
        ])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("chaos runs did not all converge ({status})"))
}
