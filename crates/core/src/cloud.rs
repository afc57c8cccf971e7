//! Cloud endpoints: where Azure Resource Manager, Microsoft Graph, Entra ID and Key Vault live,
//! and which token audience each expects.

use crate::{Error, Result};
use azure_core::cloud::{Audiences, CloudConfiguration, CustomConfiguration};
use serde::{Deserialize, Serialize};
use url::Url;

/// The endpoints and token audiences of one Azure cloud.
///
/// Use a preset ([`CloudEndpoints::azure_public`], [`CloudEndpoints::azure_china`],
/// [`CloudEndpoints::azure_us_government`]) or build a custom set, for example from the ready
/// line of the local emulator ([`EmulatorProfile`]).
///
/// ```
/// use aci_cmk_core::cloud::CloudEndpoints;
///
/// let cloud = CloudEndpoints::azure_public();
/// assert_eq!(cloud.resource_manager.as_str(), "https://management.azure.com/");
/// assert_eq!(cloud.resource_manager_scope(), "https://management.azure.com/.default");
/// assert_eq!(cloud.vault_url("myvault").as_str(), "https://myvault.vault.azure.net/");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CloudEndpoints {
    /// A short name for logs: `AzurePublic`, `AzureChina`, `AzureUSGovernment`, or a custom one.
    pub name: String,
    /// Azure Resource Manager, e.g. `https://management.azure.com/`.
    pub resource_manager: Url,
    /// The token audience of ARM, e.g. `https://management.azure.com`.
    pub resource_manager_audience: String,
    /// Microsoft Graph, e.g. `https://graph.microsoft.com/`.
    pub microsoft_graph: Url,
    /// The token audience of Microsoft Graph.
    pub microsoft_graph_audience: String,
    /// The Entra ID authority host, e.g. `https://login.microsoftonline.com/`.
    pub authority_host: Url,
    /// The DNS suffix of vaults, e.g. `vault.azure.net` (a port may follow: `vault.localhost:8443`).
    pub keyvault_dns_suffix: String,
    /// The token audience of the Key Vault data plane, e.g. `https://vault.azure.net`.
    pub keyvault_audience: String,
}

impl CloudEndpoints {
    /// Azure public cloud.
    pub fn azure_public() -> Self {
        Self::preset(
            "AzurePublic",
            "https://management.azure.com",
            "https://graph.microsoft.com",
            "https://login.microsoftonline.com",
            "vault.azure.net",
        )
    }

    /// Azure operated by 21Vianet (China).
    pub fn azure_china() -> Self {
        Self::preset(
            "AzureChina",
            "https://management.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
            "vault.azure.cn",
        )
    }

    /// Azure US Government.
    pub fn azure_us_government() -> Self {
        Self::preset(
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net",
            "https://graph.microsoft.us",
            "https://login.microsoftonline.us",
            "vault.usgovcloudapi.net",
        )
    }

    fn preset(name: &str, arm: &str, graph: &str, authority: &str, kv_suffix: &str) -> Self {
        let url = |s: &str| Url::parse(s).expect("preset endpoints are valid URLs");
        Self {
            name: name.to_owned(),
            resource_manager: url(arm),
            resource_manager_audience: arm.to_owned(),
            microsoft_graph: url(graph),
            microsoft_graph_audience: graph.to_owned(),
            authority_host: url(authority),
            keyvault_dns_suffix: kv_suffix.to_owned(),
            keyvault_audience: format!("https://{kv_suffix}"),
        }
    }

    /// A custom cloud. Every endpoint must be an absolute `https` URL (plain `http` is allowed
    /// for loopback hosts only, for tests).
    pub fn custom(
        name: impl Into<String>,
        resource_manager: &str,
        microsoft_graph: &str,
        authority_host: &str,
        keyvault_dns_suffix: impl Into<String>,
    ) -> Result<Self> {
        let keyvault_dns_suffix = keyvault_dns_suffix.into();
        let endpoints = Self {
            name: name.into(),
            resource_manager: parse_endpoint("resource manager", resource_manager)?,
            resource_manager_audience: resource_manager.trim_end_matches('/').to_owned(),
            microsoft_graph: parse_endpoint("microsoft graph", microsoft_graph)?,
            microsoft_graph_audience: microsoft_graph.trim_end_matches('/').to_owned(),
            authority_host: parse_endpoint("authority host", authority_host)?,
            keyvault_audience: format!("https://{}", keyvault_dns_suffix),
            keyvault_dns_suffix,
        };
        Ok(endpoints)
    }

