//! Microsoft.Resources: subscriptions, resource groups, provider registration and the cloud
//! metadata document.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm::api_versions;
use crate::arm::error::{ArmError, ArmResult, method_not_allowed};
use crate::arm::paging::{self, PageRequest, list_reply};
use crate::arm::request::{body_object, check_api_version, opt_str, opt_tags};
use crate::context::Ctx;
use crate::reply;
use crate::store::{Record, Tables};

/// api-versions accepted for the cloud metadata document.
pub const METADATA_API_VERSIONS: &[&str] =
    &["2015-01-01", "2019-05-01", "2020-06-01", "2022-09-01"];

/// A subscription of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    /// Subscription id (lowercase).
    pub id: String,
    /// Display name.
    pub display_name: String,
}

impl Record for Subscription {
    const TABLE: &'static str = "subscriptions";
}

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Subscription id.
    pub subscription: String,
    /// Name as created.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// managedBy.
    #[serde(default)]
    pub managed_by: Option<String>,
}

impl Record for ResourceGroup {
    const TABLE: &'static str = "resource_groups";
}

/// Table key of a resource group.
pub fn rg_key(sub: &str, rg: &str) -> String {
    format!("{}/{}", sub.to_ascii_lowercase(), rg.to_ascii_lowercase())
}

fn rg_json(g: &ResourceGroup) -> Value {
    let mut v = json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}", g.subscription, g.name),
        "name": g.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": g.location,
        "properties": {"provisioningState": "Succeeded"},
    });
    if !g.tags.is_empty() {
        v["tags"] = json!(g.tags);
    }
    if let Some(m) = &g.managed_by {
        v["managedBy"] = json!(m);
    }
    v
}

