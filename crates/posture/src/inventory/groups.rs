//! A container group as the checks see it: its id, sku, encryption (the vault, key, version and
//! identity it names), the identities of its `identity` block, and the names of its
//! environment variables with whether each holds a plain value — never the value.

use crate::findings::evidence::GroupRef;
use aci_cmk_aci::models::ContainerGroup;
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyName, KeyVersion},
    resource_id::ResourceId,
};

/// The key a group's encryption names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupKey {
    /// The vault's URL, normalised.
    pub vault_url: VaultUrl,
    /// The key.
    pub key: KeyName,
    /// The version.
    pub version: KeyVersion,
    /// The encryption identity, if any.
    pub identity: Option<ResourceId>,
}

impl GroupKey {
    /// The vault name, lowercase (the inventory's key for vaults).
    pub fn vault(&self) -> String {
        self.vault_url.vault_name().as_str().to_ascii_lowercase()
    }

    /// The (vault, key) pair, lowercase (the inventory's key for keys).
    pub fn key_pair(&self) -> (String, String) {
        (self.vault(), self.key.as_str().to_ascii_lowercase())
    }
}

/// One environment variable of one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvVar {
    /// The container.
    pub container: String,
    /// The variable's name.
    pub name: String,
    /// `Some(true)`: a plain value was returned; `Some(false)`: none was (secure, as far as a
    /// GET shows); `None`: unknown — lists may carry no values, so only a GET tells.
    pub plain: Option<bool>,
}

/// A container group, reduced to what the checks read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupRecord {
    /// The group.
    pub group: GroupRef,
    /// Its sku.
    pub sku: Option<String>,
    /// Its encryption: `None` without a customer-managed key.
    pub encryption: Option<GroupKey>,
    /// The user-assigned identities of its `identity` block, lowercase ids (empty when its
    /// type includes none).
    pub user_assigned: Vec<String>,
    /// Its environment variables.
    pub env: Vec<EnvVar>,
}

/// Why a listed group could not be read into a record.
pub(crate) type Unreadable = String;

impl GroupRecord {
    /// The record of `group`; `env_known` says whether the answer carries plain values (a GET
    /// does; a list may not).
    pub fn from_group(group: &ContainerGroup, env_known: bool) -> Result<Self, Unreadable> {
        let id: ResourceId = group
            .id
            .as_deref()
            .ok_or("the group has no id")?
            .parse()
            .map_err(|e| format!("the group's id does not parse: {e}"))?;
        let group_ref =
            GroupRef::new(id.clone()).ok_or_else(|| format!("{id} names no resource group"))?;
        let encryption = match &group.properties.encryption_properties {
            None => None,
            Some(e) => Some(GroupKey {
                vault_url: e.vault_base_url.parse().map_err(|err| {
                    format!(
                        "vaultBaseUrl {:?} is not a vault URL: {err}",
                        e.vault_base_url
                    )
                })?,
                key: e
                    .key_name
                    .parse()
                    .map_err(|err| format!("keyName {:?} is not a key name: {err}", e.key_name))?,
                version: e.key_version.parse().map_err(|err| {
                    format!("keyVersion {:?} is not a key version: {err}", e.key_version)
                })?,
                identity: e
                    .identity
                    .as_deref()
                    .map(|i| {
                        i.parse()
                            .map_err(|err| format!("identity {i:?} is not a resource id: {err}"))
                    })
                    .transpose()?,
            }),
        };
        let user_assigned = group
            .identity
            .as_ref()
            .filter(|i| i.kind.includes_user_assigned())
            .map(|i| {
                i.user_assigned_identities
                    .keys()
                    .map(|k| k.to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let env = group
            .properties
            .containers
            .iter()
            .flat_map(|c| {
                c.properties.environment_variables.iter().map(|v| EnvVar {
                    container: c.name.clone(),
                    name: v.name.clone(),
                    plain: if v.value.is_some() {
                        Some(true)
                    } else if env_known {
                        Some(false)
                    } else {
                        None
                    },
                })
            })
            .collect();
        Ok(Self {
            group: group_ref,
            sku: group.properties.sku.map(|s| format!("{s:?}")),
            encryption,
            user_assigned,
            env,
        })
    }

    /// Whether `identity` is among the group's user-assigned identities.
    pub fn lists_identity(&self, identity: &ResourceId) -> bool {
        let wanted = identity.as_str().to_ascii_lowercase();
        self.user_assigned.contains(&wanted)
    }
}
