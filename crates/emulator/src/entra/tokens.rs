//! Access tokens: RS256 JWTs signed by the emulator, and their validation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{Config, normalize_audience};
use crate::error::EmulatorError;

/// Token lifetime in seconds.
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

/// The claims of an emulator-issued access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Audience.
    pub aud: String,
    /// Issuer `https://localhost:P/{tenant}/v2.0`.
    pub iss: String,
    /// Tenant id.
    pub tid: String,
    /// Object id of the principal.
    pub oid: String,
    /// Subject (the object id).
    pub sub: String,
    /// Application (client) id.
    pub appid: String,
    /// Authorized party (the client id, v2 tokens).
    #[serde(default)]
    pub azp: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Token version.
    #[serde(default)]
    pub ver: String,
    /// Identity type (`app`).
    #[serde(default)]
    pub idtyp: String,
    /// Managed identity resource id, for managed-identity tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_mirid: Option<String>,
    /// How far the emulator's clock ran ahead of real time when the token was issued, in
    /// seconds (see [`Claims::lifetime_now`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_emu_clock_offset: Option<i64>,
}

impl Claims {
    /// The time against which this token's `nbf` and `exp` are checked: the emulator's time
    /// less any jump of its clock since the token was issued. A jump moves the calendar (keys
    /// expire, retention ends, rotations fall due) but not a client's session: a client keeps
    /// a token for its lifetime in real time, as it would while real months pass with its
    /// tokens refreshed along the way (docs/adr/003-clock-jumps-and-tokens.md).
    pub fn lifetime_now(&self, clock: &Clock) -> i64 {
        let offset = clock.offset_ms() / 1000;
        let jumped = offset - self.xms_emu_clock_offset.unwrap_or(offset);
        clock.now_secs() - jumped.max(0)
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No `Authorization: Bearer` header.
    #[error("the access token is missing")]
    Missing,
    /// Not a JWT, or a header/claim could not be parsed.
    #[error("the access token is malformed")]
    Malformed,
    /// The signature does not verify.
    #[error("the access token signature is invalid")]
    BadSignature,
    /// `exp` is in the past.
    #[error("the access token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the access token is not yet valid")]
    NotYetValid,
    /// Issued for another tenant or by another issuer.
    #[error("the access token was issued for another tenant or by another issuer")]
    WrongIssuer,
    /// Not issued for this service.
    #[error("the access token audience is invalid")]
    WrongAudience,
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signing key is still being generated or failed to generate.
    #[error("the token signing key is not available")]
    KeyUnavailable,
    /// The JWT library failed.
    #[error("token signing failed: {0}")]
    Jwt(String),
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    n: String,
    e: String,
}

/// Signs and validates tokens. The RSA signing key is loaded from the state directory or
/// generated in the background, so start-up does not wait for RSA key generation; requests
/// wait for it through [`TokenService::ready`].
#[derive(Clone)]
pub struct TokenService {
    keys: Arc<tokio::sync::OnceCell<Keys>>,
    dir: Option<PathBuf>,
    /// Tokens whose signature was verified, by their SHA-256: a client sends the same token
    /// with every request, and the RSA verification is the costly part. Time, issuer and
    /// audience are still checked on every use.
    verified: Arc<std::sync::Mutex<std::collections::HashMap<[u8; 32], Claims>>>,
}

/// The most verified tokens remembered; beyond it the memory starts over.
const MAX_VERIFIED: usize = 10_000;

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("ready", &self.keys.get().is_some())
            .finish_non_exhaustive()
    }
}

fn key_err(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Tls(format!("token signing key: {e}"))
}

fn load_or_generate(dir: Option<&Path>) -> Result<Keys, EmulatorError> {
    use aws_lc_rs::encoding::AsDer;
    let path = dir.map(|d| d.join("token-signing-key.pem"));
    let pkcs8 = match &path {
        Some(p) if p.exists() => {
            let pem = std::fs::read_to_string(p)
                .map_err(|e| EmulatorError::Io(format!("read {}: {e}", p.display())))?;
            pem_body(&pem)?
        }
        _ => {
            let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(key_err)?;
            let der = kp.as_der().map_err(key_err)?.as_ref().to_vec();
            if let Some(p) = &path {
                crate::files::write_private(
                    p,
                    crate::files::der_to_pem(&der, "PRIVATE KEY").as_bytes(),
                )?;
            }
            der
        }
    };
    let kp = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).map_err(key_err)?;
    let pubkey = aws_lc_rs::signature::KeyPair::public_key(&kp);
    let n = pubkey.modulus().big_endian_without_leading_zero().to_vec();
    let e = pubkey.exponent().big_endian_without_leading_zero().to_vec();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &n);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let kid = b64.encode(&digest.as_ref()[..16]);
    let pem = crate::files::der_to_pem(&pkcs8, "PRIVATE KEY");
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(key_err)?;
    let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
    Ok(Keys {
        encoding,
        decoding,
        kid,
        n: b64.encode(&n),
        e: b64.encode(&e),
    })
}

