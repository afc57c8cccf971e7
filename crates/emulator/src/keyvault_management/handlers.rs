//! The `Microsoft.KeyVault` routes: vaults (PUT, PATCH, GET, DELETE, lists), access policies
//! (add, replace, remove), deleted vaults (get, list, purge), name availability, and the
//! managed-HSM paths ([`super::managed_hsm`]: empty lists, not emulated).

use super::body::{apply_props, invalid_name, parse_policies};
use super::managed_hsm;
use super::records::{Permissions, Vault, valid_vault_name};
use super::render::{deleted_json, policy_json, vault_json};
use super::retention::{expire_deleted, purge_vault, soft_delete};
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::list_reply;
use crate::arm::request::{
    body_object, check_api_version, norm_location, opt_arr, opt_obj, opt_str, opt_tags,
};
use crate::arm::resources::ResourceCascade;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use http::{Method, StatusCode};
use serde_json::{Value, json};

pub fn vault_not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// Routes `…/providers/Microsoft.KeyVault/{tail}`.
pub fn handle(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
    on_deleted: ResourceCascade,
) -> ArmResult {
    check_api_version(
        ctx,
        "Microsoft.KeyVault/vaults",
        super::api_versions::VAULTS,
    )?;
    ctx.shared
        .store
        .write(|st| expire_deleted(st, ctx.shared.clock.now_secs()))?;
    let m = &ctx.method;
    match (rg, tail) {
        (None, ["checknameavailability"]) if m == Method::POST => check_name(ctx),
        (_, ["vaults"]) if m == Method::GET => list(ctx, sub, rg),
        (None, ["deletedvaults"]) if m == Method::GET => {
            let items: Vec<Vault> = ctx.shared.store.read(|st| {
                st.table::<Vault>()
                    .values()
                    .filter(|v| v.deleted.is_some() && v.subscription.eq_ignore_ascii_case(sub))
                    .cloned()
                    .collect()
            });
            list_reply(ctx, items, |v| v.name.to_ascii_lowercase(), deleted_json)
        }
        (None, ["locations", _, "deletedvaults", _]) if m == Method::GET => {
            let v = find_deleted(ctx, sub, &orig[1], &orig[3])?;
            Ok(reply::json(StatusCode::OK, deleted_json(&v)))
        }
        (None, ["locations", _, "deletedvaults", _, "purge"]) if m == Method::POST => {
            purge(ctx, sub, &orig[1], &orig[3])
        }
        (None, ["locations", _, "operationresults", _]) => Ok(reply::empty(StatusCode::OK)),
        (_, ["managedhsms"]) | (None, ["deletedmanagedhsms"]) if m == Method::GET => {
            managed_hsm::empty_list(ctx)
        }
        (_, ["managedhsms", ..]) | (None, ["deletedmanagedhsms", ..]) => {
            managed_hsm::not_emulated(ctx, orig.get(1).map(String::as_str))
        }
        (None, ["locations", _, "deletedmanagedhsms", ..]) => {
            managed_hsm::not_emulated(ctx, orig.get(3).map(String::as_str))
        }
        (Some(rg), ["vaults", _]) => vault(ctx, claims, sub, rg, &orig[1], on_deleted),
        (Some(rg), ["vaults", _, "accesspolicies", kind]) if m == Method::PUT => {
            access_policies(ctx, sub, rg, &orig[1], kind)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The path '{}' is not emulated for namespace 'Microsoft.KeyVault'.",
                ctx.path
            ),
        )),
    }
}

