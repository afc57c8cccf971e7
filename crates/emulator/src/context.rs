//! The request context: [`Shared`] (what every service shares: configuration, the store, token
//! signing, the clock and the services' timing) and [`Ctx`] (one request as a handler sees it, free of any HTTP
//! framework), with the small request-parsing helpers the handlers use.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::background::BackgroundTasks;
use crate::clock::Clock;
use crate::config::Config;
use crate::entra::tokens::TokenService;
use crate::store::Store;
use crate::timing::Timing;

/// Everything the services share: configuration, the state store, token signing and the clock.
pub struct Shared {
    /// Endpoints and identities.
    pub config: Config,
    /// Persistent state.
    pub store: Store,
    /// Token signing and validation.
    pub tokens: TokenService,
    /// The emulator's one clock: every time a service reads comes from it.
    pub clock: Clock,
    /// How long the services make clients wait.
    pub timing: Timing,
    /// Work going on after its request was answered (running deployments).
    pub background: BackgroundTasks,
    /// Container groups' unwrapped data keys, while nothing that could revoke them changed.
    pub data_keys: crate::aci::data_key_cache::DataKeyCache,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("port", &self.config.port)
            .finish_non_exhaustive()
    }
}

/// One request, as the service handlers see it.
#[derive(Debug)]
pub struct Ctx {
    /// What every service shares.
    pub shared: Arc<Shared>,
    /// HTTP method.
    pub method: Method,
    /// Host as addressed (with port).
    pub host: String,
    /// Raw path.
    pub path: String,
    /// Percent-decoded path segments (without the leading empty one).
    pub segs: Vec<String>,
    /// Query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body (bounded).
    pub body: Bytes,
    /// The body as a value, for a request made inside the emulator (no bytes in between).
    json: Option<Value>,
    /// The peer's socket address.
    pub peer: SocketAddr,
    /// Request id sent back in the service's request-id header.
    pub request_id: String,
    caller_oid: Mutex<Option<String>>,
}

/// The parts of an HTTP request the server hands to [`Ctx::from_http`].
#[derive(Debug)]
pub struct HttpParts {
    /// HTTP method.
    pub method: Method,
    /// Host as addressed (with port).
    pub host: String,
    /// Raw path.
    pub path: String,
    /// Percent-decoded path segments.
    pub segs: Vec<String>,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// The peer's socket address.
    pub peer: SocketAddr,
    /// Request id.
    pub request_id: String,
}

impl Ctx {
    /// A request that arrived over HTTP.
    pub fn from_http(shared: Arc<Shared>, p: HttpParts) -> Self {
        Self {
            shared,
            method: p.method,
            host: p.host,
            path: p.path,
            segs: p.segs,
            query: p.query,
            headers: p.headers,
            body: p.body,
            json: None,
            peer: p.peer,
            request_id: p.request_id,
            caller_oid: Mutex::new(None),
        }
    }

    /// A request made inside the emulator (a deployment's resource PUT): routed like an HTTP
    /// request, with its body as a value, without a connection, fault injection or request-log
    /// entry.
    pub fn internal(
        shared: Arc<Shared>,
        method: Method,
        host: String,
        path: String,
        query: Vec<(String, String)>,
        body: Option<Value>,
        peer: SocketAddr,
    ) -> Self {
        let segs = path_segments(&path);
        Self {
            shared,
            method,
            host,
            path,
            segs,
            query,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            json: body,
            peer,
            request_id: uuid::Uuid::new_v4().to_string(),
            caller_oid: Mutex::new(None),
        }
    }

    /// First query parameter with this name (case-insensitive name match).
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Records the authenticated caller's object id for the request log.
    pub fn set_caller(&self, oid: &str) {
        *self.caller_oid.lock().unwrap_or_else(|p| p.into_inner()) = Some(oid.to_owned());
    }

    /// The authenticated caller's object id, once a handler recorded it.
    pub fn caller(&self) -> Option<String> {
        self.caller_oid
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Lowercased segment `i`, or "".
    pub fn seg_lc(&self, i: usize) -> String {
        self.segs
            .get(i)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// A request header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body of a request made inside the emulator, as the value it was given.
    pub fn in_process_body(&self) -> Option<&Value> {
        self.json.as_ref()
    }

    /// The JSON body: the value of an in-process request, or the parsed bytes (a message for
    /// the caller's error envelope when they are not JSON).
    pub fn json_body(&self) -> Result<Value, String> {
        match &self.json {
            Some(v) => Ok(v.clone()),
            None => parse_json(&self.body),
        }
    }
}

/// Percent-decoded path segments without the leading empty one (`/` → none).
pub fn path_segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path.split('/').skip(1).map(percent_decode).collect();
    if segs.len() == 1 && segs[0].is_empty() {
        segs.clear();
    }
    segs
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
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Parses a JSON body, mapping failures to a message for the caller's error envelope.
pub fn parse_json(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("The request body is empty.".to_owned());
    }
    serde_json::from_slice::<Value>(body)
        .map_err(|e| format!("The request content was invalid and could not be deserialized: {e}"))
}
