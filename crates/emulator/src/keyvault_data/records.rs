//! The key records: a key with all its versions (public and private material, attributes),
//! its soft-delete information and its rotation policy document.

use crate::store::Record;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
    /// `KeyNearExpiry` was published for this version.
    #[serde(default)]
    pub near_expiry_published: bool,
    /// `KeyExpired` was published for this version.
    #[serde(default)]
    pub expired_published: bool,
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
    /// When the deleted key shows under `deletedkeys` (unix ms): Key Vault lists a deleted key
    /// only after a propagation delay (the timing profile's `deleted_key_visible_ms`).
    #[serde(default)]
    pub listed_from_ms: i64,
}

impl KeyRecord {
    /// Whether the key is deleted and already shows under `deletedkeys` at `now_ms` (get,
    /// list, recover and purge see only such keys).
    pub fn deleted_and_listed(&self, now_ms: i64) -> bool {
        self.deleted
            .as_ref()
            .is_some_and(|d| now_ms >= d.listed_from_ms)
    }
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
    pub fn latest(&self) -> Option<&KeyVersion> {
        self.versions.last()
    }

    pub fn version(&self, v: &str) -> Option<&KeyVersion> {
        if v.is_empty() {
            self.latest()
        } else {
            self.versions
                .iter()
                .find(|k| k.version.eq_ignore_ascii_case(v))
        }
    }
}

pub fn key_id(vault: &str, name: &str) -> String {
    format!(
        "{}/{}",
        vault.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
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

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<KeyRecord>();
}
