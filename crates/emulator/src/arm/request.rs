//! What every ARM provider reads from a request: the caller's token, the api-version, the
//! subscription, and typed fields of the JSON body.

use http::StatusCode;
use serde_json::{Map, Value};

use super::error::ArmError;
use crate::context::Ctx;
use crate::entra::bearer::authenticate;
use crate::entra::tokens::{Claims, TokenError};
use crate::reply::{self, Reply};

/// Authenticates an ARM request (any ARM audience), or answers ARM's 401 with its challenge.
pub fn authenticate_arm(ctx: &Ctx) -> Result<Claims, Box<Reply>> {
    authenticate(ctx, &ctx.shared.config.arm_audiences()).map_err(|e| Box::new(auth_error(ctx, &e)))
}

fn auth_error(ctx: &Ctx, e: &TokenError) -> Reply {
    let (code, msg) = match e {
        TokenError::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_owned(),
        ),
        TokenError::Expired => (
            "InvalidAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.".to_owned(),
        ),
        TokenError::WrongAudience => (
            "InvalidAuthenticationToken",
            format!(
                "The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences '{}', '{}/'.",
                ctx.shared.config.base(),
                ctx.shared.config.base()
            ),
        ),
        TokenError::WrongIssuer => (
            "InvalidAuthenticationToken",
            "The access token is from the wrong issuer. It must match the tenant associated with this subscription.".to_owned(),
        ),
        TokenError::BadSignature => (
            "InvalidAuthenticationToken",
            "The access token signature is invalid.".to_owned(),
        ),
        TokenError::NotYetValid => (
            "InvalidAuthenticationToken",
            "The access token is not yet valid.".to_owned(),
        ),
        TokenError::Malformed => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_owned(),
        ),
    };
    let mut r = reply::arm_error(StatusCode::UNAUTHORIZED, code, msg);
    let challenge = format!(
        "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{}\"",
        ctx.shared.config.base(),
        ctx.shared.config.tenant(),
        e
    );
    reply::set_header(&mut r, "www-authenticate", &challenge);
    r
}

/// Checks `api-version` against the versions a resource type supports.
pub fn check_api_version(
    ctx: &Ctx,
    resource_type: &str,
    supported: &[&str],
) -> Result<String, ArmError> {
    let Some(v) = ctx.q("api-version") else {
        return Err(ArmError::bad(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    if supported.iter().any(|s| s.eq_ignore_ascii_case(v)) {
        return Ok(v.to_owned());
    }
    let list = supported.join(", ");
    if resource_type.starts_with("Microsoft.Resources/") || resource_type == "subscriptions" {
        Err(ArmError::bad(
            "InvalidApiVersionParameter",
            format!("The api-version '{v}' is invalid. The supported versions are '{list}'."),
        ))
    } else {
        Err(ArmError::bad(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for API version '{v}' and type '{resource_type}'. The supported api-versions are '{list}'."
            ),
        ))
    }
}

/// 404 for a path no provider serves.
pub fn not_found_route(ctx: &Ctx) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "The requested path '{}' is not served by the emulator.",
            ctx.path
        ),
    )
}

// ----- JSON body helpers shared by the providers -----

/// Parses an ARM request body as a JSON object.
pub fn body_object(ctx: &Ctx) -> Result<Map<String, Value>, ArmError> {
    let v = ctx
        .json_body()
        .map_err(|m| ArmError::bad("InvalidRequestContent", m))?;
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: a JSON object is expected.",
        )),
    }
}

fn type_err(path: &str, expected: &str) -> ArmError {
    ArmError::bad(
        "InvalidRequestContent",
        format!(
            "The request content was invalid and could not be deserialized: '{path}' must be {expected}."
        ),
    )
}

/// Optional string field (null = absent).
pub fn opt_str(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_err(path, "a string")),
    }
}

/// Optional bool field.
pub fn opt_bool(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(type_err(path, "a boolean")),
    }
}

/// Optional integer field.
pub fn opt_i64(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| type_err(path, "an integer")),
        Some(_) => Err(type_err(path, "an integer")),
    }
}

/// Optional object field.
pub fn opt_obj<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(type_err(path, "an object")),
    }
}

/// Optional array field.
pub fn opt_arr<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, ArmError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(type_err(path, "an array")),
    }
}

/// Optional `tags` (string → string).
pub fn opt_tags(
    o: &Map<String, Value>,
) -> Result<Option<std::collections::BTreeMap<String, String>>, ArmError> {
    let Some(t) = opt_obj(o, "tags", "tags")? else {
        return Ok(None);
    };
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in t {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            Value::Null => {
                out.insert(k.clone(), String::new());
            }
            _ => return Err(type_err(&format!("tags.{k}"), "a string")),
        }
    }
    if out.len() > 50 {
        return Err(ArmError::bad(
            "InvalidTag",
            "A resource can have at most 50 tags.",
        ));
    }
    Ok(Some(out))
}

/// Normalises a location for comparison ("West Europe" == "westeurope").
pub fn norm_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `systemData` for a resource.
pub fn system_data(created_by: &str, created: i64, updated: i64) -> Value {
    serde_json::json!({
        "createdBy": created_by,
        "createdByType": "Application",
        "createdAt": crate::config::rfc3339_secs(created),
        "lastModifiedBy": created_by,
        "lastModifiedByType": "Application",
        "lastModifiedAt": crate::config::rfc3339_secs(updated),
    })
}
