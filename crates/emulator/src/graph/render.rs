//! How Graph renders the directory's objects: service principals and applications as their own
//! GET answers them, the `@odata.context` of a response, and `$select`.

use serde_json::{Value, json};

use crate::context::Ctx;
use crate::graph::directory::{Application, Principal, PrincipalKind};

/// A service principal as `GET /servicePrincipals/{id}` renders it (without `@odata.context`).
pub fn sp_json(ctx: &Ctx, p: &Principal) -> Value {
    json!({
        "id": p.object_id,
        "deletedDateTime": null,
        "accountEnabled": p.account_enabled,
        "alternativeNames": p.alternative_names,
        "appDisplayName": p.display_name,
        "appId": p.app_id,
        "appOwnerOrganizationId": p.app_owner_organization_id,
        "displayName": p.display_name,
        "servicePrincipalNames": p.service_principal_names,
        "servicePrincipalType": match p.kind { PrincipalKind::Application => "Application", PrincipalKind::ManagedIdentity => "ManagedIdentity" },
        "signInAudience": if p.kind == PrincipalKind::ManagedIdentity { Value::Null } else { json!("AzureADMyOrg") },
        "tags": [],
        "appRoles": [],
        "oauth2PermissionScopes": [],
        "keyCredentials": [],
        "passwordCredentials": [],
        "appOwnerTenantId": ctx.shared.config.tenant(),
    })
}

/// An application as `GET /applications/{id}` renders it.
pub fn app_json(a: &Application) -> Value {
    json!({
        "id": a.object_id,
        "appId": a.app_id,
        "displayName": a.display_name,
        "signInAudience": "AzureADMyOrg",
        "passwordCredentials": [],
        "keyCredentials": [],
    })
}

/// The `@odata.context` of a response about `what` (`servicePrincipals/$entity`, …).
pub fn context(ctx: &Ctx, what: &str) -> String {
    format!(
        "{}/v1.0/$metadata#{what}",
        ctx.shared.config.graph_endpoint()
    )
}

/// Keeps only the properties `$select` names (all of them without `$select`).
pub fn select(ctx: &Ctx, mut v: Value) -> Value {
    if let (Some(sel), Some(obj)) = (ctx.q("$select"), v.as_object_mut()) {
        let keep: Vec<String> = sel
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        obj.retain(|k, _| keep.contains(&k.to_ascii_lowercase()));
    }
    v
}
