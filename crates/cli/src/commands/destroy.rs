//! `aci-cmk destroy SPEC [--purge] [--delete-resource-group]`: removes what `apply` created.
//! The vault stays soft-deleted, its key recoverable, unless purging is allowed (`--purge`,
//! or the spec's `allow.purge_on_destroy`) and purge protection does not hold it.

use super::session::Session;
use crate::{args::DestroyArgs, error::CliError, output::Outcome, progress_view::ProgressView};
use aci_cmk_encrypted_deployment::DestroyOptions;
use std::{fmt::Write as _, sync::Arc};

/// Destroys the spec's deployment.
pub async fn run(args: DestroyArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let mut session = Session::open(&args.spec, &args.connect, view).await?;
    if args.purge {
        session.spec.allow.purge_on_destroy = true;
    }
    let mut options = DestroyOptions::default();
    options.delete_resource_group = args.delete_resource_group;
    let report = {
        let _busy = view.busy("removing");
        session.orchestrator.destroy(&session.spec, options).await
    };
    session.close().await;
    let report = report?;
    let mut text = format!("run {}\n", report.run_id);
    if report.removed.is_empty() {
        text.push_str("nothing to remove\n");
    }
    for removed in &report.removed {
        let _ = writeln!(text, "removed {removed}");
    }
    for note in &report.notes {
        let _ = writeln!(text, "note: {note}");
    }
    Ok(Outcome::ok(
        serde_json::to_value(&report).unwrap_or_default(),
        text,
    ))
}
