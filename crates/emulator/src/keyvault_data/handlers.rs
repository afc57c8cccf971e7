//! The data plane's front: authentication with Key Vault's challenge, the route table, and
//! the vault and caller every operation starts from.

use super::access::{Caller, KeyOp, KvError};
use super::api_versions;
use super::deleted::{delete, expire_deleted_keys, get_deleted, list_deleted, purge, recover};
use super::keys::{create, get, list_keys, list_versions, update};
use super::operations::crypto_http;
use super::rotation::rotation_policy;
use crate::context::Ctx;
use crate::entra::bearer::bearer;
use crate::entra::tokens::TokenError;
use crate::reply;
use crate::reply::Reply;
use http::Method;

// ----- HTTP -----

pub fn challenge(ctx: &Ctx, mut r: Reply) -> Reply {
    let cfg = &ctx.shared.config;
    let v = format!(
        "Bearer authorization=\"{}/{}\", resource=\"{}\"",
        cfg.base(),
        cfg.tenant(),
        cfg.keyvault_audience()
    );
    reply::set_header(&mut r, "www-authenticate", &v);
    r
}

pub fn token_error(e: &TokenError) -> String {
    match e {
        TokenError::Missing => "AKV10000: Request is missing a Bearer or PoP token.".to_owned(),
        TokenError::Expired => "AKV10022: Invalid token: the token has expired.".to_owned(),
        TokenError::WrongAudience => "AKV10022: Invalid audience.".to_owned(),
        TokenError::WrongIssuer => "AKV10032: Invalid issuer.".to_owned(),
        TokenError::BadSignature => "AKV10031: Invalid token signature.".to_owned(),
        TokenError::NotYetValid => {
            "AKV10022: Invalid token: the token is not yet valid.".to_owned()
        }
        TokenError::Malformed => "AKV10021: Invalid token format.".to_owned(),
    }
}

pub fn bad(msg: impl Into<String>) -> Reply {
    KvError::BadParameter(msg.into()).into_reply()
}

/// Handles a data-plane request for `vault`.
pub async fn handle(ctx: &Ctx, vault: &str) -> Reply {
    // The challenge comes first, before any body or route validation.
    let Some(token) = bearer(&ctx.headers) else {
        return challenge(
            ctx,
            KvError::Unauthorized(token_error(&TokenError::Missing)).into_reply(),
        );
    };
    let claims = match ctx.shared.tokens.validate(
        &ctx.shared.config,
        token,
        &ctx.shared.config.keyvault_audiences(),
        &ctx.shared.clock,
    ) {
        Ok(c) => c,
        Err(e) => {
            return challenge(ctx, KvError::Unauthorized(token_error(&e)).into_reply());
        }
    };
    ctx.set_caller(&claims.oid);
    let api = match ctx.q("api-version") {
        Some(v) if api_versions::KEYS.contains(&v) => v.to_owned(),
        Some(v) => {
            return bad(format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version ({}).",
                api_versions::LATEST_STABLE
            ));
        }
        None => return bad("The api-version query parameter is required."),
    };
    let caller = Caller {
        object_id: claims.oid.clone(),
        app_id: claims.appid.clone(),
        tenant_id: claims.tid.clone(),
        client_ip: Some(ctx.peer.ip()),
        trusted_service: false,
    };
    let base = format!("https://{}", ctx.host);
    // Retention that ended, and the vault's rotations and expiry events that fell due.
    let now = ctx.shared.clock.now_secs();
    if let Err(e) = ctx.shared.store.write(|st| {
        expire_deleted_keys(st, now);
        super::lifecycle::run_due(st, &ctx.shared.config, now, Some(vault));
    }) {
        return KvError::Internal(e.to_string()).into_reply();
    }
    match route(ctx, vault, &caller, &base, &api).await {
        Ok(r) => r,
        Err(KvError::Unauthorized(m)) => challenge(ctx, KvError::Unauthorized(m).into_reply()),
        Err(e) => e.into_reply(),
    }
}

pub async fn route(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    api: &str,
) -> Result<Reply, KvError> {
    let s: Vec<String> = ctx.segs.iter().map(|x| x.to_ascii_lowercase()).collect();
    let s: Vec<&str> = s.iter().map(String::as_str).collect();
    let name = ctx.segs.get(1).cloned().unwrap_or_default();
    let m = &ctx.method;
    match s.as_slice() {
        ["keys"] | ["keys", ""] if m == Method::GET => list_keys(ctx, vault, caller, base, api),
        ["keys", _, "create"] if m == Method::POST => {
            create(ctx, vault, caller, base, &name, false).await
        }
        ["keys", _, "rotate"] if m == Method::POST => {
            create(ctx, vault, caller, base, &name, true).await
        }
        ["keys", _, "versions"] if m == Method::GET => {
            list_versions(ctx, vault, caller, base, api, &name)
        }
        ["keys", _, "rotationpolicy"] => rotation_policy(ctx, vault, caller, base, &name),
        ["keys", _] | ["keys", _, ""] if m == Method::DELETE => {
            delete(ctx, vault, caller, base, &name)
        }
        ["keys", _] | ["keys", _, ""] if m == Method::GET => {
            get(ctx, vault, caller, base, &name, "")
        }
        ["keys", _] | ["keys", _, ""] if m == Method::PATCH => {
            update(ctx, vault, caller, base, &name, "")
        }
        ["keys", _, _] if m == Method::GET => get(ctx, vault, caller, base, &name, &ctx.segs[2]),
        ["keys", _, _] if m == Method::PATCH => {
            update(ctx, vault, caller, base, &name, &ctx.segs[2])
        }
        ["keys", _, _, op] if m == Method::POST => {
            let op = match *op {
                "wrapkey" => KeyOp::WrapKey,
                "unwrapkey" => KeyOp::UnwrapKey,
                "encrypt" => KeyOp::Encrypt,
                "decrypt" => KeyOp::Decrypt,
                _ => {
                    return Err(KvError::BadParameter(format!(
                        "The operation '{op}' is not supported by the emulator."
                    )));
                }
            };
            crypto_http(ctx, vault, caller, base, &name, &ctx.segs[2], op)
        }
        ["keys", _, op]
            if m == Method::POST
                && matches!(*op, "wrapkey" | "unwrapkey" | "encrypt" | "decrypt") =>
        {
            let op = match *op {
                "wrapkey" => KeyOp::WrapKey,
                "unwrapkey" => KeyOp::UnwrapKey,
                "encrypt" => KeyOp::Encrypt,
                _ => KeyOp::Decrypt,
            };
            crypto_http(ctx, vault, caller, base, &name, "", op)
        }
        ["deletedkeys"] if m == Method::GET => list_deleted(ctx, vault, caller, base),
        ["deletedkeys", _] if m == Method::GET => get_deleted(ctx, vault, caller, base, &name),
        ["deletedkeys", _] if m == Method::DELETE => purge(ctx, vault, caller, &name),
        ["deletedkeys", _, "recover"] if m == Method::POST => {
            recover(ctx, vault, caller, base, &name)
        }
        _ => Err(KvError::BadParameter(format!(
            "The request URI '{} {}' is not a supported Key Vault keys operation.",
            ctx.method, ctx.path
        ))),
    }
}
