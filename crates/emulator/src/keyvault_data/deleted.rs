//! Deleted keys: delete, get, list, recover, purge, and their retention on the emulator's
//! clock.

use super::access::{Caller, ForbiddenReason, KeyOp, KvError};
use super::api::authorized_vault;
use super::api::key_not_found;
use super::records::{DeletedKeyInfo, KeyRecord, key_id};
use super::render::{bundle_json, deleted_json, item_json, page, page_params};
use crate::context::Ctx;
use crate::reply;
use crate::reply::Reply;
use crate::store::Tables;
use http::StatusCode;
use serde_json::{Value, json};

/// Purges soft-deleted keys whose retention has ended.
pub fn expire_deleted_keys(st: &mut Tables, now: i64) {
    st.table_mut::<KeyRecord>().retain(|_, r| {
        r.deleted
            .as_ref()
            .is_none_or(|d| d.scheduled_purge_date > now)
    });
}

pub fn delete(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Delete, Some(name)))?;
    let id = key_id(vault, name);
    let days = v.props.soft_delete_retention_days;
    let rec = ctx
        .shared
        .store
        .try_write(|st| -> Result<KeyRecord, KvError> {
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted.is_none())
                .ok_or_else(|| key_not_found(name))?;
            let now = ctx.shared.clock.now_secs();
            let visible_after = i64::try_from(ctx.shared.timing.durations().deleted_key_visible_ms)
                .unwrap_or(i64::MAX / 4);
            rec.deleted = Some(DeletedKeyInfo {
                deleted_date: now,
                scheduled_purge_date: now + days * 86_400,
                listed_from_ms: ctx.shared.clock.now_ms().saturating_add(visible_after),
            });
            Ok(rec.clone())
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    let k = rec.latest().ok_or_else(|| key_not_found(name))?;
    Ok(reply::json(StatusCode::OK, deleted_json(base, &v, &rec, k)))
}

pub fn deleted_not_found(name: &str) -> KvError {
    KvError::KeyNotFound(format!("Deleted Key not found: {name}"))
}

pub fn get_deleted(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let now_ms = ctx.shared.clock.now_ms();
    ctx.shared.store.read(|st| {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::GetDeleted, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted_and_listed(now_ms))
            .ok_or_else(|| deleted_not_found(name))?;
        let k = rec.latest().ok_or_else(|| deleted_not_found(name))?;
        Ok(reply::json(StatusCode::OK, deleted_json(base, &v, rec, k)))
    })
}

pub fn list_deleted(ctx: &Ctx, vault: &str, caller: &Caller, base: &str) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let vault_lc = vault.to_ascii_lowercase();
    let now_ms = ctx.shared.clock.now_ms();
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::ListDeleted, None)?;
        Ok(st
            .table::<KeyRecord>()
            .values()
            .filter(|r| r.vault == vault_lc && r.deleted_and_listed(now_ms))
            .filter_map(|r| {
                r.latest().map(|k| {
                    let mut i = item_json(base, &v, r, k, false);
                    if let Some(d) = &r.deleted {
                        i["recoveryId"] = json!(format!("{base}/deletedkeys/{}", r.name));
                        i["deletedDate"] = json!(d.deleted_date);
                        i["scheduledPurgeDate"] = json!(d.scheduled_purge_date);
                    }
                    i
                })
            })
            .collect())
    })?;
    let api = ctx.q("api-version").unwrap_or("7.5").to_owned();
    Ok(reply::json(
        StatusCode::OK,
        page(
            items,
            max,
            skip,
            &format!("{base}/deletedkeys?api-version={api}"),
        ),
    ))
}

pub fn recover(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Recover, Some(name)))?;
    let id = key_id(vault, name);
    let rec = ctx
        .shared
        .store
        .try_write(|st| -> Result<KeyRecord, KvError> {
            let now_ms = ctx.shared.clock.now_ms();
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted_and_listed(now_ms))
                .ok_or_else(|| deleted_not_found(name))?;
            rec.deleted = None;
            Ok(rec.clone())
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    let k = rec.latest().ok_or_else(|| key_not_found(name))?;
    Ok(reply::json(StatusCode::OK, bundle_json(base, &v, &rec, k)))
}

pub fn purge(ctx: &Ctx, vault: &str, caller: &Caller, name: &str) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Purge, Some(name)))?;
    if v.props.purge_protected() {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::PurgeProtected,
            message: format!(
                "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.\r\nVault: {}",
                v.name.to_ascii_lowercase()
            ),
        });
    }
    let id = key_id(vault, name);
    let now_ms = ctx.shared.clock.now_ms();
    let gone = ctx
        .shared
        .store
        .write(|st| {
            if st
                .table::<KeyRecord>()
                .get(&id)
                .is_some_and(|r| r.deleted_and_listed(now_ms))
            {
                st.table_mut::<KeyRecord>().remove(&id);
                true
            } else {
                false
            }
        })
        .map_err(|e| KvError::Internal(e.to_string()))?;
    if !gone {
        return Err(deleted_not_found(name));
    }
    Ok(reply::empty(StatusCode::NO_CONTENT))
}
