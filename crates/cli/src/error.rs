//! [`CliError`]: what can stop a command, each with its exit code and its JSON form.

use crate::{exit::Exit, spec_errors::SpecProblem};
use aci_cmk_encrypted_deployment::{
    Error as DeploymentError,
    progress::{StepAction, StepId},
};
use serde_json::{Value, json};
use std::fmt;

/// What can stop a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The spec file is refused.
    #[error(transparent)]
    Spec(Box<SpecProblem>),
    /// The orchestrator refused or failed: preflight, a step, a day-two call.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    /// Azure (or the emulator) could not be reached or signed in to.
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// What was being connected to.
        target: String,
        /// Why not, and what to do.
        message: String,
    },
    /// The embedded or foreground emulator did not start.
    #[error("the emulator ({state}) did not start: {message}")]
    Emulator {
        /// Its state: a directory, or "in memory".
        state: String,
        /// Why not, and what to do.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done, e.g. `write aci-cmk.toml`.
        what: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// A read of `status` failed.
    #[error("reading {what} failed: {message}")]
    Read {
        /// What was being read.
        what: String,
        /// The service's error.
        message: String,
    },
    /// The posture audit could not be taken (its groups or vaults could not be listed) or
    /// written.
    #[error(transparent)]
    Audit(#[from] aci_cmk_posture::Error),
    /// Ctrl-C or SIGTERM.
    #[error("{0}")]
    Interrupted(Interruption),
}

impl CliError {
    /// The exit code this error ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Interrupted(_) => Exit::Interrupted,
            _ => Exit::Error,
        }
    }

    /// The error as the `error` member of a JSON document: a `kind`, the `message`, and what
    /// belongs to the kind (the spec's file, line and column; preflight's issues; the report
    /// of a failed step; the finished steps of an interrupted run).
    pub fn to_json(&self) -> Value {
        let message = chain(self);
        match self {
            CliError::Spec(problem) => {
                let mut value = problem.to_json();
                value["kind"] = json!("spec");
                value["message"] = json!(problem.to_string());
                value
            }
            CliError::Deployment(DeploymentError::Preflight(issues)) => json!({
                "kind": "preflight",
                "message": message,
                "issues": issues.iter().map(|i| json!({
                    "rule": format!("{:?}", i.rule),
                    "message": i.message,
                })).collect::<Vec<_>>(),
            }),
            CliError::Deployment(DeploymentError::StepFailed { step, report, .. }) => json!({
                "kind": "step_failed",
                "message": message,
                "step": step,
                "report": serde_json::to_value(report).unwrap_or(Value::Null),
            }),
            CliError::Deployment(DeploymentError::Blocked { step, report, .. }) => json!({
                "kind": "blocked",
                "message": message,
                "step": step,
                "report": report.as_ref().and_then(|r| serde_json::to_value(r).ok()),
            }),
            CliError::Deployment(_) => json!({"kind": "deployment", "message": message}),
            CliError::Connect { .. } => json!({"kind": "connect", "message": message}),
            CliError::Emulator { .. } => json!({"kind": "emulator", "message": message}),
            CliError::Io { .. } => json!({"kind": "io", "message": message}),
            CliError::Usage(_) => json!({"kind": "usage", "message": message}),
            CliError::Read { .. } => json!({"kind": "read", "message": message}),
            CliError::Audit(_) => json!({"kind": "audit", "message": message}),
            CliError::Interrupted(i) => json!({
                "kind": "interrupted",
                "message": message,
                "finished": i.finished.iter().map(|(step, action)| json!({"step": step, "action": action})).collect::<Vec<_>>(),
                "in_flight": i.in_flight,
            }),
        }
    }
}

impl From<Box<SpecProblem>> for CliError {
    fn from(problem: Box<SpecProblem>) -> Self {
        CliError::Spec(problem)
    }
}

/// What an interrupted command had done: the steps that finished, and those abandoned in
/// flight.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interruption {
    /// The command, to say how to converge (`apply`).
    pub command: &'static str,
    /// The steps that finished, with what they did, in the order they finished.
    pub finished: Vec<(StepId, StepAction)>,
    /// The steps that had started and not finished.
    pub in_flight: Vec<StepId>,
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted: the calls in flight were abandoned")?;
        if self.finished.is_empty() {
            write!(f, "; no step had finished")?;
        } else {
            let done: Vec<String> = self
                .finished
                .iter()
                .map(|(step, action)| format!("{step} ({action})"))
                .collect();
            write!(f, "; finished: {}", done.join(", "))?;
        }
        if !self.in_flight.is_empty() {
            let running: Vec<&str> = self.in_flight.iter().map(|s| s.title()).collect();
            write!(f, "; abandoned: {}", running.join(", "))?;
        }
        f.write_str(match self.command {
            "apply" => ". Nothing is rolled back: running `aci-cmk apply` again converges from here",
            "destroy" => ". Running `aci-cmk destroy` again finishes the removal",
            "rotate" => ". `aci-cmk status` shows the version each group uses; `aci-cmk apply` converges the rest, and `aci-cmk rotate --version V` finishes a move to a version already created",
            _ => ". Nothing was written",
        })
    }
}

/// `error`'s message followed by each cause whose text it does not already hold.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}