impl TokenService {
    /// A service whose key is loaded from (or saved to) `dir`, on first use of [`Self::ready`].
    pub fn new(dir: Option<&Path>) -> Self {
        Self {
            keys: Arc::new(tokio::sync::OnceCell::new()),
            dir: dir.map(Path::to_path_buf),
            verified: Arc::default(),
        }
    }

    /// Whether the signing key file already exists (loading it is fast).
    pub fn key_on_disk(&self) -> bool {
        self.dir
            .as_ref()
            .is_some_and(|d| d.join("token-signing-key.pem").exists())
    }

    /// Loads or generates the key (once; concurrent callers wait for the same work).
    pub async fn ready(&self) -> Result<(), EmulatorError> {
        let dir = self.dir.clone();
        self.keys
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || load_or_generate(dir.as_deref()))
                    .await
                    .map_err(key_err)?
            })
            .await
            .map(|_| ())
    }

    fn keys(&self) -> Option<&Keys> {
        self.keys.get()
    }

    /// Issues a token for `aud` to the principal (`oid`, `appid`) in the tenant.
    pub fn issue(
        &self,
        cfg: &Config,
        aud: &str,
        oid: &str,
        appid: &str,
        mirid: Option<&str>,
        clock: &Clock,
    ) -> Result<(String, i64), SignError> {
        let now = clock.now_secs();
        self.issue_with(&Claims {
            aud: aud.to_owned(),
            iss: cfg.issuer(),
            tid: cfg.tenant().to_owned(),
            oid: oid.to_owned(),
            sub: oid.to_owned(),
            appid: appid.to_owned(),
            azp: appid.to_owned(),
            iat: now,
            nbf: now - 5 * 60,
            exp: now + TOKEN_LIFETIME_SECS,
            ver: "2.0".to_owned(),
            idtyp: "app".to_owned(),
            xms_mirid: mirid.map(str::to_owned),
            xms_emu_clock_offset: Some(clock.offset_ms() / 1000),
        })
        .map(|t| (t, now + TOKEN_LIFETIME_SECS))
    }

    /// Signs arbitrary claims (used by the admin API to mint test tokens).
    pub fn issue_with(&self, claims: &Claims) -> Result<String, SignError> {
        let keys = self.keys().ok_or(SignError::KeyUnavailable)?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(keys.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &keys.encoding)
            .map_err(|e| SignError::Jwt(e.to_string()))
    }

    /// Validates a bearer token for one of `audiences`.
    pub fn validate(
        &self,
        cfg: &Config,
        token: &str,
        audiences: &[String],
        clock: &Clock,
    ) -> Result<Claims, TokenError> {
        let c = self.verified_claims(token)?;
        let now = c.lifetime_now(clock);
        const SKEW: i64 = 30;
        if c.exp <= now - SKEW {
            return Err(TokenError::Expired);
        }
        if c.nbf > now + SKEW {
            return Err(TokenError::NotYetValid);
        }
        if !c.tid.eq_ignore_ascii_case(cfg.tenant()) || c.iss != cfg.issuer() {
            return Err(TokenError::WrongIssuer);
        }
        let aud = normalize_audience(&c.aud);
        if !audiences.iter().any(|a| normalize_audience(a) == aud) {
            return Err(TokenError::WrongAudience);
        }
        Ok(c)
    }

    /// The claims of `token` once its signature is verified (remembered by the token's hash).
    fn verified_claims(&self, token: &str) -> Result<Claims, TokenError> {
        let fingerprint: [u8; 32] =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
                .as_ref()
                .try_into()
                .map_err(|_| TokenError::Malformed)?;
        let lock = || self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = lock().get(&fingerprint) {
            return Ok(c.clone());
        }
        let keys = self.keys().ok_or(TokenError::BadSignature)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::BadSignature);
        }
        if header.kid.as_deref() != Some(keys.kid.as_str()) {
            return Err(TokenError::BadSignature);
        }
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_aud = false;
        v.validate_exp = false;
        v.validate_nbf = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature | K::InvalidAlgorithm | K::InvalidRsaKey(_) => {
                    TokenError::BadSignature
                }
                _ => TokenError::Malformed,
            }
        })?;
        let mut verified = lock();
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(fingerprint, data.claims.clone());
        Ok(data.claims)
    }

    /// The JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys()
            .map(|k| {
                serde_json::json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e,
                })
            })
            .into_iter()
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

fn pem_body(pem: &str) -> Result<Vec<u8>, EmulatorError> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(key_err)
}
