//! `cargo xtask emulator [ARGS]`: runs the local Azure emulator (`aci-cmk-emulator`) with the
//! given arguments (`--port 0`, `--state-dir DIR`, …) until it exits.

use crate::cargo;

/// Runs the emulator binary with `args`; an error when it exits unsuccessfully.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut command = cargo::command();
    command
        .args(["run", "-q", "-p", "aci_cmk_emulator", "--"])
        .args(args);
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("the emulator exited with {status}"))
}
