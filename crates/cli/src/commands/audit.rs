//! `aci-cmk audit`: the CMK posture of a subscription (or some of its resource groups), read
//! through the client traits: findings as a table, JSON or SARIF 2.1.0; exit 2 when one is at or
//! above `--fail-on`.

use crate::{
    args::{AuditArgs, AuditFormat},
    connect::{self, connect_error},
    error::{CliError, chain},
    exit::Exit,
    output::Outcome,
    progress_view::ProgressView,
    spec_errors,
};
use aci_cmk_encrypted_deployment::Backends;
use aci_cmk_posture::{AuditOptions, AuditReport, AuditScope, Auditor};
use std::sync::Arc;

/// Audits and reports.
pub async fn run(args: AuditArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let specs = args
        .specs
        .iter()
        .map(|path| spec_errors::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let _busy = view.busy("auditing");
    let connected = connect::connect(&args.connect, None).await?;
    let backends = match Backends::connect(&connected.connection).await {
        Ok(backends) => backends,
        Err(e) => {
            let error = connect_error(&connected.target, &chain(&e));
            connected.close().await;
            return Err(error);
        }
    };
    let mut options = AuditOptions::default().with_expiry_warning_days(args.expiry_warning_days);
    if let Some(clock) = connected.clock.clone() {
        options = options.with_clock(clock);
    }
    let mut scope = AuditScope::subscription().with_specs(specs);
    if !args.resource_groups.is_empty() {
        scope = scope.with_resource_groups(args.resource_groups.clone());
    }
    let report = Auditor::new(backends, options).audit(&scope).await;
    connected.close().await;
    let report = report.map_err(CliError::from)?;
    outcome(&args, &report)
}

/// The report in the chosen format (to `--out`, or as the text), and the exit code.
fn outcome(args: &AuditArgs, report: &AuditReport) -> Result<Outcome, CliError> {
    let rendered = match args.format {
        AuditFormat::Table => report.to_string(),
        AuditFormat::Json => report.to_json().map_err(CliError::from)?,
        AuditFormat::Sarif => report.to_sarif_json().map_err(CliError::from)?,
    };
    let text = match &args.out {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| CliError::Io {
                    what: format!("create {}", parent.display()),
                    source,
                })?;
            }
            std::fs::write(path, &rendered).map_err(|source| CliError::Io {
                what: format!("write {}", path.display()),
                source,
            })?;
            format!("{report}\nwrote {}", path.display())
        }
        None => rendered,
    };
    let mut result =
        serde_json::from_str::<serde_json::Value>(&report.to_json().map_err(CliError::from)?)
            .unwrap_or_default();
    result["passes"] = report.passes(args.fail_on).into();
    result["fail_on"] = args.fail_on.as_str().into();
    if let Some(path) = &args.out {
        result["out"] = path.display().to_string().into();
    }
    let mut outcome = Outcome::ok(result, text);
    if !report.passes(args.fail_on) {
        outcome.exit = Exit::Findings;
    }
    Ok(outcome)
}
