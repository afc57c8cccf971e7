//! [`Remediator::remediate`]: carries out a plan — the in-place steps one after another in the
//! plan's order, then (when allowed) the disruptive ones, at most `concurrency` at once — each
//! as its planned action says, skipped when a step it needs did not succeed. A dry run (the
//! default) makes the same reads and records the writes it would make without sending them.

use super::{
    access,
    error::StepError,
    groups, keys,
    options::{CmkTarget, RemediateOptions},
    plan::{Disruption, PlannedStep, RemediationPlan, StepAction},
    report::{Outcome, RemediationReport, SkipReason, StepReport},
    step_context::StepCx,
    vaults,
};
use aci_cmk_aci::models::EncryptionProperties;
use aci_cmk_encrypted_deployment::{Backends, Orchestrator, OrchestratorOptions};
use futures::StreamExt;
use std::{collections::BTreeMap, time::Instant};

/// Carries out remediation plans over a set of backends.
#[derive(Clone, Debug)]
pub struct Remediator {
    backends: Backends,
    orchestrator: Orchestrator,
}

impl Remediator {
    /// A remediator over `backends` (the deployer's: what it may not do, a step reports as
    /// failed).
    pub fn new(backends: Backends) -> Self {
        let orchestrator = Orchestrator::new(backends.clone(), OrchestratorOptions::default());
        Self {
            backends,
            orchestrator,
        }
    }

    /// The same, re-creating groups and deploying targets through `orchestrator` (its
    /// propagation waits, progress sink and clock).
    pub fn with_orchestrator(mut self, orchestrator: Orchestrator) -> Self {
        self.orchestrator = orchestrator;
        self
    }

    /// Carries out `plan` as `options` say and reports each step: done, already done, would
    /// do (a dry run), skipped (why) or failed (why). A dry run writes nothing; disruptive steps
    /// run only with [`allow_disruptive`](RemediateOptions::allow_disruptive). A step whose
    /// needed step did not succeed is skipped; a failed step does not stop the others.
    pub async fn remediate(
        &self,
        plan: &RemediationPlan,
        options: RemediateOptions,
    ) -> RemediationReport {
        let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let now = options.clock.now();
        let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
        let mut reports: BTreeMap<String, StepReport> = BTreeMap::new();
        let mut target: Option<groups::ResolvedTarget> = None;

        for step in plan
            .steps
            .iter()
            .filter(|s| s.disruption == Disruption::InPlace)
        {
            let report = self
                .run_step(plan, step, &options, &run, now, &outcomes, None)
                .await;
            outcomes.insert(step.id.clone(), report.outcome.clone());
            reports.insert(step.id.clone(), report);
        }

        let disruptive: Vec<&PlannedStep> = plan
            .steps
            .iter()
            .filter(|s| s.disruption == Disruption::Disruptive)
            .collect();
        if !options.allow_disruptive {
            for step in disruptive {
                let report = skipped(step, &run, SkipReason::DisruptiveNotAllowed);
                reports.insert(step.id.clone(), report);
            }
        } else {
            // The target first: the groups moving under a customer-managed key need it.
            let (first, rest): (Vec<&PlannedStep>, Vec<&PlannedStep>) = disruptive
                .into_iter()
                .partition(|s| matches!(s.action, StepAction::DeployCmkTarget));
            for step in first {
                let (report, resolved) = self.deploy_target(plan, step, &options, &run).await;
                target = resolved;
                outcomes.insert(step.id.clone(), report.outcome.clone());
                reports.insert(step.id.clone(), report);
            }
            if target.is_none() {
                target = self.given_target(plan, now).await;
            }
            let outcomes = &outcomes;
            let target = target.as_ref();
            let done: Vec<StepReport> = futures::stream::iter(
                rest.into_iter()
                    .map(|step| self.run_step(plan, step, &options, &run, now, outcomes, target)),
            )
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
            for report in done {
                reports.insert(report.id.clone(), report);
            }
        }

        let steps = plan
            .steps
            .iter()
            .filter_map(|s| reports.remove(&s.id))
            .collect();
        RemediationReport {
            run_id: run,
            audit_run_id: plan.audit_run_id.clone(),
            dry_run: options.dry_run,
            allow_disruptive: options.allow_disruptive,
            steps,
            unplanned: plan.unplanned.clone(),
        }
    }

