//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: the one gate CI runs: format check, clippy with warnings denied, the
//!   whole test suite, and the docs with warnings denied. If it passes locally, CI is green.
//! - `cargo xtask emulator [ARGS]`: runs the local Azure emulator (`--port 0`, `--state-dir DIR`).
//!
//! xtask has no dependencies so that it compiles in a second.

use std::{
    env,
    process::{Command, ExitCode},
    time::Instant,
};

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("ci") => ci(),
        Some("emulator") => emulator(&rest),
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
         ci                 fmt check, clippy -D warnings, tests, docs -D warnings\n  \
         emulator [ARGS]    run the local Azure emulator (e.g. --port 0 --state-dir DIR)"
    );
}

/// One step of a task: a cargo command with extra environment.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

fn ci() -> Result<(), String> {
    let steps = [
        Step {
            name: "format",
            args: &["fmt", "--all", "--", "--check"],
            env: &[],
        },
        Step {
            name: "clippy",
            args: &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            env: &[],
        },
        Step {
            name: "tests",
            args: &["test", "--workspace"],
            env: &[],
        },
        Step {
            name: "docs",
            args: &["doc", "--workspace", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
    ];
    let started = Instant::now();
    for step in &steps {
        run_cargo(step)?;
    }
    eprintln!("xtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn emulator(args: &[String]) -> Result<(), String> {
    let mut command = Command::new(cargo());
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

fn run_cargo(step: &Step) -> Result<(), String> {
    eprintln!("xtask ci: {} (cargo {})", step.name, step.args.join(" "));
    let started = Instant::now();
    let status = Command::new(cargo())
        .args(step.args)
        .envs(step.env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    eprintln!("xtask ci: {} took {:.0?}", step.name, started.elapsed());
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("step {:?} failed ({status})", step.name))
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
