//! The admin API under `/_admin`, a thin HTTP layer over [`crate::admin::Admin`] (not part of
//! Azure's surface; no Azure token; served to loopback clients only):
//!
//! - `POST /_admin/reset`: back to the initial state (deployer and first-party apps only),
//!   faults cleared, request log cleared.
//! - `GET /_admin/dump`: every table as JSON (secrets and key material redacted).
//! - `GET /_admin/requests[?service=arm|graph|keyvault|token|msi]` (`DELETE` clears): the
//!   request log.
//! - `GET|PUT|DELETE /_admin/faults`: the [`crate::server::faults::FaultConfig`].
//! - `GET /_admin/clock`: the emulator's time; `POST /_admin/clock` with `{"advance": "P91D"}`
//!   (an ISO 8601 duration) or `{"advance_secs": N}` moves it forward (never back, at most 100
//!   years at a time).
//! - `POST /_admin/principals` `{"display_name"?, "client_id"?, "client_secret"?}`: adds an
//!   application with a secret and its service principal; answers its ids and secret.
//! - `POST /_admin/subscriptions` `{"subscription_id"?, "display_name"?}`: adds a subscription
//!   to the tenant.
//! - `DELETE /_admin/service-principals/{appId}`: removes the tenant's service principal of an
//!   application (created again, it has a new object id).
//! - `POST /_admin/vaults/{name}/disable-soft-delete`: turns soft delete off on a live vault, as
//!   a legacy vault may have it.
//! - `POST /_admin/tokens` `{"aud", "oid"?, "appid"?, "tid"?, "iss"?, "ttl_secs"?, "nbf_offset_secs"?}`:
//!   mints a signed token with arbitrary claims (for tests of expired or foreign tokens).
//!
//! Errors answer in ARM's envelope with code `BadRequest` (400, naming the field) or
//! `InternalServerError` (500).

use std::time::Duration;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::admin::{Admin, AdminError, TokenRequest};
use crate::clock::parse_iso8601_duration;
use crate::context::Ctx;
use crate::reply::{self, Reply};
use crate::server::faults::FaultConfig;

fn bad(msg: impl Into<String>) -> Reply {
    reply::arm_error(StatusCode::BAD_REQUEST, "BadRequest", msg)
}

fn answer(e: AdminError) -> Reply {
    match e {
        AdminError::Invalid { .. } => bad(e.to_string()),
        AdminError::Internal(_) => reply::arm_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            e.to_string(),
        ),
    }
}

/// `{"value": [events after `since`], "next_since": the last sequence number seen}`.
fn events_json(admin: &Admin, since: u64) -> Reply {
    let value = admin.events(since);
    let last = value
        .last()
        .and_then(|e| e["sequence"].as_u64())
        .unwrap_or(since);
    reply::json(StatusCode::OK, json!({"value": value, "next_since": last}))
}

/// Parses a JSON body; an empty body is `T::default()` when `empty_ok`.
fn body<T: DeserializeOwned + Default>(
    ctx: &Ctx,
    what: &str,
    empty_ok: bool,
) -> Result<T, Box<Reply>> {
    if empty_ok && ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&ctx.body).map_err(|e| Box::new(bad(format!("invalid {what}: {e}"))))
}

#[derive(Deserialize, Default)]
struct NewPrincipalBody {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Deserialize, Default)]
struct NewSubscriptionBody {
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    #[serde(default)]
    advance: Option<String>,
    #[serde(default)]
    advance_secs: Option<serde_json::Number>,
}

fn clock_json(admin: &Admin) -> serde_json::Value {
    let now = admin.now();
    json!({
        "now": crate::config::rfc3339(now),
        "now_unix": now.unix_timestamp(),
    })
}

fn advance(admin: &Admin, ctx: &Ctx) -> Reply {
    let req: AdvanceBody = match body(ctx, "clock request", false) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let by = match (req.advance, req.advance_secs) {
        (Some(text), None) => match parse_iso8601_duration(&text) {
            Ok(d) => d,
            Err(e) => return bad(format!("invalid advance: {e}")),
        },
        (None, Some(n)) => match n.as_u64() {
            Some(secs) => Duration::from_secs(secs),
            None => {
                return bad(
                    "invalid advance_secs: a whole number of seconds, 0 or more, is expected",
                );
            }
        },
        _ => {
            return bad(
                "invalid clock request: give exactly one of advance (ISO 8601) or advance_secs",
            );
        }
    };
    match admin.advance(by) {
        Ok(_) => reply::json(StatusCode::OK, clock_json(admin)),
        Err(e) => answer(e),
    }
}