    /// A [`CmkTarget::Key`] as the encryption groups get: at its version, or its current one.
    async fn given_target(
        &self,
        plan: &RemediationPlan,
        now: time::OffsetDateTime,
    ) -> Option<groups::ResolvedTarget> {
        let Some(CmkTarget::Key { key, identity }) = &plan.options.cmk_target else {
            return None;
        };
        let version = match key.version() {
            Some(v) => v.clone(),
            None => {
                let current = self
                    .backends
                    .keys
                    .get_key(key.vault_url(), key.name(), None, None)
                    .await
                    .ok()?;
                tracing::debug!(key = %key, version = %current.version, at = %now, "target key read");
                current.version
            }
        };
        let mut encryption = EncryptionProperties::new(key.vault_url(), key.name(), &version);
        if let Some(id) = identity {
            encryption = encryption.with_identity(id);
        }
        Some(groups::ResolvedTarget { encryption })
    }

    /// The [`CmkTarget::Deploy`] step: the orchestrator applies the target's spec (in a dry
    /// run, plans it) and the groups move onto the key version and identity its report names.
    async fn deploy_target(
        &self,
        plan: &RemediationPlan,
        step: &PlannedStep,
        options: &RemediateOptions,
        run: &str,
    ) -> (StepReport, Option<groups::ResolvedTarget>) {
        let started = Instant::now();
        let mut report = skipped(step, run, SkipReason::Refused(String::new()));
        let Some(CmkTarget::Deploy(spec)) = &plan.options.cmk_target else {
            report.outcome = Outcome::Skipped {
                reason: SkipReason::Refused(
                    "the plan's options name no target spec (a plan read back from JSON has none)"
                        .into(),
                ),
            };
            return (report, None);
        };
        if options.dry_run {
            match self.orchestrator.plan(spec).await {
                Ok(p) => {
                    report.actions = p
                        .steps
                        .iter()
                        .filter(|s| s.action.is_some_and(|a| a.writes()))
                        .map(|s| format!("{}: {}", s.step, s.detail))
                        .collect();
                    report.outcome = if report.actions.is_empty() {
                        Outcome::AlreadyDone
                    } else {
                        Outcome::WouldDo
                    };
                }
                Err(source) => {
                    let e = StepError::Orchestrator {
                        what: "plan the target".into(),
                        source: Box::new(source),
                    };
                    report.outcome = Outcome::Failed { error: e.chain() };
                    report.error = Some(e);
                }
            }
            report.duration = started.elapsed();
            return (report, None);
        }
        let resolved = match self.orchestrator.apply(spec).await {
            Ok(applied) => {
                report.actions = applied
                    .steps
                    .iter()
                    .filter_map(|s| match &s.status {
                        aci_cmk_encrypted_deployment::report::StepStatus::Done { action }
                            if action.writes() =>
                        {
                            Some(format!("{}: {action}", s.step))
                        }
                        _ => None,
                    })
                    .collect();
                report.write_ids = applied
                    .steps
                    .iter()
                    .flat_map(|s| s.write_ids.iter().cloned())
                    .collect();
                report.outcome = if report.actions.is_empty() {
                    Outcome::AlreadyDone
                } else {
                    Outcome::Done
                };
                applied
                    .encryption
                    .map(|encryption| groups::ResolvedTarget { encryption })
            }
            Err(source) => {
                let e = StepError::Orchestrator {
                    what: "deploy the target".into(),
                    source: Box::new(source),
                };
                report.outcome = Outcome::Failed { error: e.chain() };
                report.error = Some(e);
                None
            }
        };
        report.duration = started.elapsed();
        (report, resolved)
    }

