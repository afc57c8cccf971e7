//! The group step: re-create a container group — onto a newer key version, under a
//! customer-managed key, listing its encryption identity, or reaching its key as a new
//! user-assigned identity — through the orchestrator's
//! [`recreate_container_group`](aci_cmk_encrypted_deployment::Orchestrator::recreate_container_group).
//!
//! The new group keeps what the old one had: its containers (images, commands, ports,
//! resources, environment), restart policy, OS, sku, address type, ports and DNS label, tags,
//! zones and user-assigned identities. What Azure does not return cannot be kept, so a group
//! is never re-created from what it reads when that is incomplete: a secure value (Azure never
//! returns one) or a definition its unusable key keeps sealed needs the group's spec
//! ([`RemediationOptions::group_specs`](super::RemediationOptions::group_specs)); a
//! system-assigned identity (its principal id would change) or a property this SDK does not
//! model (a volume, a subnet, registry credentials) is refused outright.

use super::{
    access::{grant_unwrap, kind_of},
    error::StepError,
    plan::{GroupChanges, VersionTarget},
    step_context::StepCx,
};
use crate::{
    checks::key_version::newest_usable_until, findings::evidence::GroupRef, inventory::KeyState,
};
use aci_cmk_aci::models::{
    ContainerGroup, ContainerGroupIdentity, EncryptionProperties, IdentityType,
};
use aci_cmk_core::{
    ResponseIds,
    key_id::VaultUrl,
    names::{ContainerGroupName, IdentityName, KeyName, KeyVersion, Location},
    resource_id::ResourceId,
};
use aci_cmk_encrypted_deployment::{Orchestrator, spec::ContainerGroupSpec};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;

/// Read-only properties a response carries that a re-created group does not need.
const READ_ONLY: &[&str] = &[
    "error",
    "events",
    "isCustomProvisioningTimeout",
    "provisioningTimeoutInSeconds",
];

/// The event the service puts in a group's instance view when it cannot unwrap the group's
/// data key: what it returns of the group is then what it could read without it.
const KEY_UNAVAILABLE: &str = "EncryptionKeyUnavailable";

/// Where groups without a customer-managed key move, once resolved.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedTarget {
    /// The encryption they get.
    pub encryption: EncryptionProperties,
}

/// What a group step is asked to do.
pub(crate) struct GroupWork<'a> {
    pub group: &'a GroupRef,
    pub changes: &'a GroupChanges,
    pub spec: Option<&'a ContainerGroupSpec>,
    pub target: Option<&'a ResolvedTarget>,
    pub orchestrator: &'a Orchestrator,
}

