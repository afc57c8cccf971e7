//! The [`Auditor`]: takes the inventory of a scope, runs the checks, and reports.

use crate::{
    AuditOptions, AuditReport, AuditScope, Result, checks,
    inventory::{VaultState, read::Reader},
    report::InventorySummary,
};
use aci_cmk_encrypted_deployment::Backends;
use std::collections::BTreeSet;

/// Audits the container groups of the backends' subscription and the vaults and keys they use.
/// Reads only.
#[derive(Clone, Debug)]
pub struct Auditor {
    backends: Backends,
    options: AuditOptions,
}

impl Auditor {
    /// An auditor over `backends` (only their reads are used).
    pub fn new(backends: Backends, options: AuditOptions) -> Self {
        Self { backends, options }
    }

    /// The options.
    pub fn options(&self) -> &AuditOptions {
        &self.options
    }

    /// Reads every container group in `scope` and each distinct vault, key, identity and role
    /// they name (once each, however many groups name it; at most
    /// [`concurrency`](AuditOptions::concurrency) reads at once), then judges what was read.
    ///
    /// Fails only when the groups or the vaults cannot be listed; anything else that cannot
    /// be read is a [gap](crate::report::Gap) of the report.
    pub async fn audit(&self, scope: &AuditScope) -> Result<AuditReport> {
        let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let reader = Reader::new(&self.backends, &self.options, &run);
        let inventory = reader.take(scope).await?;
        let calls = reader.calls();
        drop(reader);
        let findings = checks::run(&inventory, &self.options, scope);
        let cmk = inventory
            .groups
            .iter()
            .filter(|g| g.encryption.is_some())
            .count();
        let identities: BTreeSet<String> = inventory
            .groups
            .iter()
            .filter_map(|g| g.encryption.as_ref()?.identity.as_ref())
            .map(|i| i.as_str().to_ascii_lowercase())
            .collect();
        let summary = InventorySummary {
            groups: inventory.groups.len(),
            cmk_groups: cmk,
            vaults: inventory
                .vaults
                .values()
                .filter(|v| matches!(v, VaultState::Live { .. }))
                .count(),
            keys: inventory.keys.len(),
            identities: identities.len(),
        };
        tracing::debug!(run = %run, findings = findings.len(), gaps = inventory.gaps.len(), "audit done");
        Ok(AuditReport {
            run_id: run.clone(),
            audited_at: inventory.now,
            resource_groups: scope
                .resource_groups
                .iter()
                .map(ToString::to_string)
                .collect(),
            findings,
            gaps: inventory.gaps,
            inventory: summary,
            calls,
        })
    }
}
