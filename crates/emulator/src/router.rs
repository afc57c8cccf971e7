//! The router: which service a request is for (by host and path), the ARM routes to each
//! resource provider, the tables every service registers, the resources each offers to the
//! generic resource list, and the cascade when a resource group is deleted. Adding a service
//! means its folder plus its lines here.

use http::StatusCode;

use crate::arm::error::{ArmError, ArmResult, finish};
use crate::arm::generic_resources::{self, ResourceLister};
use crate::arm::request::{authenticate_arm, not_found_route};
use crate::arm::resources::check_subscription;
use crate::arm::{self, resources};
use crate::context::Ctx;
use crate::deployments;
use crate::deployments::run::ResourceRouter;
use crate::entra::tokens::Claims;
use crate::reply::Reply;
use crate::store::{Schema, Tables};
use crate::{
    aci, authorization, entra, graph, keyvault_data, keyvault_management, managed_identity,
};

/// The emulated service a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// Key Vault data plane.
    Keyvault,
    /// Entra ID token service.
    Token,
    /// Managed-identity endpoint.
    Msi,
    /// Admin API.
    Admin,
}

impl Service {
    /// Lowercase name as used in fault rules and the request log.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Arm => "arm",
            Service::Graph => "graph",
            Service::Keyvault => "keyvault",
            Service::Token => "token",
            Service::Msi => "msi",
            Service::Admin => "admin",
        }
    }
}

/// Every table of every service.
pub fn schema() -> Schema {
    let mut s = Schema::default();
    crate::config::register_tables(&mut s);
    graph::directory::register_tables(&mut s);
    arm::resources::register_tables(&mut s);
    arm::lro::register_tables(&mut s);
    keyvault_management::records::register_tables(&mut s);
    keyvault_data::records::register_tables(&mut s);
    managed_identity::register_tables(&mut s);
    authorization::records::register_tables(&mut s);
    aci::records::register_tables(&mut s);
    deployments::records::register_tables(&mut s);
    crate::events::register_tables(&mut s);
    s
}

/// Every service's resources, as the generic resource list (`…/resources`) shows them.
const GENERIC_RESOURCES: &[ResourceLister] = &[
    keyvault_management::render::generic_resources,
    managed_identity::generic_resources,
    aci::render::generic_resources,
];

/// Deletes (or soft-deletes) everything in a resource group: each provider's cascade.
fn on_resource_group_deleted(st: &mut Tables, now_secs: i64, sub: &str, rg: &str) {
    keyvault_management::retention::on_resource_group_deleted(st, now_secs, sub, rg);
    managed_identity::on_resource_group_deleted(st, sub, rg);
    authorization::records::on_resource_group_deleted(st, sub, rg);
    aci::records::on_resource_group_deleted(st, sub, rg);
    deployments::records::on_resource_group_deleted(st, sub, rg);
}

/// What deleting one resource does elsewhere: the role assignments at its scope go.
fn on_resource_deleted(st: &mut Tables, resource_id: &str) {
    authorization::records::on_scope_deleted(st, resource_id);
}

/// Answers a request for a service other than the admin API (the server answers that one).
pub async fn route(ctx: &Ctx, service: Service, vault: Option<&str>) -> Reply {
    match service {
        Service::Arm => arm(ctx).await,
        Service::Graph => graph::handlers::handle(ctx).await,
        Service::Keyvault => keyvault_data::handlers::handle(ctx, vault.unwrap_or_default()).await,
        Service::Token => entra::token_endpoint::handle(ctx).await,
        Service::Msi => entra::managed_identity_endpoint::handle(ctx).await,
        Service::Admin => finish(Err(not_found_route(ctx))),
    }
}

/// The ARM routes, for a template deployment's in-process resource requests.
struct ArmRouter;

/// The ARM routes as deployments see them (a deployment runs on after its PUT is answered).
static ARM_ROUTER: ArmRouter = ArmRouter;

impl ResourceRouter for ArmRouter {
    fn route<'a>(
        &'a self,
        ctx: &'a Ctx,
        claims: &'a Claims,
        lc: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Reply> {
        Box::pin(async move { finish(arm_route(ctx, claims, lc).await) })
    }
}

/// Settles what a previous process left half done: each service marks its interrupted work
/// (deployments left `Running`) as failed.
pub fn after_restart(
    store: &crate::store::Store,
    now_ms: i64,
) -> Result<(), crate::store::StoreError> {
    store.write(|st| deployments::records::fail_interrupted(st, now_ms))
}

/// Handles an ARM request.
async fn arm(ctx: &Ctx) -> Reply {
    let mut lc: Vec<String> = ctx.segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    // ARM tolerates a trailing slash (`…/deployments/?$filter=…`).
    if lc.len() > 1 && lc.last().is_some_and(String::is_empty) {
        lc.pop();
    }
    let lcs: Vec<&str> = lc.iter().map(String::as_str).collect();
    if lcs.as_slice() == ["metadata", "endpoints"] {
        return finish(resources::metadata_endpoints(ctx));
    }
    let claims = match authenticate_arm(ctx) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    finish(arm_route(ctx, &claims, &lcs).await)
}

