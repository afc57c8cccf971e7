//! Items 6 and 7: the ACI first-party service principal missing from the tenant; a group's
//! encryption identity deleted or not listed in its `identity` block.

use super::Ctx;
use crate::{
    FindingKind, Severity,
    findings::{
        Finding,
        evidence::{Evidence, IdentityProblem, KeyRef},
    },
    inventory::IdentityState,
};
use aci_cmk_identity::ACI_FIRST_PARTY_APP_ID;

/// Findings of kinds 6 and 7.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if let Some(None) = &ctx.inventory.aci_principal {
        let kind = FindingKind::AciServicePrincipalMissing;
        let standard: Vec<_> = ctx
            .cmk_groups()
            .filter(|(_, k)| k.identity.is_none())
            .collect();
        let groups: Vec<_> = standard.iter().map(|(g, _)| g.group.id.clone()).collect();
        let mut keys: Vec<KeyRef> = Vec::new();
        for (_, k) in &standard {
            let mut key = ctx.key_ref(k);
            key.version = None;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let (severity, consequence) = if groups.is_empty() {
            (
                kind.default_severity(),
                "no group uses the standard flow, but none can".to_owned(),
            )
        } else {
            (
                Severity::Critical,
                format!(
                    "{} group(s) of the standard flow cannot reach their key",
                    groups.len()
                ),
            )
        };
        out.push(Finding::new(
            kind,
            severity,
            format!("/servicePrincipals(appId='{ACI_FIRST_PARTY_APP_ID}')"),
            format!(
                "the tenant has no service principal of the ACI first-party application ({ACI_FIRST_PARTY_APP_ID}): {consequence}"
            ),
            format!(
                "create it (az ad sp create --id {ACI_FIRST_PARTY_APP_ID}) and grant it get and unwrapKey on the vaults"
            ),
            Evidence::AciServicePrincipalMissing {
                app_id: ACI_FIRST_PARTY_APP_ID.to_owned(),
                groups,
                keys,
            },
        ));
    }

    let kind = FindingKind::EncryptionIdentityBroken;
    for (g, gk) in ctx.cmk_groups() {
        let Some(identity) = &gk.identity else {
            continue;
        };
        let problem = match ctx
            .inventory
            .identities
            .get(&identity.as_str().to_ascii_lowercase())
        {
            Some(IdentityState::Deleted) => IdentityProblem::Deleted,
            _ if !g.lists_identity(identity) => IdentityProblem::NotListed,
            _ => continue,
        };
        let (what, fix) = match problem {
            IdentityProblem::Deleted => (
                "is deleted",
                "no automatic fix: a re-created identity has another principal id; re-create the group with a new identity granted get and unwrapKey (disruptive)",
            ),
            IdentityProblem::NotListed => (
                "is not one of its identity.userAssignedIdentities",
                "re-create the group listing the encryption identity in identity.userAssignedIdentities (disruptive)",
            ),
        };
        out.push(Finding::new(
            kind,
            kind.default_severity(),
            g.group.id.as_str(),
            format!(
                "the encryption identity {} of container group {} {what}: the group cannot reach its key",
                identity.name(),
                g.group.name
            ),
            fix,
            Evidence::EncryptionIdentityBroken {
                group: g.group.clone(),
                identity: identity.clone(),
                problem,
            },
        ));
    }
}
