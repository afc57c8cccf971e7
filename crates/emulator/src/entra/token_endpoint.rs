//! Entra ID: the client-credentials token endpoint, OpenID configuration and JWKS.
//!
//! - `POST /{tenant}/oauth2/v2.0/token` (`scope={audience}/.default`)
//! - `POST /{tenant}/oauth2/token` (v1, `resource={audience}`)
//! - `GET /{tenant}/v2.0/.well-known/openid-configuration` (and the v1 form without `v2.0`)
//! - `GET /{tenant}/discovery/v2.0/keys` (JWKS)

use crate::graph::directory::Application;
use crate::reply::Reply;
use http::{Method, StatusCode};
use serde_json::json;

use crate::config::normalize_audience;
use crate::context::Ctx;
use crate::entra::tokens::TOKEN_LIFETIME_SECS;
use crate::reply;

fn tenant_ok(ctx: &Ctx, t: &str) -> bool {
    t.eq_ignore_ascii_case(ctx.shared.config.tenant())
}

fn err(ctx: &Ctx, status: StatusCode, error: &str, code: u32, desc: &str) -> Reply {
    reply::entra_error(
        status,
        error,
        code,
        desc,
        &ctx.request_id,
        &ctx.shared.clock.now_rfc3339(),
    )
}

/// Handles a token-service request.
pub async fn handle(ctx: &Ctx) -> Reply {
    let tenant = ctx.segs.first().cloned().unwrap_or_default();
    let rest: Vec<String> = ctx.segs[1..]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let cfg = &ctx.shared.config;
    match (&ctx.method, rest.as_slice()) {
        (&Method::GET, ["v2.0", ".well-known", "openid-configuration"])
        | (&Method::GET, [".well-known", "openid-configuration"]) => {
            if !tenant_ok(ctx, &tenant) {
                return err(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "invalid_tenant",
                    90002,
                    &format!("Tenant '{tenant}' not found."),
                );
            }
            let base = format!("{}/{}", cfg.base(), cfg.tenant());
            reply::json(
                StatusCode::OK,
                json!({
                    "issuer": cfg.issuer(),
                    "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                    "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                    "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                    "jwks_uri": format!("{base}/discovery/v2.0/keys"),
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid"],
                    "tenant_region_scope": "EU",
                    "cloud_instance_name": "localhost",
                    "cloud_graph_host_name": "localhost",
                    "msgraph_host": format!("localhost:{}", cfg.port),
                    "request_uri_parameter_supported": false,
                    "http_logout_supported": true,
                    "frontchannel_logout_supported": true,
                    "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
                }),
            )
        }
        (&Method::GET, ["discovery", "v2.0", "keys"]) | (&Method::GET, ["discovery", "keys"]) => {
            reply::json(StatusCode::OK, ctx.shared.tokens.jwks())
        }
        (&Method::POST, ["oauth2", "v2.0", "token"]) => token(ctx, &tenant, false),
        (&Method::POST, ["oauth2", "token"]) => token(ctx, &tenant, true),
        _ => err(
            ctx,
            StatusCode::NOT_FOUND,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests to the token endpoint.",
        ),
    }
}

/// Maps a scope (`{resource}/.default`) or v1 resource to a supported audience.
pub fn audience_for(ctx: &Ctx, scope_or_resource: &str) -> Option<String> {
    let s = scope_or_resource.trim();
    let s = s.strip_suffix("/.default").unwrap_or(s);
    let s = s.trim_end_matches('/');
    let n = normalize_audience(s);
    ctx.shared
        .config
        .all_audiences()
        .into_iter()
        .find(|a| normalize_audience(a) == n)
        .map(|_| s.to_owned())
}

fn token(ctx: &Ctx, tenant: &str, v1: bool) -> Reply {
    if !tenant_ok(ctx, tenant) {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&ctx.body)
        .into_owned()
        .collect();
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            return err(
                ctx,
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
        None => {
            return err(
                ctx,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let Some(client_id) = field("client_id") else {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let target = if v1 {
        field("resource")
    } else {
        field("scope")
    };
    let Some(target) = target else {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            if v1 {
                "The request body must contain the following parameter: 'resource'."
            } else {
                "The request body must contain the following parameter: 'scope'."
            },
        );
    };
    let scopes: Vec<&str> = target.split_whitespace().collect();
    if scopes.len() != 1 {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid. Request one resource per token.",
        );
    }
    if !v1 && !scopes[0].ends_with("/.default") {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                scopes[0]
            ),
        );
    }
    let Some(aud) = audience_for(ctx, scopes[0]) else {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                scopes[0].trim_end_matches("/.default"),
                ctx.shared.config.tenant()
            ),
        );
    };
    if field("client_assertion").is_some() {
        return err(
            ctx,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion authentication is not supported by the emulator; use a client secret.",
        );
    }
    let (app, principal) = ctx.shared.store.read(|st| {
        let app = st
            .table::<Application>()
            .get(&client_id.to_ascii_lowercase())
            .cloned();
        let p = crate::graph::directory::principal_by_app_id(st, client_id).cloned();
        (app, p)
    });
    let Some(app) = app.filter(|a| !a.first_party) else {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                ctx.shared.config.tenant()
            ),
        );
    };
    let Some(secret) = field("client_secret") else {
        return err(
            ctx,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    let matches = app
        .client_secret
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes()));
    if !matches {
        return err(
            ctx,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    }
    let Some(principal) = principal else {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000229,
            &format!(
                "The client application {client_id} is missing service principal in the tenant {}.",
                ctx.shared.config.tenant()
            ),
        );
    };
    if !principal.account_enabled {
        return err(
            ctx,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            7000112,
            &format!("Application '{client_id}' is disabled."),
        );
    }
    ctx.set_caller(&principal.object_id);
    let (token, exp) = match ctx.shared.tokens.issue(
        &ctx.shared.config,
        &aud,
        &principal.object_id,
        &app.app_id,
        None,
        &ctx.shared.clock,
    ) {
        Ok(t) => t,
        Err(_) => {
            return err(
                ctx,
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50000,
                "Token signing failed.",
            );
        }
    };
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": token,
    });
    if v1 {
        body["expires_in"] = json!(TOKEN_LIFETIME_SECS.to_string());
        body["ext_expires_in"] = json!(TOKEN_LIFETIME_SECS.to_string());
        body["expires_on"] = json!(exp.to_string());
        body["not_before"] = json!((exp - TOKEN_LIFETIME_SECS).to_string());
        body["resource"] = json!(aud);
    }
    let mut r = reply::json(StatusCode::OK, body);
    reply::set_header(&mut r, "cache-control", "no-store, no-cache");
    r
}

/// Compares secrets without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