/// Handles an admin request.
pub fn handle(admin: &Admin, ctx: &Ctx) -> Reply {
    let rest: Vec<String> = ctx.segs[1..]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (&ctx.method, rest.as_slice()) {
        (&Method::POST, ["reset"]) => match admin.reset() {
            Ok(()) => reply::json(StatusCode::OK, json!({"reset": true})),
            Err(e) => answer(e),
        },
        (&Method::GET, ["dump"]) => reply::json(StatusCode::OK, admin.dump()),
        (&Method::GET, ["requests"]) => {
            let service = ctx.q("service").map(str::to_owned);
            let entries: Vec<_> = admin
                .requests()
                .into_iter()
                .filter(|e| {
                    service
                        .as_ref()
                        .is_none_or(|s| e.service.eq_ignore_ascii_case(s))
                })
                .collect();
            reply::json(StatusCode::OK, json!({ "value": entries }))
        }
        (&Method::DELETE, ["requests"]) => {
            admin.clear_requests();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, ["faults"]) => reply::json(
            StatusCode::OK,
            serde_json::to_value(admin.faults()).unwrap_or_default(),
        ),
        (&Method::PUT, ["faults"]) => match serde_json::from_slice::<FaultConfig>(&ctx.body) {
            Ok(c) => match admin.set_faults(c.clone()) {
                Ok(()) => reply::json(StatusCode::OK, serde_json::to_value(c).unwrap_or_default()),
                Err(e) => answer(e),
            },
            Err(e) => bad(format!("invalid fault configuration: {e}")),
        },
        (&Method::DELETE, ["faults"]) => match admin.set_faults(FaultConfig::default()) {
            Ok(()) => reply::empty(StatusCode::NO_CONTENT),
            Err(e) => answer(e),
        },
        (&Method::GET, ["clock"]) => reply::json(StatusCode::OK, clock_json(admin)),
        (&Method::GET, ["events"]) => {
            let since = ctx.q("since").map(str::parse::<u64>);
            match since {
                None => events_json(admin, 0),
                Some(Ok(n)) => events_json(admin, n),
                Some(Err(_)) => bad("since must be a sequence number (0 or more)".to_owned()),
            }
        }
        (&Method::POST, ["clock"]) => advance(admin, ctx),
        (&Method::POST, ["principals"]) => {
            let req: NewPrincipalBody = match body(ctx, "principal", true) {
                Ok(r) => r,
                Err(r) => return *r,
            };
            match admin.add_principal(req.display_name, req.client_id, req.client_secret) {
                Ok(p) => reply::json(
                    StatusCode::CREATED,
                    serde_json::to_value(p).unwrap_or_default(),
                ),
                Err(e) => answer(e),
            }
        }
        (&Method::POST, ["subscriptions"]) => {
            let req: NewSubscriptionBody = match body(ctx, "subscription", true) {
                Ok(r) => r,
                Err(r) => return *r,
            };
            match admin.add_subscription(req.subscription_id, req.display_name) {
                Ok(id) => reply::json(StatusCode::CREATED, json!({"subscription_id": id})),
                Err(e) => answer(e),
            }
        }
        (&Method::DELETE, ["service-principals", app_id]) => {
            match admin.remove_service_principal(app_id) {
                Ok(true) => reply::empty(StatusCode::NO_CONTENT),
                Ok(false) => reply::arm_error(
                    StatusCode::NOT_FOUND,
                    "BadRequest",
                    format!("the tenant has no service principal of application {app_id}"),
                ),
                Err(e) => answer(e),
            }
        }
        (&Method::POST, ["vaults", name, "disable-soft-delete"]) => {
            match admin.disable_soft_delete(name) {
                Ok(()) => reply::empty(StatusCode::NO_CONTENT),
                Err(e) => answer(e),
            }
        }
        (&Method::POST, ["tokens"]) => {
            let req: TokenRequest = match serde_json::from_slice(&ctx.body) {
                Ok(r) => r,
                Err(e) => return bad(format!("invalid token request: {e}")),
            };
            match admin.mint_token(req) {
                Ok(t) => reply::json(StatusCode::OK, json!({"access_token": t})),
                Err(e) => answer(e),
            }
        }
        _ => reply::arm_error(
            StatusCode::NOT_FOUND,
            "BadRequest",
            format!("no admin route {} {}", ctx.method, ctx.path),
        ),
    }
}
