//! Request dispatch: classifies each request into a service by host and path, applies fault
//! injection, bounds the body, calls the service module, adds the service's standard headers
//! and records the request log.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::auth::TokenService;
use crate::config::Config;
use crate::faults::{Faults, Outcome};
use crate::reqlog::{LogEntry, RequestLog};
use crate::store::Store;
use crate::tls::Connections;
use crate::wire::{self, Service};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Everything the services share: configuration, the state store, token signing, fault
/// injection and the request log.
pub struct EmulatorState {
    /// Endpoints and identities.
    pub config: Config,
    /// Persistent state.
    pub store: Store,
    /// Token signing and validation.
    pub tokens: TokenService,
    /// Fault injection.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// Live connections (for dropped-connection faults).
    pub connections: Arc<Connections>,
}

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState")
            .field("port", &self.config.port)
            .finish_non_exhaustive()
    }
}

/// One request, as the service handlers see it.
#[derive(Debug)]
pub struct Ctx {
    /// Shared state.
    pub app: Arc<EmulatorState>,
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
    /// The peer's socket address.
    pub peer: SocketAddr,
    /// Request id sent back in the service's request-id header.
    pub request_id: String,
    caller_oid: Mutex<Option<String>>,
}

impl Ctx {
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

    fn caller(&self) -> Option<String> {
        self.caller_oid
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A request made inside the emulator (a deployment's resource PUT): routed like an HTTP
    /// request, without a connection, fault injection or request-log entry.
    pub(crate) fn internal(
        app: Arc<EmulatorState>,
        method: Method,
        host: String,
        path: String,
        query: Vec<(String, String)>,
        body: Bytes,
        peer: SocketAddr,
    ) -> Self {
        let segs = path.split('/').skip(1).map(wire::percent_decode).collect();
        Self {
            app,
            method,
            host,
            path,
            segs,
            query,
            headers: HeaderMap::new(),
            body,
            peer,
            request_id: uuid::Uuid::new_v4().to_string(),
            caller_oid: Mutex::new(None),
        }
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
}

/// The axum router: one fallback handler that does its own routing (ARM paths are
/// case-insensitive and the Key Vault data plane is routed by host).
pub fn router(state: Arc<EmulatorState>) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

fn hostname(host: &str) -> String {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// Which service a request is for, and the vault name for the data plane.
fn classify(host: &str, segs: &[String]) -> (Service, Option<String>) {
    let h = hostname(host);
    if let Some(vault) = h.strip_suffix(".vault.localhost")
        && !vault.is_empty()
        && !vault.contains('.')
    {
        return (Service::Keyvault, Some(vault.to_owned()));
    }
    let first = segs
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let second = segs
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match first.as_str() {
        "_admin" => (Service::Admin, None),
        "graph" => (Service::Graph, None),
        "msi" => (Service::Msi, None),
        "subscriptions" | "providers" | "metadata" | "tenants" | "" => (Service::Arm, None),
        _ if matches!(
            second.as_str(),
            "oauth2" | "v2.0" | ".well-known" | "discovery"
        ) =>
        {
            (Service::Token, None)
        }
        _ => (Service::Arm, None),
    }
}

async fn dispatch(
    State(app): State<Arc<EmulatorState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let mut segs: Vec<String> = path.split('/').skip(1).map(wire::percent_decode).collect();
    if segs.len() == 1 && segs[0].is_empty() {
        segs.clear();
    }
    let (service, vault) = classify(&host, &segs);
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = parts.method.clone();

    let mut fault_note = None;
    let mut resp = 'resp: {
        if service == Service::Admin && !peer.ip().is_loopback() {
            break 'resp wire::arm_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "The admin API is only served to loopback clients.",
            );
        }
        if service != Service::Admin {
            let sub = if segs
                .first()
                .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
            {
                segs.get(1).map(|s| s.to_ascii_lowercase())
            } else {
                None
            };
            let decision = app.faults.decide(service, &method, &path, sub.as_deref());
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            if let Some(outcome) = decision.outcome {
                fault_note = Some(outcome.describe());
                match outcome {
                    Outcome::Throttle {
                        retry_after_secs,
                        retry_after_ms,
                    } => {
                        let mut r = wire::service_error(
                            service,
                            StatusCode::TOO_MANY_REQUESTS,
                            if service == Service::Keyvault {
                                "Throttled"
                            } else {
                                "TooManyRequests"
                            },
                            "The request was throttled (injected fault). Retry after the delay in the Retry-After header.",
                            &request_id,
                        );
                        wire::set_header(&mut r, "retry-after", &retry_after_secs.to_string());
                        if let Some(ms) = retry_after_ms {
                            wire::set_header(&mut r, "x-ms-retry-after-ms", &ms.to_string());
                        }
                        break 'resp r;
                    }
                    Outcome::Error { status } => {
                        let status = StatusCode::from_u16(status)
                            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                        let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                            "ServiceUnavailable"
                        } else {
                            "InternalServerError"
                        };
                        let mut r = wire::service_error(
                            service,
                            status,
                            code,
                            "The service encountered an internal error (injected fault).",
                            &request_id,
                        );
                        if status == StatusCode::SERVICE_UNAVAILABLE {
                            wire::set_header(&mut r, "retry-after", "1");
                        }
                        break 'resp r;
                    }
                    Outcome::Drop => {
                        app.connections.kill(&peer);
                        break 'resp wire::empty(StatusCode::INTERNAL_SERVER_ERROR);
                    }
                }
            }
        }
        let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                break 'resp wire::service_error(
                    service,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    if service == Service::Keyvault {
                        "BadParameter"
                    } else {
                        "RequestEntityTooLarge"
                    },
                    "The request body is too large or could not be read.",
                    &request_id,
                );
            }
        };
        // Every service (the admin API too, to mint tokens) may need the signing key.
        if let Err(e) = app.tokens.ready().await {
            break 'resp wire::service_error(
                service,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                &format!("The emulator is not ready: {e}"),
                &request_id,
            );
        }
        let ctx = Ctx {
            app: app.clone(),
            method: method.clone(),
            host: host.clone(),
            path: path.clone(),
            segs,
            query,
            headers: parts.headers,
            body,
            peer,
            request_id: request_id.clone(),
            caller_oid: Mutex::new(None),
        };
        let handled = std::panic::AssertUnwindSafe(async {
            match service {
                Service::Arm => crate::arm::handle(&ctx).await,
                Service::Graph => crate::graph::handle(&ctx).await,
                Service::Keyvault => {
                    crate::keyvault::data::handle(&ctx, vault.as_deref().unwrap_or_default()).await
                }
                Service::Token => crate::entra::handle(&ctx).await,
                Service::Msi => crate::msi::handle(&ctx).await,
                Service::Admin => crate::admin::handle(&ctx).await,
            }
        });
        // A bug must not take the connection down without an answer: answer 500 instead.
        let r = match futures::FutureExt::catch_unwind(handled).await {
            Ok(r) => r,
            Err(_) => {
                tracing::error!(service = service.as_str(), path = %path, "handler panicked");
                wire::service_error(
                    service,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "The emulator failed while handling this request.",
                    &request_id,
                )
            }
        };
        let caller = ctx.caller();
        add_standard_headers(&ctx, service, r, caller)
    };
    let caller = resp.extensions_mut().remove::<CallerOid>().map(|c| c.0);
    if resp.headers().get("x-ms-request-id").is_none() && service != Service::Graph {
        wire::set_header(&mut resp, "x-ms-request-id", &request_id);
    }
    if service == Service::Arm && resp.headers().get("x-ms-correlation-request-id").is_none() {
        wire::set_header(&mut resp, "x-ms-correlation-request-id", &request_id);
    }
    let status = resp.status().as_u16();
    let duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        service = service.as_str(),
        method = %method,
        host = %host,
        path = %path,
        status,
        duration_ms = format!("{duration_ms:.1}"),
        caller = caller.as_deref().unwrap_or("-"),
        fault = fault_note.as_deref().unwrap_or("-"),
        "request"
    );
    if service != Service::Admin {
        app.log.push(LogEntry {
            time: crate::config::now_rfc3339(),
            service: service.as_str().to_owned(),
            method: method.to_string(),
            host,
            path,
            status,
            caller_oid: caller,
            duration_ms,
            fault: fault_note,
        });
    }
    resp
}

