//! Item 13: a group names a vault that is soft-deleted or gone.

use super::Ctx;
use crate::{
    FindingKind,
    findings::{
        Finding,
        evidence::{Evidence, VaultAbsence},
    },
    inventory::VaultState,
};

/// A [`VaultMissing`](FindingKind::VaultMissing) finding for every group whose vault is
/// soft-deleted or gone.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let kind = FindingKind::VaultMissing;
    for (g, key) in ctx.cmk_groups() {
        let (absence, message, fix) = match ctx.inventory.vaults.get(&key.vault()) {
            Some(VaultState::SoftDeleted(d)) => {
                let p = &d.properties;
                let until = p
                    .scheduled_purge_date
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                    .unwrap_or_else(|| "its scheduled purge".into());
                (
                    VaultAbsence::SoftDeleted {
                        vault_id: p.vault_id.clone(),
                        location: p.location.as_ref().map(ToString::to_string),
                        deleted: p.deletion_date,
                        scheduled_purge: p.scheduled_purge_date,
                        purge_protection: p.purge_protection_enabled,
                    },
                    format!(
                        "container group {} uses vault {} which is soft-deleted: the group cannot restart",
                        g.group.name,
                        key.vault_url.vault_name()
                    ),
                    format!(
                        "recover vault {} (createMode recover) before {until}",
                        key.vault_url.vault_name()
                    ),
                )
            }
            Some(VaultState::Gone) => (
                VaultAbsence::Gone,
                format!(
                    "container group {} uses vault {} which is gone (not in the subscription, not soft-deleted, not answering)",
                    g.group.name,
                    key.vault_url.vault_name()
                ),
                "no automatic fix: the key is gone with the vault; re-create the group on a new key (its data is lost)"
                    .to_owned(),
            ),
            _ => continue,
        };
        out.push(Finding::new(
            kind,
            kind.default_severity(),
            g.group.id.as_str(),
            message,
            fix,
            Evidence::VaultMissing {
                group: g.group.clone(),
                vault_url: key.vault_url.clone(),
                absence,
            },
        ));
    }
}
