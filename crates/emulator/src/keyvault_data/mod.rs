//! Key Vault keys data plane on `https://{vault}.vault.localhost:{port}`, and the in-process
//! entry points for other emulated services ([`authorize_and_unwrap`]).

pub mod access;
pub mod crypto;

use std::collections::BTreeMap;

use crate::reply::Reply;
use base64::Engine;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use self::access::{Caller, ForbiddenReason, KeyOp, KvError, authorize};
use self::crypto::WrapAlg;
use crate::context::{Ctx, Shared};
use crate::entra::bearer::bearer;
use crate::entra::tokens::TokenError;
use crate::keyvault_management::records::Vault;
use crate::reply;
use crate::store::{Record, Tables};

/// Data-plane api-versions accepted.
pub const API_VERSIONS: &[&str] = &[
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6-preview.1",
    "7.6-preview.2",
    "7.6",
    "2025-07-01",
];

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One version of a key.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyVersion {
    /// 32 hex characters.
    pub version: String,
    /// `RSA` or `RSA-HSM`.
    pub kty: String,
    /// Allowed operations.
    pub key_ops: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// Not before (unix seconds).
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Expiry (unix seconds).
    #[serde(default)]
    pub exp: Option<i64>,
    /// Created.
    pub created: i64,
    /// Updated.
    pub updated: i64,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
    /// Private key, PKCS#8 DER, base64url. Never returned or logged.
    pub pkcs8: String,
}

impl std::fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVersion")
            .field("version", &self.version)
            .field("kty", &self.kty)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// Soft deletion of a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeletedKeyInfo {
    /// Deletion time.
    pub deleted_date: i64,
    /// Scheduled purge.
    pub scheduled_purge_date: i64,
}

/// A key and its versions (oldest first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Vault name (lowercase).
    pub vault: String,
    /// Key name as created.
    pub name: String,
    /// Versions, oldest first.
    pub versions: Vec<KeyVersion>,
    /// Soft deletion.
    #[serde(default)]
    pub deleted: Option<DeletedKeyInfo>,
    /// Rotation policy document, if set.
    #[serde(default)]
    pub rotation_policy: Option<Value>,
}

impl Record for KeyRecord {
    const TABLE: &'static str = "keys";

    fn dump(&self) -> Value {
        json!({
            "vault": self.vault,
            "name": self.name,
            "deleted": self.deleted,
            "versions": self.versions.iter().map(|v| json!({
                "version": v.version, "kty": v.kty, "key_ops": v.key_ops, "enabled": v.enabled,
                "nbf": v.nbf, "exp": v.exp, "created": v.created, "updated": v.updated, "tags": v.tags,
                "n": v.n, "e": v.e,
            })).collect::<Vec<_>>(),
        })
    }
}

impl KeyRecord {
    fn latest(&self) -> Option<&KeyVersion> {
        self.versions.last()
    }

    fn version(&self, v: &str) -> Option<&KeyVersion> {
        if v.is_empty() {
            self.latest()
        } else {
            self.versions
                .iter()
                .find(|k| k.version.eq_ignore_ascii_case(v))
        }
    }
}

