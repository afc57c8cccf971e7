//! `cargo xtask deploy <command> [ARGS]`: runs the `aci-cmk` command line
//! (`cargo run -q -p aci-cmk-cli -- <command> ARGS`), so the project's own automation deploys
//! through the crates, and exits with its exit code (0 ok, 1 error, 2 changes from
//! `plan --detailed-exitcode`, 130 interrupted). xtask does not depend on the CLI crate, so
//! it still compiles at once.

use crate::cargo;
use std::process::ExitCode;

/// The commands of `aci-cmk`, for the help text; anything else is passed on for the CLI to
/// refuse.
pub const COMMANDS: &str = "init, plan, apply, rotate, destroy, status, emulator, completions";

/// Runs `aci-cmk ARGS` and exits as it does.
pub fn run(args: &[String]) -> ExitCode {
    if args.is_empty() {
        eprintln!(
            "xtask deploy: say which command ({COMMANDS}), e.g. `cargo xtask deploy plan spec.toml --emulator`"
        );
        return ExitCode::FAILURE;
    }
    let mut command = cargo::command();
    command
        .args(["run", "-q", "-p", "aci-cmk-cli", "--bin", "aci-cmk", "--"])
        .args(args);
    match command.status() {
        // A code that does not fit a byte, or none (killed by a signal): a failure.
        Ok(status) => status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .map_or(ExitCode::FAILURE, ExitCode::from),
        Err(e) => {
            eprintln!("xtask deploy: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}
