//! A container group as ACI answers it: secure values and other secrets never, plain values
//! once unsealed, stored settings as sent, container states, the address, and the identity
//! block; and the groups as the generic resource list shows them.

use super::network;
use super::records::{ContainerGroupRecord, RESOURCE_TYPE, StoredSettings, group_key};
use super::sealing::DataKey;
use super::settings;
use crate::arm::generic_resources::{GenericResource, ListScope};
use crate::config::rfc3339_secs;
use crate::context::Ctx;
use crate::store::Tables;
use serde_json::{Value, json};

/// The stored settings as an answer shows them: the clear part, and with `key` the parts
/// shown once opened. Secrets are never opened.
fn open_settings(
    s: &StoredSettings,
    key: Option<&DataKey>,
    aad: &str,
) -> serde_json::Map<String, Value> {
    let mut out = s.clear.clone();
    if let (Some(sealed), Some(k)) = (&s.sealed_shown, key)
        && let Ok(text) = k.open_string(aad, sealed)
        && let Ok(Value::Object(parts)) = serde_json::from_str::<Value>(&text)
    {
        settings::restore(&mut out, parts);
    }
    out
}

/// Inserts every entry of `from` into the object `into`.
fn merge(into: &mut Value, from: serde_json::Map<String, Value>) {
    if let Some(o) = into.as_object_mut() {
        o.extend(from);
    }
}

/// A container's instance view in a group whose state is `group_state` and whose containers
/// have run since `running_since_ms`, as Azure shows it: a running container's current state
/// with its `startTime` and an empty `detailStatus`, a waiting one's state; none in a stopped
/// group (its containers are gone). `restartCount` counts restarts by the restart policy,
/// which never happen here (containers do not exit; a group restart starts them afresh).
fn container_view(group_state: &str, running_since_ms: i64) -> Option<Value> {
    let current = match group_state {
        "Running" => json!({
            "state": "Running",
            "startTime": rfc3339_secs(running_since_ms.div_euclid(1000)),
            "detailStatus": "",
        }),
        "Stopped" => return None,
        _ => json!({"state": "Waiting"}),
    };
    Some(json!({"restartCount": 0, "currentState": current, "events": []}))
}

/// The group as ARM shows it. With `key`, plain environment values, commands and the shown
/// parts of the stored settings are opened; secure values and secrets are never returned.
pub fn render(g: &ContainerGroupRecord, key: Option<&DataKey>, now: i64) -> Value {
    let aad = group_key(&g.id);
    let pending = now < g.ready_at_ms;
    let provisioning = if pending {
        g.pending_state.as_deref().unwrap_or("Pending")
    } else {
        g.provisioning_state.as_str()
    };
    let group_state = if pending || g.provisioning_state == "Failed" {
        "Pending"
    } else {
        g.state.as_str()
    };
    let containers: Vec<Value> = g
        .containers
        .iter()
        .map(|c| {
            let env: Vec<Value> = c
                .env
                .iter()
                .map(|e| {
                    let value = (!e.secure)
                        .then(|| key.and_then(|k| k.open_string(&aad, &e.sealed_value).ok()))
                        .flatten();
                    match value {
                        Some(v) => json!({"name": e.name, "value": v}),
                        None => json!({"name": e.name}),
                    }
                })
                .collect();
            let mut props = json!({
                "image": c.image,
                "resources": c.resources,
                "ports": c.ports,
                "environmentVariables": env,
            });
            if let Some(view) = container_view(group_state, g.ready_at_ms) {
                props["instanceView"] = view;
            }
            if let (Some(sealed), Some(k)) = (&c.sealed_command, key)
                && let Ok(cmd) = k.open_string(&aad, sealed)
                && let Ok(cmd) = serde_json::from_str::<Value>(&cmd)
            {
                props["command"] = cmd;
            }
            merge(&mut props, open_settings(&c.settings, key, &aad));
            json!({"name": c.name, "properties": props})
        })
        .collect();
    let mut properties = json!({
        "provisioningState": provisioning,
        "sku": g.sku,
        "osType": g.os_type,
        "restartPolicy": g.restart_policy,
        "containers": containers,
        "instanceView": {"state": group_state, "events": []},
    });
    merge(&mut properties, open_settings(&g.settings, key, &aad));
    if let Some(ip) = &g.ip_address {
        let mut ip = ip.clone();
        // Groups stored before addresses were assigned at PUT get theirs here.
        if ip.get("ip").is_none() {
            ip["ip"] = json!(if ip["type"] == "Public" {
                network::public_ip(&aad)
            } else {
                network::PRIVATE_IP.to_owned()
            });
        }
        properties["ipAddress"] = ip;
    }
    if let Some(e) = &g.encryption {
        let mut enc = json!({
            "vaultBaseUrl": format!("{}/", e.vault_base_url.trim_end_matches('/')),
            "keyName": e.key_name,
            "keyVersion": e.key_version,
        });
        if let Some(i) = &e.identity {
            enc["identity"] = json!(i);
        }
        properties["encryptionProperties"] = enc;
    }
    if let (false, Some(err)) = (pending, &g.error) {
        properties["error"] = err.clone();
        properties["instanceView"]["events"] =
            json!([{"name": "Failed", "type": "Warning", "count": 1, "message": err["message"]}]);
    }
    let mut out = json!({
        "id": g.id,
        "name": g.name,
        "type": RESOURCE_TYPE,
        "location": g.location,
        "tags": g.tags,
        "properties": properties,
    });
    if !g.zones.is_empty() {
        out["zones"] = json!(g.zones);
    }
    if let Some(identity) = identity_block(g) {
        out["identity"] = identity;
    }
    out
}