fn key_id(vault: &str, name: &str) -> String {
    format!(
        "{}/{}",
        vault.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

fn recovery_level(v: &Vault) -> &'static str {
    let custom = v.props.soft_delete_retention_days < 90;
    match (v.props.purge_protected(), custom) {
        (true, false) => "Recoverable",
        (true, true) => "CustomizedRecoverable",
        (false, false) => "Recoverable+Purgeable",
        (false, true) => "CustomizedRecoverable+Purgeable",
    }
}

fn attributes_json(vault: &Vault, k: &KeyVersion) -> Value {
    let mut a = json!({
        "enabled": k.enabled,
        "created": k.created,
        "updated": k.updated,
        "recoveryLevel": recovery_level(vault),
        "recoverableDays": vault.props.soft_delete_retention_days,
        "exportable": false,
    });
    if let Some(n) = k.nbf {
        a["nbf"] = json!(n);
    }
    if let Some(e) = k.exp {
        a["exp"] = json!(e);
    }
    a
}

fn bundle_json(base: &str, vault: &Vault, rec: &KeyRecord, k: &KeyVersion) -> Value {
    let mut b = json!({
        "key": {
            "kid": format!("{base}/keys/{}/{}", rec.name, k.version),
            "kty": k.kty,
            "key_ops": k.key_ops,
            "n": k.n,
            "e": k.e,
        },
        "attributes": attributes_json(vault, k),
    });
    if !k.tags.is_empty() {
        b["tags"] = json!(k.tags);
    }
    b
}

fn item_json(
    base: &str,
    vault: &Vault,
    rec: &KeyRecord,
    k: &KeyVersion,
    with_version: bool,
) -> Value {
    let kid = if with_version {
        format!("{base}/keys/{}/{}", rec.name, k.version)
    } else {
        format!("{base}/keys/{}", rec.name)
    };
    let mut b = json!({"kid": kid, "attributes": attributes_json(vault, k)});
    if !k.tags.is_empty() {
        b["tags"] = json!(k.tags);
    }
    b
}

fn deleted_json(base: &str, vault: &Vault, rec: &KeyRecord, k: &KeyVersion) -> Value {
    let mut b = bundle_json(base, vault, rec, k);
    if let Some(d) = &rec.deleted {
        b["recoveryId"] = json!(format!("{base}/deletedkeys/{}", rec.name));
        b["deletedDate"] = json!(d.deleted_date);
        b["scheduledPurgeDate"] = json!(d.scheduled_purge_date);
    }
    b
}

/// Decodes base64url (no padding; trailing `=` tolerated), refusing `+` and `/`.
pub fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    let t = s.trim_end_matches('=');
    if !t
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return None;
    }
    B64URL.decode(t).ok()
}

fn key_not_found(name: &str) -> KvError {
    KvError::KeyNotFound(format!(
        "A key with (name/id) {name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    ))
}

fn check_usable(k: &KeyVersion, op: KeyOp, name: &str, now: i64) -> Result<(), KvError> {
    let perm = op.permission();
    if !k.enabled {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyDisabled,
            message: format!("Operation {perm} is not allowed on a disabled key."),
        });
    }
    if k.exp.is_some_and(|e| e <= now) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyExpired,
            message: format!("Operation {perm} is not allowed on an expired key."),
        });
    }
    if k.nbf.is_some_and(|n| n > now) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyNotYetValid,
            message: format!("Operation {perm} is not allowed on a key that is not yet valid."),
        });
    }
    if !k.key_ops.iter().any(|o| o.eq_ignore_ascii_case(perm)) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::OperationNotAllowed,
            message: format!(
                "Operation is not allowed.\r\nOperation: \"{perm}\"\r\nKey: {name}/{}",
                k.version
            ),
        });
    }
    Ok(())
}

fn live_vault(st: &Tables, vault: &str) -> Result<Vault, KvError> {
    st.table::<Vault>()
        .get(&vault.to_ascii_lowercase())
        .filter(|v| v.deleted.is_none())
        .cloned()
        .ok_or_else(|| KvError::VaultNotFound(format!("The vault '{vault}' does not exist.")))
}

/// The private key (PKCS#8 DER) and versioned `kid` of `key` at `version`, after authorizing
/// `caller` for `authorize_as` and checking the version is usable for `use_for`.
#[allow(clippy::too_many_arguments)]
fn authorized_key(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    authorize_as: KeyOp,
    use_for: KeyOp,
    base: &str,
) -> Result<(Vec<u8>, String), KvError> {
    let delay = state.timing.replication_delay_ms();
    let now_ms = state.clock.now_ms();
    state.store.read(|st| {
        let v = live_vault(st, vault)?;
        authorize(st, &v, caller, authorize_as, Some(key), delay, now_ms)?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, key))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(key))?;
        let k = rec
            .version(version)
            .ok_or_else(|| key_not_found(&format!("{key}/{version}")))?;
        check_usable(k, use_for, &rec.name, now_ms / 1000)?;
        let der = B64URL
            .decode(&k.pkcs8)
            .map_err(|_| KvError::Internal("stored key is corrupt".to_owned()))?;
        Ok((der, format!("{base}/keys/{}/{}", rec.name, k.version)))
    })
}

