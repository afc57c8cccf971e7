//! Keys and their versions: create, get, update, list.

use super::access::{Caller, KeyOp, KvError};
use super::api::authorized_vault;
use super::api::key_not_found;
use super::body::{
    Attrs, RSA_OPS, body_obj, parse_attrs, parse_key_ops, parse_tags, valid_key_name,
};
use super::crypto::{self};
use super::records::{B64URL, KeyRecord, KeyVersion, key_id};
use super::render::{bundle_json, item_json, page, page_params};
use super::rotation_policy::RotationPolicy;
use crate::context::Ctx;
use crate::reply;
use crate::reply::Reply;
use base64::Engine;
use http::StatusCode;
use serde_json::Value;

pub async fn create(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    rotate: bool,
) -> Result<Reply, KvError> {
    let op = if rotate { KeyOp::Rotate } else { KeyOp::Create };
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, op, Some(name)))?;
    if !valid_key_name(name) {
        return Err(KvError::BadParameter(format!(
            "The request URI contains an invalid name: {name}. Key names are 1-127 characters of letters, digits and hyphens."
        )));
    }
    // What the new version looks like.
    // `lifetime`: how long a rotated version lives (the policy's expiryTime), counted from
    // the version's creation time below, so `exp` is exactly `created + expiryTime`.
    let (kty, size, ops, attrs, tags, lifetime) = if rotate {
        let rec = ctx.shared.store.read(|st| {
            st.table::<KeyRecord>()
                .get(&key_id(vault, name))
                .filter(|r| r.deleted.is_none())
                .cloned()
        });
        let rec = rec.ok_or_else(|| key_not_found(name))?;
        let last = rec.latest().ok_or_else(|| key_not_found(name))?;
        let bits = (B64URL.decode(&last.n).map(|n| n.len()).unwrap_or(256) * 8) as u32;
        // The policy's expiryTime applies to each new version.
        let lifetime = rec
            .rotation_policy
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|p| RotationPolicy::parse(p).ok())
            .and_then(|p| p.expiry_time)
            .map(|(_, d)| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4));
        (
            last.kty.clone(),
            bits,
            last.key_ops.clone(),
            Attrs {
                enabled: Some(true),
                nbf: None,
                exp: None,
            },
            last.tags.clone(),
            lifetime,
        )
    } else {
        let o = body_obj(ctx)?;
        let kty = match o.get("kty") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                return Err(KvError::BadParameter(
                    "The property 'kty' is required.".to_owned(),
                ));
            }
            Some(_) => return Err(KvError::BadParameter("'kty' must be a string.".to_owned())),
        };
        match kty.as_str() {
            "RSA" => {}
            "RSA-HSM" => {
                if v.props.sku_name != "premium" {
                    return Err(KvError::BadParameter(
                        "Key type 'RSA-HSM' requires a premium vault.".to_owned(),
                    ));
                }
            }
            "EC" | "EC-HSM" | "oct" | "oct-HSM" => {
                return Err(KvError::BadParameter(format!(
                    "Key type '{kty}' is not supported by the emulator (RSA and RSA-HSM only)."
                )));
            }
            _ => return Err(KvError::BadParameter(format!("Invalid key type '{kty}'."))),
        }
        let size = match o.get("key_size") {
            None | Some(Value::Null) => 2048,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(s @ (2048 | 3072 | 4096)) => s as u32,
                _ => {
                    return Err(KvError::BadParameter(format!(
                        "The key size {n} is not supported. Supported sizes for RSA keys: 2048, 3072, 4096."
                    )));
                }
            },
            Some(_) => {
                return Err(KvError::BadParameter(
                    "'key_size' must be an integer.".to_owned(),
                ));
            }
        };
        match o.get("public_exponent") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.as_u64() == Some(65537) => {}
            Some(_) => {
                return Err(KvError::BadParameter(
                    "Only the public exponent 65537 is supported.".to_owned(),
                ));
            }
        }
        if let Some(Value::String(c)) = o.get("crv") {
            return Err(KvError::BadParameter(format!(
                "'crv' ({c}) is not valid for RSA keys."
            )));
        }
        let ops =
            parse_key_ops(&o)?.unwrap_or_else(|| RSA_OPS.iter().map(|s| (*s).to_owned()).collect());
        let attrs = parse_attrs(&o)?;
        let tags = parse_tags(&o)?.unwrap_or_default();
        (kty, size, ops, attrs, tags, None)
    };
    let generated = tokio::task::spawn_blocking(move || crypto::generate_rsa(size))
        .await
        .map_err(|e| KvError::Internal(e.to_string()))?
        .map_err(KvError::Internal)?;
    let now = ctx.shared.clock.now_secs();
    let kv = KeyVersion {
        version: uuid::Uuid::new_v4().simple().to_string(),
        kty,
        key_ops: ops,
        enabled: attrs.enabled.unwrap_or(true),
        nbf: attrs.nbf.flatten(),
        exp: lifetime
            .map(|l| now.saturating_add(l))
            .or(attrs.exp.flatten()),
        created: now,
        updated: now,
        tags,
        n: B64URL.encode(&generated.n),
        e: B64URL.encode(&generated.e),
        pkcs8: B64URL.encode(&generated.pkcs8),
        near_expiry_published: false,
        expired_published: false,
    };
    let vault_lc = vault.to_ascii_lowercase();
    let id = key_id(vault, name);
    let rec = ctx
        .shared
        .store
        .try_write(|st| -> Result<KeyRecord, KvError> {
            match st.table_mut::<KeyRecord>().get_mut(&id) {
                Some(r) if r.deleted.is_some() => Err(KvError::DeletedButRecoverable(format!(
                    "Key {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged."
                ))),
                Some(r) => {
                    r.versions.push(kv.clone());
                    let r = r.clone();
                    new_version_created(st, &ctx.shared.config, &v, &r, &kv);
                    Ok(r)
                }
                None => {
                    let r = KeyRecord {
                        vault: vault_lc.clone(),
                        name: name.to_owned(),
                        versions: vec![kv.clone()],
                        deleted: None,
                        rotation_policy: None,
                    };
                    st.table_mut::<KeyRecord>().insert(id.clone(), r.clone());
                    new_version_created(st, &ctx.shared.config, &v, &r, &kv);
                    Ok(r)
                }
            }
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    Ok(reply::json(
        StatusCode::OK,
        bundle_json(base, &v, &rec, &kv),
    ))
}

/// Publishes `KeyNewVersionCreated` for a version just created (by create, import or rotate).
fn new_version_created(
    st: &mut crate::store::Tables,
    cfg: &crate::config::Config,
    vault: &crate::keyvault_management::records::Vault,
    rec: &KeyRecord,
    kv: &KeyVersion,
) {
    crate::events::emit(
        st,
        &vault.id(),
        &rec.name,
        "Microsoft.KeyVault.KeyNewVersionCreated",
        kv.created,
        super::lifecycle::key_event_data(cfg, rec, kv),
    );
}

pub fn get(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
) -> Result<Reply, KvError> {
    ctx.shared.store.read(|st| {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::Get, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(name))?;
        let k = rec
            .version(version)
            .ok_or_else(|| key_not_found(&format!("{name}/{version}")))?;
        Ok(reply::json(StatusCode::OK, bundle_json(base, &v, rec, k)))
    })
}

