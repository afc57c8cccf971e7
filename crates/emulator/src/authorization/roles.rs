//! The built-in role definitions the emulator knows (names, descriptions and permissions as
//! Azure publishes them), and how a role's actions and data actions match an operation.

/// A built-in role definition.
#[derive(Debug, Clone, Copy)]
pub struct RoleDefinition {
    /// GUID.
    pub id: &'static str,
    /// Role name.
    pub name: &'static str,
    /// What the role grants, as Azure describes it.
    pub description: &'static str,
    /// Control-plane actions.
    pub actions: &'static [&'static str],
    /// Control-plane actions taken out of `actions`.
    pub not_actions: &'static [&'static str],
    /// Data actions.
    pub data_actions: &'static [&'static str],
}

/// The built-in roles known to the emulator.
pub const ROLES: &[RoleDefinition] = &[
    RoleDefinition {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    RoleDefinition {
        id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        name: "Key Vault Crypto Officer",
        description: "Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
    },
    RoleDefinition {
        id: "12338af0-0e69-4776-bea7-57ae8d297424",
        name: "Key Vault Crypto User",
        description: "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
    },
    RoleDefinition {
        id: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        name: "Key Vault Crypto Service Encryption User",
        description: "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.EventGrid/eventSubscriptions/write",
            "Microsoft.EventGrid/eventSubscriptions/read",
            "Microsoft.EventGrid/eventSubscriptions/delete",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
    },
    RoleDefinition {
        id: "21090545-7ca7-4776-b22c-e363652d74d2",
        name: "Key Vault Reader",
        description: "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    RoleDefinition {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
        data_actions: &[],
    },
    RoleDefinition {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
];

/// Looks up a role by its GUID (the last segment of a roleDefinitionId).
pub fn role(id_or_path: &str) -> Option<&'static RoleDefinition> {
    let guid = id_or_path.rsplit('/').next().unwrap_or(id_or_path);
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(guid))
}

/// Azure-style wildcard match, case-insensitive (`*` matches any run of characters).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match p.split_first() {
            None => a.is_empty(),
            Some((b'*', rest)) => (0..=a.len()).any(|i| go(rest, &a[i..])),
            Some((c, rest)) => a
                .split_first()
                .is_some_and(|(d, arest)| c.eq_ignore_ascii_case(d) && go(rest, arest)),
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization::records::scope_covers;

    #[test]
    fn wildcards_match_data_actions() {
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/*",
            "Microsoft.KeyVault/vaults/keys/wrap/action"
        ));
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/keys/*",
            "microsoft.keyvault/vaults/keys/read"
        ));
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/read"
        ));
        assert!(!action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action"
        ));
        assert!(!action_matches(
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/create/action"
        ));
    }

    #[test]
    fn scopes_cover_descendants_only() {
        let v = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v";
        assert!(scope_covers("/subscriptions/s", v));
        assert!(scope_covers("/subscriptions/S/resourcegroups/RG", v));
        assert!(scope_covers(v, &format!("{v}/keys/k")));
        assert!(!scope_covers(&format!("{v}/keys/k"), v));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/rg2", v));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/r", v));
    }

    #[test]
    fn roles_resolve_by_guid_or_full_id() {
        assert_eq!(
            role("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6").map(|r| r.name),
            Some("Key Vault Crypto Service Encryption User")
        );
        assert!(role("00000000-0000-0000-0000-000000000000").is_none());
    }
}