/// Wraps (encrypts with the public half) or unwraps `value` with `pkcs8`.
fn run_crypto(pkcs8: &[u8], op: KeyOp, alg: &str, value: &[u8]) -> Result<Vec<u8>, KvError> {
    let alg = WrapAlg::parse(alg).ok_or_else(|| {
        KvError::BadParameter(format!("Invalid algorithm '{alg}'. Supported values for RSA keys: RSA-OAEP, RSA-OAEP-256, RSA1_5."))
    })?;
    match op {
        KeyOp::WrapKey | KeyOp::Encrypt => crypto::wrap(pkcs8, alg, value),
        _ => crypto::unwrap(pkcs8, alg, value),
    }
    .map_err(KvError::BadParameter)
}

/// Runs wrap/unwrap/encrypt/decrypt for a caller after full authorization.
#[allow(clippy::too_many_arguments)]
fn crypto_op(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    op: KeyOp,
    alg: &str,
    value: &[u8],
    base: &str,
) -> Result<(String, Vec<u8>), KvError> {
    let (pkcs8, kid) = authorized_key(state, caller, vault, key, version, op, op, base)?;
    Ok((kid, run_crypto(&pkcs8, op, alg, value)?))
}

/// In-process unwrap (for emulated Azure services such as ACI): authorizes `caller` exactly as
/// the data plane would (tenant, public network access, firewall with the trusted-services
/// bypass, access policy or RBAC, replication delay, key state) and unwraps `wrapped`.
#[allow(clippy::too_many_arguments)]
pub fn authorize_and_unwrap(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    alg: &str,
    wrapped: &[u8],
) -> Result<Vec<u8>, KvError> {
    let base = state.config.vault_uri(vault);
    crypto_op(
        state,
        caller,
        vault,
        key,
        version,
        KeyOp::UnwrapKey,
        alg,
        wrapped,
        &base,
    )
    .map(|(_, v)| v)
}

/// In-process "fetch the public key and wrap locally", as ACI does with a customer-managed key:
/// authorizes `keys/get` only (not `wrapKey`), checks the key version is usable, and encrypts
/// `plaintext` with its public half. Returns the versioned key id and the wrapped bytes.
pub fn get_public_key_and_wrap(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    alg: &str,
    plaintext: &[u8],
) -> Result<(String, Vec<u8>), KvError> {
    let base = state.config.vault_uri(vault);
    let (pkcs8, kid) = authorized_key(
        state,
        caller,
        vault,
        key,
        version,
        KeyOp::Get,
        KeyOp::WrapKey,
        &base,
    )?;
    Ok((kid, run_crypto(&pkcs8, KeyOp::WrapKey, alg, plaintext)?))
}

// ----- HTTP -----

