//! Azure Resource Manager: authentication, api-version checks, case-insensitive routing to the
//! resource providers, and the shared error type.
//!
//! Provider modules: [`resources`] (subscriptions, resource groups, cloud metadata),
//! [`crate::keyvault::mgmt`] (Microsoft.KeyVault), [`identity`] (Microsoft.ManagedIdentity),
//! [`authorization`] (Microsoft.Authorization role assignments and definitions),
//! [`deployments`] (Microsoft.Resources/deployments: template deployments).
//! A new provider (e.g. Microsoft.ContainerInstance) adds an arm to the private `provider` dispatcher and, if it keeps
//! resources in a group, a call in [`resources::on_resource_group_deleted`]. Work that is not
//! finished when the provider answers uses [`lro`] for its polling URLs.

pub mod authorization;
pub mod deployments;
pub mod identity;
pub mod lro;
pub mod resources;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value};

use crate::auth::{Claims, TokenError, authenticate};
use crate::server::Ctx;
use crate::wire;

/// An ARM error: status, code and message (answered as `{"error":{"code","message"}}`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
#[non_exhaustive]
pub struct ArmError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error code (also sent in `x-ms-error-code`).
    pub code: String,
    /// Message.
    pub message: String,
}

impl ArmError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 400 with a code.
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The response.
    pub fn into_response(self) -> Response {
        wire::arm_error(self.status, &self.code, self.message)
    }
}

impl From<crate::store::StoreError> for ArmError {
    fn from(e: crate::store::StoreError) -> Self {
        ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            e.to_string(),
        )
    }
}

/// Result of an ARM handler.
pub type ArmResult = Result<Response, ArmError>;

/// Turns a handler result into a response.
pub fn finish(r: ArmResult) -> Response {
    r.unwrap_or_else(ArmError::into_response)
}

fn auth_error(ctx: &Ctx, e: &TokenError) -> Response {
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
                ctx.app.config.base(),
                ctx.app.config.base()
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
    let mut r = wire::arm_error(StatusCode::UNAUTHORIZED, code, msg);
    let challenge = format!(
        "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{}\"",
        ctx.app.config.base(),
        ctx.app.config.tenant(),
        e
    );
    wire::set_header(&mut r, "www-authenticate", &challenge);
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

/// Handles an ARM request.
pub async fn handle(ctx: &Ctx) -> Response {
    let mut lc: Vec<String> = ctx.segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    // ARM tolerates a trailing slash (`…/deployments/?$filter=…`).
    if lc.len() > 1 && lc.last().is_some_and(String::is_empty) {
        lc.pop();
    }
    let lcs: Vec<&str> = lc.iter().map(String::as_str).collect();
    if lcs.as_slice() == ["metadata", "endpoints"] {
        return finish(resources::metadata_endpoints(ctx));
    }
    let claims = match authenticate(ctx, &ctx.app.config.arm_audiences()) {
        Ok(c) => c,
        Err(e) => return auth_error(ctx, &e),
    };
    finish(route(ctx, &claims, &lcs).await)
}

async fn route(ctx: &Ctx, claims: &Claims, lc: &[&str]) -> ArmResult {
    // {scope}/providers/Microsoft.Authorization/... at any scope.
    if let Some(i) = (0..lc.len().saturating_sub(1))
        .rev()
        .find(|&i| lc[i] == "providers" && lc[i + 1] == "microsoft.authorization")
        && i != 1
    {
        if i >= 2 {
            check_subscription(ctx, lc[1])?;
        }
        return authorization::handle(
            ctx,
            claims,
            &ctx.segs[..i],
            &lc[i + 2..],
            &ctx.segs[i + 2..],
        );
    }
    match lc {
        [] => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No route.",
        )),
        ["subscriptions"] => resources::list_subscriptions(ctx),
        ["tenants"] => resources::list_tenants(ctx),
        ["subscriptions", sub, rest @ ..] => {
            check_subscription(ctx, sub)?;
            let sub = sub.to_ascii_lowercase();
            match rest {
                [] => resources::get_subscription(ctx, &sub),
                ["locations"] => resources::list_locations(ctx, &sub),
                ["resourcegroups"] => resources::list_groups(ctx, &sub),
                ["resourcegroups", _] => resources::group(ctx, &sub, &ctx.segs[3]),
                ["resourcegroups", _, "providers", ns, tail @ ..] => {
                    let rg = ctx.segs[3].clone();
                    resources::require_group(ctx, &sub, &rg)?;
                    provider(ctx, claims, &sub, Some(&rg), ns, tail, 6).await
                }
                ["resourcegroups", _, "deployments", _, "operations", op @ ..] if op.len() <= 1 => {
                    resources::require_group(ctx, &sub, &ctx.segs[3])?;
                    let op = ctx
                        .segs
                        .get(7)
                        .map(String::as_str)
                        .filter(|_| !op.is_empty());
                    deployments::operations_route(ctx, &sub, &ctx.segs[3], &ctx.segs[5], op)
                }
                ["providers"] => resources::list_providers(ctx, &sub),
                ["providers", ns, tail @ ..] => {
                    provider(ctx, claims, &sub, None, ns, tail, 4).await
                }
                _ => Err(not_found_route(ctx)),
            }
        }
        _ => Err(not_found_route(ctx)),
    }
}

fn not_found_route(ctx: &Ctx) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "The requested path '{}' is not served by the emulator.",
            ctx.path
        ),
    )
}

fn check_subscription(ctx: &Ctx, sub: &str) -> Result<(), ArmError> {
    let sub_lc = sub.to_ascii_lowercase();
    if ctx.app.store.read(|st| st.subscriptions.contains(&sub_lc)) {
        Ok(())
    } else {
        Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ))
    }
}

/// Dispatches to a resource provider. `tail` is the lowercased path after the namespace, and
/// `tail_start` the index of its first segment in `ctx.segs` (for original-case names).
async fn provider(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    ns: &str,
    tail: &[&str],
    tail_start: usize,
) -> ArmResult {
    let orig = &ctx.segs[tail_start..];
    // Provider registration (`GET …/providers/{ns}`, `POST …/providers/{ns}/register`).
    if rg.is_none() && (tail.is_empty() || tail == ["register"]) {
        return resources::provider_info(ctx, sub, &ctx.segs[3]);
    }
    match ns {
        "microsoft.keyvault" => crate::keyvault::mgmt::handle(ctx, claims, sub, rg, tail, orig),
        "microsoft.managedidentity" => identity::handle(ctx, sub, rg, tail, orig),
        "microsoft.resources"
            if rg.is_none()
                && tail.len() == 2
                && matches!(tail[0], "operationstatuses" | "operationresults") =>
        {
            lro::handle(ctx, tail[0], &orig[1])
        }
        "microsoft.containerinstance" => crate::aci::handle(ctx, sub, rg, tail, orig).await,
        "microsoft.resources" if tail.first() == Some(&"deployments") => {
            deployments::handle(ctx, claims, sub, rg, tail, orig).await
        }
        _ => Err(ArmError::bad(
            "InvalidResourceNamespace",
            format!(
                "The resource namespace '{}' is invalid or not emulated.",
                ctx.segs[tail_start - 1]
            ),
        )),
    }
}

// ----- JSON body helpers shared by the providers -----

/// Parses an ARM request body as a JSON object.
pub fn body_object(ctx: &Ctx) -> Result<Map<String, Value>, ArmError> {
    let v = wire::parse_json(&ctx.body).map_err(|m| ArmError::bad("InvalidRequestContent", m))?;
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
