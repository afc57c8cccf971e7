//! Reading a key request body: names, attributes, key operations and tags, validated as Key
//! Vault does.

use super::access::KvError;
use crate::context::Ctx;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub fn body_obj(ctx: &Ctx) -> Result<Map<String, Value>, KvError> {
    match ctx.json_body().map_err(KvError::BadParameter)? {
        Value::Object(o) => Ok(o),
        _ => Err(KvError::BadParameter(
            "The request body must be a JSON object.".to_owned(),
        )),
    }
}

pub fn valid_key_name(n: &str) -> bool {
    (1..=127).contains(&n.len()) && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

pub struct Attrs {
    /// `enabled`, when given.
    pub enabled: Option<bool>,
    /// `nbf`, when given (`Some(None)`: cleared with null).
    pub nbf: Option<Option<i64>>,
    /// `exp`, when given (`Some(None)`: cleared with null).
    pub exp: Option<Option<i64>>,
}

pub fn parse_attrs(o: &Map<String, Value>) -> Result<Attrs, KvError> {
    let mut a = Attrs {
        enabled: None,
        nbf: None,
        exp: None,
    };
    let Some(v) = o.get("attributes") else {
        return Ok(a);
    };
    let Value::Object(at) = v else {
        return Err(KvError::BadParameter(
            "'attributes' must be an object.".to_owned(),
        ));
    };
    match at.get("enabled") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => a.enabled = Some(*b),
        Some(_) => {
            return Err(KvError::BadParameter(
                "'attributes.enabled' must be a boolean.".to_owned(),
            ));
        }
    }
    for (k, slot) in [("nbf", &mut a.nbf), ("exp", &mut a.exp)] {
        match at.get(k) {
            None => {}
            Some(Value::Null) => *slot = Some(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => *slot = Some(n.as_i64()),
            Some(_) => {
                return Err(KvError::BadParameter(format!(
                    "'attributes.{k}' must be an integer (unix seconds)."
                )));
            }
        }
    }
    Ok(a)
}

pub const RSA_OPS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];

pub fn parse_key_ops(o: &Map<String, Value>) -> Result<Option<Vec<String>>, KvError> {
    match o.get("key_ops") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a {
                let Value::String(s) = v else {
                    return Err(KvError::BadParameter(
                        "'key_ops' must be an array of strings.".to_owned(),
                    ));
                };
                let Some(canon) = RSA_OPS
                    .iter()
                    .chain(["import", "export"].iter())
                    .find(|x| x.eq_ignore_ascii_case(s))
                else {
                    return Err(KvError::BadParameter(format!(
                        "Invalid key operation '{s}'."
                    )));
                };
                if !out.iter().any(|x: &String| x == canon) {
                    out.push((*canon).to_owned());
                }
            }
            Ok(Some(out))
        }
        Some(_) => Err(KvError::BadParameter(
            "'key_ops' must be an array of strings.".to_owned(),
        )),
    }
}

pub fn parse_tags(o: &Map<String, Value>) -> Result<Option<BTreeMap<String, String>>, KvError> {
    match o.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(t)) => {
            let mut out = BTreeMap::new();
            for (k, v) in t {
                let Value::String(s) = v else {
                    return Err(KvError::BadParameter(format!(
                        "Tag '{k}' must have a string value."
                    )));
                };
                out.insert(k.clone(), s.clone());
            }
            if out.len() > 15 {
                return Err(KvError::BadParameter(
                    "A key can have at most 15 tags.".to_owned(),
                ));
            }
            Ok(Some(out))
        }
        Some(_) => Err(KvError::BadParameter(
            "'tags' must be an object.".to_owned(),
        )),
    }
}