fn rg_not_found(rg: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

/// Fails with 404 ResourceGroupNotFound unless the group exists.
pub fn require_group(ctx: &Ctx, sub: &str, rg: &str) -> Result<(), ArmError> {
    let key = rg_key(sub, rg);
    if ctx
        .shared
        .store
        .read(|st| st.table::<ResourceGroup>().contains(&key))
    {
        Ok(())
    } else {
        Err(rg_not_found(rg))
    }
}

/// Name of a resource group as stored (original case).
pub fn group_name(st: &Tables, sub: &str, rg: &str) -> Option<String> {
    st.table::<ResourceGroup>()
        .get(&rg_key(sub, rg))
        .map(|g| g.name.clone())
}

fn valid_rg_name(n: &str) -> bool {
    (1..=90).contains(&n.chars().count())
        && !n.ends_with('.')
        && n.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

/// `PUT/GET/HEAD/PATCH/DELETE /subscriptions/{sub}/resourcegroups/{rg}`.
/// What deleting (or soft-deleting) one resource does to what hangs on it elsewhere (the role
/// assignments at its scope), given the resource's id; the router supplies it.
pub type ResourceCascade = fn(&mut Tables, &str);

/// What deleting a resource group does to the resources in it: each provider's cascade, given
/// by the router (arguments: the tables, the time in unix seconds, subscription, group name).
pub type GroupCascade = fn(&mut Tables, i64, &str, &str);

/// `…/resourcegroups/{rg}`: GET, HEAD, PUT, PATCH and DELETE (which runs `cascade`).
pub fn group(ctx: &Ctx, sub: &str, rg: &str, cascade: GroupCascade) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.Resources/resourceGroups",
        api_versions::RESOURCE_GROUPS,
    )?;
    let sub = sub.to_owned();
    let key = rg_key(&sub, rg);
    match ctx.method {
        Method::GET => {
            let g = ctx
                .shared
                .store
                .read(|st| st.table::<ResourceGroup>().get(&key).cloned());
            let g = g.ok_or_else(|| rg_not_found(rg))?;
            Ok(reply::json(StatusCode::OK, rg_json(&g)))
        }
        Method::HEAD => {
            let exists = ctx
                .shared
                .store
                .read(|st| st.table::<ResourceGroup>().contains(&key));
            Ok(reply::empty(if exists {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::NOT_FOUND
            }))
        }
        Method::PUT => {
            if !valid_rg_name(rg) {
                return Err(ArmError::bad(
                    "InvalidResourceGroup",
                    format!(
                        "The provided resource group name '{rg}' has these invalid characters or length. Names are 1-90 characters of alphanumerics, underscore, parentheses, hyphen and period (not at the end)."
                    ),
                ));
            }
            let body = body_object(ctx)?;
            let location = opt_str(&body, "location", "location")?.ok_or_else(|| {
                ArmError::bad(
                    "LocationRequired",
                    "The location property is required for this definition.",
                )
            })?;
            let tags = opt_tags(&body)?.unwrap_or_default();
            let managed_by = opt_str(&body, "managedBy", "managedBy")?;
            let res = ctx.shared.store.try_write(|st| {
                if let Some(existing) = st.table::<ResourceGroup>().get(&key)
                    && crate::arm::request::norm_location(&existing.location) != crate::arm::request::norm_location(&location)
                {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!("Invalid resource group location '{location}'. The Resource group already exists in location '{}'.", existing.location),
                    ));
                }
                let created = !st.table::<ResourceGroup>().contains(&key);
                let name = st
                    .table::<ResourceGroup>()
                    .get(&key)
                    .map(|g| g.name.clone())
                    .unwrap_or_else(|| rg.to_owned());
                let g = ResourceGroup {
                    subscription: sub.clone(),
                    name,
                    location: st
                        .table::<ResourceGroup>()
                        .get(&key)
                        .map(|g| g.location.clone())
                        .unwrap_or(location.clone()),
                    tags,
                    managed_by,
                };
                st.table_mut::<ResourceGroup>().insert(key.clone(), g.clone());
                Ok((created, g))
            })??;
            let (created, g) = res;
            Ok(reply::json(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                rg_json(&g),
            ))
        }
        Method::PATCH => {
            let body = body_object(ctx)?;
            let tags = opt_tags(&body)?;
            let g = ctx.shared.store.write(|st| {
                let g = st.table_mut::<ResourceGroup>().get_mut(&key)?;
                if let Some(t) = tags {
                    g.tags = t;
                }
                Some(g.clone())
            })?;
            let g = g.ok_or_else(|| rg_not_found(rg))?;
            Ok(reply::json(StatusCode::OK, rg_json(&g)))
        }
        Method::DELETE => {
            let now = ctx.shared.clock.now_secs();
            let found = ctx.shared.store.write(|st| {
                let Some(g) = st.table_mut::<ResourceGroup>().remove(&key) else {
                    return false;
                };
                cascade(st, now, &g.subscription, &g.name);
                true
            })?;
            if !found {
                return Err(rg_not_found(rg));
            }
            // The group and its resources are gone at once; the delete operation runs for the
            // profile's time, as Azure's does: 202 + Location, polled to 200.
            let after = i64::try_from(ctx.shared.timing.durations().resource_group_delete_ms)
                .unwrap_or(i64::MAX / 4);
            if after == 0 {
                return Ok(reply::empty(StatusCode::OK));
            }
            let id = format!("/subscriptions/{sub}/resourceGroups/{rg}");
            let op = ctx.shared.store.write(|st| {
                crate::arm::lro::start_reported(
                    st,
                    &sub,
                    &id,
                    after,
                    None,
                    serde_json::Value::Null,
                    ctx.shared.clock.now_ms(),
                )
            })?;
            // Azure's first answer asks for 15 s between polls; the polls then answer 1.
            let mut r = crate::arm::lro::accepted(&ctx.shared.config, &op, after);
            crate::reply::set_header(
                &mut r,
                "retry-after",
                &crate::arm::lro::retry_after_secs(after).to_string(),
            );
            Ok(r)
        }
        _ => Err(method_not_allowed(ctx)),
    }
}

/// `GET /subscriptions/{sub}/resourcegroups`.
pub fn list_groups(ctx: &Ctx, sub: &str) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.Resources/resourceGroups",
        api_versions::RESOURCE_GROUPS,
    )?;
    if ctx.method != Method::GET {
        return Err(method_not_allowed(ctx));
    }
    let items: Vec<ResourceGroup> = ctx.shared.store.read(|st| {
        st.table::<ResourceGroup>()
            .values()
            .filter(|g| g.subscription.eq_ignore_ascii_case(sub))
            .cloned()
            .collect()
    });
    list_reply(ctx, items, |g| rg_key(&g.subscription, &g.name), rg_json)
}

