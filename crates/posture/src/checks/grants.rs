//! Who may do what with a vault's keys: the key permissions of a principal's access policies,
//! and on an RBAC vault the data actions of its roles (their definitions decide, wildcards and
//! `notDataActions` included — never their names).

use crate::{findings::evidence::RoleRef, inventory::Inventory};
use aci_cmk_core::names::PrincipalId;
use aci_cmk_identity::role_assignments::RoleAssignment;
use aci_cmk_keyvault::models::{KeyPermission, Vault};

/// The data action of reading a key (access-policy permission `get`).
pub(crate) const READ_KEY: &str = "Microsoft.KeyVault/vaults/keys/read";
/// The data action of unwrapping with a key (access-policy permission `unwrapKey`).
pub(crate) const UNWRAP_KEY: &str = "Microsoft.KeyVault/vaults/keys/unwrap/action";

/// The key permissions `principal`'s access policies on `vault` hold (those of its tenant, not
/// compound identities: Key Vault applies only those to the principal alone).
pub(crate) fn policy_permissions(vault: &Vault, principal: &PrincipalId) -> Vec<KeyPermission> {
    let mut held = Vec::new();
    for p in vault.properties.access_policies.iter().flatten() {
        if &p.object_id == principal
            && p.tenant_id == vault.properties.tenant_id
            && p.application_id.is_none()
        {
            for k in &p.permissions.keys {
                if !held.contains(k) {
                    held.push(k.clone());
                }
            }
        }
    }
    held
}

/// Whether `held` includes `wanted` (or `all`).
pub(crate) fn includes(held: &[KeyPermission], wanted: &KeyPermission) -> bool {
    held.iter().any(|k| k == wanted || *k == KeyPermission::All)
}

/// Whether an assignment at `scope` applies to `resource`: the same resource, or one below it
/// (ids compare ignoring case; `/` is the tenant root).
pub(crate) fn covers(scope: &str, resource: &str) -> bool {
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    let resource = resource.trim_end_matches('/').to_ascii_lowercase();
    scope.is_empty() || resource == scope || resource.starts_with(&format!("{scope}/"))
}

/// The scope an assignment is made at.
pub(crate) fn scope_of(a: &RoleAssignment) -> String {
    a.properties.scope.clone().unwrap_or_else(|| {
        a.id.to_ascii_lowercase()
            .rsplit_once("/providers/microsoft.authorization/roleassignments/")
            .map(|(s, _)| s.to_owned())
            .unwrap_or_default()
    })
}

/// An assignment, named for a finding.
pub(crate) fn role_ref(inventory: &Inventory, a: &RoleAssignment) -> RoleRef {
    RoleRef {
        role_definition_id: a
            .role()
            .map(|r| r.to_string())
            .unwrap_or_else(|| a.properties.role_definition_id.clone()),
        role_name: inventory
            .role(a.role())
            .map(|d| d.display_name().to_owned()),
        scope: scope_of(a),
        assignment_id: a.id.clone(),
    }
}

/// Whether some assignment of `assignments` allows `action`: `Some(true)` if a role whose
/// definition was read allows it, `Some(false)` if every role was read and none does, `None`
/// if none of those read does and some definition could not be read.
pub(crate) fn roles_allow(
    inventory: &Inventory,
    assignments: &[&RoleAssignment],
    action: &str,
) -> Option<bool> {
    let mut unknown = false;
    for a in assignments {
        match inventory.role(a.role()) {
            Some(definition) if definition.allows_data_action(action) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_covers_its_scope_and_what_is_below_it() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v";
        let key = format!("{vault}/keys/k");
        assert!(covers(vault, &key));
        assert!(covers(&vault.to_uppercase(), &key));
        assert!(covers("/subscriptions/s", &key));
        assert!(covers("/", &key));
        assert!(covers(&key, &key));
        assert!(!covers(&format!("{vault}/keys/k2"), &key));
        assert!(!covers(&format!("{vault}2"), &key));
        assert!(!covers(&key, vault));
    }
}
