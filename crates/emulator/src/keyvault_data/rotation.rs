//! A key's rotation policy: get and set.

use super::access::{Caller, KeyOp, KvError};
use super::api::authorized_vault;
use super::api::key_not_found;
use super::body::body_obj;
use super::records::{KeyRecord, key_id};
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
            Ok(reply::json(StatusCode::OK, &p))
        }),
        Method::PUT => {
            ctx.shared.store.read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::SetRotationPolicy, Some(name)))?;
            let mut o = Value::Object(body_obj(ctx)?);
            let now = ctx.shared.clock.now_secs();
            if let Some(a) = o.get_mut("attributes").and_then(Value::as_object_mut) {
                a.insert("created".to_owned(), json!(now));
                a.insert("updated".to_owned(), json!(now));
            }
            o["id"] = json!(policy_id);
            let stored = o.clone();
            ctx.shared
                .store
                .try_write(|st| -> Result<(), KvError> {
                    let rec = st.table_mut::<KeyRecord>().get_mut(&id).filter(|r| r.deleted.is_none()).ok_or_else(|| key_not_found(name))?;
                    rec.rotation_policy = Some(stored);
                    Ok(())
                })
                .map_err(|e| KvError::Internal(e.to_string()))??;
            Ok(reply::json(StatusCode::OK, &o))
        }
        _ => Err(KvError::BadParameter("Only GET and PUT are supported on rotationpolicy.".to_owned())),
    }
}
