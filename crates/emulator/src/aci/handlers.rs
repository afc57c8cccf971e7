//! The `Microsoft.ContainerInstance/containerGroups` routes: PUT (a long-running operation
//! whose key access decides the outcome), GET, PATCH, DELETE, lists, restart / start
//! (long-running) and stop, container logs, and the provider's operation statuses.

use super::at_rest::{data_key, log_line, seal_containers, seal_settings, service_key};
use super::body::{self, IdentitySpec};
use super::cmk::{self};
use super::containers::valid_name;
use super::errors::{self, AciError, bad};
use super::network::{self, Place, region};
use super::operations::{self, Running};
use super::records::{ContainerGroupRecord, RESOURCE_TYPE, StoredEncryption, group_id, group_key};
use super::render::render_full;
use super::sealing::{DataKey, b64};
use crate::arm;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::{self, PageRequest};
use crate::arm::request::check_api_version;
use crate::context::Ctx;
use crate::reply;
use http::{Method, StatusCode};
use serde_json::json;

pub fn not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The Resource '{RESOURCE_TYPE}/{name}' under resource group '{rg}' was not found."),
    )
}

/// Routes `…/providers/Microsoft.ContainerInstance/{tail}`.
pub async fn handle(
    ctx: &Ctx,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
) -> ArmResult {
    if let (None, ["locations", _, "operations", _]) = (rg, tail) {
        return operations::handle(ctx, sub, &orig[3], super::api_versions::CONTAINER_GROUPS);
    }
    let api = check_api_version(ctx, RESOURCE_TYPE, super::api_versions::CONTAINER_GROUPS)?;
    let m = &ctx.method;
    match (rg, tail) {
        (_, ["containergroups"]) if m == Method::GET => list(ctx, sub, rg),
        (Some(rg), ["containergroups", _]) => {
            let name = &orig[1];
            match *m {
                Method::PUT => put(ctx, sub, rg, name, &api),
                Method::GET => get(ctx, sub, rg, name),
                Method::PATCH => patch(ctx, sub, rg, name),
                Method::DELETE => delete(ctx, sub, rg, name),
                _ => Err(arm::error::method_not_allowed(ctx)),
            }
        }
        (
            Some(rg),
            [
                "containergroups",
                _,
                action @ ("restart" | "stop" | "start"),
            ],
        ) if m == Method::POST => lifecycle(ctx, sub, rg, &orig[1], action),
        (Some(rg), ["containergroups", _, "containers", _, "logs"]) if m == Method::GET => {
            logs(ctx, sub, rg, &orig[1], &orig[3])
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The path '{}' is not emulated for namespace 'Microsoft.ContainerInstance'.",
                ctx.path
            ),
        )),
    }
}

/// `GET …/providers/Microsoft.ContainerInstance/containerGroups` at subscription or
/// resource-group scope, paged by `$top` in id order. The table's keys are the lower-cased ids,
/// so a page is read from the skiptoken on: it costs its own rows, however many groups exist.
pub fn list(ctx: &Ctx, sub: &str, rg: Option<&str>) -> ArmResult {
    let req = PageRequest::from_ctx(ctx)?;
    let page = ctx.shared.store.read(|st| {
        let rows = st
            .table::<ContainerGroupRecord>()
            .after(req.after.as_deref())
            .filter(|(_, g)| g.subscription.eq_ignore_ascii_case(sub))
            .filter(|(_, g)| rg.is_none_or(|r| g.resource_group.eq_ignore_ascii_case(r)));
        paging::cut_ordered(&req, rows)
    });
    // Lists carry no environment values: nothing to unwrap.
    Ok(reply::json(
        StatusCode::OK,
        serde_json::Value::Object(paging::body(ctx, page, |g| render_full(ctx, g, None))),
    ))
}