fn challenge(ctx: &Ctx, mut r: Reply) -> Reply {
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

fn token_error(e: &TokenError) -> String {
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

fn bad(msg: impl Into<String>) -> Reply {
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
        Some(v) if API_VERSIONS.contains(&v) => v.to_owned(),
        Some(v) => {
            return bad(format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version (2025-07-01)."
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
    if let Err(e) = ctx
        .shared
        .store
        .write(|st| expire_deleted_keys(st, ctx.shared.clock.now_secs()))
    {
        return KvError::Internal(e.to_string()).into_reply();
    }
    match route(ctx, vault, &caller, &base, &api).await {
        Ok(r) => r,
        Err(KvError::Unauthorized(m)) => challenge(ctx, KvError::Unauthorized(m).into_reply()),
        Err(e) => e.into_reply(),
    }
}

async fn route(
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

/// Purges soft-deleted keys whose retention has ended.
pub fn expire_deleted_keys(st: &mut Tables, now: i64) {
    st.table_mut::<KeyRecord>().retain(|_, r| {
        r.deleted
            .as_ref()
            .is_none_or(|d| d.scheduled_purge_date > now)
    });
}

fn delay(ctx: &Ctx) -> u64 {
    ctx.shared.timing.replication_delay_ms()
}

fn authorized_vault(
    ctx: &Ctx,
    st: &Tables,
    vault: &str,
    caller: &Caller,
    op: KeyOp,
    key: Option<&str>,
) -> Result<Vault, KvError> {
    let v = live_vault(st, vault)?;
    authorize(
        st,
        &v,
        caller,
        op,
        key,
        delay(ctx),
        ctx.shared.clock.now_ms(),
    )?;
    Ok(v)
}

fn body_obj(ctx: &Ctx) -> Result<Map<String, Value>, KvError> {
    match ctx.json_body().map_err(KvError::BadParameter)? {
        Value::Object(o) => Ok(o),
        _ => Err(KvError::BadParameter(
            "The request body must be a JSON object.".to_owned(),
        )),
    }
}

fn valid_key_name(n: &str) -> bool {
    (1..=127).contains(&n.len()) && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

struct Attrs {
    enabled: Option<bool>,
    nbf: Option<Option<i64>>,
    exp: Option<Option<i64>>,
}

fn parse_attrs(o: &Map<String, Value>) -> Result<Attrs, KvError> {
    let mut a = Attrs {
        enabled: None,
        nbf: None,
        exp: None,
    };
    let Some(v) = o.get("attributes") else {
        return Ok(a);
    };
    let Value::Object(at) = v else {
        return Err(KvError::BadParameter(
            "'attributes' must be an object.".to_owned(),
        ));
    };
    match at.get("enabled") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => a.enabled = Some(*b),
        Some(_) => {
            return Err(KvError::BadParameter(
                "'attributes.enabled' must be a boolean.".to_owned(),
            ));
        }
    }
    for (k, slot) in [("nbf", &mut a.nbf), ("exp", &mut a.exp)] {
        match at.get(k) {
            None => {}
            Some(Value::Null) => *slot = Some(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => *slot = Some(n.as_i64()),
            Some(_) => {
                return Err(KvError::BadParameter(format!(
                    "'attributes.{k}' must be an integer (unix seconds)."
                )));
            }
        }
    }
    Ok(a)
}

const RSA_OPS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];

fn parse_key_ops(o: &Map<String, Value>) -> Result<Option<Vec<String>>, KvError> {
    match o.get("key_ops") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a {
                let Value::String(s) = v else {
                    return Err(KvError::BadParameter(
                        "'key_ops' must be an array of strings.".to_owned(),
                    ));
                };
                let Some(canon) = RSA_OPS
                    .iter()
                    .chain(["import", "export"].iter())
                    .find(|x| x.eq_ignore_ascii_case(s))
                else {
                    return Err(KvError::BadParameter(format!(
                        "Invalid key operation '{s}'."
                    )));
                };
                if !out.iter().any(|x: &String| x == canon) {
                    out.push((*canon).to_owned());
                }
            }
            Ok(Some(out))
        }
        Some(_) => Err(KvError::BadParameter(
            "'key_ops' must be an array of strings.".to_owned(),
        )),
    }
}

fn parse_tags(o: &Map<String, Value>) -> Result<Option<BTreeMap<String, String>>, KvError> {
    match o.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(t)) => {
            let mut out = BTreeMap::new();
            for (k, v) in t {
                let Value::String(s) = v else {
                    return Err(KvError::BadParameter(format!(
                        "Tag '{k}' must have a string value."
                    )));
                };
                out.insert(k.clone(), s.clone());
            }
            if out.len() > 15 {
                return Err(KvError::BadParameter(
                    "A key can have at most 15 tags.".to_owned(),
                ));
            }
            Ok(Some(out))
        }
        Some(_) => Err(KvError::BadParameter(
            "'tags' must be an object.".to_owned(),
        )),
    }
}

async fn create(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    rotate: bool,
) -> Result<Reply, KvError> {
    let op = if rotate { KeyOp::Rotate } else { KeyOp::Create };
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, op, Some(name)))?;
    if !valid_key_name(name) {
        return Err(KvError::BadParameter(format!(
            "The request URI contains an invalid name: {name}. Key names are 1-127 characters of letters, digits and hyphens."
        )));
    }
    // What the new version looks like.
    let (kty, size, ops, attrs, tags) = if rotate {
        let rec = ctx.shared.store.read(|st| {
            st.table::<KeyRecord>()
                .get(&key_id(vault, name))
                .filter(|r| r.deleted.is_none())
                .cloned()
        });
        let rec = rec.ok_or_else(|| key_not_found(name))?;
        let last = rec.latest().ok_or_else(|| key_not_found(name))?;
        let bits = (B64URL.decode(&last.n).map(|n| n.len()).unwrap_or(256) * 8) as u32;
        (
            last.kty.clone(),
            bits,
            last.key_ops.clone(),
            Attrs {
                enabled: Some(true),
                nbf: None,
                exp: None,
            },
            last.tags.clone(),
        )
    } else {
        let o = body_obj(ctx)?;
        let kty = match o.get("kty") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                return Err(KvError::BadParameter(
                    "The property 'kty' is required.".to_owned(),
                ));
            }
            Some(_) => return Err(KvError::BadParameter("'kty' must be a string.".to_owned())),
        };
        match kty.as_str() {
            "RSA" => {}
            "RSA-HSM" => {
                if v.props.sku_name != "premium" {
                    return Err(KvError::BadParameter(
                        "Key type 'RSA-HSM' requires a premium vault.".to_owned(),
                    ));
                }
            }
            "EC" | "EC-HSM" | "oct" | "oct-HSM" => {
                return Err(KvError::BadParameter(format!(
                    "Key type '{kty}' is not supported by the emulator (RSA and RSA-HSM only)."
                )));
            }
            _ => return Err(KvError::BadParameter(format!("Invalid key type '{kty}'."))),
        }
        let size = match o.get("key_size") {
            None | Some(Value::Null) => 2048,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(s @ (2048 | 3072 | 4096)) => s as u32,
                _ => {
                    return Err(KvError::BadParameter(format!(
                        "The key size {n} is not supported. Supported sizes for RSA keys: 2048, 3072, 4096."
                    )));
                }
            },
            Some(_) => {
                return Err(KvError::BadParameter(
                    "'key_size' must be an integer.".to_owned(),
                ));
            }
        };
        match o.get("public_exponent") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.as_u64() == Some(65537) => {}
            Some(_) => {
                return Err(KvError::BadParameter(
                    "Only the public exponent 65537 is supported.".to_owned(),
                ));
            }
        }
        if let Some(Value::String(c)) = o.get("crv") {
            return Err(KvError::BadParameter(format!(
                "'crv' ({c}) is not valid for RSA keys."
            )));
        }
        let ops =
            parse_key_ops(&o)?.unwrap_or_else(|| RSA_OPS.iter().map(|s| (*s).to_owned()).collect());
        let attrs = parse_attrs(&o)?;
        let tags = parse_tags(&o)?.unwrap_or_default();
        (kty, size, ops, attrs, tags)
    };
    let generated = tokio::task::spawn_blocking(move || crypto::generate_rsa(size))
        .await
        .map_err(|e| KvError::Internal(e.to_string()))?
        .map_err(KvError::Internal)?;
    let now = ctx.shared.clock.now_secs();
    let kv = KeyVersion {
        version: uuid::Uuid::new_v4().simple().to_string(),
        kty,
        key_ops: ops,
        enabled: attrs.enabled.unwrap_or(true),
        nbf: attrs.nbf.flatten(),
        exp: attrs.exp.flatten(),
        created: now,
        updated: now,
        tags,
        n: B64URL.encode(&generated.n),
        e: B64URL.encode(&generated.e),
        pkcs8: B64URL.encode(&generated.pkcs8),
    };
    let vault_lc = vault.to_ascii_lowercase();
    let id = key_id(vault, name);
    let rec = ctx
        .shared
        .store
        .write(|st| -> Result<KeyRecord, KvError> {
            match st.table_mut::<KeyRecord>().get_mut(&id) {
                Some(r) if r.deleted.is_some() => Err(KvError::DeletedButRecoverable(format!(
                    "Key {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged."
                ))),
                Some(r) => {
                    r.versions.push(kv.clone());
                    Ok(r.clone())
                }
                None => {
                    let r = KeyRecord {
                        vault: vault_lc.clone(),
                        name: name.to_owned(),
                        versions: vec![kv.clone()],
                        deleted: None,
                        rotation_policy: None,
                    };
                    st.table_mut::<KeyRecord>().insert(id.clone(), r.clone());
                    Ok(r)
                }
            }
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    Ok(reply::json(
        StatusCode::OK,
        &bundle_json(base, &v, &rec, &kv),
    ))
}

fn get(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
) -> Result<Reply, KvError> {
    ctx.shared.store.read(|st| {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::Get, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(name))?;
        let k = rec
            .version(version)
            .ok_or_else(|| key_not_found(&format!("{name}/{version}")))?;
        Ok(reply::json(StatusCode::OK, &bundle_json(base, &v, rec, k)))
    })
}