pub fn update(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Update, Some(name)))?;
    let o = body_obj(ctx)?;
    let attrs = parse_attrs(&o)?;
    let ops = parse_key_ops(&o)?;
    let tags = parse_tags(&o)?;
    let id = key_id(vault, name);
    let (rec, kv) = ctx
        .shared
        .store
        .try_write(|st| -> Result<(KeyRecord, KeyVersion), KvError> {
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted.is_none())
                .ok_or_else(|| key_not_found(name))?;
            let idx = if version.is_empty() {
                rec.versions.len().checked_sub(1)
            } else {
                rec.versions
                    .iter()
                    .position(|k| k.version.eq_ignore_ascii_case(version))
            }
            .ok_or_else(|| key_not_found(&format!("{name}/{version}")))?;
            let k = &mut rec.versions[idx];
            if let Some(e) = attrs.enabled {
                k.enabled = e;
            }
            if let Some(n) = attrs.nbf {
                k.nbf = n;
            }
            if let Some(e) = attrs.exp {
                k.exp = e;
            }
            if let Some(o) = ops {
                k.key_ops = o;
            }
            if let Some(t) = tags {
                k.tags = t;
            }
            k.updated = ctx.shared.clock.now_secs();
            let k = k.clone();
            Ok((rec.clone(), k))
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    Ok(reply::json(
        StatusCode::OK,
        bundle_json(base, &v, &rec, &kv),
    ))
}

pub fn list_keys(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    api: &str,
) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let vault_lc = vault.to_ascii_lowercase();
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::List, None)?;
        Ok(st
            .table::<KeyRecord>()
            .values()
            .filter(|r| r.vault == vault_lc && r.deleted.is_none())
            .filter_map(|r| r.latest().map(|k| item_json(base, &v, r, k, false)))
            .collect())
    })?;
    Ok(reply::json(
        StatusCode::OK,
        page(items, max, skip, &format!("{base}/keys?api-version={api}")),
    ))
}

pub fn list_versions(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    api: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::List, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(name))?;
        Ok(rec
            .versions
            .iter()
            .map(|k| item_json(base, &v, rec, k, true))
            .collect())
    })?;
    Ok(reply::json(
        StatusCode::OK,
        page(
            items,
            max,
            skip,
            &format!("{base}/keys/{name}/versions?api-version={api}"),
        ),
    ))
}
