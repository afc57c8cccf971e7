//! Cryptographic operations over HTTP: wrapKey, unwrapKey, encrypt, decrypt.

use super::access::{Caller, KeyOp, KvError};
use super::api::authorized_vault;
use super::api::crypto_op;
use super::body::body_obj;
use super::records::{B64URL, decode_b64url};
use crate::context::Ctx;
use crate::reply;
use crate::reply::Reply;
use base64::Engine;
use http::StatusCode;
use serde_json::{Value, json};

pub fn crypto_http(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
    op: KeyOp,
) -> Result<Reply, KvError> {
    // Authorize before looking at the body.
    ctx.shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, op, Some(name)))?;
    let o = body_obj(ctx)?;
    let alg = match o.get("alg") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(KvError::BadParameter(
                "The property 'alg' is required.".to_owned(),
            ));
        }
        Some(_) => return Err(KvError::BadParameter("'alg' must be a string.".to_owned())),
    };
    let value = match o.get("value") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(KvError::BadParameter(
                "The property 'value' is required.".to_owned(),
            ));
        }
        Some(_) => {
            return Err(KvError::BadParameter(
                "'value' must be a base64url string.".to_owned(),
            ));
        }
    };
    let bytes = decode_b64url(&value)
        .ok_or_else(|| KvError::BadParameter("Content of 'value' is not base64url.".to_owned()))?;
    if bytes.is_empty() {
        return Err(KvError::BadParameter("The 'value' is empty.".to_owned()));
    }
    let (kid, out) = crypto_op(
        &ctx.shared,
        caller,
        vault,
        name,
        version,
        op,
        &alg,
        &bytes,
        base,
    )?;
    Ok(reply::json(
        StatusCode::OK,
        json!({"kid": kid, "value": B64URL.encode(out)}),
    ))
}