fn update(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Update, Some(name)))?;
    let o = body_obj(ctx)?;
    let attrs = parse_attrs(&o)?;
    let ops = parse_key_ops(&o)?;
    let tags = parse_tags(&o)?;
    let id = key_id(vault, name);
    let (rec, kv) = ctx
        .shared
        .store
        .write(|st| -> Result<(KeyRecord, KeyVersion), KvError> {
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted.is_none())
                .ok_or_else(|| key_not_found(name))?;
            let idx = if version.is_empty() {
                rec.versions.len().checked_sub(1)
            } else {
                rec.versions
                    .iter()
                    .position(|k| k.version.eq_ignore_ascii_case(version))
            }
            .ok_or_else(|| key_not_found(&format!("{name}/{version}")))?;
            let k = &mut rec.versions[idx];
            if let Some(e) = attrs.enabled {
                k.enabled = e;
            }
            if let Some(n) = attrs.nbf {
                k.nbf = n;
            }
            if let Some(e) = attrs.exp {
                k.exp = e;
            }
            if let Some(o) = ops {
                k.key_ops = o;
            }
            if let Some(t) = tags {
                k.tags = t;
            }
            k.updated = ctx.shared.clock.now_secs();
            let k = k.clone();
            Ok((rec.clone(), k))
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    Ok(reply::json(
        StatusCode::OK,
        &bundle_json(base, &v, &rec, &kv),
    ))
}

