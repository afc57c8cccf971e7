//! Admin API under `/_admin` (not part of Azure's surface; no Azure token; served to loopback
//! clients only):
//!
//! - `POST /_admin/reset`: back to the initial state (deployer and first-party apps only),
//!   faults cleared, request log cleared.
//! - `GET /_admin/dump`: every table as JSON (secrets and key material redacted).
//! - `GET /_admin/requests[?service=arm|graph|keyvault|token|msi]` (`DELETE` clears): the
//!   request log.
//! - `GET|PUT|DELETE /_admin/faults`: the [`crate::faults::FaultConfig`].
//! - `POST /_admin/principals` `{"display_name"?, "client_id"?, "client_secret"?}`: adds an
//!   application with a secret and its service principal; answers its ids and secret.
//! - `POST /_admin/subscriptions` `{"subscription_id"?, "display_name"?}`: adds a subscription
//!   to the tenant.
//! - `POST /_admin/tokens` `{"aud", "oid"?, "appid"?, "tid"?, "iss"?, "ttl_secs"?, "nbf_offset_secs"?}`:
//!   mints a signed token with arbitrary claims (for tests of expired or foreign tokens).

use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Claims;
use crate::config::now_secs;
use crate::faults::FaultConfig;
use crate::server::Ctx;
use crate::wire;

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    wire::arm_error(status, "BadRequest", msg)
}