pub fn find(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<ContainerGroupRecord, ArmError> {
    let key = group_key(&group_id(sub, rg, name));
    ctx.shared
        .store
        .read(|st| st.table::<ContainerGroupRecord>().get(&key).cloned())
        .ok_or_else(|| not_found(rg, name))
}

pub fn check_identities(ctx: &Ctx, identity: Option<&IdentitySpec>) -> Result<(), AciError> {
    let Some(identity) = identity else {
        return Ok(());
    };
    for id in &identity.user_assigned {
        let exists = ctx
            .shared
            .store
            .read(|st| crate::managed_identity::find(st, id).is_some());
        if !exists {
            return Err(bad(
                errors::IDENTITY_NOT_FOUND,
                format!(
                    "The user-assigned identity '{id}' listed in identity.userAssignedIdentities does not exist."
                ),
            ));
        }
    }
    Ok(())
}

pub fn put(ctx: &Ctx, sub: &str, rg_in: &str, name: &str, api: &str) -> ArmResult {
    if !valid_name(name) {
        return Err(bad(
            "InvalidContainerGroupName",
            format!(
                "The container group name '{name}' is invalid: use 1 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
            ),
        ));
    }
    let rg = ctx
        .shared
        .store
        .read(|st| arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let id = group_id(sub, &rg, name);
    let aad = group_key(&id);
    let request = arm::request::body_object(ctx)?;
    let spec = body::parse(&request)?;
    cmk::check_rules(&spec, api)?;
    check_identities(ctx, spec.identity.as_ref())?;

    // A group whose provisioning failed holds no data key: a new PUT creates it afresh.
    let previous = ctx
        .shared
        .store
        .read(|st| st.table::<ContainerGroupRecord>().get(&aad).cloned())
        .filter(|p| p.provisioning_state != "Failed");
    if let Some(prev) = &previous {
        let same = match (&prev.encryption, &spec.encryption) {
            (Some(a), Some(b)) => a.same_as(b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                errors::ENCRYPTION_IMMUTABLE,
                format!(
                    "The encryption properties of container group '{name}' cannot change: delete the group and create it again with the new encryptionProperties."
                ),
            ));
        }
    }

    // The key: a new data key for a new group, the existing one for an update.
    let keyed: Result<(DataKey, String), AciError> = match (&spec.encryption, &previous) {
        (_, Some(prev)) => data_key(ctx, prev).map(|k| (k, prev.wrapped_key.clone())),
        (Some(enc), None) => ctx
            .shared
            .store
            .read(|st| cmk::key_access(&ctx.shared, st, enc))
            .and_then(|access| access.new_data_key(&ctx.shared))
            .map(|(k, wrapped)| (k, b64(&wrapped))),
        (None, None) => {
            let service = service_key(ctx)?;
            let key = DataKey::generate().map_err(|m| bad("InternalServerError", m))?;
            let wrapped = service
                .seal("service-key", key.bytes())
                .map_err(|m| bad("InternalServerError", m))?;
            Ok((key, wrapped))
        }
    };

    let now = ctx.shared.clock.now_ms();
    let provisioning_ms = ctx.shared.timing.aci_provisioning_ms();
    let (key, wrapped_key, provisioning_state, error) = match keyed {
        Ok((key, wrapped)) => (Some(key), wrapped, "Succeeded", None),
        // Key access failures fail the provisioning, as ACI reports them: the group exists in
        // state Failed with the error, and a PUT after fixing the access tries again.
        Err(e) if previous.is_none() && spec.encryption.is_some() && is_key_error(&e) => (
            None,
            String::new(),
            "Failed",
            Some(json!({"code": e.code, "message": e.message})),
        ),
        Err(e) => return Err(e),
    };
    let containers = match &key {
        Some(k) => seal_containers(k, &aad, &spec, previous.as_ref(), ctx.shared.clock.now())?,
        None => Vec::new(),
    };
    let settings = seal_settings(key.as_ref(), &aad, &spec.settings)?;
    let ip_address = spec.ip_address.clone().map(|mut ip| {
        network::assign(
            &mut ip,
            &aad,
            Place {
                tenant: ctx.shared.config.tenant(),
                subscription: sub,
                resource_group: &rg,
                name,
                location: &spec.location,
            },
        );
        ip
    });
    let record = ContainerGroupRecord {
        id: id.clone(),
        subscription: sub.to_owned(),
        resource_group: rg.clone(),
        name: name.to_owned(),
        location: spec.location.clone(),
        tags: spec.tags.clone(),
        zones: spec.zones.clone(),
        identity_type: spec.identity.as_ref().map(|i| i.kind.clone()),
        user_assigned: spec
            .identity
            .as_ref()
            .map(|i| i.user_assigned.clone())
            .unwrap_or_default(),
        system_principal_id: spec
            .identity
            .as_ref()
            .filter(|i| i.has_system_assigned())
            .map(|_| {
                previous
                    .as_ref()
                    .and_then(|p| p.system_principal_id.clone())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            }),
        sku: spec.sku.clone().unwrap_or_else(|| "Standard".to_owned()),
        os_type: spec.os_type.clone(),
        restart_policy: spec.restart_policy.clone(),
        ip_address,
        containers,
        encryption: spec.encryption.as_ref().map(StoredEncryption::from_spec),
        wrapped_key,
        provisioning_state: provisioning_state.to_owned(),
        ready_at_ms: now.saturating_add(provisioning_ms),
        pending_state: None,
        state: if provisioning_state == "Succeeded" {
            "Running".to_owned()
        } else {
            "Pending".to_owned()
        },
        error: error.clone(),
        api_version: api.to_owned(),
        settings,
    };
    let op = ctx.shared.store.write(|st| {
        st.table_mut::<ContainerGroupRecord>()
            .insert(aad.clone(), record.clone());
        operations::start(
            st,
            sub,
            &id,
            provisioning_ms,
            Running::Pending,
            (provisioning_state, error.clone()),
            ctx.shared.clock.now_ms(),
        )
    })?;
    let status = if previous.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    // The answer echoes what was sent (plain values included), as Azure's does.
    let mut response = reply::json(status, render_full(ctx, &record, key.as_ref()));
    // When the operation is already over, the response is its terminal state: nothing to poll.
    // Otherwise ACI's own status URL, and ARM's `Location` for clients that follow that.
    if provisioning_ms > 0 {
        operations::add_polling_headers(&mut response, &ctx.shared.config, &op, &record.location);
        reply::set_header(
            &mut response,
            "location",
            &arm::lro::result_url(&ctx.shared.config, &op),
        );
    }
    Ok(response)
}

pub fn is_key_error(e: &AciError) -> bool {
    [
        errors::KEY_VAULT_NOT_FOUND,
        errors::KEY_NOT_FOUND,
        errors::KEY_NOT_USABLE,
        errors::ACI_PRINCIPAL_NOT_FOUND,
        errors::KEY_VAULT_ACCESS_DENIED,
        errors::KEY_VAULT_FIREWALL,
        "KeyVaultError",
    ]
    .contains(&e.code.as_str())
}

pub fn get(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    // Environment values are shown only when the data key can be unwrapped now.
    let key = if g.provisioning_state == "Failed" {
        Err(None)
    } else {
        data_key(ctx, &g).map_err(Some)
    };
    let body = match &key {
        Ok(k) => render_full(ctx, &g, Some(k)),
        Err(e) => {
            let mut v = render_full(ctx, &g, None);
            if let Some(e) = e
                && let Some(events) = v["properties"]["instanceView"]["events"].as_array_mut()
            {
                events.push(json!({"name": "EncryptionKeyUnavailable", "type": "Warning", "count": 1, "message": e.message}));
            }
            v
        }
    };
    Ok(reply::json(StatusCode::OK, body))
}

/// `PATCH` a group: its tags. The body may carry the group's own `location` (the .NET SDK
/// always sends it), compared as Azure compares locations (`East US` is `eastus`); another
/// location is refused.
pub fn patch(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let request = arm::request::body_object(ctx)?;
    if request.keys().any(|k| k != "tags" && k != "location") {
        return Err(bad(
            "InvalidRequestContent",
            "A PATCH of a container group may only change its tags (and name its own location).",
        ));
    }
    let location = match request.get("location") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(l)) => Some(l.as_str()),
        Some(_) => {
            return Err(bad(
                "InvalidRequestContent",
                "The request content was invalid: 'location' must be a string.",
            ));
        }
    };
    let tags = arm::request::opt_tags(&request)?;
    let current = find(ctx, sub, rg, name)?;
    if let Some(l) = location
        && region(l) != region(&current.location)
    {
        // ACI's own code for this is in no recording; this is ARM's for a resource addressed
        // in a location other than its own.
        return Err(bad(
            errors::LOCATION_MISMATCH,
            format!(
                "The resource '{name}' already exists in location '{}' in resource group '{rg}'. A container group cannot be moved to location '{l}' by a PATCH.",
                region(&current.location)
            ),
        ));
    }
    let key = group_key(&current.id);
    let updated = ctx.shared.store.write(|st| {
        let g = st.table_mut::<ContainerGroupRecord>().get_mut(&key)?;
        if let Some(tags) = tags {
            g.tags = tags;
        }
        Some(g.clone())
    })?;
    let g = updated.ok_or_else(|| not_found(rg, name))?;
    Ok(reply::json(StatusCode::OK, render_full(ctx, &g, None)))
}

