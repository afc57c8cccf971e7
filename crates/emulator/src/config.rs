//! Emulator identity (tenant, subscription, deployer) and the endpoint URLs derived from the port.

use serde::{Deserialize, Serialize};

use crate::store::{Record, Schema, Store};

/// Settings that must survive a restart when a state directory is used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersistedConfig {
    /// Tenant (directory) id.
    pub tenant_id: String,
    /// The one subscription.
    pub subscription_id: String,
    /// Deployer application (client) id.
    pub client_id: String,
    /// Deployer client secret.
    pub client_secret: String,
    /// Object id of the deployer's service principal (the `oid` of its tokens).
    pub deployer_object_id: String,
    /// Value the managed-identity endpoint expects in `X-IDENTITY-HEADER`.
    pub identity_header: String,
}

impl Record for PersistedConfig {
    const TABLE: &'static str = "meta";

    fn dump(&self) -> serde_json::Value {
        serde_json::json!({
            "tenant_id": self.tenant_id,
            "subscription_id": self.subscription_id,
            "client_id": self.client_id,
            "client_secret": "<redacted>",
            "deployer_object_id": self.deployer_object_id,
            "identity_header": "<redacted>",
        })
    }
}

/// The identities asked for at start (`EmulatorOptions`); each absent one is generated once
/// and, with a state directory, remembered.
#[derive(Debug, Clone, Default)]
pub struct RequestedIds {
    /// Tenant id.
    pub tenant_id: Option<String>,
    /// Subscription id.
    pub subscription_id: Option<String>,
    /// Deployer client id.
    pub client_id: Option<String>,
    /// Deployer client secret.
    pub client_secret: Option<String>,
}

/// Runtime configuration: identity plus the URLs derived from the listening port.
#[derive(Debug, Clone)]
pub struct Config {
    /// The HTTPS port.
    pub port: u16,
    /// Persisted identity settings.
    pub ids: PersistedConfig,
}

impl Config {
    /// `https://localhost:{port}`: ARM endpoint, ARM audience and authority host.
    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The tenant id.
    pub fn tenant(&self) -> &str {
        &self.ids.tenant_id
    }

    /// The subscription id.
    pub fn subscription(&self) -> &str {
        &self.ids.subscription_id
    }

    /// Graph endpoint (also its audience).
    pub fn graph_endpoint(&self) -> String {
        format!("{}/graph", self.base())
    }

    /// `vault.localhost:{port}`.
    pub fn keyvault_dns_suffix(&self) -> String {
        format!("vault.localhost:{}", self.port)
    }

    /// `https://vault.localhost:{port}`: the Key Vault audience and challenge resource.
    pub fn keyvault_audience(&self) -> String {
        format!("https://vault.localhost:{}", self.port)
    }

    /// The base URL of a vault's data plane, without a trailing slash: key ids are built on it
    /// (`{base}/keys/{name}/{version}`).
    pub fn vault_base_url(&self, vault: &str) -> String {
        format!(
            "https://{}.vault.localhost:{}",
            vault.to_ascii_lowercase(),
            self.port
        )
    }

    /// A vault's `vaultUri` as Azure reports it: the lower-cased name, ending with a slash
    /// (`https://{name}.vault.azure.net/`), so `vaultUri + "keys/…"` is a valid URL.
    pub fn vault_uri(&self, vault: &str) -> String {
        format!("{}/", self.vault_base_url(vault))
    }

    /// The token issuer `https://localhost:{port}/{tenant}/v2.0`.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.base(), self.ids.tenant_id)
    }

    /// Managed-identity endpoint (App Service shape).
    pub fn msi_endpoint(&self) -> String {
        format!("{}/msi/token", self.base())
    }

    /// Audiences accepted by ARM.
    pub fn arm_audiences(&self) -> Vec<String> {
        vec![self.base()]
    }

    /// Audiences accepted by Graph.
    pub fn graph_audiences(&self) -> Vec<String> {
        vec![self.graph_endpoint()]
    }

    /// Audiences accepted by the Key Vault data plane.
    pub fn keyvault_audiences(&self) -> Vec<String> {
        vec![
            self.keyvault_audience(),
            "https://vault.azure.net".to_owned(),
        ]
    }

    /// Every audience the token endpoint issues tokens for.
    pub fn all_audiences(&self) -> Vec<String> {
        let mut v = self.arm_audiences();
        v.extend(self.graph_audiences());
        v.extend(self.keyvault_audiences());
        v
    }
}

/// Normalises an audience for comparison: trims trailing slashes, lowercases the scheme/host part.
pub fn normalize_audience(aud: &str) -> String {
    aud.trim_end_matches('/').to_ascii_lowercase()
}

/// Random URL-safe secret of `n` bytes of entropy.
pub fn random_secret(n: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; n];
    // aws-lc's RNG only fails if the OS entropy source is unavailable, which makes every
    // other part of TLS fail too; fall back to a UUID-derived value in that case.
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        buf = uuid::Uuid::new_v4().as_bytes().to_vec();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// RFC 3339 formatting that cannot fail for in-range dates.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// RFC 3339 of a unix-milliseconds timestamp.
pub fn rfc3339_ms(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => rfc3339(t),
        Err(_) => rfc3339_secs(ms / 1000),
    }
}

/// RFC 3339 of a unix-seconds timestamp.
pub fn rfc3339_secs(secs: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => rfc3339(t),
        Err(_) => secs.to_string(),
    }
}

/// How far the emulator's clock runs ahead of real time, kept so that a restart on the same
/// state directory never moves time back.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ClockOffset {
    /// Milliseconds ahead of real time.
    pub offset_ms: i64,
}

impl Record for ClockOffset {
    const TABLE: &'static str = "clock";
}

/// The clock offset remembered in the store (0 for a new one).
pub fn clock_offset_ms(store: &Store) -> i64 {
    store.read(|st| {
        st.table::<ClockOffset>()
            .get("clock")
            .map_or(0, |c| c.offset_ms)
    })
}

/// Registers the emulator's own tables: its settings and its clock.
pub fn register_tables(schema: &mut Schema) {
    schema.table::<PersistedConfig>().table::<ClockOffset>();
}