pub fn check_name(ctx: &Ctx) -> ArmResult {
    let body = body_object(ctx)?;
    let name = opt_str(&body, "name", "name")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'name' property is required."))?;
    let ty = opt_str(&body, "type", "type")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'type' property is required."))?;
    if !ty.eq_ignore_ascii_case("Microsoft.KeyVault/vaults") {
        return Err(ArmError::bad(
            "BadRequest",
            format!(
                "The type '{ty}' is invalid. The only valid type is 'Microsoft.KeyVault/vaults'."
            ),
        ));
    }
    if !valid_vault_name(&name) {
        return Ok(reply::json(
            StatusCode::OK,
            json!({"nameAvailable": false, "reason": "AccountNameInvalid", "message": invalid_name(&name).message}),
        ));
    }
    let taken = ctx.shared.store.read(|st| {
        st.table::<Vault>()
            .get(&name.to_ascii_lowercase())
            .map(|v| v.deleted.is_some())
    });
    Ok(reply::json(
        StatusCode::OK,
        match taken {
            None => json!({"nameAvailable": true}),
            Some(false) => {
                json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.")})
            }
            Some(true) => {
                json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The vault name '{name}' is already in use by a vault in deleted state. Recover or purge it first.")})
            }
        },
    ))
}

/// `GET …/providers/Microsoft.KeyVault/vaults` at subscription or resource-group scope, paged
/// by `$top` in id order.
pub fn list(ctx: &Ctx, sub: &str, rg: Option<&str>) -> ArmResult {
    let cfg = &ctx.shared.config;
    let items: Vec<Vault> = ctx.shared.store.read(|st| {
        st.table::<Vault>()
            .values()
            .filter(|v| v.deleted.is_none() && v.subscription.eq_ignore_ascii_case(sub))
            .filter(|v| rg.is_none_or(|r| v.resource_group.eq_ignore_ascii_case(r)))
            .cloned()
            .collect()
    });
    list_reply(
        ctx,
        items,
        |v| v.id().to_ascii_lowercase(),
        |v| vault_json(cfg, v, ctx.shared.clock.now_ms()),
    )
}

pub fn find_deleted(ctx: &Ctx, sub: &str, loc: &str, name: &str) -> Result<Vault, ArmError> {
    let v = ctx
        .shared
        .store
        .read(|st| st.table::<Vault>().get(&name.to_ascii_lowercase()).cloned());
    match v {
        Some(v)
            if v.deleted.is_some()
                && v.subscription.eq_ignore_ascii_case(sub)
                && norm_location(&v.location) == norm_location(loc) =>
        {
            Ok(v)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}' was not found."
            ),
        )),
    }
}

pub fn purge(ctx: &Ctx, sub: &str, loc: &str, name: &str) -> ArmResult {
    let v = find_deleted(ctx, sub, loc, name)?;
    if v.props.purge_protected() {
        // As Azure answers it (az keyvault purge prints "(MethodNotAllowed) Operation
        // 'DeletedVaultPurge' is not allowed."); the vault stays soft-deleted.
        return Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "Operation 'DeletedVaultPurge' is not allowed. The vault '{name}' has purge protection enabled: it is purged automatically on its scheduled purge date."
            ),
        ));
    }
    // The vault is purged at once; the purge operation reports `NotStarted` for the profile's
    // time, then `Succeeded`, as Azure's does (202 + Location).
    let after = i64::try_from(ctx.shared.timing.durations().vault_purge_ms).unwrap_or(i64::MAX / 4);
    let now = ctx.shared.clock.now_ms();
    let stamp = crate::config::rfc3339_ms(now);
    let op = ctx.shared.store.write(|st| {
        purge_vault(st, &name.to_ascii_lowercase());
        (after > 0).then(|| {
            crate::arm::lro::start_reported(
                st,
                sub,
                &v.id(),
                after,
                Some("NotStarted"),
                json!({"createdDateTime": stamp, "lastActionDateTime": stamp, "status": "Succeeded"}),
                now,
            )
        })
    })?;
    Ok(match op {
        Some(op) => crate::arm::lro::accepted(&ctx.shared.config, &op, after),
        None => reply::empty(StatusCode::OK),
    })
}

