//! Role definitions (`Microsoft.Authorization/roleDefinitions`), named by [`RoleDefinitionId`]: what a role lets its holders
//! do, and whether it allows a given action — decided by its actions and data actions (with
//! their wildcards and `not` lists), never by its name.

use crate::{Error, Result};
use aci_cmk_core::names::SubscriptionId;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use uuid::Uuid;

/// A role definition, named by its GUID (the same in every subscription for built-in roles).
///
/// ```
/// use aci_cmk_identity::role_assignments::RoleDefinitionId;
///
/// let role = RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER;
/// assert_eq!(role.to_string(), "e147488a-f6f5-4113-8e2d-b22465e65bf6");
/// // ARM spells it with and without the subscription prefix: both parse to the GUID.
/// let full: RoleDefinitionId = "/subscriptions/00000000-0000-0000-0000-000000000001/providers\
///     /Microsoft.Authorization/roleDefinitions/E147488A-F6F5-4113-8E2D-B22465E65BF6".parse()?;
/// assert_eq!(full, role);
/// # Ok::<(), aci_cmk_identity::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoleDefinitionId(Uuid);

impl RoleDefinitionId {
    /// "Key Vault Crypto Service Encryption User": read a key, wrap and unwrap with it. What a
    /// service (ACI, through a managed identity) needs for a customer-managed key.
    pub const KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER: Self =
        Self(Uuid::from_u128(0xe147488a_f6f5_4113_8e2d_b22465e65bf6));
    /// "Key Vault Crypto User": use keys for any cryptographic operation.
    pub const KEY_VAULT_CRYPTO_USER: Self =
        Self(Uuid::from_u128(0x12338af0_0e69_4776_bea7_57ae8d297424));
    /// "Key Vault Crypto Officer": manage keys (create, delete, rotate, ...).
    pub const KEY_VAULT_CRYPTO_OFFICER: Self =
        Self(Uuid::from_u128(0x14b46e9e_c2b7_41b4_b07b_48a6ebf60603));
    /// "Key Vault Administrator": every data-plane action.
    pub const KEY_VAULT_ADMINISTRATOR: Self =
        Self(Uuid::from_u128(0x00482a5a_887f_4fb3_b363_3b7fe8e74483));
    /// "Key Vault Reader": read metadata, no key material.
    pub const KEY_VAULT_READER: Self =
        Self(Uuid::from_u128(0x21090545_7ca7_4776_b22c_e363652d74d2));

    /// The role with this GUID.
    pub fn new(guid: Uuid) -> Self {
        Self(guid)
    }

    /// The GUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The full role definition id in `subscription`, as a role assignment's body takes it:
    /// `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    pub fn resource_id_in(&self, subscription: &SubscriptionId) -> String {
        format!(
            "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{}",
            self.0.hyphenated()
        )
    }
}

impl fmt::Display for RoleDefinitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Parses a bare GUID or any role definition id ending in one (compared by that GUID, since
/// ARM drops the `/subscriptions/{sub}` prefix in responses).
impl FromStr for RoleDefinitionId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let guid = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
        Uuid::try_parse(guid).map(Self).map_err(|e| {
            Error::InvalidArgument(format!(
                "role definition id {s:?} does not end in a GUID: {e}"
            ))
        })
    }
}

/// A role definition as ARM answers it.
///
/// ```
/// use aci_cmk_identity::role_definitions::RoleDefinition;
///
/// let role: RoleDefinition = serde_json::from_value(serde_json::json!({
///     "id": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/00482a5a-887f-4fb3-b363-3b7fe8e74483",
///     "name": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
///     "properties": {
///         "roleName": "Key Vault Administrator",
///         "type": "BuiltInRole",
///         "permissions": [{"dataActions": ["Microsoft.KeyVault/vaults/*"], "notDataActions": []}]
///     }
/// }))?;
/// assert!(role.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
/// assert!(!role.allows_data_action("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleDefinition {
    /// `{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    pub id: String,
    /// The role's GUID.
    #[serde(default)]
    pub name: Option<String>,
    /// `Microsoft.Authorization/roleDefinitions`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// What the role is and grants.
    pub properties: RoleDefinitionProperties,
}

/// The properties of a role definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleDefinitionProperties {
    /// The display name, e.g. `Key Vault Crypto Service Encryption User` (for people only:
    /// what a role allows is in [`permissions`](Self::permissions)).
    #[serde(default)]
    pub role_name: Option<String>,
    /// `BuiltInRole` or `CustomRole`.
    #[serde(default, rename = "type")]
    pub role_type: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// What the role grants: each block's actions less its `not` actions.
    #[serde(default)]
    pub permissions: Vec<RolePermission>,
    /// Where the role can be assigned.
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
}