#[derive(Deserialize)]
struct NewPrincipal {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Deserialize)]
struct NewSubscription {
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct MintToken {
    aud: String,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    appid: Option<String>,
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    ttl_secs: Option<i64>,
    #[serde(default)]
    nbf_offset_secs: Option<i64>,
}

/// Resets state, faults and the request log.
pub fn reset(ctx: &Ctx) -> Result<(), crate::store::StoreError> {
    let ids = ctx.app.config.ids.clone();
    ctx.app.store.reset(|st| {
        st.meta.insert("config", ids.clone());
        crate::directory::seed(st, &ids);
    })?;
    ctx.app.faults.set(FaultConfig::default());
    ctx.app.log.clear();
    Ok(())
}

/// Handles an admin request.
pub async fn handle(ctx: &Ctx) -> Response {
    let rest: Vec<String> = ctx.segs[1..]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (&ctx.method, rest.as_slice()) {
        (&Method::POST, ["reset"]) => match reset(ctx) {
            Ok(()) => wire::json(StatusCode::OK, &json!({"reset": true})),
            Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        (&Method::GET, ["dump"]) => {
            let mut v = ctx.app.store.read(|st| st.dump());
            v["faults"] = serde_json::to_value(ctx.app.faults.get()).unwrap_or_default();
            wire::json(StatusCode::OK, &v)
        }
        (&Method::GET, ["requests"]) => {
            let service = ctx.q("service").map(str::to_owned);
            let entries: Vec<_> = ctx
                .app
                .log
                .snapshot()
                .into_iter()
                .filter(|e| {
                    service
                        .as_ref()
                        .is_none_or(|s| e.service.eq_ignore_ascii_case(s))
                })
                .collect();
            wire::json(StatusCode::OK, &json!({ "value": entries }))
        }
        (&Method::DELETE, ["requests"]) => {
            ctx.app.log.clear();
            wire::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, ["faults"]) => wire::json(
            StatusCode::OK,
            &serde_json::to_value(ctx.app.faults.get()).unwrap_or_default(),
        ),
        (&Method::PUT, ["faults"]) => match serde_json::from_slice::<FaultConfig>(&ctx.body) {
            Ok(c) if c.rules.iter().any(|r| {
                matches!(r.action, crate::faults::FaultAction::Error { status } if !(500..=599).contains(&status))
            }) =>
            {
                err(StatusCode::BAD_REQUEST, "error faults must use a 5xx status")
            }
            Ok(c) => {
                ctx.app.faults.set(c.clone());
                wire::json(StatusCode::OK, &serde_json::to_value(c).unwrap_or_default())
            }
            Err(e) => err(
                StatusCode::BAD_REQUEST,
                format!("invalid fault configuration: {e}"),
            ),
        },
        (&Method::DELETE, ["faults"]) => {
            ctx.app.faults.set(FaultConfig::default());
            wire::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["principals"]) => {
            let req: NewPrincipal = if ctx.body.is_empty() {
                NewPrincipal {
                    display_name: None,
                    client_id: None,
                    client_secret: None,
                }
            } else {
                match serde_json::from_slice(&ctx.body) {
                    Ok(r) => r,
                    Err(e) => {
                        return err(StatusCode::BAD_REQUEST, format!("invalid principal: {e}"));
                    }
                }
            };
            let tenant = ctx.app.config.tenant().to_owned();
            let name = req
                .display_name
                .unwrap_or_else(|| "emulator-app".to_owned());
            let r = ctx.app.store.write(|st| {
                crate::directory::create_app_principal(
                    st,
                    &tenant,
                    &name,
                    req.client_id,
                    req.client_secret,
                )
            });
            match r {
                Ok((app, p)) => wire::json(
                    StatusCode::CREATED,
                    &json!({
                        "client_id": app.app_id,
                        "client_secret": app.client_secret,
                        "object_id": p.object_id,
                        "display_name": p.display_name,
                        "tenant_id": tenant,
                    }),
                ),
                Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        (&Method::POST, ["subscriptions"]) => {
            let req: NewSubscription = if ctx.body.is_empty() {
                NewSubscription {
                    subscription_id: None,
                    display_name: None,
                }
            } else {
                match serde_json::from_slice(&ctx.body) {
                    Ok(r) => r,
                    Err(e) => {
                        return err(
                            StatusCode::BAD_REQUEST,
                            format!("invalid subscription: {e}"),
                        );
                    }
                }
            };
            let id = req
                .subscription_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
                .to_ascii_lowercase();
            if uuid::Uuid::parse_str(&id).is_err() {
                return err(StatusCode::BAD_REQUEST, "subscription_id must be a GUID");
            }
            let sub = crate::arm::resources::Subscription {
                id: id.clone(),
                display_name: req
                    .display_name
                    .unwrap_or_else(|| "aci-cmk emulator subscription".to_owned()),
            };
            match ctx
                .app
                .store
                .write(|st| st.subscriptions.insert(id.clone(), sub))
            {
                Ok(_) => wire::json(StatusCode::CREATED, &json!({"subscription_id": id})),
                Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        (&Method::POST, ["tokens"]) => {
            let req: MintToken = match serde_json::from_slice(&ctx.body) {
                Ok(r) => r,
                Err(e) => {
                    return err(
                        StatusCode::BAD_REQUEST,
                        format!("invalid token request: {e}"),
                    );
                }
            };
            let cfg = &ctx.app.config;
            let now = now_secs();
            let oid = req
                .oid
                .unwrap_or_else(|| cfg.ids.deployer_object_id.clone());
            let appid = req.appid.unwrap_or_else(|| cfg.ids.client_id.clone());
            let claims = Claims {
                aud: req.aud,
                iss: req.iss.unwrap_or_else(|| cfg.issuer()),
                tid: req.tid.unwrap_or_else(|| cfg.tenant().to_owned()),
                oid: oid.clone(),
                sub: oid,
                appid: appid.clone(),
                azp: appid,
                iat: now,
                nbf: now + req.nbf_offset_secs.unwrap_or(-300),
                exp: now + req.ttl_secs.unwrap_or(crate::auth::TOKEN_LIFETIME_SECS),
                ver: "2.0".to_owned(),
                idtyp: "app".to_owned(),
                xms_mirid: None,
            };
            match ctx.app.tokens.issue_with(&claims) {
                Ok(t) => wire::json(StatusCode::OK, &json!({"access_token": t})),
                Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        _ => err(
            StatusCode::NOT_FOUND,
            format!("no admin route {} {}", ctx.method, ctx.path),
        ),
    }
}
