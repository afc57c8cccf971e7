//! Authenticating a request: its bearer token, validated by the [`TokenService`] for the
//! audiences a service accepts.
//!
//! [`TokenService`]: super::tokens::TokenService

use super::tokens::{Claims, TokenError};
use crate::context::Ctx;

/// Extracts the bearer token of a request, if any.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim())
    } else {
        None
    }
}

/// Authenticates a request for one of `audiences`, recording the caller for the request log.
pub fn authenticate(ctx: &Ctx, audiences: &[String]) -> Result<Claims, TokenError> {
    let token = bearer(&ctx.headers).ok_or(TokenError::Missing)?;
    let claims =
        ctx.shared
            .tokens
            .validate(&ctx.shared.config, token, audiences, &ctx.shared.clock)?;
    ctx.set_caller(&claims.oid);
    Ok(claims)
}