    /// The `.default` scope for ARM tokens.
    pub fn resource_manager_scope(&self) -> String {
        scope_for(&self.resource_manager_audience)
    }

    /// The `.default` scope for Microsoft Graph tokens.
    pub fn microsoft_graph_scope(&self) -> String {
        scope_for(&self.microsoft_graph_audience)
    }

    /// The `.default` scope for Key Vault data-plane tokens.
    pub fn keyvault_scope(&self) -> String {
        scope_for(&self.keyvault_audience)
    }

    /// The data-plane URL of a vault in this cloud, with a trailing slash.
    pub fn vault_url(&self, vault_name: &str) -> Url {
        Url::parse(&format!(
            "https://{vault_name}.{}/",
            self.keyvault_dns_suffix
        ))
        .unwrap_or_else(|_| self.resource_manager.clone())
    }

    /// The `azure_core` cloud configuration for these endpoints, for credentials and official
    /// clients (its authority host decides where credentials ask for tokens).
    pub fn to_cloud_configuration(&self) -> CloudConfiguration {
        match self.name.as_str() {
            "AzurePublic" if *self == Self::azure_public() => CloudConfiguration::AzurePublic,
            "AzureChina" if *self == Self::azure_china() => CloudConfiguration::AzureChina,
            "AzureUSGovernment" if *self == Self::azure_us_government() => {
                CloudConfiguration::AzureGovernment
            }
            _ => {
                let mut custom = CustomConfiguration::default();
                custom.authority_host = self
                    .authority_host
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned();
                custom.audiences = Audiences::new()
                    .with::<azure_core::http::Pipeline>(self.resource_manager_audience.clone());
                CloudConfiguration::Custom(custom)
            }
        }
    }
}

impl Default for CloudEndpoints {
    fn default() -> Self {
        Self::azure_public()
    }
}

fn scope_for(audience: &str) -> String {
    format!("{}/.default", audience.trim_end_matches('/'))
}

fn parse_endpoint(what: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value).map_err(|e| {
        Error::Configuration(format!("the {what} endpoint {value:?} is not a URL: {e}"))
    })?;
    let loopback_http = url.scheme() == "http" && crate::loopback::is_loopback_host(&url);
    if url.scheme() != "https" && !loopback_http {
        return Err(Error::Configuration(format!(
            "the {what} endpoint {value:?} must use https"
        )));
    }
    Ok(url)
}

/// What the local emulator announces on its ready line, as the SDK needs it: the endpoints,
/// the default tenant, subscription and deployer principal, and the CA to trust.
///
/// This is parsed from the emulator's JSON, not shared with its code: the clients and the
/// emulator are both written from the wire contract. `Debug` is derived: its secrets
/// ([`crate::secret::SecretString`]) print redacted, so no new field can be forgotten.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmulatorProfile {
    /// ARM endpoint.
    pub arm_endpoint: String,
    /// ARM audience (no `/.default`).
    pub arm_audience: String,
    /// Graph endpoint.
    pub graph_endpoint: String,
    /// Graph audience.
    pub graph_audience: String,
    /// Authority host for the token endpoint.
    pub authority_host: String,
    /// DNS suffix of vault hosts, with the port.
    pub keyvault_dns_suffix: String,
    /// Key Vault data-plane audience.
    pub keyvault_audience: String,
    /// Managed-identity endpoint (App Service shape).
    pub managed_identity_endpoint: String,
    /// Value for the `X-IDENTITY-HEADER` of the managed-identity endpoint.
    #[serde(default)]
    pub identity_header: Option<crate::secret::SecretString>,
    /// The emulated tenant.
    pub tenant_id: String,
    /// The emulated subscription.
    pub subscription_id: String,
    /// The deployer service principal's client id.
    pub client_id: String,
    /// The deployer service principal's client secret.
    pub client_secret: crate::secret::SecretString,
    /// Path of the emulator's CA certificate, PEM.
    pub ca_cert_pem_path: String,
    /// The emulator's admin API (not part of Azure's surface).
    pub admin_endpoint: String,
}

