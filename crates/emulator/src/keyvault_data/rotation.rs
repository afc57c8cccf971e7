//! A key's rotation policy: get and set.

use super::access::{Caller, KeyOp, KvError};
use super::api::authorized_vault;
use super::api::key_not_found;
use super::body::body_obj;
use super::records::{KeyRecord, key_id};
use super::rotation_policy::RotationPolicy;
use crate::context::Ctx;
use crate::reply;
use crate::reply::Reply;
use http::{Method, StatusCode};
use serde_json::{Value, json};

pub fn rotation_policy(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let id = key_id(vault, name);
    let policy_id = format!("{base}/keys/{name}/rotationpolicy");
    match ctx.method {
        Method::GET => ctx.shared.store.read(|st| {
            authorized_vault(ctx, st, vault, caller, KeyOp::GetRotationPolicy, Some(name))?;
            let rec = st.table::<KeyRecord>().get(&id).filter(|r| r.deleted.is_none()).ok_or_else(|| key_not_found(name))?;
            let p = rec.rotation_policy.clone().unwrap_or_else(|| {
                json!({"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}], "attributes": {}})
            });
            let mut p = p;
            p["id"] = json!(policy_id);
            Ok(reply::json(StatusCode::OK, p))
        }),
        Method::PUT => {
            ctx.shared.store.read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::SetRotationPolicy, Some(name)))?;
            let policy = RotationPolicy::parse(&body_obj(ctx)?)?.with_default_notify();
            let now = ctx.shared.clock.now_secs();
            let stored = ctx
                .shared
                .store
                .try_write(|st| -> Result<Value, KvError> {
                    let rec = st.table_mut::<KeyRecord>().get_mut(&id).filter(|r| r.deleted.is_none()).ok_or_else(|| key_not_found(name))?;
                    let created = rec
                        .rotation_policy
                        .as_ref()
                        .and_then(|p| p["attributes"]["created"].as_i64())
                        .unwrap_or(now);
                    let stored = policy.to_json(&policy_id, created, now);
                    rec.rotation_policy = Some(stored.clone());
                    Ok(stored)
                })
                .map_err(|e| KvError::Internal(e.to_string()))??;
            Ok(reply::json(StatusCode::OK, stored))
        }
        _ => Err(KvError::BadParameter("Only GET and PUT are supported on rotationpolicy.".to_owned())),
    }
}
