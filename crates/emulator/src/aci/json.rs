//! Typed reads of a container-group request's JSON fields. A field of the wrong type is ARM's
//! `InvalidRequestContent`, and every message names the field's path
//! (`properties.containers[0].name`).

use super::errors::{AciError, bad};
use serde_json::{Map, Value};

/// The field `key` of `o`; `None` when it is absent or `null`.
pub fn field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn wrong_type(path: &str, what: &str) -> AciError {
    bad("InvalidRequestContent", format!("'{path}' must be {what}."))
}

/// A string field.
pub fn string(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(path, "a string")),
    }
}

/// A boolean field.
pub fn boolean(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(path, "true or false")),
    }
}

/// An integer field (a 32-bit integer, as the spec declares them).
pub fn integer(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|i| i32::try_from(*i).is_ok())
            .map(Some)
            .ok_or_else(|| wrong_type(path, "a 32-bit integer")),
        Some(_) => Err(wrong_type(path, "an integer")),
    }
}

/// An object field.
pub fn object<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(wrong_type(path, "an object")),
    }
}

/// An array field.
pub fn array<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(wrong_type(path, "an array")),
    }
}

/// An array-of-strings field.
pub fn strings(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<Vec<String>>, AciError> {
    let Some(items) = array(o, key, path)? else {
        return Ok(None);
    };
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .map(Some)
        .ok_or_else(|| wrong_type(path, "an array of strings"))
}

/// An object field whose values are all strings.
pub fn string_map<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, AciError> {
    let Some(m) = object(o, key, path)? else {
        return Ok(None);
    };
    if m.values().all(Value::is_string) {
        Ok(Some(m))
    } else {
        Err(wrong_type(path, "an object whose values are strings"))
    }
}

/// An element of an array read as an object, with its path (`{path}[i]`).
pub type Element<'a> = (String, &'a Map<String, Value>);

/// Each element of `items` as an object, with its path (`{path}[i]`).
pub fn objects<'a>(items: &'a [Value], path: &str) -> Result<Vec<Element<'a>>, AciError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let p = format!("{path}[{i}]");
            match v {
                Value::Object(m) => Ok((p, m)),
                _ => Err(wrong_type(&p, "an object")),
            }
        })
        .collect()
}

/// `value` as one of `allowed` (compared without case), spelled as `allowed` spells it; or
/// `code` naming `what` and the allowed values.
pub fn one_of(value: &str, allowed: &[&str], code: &str, what: &str) -> Result<String, AciError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            bad(
                code,
                format!(
                    "The {what} '{value}' is not supported. Supported values are: {}.",
                    allowed.join(", ")
                ),
            )
        })
}
