//! The exit codes: 0 ok, 1 error, 2 changes (`plan --detailed-exitcode`) or findings at or
//! above the threshold (`audit`), 130 interrupted.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success; for `plan --detailed-exitcode`, no changes.
    Ok,
    /// An error: the spec, preflight, a step, connecting.
    Error,
    /// `plan --detailed-exitcode`: `apply` would change something.
    Changes,
    /// `audit`: a finding at or above `--fail-on`.
    Findings,
    /// Ctrl-C or SIGTERM: in-flight calls were abandoned; running again converges.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Changes | Exit::Findings => 2,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