fn subscription_json(ctx: &Ctx, sub: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", sub.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.id,
        "tenantId": ctx.shared.config.tenant(),
        "displayName": sub.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

/// `GET /subscriptions`.
pub fn list_subscriptions(ctx: &Ctx) -> ArmResult {
    check_api_version(ctx, "subscriptions", api_versions::SUBSCRIPTIONS)?;
    let req = PageRequest::from_ctx(ctx)?;
    let items: Vec<Subscription> = ctx
        .shared
        .store
        .read(|st| st.table::<Subscription>().values().cloned().collect());
    let n = items.len();
    let page = paging::cut(&req, items, |s| s.id.clone());
    let mut body = paging::body(ctx, page, |s| subscription_json(ctx, s));
    body.insert("count".to_owned(), json!({"type": "Total", "value": n}));
    Ok(reply::json(StatusCode::OK, Value::Object(body)))
}

/// `GET /subscriptions/{sub}`.
pub fn get_subscription(ctx: &Ctx, sub: &str) -> ArmResult {
    check_api_version(ctx, "subscriptions", api_versions::SUBSCRIPTIONS)?;
    let s = ctx
        .shared
        .store
        .read(|st| st.table::<Subscription>().get(sub).cloned())
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                format!("The subscription '{sub}' could not be found."),
            )
        })?;
    Ok(reply::json(StatusCode::OK, subscription_json(ctx, &s)))
}

/// `GET /tenants`.
pub fn list_tenants(ctx: &Ctx) -> ArmResult {
    check_api_version(ctx, "subscriptions", api_versions::SUBSCRIPTIONS)?;
    let t = ctx.shared.config.tenant();
    let tenant = json!({"id": format!("/tenants/{t}"), "tenantId": t, "tenantCategory": "Home", "displayName": "aci-cmk emulator tenant", "defaultDomain": "emulator.localhost", "domains": ["emulator.localhost"]});
    list_reply(ctx, vec![tenant], |_| t.to_owned(), Value::clone)
}

/// `GET /subscriptions/{sub}/locations`.
pub fn list_locations(ctx: &Ctx, sub: &str) -> ArmResult {
    check_api_version(ctx, "subscriptions", api_versions::SUBSCRIPTIONS)?;
    let locs = [
        "eastus",
        "eastus2",
        "westus",
        "westus2",
        "westeurope",
        "northeurope",
        "uksouth",
    ];
    list_reply(
        ctx,
        locs.to_vec(),
        |l| (*l).to_owned(),
        |l| json!({"id": format!("/subscriptions/{sub}/locations/{l}"), "name": l, "displayName": l, "regionalDisplayName": l, "metadata": {"regionType": "Physical"}}),
    )
}

/// `GET /subscriptions/{sub}/providers`.
pub fn list_providers(ctx: &Ctx, sub: &str) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.Resources/providers",
        api_versions::PROVIDERS,
    )?;
    let namespaces = vec![
        "Microsoft.KeyVault",
        "Microsoft.ManagedIdentity",
        "Microsoft.Authorization",
    ];
    list_reply(
        ctx,
        namespaces,
        |ns| ns.to_ascii_lowercase(),
        |ns| provider_json(sub, ns),
    )
}

fn provider_json(sub: &str, ns: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}/providers/{ns}"),
        "namespace": ns,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [],
    })
}

/// `GET /subscriptions/{sub}/providers/{ns}` and `POST …/register`.
pub fn provider_info(ctx: &Ctx, sub: &str, ns: &str) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.Resources/providers",
        api_versions::PROVIDERS,
    )?;
    Ok(reply::json(StatusCode::OK, provider_json(sub, ns)))
}

/// `GET /metadata/endpoints?api-version=…` (no authentication, as in Azure).
pub fn metadata_endpoints(ctx: &Ctx) -> ArmResult {
    let v = check_api_version(ctx, "Microsoft.Resources/metadata", METADATA_API_VERSIONS)?;
    let cfg = &ctx.shared.config;
    let base = cfg.base();
    let cloud = json!({
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [base, format!("{base}/")],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "media": base,
        "graphAudience": cfg.graph_endpoint(),
        "graph": cfg.graph_endpoint(),
        "name": "AciCmkEmulator",
        "suffixes": {
            "keyVaultDns": cfg.keyvault_dns_suffix(),
            "storage": "core.windows.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
        },
        "batch": base,
        "resourceManager": base,
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": base,
        "sqlManagement": base,
        "microsoftGraphResourceId": format!("{}/", cfg.graph_endpoint()),
        "gallery": base,
    });
    let body = if v.as_str() < "2019-05-01" {
        cloud
    } else {
        json!([cloud])
    };
    Ok(reply::json(StatusCode::OK, body))
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Subscription>().table::<ResourceGroup>();
}

/// Checks that the subscription exists (404 `SubscriptionNotFound` otherwise).
pub fn check_subscription(ctx: &Ctx, sub: &str) -> Result<(), ArmError> {
    let sub_lc = sub.to_ascii_lowercase();
    if ctx
        .shared
        .store
        .read(|st| st.table::<Subscription>().contains(&sub_lc))
    {
        Ok(())
    } else {
        Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ))
    }
}