pub fn vault(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg_in: &str,
    name: &str,
    on_deleted: ResourceCascade,
) -> ArmResult {
    let key = name.to_ascii_lowercase();
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let cfg = ctx.shared.config.clone();
    let same_place = |v: &Vault| {
        v.subscription.eq_ignore_ascii_case(sub) && v.resource_group.eq_ignore_ascii_case(&rg)
    };
    match ctx.method {
        Method::GET => {
            let v = ctx
                .shared
                .store
                .read(|st| st.table::<Vault>().get(&key).cloned());
            match v {
                Some(v) if v.deleted.is_none() && same_place(&v) => Ok(reply::json(
                    StatusCode::OK,
                    vault_json(&cfg, &v, ctx.shared.clock.now_ms()),
                )),
                _ => Err(vault_not_found(&rg, name)),
            }
        }
        Method::DELETE => {
            let r = ctx.shared.store.write(|st| {
                let id = match st.table::<Vault>().get(&key) {
                    Some(v) if v.deleted.is_none() && same_place(v) => v.id(),
                    _ => return false,
                };
                let deleted = soft_delete(st, &key, ctx.shared.clock.now_secs());
                if deleted {
                    // Its role assignments go with it; a recovery does not bring them back.
                    on_deleted(st, &id);
                }
                deleted
            })?;
            Ok(reply::empty(if r {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        Method::PUT => put(ctx, claims, sub, &rg, name),
        Method::PATCH => {
            let body = body_object(ctx)?;
            let props = opt_obj(&body, "properties", "properties")?
                .cloned()
                .unwrap_or_default();
            let tags = opt_tags(&body)?;
            let v = ctx
                .shared
                .store
                .try_write(|st| -> Result<Vault, ArmError> {
                    let cur = match st.table::<Vault>().get(&key) {
                        Some(v) if v.deleted.is_none() && same_place(v) => v.clone(),
                        _ => return Err(vault_not_found(&rg, name)),
                    };
                    let new_props = apply_props(&props, Some(&cur.props), false)?;
                    let v = st
                        .table_mut::<Vault>()
                        .get_mut(&key)
                        .ok_or_else(|| vault_not_found(&rg, name))?;
                    v.props = new_props;
                    if let Some(t) = tags {
                        v.tags = t;
                    }
                    v.updated = ctx.shared.clock.now_secs();
                    Ok(v.clone())
                })??;
            Ok(reply::json(
                StatusCode::OK,
                vault_json(&cfg, &v, ctx.shared.clock.now_ms()),
            ))
        }
        _ => Err(crate::arm::error::method_not_allowed(ctx)),
    }
}

/// Publishes `VaultAccessPolicyChanged` for `v`.
fn access_policy_changed(st: &mut crate::store::Tables, cfg: &crate::config::Config, v: &Vault) {
    crate::events::emit(
        st,
        &v.id(),
        &v.name,
        "Microsoft.KeyVault.VaultAccessPolicyChanged",
        v.updated,
        json!({"Id": cfg.vault_uri(&v.name), "VaultName": v.name.to_ascii_lowercase(),
               "ObjectType": "Vault", "ObjectName": v.name, "Version": null, "NBF": null, "EXP": null}),
    );
}

/// When a vault created now has its DNS name registered (unix ms).
fn dns_ready_ms(ctx: &Ctx) -> i64 {
    let wait = i64::try_from(ctx.shared.timing.durations().vault_dns_ms).unwrap_or(i64::MAX / 4);
    ctx.shared.clock.now_ms().saturating_add(wait)
}

pub fn put(ctx: &Ctx, claims: &Claims, sub: &str, rg: &str, name: &str) -> ArmResult {
    if !valid_vault_name(name) {
        return Err(invalid_name(name));
    }
    let body = body_object(ctx)?;
    let location = opt_str(&body, "location", "location")?.ok_or_else(|| {
        ArmError::bad(
            "LocationRequired",
            "The location property is required for this definition.",
        )
    })?;
    let props = opt_obj(&body, "properties", "properties")?
        .cloned()
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'properties' property is required."))?;
    let tags = opt_tags(&body)?;
    let recover = match opt_str(&props, "createMode", "properties.createMode")? {
        None => false,
        Some(m) if m.eq_ignore_ascii_case("default") => false,
        Some(m) if m.eq_ignore_ascii_case("recover") => true,
        Some(m) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The createMode '{m}' is invalid. Valid values are 'default' and 'recover'."
                ),
            ));
        }
    };
    let key = name.to_ascii_lowercase();
    let cfg = ctx.shared.config.clone();
    let caller = claims.oid.clone();
    let v = ctx.shared.store.try_write(|st| -> Result<Vault, ArmError> {
        let existing = st.table::<Vault>().get(&key).cloned();
        let now = ctx.shared.clock.now_secs();
        match existing {
            Some(e) if e.deleted.is_some() => {
                if !recover {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "ConflictError",
                        "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.",
                    ));
                }
                if !e.subscription.eq_ignore_ascii_case(sub) {
                    return Err(ArmError::new(StatusCode::CONFLICT, "VaultAlreadyExists", format!("The vault name '{name}' is already in use.")));
                }
                if norm_location(&e.location) != norm_location(&location) {
                    return Err(ArmError::bad("BadRequest", format!("The deleted vault '{name}' is in location '{}', not '{location}'.", e.location)));
                }
                let v = st.table_mut::<Vault>().get_mut(&key).ok_or_else(|| vault_not_found(rg, name))?;
                v.deleted = None;
                v.resource_group = rg.to_owned();
                if let Some(t) = tags {
                    v.tags = t;
                }
                v.updated = now;
                Ok(v.clone())
            }
            Some(e) => {
                if !e.subscription.eq_ignore_ascii_case(sub) || !e.resource_group.eq_ignore_ascii_case(rg) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "VaultAlreadyExists",
                        format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state."),
                    ));
                }
                if recover {
                    return Err(ArmError::new(StatusCode::CONFLICT, "ConflictError", format!("The vault '{name}' is not in a deleted state and cannot be recovered.")));
                }
                if norm_location(&e.location) != norm_location(&location) {
                    return Err(ArmError::bad("LocationNotAvailableForResourceType", format!("The vault '{name}' exists in location '{}'; its location cannot be changed.", e.location)));
                }
                let new_props = apply_props(&props, Some(&e.props), true)?;
                let v = st.table_mut::<Vault>().get_mut(&key).ok_or_else(|| vault_not_found(rg, name))?;
                v.props = new_props;
                v.tags = tags.unwrap_or_default();
                v.updated = now;
                Ok(v.clone())
            }
            None => {
                if recover {
                    return Err(ArmError::new(
                        StatusCode::NOT_FOUND,
                        "DeletedVaultNotFound",
                        format!("A deleted vault named '{name}' was not found in location '{location}', so it cannot be recovered."),
                    ));
                }
                let rbac = matches!(props.get("enableRbacAuthorization"), Some(Value::Bool(true)));
                if !rbac && !props.contains_key("accessPolicies") {
                    return Err(ArmError::bad(
                        "BadRequest",
                        "The parameter accessPolicies is not specified. Access policies are required unless the vault uses RBAC authorization or createMode is recover.",
                    ));
                }
                let props = apply_props(&props, None, true)?;
                let v = Vault {
                    name: name.to_owned(),
                    subscription: sub.to_owned(),
                    resource_group: rg.to_owned(),
                    location: location.clone(),
                    tags: tags.unwrap_or_default(),
                    props,
                    created_by: caller.clone(),
                    created: now,
                    updated: now,
                    deleted: None,
                    dns_ready_ms: dns_ready_ms(ctx),
                };
                st.table_mut::<Vault>().insert(key.clone(), v.clone());
                Ok(v)
            }
        }
    })??;
    // Azure answers a create 200 (not 201) with `RegisteringDns` while the name is registered
    // (the timing profile's `vault_dns_ms`); a client polls the vault's GET to `Succeeded`.
    Ok(reply::json(
        StatusCode::OK,
        vault_json(&cfg, &v, ctx.shared.clock.now_ms()),
    ))
}

