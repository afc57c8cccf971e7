//! `cargo xtask bench [ARGS]`: builds the emulator and the benchmark binary with `--release`,
//! then runs `aci-cmk-bench --emulator-bin <release emulator> --out target/bench/results.json
//! ARGS` from the workspace root (see `bench/`).

use crate::cargo::{self, Step};
use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// Builds and runs the benchmarks with `args`; an error when a build or a benchmark fails.
pub fn run(args: &[String]) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask has no parent directory")?
        .to_path_buf();
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    cargo::run(&Step {
        name: "bench build",
        args: &[
            "build",
            "--release",
            "-p",
            "aci_cmk_emulator",
            "-p",
            "aci-cmk-bench",
        ],
        env: &[],
    })?;
    let release = target.join("release");
    let mut command = Command::new(release.join("aci-cmk-bench"));
    command
        .current_dir(&root)
        .arg("--emulator-bin")
        .arg(release.join("aci-cmk-emulator"))
        .arg("--out")
        .arg(target.join("bench").join("results.json"))
        .args(args);
    let status = command
        .status()
        .map_err(|e| format!("cannot run aci-cmk-bench: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("the benchmarks failed ({status})"))
}
