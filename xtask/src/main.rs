//! Project automation, run as `cargo xtask <task>`: this file reads the task from the command
//! line and hands it to its module, one module per task.
//!
//! - `cargo xtask ci` ([`ci`]): the one gate CI runs: format check, the dependency checks, tidy,
//!   clippy with warnings denied, the whole test suite, the docs with warnings denied and a few
//!   chaos runs. If it passes locally, CI is green.
//! - `cargo xtask deps` ([`deps`]): the dependency checks alone.
//! - `cargo xtask emulator [ARGS]` ([`emulator`]): runs the local Azure emulator (`--port 0`,
//!   `--state-dir DIR`).
//! - `cargo xtask deploy <command> [ARGS]` ([`deploy`]): runs the `aci-cmk` command line
//!   (`plan`, `apply`, `rotate`, `destroy`, `status`, …) and exits with its exit code.
//! - `cargo xtask tidy` ([`tidy`]): every module documented, nothing forbidden, no import cycle
//!   in the crates [`tidy::ACYCLIC_CRATES`] names.
//! - `cargo xtask bench [ARGS]` ([`bench`](mod@bench)): builds the emulator and the benchmarks with
//!   `--release` and runs them (see `bench/`); writes `target/bench/results.json` and prints a
//!   table.
//! - `cargo xtask chaos [--runs N] [--seed S] [--timing P]` ([`chaos`]): random flows on random
//!   fault schedules, killed at a random point and run again; every run must converge (release
//!   build). `ci` runs a few.
//!
//! xtask has no dependencies so that it compiles in a second.

mod bench;
mod cargo;
mod chaos;
mod ci;
mod deploy;
mod deps;
mod emulator;
mod licenses;
mod module_graph;
mod tidy;

use std::{env, process::ExitCode};

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    if task.as_deref() == Some("deploy") {
        // The CLI's exit code is the task's: 2 means "changes" to `plan --detailed-exitcode`.
        return deploy::run(&rest);
    }
    let result = match task.as_deref() {
        Some("ci") => ci::run(),
        Some("deps") => deps::run(),
        Some("tidy") => tidy::run(),
        Some("emulator") => emulator::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("chaos") => chaos::run(&rest),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci                 fmt check, deps, clippy -D warnings, tests, docs -D warnings\n  \
         deps               one TLS stack and crypto provider; licenses on the allow-list\n  \
         tidy               every module documented; no disabled TLS checks, todo! or dbg!; no import cycles\n  \
         emulator [ARGS]    run the local Azure emulator (e.g. --port 0 --state-dir DIR)\n  \
         deploy CMD [ARGS]  run the aci-cmk command line: {} (its exit code)\n  \
         bench [ARGS]       release-build and run the benchmarks (target/bench/results.json + a table)\n  \
         chaos [ARGS]       --runs N --seed S --timing instant|fast|azure: random faults and kills; every run must converge",
        deploy::COMMANDS
    );
}
