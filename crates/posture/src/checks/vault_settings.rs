//! Items 10 and 12: a CMK vault without purge protection or soft delete; a vault authorizing
//! with access policies rather than Azure RBAC.

use super::{Ctx, vault_ref};
use crate::{
    FindingKind,
    findings::{Finding, evidence::Evidence},
};

/// Findings of kinds 10 (both) and 12.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vault, _) in ctx.live_vaults() {
        let p = &vault.properties;
        if p.enable_purge_protection != Some(true) {
            let kind = FindingKind::VaultWithoutPurgeProtection;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                vault.id.as_str(),
                format!(
                    "vault {} has no purge protection: its keys, and the groups' data with them, can be purged for good",
                    vault.name
                ),
                "enable purge protection (enablePurgeProtection true; irreversible)",
                Evidence::VaultWithoutPurgeProtection {
                    vault: vault_ref(vault),
                    enable_purge_protection: p.enable_purge_protection,
                },
            ));
        }
        if p.enable_soft_delete == Some(false) {
            let kind = FindingKind::VaultWithoutSoftDelete;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                vault.id.as_str(),
                format!(
                    "vault {} has soft delete off: a deleted key is gone at once",
                    vault.name
                ),
                "enable soft delete (enableSoftDelete true; irreversible)",
                Evidence::VaultWithoutSoftDelete {
                    vault: vault_ref(vault),
                },
            ));
        }
        if p.enable_rbac_authorization != Some(true) {
            let kind = FindingKind::VaultInAccessPolicyMode;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                vault.id.as_str(),
                format!(
                    "vault {} authorizes with access policies, not Azure RBAC",
                    vault.name
                ),
                "move the vault to Azure RBAC (grant the same principals roles first, then enableRbacAuthorization)",
                Evidence::VaultInAccessPolicyMode {
                    vault: vault_ref(vault),
                    access_policies: p.access_policies.as_ref().map_or(0, Vec::len),
                },
            ));
        }
    }
}
