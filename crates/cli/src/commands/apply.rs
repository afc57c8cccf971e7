//! `aci-cmk apply SPEC`: brings Azure to what the spec describes, drawing each step as it
//! runs; the report lists each step's outcome and the request id of its writes.

use super::session::Session;
use crate::{args::SpecCommandArgs, error::CliError, output::Outcome, progress_view::ProgressView};
use std::sync::Arc;

/// Applies the spec.
pub async fn run(args: SpecCommandArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let session = Session::open(&args.spec, &args.connect, view).await?;
    let report = session.orchestrator.apply(&session.spec).await;
    session.close().await;
    let report = report?;
    let mut result = serde_json::to_value(&report).unwrap_or_default();
    result["writes"] = report.writes().into();
    let tail = if report.writes() == 0 {
        "\nNothing to do: Azure was already as the spec says."
    } else {
        ""
    };
    Ok(Outcome::ok(result, format!("{report}{tail}")))
}
