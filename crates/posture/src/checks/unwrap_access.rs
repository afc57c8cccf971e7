//! Items 5 and 15: the principal a group unwraps as lacks `get` or `unwrapKey` on its key; and
//! principals beyond those the groups need hold `unwrapKey` on a CMK vault.

use super::{
    Ctx,
    grants::{self, READ_KEY, UNWRAP_KEY},
    vault_ref,
};
use crate::{
    FindingKind,
    findings::{
        Finding,
        evidence::{Evidence, MissingGrant, UnwrapGrant, UnwrapPrincipal},
    },
    inventory::VaultState,
};
use aci_cmk_core::names::PrincipalId;
use aci_cmk_identity::role_assignments::RoleAssignment;
use aci_cmk_keyvault::models::KeyPermission;
use std::collections::BTreeMap;

/// Findings of kinds 5 and 15.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    missing(ctx, out);
    excess(ctx, out);
}

fn missing(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let kind = FindingKind::UnwrapPermissionMissing;
    for (g, gk) in ctx.cmk_groups() {
        let Some(VaultState::Live { vault, assignments }) = ctx.inventory.vaults.get(&gk.vault())
        else {
            continue;
        };
        let Some(principal) = ctx.unwrap_principal(gk) else {
            continue;
        };
        let who = principal.object_id();
        let missing = if vault.properties.enable_rbac_authorization == Some(true) {
            let Some(assignments) = assignments else {
                continue;
            };
            let key_resource = format!("{}/keys/{}", vault.id, gk.key);
            let own: Vec<&RoleAssignment> = assignments
                .iter()
                .filter(|a| {
                    &a.properties.principal_id == who
                        && grants::covers(&grants::scope_of(a), &key_resource)
                })
                .collect();
            let mut lacking = Vec::new();
            for action in [READ_KEY, UNWRAP_KEY] {
                match grants::roles_allow(ctx.inventory, &own, action) {
                    Some(true) => {}
                    Some(false) => lacking.push(action.to_owned()),
                    None => {}
                }
            }
            if lacking.is_empty() {
                continue;
            }
            MissingGrant::Rbac {
                missing: lacking,
                roles: own
                    .iter()
                    .map(|a| grants::role_ref(ctx.inventory, a))
                    .collect(),
            }
        } else {
            let held = grants::policy_permissions(vault, who);
            let lacking: Vec<String> = [KeyPermission::Get, KeyPermission::UnwrapKey]
                .iter()
                .filter(|p| !grants::includes(&held, p))
                .map(|p| p.as_str().to_owned())
                .collect();
            if lacking.is_empty() {
                continue;
            }
            MissingGrant::AccessPolicy {
                missing: lacking,
                held: held.iter().map(|p| p.as_str().to_owned()).collect(),
            }
        };
        let (as_whom, fix) = match (&principal, &missing) {
            (UnwrapPrincipal::AciFirstParty { .. }, MissingGrant::AccessPolicy { .. }) => (
                "the ACI first-party service principal".to_owned(),
                "grant the ACI first-party service principal keys get and unwrapKey (accessPolicies/add)",
            ),
            (UnwrapPrincipal::UserAssigned { identity, .. }, MissingGrant::AccessPolicy { .. }) => {
                (
                    format!("identity {}", identity.name()),
                    "grant the encryption identity keys get and unwrapKey (accessPolicies/add)",
                )
            }
            (UnwrapPrincipal::AciFirstParty { .. }, MissingGrant::Rbac { .. }) => (
                "the ACI first-party service principal".to_owned(),
                "assign Key Vault Crypto Service Encryption User to the ACI first-party service principal on the key or vault",
            ),
            (UnwrapPrincipal::UserAssigned { identity, .. }, MissingGrant::Rbac { .. }) => (
                format!("identity {}", identity.name()),
                "assign Key Vault Crypto Service Encryption User to the encryption identity on the key or vault",
            ),
        };
        let lacking = match &missing {
            MissingGrant::AccessPolicy { missing, .. } | MissingGrant::Rbac { missing, .. } => {
                missing.join(" and ")
            }
        };
        out.push(Finding::new(
            kind,
            kind.default_severity(),
            g.group.id.as_str(),
            format!(
                "container group {} unwraps as {as_whom}, which lacks {lacking} on key {}/{}: the group cannot restart",
                g.group.name, vault.name, gk.key
            ),
            fix,
            Evidence::UnwrapPermissionMissing {
                group: g.group.clone(),
                vault: vault_ref(vault),
                key: ctx.key_ref(gk),
                principal,
                missing,
            },
        ));
    }
}

fn excess(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let kind = FindingKind::ExcessUnwrapPrincipals;
    for (vault, groups) in ctx.live_vaults() {
        let mut needed: Vec<PrincipalId> = groups
            .iter()
            .filter_map(|(_, gk)| ctx.unwrap_principal(gk))
            .map(|p| p.object_id().clone())
            .collect();
        needed.extend(ctx.options.allowed_unwrap_principals.iter().cloned());
        let rbac = vault.properties.enable_rbac_authorization == Some(true);
        let mut holders: BTreeMap<String, UnwrapGrant> = BTreeMap::new();
        if rbac {
            if let Some(VaultState::Live {
                assignments: Some(assignments),
                ..
            }) = ctx
                .inventory
                .vaults
                .get(&vault.name.as_str().to_ascii_lowercase())
            {
                for a in assignments {
                    if grants::roles_allow(ctx.inventory, &[a], UNWRAP_KEY) == Some(true) {
                        grant(&mut holders, &a.properties.principal_id)
                            .roles
                            .push(grants::role_ref(ctx.inventory, a));
                    }
                }
            }
        } else {
            for p in vault.properties.access_policies.iter().flatten() {
                if grants::includes(&p.permissions.keys, &KeyPermission::UnwrapKey) {
                    grant(&mut holders, &p.object_id).access_policy = true;
                }
            }
        }
        let extra: Vec<UnwrapGrant> = holders
            .into_values()
            .filter(|h| !needed.contains(&h.principal_id))
            .collect();
        if extra.is_empty() {
            continue;
        }
        needed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        needed.dedup();
        let names: Vec<&str> = extra.iter().map(|h| h.principal_id.as_str()).collect();
        out.push(Finding::new(
            kind,
            kind.default_severity(),
            vault.id.as_str(),
            format!(
                "{} principal(s) beyond those its container groups unwrap as can unwrap with the keys of vault {}: {}",
                extra.len(),
                vault.name,
                names.join(", ")
            ),
            "remove unwrapKey (or the role granting it) from the principals that do not need it, or allow them in the audit's options",
            Evidence::ExcessUnwrapPrincipals {
                vault: vault_ref(vault),
                needed,
                extra,
            },
        ));
    }
}

fn grant<'a>(
    holders: &'a mut BTreeMap<String, UnwrapGrant>,
    p: &PrincipalId,
) -> &'a mut UnwrapGrant {
    holders
        .entry(p.as_str().to_ascii_lowercase())
        .or_insert_with(|| UnwrapGrant {
            principal_id: p.clone(),
            access_policy: false,
            roles: Vec::new(),
        })
}
