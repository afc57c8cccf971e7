//! The generic resource list, `GET /subscriptions/{sub}[/resourceGroups/{rg}]/resources`: every
//! resource the emulator holds, as ARM's `GenericResourceExpanded` (`id`, `name`, `type`,
//! `location`, `tags`, and `kind`, `sku`, `identity`, `managedBy` where a resource has them),
//! filtered by `$filter` ([`super::resource_filter`]) and paged like every list.
//!
//! It is what the Python SDK's `vaults.list()`, `az resource list` and every `az keyvault`
//! command given only `--name` read. Each service offers its resources through a
//! [`ResourceLister`] of its own; the router hands them in, so this module knows no service.

use std::collections::BTreeMap;

use http::Method;
use serde_json::{Value, json};

use super::error::ArmResult;
use super::error::method_not_allowed;
use super::paging::list_reply;
use super::request::check_api_version;
use super::resource_filter::ResourceFilter;
use crate::context::Ctx;
use crate::store::Tables;

/// A resource as the generic list shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenericResource {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Resource type (`Namespace/type`).
    pub resource_type: String,
    /// Resource group, as created.
    pub resource_group: String,
    /// Location.
    pub location: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `kind`, for a resource that has one.
    pub kind: Option<String>,
    /// The resource's top-level `sku`, if it has one.
    pub sku: Option<Value>,
    /// The resource's `identity` block, if it has one.
    pub identity: Option<Value>,
    /// `managedBy`, if set.
    pub managed_by: Option<String>,
}

/// Where a list is asked for.
#[derive(Debug, Clone, Copy)]
pub struct ListScope<'a> {
    /// The subscription (lowercase).
    pub subscription: &'a str,
    /// The tenant (for identity blocks).
    pub tenant: &'a str,
}

/// One service's resources in a subscription, as the generic list shows them.
pub type ResourceLister = fn(&Tables, &ListScope<'_>) -> Vec<GenericResource>;

fn resource_json(r: &GenericResource, with_tags: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "name": r.name,
        "type": r.resource_type,
        "location": r.location,
    });
    if with_tags && !r.tags.is_empty() {
        v["tags"] = json!(r.tags);
    }
    if let Some(k) = &r.kind {
        v["kind"] = json!(k);
    }
    if let Some(s) = &r.sku {
        v["sku"] = s.clone();
    }
    if let Some(i) = &r.identity {
        v["identity"] = i.clone();
    }
    if let Some(m) = &r.managed_by {
        v["managedBy"] = json!(m);
    }
    v
}

/// `GET /subscriptions/{sub}/resources` (`rg` `None`) or `…/resourceGroups/{rg}/resources`:
/// the resources `listers` offer, filtered by `$filter` and paged by `$top` in id order.
/// `$expand` is accepted and adds nothing.
pub fn list(ctx: &Ctx, sub: &str, rg: Option<&str>, listers: &[ResourceLister]) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.Resources/resources",
        super::api_versions::GENERIC_RESOURCES,
    )?;
    if ctx.method != Method::GET {
        return Err(method_not_allowed(ctx));
    }
    let filter = ResourceFilter::parse(ctx.q("$filter").unwrap_or_default())?;
    let scope = ListScope {
        subscription: sub,
        tenant: ctx.shared.config.tenant(),
    };
    let items: Vec<GenericResource> = ctx.shared.store.read(|st| {
        listers
            .iter()
            .flat_map(|list| list(st, &scope))
            .filter(|r| rg.is_none_or(|g| r.resource_group.eq_ignore_ascii_case(g)))
            .filter(|r| filter.matches(&r.resource_type, &r.name, &r.tags))
            .collect()
    });
    // ARM answers a tag-filtered list without the resources' tags.
    let with_tags = !filter.names_a_tag();
    list_reply(
        ctx,
        items,
        |r| r.id.to_ascii_lowercase(),
        |r| resource_json(r, with_tags),
    )
}
