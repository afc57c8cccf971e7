//! Managed-identity token endpoint in the App Service shape:
//! `GET /msi/token?api-version=2019-08-01&resource=…&client_id|object_id|mi_res_id|msi_res_id=…`
//! with header `X-IDENTITY-HEADER`. It serves the user-assigned identities the emulator hosts;
//! `expires_on` and `expires_in` are strings.

use crate::managed_identity::UserAssignedIdentity;
use crate::reply::Reply;
use http::{Method, StatusCode};
use serde_json::json;

use crate::context::Ctx;
use crate::entra::tokens::TOKEN_LIFETIME_SECS;
use crate::reply;

fn msi_err(status: StatusCode, error: &str, desc: &str) -> Reply {
    reply::json(
        status,
        json!({"error": error, "error_description": desc, "statusCode": status.as_u16(), "message": desc}),
    )
}

/// Handles `/msi/token`.
pub async fn handle(ctx: &Ctx) -> Reply {
    if ctx.method != Method::GET || ctx.segs.len() != 2 || !ctx.seg_lc(1).eq("token") {
        return msi_err(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "Use GET /msi/token.",
        );
    }
    let expected = &ctx.shared.config.ids.identity_header;
    let got = ctx.header("x-identity-header");
    if !got.is_some_and(|g| {
        crate::entra::token_endpoint::constant_time_eq(g.as_bytes(), expected.as_bytes())
    }) {
        return msi_err(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
        );
    }
    match ctx.q("api-version") {
        Some("2019-08-01") | Some("2017-09-01") | Some("2018-02-01") => {}
        Some(v) => {
            return msi_err(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("api-version '{v}' is not supported; use 2019-08-01."),
            );
        }
        None => {
            return msi_err(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The api-version query parameter is required.",
            );
        }
    }
    let Some(resource) = ctx.q("resource") else {
        return msi_err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The resource query parameter is required.",
        );
    };
    let Some(aud) = crate::entra::token_endpoint::audience_for(ctx, resource) else {
        return msi_err(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            &format!("The resource '{resource}' is not known to the emulator."),
        );
    };
    let client_id = ctx.q("client_id");
    let object_id = ctx.q("object_id").or_else(|| ctx.q("principal_id"));
    let res_id = ctx.q("mi_res_id").or_else(|| ctx.q("msi_res_id"));
    let found = ctx.shared.store.read(|st| {
        st.table::<UserAssignedIdentity>()
            .values()
            .find(|i| {
                client_id.is_some_and(|c| c.eq_ignore_ascii_case(&i.client_id))
                    || object_id.is_some_and(|o| o.eq_ignore_ascii_case(&i.principal_id))
                    || res_id.is_some_and(|r| r.eq_ignore_ascii_case(&i.id))
            })
            .cloned()
    });
    let Some(identity) = found else {
        return msi_err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No user-assigned identity matches the client_id, object_id or mi_res_id given (system-assigned identities are not emulated).",
        );
    };
    ctx.set_caller(&identity.principal_id);
    let Ok((token, exp)) = ctx.shared.tokens.issue(
        &ctx.shared.config,
        &aud,
        &identity.principal_id,
        &identity.client_id,
        Some(&identity.id),
        &ctx.shared.clock,
    ) else {
        return msi_err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Token signing failed.",
        );
    };
    reply::json(
        StatusCode::OK,
        json!({
            "access_token": token,
            "expires_on": exp.to_string(),
            "expires_in": TOKEN_LIFETIME_SECS.to_string(),
            "not_before": (exp - TOKEN_LIFETIME_SECS).to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity.client_id,
        }),
    )
}
