//! The `Microsoft.Authorization` routes at any scope: role assignments (PUT, GET, DELETE, list
//! with `$filter`); role definitions are handed to [`definitions`].

use super::definitions;
use super::records::{RoleAssignment, scope_covers};
use super::roles::role;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::list_reply;
use crate::arm::request::{body_object, check_api_version, opt_obj, opt_str};
use crate::config::PersistedConfig;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::keyvault_management::records::Vault;
use crate::reply;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// A role assignment as Azure renders it; its `roleDefinitionId` is the role's id in `sub`.
pub fn assignment_json(sub: &str, a: &RoleAssignment) -> Value {
    json!({
        "id": a.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.name,
        "properties": {
            "roleDefinitionId": definitions::definition_id(Some(sub), &a.role_definition),
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
    // The scope's subscription (none at the tenant root, where assignments name ours).
    let scope_sub = match scope_segs {
        [first, s, ..] if first.eq_ignore_ascii_case("subscriptions") => {
            Some(s.to_ascii_lowercase())
        }
        _ => None,
    };
    let sub = scope_sub
        .clone()
        .unwrap_or_else(|| ctx.shared.config.subscription().to_owned());
    match tail {
        ["roledefinitions"] => definitions::handle(ctx, scope_sub.as_deref(), None),
        ["roledefinitions", _] => {
            let guid = tail_orig.get(1).map(String::as_str);
            definitions::handle(ctx, scope_sub.as_deref(), guid)
        }
        ["roleassignments"] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleAssignments",
                super::api_versions::ROLE_ASSIGNMENTS,
            )?;
            if ctx.method != Method::GET {
                return Err(crate::arm::error::method_not_allowed(ctx));
            }
            list(ctx, &sub, &scope)
        }
        ["roleassignments", _] => {
            check_api_version(
                ctx,
                "Microsoft.Authorization/roleAssignments",
                super::api_versions::ROLE_ASSIGNMENTS,
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

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments` (`$filter` `atScope()` or
/// `principalId eq '…'`), paged by `$top` in id order.
pub fn list(ctx: &Ctx, sub: &str, scope: &str) -> ArmResult {
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
    let items: Vec<RoleAssignment> = ctx.shared.store.read(|st| {
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
            .cloned()
            .collect()
    });
    list_reply(
        ctx,
        items,
        |a| a.id.to_ascii_lowercase(),
        |a| assignment_json(sub, a),
    )
}

pub fn one(ctx: &Ctx, claims: &Claims, sub: &str, scope: &str, name: &str) -> ArmResult {
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
            Ok(reply::json(StatusCode::OK, assignment_json(sub, &a)))
        }
        Method::DELETE => {
            let a = ctx
                .shared
                .store
                .write(|st| st.table_mut::<RoleAssignment>().remove(&key))?;
            match a {
                Some(a) => Ok(reply::json(StatusCode::OK, assignment_json(sub, &a))),
                None => Ok(reply::empty(StatusCode::NO_CONTENT)),
            }
        }
        Method::PUT => put(ctx, claims, sub, scope, name, &id, &key),
        _ => Err(crate::arm::error::method_not_allowed(ctx)),
    }
}

pub fn put(
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
    let res = ctx.shared.store.try_write(|st| -> Result<(bool, RoleAssignment), ArmError> {
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
        assignment_json(sub, &a),
    ))
}