impl EmulatorProfile {
    /// Parses the emulator's ready line (one JSON object).
    pub fn from_ready_line(line: &str) -> Result<Self> {
        serde_json::from_str(line)
            .map_err(|e| Error::Configuration(format!("not an emulator ready line: {e}")))
    }

    /// The emulator's endpoints as a custom cloud.
    pub fn cloud_endpoints(&self) -> Result<CloudEndpoints> {
        Ok(CloudEndpoints {
            name: "Emulator".to_owned(),
            resource_manager: parse_endpoint("resource manager", &self.arm_endpoint)?,
            resource_manager_audience: self.arm_audience.clone(),
            microsoft_graph: parse_endpoint("microsoft graph", &with_slash(&self.graph_endpoint))?,
            microsoft_graph_audience: self.graph_audience.clone(),
            authority_host: parse_endpoint("authority host", &self.authority_host)?,
            keyvault_dns_suffix: self.keyvault_dns_suffix.clone(),
            keyvault_audience: self.keyvault_audience.clone(),
        })
    }

    /// Reads the emulator's CA certificate.
    pub fn ca_cert_pem(&self) -> Result<String> {
        std::fs::read_to_string(&self.ca_cert_pem_path).map_err(|e| {
            Error::Configuration(format!(
                "cannot read the emulator CA at {}: {e}",
                self.ca_cert_pem_path
            ))
        })
    }
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_map_to_azure_core_clouds() {
        assert_eq!(
            CloudEndpoints::azure_public().to_cloud_configuration(),
            CloudConfiguration::AzurePublic
        );
        assert_eq!(
            CloudEndpoints::azure_china().to_cloud_configuration(),
            CloudConfiguration::AzureChina
        );
        assert_eq!(
            CloudEndpoints::azure_us_government().to_cloud_configuration(),
            CloudConfiguration::AzureGovernment
        );
    }

    #[test]
    fn scopes_have_single_slash() {
        let mut c = CloudEndpoints::azure_public();
        c.resource_manager_audience = "https://localhost:8443/".into();
        assert_eq!(
            c.resource_manager_scope(),
            "https://localhost:8443/.default"
        );
        assert_eq!(c.keyvault_scope(), "https://vault.azure.net/.default");
    }

    #[test]
    fn custom_cloud_requires_https_except_loopback() {
        assert!(
            CloudEndpoints::custom("x", "http://example.com", "https://g", "https://l", "v")
                .is_err()
        );
        let c = CloudEndpoints::custom(
            "x",
            "http://127.0.0.1:9000",
            "https://localhost:1/graph",
            "https://localhost:1",
            "vault.localhost:1",
        )
        .expect("loopback http is allowed");
        assert_eq!(c.vault_url("v1").as_str(), "https://v1.vault.localhost:1/");
        match c.to_cloud_configuration() {
            CloudConfiguration::Custom(custom) => {
                assert_eq!(custom.authority_host, "https://localhost:1")
            }
            other => panic!("expected a custom cloud, got {other:?}"),
        }
    }

    #[test]
    fn emulator_ready_line_parses_and_hides_secret() {
        let line = r#"{"ready":true,"arm_endpoint":"https://localhost:1","arm_audience":"https://localhost:1","graph_endpoint":"https://localhost:1/graph","graph_audience":"https://localhost:1/graph","authority_host":"https://localhost:1","keyvault_dns_suffix":"vault.localhost:1","keyvault_audience":"https://vault.localhost:1","managed_identity_endpoint":"https://localhost:1/msi/token","identity_header":"hdr-canary","tenant_id":"t","subscription_id":"s","client_id":"c","client_secret":"secret-canary","ca_cert_pem_path":"/tmp/ca.pem","admin_endpoint":"https://localhost:1/_admin"}"#;
        let p = EmulatorProfile::from_ready_line(line).expect("parses");
        let debug = format!("{p:?}");
        assert!(!debug.contains("secret-canary"));
        assert!(!debug.contains("hdr-canary"));
        let cloud = p.cloud_endpoints().expect("valid endpoints");
        assert_eq!(cloud.microsoft_graph.as_str(), "https://localhost:1/graph/");
        assert_eq!(cloud.keyvault_scope(), "https://vault.localhost:1/.default");
    }
}
