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

use clap::Parser;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
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