/// Routes an authenticated ARM request (`lc`: its lowercased path segments).
async fn arm_route(ctx: &Ctx, claims: &Claims, lc: &[&str]) -> ArmResult {
    // {scope}/providers/Microsoft.Authorization/... at any scope.
    if let Some(i) = (0..lc.len().saturating_sub(1))
        .rev()
        .find(|&i| lc[i] == "providers" && lc[i + 1] == "microsoft.authorization")
        && i != 1
    {
        if i >= 2 {
            check_subscription(ctx, lc[1])?;
        }
        return authorization::handlers::handle(
            ctx,
            claims,
            &ctx.segs[..i],
            &lc[i + 2..],
            &ctx.segs[i + 2..],
        );
    }
    match lc {
        [] => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No route.",
        )),
        ["subscriptions"] => resources::list_subscriptions(ctx),
        ["tenants"] => resources::list_tenants(ctx),
        ["subscriptions", sub, rest @ ..] => {
            check_subscription(ctx, sub)?;
            let sub = sub.to_ascii_lowercase();
            match rest {
                [] => resources::get_subscription(ctx, &sub),
                ["locations"] => resources::list_locations(ctx, &sub),
                ["resourcegroups"] => resources::list_groups(ctx, &sub),
                ["resources"] => generic_resources::list(ctx, &sub, None, GENERIC_RESOURCES),
                ["resourcegroups", _, "resources"] => {
                    let rg = &ctx.segs[3];
                    resources::require_group(ctx, &sub, rg)?;
                    generic_resources::list(ctx, &sub, Some(rg), GENERIC_RESOURCES)
                }
                ["resourcegroups", _] => {
                    resources::group(ctx, &sub, &ctx.segs[3], on_resource_group_deleted)
                }
                ["resourcegroups", _, "providers", ns, tail @ ..] => {
                    let rg = ctx.segs[3].clone();
                    resources::require_group(ctx, &sub, &rg)?;
                    provider(ctx, claims, &sub, Some(&rg), ns, tail, 6).await
                }
                ["resourcegroups", _, "deployments", _, "operations", op @ ..] if op.len() <= 1 => {
                    resources::require_group(ctx, &sub, &ctx.segs[3])?;
                    let op = ctx
                        .segs
                        .get(7)
                        .map(String::as_str)
                        .filter(|_| !op.is_empty());
                    deployments::handlers::operations_route(
                        ctx,
                        &sub,
                        &ctx.segs[3],
                        &ctx.segs[5],
                        op,
                    )
                }
                ["providers"] => resources::list_providers(ctx, &sub),
                ["providers", ns, tail @ ..] => {
                    provider(ctx, claims, &sub, None, ns, tail, 4).await
                }
                _ => Err(not_found_route(ctx)),
            }
        }
        _ => Err(not_found_route(ctx)),
    }
}

/// Dispatches to a resource provider. `tail` is the lowercased path after the namespace, and
/// `tail_start` the index of its first segment in `ctx.segs` (for original-case names).
async fn provider(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    ns: &str,
    tail: &[&str],
    tail_start: usize,
) -> ArmResult {
    let orig = &ctx.segs[tail_start..];
    // Provider registration (`GET …/providers/{ns}`, `POST …/providers/{ns}/register`).
    if rg.is_none() && (tail.is_empty() || tail == ["register"]) {
        return resources::provider_info(ctx, sub, &ctx.segs[3]);
    }
    match ns {
        "microsoft.keyvault" => crate::keyvault_management::handlers::handle(
            ctx,
            claims,
            sub,
            rg,
            tail,
            orig,
            on_resource_deleted,
        ),
        "microsoft.managedidentity" => managed_identity::handle(ctx, sub, rg, tail, orig),
        "microsoft.resources"
            if rg.is_none()
                && tail.len() == 2
                && matches!(tail[0], "operationstatuses" | "operationresults") =>
        {
            arm::lro::handle(ctx, tail[0], &orig[1])
        }
        "microsoft.containerinstance" => aci::handlers::handle(ctx, sub, rg, tail, orig).await,
        "microsoft.resources" if tail.first() == Some(&"deployments") => {
            deployments::handlers::handle(ctx, claims, sub, rg, tail, orig, &ARM_ROUTER).await
        }
        _ => Err(ArmError::bad(
            "InvalidResourceNamespace",
            format!(
                "The resource namespace '{}' is invalid or not emulated.",
                ctx.segs[tail_start - 1]
            ),
        )),
    }
}

fn hostname(host: &str) -> String {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// Which service a request is for, and the vault name for the data plane.
pub fn classify(host: &str, segs: &[String]) -> (Service, Option<String>) {
    let h = hostname(host);
    if let Some(vault) = h.strip_suffix(".vault.localhost")
        && !vault.is_empty()
        && !vault.contains('.')
    {
        return (Service::Keyvault, Some(vault.to_owned()));
    }
    let first = segs
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let second = segs
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match first.as_str() {
        "_admin" => (Service::Admin, None),
        "graph" => (Service::Graph, None),
        "msi" => (Service::Msi, None),
        "subscriptions" | "providers" | "metadata" | "tenants" | "" => (Service::Arm, None),
        _ if matches!(
            second.as_str(),
            "oauth2" | "v2.0" | ".well-known" | "discovery"
        ) =>
        {
            (Service::Token, None)
        }
        _ => (Service::Arm, None),
    }
}
