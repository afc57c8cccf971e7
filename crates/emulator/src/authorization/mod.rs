//! Microsoft.Authorization: role assignments at any scope (used for RBAC-mode vaults) and the
//! built-in role definitions the emulator knows (the Key Vault roles plus Owner, Contributor,
//! Reader and User Access Administrator).

use crate::config::PersistedConfig;
use crate::keyvault_management::records::Vault;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{body_object, check_api_version, opt_obj, opt_str};
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use crate::store::{Record, Tables};

/// api-versions accepted for role assignments.
pub const ASSIGNMENT_API_VERSIONS: &[&str] = &[
    "2015-07-01",
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];

/// api-versions accepted for role definitions.
pub const DEFINITION_API_VERSIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

/// A built-in role definition.
#[derive(Debug, Clone, Copy)]
pub struct RoleDefinition {
    /// GUID.
    pub id: &'static str,
    /// Role name.
    pub name: &'static str,
    /// Control-plane actions.
    pub actions: &'static [&'static str],
    /// Data actions.
    pub data_actions: &'static [&'static str],
}

/// The built-in roles known to the emulator.
pub const ROLES: &[RoleDefinition] = &[
    RoleDefinition {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    RoleDefinition {
        id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        name: "Key Vault Crypto Officer",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
    },
    RoleDefinition {
        id: "12338af0-0e69-4776-bea7-57ae8d297424",
        name: "Key Vault Crypto User",
        actions: &[],
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
        actions: &[
            "Microsoft.EventGrid/eventSubscriptions/write",
            "Microsoft.EventGrid/eventSubscriptions/read",
            "Microsoft.EventGrid/eventSubscriptions/delete",
        ],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
    },
    RoleDefinition {
        id: "21090545-7ca7-4776-b22c-e363652d74d2",
        name: "Key Vault Reader",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    RoleDefinition {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        actions: &["*"],
        data_actions: &[],
    },
    RoleDefinition {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        actions: &["*"],
        data_actions: &[],
    },
    RoleDefinition {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        actions: &["*/read"],
        data_actions: &[],
    },
    RoleDefinition {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        actions: &["*/read", "Microsoft.Authorization/*"],
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

/// A role assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// Full ARM id.
    pub id: String,
    /// Name (a GUID).
    pub name: String,
    /// Scope (ARM id of the scope, starting with `/`).
    pub scope: String,
    /// Role definition GUID.
    pub role_definition: String,
    /// Principal object id.
    pub principal_id: String,
    /// Principal type.
    pub principal_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Creation time (unix seconds).
    pub created: i64,
}

impl Record for RoleAssignment {
    const TABLE: &'static str = "role_assignments";
}

fn assignment_json(sub: &str, a: &RoleAssignment) -> Value {
    json!({
        "id": a.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.name,
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role_definition),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "description": a.description,
            "condition": null,
            "conditionVersion": null,
            "createdOn": crate::config::rfc3339_secs(a.created),
            "updatedOn": crate::config::rfc3339_secs(a.created),
            "createdBy": a.created_by,
            "updatedBy": a.created_by,
            "delegatedManagedIdentityResourceId": null,
        }
    })
}

fn definition_json(scope: &str, r: &RoleDefinition) -> Value {
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{}", r.id),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": r.id,
        "properties": {
            "roleName": r.name,
            "type": "BuiltInRole",
            "description": r.name,
            "assignableScopes": ["/"],
            "permissions": [{"actions": r.actions, "notActions": [], "dataActions": r.data_actions, "notDataActions": []}],
        }
    })
}

/// Whether `scope` equals `resource` or is one of its ancestors (segment-wise, case-insensitive).
pub fn scope_covers(scope: &str, resource: &str) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    let r = resource.trim_end_matches('/').to_ascii_lowercase();
    s.is_empty() || r == s || r.starts_with(&format!("{s}/"))
}

