//! Keys as the data plane answers them: key bundles, list items, deleted keys, and pages with
//! a `nextLink`.

use super::access::KvError;
use super::records::{KeyRecord, KeyVersion};
use crate::context::Ctx;
use crate::keyvault_management::records::Vault;
use serde_json::{Value, json};

pub fn recovery_level(v: &Vault) -> &'static str {
    let custom = v.props.soft_delete_retention_days < 90;
    match (v.props.purge_protected(), custom) {
        (true, false) => "Recoverable",
        (true, true) => "CustomizedRecoverable",
        (false, false) => "Recoverable+Purgeable",
        (false, true) => "CustomizedRecoverable+Purgeable",
    }
}

pub fn attributes_json(vault: &Vault, k: &KeyVersion) -> Value {
    let mut a = json!({
        "enabled": k.enabled,
        "created": k.created,
        "updated": k.updated,
        "recoveryLevel": recovery_level(vault),
        "recoverableDays": vault.props.soft_delete_retention_days,
        "exportable": false,
    });
    if let Some(n) = k.nbf {
        a["nbf"] = json!(n);
    }
    if let Some(e) = k.exp {
        a["exp"] = json!(e);
    }
    a
}

pub fn bundle_json(base: &str, vault: &Vault, rec: &KeyRecord, k: &KeyVersion) -> Value {
    let mut b = json!({
        "key": {
            "kid": format!("{base}/keys/{}/{}", rec.name, k.version),
            "kty": k.kty,
            "key_ops": k.key_ops,
            "n": k.n,
            "e": k.e,
        },
        "attributes": attributes_json(vault, k),
    });
    if !k.tags.is_empty() {
        b["tags"] = json!(k.tags);
    }
    b
}

pub fn item_json(
    base: &str,
    vault: &Vault,
    rec: &KeyRecord,
    k: &KeyVersion,
    with_version: bool,
) -> Value {
    let kid = if with_version {
        format!("{base}/keys/{}/{}", rec.name, k.version)
    } else {
        format!("{base}/keys/{}", rec.name)
    };
    let mut b = json!({"kid": kid, "attributes": attributes_json(vault, k)});
    if !k.tags.is_empty() {
        b["tags"] = json!(k.tags);
    }
    b
}

pub fn deleted_json(base: &str, vault: &Vault, rec: &KeyRecord, k: &KeyVersion) -> Value {
    let mut b = bundle_json(base, vault, rec, k);
    if let Some(d) = &rec.deleted {
        b["recoveryId"] = json!(format!("{base}/deletedkeys/{}", rec.name));
        b["deletedDate"] = json!(d.deleted_date);
        b["scheduledPurgeDate"] = json!(d.scheduled_purge_date);
    }
    b
}

pub fn page_params(ctx: &Ctx) -> Result<(usize, usize), KvError> {
    let max = match ctx.q("maxresults") {
        None => 25,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=25).contains(&n) => n,
            _ => {
                return Err(KvError::BadParameter(format!(
                    "Invalid maxresults '{m}': it must be between 1 and 25."
                )));
            }
        },
    };
    let skip = match ctx.q("$skiptoken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| KvError::BadParameter("Invalid $skiptoken.".to_owned()))?,
    };
    Ok((max, skip))
}

pub fn page(items: Vec<Value>, max: usize, skip: usize, next_base: &str) -> Value {
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(max).collect();
    let next = if skip + max < total {
        Value::String(format!(
            "{next_base}&$skiptoken={}&maxresults={max}",
            skip + max
        ))
    } else {
        Value::Null
    };
    json!({"value": value, "nextLink": next})
}
