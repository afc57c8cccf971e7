//! Microsoft.ManagedIdentity/userAssignedIdentities. Each identity gets a principalId (its
//! service principal's object id, registered in the directory and visible in Graph) and a
//! clientId (the selector of the managed-identity endpoint). [`api_versions`] lists the
//! api-versions of the specs.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::generic_resources::{GenericResource, ListScope};
use crate::arm::paging::list_reply;
use crate::arm::request::{body_object, check_api_version, opt_str, opt_tags};
use crate::context::Ctx;
use crate::graph::directory::{Principal, PrincipalKind};
use crate::reply;
use crate::store::{Record, Tables};

pub mod api_versions;

/// A user-assigned managed identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserAssignedIdentity {
    /// ARM id (`/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`).
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group (as created).
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Tenant id.
    pub tenant_id: String,
    /// Service principal object id.
    pub principal_id: String,
    /// Client (application) id.
    pub client_id: String,
}

impl Record for UserAssignedIdentity {
    const TABLE: &'static str = "identities";
}

/// ARM id of an identity.
pub fn identity_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

/// The JSON of an identity.
pub fn identity_json(i: &UserAssignedIdentity) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": i.location,
        "tags": i.tags,
        "properties": {
            "tenantId": i.tenant_id,
            "principalId": i.principal_id,
            "clientId": i.client_id,
            "isolationScope": "None",
        }
    })
}

/// Finds an identity by ARM id (case-insensitive; `resourceGroups` or `resourcegroups`).
pub fn find<'a>(st: &'a Tables, id: &str) -> Option<&'a UserAssignedIdentity> {
    st.table::<UserAssignedIdentity>()
        .get(&id.to_ascii_lowercase())
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    (3..=128).contains(&n.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{name}' under resource group '{rg}' was not found."
        ),
    )
}

/// Routes `…/providers/Microsoft.ManagedIdentity/{tail}`.
pub fn handle(ctx: &Ctx, sub: &str, rg: Option<&str>, tail: &[&str], orig: &[String]) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        api_versions::USER_ASSIGNED_IDENTITIES,
    )?;
    match (rg, tail) {
        (_, ["userassignedidentities"]) => {
            if ctx.method != Method::GET {
                return Err(crate::arm::error::method_not_allowed(ctx));
            }
            let items: Vec<UserAssignedIdentity> = ctx.shared.store.read(|st| {
                st.table::<UserAssignedIdentity>()
                    .values()
                    .filter(|i| i.subscription.eq_ignore_ascii_case(sub))
                    .filter(|i| rg.is_none_or(|r| i.resource_group.eq_ignore_ascii_case(r)))
                    .cloned()
                    .collect()
            });
            list_reply(ctx, items, |i| i.id.to_ascii_lowercase(), identity_json)
        }
        (Some(rg), ["userassignedidentities", _]) => one(ctx, sub, rg, &orig[1]),
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "The resource type is not emulated for namespace 'Microsoft.ManagedIdentity'.",
        )),
    }
}

fn one(ctx: &Ctx, sub: &str, rg_in: &str, name: &str) -> ArmResult {
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let id = identity_id(sub, &rg, name);
    let key = id.to_ascii_lowercase();
    match ctx.method {
        Method::GET => {
            let i = ctx
                .shared
                .store
                .read(|st| st.table::<UserAssignedIdentity>().get(&key).cloned());
            let i = i.ok_or_else(|| not_found(&rg, name))?;
            Ok(reply::json(StatusCode::OK, identity_json(&i)))
        }
        Method::PUT | Method::PATCH => {
            if !valid_name(name) {
                return Err(ArmError::bad(
                    "InvalidResourceName",
                    format!(
                        "The resource name '{name}' is invalid. It must be 3-128 characters: alphanumerics, hyphens and underscores, starting with a letter or digit."
                    ),
                ));
            }
            let body = body_object(ctx)?;
            let location = opt_str(&body, "location", "location")?;
            let tags = opt_tags(&body)?;
            let is_put = ctx.method == Method::PUT;
            let tenant = ctx.shared.config.tenant().to_owned();
            let (created, i) = ctx.shared.store.try_write(|st| {
                if let Some(existing) = st.table_mut::<UserAssignedIdentity>().get_mut(&key) {
                    if let Some(t) = tags {
                        existing.tags = t;
                    }
                    return Ok((false, existing.clone()));
                }
                if !is_put {
                    return Err(not_found(&rg, name));
                }
                let location = location.ok_or_else(|| {
                    ArmError::bad(
                        "LocationRequired",
                        "The location property is required for this definition.",
                    )
                })?;
                let i = UserAssignedIdentity {
                    id: id.clone(),
                    subscription: sub.to_owned(),
                    resource_group: rg.clone(),
                    name: name.to_owned(),
                    location,
                    tags: tags.unwrap_or_default(),
                    tenant_id: tenant.clone(),
                    principal_id: uuid::Uuid::new_v4().to_string(),
                    client_id: uuid::Uuid::new_v4().to_string(),
                };
                st.table_mut::<Principal>().insert(
                    i.principal_id.clone(),
                    Principal {
                        object_id: i.principal_id.clone(),
                        app_id: i.client_id.clone(),
                        display_name: name.to_owned(),
                        kind: PrincipalKind::ManagedIdentity,
                        account_enabled: true,
                        app_owner_organization_id: crate::graph::directory::MICROSOFT_TENANT
                            .to_owned(),
                        service_principal_names: vec![i.client_id.clone(), i.id.clone()],
                        alternative_names: vec!["isExplicit=True".to_owned(), i.id.clone()],
                        created_ms: ctx.shared.clock.now_ms(),
                    },
                );
                st.table_mut::<UserAssignedIdentity>()
                    .insert(key.clone(), i.clone());
                Ok((true, i))
            })??;
            Ok(reply::json(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                identity_json(&i),
            ))
        }
        Method::DELETE => {
            let gone = ctx.shared.store.write(|st| {
                let Some(i) = st.table_mut::<UserAssignedIdentity>().remove(&key) else {
                    return false;
                };
                st.table_mut::<Principal>().remove(&i.principal_id);
                true
            })?;
            Ok(reply::empty(if gone {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        _ => Err(crate::arm::error::method_not_allowed(ctx)),
    }
}

/// Deletes the identities of a deleted resource group (and their principals).
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    let gone: Vec<UserAssignedIdentity> = st
        .table::<UserAssignedIdentity>()
        .values()
        .filter(|i| {
            i.subscription.eq_ignore_ascii_case(sub) && i.resource_group.eq_ignore_ascii_case(rg)
        })
        .cloned()
        .collect();
    for i in gone {
        st.table_mut::<UserAssignedIdentity>()
            .remove(&i.id.to_ascii_lowercase());
        st.table_mut::<Principal>().remove(&i.principal_id);
    }
}

/// The identities of a subscription, as the generic resource list shows them.
pub fn generic_resources(st: &Tables, scope: &ListScope<'_>) -> Vec<GenericResource> {
    st.table::<UserAssignedIdentity>()
        .values()
        .filter(|i| i.subscription.eq_ignore_ascii_case(scope.subscription))
        .map(|i| GenericResource {
            id: i.id.clone(),
            name: i.name.clone(),
            resource_type: "Microsoft.ManagedIdentity/userAssignedIdentities".to_owned(),
            resource_group: i.resource_group.clone(),
            location: i.location.clone(),
            tags: i.tags.clone(),
            ..GenericResource::default()
        })
        .collect()
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<UserAssignedIdentity>();
}
