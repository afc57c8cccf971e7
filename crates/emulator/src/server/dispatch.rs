//! Request dispatch: reads each HTTP request into a [`Ctx`], asks the router which service it
//! is for, records it as in flight, applies fault injection, bounds the body, calls the service (or the admin API), adds
//! the service's standard headers, records the request log and turns the [`Reply`] into HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode};

use super::admin_api;
use super::faults::Outcome;
use super::frontend::Frontend;
use super::headers::add_standard_headers;
use super::in_flight::{InFlightGuard, InFlightRequest};
use super::precise_delay::precise_delay;
use super::request_log::LogEntry;
use crate::admin::Admin;
use crate::context::{Ctx, HttpParts, path_segments};
use crate::reply::{self, Reply};
use crate::router::{self, Service};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The axum router: one fallback handler that does its own routing (ARM paths are
/// case-insensitive and the Key Vault data plane is routed by host).
pub fn router(frontend: Arc<Frontend>) -> Router {
    Router::new().fallback(dispatch).with_state(frontend)
}

/// An error in the shape of the given service.
fn service_error(
    service: Service,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
    now: &str,
) -> Reply {
    match service {
        Service::Arm | Service::Admin => reply::arm_error(status, code, message),
        Service::Graph => reply::graph_error(status, code, message, request_id, now),
        Service::Keyvault => reply::kv_error(status, code, message, None),
        Service::Token | Service::Msi => reply::entra_error(
            status,
            "temporarily_unavailable",
            50196,
            message,
            request_id,
            now,
        ),
    }
}

/// Turns a reply into an HTTP response.
fn into_response(r: Reply) -> Response {
    let mut resp = match &r.body {
        Some(v) => {
            // Most answers are a few kilobytes: one allocation instead of a doubling series.
            let mut bytes = Vec::with_capacity(4096);
            if serde_json::to_writer(&mut bytes, v).is_err() {
                bytes.clear();
            }
            let mut resp = Response::new(Body::from(bytes));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            resp
        }
        None => Response::new(Body::empty()),
    };
    *resp.status_mut() = r.status;
    resp.headers_mut().extend(r.headers);
    resp
}

/// Host (with port), path, decoded query and path segments of a request.
struct Target {
    host: String,
    path: String,
    query: Vec<(String, String)>,
    segs: Vec<String>,
}

fn target(parts: &http::request::Parts) -> Target {
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
    let path = collapse_slashes(parts.uri.path());
    let query = url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let segs = path_segments(&path);
    Target {
        host,
        path,
        query,
        segs,
    }
}

/// The path with each run of slashes collapsed into one, as Azure reads
/// `//subscriptions/…` or `…/Microsoft.ContainerInstance//containerGroups/…` (clients send
/// both), and Key Vault `//keys/…`.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Whether a `Host` (or `:authority`) is a host name or IP address with an optional port and
/// nothing else, so that no other text is reflected into the URLs the services answer.
fn valid_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => match tail {
                "" => return true,
                t => return t.strip_prefix(':').is_some_and(valid_port),
            },
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    // A fully qualified name may end with one dot; no other label is empty.
    let name = name.strip_suffix('.').unwrap_or(name);
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    name_ok && port.is_none_or(valid_port)
}

fn valid_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.chars().all(|c| c.is_ascii_digit())
        && p.parse::<u16>().is_ok()
}

/// Why an admin request is refused, if it is: not from loopback; from a browser page (an
/// `Origin` header: no page may drive the admin API); or without the admin token, when one is
/// set. The path was decoded before it was classified, so `/%5Fadmin/…` is the admin API too.
fn refuse_admin(frontend: &Frontend, headers: &http::HeaderMap, peer: SocketAddr) -> Option<Reply> {
    if !peer.ip().is_loopback() {
        return Some(reply::arm_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The admin API is only served to loopback clients.",
        ));
    }
    if headers.contains_key(http::header::ORIGIN) {
        return Some(reply::arm_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The admin API is not served to browser pages (the request has an Origin header).",
        ));
    }
    let expected = frontend.admin_token.as_deref()?;
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if crate::entra::token_endpoint::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        None
    } else {
        let mut r = reply::arm_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The admin API needs the emulator's admin token: Authorization: Bearer {token}.",
        );
        reply::set_header(
            &mut r,
            "www-authenticate",
            "Bearer realm=\"aci-cmk-emulator-admin\"",
        );
        Some(r)
    }
}