fn page_params(ctx: &Ctx) -> Result<(usize, usize), KvError> {
    let max = match ctx.q("maxresults") {
        None => 25,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=25).contains(&n) => n,
            _ => {
                return Err(KvError::BadParameter(format!(
                    "Invalid maxresults '{m}': it must be between 1 and 25."
                )));
            }
        },
    };
    let skip = match ctx.q("$skiptoken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| KvError::BadParameter("Invalid $skiptoken.".to_owned()))?,
    };
    Ok((max, skip))
}

fn page(items: Vec<Value>, max: usize, skip: usize, next_base: &str) -> Value {
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(max).collect();
    let next = if skip + max < total {
        Value::String(format!(
            "{next_base}&$skiptoken={}&maxresults={max}",
            skip + max
        ))
    } else {
        Value::Null
    };
    json!({"value": value, "nextLink": next})
}

fn list_keys(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    api: &str,
) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let vault_lc = vault.to_ascii_lowercase();
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::List, None)?;
        Ok(st
            .table::<KeyRecord>()
            .values()
            .filter(|r| r.vault == vault_lc && r.deleted.is_none())
            .filter_map(|r| r.latest().map(|k| item_json(base, &v, r, k, false)))
            .collect())
    })?;
    Ok(reply::json(
        StatusCode::OK,
        &page(items, max, skip, &format!("{base}/keys?api-version={api}")),
    ))
}

fn list_versions(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    api: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::List, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(name))?;
        Ok(rec
            .versions
            .iter()
            .map(|k| item_json(base, &v, rec, k, true))
            .collect())
    })?;
    Ok(reply::json(
        StatusCode::OK,
        &page(
            items,
            max,
            skip,
            &format!("{base}/keys/{name}/versions?api-version={api}"),
        ),
    ))
}

fn delete(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Delete, Some(name)))?;
    let id = key_id(vault, name);
    let days = v.props.soft_delete_retention_days;
    let rec = ctx
        .shared
        .store
        .write(|st| -> Result<KeyRecord, KvError> {
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted.is_none())
                .ok_or_else(|| key_not_found(name))?;
            let now = ctx.shared.clock.now_secs();
            rec.deleted = Some(DeletedKeyInfo {
                deleted_date: now,
                scheduled_purge_date: now + days * 86_400,
            });
            Ok(rec.clone())
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    let k = rec.latest().ok_or_else(|| key_not_found(name))?;
    Ok(reply::json(
        StatusCode::OK,
        &deleted_json(base, &v, &rec, k),
    ))
}

