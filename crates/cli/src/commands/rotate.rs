//! `aci-cmk rotate SPEC [--version V] [--follow-latest]`: a new key version (or the version
//! given), and the container groups re-created on it (their encryption is fixed at creation);
//! with `--follow-latest`, the groups moved onto the newest usable version instead.

use super::session::Session;
use crate::{
    args::RotateArgs, error::CliError, exit::Exit, output::Outcome, progress_view::ProgressView,
};
use aci_cmk_encrypted_deployment::{
    FollowOptions, RotateOptions,
    follow::{FollowReport, MoveOutcome},
};
use std::{fmt::Write as _, sync::Arc};

/// Rotates the spec's key, or follows its newest version.
pub async fn run(args: RotateArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let session = Session::open(&args.spec, &args.connect, view).await?;
    if args.follow_latest {
        let mut options = FollowOptions::default();
        if let Some(version) = args.version {
            options = options.to_version(version);
        }
        let report = session
            .orchestrator
            .follow_latest(&session.spec, options)
            .await;
        session.close().await;
        return Ok(followed(&report?));
    }
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

/// The outcome of `--follow-latest`: each group's move, the versions retired, and exit 1 when a
/// group did not move or is stranded on a version that can no longer be used.
fn followed(report: &FollowReport) -> Outcome {
    let mut text = format!(
        "run {}\nnewest usable version {}\n",
        report.run_id, report.target
    );
    for passed in &report.passed_over {
        let _ = writeln!(text, "  passed over {} ({})", passed.version, passed.why);
    }
    for g in &report.groups {
        let outcome = match &g.outcome {
            MoveOutcome::AlreadyCurrent => "already there".to_owned(),
            MoveOutcome::Moved => "re-created".to_owned(),
            MoveOutcome::Failed { error } => format!("FAILED: {error}"),
            other => format!("{other:?}"),
        };
        let _ = writeln!(
            text,
            "  {}: {} -> {} in {} ms, {outcome}",
            g.name,
            g.from.as_deref().unwrap_or("-"),
            g.to.as_deref().unwrap_or("-"),
            g.duration.as_millis()
        );
    }
    for v in &report.retired {
        let _ = writeln!(text, "  retired (disabled) version {v}");
    }
    for s in &report.stranded {
        let _ = writeln!(
            text,
            "  ERROR: {} is left on version {}, which can no longer be used",
            s.container_group_id, s.key_version
        );
    }
    for note in &report.notes {
        let _ = writeln!(text, "  note: {note}");
    }
    let _ = write!(text, "{} moved, {} failed", report.moved(), report.failed());
    let mut outcome = Outcome::ok(serde_json::to_value(report).unwrap_or_default(), text);
    if !report.is_clean() {
        outcome.exit = Exit::Error;
    }
    outcome
}
