//! `aci-cmk completions bash|zsh|fish|powershell|elvish`: the shell's completion script,
//! from the command line's own definition (clap_complete).

use crate::{
    args::{Cli, CompletionsArgs},
    error::CliError,
    output::{Outcome, Output},
};
use clap::CommandFactory;
use serde_json::json;

/// Prints the completion script for the shell asked for (inside the document with `--output
/// json`).
pub fn run(args: CompletionsArgs, output: Output) -> Result<Outcome, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "aci-cmk", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    let result = if output.is_json() {
        json!({"shell": args.shell.to_string(), "script": script})
    } else {
        json!(null)
    };
    Ok(Outcome::ok(result, script))
}