fn deleted_not_found(name: &str) -> KvError {
    KvError::KeyNotFound(format!("Deleted Key not found: {name}"))
}

fn get_deleted(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    ctx.shared.store.read(|st| {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::GetDeleted, Some(name))?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, name))
            .filter(|r| r.deleted.is_some())
            .ok_or_else(|| deleted_not_found(name))?;
        let k = rec.latest().ok_or_else(|| deleted_not_found(name))?;
        Ok(reply::json(StatusCode::OK, &deleted_json(base, &v, rec, k)))
    })
}

fn list_deleted(ctx: &Ctx, vault: &str, caller: &Caller, base: &str) -> Result<Reply, KvError> {
    let (max, skip) = page_params(ctx)?;
    let vault_lc = vault.to_ascii_lowercase();
    let items = ctx.shared.store.read(|st| -> Result<Vec<Value>, KvError> {
        let v = authorized_vault(ctx, st, vault, caller, KeyOp::ListDeleted, None)?;
        Ok(st
            .table::<KeyRecord>()
            .values()
            .filter(|r| r.vault == vault_lc && r.deleted.is_some())
            .filter_map(|r| {
                r.latest().map(|k| {
                    let mut i = item_json(base, &v, r, k, false);
                    if let Some(d) = &r.deleted {
                        i["recoveryId"] = json!(format!("{base}/deletedkeys/{}", r.name));
                        i["deletedDate"] = json!(d.deleted_date);
                        i["scheduledPurgeDate"] = json!(d.scheduled_purge_date);
                    }
                    i
                })
            })
            .collect())
    })?;
    let api = ctx.q("api-version").unwrap_or("7.5").to_owned();
    Ok(reply::json(
        StatusCode::OK,
        &page(
            items,
            max,
            skip,
            &format!("{base}/deletedkeys?api-version={api}"),
        ),
    ))
}

fn recover(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Recover, Some(name)))?;
    let id = key_id(vault, name);
    let rec = ctx
        .shared
        .store
        .write(|st| -> Result<KeyRecord, KvError> {
            let rec = st
                .table_mut::<KeyRecord>()
                .get_mut(&id)
                .filter(|r| r.deleted.is_some())
                .ok_or_else(|| deleted_not_found(name))?;
            rec.deleted = None;
            Ok(rec.clone())
        })
        .map_err(|e| KvError::Internal(e.to_string()))??;
    let k = rec.latest().ok_or_else(|| key_not_found(name))?;
    Ok(reply::json(StatusCode::OK, &bundle_json(base, &v, &rec, k)))
}

fn purge(ctx: &Ctx, vault: &str, caller: &Caller, name: &str) -> Result<Reply, KvError> {
    let v = ctx
        .shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::Purge, Some(name)))?;
    if v.props.purge_protected() {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::PurgeProtected,
            message: format!(
                "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.\r\nVault: {}",
                v.name.to_ascii_lowercase()
            ),
        });
    }
    let id = key_id(vault, name);
    let gone = ctx
        .shared
        .store
        .write(|st| {
            if st
                .table::<KeyRecord>()
                .get(&id)
                .is_some_and(|r| r.deleted.is_some())
            {
                st.table_mut::<KeyRecord>().remove(&id);
                true
            } else {
                false
            }
        })
        .map_err(|e| KvError::Internal(e.to_string()))?;
    if !gone {
        return Err(deleted_not_found(name));
    }
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

