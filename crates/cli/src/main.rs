//! `aci-cmk`: the command line for operators of customer-managed-key encrypted Azure
//! Container Instances deployments.
//!
//! `init` writes a spec; `plan`, `apply`, `rotate`, `destroy` and `status` work on one,
//! against Azure or the local emulator (`--emulator`, `--emulator-url`); `emulator` runs the
//! emulator in the foreground; `completions` prints a shell's completion script. Exit codes:
//! 0 ok, 1 error, 2 changes (`plan --detailed-exitcode`), 130 interrupted.
//!
//! Modules: [`args`] (clap), [`connect`] (emulator or Azure, the credential order),
//! [`commands`] (one per command, and the session they share), [`output`] (text, one JSON
//! document, JSON lines), [`progress_view`] (the live view), [`spec_errors`]
//! (`FILE:LINE:COLUMN`), [`error`], [`exit`], [`interrupt`] (Ctrl-C), [`logging`].

mod args;
mod commands;
mod connect;
mod error;
mod exit;
mod interrupt;
mod logging;
mod output;
mod progress_view;
mod spec_errors;

use clap::{Parser, error::ErrorKind};
use std::time::Duration;

fn main() -> std::process::ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    logging::init(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::Exit::Error.into();
        }
    };
    let exit = runtime.block_on(commands::run(cli));
    // Work left behind (an abandoned request's connection, the emulator's key pool) must not
    // hold the exit up.
    runtime.shutdown_timeout(Duration::from_millis(500));
    exit.into()
}

/// `--help` and `--version` print and exit 0; any other command-line error exits 1, not
/// clap's 2, which `plan --detailed-exitcode` means "changes". With `--output json` (or
/// `--stream`) asked for, the error is the one JSON document on stdout.
fn usage_error(error: &clap::Error) -> std::process::ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return exit::Exit::Ok.into();
    }
    if wants_json(
        std::env::args().skip(1),
        std::env::var("ACI_CMK_OUTPUT").ok(),
    ) {
        let message = error.render().to_string();
        let document = serde_json::json!({
            "command": null,
            "ok": false,
            "exit_code": exit::Exit::Error.code(),
            "error": {"kind": "usage", "message": message.trim()},
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        let _ = error.print();
    }
    exit::Exit::Error.into()
}

/// Whether the command line (or `ACI_CMK_OUTPUT`) asks for JSON, read without clap.
fn wants_json(args: impl Iterator<Item = String>, env: Option<String>) -> bool {
    let mut json = env.is_some_and(|v| v.eq_ignore_ascii_case("json"));
    let mut previous = String::new();
    for arg in args {
        if arg == "--stream" || arg == "--output=json" || (previous == "--output" && arg == "json")
        {
            json = true;
        }
        previous = arg;
    }
    json
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_is_read_from_the_command_line_or_the_environment() {
        let args = |a: &[&str]| {
            a.iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>()
                .into_iter()
        };
        let cases: &[(&[&str], Option<&str>, bool)] = &[
            (&["plan", "--output", "json"], None, true),
            (&["plan", "--output=json"], None, true),
            (&["plan", "--stream"], None, true),
            (&["plan", "--output", "text"], None, false),
            (&["plan"], Some("JSON"), true),
            (&["plan", "json"], None, false),
            (&["plan"], Some("text"), false),
        ];
        for (line, env, json) in cases {
            assert_eq!(
                super::wants_json(args(line), env.map(str::to_owned)),
                *json,
                "{line:?} {env:?}"
            );
        }
    }
}