/// One permission block of a role: control-plane and data-plane actions, each less its `not`
/// list. Patterns may hold `*` wildcards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RolePermission {
    /// Control-plane actions.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Control-plane actions taken out of `actions`.
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// Data-plane actions, e.g. `Microsoft.KeyVault/vaults/keys/unwrap/action`.
    #[serde(default)]
    pub data_actions: Vec<String>,
    /// Data-plane actions taken out of `data_actions`.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl RolePermission {
    /// A block granting `data_actions` (and nothing on the control plane).
    pub fn data_actions<I, S>(data_actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            data_actions: data_actions.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The same block, with `not_data_actions` taken out.
    pub fn without_data_actions<I, S>(mut self, not_data_actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.not_data_actions = not_data_actions.into_iter().map(Into::into).collect();
        self
    }

    /// Whether this block allows the data action `action`: a pattern of `data_actions` matches
    /// it and none of `not_data_actions` does.
    pub fn allows_data_action(&self, action: &str) -> bool {
        self.data_actions.iter().any(|p| action_matches(p, action))
            && !self
                .not_data_actions
                .iter()
                .any(|p| action_matches(p, action))
    }
}

impl RoleDefinition {
    /// A custom role `name` with GUID `guid` granting `permissions`, as ARM would answer it at
    /// the tenant root (for implementations of the traits other than the ARM client).
    pub fn new(
        guid: RoleDefinitionId,
        name: impl Into<String>,
        permissions: Vec<RolePermission>,
    ) -> Self {
        Self {
            id: format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
            name: Some(guid.to_string()),
            resource_type: Some("Microsoft.Authorization/roleDefinitions".to_owned()),
            properties: RoleDefinitionProperties {
                role_name: Some(name.into()),
                role_type: Some("CustomRole".to_owned()),
                description: None,
                permissions,
                assignable_scopes: vec!["/".to_owned()],
            },
        }
    }

    /// The role's GUID, from its id.
    pub fn guid(&self) -> Option<RoleDefinitionId> {
        self.id.parse().ok()
    }

    /// The display name, or the id when there is none.
    pub fn display_name(&self) -> &str {
        self.properties.role_name.as_deref().unwrap_or(&self.id)
    }

    /// Whether some permission block of the role allows the data action `action`.
    pub fn allows_data_action(&self, action: &str) -> bool {
        self.properties
            .permissions
            .iter()
            .any(|p| p.allows_data_action(action))
    }
}

/// Whether the action pattern `pattern` (`*` matches any run of characters, `/` included)
/// matches `action`, ignoring case as Azure does.
///
/// ```
/// use aci_cmk_identity::role_definitions::action_matches;
///
/// assert!(action_matches("Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keys/unwrap/action"));
/// assert!(action_matches("*", "Microsoft.KeyVault/vaults/keys/read"));
/// assert!(action_matches("microsoft.keyvault/*/read", "Microsoft.KeyVault/vaults/keys/read"));
/// assert!(!action_matches("Microsoft.KeyVault/vaults/secrets/*", "Microsoft.KeyVault/vaults/keys/read"));
/// ```
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = action.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No wildcard: the whole action is the pattern.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_azure_matches_actions() {
        let unwrap = "Microsoft.KeyVault/vaults/keys/unwrap/action";
        let table = [
            ("Microsoft.KeyVault/vaults/keys/unwrap/action", true),
            ("MICROSOFT.KEYVAULT/VAULTS/KEYS/UNWRAP/ACTION", true),
            ("Microsoft.KeyVault/vaults/keys/*", true),
            ("Microsoft.KeyVault/vaults/*", true),
            ("Microsoft.KeyVault/*", true),
            ("*", true),
            ("*/unwrap/action", true),
            ("Microsoft.KeyVault/*/action", true),
            ("Microsoft.KeyVault/vaults/keys/unwrap/action*", true),
            ("Microsoft.KeyVault/vaults/keys/read", false),
            ("Microsoft.KeyVault/vaults/keys/unwrap", false),
            ("Microsoft.KeyVault/vaults/secrets/*", false),
            ("Microsoft.KeyVault/vaults/keys/unwrap/action/x", false),
            ("*/wrap/action", false),
            ("", false),
        ];
        for (pattern, want) in table {
            assert_eq!(action_matches(pattern, unwrap), want, "{pattern:?}");
        }
    }

    #[test]
    fn not_data_actions_take_out_what_data_actions_grant() {
        let block = RolePermission::data_actions(["Microsoft.KeyVault/vaults/keys/*"])
            .without_data_actions(["Microsoft.KeyVault/vaults/keys/unwrap/action"]);
        assert!(block.allows_data_action("Microsoft.KeyVault/vaults/keys/read"));
        assert!(!block.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
        // Another block of the same role may still grant it.
        let mut role = RoleDefinition::new(
            RoleDefinitionId::new(uuid::Uuid::nil()),
            "custom",
            vec![block],
        );
        assert!(!role.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
        role.properties
            .permissions
            .push(RolePermission::data_actions([
                "Microsoft.KeyVault/vaults/keys/unwrap/action",
            ]));
        assert!(role.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
    }
}