pub fn merge_perm_lists(cur: &mut Vec<String>, add: &[String]) {
    for p in add {
        if !cur.iter().any(|c| c.eq_ignore_ascii_case(p)) {
            cur.push(p.clone());
        }
    }
}

pub fn remove_perm_list(cur: &mut Vec<String>, rm: &[String]) {
    cur.retain(|c| !rm.iter().any(|r| r.eq_ignore_ascii_case(c)));
}

pub fn access_policies(ctx: &Ctx, sub: &str, rg_in: &str, name: &str, kind: &str) -> ArmResult {
    if !matches!(kind, "add" | "replace" | "remove") {
        return Err(ArmError::bad(
            "BadRequest",
            format!(
                "The access policy operation kind '{kind}' is invalid. Valid values are 'add', 'replace' and 'remove'."
            ),
        ));
    }
    let body = body_object(ctx)?;
    let props = opt_obj(&body, "properties", "properties")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'properties' property is required."))?;
    let arr = opt_arr(props, "accessPolicies", "properties.accessPolicies")?.ok_or_else(|| {
        ArmError::bad(
            "BadRequest",
            "The 'properties.accessPolicies' property is required.",
        )
    })?;
    let policies = parse_policies(arr)?;
    let key = name.to_ascii_lowercase();
    let rg = rg_in.to_owned();
    let v = ctx
        .shared
        .store
        .try_write(|st| -> Result<Vault, ArmError> {
            let v = st.table_mut::<Vault>().get_mut(&key).filter(|v| {
                v.deleted.is_none()
                    && v.subscription.eq_ignore_ascii_case(sub)
                    && v.resource_group.eq_ignore_ascii_case(&rg)
            });
            let Some(v) = v else {
                return Err(vault_not_found(&rg, name));
            };
            for p in &policies {
                let pos = v.props.access_policies.iter().position(|e| {
                    e.object_id.eq_ignore_ascii_case(&p.object_id)
                        && e.tenant_id.eq_ignore_ascii_case(&p.tenant_id)
                        && e.application_id == p.application_id
                });
                match (kind, pos) {
                    ("add", Some(i)) => {
                        let e = &mut v.props.access_policies[i].permissions;
                        merge_perm_lists(&mut e.keys, &p.permissions.keys);
                        merge_perm_lists(&mut e.secrets, &p.permissions.secrets);
                        merge_perm_lists(&mut e.certificates, &p.permissions.certificates);
                        merge_perm_lists(&mut e.storage, &p.permissions.storage);
                    }
                    ("add" | "replace", None) => v.props.access_policies.push(p.clone()),
                    ("replace", Some(i)) => {
                        v.props.access_policies[i].permissions = p.permissions.clone()
                    }
                    ("remove", Some(i)) => {
                        let e = &mut v.props.access_policies[i].permissions;
                        let all_given = p.permissions == Permissions::default();
                        remove_perm_list(&mut e.keys, &p.permissions.keys);
                        remove_perm_list(&mut e.secrets, &p.permissions.secrets);
                        remove_perm_list(&mut e.certificates, &p.permissions.certificates);
                        remove_perm_list(&mut e.storage, &p.permissions.storage);
                        let empty = e.keys.is_empty()
                            && e.secrets.is_empty()
                            && e.certificates.is_empty()
                            && e.storage.is_empty();
                        if empty || all_given {
                            v.props.access_policies.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            if v.props.access_policies.len() > 1024 {
                return Err(ArmError::bad(
                    "AccessPolicyLimitExceeded",
                    "A vault can have at most 1024 access policies.",
                ));
            }
            v.updated = ctx.shared.clock.now_secs();
            let v = v.clone();
            access_policy_changed(st, &ctx.shared.config, &v);
            Ok(v)
        })??;
    Ok(reply::json(
        StatusCode::OK,
        json!({
            "id": format!("{}/accessPolicies/{kind}", v.id()),
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            // The vault's policies after the update (for `add` of a new principal this is a
            // superset of the request).
            "properties": {"accessPolicies": v.props.access_policies.iter().map(policy_json).collect::<Vec<_>>()},
        }),
    ))
}
