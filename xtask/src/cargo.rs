//! How the tasks run cargo: the `cargo` that runs xtask (`$CARGO`), and [`Step`], one timed
//! cargo command.

use std::{env, process::Command, time::Instant};

/// One step of a task: a cargo command with extra environment.
pub struct Step {
    /// What the step is called in the progress lines.
    pub name: &'static str,
    /// The arguments after `cargo`.
    pub args: &'static [&'static str],
    /// Extra environment variables.
    pub env: &'static [(&'static str, &'static str)],
}

/// Runs `step`, saying what it runs and how long it took; an error when cargo fails.
pub fn run(step: &Step) -> Result<(), String> {
    eprintln!("xtask ci: {} (cargo {})", step.name, step.args.join(" "));
    let started = Instant::now();
    let status = command()
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

/// A command running the cargo that runs xtask (`$CARGO`, else `cargo` on the path).
pub fn command() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}