/// Handles `{scope}/providers/Microsoft.Authorization/{tail}`.
pub fn handle(
    ctx: &Ctx,
    claims: &Claims,
    scope_segs: &[String],
    tail: &[&str],
    tail_orig: &[String],
) -> ArmResult {
    let scope = if scope_segs.is_empty() {
        String::new()
    } else {
        format!("/{}", scope_segs.join("/"))
    };
    // Role definition ids name the scope's subscription (or ours at tenant scope).
    let sub = match scope_segs {
        [first, s, ..] if first.eq_ignore_ascii_case("subscriptions") => s.to_ascii_lowercase(),
        _ => ctx.shared.config.subscription().to_owned(),
    };
    match tail {
        ["roledefinitions"] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleDefinitions",
                DEFINITION_API_VERSIONS,
            )?;
            let name_filter = ctx.q("$filter").and_then(|f| {
                let (k, v) = f.split_once(" eq ")?;
                (k.trim().eq_ignore_ascii_case("roleName"))
                    .then(|| v.trim().trim_matches('\'').to_owned())
            });
            let items: Vec<Value> = ROLES
                .iter()
                .filter(|r| {
                    name_filter
                        .as_ref()
                        .is_none_or(|n| r.name.eq_ignore_ascii_case(n))
                })
                .map(|r| definition_json(&scope, r))
                .collect();
            Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
        }
        ["roledefinitions", id] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleDefinitions",
                DEFINITION_API_VERSIONS,
            )?;
            let r = role(id).ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "RoleDefinitionDoesNotExist",
                    "The specified role definition with ID '".to_owned() + id + "' does not exist.",
                )
            })?;
            Ok(reply::json(StatusCode::OK, &definition_json(&scope, r)))
        }
        ["roleassignments"] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleAssignments",
                ASSIGNMENT_API_VERSIONS,
            )?;
            if ctx.method != Method::GET {
                return Err(crate::arm::resources::method_not_allowed(ctx));
            }
            list(ctx, &sub, &scope)
        }
        ["roleassignments", _] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleAssignments",
                ASSIGNMENT_API_VERSIONS,
            )?;
            let name = tail_orig.get(1).cloned().unwrap_or_default();
            one(ctx, claims, &sub, &scope, &name)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "The resource type is not emulated for namespace 'Microsoft.Authorization'.",
        )),
    }
}

fn list(ctx: &Ctx, sub: &str, scope: &str) -> ArmResult {
    let filter = ctx.q("$filter").unwrap_or("").trim().to_owned();
    let principal = if filter.is_empty() || filter.eq_ignore_ascii_case("atScope()") {
        None
    } else {
        let (k, v) = filter.split_once(" eq ").ok_or_else(|| {
            ArmError::bad(
                "UnsupportedQuery",
                format!("The filter '{filter}' is not supported."),
            )
        })?;
        if !k.trim().eq_ignore_ascii_case("principalId")
            && !k.trim().eq_ignore_ascii_case("assignedTo(")
        {
            return Err(ArmError::bad(
                "UnsupportedQuery",
                format!("The filter '{filter}' is not supported."),
            ));
        }
        Some(v.trim().trim_matches('\'').to_ascii_lowercase())
    };
    let at_scope = filter.eq_ignore_ascii_case("atScope()");
    let items: Vec<Value> = ctx.shared.store.read(|st| {
        st.table::<RoleAssignment>()
            .values()
            // Assignments at, above or (without atScope) below the scope, as ARM lists them.
            .filter(|a| {
                scope_covers(&a.scope, scope) || (!at_scope && scope_covers(scope, &a.scope))
            })
            .filter(|a| {
                principal
                    .as_ref()
                    .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
            })
            .map(|a| assignment_json(sub, a))
            .collect()
    });
    Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
}

fn one(ctx: &Ctx, claims: &Claims, sub: &str, scope: &str, name: &str) -> ArmResult {
    let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let key = id.to_ascii_lowercase();
    match ctx.method {
        Method::GET => {
            let a = ctx
                .shared
                .store
                .read(|st| st.table::<RoleAssignment>().get(&key).cloned());
            let a = a.ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "RoleAssignmentNotFound",
                    format!("The role assignment '{name}' is not found."),
                )
            })?;
            Ok(reply::json(StatusCode::OK, &assignment_json(sub, &a)))
        }
        Method::DELETE => {
            let a = ctx
                .shared
                .store
                .write(|st| st.table_mut::<RoleAssignment>().remove(&key))?;
            match a {
                Some(a) => Ok(reply::json(StatusCode::OK, &assignment_json(sub, &a))),
                None => Ok(reply::empty(StatusCode::NO_CONTENT)),
            }
        }
        Method::PUT => put(ctx, claims, sub, scope, name, &id, &key),
        _ => Err(crate::arm::resources::method_not_allowed(ctx)),
    }
}

