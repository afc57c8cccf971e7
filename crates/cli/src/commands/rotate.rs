//! `aci-cmk rotate SPEC [--version V]`: a new key version (or the version given), and the
//! container groups re-created on it (their encryption is fixed at creation).

use super::session::Session;
use crate::{args::RotateArgs, error::CliError, output::Outcome, progress_view::ProgressView};
use aci_cmk_encrypted_deployment::RotateOptions;
use std::{fmt::Write as _, sync::Arc};

/// Rotates the spec's key.
pub async fn run(args: RotateArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let session = Session::open(&args.spec, &args.connect, view).await?;
    let options = match args.version {
        Some(version) => RotateOptions::to_version(version),
        None => RotateOptions::default(),
    };
    let report = session.orchestrator.rotate(&session.spec, options).await;
    session.close().await;
    let report = report?;
    let mut text = format!("run {}\n", report.run_id);
    let previous = report
        .previous
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string);
    let _ = writeln!(text, "key {previous} -> {}", report.current);
    for group in &report.groups {
        let _ = writeln!(
            text,
            "  {} now uses version {}",
            group.container_group_id, group.key_version
        );
    }
    let _ = write!(text, "{} writes", report.write_ids.len());
    Ok(Outcome::ok(
        serde_json::to_value(&report).unwrap_or_default(),
        text,
    ))
}
