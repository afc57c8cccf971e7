//! A group's data at rest: its data key (unwrapped through the vault for a customer-managed
//! key — kept in [`super::data_key_cache`] while nothing that could revoke it changed — or the
//! service key), and environment values, commands, log lines and the sealed parts
//! of its stored settings sealed under it.

use super::body::GroupSpec;
use super::cmk::{self};
use super::data_key_cache::Validity;
use super::errors::{AciError, bad};
use super::records::{
    ContainerGroupRecord, ContainerRecord, SealedEnv, ServiceKey, StoredSettings, group_key,
};
use super::sealing::{DataKey, b64, unb64};
use super::settings::Settings;
use crate::config::rfc3339;
use crate::context::Ctx;
use crate::keyvault_data::records::{KeyRecord, key_id};

/// The data key of a stored group: unwrapped through the vault as the acting principal, or
/// opened with the service key.
pub fn data_key(ctx: &Ctx, g: &ContainerGroupRecord) -> Result<DataKey, AciError> {
    let wrapped = unb64(&g.wrapped_key).map_err(|m| bad("InternalServerError", m))?;
    match &g.encryption {
        Some(enc) => {
            let shared = &ctx.shared;
            // Read before anything is derived: a write meanwhile makes the entry stale.
            let generation = shared.store.generation();
            let group = group_key(&g.id);
            if let Some(key) =
                shared
                    .data_keys
                    .get(&group, &g.wrapped_key, generation, shared.clock.now_secs())
            {
                return Ok(key);
            }
            let (access, validity) = shared.store.read(|st| {
                let access = cmk::key_access(shared, st, &enc.to_spec())?;
                let version = st
                    .table::<KeyRecord>()
                    .get(&key_id(&access.vault, &access.key))
                    .and_then(|r| r.version(&access.version))
                    .map(|k| (k.nbf, k.exp))
                    .unwrap_or((None, None));
                Ok::<_, AciError>((access, version))
            })?;
            let key = access.unwrap(shared, &wrapped)?;
            shared.data_keys.put(
                &group,
                &g.wrapped_key,
                &key,
                Validity {
                    generation,
                    valid_from: validity.0,
                    valid_until: validity.1,
                },
            );
            Ok(key)
        }
        None => {
            let service = service_key(ctx)?;
            let bytes = service
                .open("service-key", &g.wrapped_key)
                .map_err(|m| bad("InternalServerError", m))?;
            DataKey::from_bytes(&bytes).map_err(|m| bad("InternalServerError", m))
        }
    }
}

pub fn service_key(ctx: &Ctx) -> Result<DataKey, AciError> {
    let existing = ctx
        .shared
        .store
        .read(|st| st.table::<ServiceKey>().get("default").cloned());
    let stored = match existing {
        Some(k) => k,
        None => {
            let fresh = DataKey::generate().map_err(|m| bad("InternalServerError", m))?;
            let record = ServiceKey {
                key: b64(fresh.bytes()),
            };
            ctx.shared
                .store
                .write(|st| {
                    if st.table::<ServiceKey>().get("default").is_none() {
                        st.table_mut::<ServiceKey>().insert("default", record);
                    }
                    st.table::<ServiceKey>().get("default").cloned()
                })?
                .ok_or_else(|| bad("InternalServerError", "the service key is missing"))?
        }
    };
    let bytes = unb64(&stored.key).map_err(|m| bad("InternalServerError", m))?;
    DataKey::from_bytes(&bytes).map_err(|m| bad("InternalServerError", m))
}

pub fn seal_str(key: &DataKey, aad: &str, s: &str) -> Result<String, AciError> {
    key.seal(aad, s.as_bytes())
        .map_err(|m| bad("InternalServerError", m))
}

pub fn log_line(
    key: &DataKey,
    aad: &str,
    text: &str,
    now: time::OffsetDateTime,
) -> Result<String, AciError> {
    let ts = rfc3339(now);
    seal_str(key, aad, &format!("{ts} {text}"))
}

pub fn seal_containers(
    key: &DataKey,
    aad: &str,
    spec: &GroupSpec,
    previous: Option<&ContainerGroupRecord>,
    now: time::OffsetDateTime,
) -> Result<Vec<ContainerRecord>, AciError> {
    let mut out = Vec::new();
    for c in &spec.containers {
        let env = c
            .env
            .iter()
            .map(|e| {
                Ok(SealedEnv {
                    name: e.name.clone(),
                    secure: e.secure,
                    sealed_value: seal_str(key, aad, &e.value)?,
                })
            })
            .collect::<Result<Vec<_>, AciError>>()?;
        let sealed_command = match &c.command {
            None => None,
            Some(cmd) => Some(seal_str(
                key,
                aad,
                &serde_json::to_string(cmd).unwrap_or_default(),
            )?),
        };
        let kept = previous.and_then(|p| p.containers.iter().find(|x| x.name == c.name));
        let (mut sealed_logs, restart_count) = match kept {
            Some(k) => (k.sealed_logs.clone(), k.restart_count),
            None => (Vec::new(), 0),
        };
        let names: Vec<&str> = c.env.iter().map(|e| e.name.as_str()).collect();
        sealed_logs.push(log_line(
            key,
            aad,
            &format!("container {} started from image {}", c.name, c.image),
            now,
        )?);
        sealed_logs.push(log_line(
            key,
            aad,
            &format!(
                "environment: {} (values are not logged)",
                if names.is_empty() {
                    "(none)".to_owned()
                } else {
                    names.join(", ")
                }
            ),
            now,
        )?);
        out.push(ContainerRecord {
            name: c.name.clone(),
            image: c.image.clone(),
            resources: c.resources.clone(),
            ports: c.ports.clone(),
            sealed_command,
            env,
            sealed_logs,
            restart_count,
            settings: seal_settings(Some(key), aad, &c.settings)?,
        });
    }
    Ok(out)
}

/// Stores `settings`: the clear part as it is, the sealed parts under `key`. Without a key
/// (a group whose provisioning failed) the sealed parts are not stored at all.
pub fn seal_settings(
    key: Option<&DataKey>,
    aad: &str,
    settings: &Settings,
) -> Result<StoredSettings, AciError> {
    let split = settings.clone().split();
    let seal =
        |parts: serde_json::Map<String, serde_json::Value>| -> Result<Option<String>, AciError> {
            match key {
                Some(k) if !parts.is_empty() => Some(seal_str(
                    k,
                    aad,
                    &serde_json::Value::Object(parts).to_string(),
                ))
                .transpose(),
                _ => Ok(None),
            }
        };
    Ok(StoredSettings {
        sealed_shown: seal(split.shown)?,
        sealed_secret: seal(split.secret)?,
        clear: split.clear,
    })
}
