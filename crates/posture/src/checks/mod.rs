//! The checks: each module judges the [`Inventory`] for the finding kinds it names, reading
//! nothing. [`run`] runs them all and orders the findings (most severe first).

pub(crate) mod encryption;
pub(crate) mod environment;
pub(crate) mod grants;
pub(crate) mod identities;
pub(crate) mod key_hygiene;
pub(crate) mod key_version;
pub(crate) mod network;
pub(crate) mod unwrap_access;
pub(crate) mod vault_presence;
pub(crate) mod vault_settings;

use crate::{
    AuditOptions, AuditScope,
    findings::{
        Finding,
        evidence::{KeyRef, UnwrapPrincipal, VaultRef},
    },
    inventory::{IdentityState, Inventory, VaultState, groups::GroupKey, groups::GroupRecord},
};
use aci_cmk_keyvault::models::Vault;

/// What every check reads: the inventory, the options, the scope.
pub(crate) struct Ctx<'a> {
    pub inventory: &'a Inventory,
    pub options: &'a AuditOptions,
    pub scope: &'a AuditScope,
}

impl<'a> Ctx<'a> {
    /// The CMK groups with their key.
    pub fn cmk_groups(&self) -> impl Iterator<Item = (&'a GroupRecord, &'a GroupKey)> + 'a {
        self.inventory
            .groups
            .iter()
            .filter_map(|g| g.encryption.as_ref().map(|e| (g, e)))
    }

    /// The live vault a group's key is in.
    pub fn live_vault(&self, key: &GroupKey) -> Option<&'a Vault> {
        match self.inventory.vaults.get(&key.vault()) {
            Some(VaultState::Live { vault, .. }) => Some(vault),
            _ => None,
        }
    }

    /// The vaults the groups name that are live, each once, with the groups on it.
    pub fn live_vaults(&self) -> Vec<(&'a Vault, Vec<(&'a GroupRecord, &'a GroupKey)>)> {
        let mut out: Vec<(&'a Vault, Vec<(&'a GroupRecord, &'a GroupKey)>)> = Vec::new();
        for (name, state) in &self.inventory.vaults {
            if let VaultState::Live { vault, .. } = state {
                let groups = self
                    .cmk_groups()
                    .filter(|(_, k)| k.vault() == *name)
                    .collect();
                out.push((vault, groups));
            }
        }
        out
    }

    /// The key reference of a group's key at its version.
    pub fn key_ref(&self, key: &GroupKey) -> KeyRef {
        KeyRef::new(
            key.vault_url.clone(),
            self.live_vault(key).map(|v| v.id.clone()),
            key.key.clone(),
            Some(key.version.clone()),
        )
    }

    /// Who unwraps a group's data key, when it is known: its encryption identity (if it
    /// exists) or the ACI first-party service principal (if it exists).
    pub fn unwrap_principal(&self, key: &GroupKey) -> Option<UnwrapPrincipal> {
        match &key.identity {
            Some(id) => match self
                .inventory
                .identities
                .get(&id.as_str().to_ascii_lowercase())?
            {
                IdentityState::Found(identity) => Some(UnwrapPrincipal::UserAssigned {
                    identity: id.clone(),
                    principal_id: identity.principal_id.clone(),
                }),
                IdentityState::Deleted => None,
            },
            None => {
                let sp = self.inventory.aci_principal.as_ref()?.as_ref()?;
                Some(UnwrapPrincipal::AciFirstParty {
                    object_id: sp.id.clone(),
                })
            }
        }
    }
}

/// A vault as findings name it.
pub(crate) fn vault_ref(vault: &Vault) -> VaultRef {
    VaultRef::new(
        vault.id.clone(),
        vault.name.clone(),
        vault.properties.vault_uri.clone(),
    )
}

/// Every check over `inventory`, the most severe findings first (then by kind and resource).
pub(crate) fn run(
    inventory: &Inventory,
    options: &AuditOptions,
    scope: &AuditScope,
) -> Vec<Finding> {
    let ctx = Ctx {
        inventory,
        options,
        scope,
    };
    let mut findings = Vec::new();
    encryption::check(&ctx, &mut findings);
    key_version::check(&ctx, &mut findings);
    unwrap_access::check(&ctx, &mut findings);
    identities::check(&ctx, &mut findings);
    network::check(&ctx, &mut findings);
    vault_settings::check(&ctx, &mut findings);
    key_hygiene::check(&ctx, &mut findings);
    vault_presence::check(&ctx, &mut findings);
    environment::check(&ctx, &mut findings);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    findings
}

#[cfg(test)]
mod tests;
