//! `aci-cmk remediate`: audits, turns the findings into a remediation plan, and carries it out —
//! a dry run unless `--apply`; the disruptive steps (re-creating groups) only with
//! `--allow-disruptive`. Nothing it does weakens a vault: no firewall opened, no access wider
//! than get + unwrapKey, no purge.

use crate::{
    args::RemediateArgs,
    connect::{self, connect_error},
    error::{CliError, chain},
    exit::Exit,
    output::Outcome,
    progress_view::ProgressView,
    spec_errors,
};
use aci_cmk_core::resource_id::ResourceId;
use aci_cmk_encrypted_deployment::{Backends, Orchestrator, OrchestratorOptions, spec::Workload};
use aci_cmk_posture::{
    AuditOptions, AuditScope, Auditor,
    remediation::{CmkTarget, RemediateOptions, RemediationOptions, Remediator, remediation_plan},
};
use std::sync::Arc;

/// Audits, plans and remediates.
pub async fn run(args: RemediateArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let specs = args
        .specs
        .iter()
        .map(|path| spec_errors::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let target = args
        .target_spec
        .as_deref()
        .map(spec_errors::load)
        .transpose()?;
    let _busy = view.busy(if args.apply {
        "remediating"
    } else {
        "planning the remediation"
    });
    let connected = connect::connect(&args.connect, None).await?;
    let backends = match Backends::connect(&connected.connection).await {
        Ok(backends) => backends,
        Err(e) => {
            let error = connect_error(&connected.target, &chain(&e));
            connected.close().await;
            return Err(error);
        }
    };
    let clock = connected.clock.clone().unwrap_or_default();
    let mut scope = AuditScope::subscription().with_specs(specs.clone());
    if !args.resource_groups.is_empty() {
        scope = scope.with_resource_groups(args.resource_groups.clone());
    }
    let audit = Auditor::new(
        backends.clone(),
        AuditOptions::default().with_clock(clock.clone()),
    )
    .audit(&scope)
    .await;
    let audit = match audit {
        Ok(audit) => audit,
        Err(e) => {
            connected.close().await;
            return Err(e.into());
        }
    };
    // The specs hold what a read-back lacks: each group's secure values.
    let mut plan_options = RemediationOptions::default();
    for spec in &specs {
        if let Workload::ContainerGroup(group) = &spec.workload
            && let Ok(id) = ResourceId::resource(
                &spec.subscription_id,
                &spec.resource_group,
                "Microsoft.ContainerInstance",
                "containerGroups",
                group.name.as_str(),
            )
        {
            plan_options = plan_options.with_group_spec(&id, (**group).clone());
        }
    }
    if let Some(target) = target {
        plan_options = plan_options.with_cmk_target(CmkTarget::Deploy(Box::new(target)));
    }
    let plan = remediation_plan(&audit, &plan_options);
    let orchestrator_options = OrchestratorOptions::default()
        .with_progress(view.clone())
        .with_clock(clock.clone());
    let remediator = Remediator::new(backends.clone())
        .with_orchestrator(Orchestrator::new(backends, orchestrator_options));
    let mut options = RemediateOptions::default()
        .with_disruptive(args.allow_disruptive)
        .with_concurrency(args.concurrency)
        .with_clock(clock);
    if args.apply {
        options = options.applying();
    }
    let report = remediator.remediate(&plan, options).await;
    connected.close().await;
    let result = serde_json::from_str(&report.to_json()?).unwrap_or_default();
    let mut text = report.to_string();
    if !args.apply {
        text.push_str("\n(dry run: nothing was written; --apply carries the plan out)");
    }
    let mut outcome = Outcome::ok(result, text);
    if report.failed().next().is_some() {
        outcome.exit = Exit::Error;
    }
    Ok(outcome)
}
