//! Item 1: container groups without a customer-managed key.

use super::Ctx;
use crate::{
    FindingKind,
    findings::{Finding, evidence::Evidence},
};

/// A [`GroupWithoutCmk`](FindingKind::GroupWithoutCmk) finding for every group without
/// `encryptionProperties`.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for g in ctx
        .inventory
        .groups
        .iter()
        .filter(|g| g.encryption.is_none())
    {
        let kind = FindingKind::GroupWithoutCmk;
        out.push(Finding::new(
            kind,
            kind.default_severity(),
            g.group.id.as_str(),
            format!(
                "container group {} has no customer-managed key: its data is encrypted with a Microsoft-managed key",
                g.group.name
            ),
            "re-create the group with encryptionProperties naming a key in a vault (disruptive: encryption is fixed at creation)",
            Evidence::GroupWithoutCmk {
                group: g.group.clone(),
                sku: g.sku.clone(),
            },
        ));
    }
}