/// The group's `identity` block before [`fill_identities`] (tenant and ids not filled in).
fn identity_block(g: &ContainerGroupRecord) -> Option<Value> {
    let kind = g.identity_type.as_ref()?;
    let mut identity = json!({"type": kind, "tenantId": null});
    if !g.user_assigned.is_empty() {
        let map: serde_json::Map<String, Value> = g
            .user_assigned
            .iter()
            .map(|id| (id.clone(), json!({})))
            .collect();
        identity["userAssignedIdentities"] = Value::Object(map);
    }
    if let Some(p) = &g.system_principal_id {
        identity["principalId"] = json!(p);
    }
    Some(identity)
}

/// The container groups of a subscription, as the generic resource list shows them (with
/// their identity block).
pub fn generic_resources(st: &Tables, scope: &ListScope<'_>) -> Vec<GenericResource> {
    st.table::<ContainerGroupRecord>()
        .values()
        .filter(|g| g.subscription.eq_ignore_ascii_case(scope.subscription))
        .map(|g| {
            let identity = identity_block(g).map(|block| {
                let mut v = json!({ "identity": block });
                fill_identities(st, &mut v, scope.tenant);
                v["identity"].take()
            });
            GenericResource {
                id: g.id.clone(),
                name: g.name.clone(),
                resource_type: RESOURCE_TYPE.to_owned(),
                resource_group: g.resource_group.clone(),
                location: g.location.clone(),
                tags: g.tags.clone(),
                identity,
                ..GenericResource::default()
            }
        })
        .collect()
}

/// [`render`] with the identity block filled in.
pub fn render_full(ctx: &Ctx, g: &ContainerGroupRecord, key: Option<&DataKey>) -> Value {
    let mut v = render(g, key, ctx.shared.clock.now_ms());
    let tenant = ctx.shared.config.tenant().to_owned();
    ctx.shared
        .store
        .read(|st| fill_identities(st, &mut v, &tenant));
    v
}

/// Fills the identity block of a rendered group with principal and client ids.
pub fn fill_identities(st: &Tables, v: &mut Value, tenant: &str) {
    if let Some(identity) = v.get_mut("identity") {
        identity["tenantId"] = json!(tenant);
        if let Some(map) = identity
            .get_mut("userAssignedIdentities")
            .and_then(Value::as_object_mut)
        {
            for (id, entry) in map.iter_mut() {
                if let Some(i) = crate::managed_identity::find(st, id) {
                    *entry = json!({"principalId": i.principal_id, "clientId": i.client_id});
                }
            }
        }
    }
}