/// Applies the fault rules to a request: waits out injected latency, then answers the
/// injected fault (with a note for the request log), if one fires.
async fn inject_fault(
    frontend: &Frontend,
    service: Service,
    method: &http::Method,
    t: &Target,
    peer: SocketAddr,
    request_id: &str,
) -> Option<(Reply, String)> {
    let sub = if t
        .segs
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
    {
        t.segs.get(1).map(|s| s.to_ascii_lowercase())
    } else {
        None
    };
    let decision = frontend
        .faults
        .decide(service, method, &t.path, sub.as_deref());
    if !decision.delay.is_zero() {
        precise_delay(decision.delay).await;
    }
    let outcome = decision.outcome?;
    let note = outcome.describe();
    let now = frontend.shared.clock.now_rfc3339();
    let reply = match outcome {
        Outcome::Throttle {
            retry_after_secs,
            retry_after_ms,
        } => {
            let mut r = service_error(
                service,
                StatusCode::TOO_MANY_REQUESTS,
                if service == Service::Keyvault {
                    "Throttled"
                } else {
                    "TooManyRequests"
                },
                "The request was throttled (injected fault). Retry after the delay in the Retry-After header.",
                request_id,
                &now,
            );
            reply::set_header(&mut r, "retry-after", &retry_after_secs.to_string());
            if let Some(ms) = retry_after_ms {
                reply::set_header(&mut r, "x-ms-retry-after-ms", &ms.to_string());
            }
            r
        }
        Outcome::Error { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "ServiceUnavailable"
            } else {
                "InternalServerError"
            };
            let mut r = service_error(
                service,
                status,
                code,
                "The service encountered an internal error (injected fault).",
                request_id,
                &now,
            );
            if status == StatusCode::SERVICE_UNAVAILABLE {
                reply::set_header(&mut r, "retry-after", "1");
            }
            r
        }
        Outcome::Drop => {
            frontend.connections.kill(&peer);
            reply::empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    Some((reply, note))
}

/// Calls the service (or the admin API); a panic answers 500 instead of dropping the
/// connection without an answer.
async fn answer(
    frontend: &Arc<Frontend>,
    ctx: &Ctx,
    service: Service,
    vault: Option<&str>,
) -> Reply {
    let handled = std::panic::AssertUnwindSafe(async {
        if service == Service::Admin {
            admin_api::handle(&Admin::new(frontend.clone()), ctx)
        } else {
            router::route(ctx, service, vault).await
        }
    });
    match futures::FutureExt::catch_unwind(handled).await {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(service = service.as_str(), path = %ctx.path, "handler panicked");
            service_error(
                service,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "The emulator failed while handling this request.",
                &ctx.request_id,
                &ctx.shared.clock.now_rfc3339(),
            )
        }
    }
}

/// Records a request as in flight while the guard lives (admin requests are not tracked).
fn enter_in_flight<'a>(
    frontend: &'a Frontend,
    service: Service,
    method: &http::Method,
    t: &Target,
    request_id: &str,
) -> Option<InFlightGuard<'a>> {
    (service != Service::Admin).then(|| {
        frontend.in_flight.enter(InFlightRequest {
            request_id: request_id.to_owned(),
            service: service.as_str().to_owned(),
            method: method.to_string(),
            host: t.host.clone(),
            path: t.path.clone(),
        })
    })
}