#[derive(Clone)]
struct CallerOid(String);

fn add_standard_headers(
    ctx: &Ctx,
    service: Service,
    mut r: Response,
    caller: Option<String>,
) -> Response {
    let rid = ctx.request_id.clone();
    match service {
        Service::Arm => {
            wire::set_header(&mut r, "x-ms-request-id", &rid);
            let corr = ctx
                .header("x-ms-correlation-request-id")
                .map(str::to_owned)
                .unwrap_or_else(|| rid.clone());
            wire::set_header(&mut r, "x-ms-correlation-request-id", &corr);
            if let Some(c) = ctx.header("x-ms-client-request-id") {
                let c = c.to_owned();
                wire::set_header(&mut r, "x-ms-client-request-id", &c);
            }
            if wire::is_write(&ctx.method) {
                wire::set_header(
                    &mut r,
                    "x-ms-ratelimit-remaining-subscription-writes",
                    "1199",
                );
            } else {
                wire::set_header(
                    &mut r,
                    "x-ms-ratelimit-remaining-subscription-reads",
                    "11999",
                );
            }
        }
        Service::Graph => {
            wire::set_header(&mut r, "request-id", &rid);
            let c = ctx
                .header("client-request-id")
                .map(str::to_owned)
                .unwrap_or_else(|| rid.clone());
            wire::set_header(&mut r, "client-request-id", &c);
        }
        Service::Keyvault => {
            wire::set_header(&mut r, "x-ms-request-id", &rid);
            wire::set_header(&mut r, "x-ms-keyvault-region", "local");
            wire::set_header(&mut r, "x-ms-keyvault-service-version", "1.9.0.0");
            let fam = if ctx.peer.is_ipv4() {
                "InterNetwork"
            } else {
                "InterNetworkV6"
            };
            let info = format!(
                "conn_type={};addr={};act_addr_fam={fam};",
                if ctx.peer.is_ipv4() { "Ipv4" } else { "Ipv6" },
                ctx.peer.ip()
            );
            wire::set_header(&mut r, "x-ms-keyvault-network-info", &info);
            if let Some(c) = ctx.header("x-ms-client-request-id") {
                let c = c.to_owned();
                wire::set_header(&mut r, "x-ms-client-request-id", &c);
            }
        }
        Service::Token | Service::Msi | Service::Admin => {
            wire::set_header(&mut r, "x-ms-request-id", &rid);
        }
    }
    if let Some(c) = caller {
        r.extensions_mut().insert(CallerOid(c));
    }
    r
}
