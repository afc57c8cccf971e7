//! One module per command; [`run`] dispatches to it, draws its progress, turns Ctrl-C into
//! an interruption report, and prints its outcome or error.

pub mod apply;
pub mod audit;
pub mod completions;
pub mod destroy;
pub mod emulator;
pub mod init;
pub mod plan;
pub mod remediate;
pub mod rotate;
pub mod session;
pub mod status;

use crate::{
    args::{Cli, Command},
    error::CliError,
    exit::Exit,
    interrupt,
    output::{Outcome, Output},
    progress_view::ProgressView,
};

/// Runs the command `cli` names and prints what came of it; the exit code to end with.
pub async fn run(cli: Cli) -> Exit {
    let output = Output::new(&cli.global);
    let name = cli.command.name();
    let view = ProgressView::new(output, name);
    let result = match cli.command {
        // The emulator runs until Ctrl-C, which is how it stops: not an interruption.
        Command::Emulator(args) => emulator::run(args, output).await,
        command => match interrupt::or_interrupted(dispatch(command, output, &view)).await {
            Ok(result) => result,
            Err(interrupt::Interrupted) => Err(CliError::Interrupted(view.interruption())),
        },
    };
    match result {
        Ok(outcome) => {
            output.outcome(name, &outcome);
            outcome.exit
        }
        Err(error) => {
            output.error(name, &error);
            error.exit()
        }
    }
}

async fn dispatch(
    command: Command,
    output: Output,
    view: &std::sync::Arc<ProgressView>,
) -> Result<Outcome, CliError> {
    match command {
        Command::Init(args) => init::run(args).await,
        Command::Plan(args) => plan::run(args, view).await,
        Command::Apply(args) => apply::run(args, view).await,
        Command::Rotate(args) => rotate::run(args, view).await,
        Command::Destroy(args) => destroy::run(args, view).await,
        Command::Status(args) => status::run(args, view).await,
        Command::Audit(args) => audit::run(args, view).await,
        Command::Remediate(args) => remediate::run(args, view).await,
        Command::Completions(args) => completions::run(args, output),
        Command::Emulator(args) => emulator::run(args, output).await,
    }
}
