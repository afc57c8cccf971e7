//! Response builders for each service's error envelope, and small request helpers.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

/// The emulated service a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// Key Vault data plane.
    Keyvault,
    /// Entra ID token service.
    Token,
    /// Managed-identity endpoint.
    Msi,
    /// Admin API.
    Admin,
}

impl Service {
    /// Lowercase name as used in fault rules and the request log.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Arm => "arm",
            Service::Graph => "graph",
            Service::Keyvault => "keyvault",
            Service::Token => "token",
            Service::Msi => "msi",
            Service::Admin => "admin",
        }
    }
}

/// A JSON response.
pub fn json(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// An empty response.
pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// Sets a header on a response, ignoring values that are not valid header values.
pub fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// ARM error envelope `{"error":{"code","message"}}` with `x-ms-error-code`.
pub fn arm_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let mut r = json(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    );
    set_header(&mut r, "x-ms-error-code", code);
    r
}

/// Graph error envelope.
pub fn graph_error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    request_id: &str,
) -> Response {
    json(
        status,
        &json!({"error": {"code": code, "message": message.into(), "innerError": {
            "date": crate::config::now_rfc3339(),
            "request-id": request_id,
            "client-request-id": request_id,
        }}}),
    )
}

/// Key Vault error envelope with an optional inner error code.
pub fn kv_error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    inner: Option<&str>,
) -> Response {
    let mut err = json!({"code": code, "message": message.into()});
    if let Some(i) = inner {
        err["innererror"] = json!({"code": i});
    }
    json(status, &json!({ "error": err }))
}

/// Entra ID (AADSTS) error.
pub fn entra_error(
    status: StatusCode,
    error: &str,
    aadsts: u32,
    description: &str,
    request_id: &str,
) -> Response {
    let ts = crate::config::now_rfc3339();
    json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{aadsts}: {description} Trace ID: {request_id} Correlation ID: {request_id} Timestamp: {ts}"),
            "error_codes": [aadsts],
            "timestamp": ts,
            "trace_id": request_id,
            "correlation_id": request_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        }),
    )
}

/// An error in the shape of the given service.
pub fn service_error(
    service: Service,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    match service {
        Service::Arm | Service::Admin => arm_error(status, code, message),
        Service::Graph => graph_error(status, code, message, request_id),
        Service::Keyvault => kv_error(status, code, message, None),
        Service::Token | Service::Msi => entra_error(
            status,
            "temporarily_unavailable",
            50196,
            message,
            request_id,
        ),
    }
}

/// Decodes `%XX` escapes (and leaves malformed escapes as they are).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a method changes state (for write-only fault rules and rate-limit headers).
pub fn is_write(method: &http::Method) -> bool {
    !matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    )
}

/// Parses a JSON body, mapping failures to a message for the caller's error envelope.
pub fn parse_json(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("The request body is empty.".to_owned());
    }
    serde_json::from_slice::<Value>(body)
        .map_err(|e| format!("The request content was invalid and could not be deserialized: {e}"))
}