/// The names of `unmodelled` properties that carry something.
fn carried(unmodelled: &BTreeMap<String, Value>) -> Vec<String> {
    unmodelled
        .iter()
        .filter(|(k, v)| {
            !READ_ONLY.contains(&k.as_str())
                && !matches!(v, Value::Null)
                && !v.as_array().is_some_and(Vec::is_empty)
                && !v.as_object().is_some_and(|o| o.is_empty())
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Why `existing` cannot be re-created automatically at all, if it cannot.
fn not_recreatable(existing: &ContainerGroup) -> Option<String> {
    if let Some(identity) = &existing.identity
        && matches!(
            identity.kind,
            IdentityType::SystemAssigned | IdentityType::SystemAndUserAssigned
        )
    {
        return Some(
            "it has a system-assigned identity, whose principal id (and role assignments) a re-created group would not keep".into(),
        );
    }
    let mut names = carried(&existing.properties.unmodelled);
    for c in &existing.properties.containers {
        names.extend(
            carried(&c.properties.unmodelled)
                .into_iter()
                .map(|n| format!("{}.{n}", c.name)),
        );
    }
    (!names.is_empty()).then(|| {
        format!(
            "it has properties this SDK does not model ({}): a group re-created from what was read would lack them",
            names.join(", ")
        )
    })
}

/// Why what was read of `existing` is not all of it, if it is not: then only a spec can
/// re-create it.
fn incomplete(existing: &ContainerGroup) -> Option<String> {
    for c in &existing.properties.containers {
        if let Some(v) = c
            .properties
            .environment_variables
            .iter()
            .find(|v| v.value.is_none())
        {
            return Some(format!(
                "{}'s {} is a secure value, which Azure never returns",
                c.name, v.name
            ));
        }
    }
    let unavailable = existing.properties.instance_view.as_ref().is_some_and(|v| {
        v.events
            .iter()
            .any(|e| e.name.as_deref() == Some(KEY_UNAVAILABLE))
    });
    unavailable.then(|| {
        "its key is out of the service's reach, so what it returns of the group (plain values, commands) may be incomplete".to_owned()
    })
}

/// The body of the group as read, to send again: what the model carries, without what only a
/// response has (its address, its state).
fn as_read(existing: &ContainerGroup) -> ContainerGroup {
    let mut want = existing.clone();
    if let Some(ip) = &mut want.properties.ip_address {
        ip.ip = None;
        ip.fqdn = None;
    }
    want
}

/// The user-assigned identities of `group`, by id.
fn user_assigned(group: &ContainerGroup) -> Vec<ResourceId> {
    group
        .identity
        .as_ref()
        .filter(|i| i.kind.includes_user_assigned())
        .map(|i| {
            i.user_assigned_identities
                .keys()
                .filter_map(|k| k.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The newest usable version of `key` in `vault` now, not expiring within `target`'s window.
async fn newest_version(
    cx: &StepCx<'_>,
    vault: &VaultUrl,
    key: &KeyName,
    target: &VersionTarget,
) -> Result<KeyVersion, StepError> {
    let b = cx.backends;
    let label = format!("{}/{key}", vault.vault_name());
    let (latest, versions) = futures::join!(
        b.keys.get_key(vault, key, None, cx.call()),
        b.keys.list_key_versions(vault, key, cx.call())
    );
    let state = KeyState {
        latest: Some(latest.map_err(StepError::client(format!("read key {label}")))?),
        versions: Some(versions.map_err(StepError::client(format!(
            "list the versions of key {label}"
        )))?),
        ..KeyState::default()
    };
    let horizon = target
        .beyond_days
        .map(|d| cx.now + Duration::days(i64::from(d)));
    newest_usable_until(&state, cx.now, horizon)
        .map(|v| v.version.clone())
        .ok_or_else(|| StepError::NoUsableVersion {
            key: label,
            beyond: target
                .beyond_days
                .map(|d| format!(" that does not expire within {d} days"))
                .unwrap_or_default(),
        })
}

/// The encryption identity `name` in the group's resource group: read, or created.
async fn ensure_identity(
    cx: &mut StepCx<'_>,
    group: &GroupRef,
    name: &str,
    location: &Location,
) -> Result<(ResourceId, Option<aci_cmk_core::names::PrincipalId>), StepError> {
    let b = cx.backends;
    let name: IdentityName = name
        .parse()
        .map_err(|e| StepError::Changed(format!("identity name {name}: {e}")))?;
    let rg = group.resource_group.clone();
    match b.identities.get(&rg, &name, cx.call()).await {
        Ok(found) => return Ok((found.id, Some(found.principal_id))),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(StepError::client(format!("read identity {name}"))(e)),
    }
    let id = ResourceId::resource(
        group.id.subscription_id(),
        &rg,
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities",
        name.as_str(),
    )
    .map_err(|e| StepError::Changed(format!("identity {name}: {e}")))?;
    let options = cx.call();
    let (n, l) = (name.clone(), location.clone());
    let created = cx
        .write(
            format!("create user-assigned identity {name} in {rg}"),
            async move {
                b.identities
                    .create_or_update(&rg, &n, &l, &BTreeMap::new(), options)
                    .await
            },
            StepError::client(format!("create identity {name}")),
        )
        .await?;
    Ok((id, created.map(|c| c.principal_id)))
}

/// Carries out a group step; the ids of its writes are added to `write_ids`.
pub(crate) async fn recreate(
    cx: &mut StepCx<'_>,
    work: GroupWork<'_>,
    write_ids: &mut Vec<ResponseIds>,
) -> Result<(), StepError> {
    let b = cx.backends;
    let group = work.group;
    let name: ContainerGroupName = group
        .name
        .parse()
        .map_err(|e| StepError::Changed(format!("group name {}: {e}", group.name)))?;
    let existing = b
        .container_groups
        .get(&group.resource_group, &name, cx.call())
        .await
        .map_err(StepError::groups(format!("read container group {name}")))?;
    let refuse = |why: String| StepError::NotRecreatable {
        group: group.name.clone(),
        why,
    };
    if let Some(why) = not_recreatable(&existing) {
        return Err(refuse(why));
    }
    let location: Location = existing
        .location
        .parse()
        .map_err(|e| StepError::Changed(format!("group location {}: {e}", existing.location)))?;
    let mut want = match work.spec {
        Some(spec) => {
            if !spec.name.as_str().eq_ignore_ascii_case(&group.name) {
                return Err(StepError::Changed(format!(
                    "the spec given for container group {} names group {}",
                    group.name, spec.name
                )));
            }
            let mut want = spec.to_container_group(&location, &existing.tags);
            want.zones = existing.zones.clone();
            want
        }
        None => {
            if let Some(why) = incomplete(&existing) {
                return Err(StepError::NeedsGroupSpec {
                    group: group.name.clone(),
                    why,
                });
            }
            as_read(&existing)
        }
    };

    // The encryption: the target's, or the group's own, at the version it moves onto.
    let mut identities: Vec<ResourceId> = user_assigned(&existing);
    let mut encryption = if work.changes.under_cmk {
        let target = work.target.ok_or_else(|| {
            StepError::Changed("no customer-managed key target was resolved".into())
        })?;
        target.encryption.clone()
    } else {
        existing
            .properties
            .encryption_properties
            .clone()
            .ok_or_else(|| {
                StepError::Changed(format!(
                    "container group {name} has no customer-managed key any more"
                ))
            })?
    };
    let vault: VaultUrl = encryption.vault_base_url.parse().map_err(|e| {
        StepError::Changed(format!("vaultBaseUrl {}: {e}", encryption.vault_base_url))
    })?;
    let key: KeyName = encryption
        .key_name
        .parse()
        .map_err(|e| StepError::Changed(format!("keyName {}: {e}", encryption.key_name)))?;
    if let Some(target) = &work.changes.key_version {
        let version = newest_version(cx, &vault, &key, target).await?;
        encryption.key_version = version.to_string();
    }
    if let Some(id) = &work.changes.list_identity {
        identities.push(id.clone());
    }
    if let Some(new) = &work.changes.new_identity {
        let (id, principal) = ensure_identity(cx, group, new, &location).await?;
        let vaults = b
            .vaults
            .list(cx.call())
            .await
            .map_err(StepError::client("list the subscription's vaults"))?;
        let found = vaults
            .iter()
            .find(|v| {
                v.name
                    .as_str()
                    .eq_ignore_ascii_case(vault.vault_name().as_str())
            })
            .ok_or_else(|| {
                StepError::Changed(format!(
                    "vault {} is not among the subscription's vaults",
                    vault.vault_name()
                ))
            })?;
        let who = format!("identity {}", id.name());
        grant_unwrap(cx, found, &key, principal.as_ref(), &who, kind_of(found)).await?;
        encryption.identity = Some(id.to_string());
        identities.push(id);
    }
    if let Some(id) = encryption.identity.as_deref().and_then(|i| i.parse().ok()) {
        identities.push(id);
    }
    let mut seen = BTreeSet::new();
    identities.retain(|i| seen.insert(i.as_str().to_ascii_lowercase()));
    want.identity =
        (!identities.is_empty()).then(|| ContainerGroupIdentity::user_assigned(&identities));
    want.properties.encryption_properties = Some(encryption.clone());

    let unchanged = !work.changes.from_spec
        && existing
            .properties
            .encryption_properties
            .as_ref()
            .is_some_and(|e| e.same_as(&encryption))
        && {
            let mut had: Vec<String> = user_assigned(&existing)
                .iter()
                .map(|i| i.as_str().to_ascii_lowercase())
                .collect();
            had.sort();
            let mut now: Vec<String> = seen.into_iter().collect();
            now.sort();
            had == now
        };
    if unchanged {
        return Ok(());
    }
    let identity_text = match &encryption.identity {
        Some(i) => format!(
            " as identity {}",
            i.rsplit('/').next().unwrap_or(i.as_str())
        ),
        None => " as the ACI first-party principal".to_owned(),
    };
    let source = if work.changes.from_spec {
        "from its spec"
    } else {
        "from what was read"
    };
    let orchestrator = work.orchestrator;
    let (run, part) = (cx.run.to_owned(), cx.part.clone());
    let rg = group.resource_group.clone();
    let done = cx
        .write(
            format!(
                "delete and re-create container group {name} {source}: key {}/{} version {}{identity_text}",
                vault.vault_name(),
                key,
                encryption.key_version
            ),
            async move {
                orchestrator
                    .recreate_container_group(&rg, &name, &existing, &want, &run, &part)
                    .await
            },
            |source| StepError::Orchestrator {
                what: format!("re-create container group {}", group.name),
                source: Box::new(source),
            },
        )
        .await?;
    if let Some(done) = done {
        write_ids.extend(done.write_ids);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(json: serde_json::Value) -> ContainerGroup {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "location": "westeurope",
            "properties": {
                "osType": "Linux",
                "containers": [{"name": "app", "properties": {
                    "image": "nginx",
                    "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.5}},
                    "environmentVariables": [{"name": "LOG_LEVEL", "value": "info"}]
                }}],
                "ipAddress": {"type": "Public", "ip": "20.1.2.3", "ports": [{"port": 80}]},
                "isCustomProvisioningTimeout": false,
                "initContainers": []
            }
        })
    }

    #[test]
    fn a_whole_definition_is_re_created_as_read_without_its_address() {
        let g = group(base());
        assert_eq!(not_recreatable(&g), None);
        assert_eq!(incomplete(&g), None);
        let want = as_read(&g);
        let ip = want.properties.ip_address.unwrap_or_default();
        assert_eq!((ip.ip, ip.ports.len()), (None, 1));
    }

    #[test]
    fn a_system_identity_or_an_unmodelled_property_is_refused() {
        let mut system = base();
        system["identity"] = serde_json::json!({"type": "SystemAssigned", "principalId": "p"});
        assert!(not_recreatable(&group(system)).is_some_and(|why| why.contains("system-assigned")));
        let mut volumes = base();
        volumes["properties"]["volumes"] = serde_json::json!([{"name": "v", "emptyDir": {}}]);
        volumes["properties"]["containers"][0]["properties"]["volumeMounts"] =
            serde_json::json!([{"name": "v", "mountPath": "/d"}]);
        let why = not_recreatable(&group(volumes)).unwrap_or_default();
        assert!(
            why.contains("volumes") && why.contains("app.volumeMounts"),
            "{why}"
        );
    }

    #[test]
    fn a_secure_value_or_a_sealed_definition_needs_the_spec() {
        let mut secure = base();
        secure["properties"]["containers"][0]["properties"]["environmentVariables"] =
            serde_json::json!([{"name": "DB_PASSWORD"}]);
        assert!(incomplete(&group(secure)).is_some_and(|why| why.contains("DB_PASSWORD")));
        let mut sealed = base();
        sealed["properties"]["instanceView"] = serde_json::json!({
            "state": "Pending",
            "events": [{"name": KEY_UNAVAILABLE, "type": "Warning", "count": 1, "message": "m"}]
        });
        assert!(incomplete(&group(sealed)).is_some());
    }
}
