//! Running the built binary in a working directory of its own, with none of the caller's
//! `ACI_CMK_*` / `AZURE_*` variables, and checking what it printed.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_aci-cmk");

/// A temporary working directory, removed on drop.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    /// A new, empty directory.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("aci-cmk-cli-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// `file` in the directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// `aci-cmk ARGS` in the directory, with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        command_in(&self.0, args)
    }

    /// Runs `aci-cmk ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        Run::new(args, output)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `aci-cmk ARGS` in `dir`, without the caller's `ACI_CMK_*`, `AZURE_*` and `RUST_LOG`.
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("ACI_CMK_") || name.starts_with("AZURE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The arguments, for messages.
    pub args: String,
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

impl Run {
    /// The run of `args` that produced `output`.
    pub fn new(args: &[&str], output: Output) -> Self {
        Self {
            args: args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, and returns the run.
    pub fn exits(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "aci-cmk {}:\n{self}", self.args);
        self
    }

    /// Stdout as exactly one JSON document (nothing before or after it).
    pub fn document(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "aci-cmk {}: stdout is not one JSON document: {e}\n{self}",
                self.args
            )
        })
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Asserts that no run printed any of `secrets`, on stdout or stderr.
pub fn assert_no_secret(runs: &[Run], secrets: &[&str]) {
    for run in runs {
        for secret in secrets {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "aci-cmk {} printed a secret:\n{run}",
                run.args
            );
        }
    }
}

/// Sends SIGINT to `pid` (a child this test started), as Ctrl-C would.
pub fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {pid}: {status}");
}
