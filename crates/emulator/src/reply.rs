//! [`Reply`]: what a handler answers (status, headers, JSON body), free of any HTTP framework,
//! and the builders for each service's error envelope. The server turns a reply into HTTP;
//! an in-process caller (a template deployment) reads its value directly.

use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

/// A handler's answer: status, headers and an optional JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers (the server adds each service's standard ones).
    pub headers: HeaderMap,
    /// JSON body; `None` for an empty body.
    pub body: Option<Value>,
}

/// A JSON reply.
pub fn json(status: StatusCode, v: Value) -> Reply {
    Reply {
        status,
        headers: HeaderMap::new(),
        body: Some(v),
    }
}

/// An empty reply.
pub fn empty(status: StatusCode) -> Reply {
    Reply {
        status,
        headers: HeaderMap::new(),
        body: None,
    }
}

/// Sets a header on a reply, ignoring values that are not valid header values.
pub fn set_header(r: &mut Reply, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers.insert(name, v);
    }
}

/// ARM error envelope `{"error":{"code","message"}}` with `x-ms-error-code`.
pub fn arm_error(status: StatusCode, code: &str, message: impl Into<String>) -> Reply {
    let mut r = json(
        status,
        json!({"error": {"code": code, "message": message.into()}}),
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
    now: &str,
) -> Reply {
    json(
        status,
        json!({"error": {"code": code, "message": message.into(), "innerError": {
            "date": now,
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
) -> Reply {
    let mut err = json!({"code": code, "message": message.into()});
    if let Some(i) = inner {
        err["innererror"] = json!({"code": i});
    }
    json(status, json!({ "error": err }))
}

/// Entra ID (AADSTS) error.
pub fn entra_error(
    status: StatusCode,
    error: &str,
    aadsts: u32,
    description: &str,
    request_id: &str,
    ts: &str,
) -> Reply {
    json(
        status,
        json!({
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