fn crypto_http(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
    version: &str,
    op: KeyOp,
) -> Result<Reply, KvError> {
    // Authorize before looking at the body.
    ctx.shared
        .store
        .read(|st| authorized_vault(ctx, st, vault, caller, op, Some(name)))?;
    let o = body_obj(ctx)?;
    let alg = match o.get("alg") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(KvError::BadParameter(
                "The property 'alg' is required.".to_owned(),
            ));
        }
        Some(_) => return Err(KvError::BadParameter("'alg' must be a string.".to_owned())),
    };
    let value = match o.get("value") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(KvError::BadParameter(
                "The property 'value' is required.".to_owned(),
            ));
        }
        Some(_) => {
            return Err(KvError::BadParameter(
                "'value' must be a base64url string.".to_owned(),
            ));
        }
    };
    let bytes = decode_b64url(&value)
        .ok_or_else(|| KvError::BadParameter("Content of 'value' is not base64url.".to_owned()))?;
    if bytes.is_empty() {
        return Err(KvError::BadParameter("The 'value' is empty.".to_owned()));
    }
    let (kid, out) = crypto_op(
        &ctx.shared,
        caller,
        vault,
        name,
        version,
        op,
        &alg,
        &bytes,
        base,
    )?;
    Ok(reply::json(
        StatusCode::OK,
        &json!({"kid": kid, "value": B64URL.encode(out)}),
    ))
}

fn rotation_policy(
    ctx: &Ctx,
    vault: &str,
    caller: &Caller,
    base: &str,
    name: &str,
) -> Result<Reply, KvError> {
    let id = key_id(vault, name);
    let policy_id = format!("{base}/keys/{name}/rotationpolicy");
    match ctx.method {
        Method::GET => ctx.shared.store.read(|st| {
            authorized_vault(ctx, st, vault, caller, KeyOp::GetRotationPolicy, Some(name))?;
            let rec = st.table::<KeyRecord>().get(&id).filter(|r| r.deleted.is_none()).ok_or_else(|| key_not_found(name))?;
            let p = rec.rotation_policy.clone().unwrap_or_else(|| {
                json!({"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}], "attributes": {}})
            });
            let mut p = p;
            p["id"] = json!(policy_id);
            Ok(reply::json(StatusCode::OK, &p))
        }),
        Method::PUT => {
            ctx.shared.store.read(|st| authorized_vault(ctx, st, vault, caller, KeyOp::SetRotationPolicy, Some(name)))?;
            let mut o = Value::Object(body_obj(ctx)?);
            let now = ctx.shared.clock.now_secs();
            if let Some(a) = o.get_mut("attributes").and_then(Value::as_object_mut) {
                a.insert("created".to_owned(), json!(now));
                a.insert("updated".to_owned(), json!(now));
            }
            o["id"] = json!(policy_id);
            let stored = o.clone();
            ctx.shared
                .store
                .write(|st| -> Result<(), KvError> {
                    let rec = st.table_mut::<KeyRecord>().get_mut(&id).filter(|r| r.deleted.is_none()).ok_or_else(|| key_not_found(name))?;
                    rec.rotation_policy = Some(stored);
                    Ok(())
                })
                .map_err(|e| KvError::Internal(e.to_string()))??;
            Ok(reply::json(StatusCode::OK, &o))
        }
        _ => Err(KvError::BadParameter("Only GET and PUT are supported on rotationpolicy.".to_owned())),
    }
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<KeyRecord>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_checked() {
        assert_eq!(decode_b64url("AQAB"), Some(vec![1, 0, 1]));
        assert_eq!(decode_b64url("_-8"), Some(vec![0xff, 0xef]));
        assert_eq!(decode_b64url("_-8="), Some(vec![0xff, 0xef]));
        assert_eq!(decode_b64url("/+8"), None);
        assert_eq!(decode_b64url("a b"), None);
        assert_eq!(decode_b64url("A"), None);
    }

    #[test]
    fn rsa_oaep_round_trips_for_each_algorithm() {
        let k = crypto::generate_rsa(2048).expect("keygen");
        for alg in ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"] {
            let a = WrapAlg::parse(alg).expect("alg");
            let w = crypto::wrap(&k.pkcs8, a, b"cek").expect("wrap");
            assert_eq!(w.len(), 256);
            assert_eq!(crypto::unwrap(&k.pkcs8, a, &w).expect("unwrap"), b"cek");
        }
        assert!(crypto::wrap(&k.pkcs8, WrapAlg::RsaOaep256, &[0u8; 300]).is_err());
        assert!(crypto::unwrap(&k.pkcs8, WrapAlg::RsaOaep256, &[0u8; 256]).is_err());
        assert!(crypto::generate_rsa(1024).is_err());
    }
}