async fn dispatch(
    State(frontend): State<Arc<Frontend>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let start = Instant::now();
    let shared = frontend.shared.clone();
    let (parts, body) = req.into_parts();
    let t = target(&parts);
    let (service, vault) = router::classify(&t.host, &t.segs);
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = parts.method.clone();
    let now = || shared.clock.now_rfc3339();
    // Before any injected latency, so a held request is in flight; dropped with this future
    // when the client hangs up, or after the request is logged.
    let in_flight = enter_in_flight(&frontend, service, &method, &t, &request_id);

    let mut fault_note = None;
    let mut caller = None;
    let mut resp: Reply = 'resp: {
        if !valid_host(&t.host) {
            break 'resp reply::arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidHostHeader",
                "The Host header is not a valid host name or address with an optional port.",
            );
        }
        if service == Service::Admin
            && let Some(refusal) = refuse_admin(&frontend, &parts.headers, peer)
        {
            break 'resp refusal;
        }
        if service != Service::Admin
            && let Some((r, note)) =
                inject_fault(&frontend, service, &method, &t, peer, &request_id).await
        {
            fault_note = Some(note);
            break 'resp r;
        }
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
            break 'resp service_error(
                service,
                StatusCode::PAYLOAD_TOO_LARGE,
                if service == Service::Keyvault {
                    "BadParameter"
                } else {
                    "RequestEntityTooLarge"
                },
                "The request body is too large or could not be read.",
                &request_id,
                &now(),
            );
        };
        // Every service (the admin API too, to mint tokens) may need the signing key.
        if let Err(e) = shared.tokens.ready().await {
            break 'resp service_error(
                service,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                &format!("The emulator is not ready: {e}"),
                &request_id,
                &now(),
            );
        }
        let ctx = Ctx::from_http(
            shared.clone(),
            HttpParts {
                method: method.clone(),
                host: t.host.clone(),
                path: t.path.clone(),
                segs: t.segs,
                query: t.query,
                headers: parts.headers,
                body,
                peer,
                request_id: request_id.clone(),
            },
        );
        let r = answer(&frontend, &ctx, service, vault.as_deref()).await;
        caller = ctx.caller();
        add_standard_headers(&ctx, service, r)
    };
    if resp.headers.get("x-ms-request-id").is_none() && service != Service::Graph {
        reply::set_header(&mut resp, "x-ms-request-id", &request_id);
    }
    if service == Service::Arm && resp.headers.get("x-ms-correlation-request-id").is_none() {
        reply::set_header(&mut resp, "x-ms-correlation-request-id", &request_id);
    }
    let status = resp.status.as_u16();
    let duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        service = service.as_str(),
        method = %method,
        host = %t.host,
        path = %t.path,
        status,
        duration_ms = format!("{duration_ms:.1}"),
        caller = caller.as_deref().unwrap_or("-"),
        fault = fault_note.as_deref().unwrap_or("-"),
        "request"
    );
    if service != Service::Admin {
        frontend.log.push(LogEntry {
            time: now(),
            service: service.as_str().to_owned(),
            method: method.to_string(),
            host: t.host,
            path: t.path,
            status,
            caller_oid: caller,
            duration_ms,
            fault: fault_note,
        });
    }
    drop(in_flight);
    into_response(resp)
}

#[cfg(test)]
mod tests {
    use super::{collapse_slashes, valid_host};

    #[test]
    fn hosts_are_names_or_addresses_with_a_port() {
        for ok in [
            "localhost",
            "localhost:8443",
            "v1.vault.localhost:8443",
            "127.0.0.1:1",
            "[::1]:443",
            "[::1]",
            "localhost.",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "v.vault.localhost:8443@evil.example",
            "v.vault.localhost:8443/x",
            "a b",
            "host:",
            "host:99999",
            "host:12a",
            "[::1",
            "[nope]:1",
            "[::1]x",
            ".leading",
            "a..b",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }

    #[test]
    fn runs_of_slashes_collapse() {
        assert_eq!(collapse_slashes("//subscriptions/s"), "/subscriptions/s");
        assert_eq!(
            collapse_slashes("/p/Microsoft.ContainerInstance//containerGroups/g"),
            "/p/Microsoft.ContainerInstance/containerGroups/g"
        );
        assert_eq!(collapse_slashes("/keys/k/"), "/keys/k/");
        assert_eq!(collapse_slashes("/"), "/");
    }
}