fn put(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    scope: &str,
    name: &str,
    id: &str,
    key: &str,
) -> ArmResult {
    if uuid::Uuid::parse_str(name).is_err() {
        return Err(ArmError::bad(
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        ));
    }
    let body = body_object(ctx)?;
    let props = opt_obj(&body, "properties", "properties")?.ok_or_else(|| {
        ArmError::bad(
            "InvalidRequestContent",
            "The 'properties' property is required.",
        )
    })?;
    let role_def =
        opt_str(props, "roleDefinitionId", "properties.roleDefinitionId")?.ok_or_else(|| {
            ArmError::bad(
                "InvalidRequestContent",
                "The 'properties.roleDefinitionId' property is required.",
            )
        })?;
    let principal_id = opt_str(props, "principalId", "properties.principalId")?
        .ok_or_else(|| {
            ArmError::bad(
                "InvalidRequestContent",
                "The 'properties.principalId' property is required.",
            )
        })?
        .to_ascii_lowercase();
    let principal_type = opt_str(props, "principalType", "properties.principalType")?;
    if let Some(t) = &principal_type
        && ![
            "User",
            "Group",
            "ServicePrincipal",
            "ForeignGroup",
            "Device",
        ]
        .iter()
        .any(|x| x.eq_ignore_ascii_case(t))
    {
        return Err(ArmError::bad(
            "InvalidPrincipalType",
            format!("The principal type '{t}' is not valid."),
        ));
    }
    let description = opt_str(props, "description", "properties.description")?;
    let role = role(&role_def).ok_or_else(|| {
        ArmError::bad(
            "RoleDefinitionDoesNotExist",
            format!(
                "The specified role definition with ID '{}' does not exist.",
                role_def.rsplit('/').next().unwrap_or("")
            ),
        )
    })?;
    // The scope must exist when it names a vault.
    let lc_scope = scope.to_ascii_lowercase();
    if let Some(rest) = lc_scope
        .split("/providers/microsoft.keyvault/vaults/")
        .nth(1)
    {
        let vault = rest.split('/').next().unwrap_or("");
        let exists = ctx.shared.store.read(|st| {
            st.table::<Vault>()
                .get(vault)
                .is_some_and(|v| v.deleted.is_none())
        });
        if !exists {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The Resource 'Microsoft.KeyVault/vaults/{vault}' was not found."),
            ));
        }
    }
    let delay = ctx.shared.timing.replication_delay_ms();
    let creator = claims.oid.clone();
    let scope_owned = scope.to_owned();
    let res = ctx.shared.store.write(|st| -> Result<(bool, RoleAssignment), ArmError> {
        let exists = crate::graph::directory::principal(st, &principal_id).is_some();
        let replicated = crate::graph::directory::is_replicated(st, &principal_id, delay, ctx.shared.clock.now_ms());
        // ARM looks the principal up in the directory unless principalType is given (which skips
        // the replication-sensitive lookup, as Azure documents).
        if !exists || (!replicated && principal_type.is_none()) {
            return Err(ArmError::bad(
                "PrincipalNotFound",
                format!("Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype", principal_id.replace('-', ""), st.table::<PersistedConfig>().get("config").map(|c| c.tenant_id.clone()).unwrap_or_default()),
            ));
        }
        if let Some(existing) = st.table::<RoleAssignment>().get(key) {
            if existing.role_definition.eq_ignore_ascii_case(role.id)
                && existing.principal_id.eq_ignore_ascii_case(&principal_id)
            {
                return Ok((false, existing.clone()));
            }
            return Err(ArmError::bad(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        let dup = st.table::<RoleAssignment>().values().any(|a| {
            a.scope.eq_ignore_ascii_case(&scope_owned)
                && a.role_definition.eq_ignore_ascii_case(role.id)
                && a.principal_id.eq_ignore_ascii_case(&principal_id)
        });
        if dup {
            return Err(ArmError::new(StatusCode::CONFLICT, "RoleAssignmentExists", "The role assignment already exists."));
        }
        let ptype = principal_type.clone().unwrap_or_else(|| "ServicePrincipal".to_owned());
        let a = RoleAssignment {
            id: id.to_owned(),
            name: name.to_ascii_lowercase(),
            scope: scope_owned.clone(),
            role_definition: role.id.to_owned(),
            principal_id: principal_id.clone(),
            principal_type: ptype,
            description: description.clone(),
            created_by: creator.clone(),
            created: ctx.shared.clock.now_secs(),
        };
        st.table_mut::<RoleAssignment>().insert(key.to_owned(), a.clone());
        Ok((true, a))
    })??;
    let (created, a) = res;
    Ok(reply::json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &assignment_json(sub, &a),
    ))
}

/// Data actions granted to `principal` on `resource` by role assignments.
pub fn rbac_allows(st: &Tables, principal: &str, resource: &str, data_action: &str) -> bool {
    st.table::<RoleAssignment>().values().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal)
            && scope_covers(&a.scope, resource)
            && role(&a.role_definition).is_some_and(|r| {
                r.data_actions
                    .iter()
                    .any(|p| action_matches(p, data_action))
            })
    })
}

/// Removes role assignments scoped inside a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    let prefix = format!("/subscriptions/{sub}/resourcegroups/{rg}");
    st.table_mut::<RoleAssignment>()
        .retain(|_, a| !scope_covers(&prefix, &a.scope));
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<RoleAssignment>();
}

#[cfg(test)]
mod tests {
    use super::*;

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
