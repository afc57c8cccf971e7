//! Graph's errors: its envelope, the 401 of a missing or invalid token, and the 404 of an
//! object that does not exist.

use http::StatusCode;

use crate::context::Ctx;
use crate::entra::tokens::TokenError;
use crate::reply::{self, Reply};

/// A Graph error (`{"error": {"code", "message", "innerError": {date, request ids}}}`).
pub fn gerr(ctx: &Ctx, status: StatusCode, code: &str, msg: impl Into<String>) -> Reply {
    reply::graph_error(
        status,
        code,
        msg,
        &ctx.request_id,
        &ctx.shared.clock.now_rfc3339(),
    )
}

/// The 401 Graph answers a request without a valid Graph token, with its challenge.
pub fn auth_error(ctx: &Ctx, e: &TokenError) -> Reply {
    let msg = match e {
        TokenError::Missing => "Access token is empty.",
        TokenError::Expired => "Lifetime validation failed, the token is expired.",
        TokenError::WrongAudience => "Access token validation failure. Invalid audience.",
        TokenError::WrongIssuer => "Access token validation failure. Invalid issuer or tenant.",
        TokenError::BadSignature => "Access token validation failure. Invalid signature.",
        TokenError::NotYetValid => "Access token validation failure. The token is not yet valid.",
        TokenError::Malformed => "Invalid JWT token. The token is malformed.",
    };
    let mut r = gerr(
        ctx,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        msg,
    );
    reply::set_header(
        &mut r,
        "www-authenticate",
        &format!(
            "Bearer realm=\"\", authorization_uri=\"{}/{}/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ctx.shared.config.base(),
            ctx.shared.config.tenant()
        ),
    );
    r
}

/// 404 `Request_ResourceNotFound` for `what`.
pub fn not_found(ctx: &Ctx, what: &str) -> Reply {
    gerr(
        ctx,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}