    /// Runs one step, unless a step it needs did not succeed.
    #[allow(clippy::too_many_arguments)]
    async fn run_step(
        &self,
        plan: &RemediationPlan,
        step: &PlannedStep,
        options: &RemediateOptions,
        run: &str,
        now: time::OffsetDateTime,
        outcomes: &BTreeMap<String, Outcome>,
        target: Option<&groups::ResolvedTarget>,
    ) -> StepReport {
        let would = |o: &Outcome| options.dry_run && *o == Outcome::WouldDo;
        if let Some(missing) = step
            .needs
            .iter()
            .find(|n| !outcomes.get(*n).is_some_and(|o| o.succeeded() || would(o)))
        {
            return skipped(
                step,
                run,
                SkipReason::NeededStepDidNotSucceed(missing.clone()),
            );
        }
        // A dry run cannot read what a needed step would make: it says what it would do after.
        if let Some(first) = step
            .needs
            .iter()
            .find(|n| outcomes.get(*n).is_some_and(would))
        {
            let mut report = skipped(step, run, SkipReason::DisruptiveNotAllowed);
            report.actions = vec![format!("after {first}: {}", step.summary)];
            report.outcome = Outcome::WouldDo;
            return report;
        }
        let started = Instant::now();
        let mut cx = StepCx::new(&self.backends, run, &step.id, options.dry_run, now);
        let mut notes = Vec::new();
        let mut write_ids = Vec::new();
        let result = match &step.action {
            StepAction::RecoverVault {
                vault,
                resource_group,
                location,
            } => vaults::recover(&mut cx, vault, resource_group, location).await,
            StepAction::ProtectVault {
                vault,
                purge_protection,
                ..
            } => vaults::protect(&mut cx, vault, *purge_protection).await,
            StepAction::AllowTrustedServices { vault } => {
                vaults::allow_trusted_services(&mut cx, vault).await
            }
            StepAction::CreateAciServicePrincipal { keys } => {
                access::create_aci_service_principal(&mut cx, keys, &mut notes).await
            }
            StepAction::GrantUnwrap {
                vault,
                key,
                principal,
                by,
            } => match vaults::read(&cx, vault).await {
                Ok(found) => {
                    let who = principal.object_id().to_string();
                    access::grant_unwrap(
                        &mut cx,
                        &found,
                        &key.name,
                        Some(principal.object_id()),
                        &who,
                        *by,
                    )
                    .await
                }
                Err(e) => Err(e),
            },
            StepAction::KeyLifecycle {
                key,
                new_version,
                expire_current,
                rotation_policy,
            } => {
                keys::key_lifecycle(
                    &mut cx,
                    keys::KeyWork {
                        key,
                        new_version: new_version.as_ref(),
                        expire_current: *expire_current,
                        rotation_policy: rotation_policy.as_ref(),
                        lifecycle: &plan.options.lifecycle,
                    },
                )
                .await
            }
            StepAction::RecreateGroup { group, changes } => {
                groups::recreate(
                    &mut cx,
                    groups::GroupWork {
                        group,
                        changes,
                        spec: plan.options.group_spec(&group.id),
                        target,
                        orchestrator: &self.orchestrator,
                    },
                    &mut write_ids,
                )
                .await
            }
            StepAction::DeployCmkTarget => Err(StepError::Changed(
                "the target is deployed before the other disruptive steps".into(),
            )),
        };
        let mut ids = cx.recorder.writes();
        ids.extend(write_ids);
        let (outcome, error) = match result {
            Ok(()) if cx.actions.is_empty() => (Outcome::AlreadyDone, None),
            Ok(()) if cx.dry_run => (Outcome::WouldDo, None),
            Ok(()) => (Outcome::Done, None),
            Err(e) if e.is_refusal() => (
                Outcome::Skipped {
                    reason: SkipReason::Refused(e.to_string()),
                },
                Some(e),
            ),
            Err(e) => (Outcome::Failed { error: e.chain() }, Some(e)),
        };
        let mut actions = cx.actions;
        actions.extend(notes.into_iter().map(|n| format!("note: {n}")));
        StepReport {
            id: step.id.clone(),
            disruption: step.disruption,
            summary: step.summary.clone(),
            fixes: step.fixes.clone(),
            actions,
            outcome,
            client_request_id: format!("aci-cmk/{run}/remediate/{}", step.id),
            write_ids: ids,
            duration: started.elapsed(),
            error,
        }
    }
}

/// The report of a step that did not run.
fn skipped(step: &PlannedStep, run: &str, reason: SkipReason) -> StepReport {
    StepReport {
        id: step.id.clone(),
        disruption: step.disruption,
        summary: step.summary.clone(),
        fixes: step.fixes.clone(),
        actions: Vec::new(),
        outcome: Outcome::Skipped { reason },
        client_request_id: format!("aci-cmk/{run}/remediate/{}", step.id),
        write_ids: Vec::new(),
        duration: std::time::Duration::ZERO,
        error: None,
    }
}
