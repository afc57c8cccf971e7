//! What goes to stdout: a command's result as text, as exactly one JSON document
//! (`--output json`), or as JSON lines (`--stream`: progress events, then the document).
//! Errors go to stderr as text, or into the document as JSON. Logs and progress views write
//! to stderr on their own.
//!
//! The document is `{"command", "ok", "exit_code", "result"}` on success and `{"command",
//! "ok": false, "exit_code", "error": {"kind", "message", …}}` on failure.

use crate::{
    args::{Format, GlobalArgs},
    error::{CliError, chain},
    exit::Exit,
};
use aci_cmk_encrypted_deployment::{Error as DeploymentError, progress::ProgressEvent};
use serde_json::{Value, json};
use std::io::Write;

/// What a command produced: its exit code, its result as JSON, and the same for people.
#[derive(Debug)]
pub struct Outcome {
    /// How the process ends.
    pub exit: Exit,
    /// The `result` member of the JSON document.
    pub result: Value,
    /// What text output prints on stdout.
    pub text: String,
    /// Already printed by the command (the emulator prints before it serves).
    pub printed: bool,
}

impl Outcome {
    /// A successful outcome.
    pub fn ok(result: Value, text: impl Into<String>) -> Self {
        Self {
            exit: Exit::Ok,
            result,
            text: text.into(),
            printed: false,
        }
    }
}

/// Where and how results are printed.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    json: bool,
    stream: bool,
}

impl Output {
    /// As the global flags say.
    pub fn new(global: &GlobalArgs) -> Self {
        Self {
            json: global.output == Format::Json || global.stream,
            stream: global.stream,
        }
    }

    /// Whether stdout holds JSON only.
    pub fn is_json(self) -> bool {
        self.json
    }

    /// Whether progress events go to stdout as JSON lines.
    pub fn is_stream(self) -> bool {
        self.stream
    }

    /// Prints `outcome` of `command`.
    pub fn outcome(self, command: &str, outcome: &Outcome) {
        if outcome.printed {
            return;
        }
        if self.json {
            let document = json!({
                "command": command,
                "ok": true,
                "exit_code": outcome.exit.code(),
                "result": outcome.result,
            });
            self.document(&document);
        } else if !outcome.text.is_empty() {
            let text = outcome.text.trim_end();
            write_stdout(&format!("{text}\n"));
        }
    }

    /// Prints `error` of `command`: into the document, or as text on stderr.
    pub fn error(self, command: &str, error: &CliError) {
        if self.json {
            let document = json!({
                "command": command,
                "ok": false,
                "exit_code": error.exit().code(),
                "error": error.to_json(),
            });
            self.document(&document);
        } else {
            eprintln!("{}", error_text(error));
        }
    }

    /// Prints one progress event as a JSON line (`--stream` only).
    pub fn event(self, command: &str, event: &ProgressEvent) {
        if self.stream {
            self.document(&json!({"command": command, "progress": event}));
        }
    }

    fn document(self, document: &Value) {
        // Compact on one line for JSON lines; indented for one document a person may read.
        let text = if self.stream {
            serde_json::to_string(document)
        } else {
            serde_json::to_string_pretty(document)
        };
        if let Ok(text) = text {
            write_stdout(&format!("{text}\n"));
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// An error for people: the message, the causes it does not already say, and what belongs
/// to its kind (preflight's issues one per line with their rule, a failed step's report).
pub fn error_text(error: &CliError) -> String {
    match error {
        CliError::Deployment(DeploymentError::Preflight(issues)) => {
            let mut text = format!(
                "error: preflight refused the deployment; nothing was written ({} {}):",
                issues.len(),
                if issues.len() == 1 {
                    "problem"
                } else {
                    "problems"
                }
            );
            for issue in issues {
                text.push_str(&format!("\n  - [{:?}] {}", issue.rule, issue.message));
            }
            text
        }
        CliError::Deployment(DeploymentError::StepFailed { report, .. }) => {
            format!("error: {}\n\n{report}", chain(error))
        }
        CliError::Deployment(DeploymentError::Blocked {
            report: Some(report),
            ..
        }) => format!("error: {}\n\n{report}", chain(error)),
        CliError::Interrupted(interruption) => interruption.to_string(),
        CliError::Spec(problem) => match &problem.excerpt {
            Some(excerpt) => format!("error: {problem}\n{excerpt}"),
            None => format!("error: {problem}"),
        },
        _ => format!("error: {}", chain(error)),
    }
}