pub fn delete(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let key = group_key(&group_id(sub, rg, name));
    let gone = ctx
        .shared
        .store
        .write(|st| st.table_mut::<ContainerGroupRecord>().remove(&key))?;
    match gone {
        Some(g) => Ok(reply::json(StatusCode::OK, render_full(ctx, &g, None))),
        None => Ok(reply::empty(StatusCode::NO_CONTENT)),
    }
}

/// `POST …/restart|stop|start`. Stop is synchronous (204). Start and restart are long-running,
/// as on Azure: 204 with ACI's `Azure-AsyncOperation` while the group is `Pending` (start) or
/// `Updating` (restart) for the timing profile's `aci_start_ms` / `aci_restart_ms`; when the
/// profile finishes them at once, 204 without a header, the group already running.
pub fn lifecycle(ctx: &Ctx, sub: &str, rg: &str, name: &str, action: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    if g.provisioning_state == "Failed" {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "ContainerGroupFailed",
            format!(
                "Container group '{name}' failed to provision and cannot {action}: fix the error and PUT it again."
            ),
        ));
    }
    let key = data_key(ctx, &g)?;
    let aad = group_key(&g.id);
    let now = ctx.shared.clock.now_ms();
    let durations = ctx.shared.timing.durations();
    let (after_ms, running) = match action {
        "restart" => (durations.aci_restart_ms, Some(Running::Updating)),
        "start" => (durations.aci_start_ms, Some(Running::Pending)),
        _ => (0, None),
    };
    let after_ms = i64::try_from(after_ms).unwrap_or(i64::MAX);
    let mut updated = g.clone();
    for c in &mut updated.containers {
        let line = match action {
            "restart" => {
                c.restart_count += 1;
                format!(
                    "container {} restarted (restart {})",
                    c.name, c.restart_count
                )
            }
            "stop" => format!("container {} stopped", c.name),
            _ => format!("container {} started from image {}", c.name, c.image),
        };
        c.sealed_logs
            .push(log_line(&key, &aad, &line, ctx.shared.clock.now())?);
    }
    match running {
        // The containers run again once the operation ends; meanwhile the group shows it.
        Some(r) => {
            updated.state = "Running".to_owned();
            updated.ready_at_ms = now.saturating_add(after_ms);
            updated.pending_state = (r == Running::Updating).then(|| r.as_str().to_owned());
        }
        None => {
            updated.state = "Stopped".to_owned();
            updated.ready_at_ms = updated.ready_at_ms.min(now);
            updated.pending_state = None;
        }
    }
    let op = ctx.shared.store.write(|st| {
        st.table_mut::<ContainerGroupRecord>()
            .insert(aad.clone(), updated);
        running
            .filter(|_| after_ms > 0)
            .map(|r| operations::start(st, sub, &g.id, after_ms, r, ("Succeeded", None), now))
    })?;
    let mut response = reply::empty(StatusCode::NO_CONTENT);
    if let Some(op) = &op {
        operations::add_polling_headers(&mut response, &ctx.shared.config, op, &g.location);
    }
    Ok(response)
}

pub fn logs(ctx: &Ctx, sub: &str, rg: &str, name: &str, container: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    let c = g
        .containers
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(container))
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "ContainerNotFound",
                format!("Container '{container}' was not found in container group '{name}'."),
            )
        })?;
    let key = data_key(ctx, &g)?;
    let aad = group_key(&g.id);
    let mut lines = c
        .sealed_logs
        .iter()
        .map(|s| {
            key.open_string(&aad, s)
                .map_err(|m| bad("InternalServerError", m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timestamps = ctx
        .q("timestamps")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !timestamps {
        lines = lines
            .into_iter()
            .map(|l| {
                l.split_once(' ')
                    .map(|(_, rest)| rest.to_owned())
                    .unwrap_or(l)
            })
            .collect();
    }
    if let Some(tail) = ctx.q("tail") {
        let n: usize = tail.parse().map_err(|_| {
            bad(
                "InvalidParameter",
                format!("tail '{tail}' is not a number of lines."),
            )
        })?;
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut content = lines.join("\n");
    if !content.is_empty() {
        content.push('\n');
    }
    Ok(reply::json(StatusCode::OK, json!({ "content": content })))
}
