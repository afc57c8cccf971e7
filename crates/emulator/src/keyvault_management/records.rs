//! The vault records: properties, access policies, network rules, soft-delete information,
//! the permission names Key Vault knows, and the firewall's address matching.

use crate::store::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Valid key permissions (lowercase).
pub const KEY_PERMISSIONS: &[&str] = &[
    "all",
    "encrypt",
    "decrypt",
    "wrapkey",
    "unwrapkey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];
/// Valid secret permissions.
pub const SECRET_PERMISSIONS: &[&str] = &[
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];
/// Valid certificate permissions.
pub const CERTIFICATE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];
/// Valid storage permissions.
pub const STORAGE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "set",
    "update",
    "regeneratekey",
    "recover",
    "purge",
    "backup",
    "restore",
    "setsas",
    "listsas",
    "getsas",
    "deletesas",
];

/// Permissions of an access policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Permissions {
    /// Key permissions.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Secret permissions.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Certificate permissions.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Storage permissions.
    #[serde(default)]
    pub storage: Vec<String>,
}

/// An access-policy entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessPolicy {
    /// Tenant id.
    pub tenant_id: String,
    /// Object id of the principal.
    pub object_id: String,
    /// Application id (compound identity).
    #[serde(default)]
    pub application_id: Option<String>,
    /// Permissions.
    pub permissions: Permissions,
}

/// A virtual network rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VnetRule {
    /// Subnet id (lowercased).
    pub id: String,
    /// ignoreMissingVnetServiceEndpoint.
    #[serde(default)]
    pub ignore_missing_vnet_service_endpoint: bool,
}

/// Network rules.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NetworkAcls {
    /// `AzureServices` or `None`.
    pub bypass: String,
    /// `Allow` or `Deny`.
    pub default_action: String,
    /// IPv4 CIDRs (single addresses normalised to /32).
    #[serde(default)]
    pub ip_rules: Vec<String>,
    /// Virtual network rules.
    #[serde(default)]
    pub virtual_network_rules: Vec<VnetRule>,
}

/// Vault properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VaultProps {
    /// Tenant id of the vault (tokens must come from it).
    pub tenant_id: String,
    /// `standard` or `premium`.
    pub sku_name: String,
    /// Access policies.
    #[serde(default)]
    pub access_policies: Vec<AccessPolicy>,
    /// enabledForDeployment.
    #[serde(default)]
    pub enabled_for_deployment: bool,
    /// enabledForDiskEncryption.
    #[serde(default)]
    pub enabled_for_disk_encryption: bool,
    /// enabledForTemplateDeployment.
    #[serde(default)]
    pub enabled_for_template_deployment: bool,
    /// softDeleteRetentionInDays.
    pub soft_delete_retention_days: i64,
    /// enableRbacAuthorization.
    #[serde(default)]
    pub enable_rbac_authorization: bool,
    /// enablePurgeProtection (absent = never set).
    #[serde(default)]
    pub enable_purge_protection: Option<bool>,
    /// `Enabled` or `Disabled`.
    pub public_network_access: String,
    /// Network rules.
    #[serde(default)]
    pub network_acls: Option<NetworkAcls>,
    /// Soft delete is off: a legacy vault made before Key Vault made soft delete mandatory.
    /// No request can turn it off; only [`Admin::disable_soft_delete`](crate::Admin) makes
    /// one, and a `PATCH` with `enableSoftDelete: true` turns it back on. Such a vault is gone
    /// at once when deleted.
    #[serde(default)]
    pub soft_delete_disabled: bool,
}

impl VaultProps {
    /// Whether purge protection is on.
    pub fn purge_protected(&self) -> bool {
        self.enable_purge_protection == Some(true)
    }
}

/// Soft-deletion details.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeletedInfo {
    /// Deletion time (unix seconds).
    pub deletion_date: i64,
    /// Scheduled purge (unix seconds).
    pub scheduled_purge_date: i64,
}

/// A vault (live, or soft-deleted when `deleted` is set).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vault {
    /// Name as created.
    pub name: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group as created.
    pub resource_group: String,
    /// Location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub props: VaultProps,
    /// Creator's object id.
    pub created_by: String,
    /// Created (unix seconds).
    pub created: i64,
    /// Updated (unix seconds).
    pub updated: i64,
    /// Soft deletion, if deleted.
    #[serde(default)]
    pub deleted: Option<DeletedInfo>,
    /// When the new vault's DNS name is registered (unix ms; until then it shows
    /// `RegisteringDns`); 0 for a vault that never waited.
    #[serde(default)]
    pub dns_ready_ms: i64,
}

impl Record for Vault {
    const TABLE: &'static str = "vaults";
}

impl Vault {
    /// ARM id.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// Vault name rules: 3–24 of `[a-zA-Z0-9-]`, starts with a letter, ends with a letter or digit,
/// no `--`.
pub fn valid_vault_name(n: &str) -> bool {
    let b = n.as_bytes();
    (3..=24).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !n.contains("--")
}

/// Parses an ipRule value: IPv4 address or CIDR, normalised to `a.b.c.d/n`.
pub fn normalize_ip_rule(s: &str) -> Option<String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= 32)?),
        None => (s, 32),
    };
    let ip: Ipv4Addr = addr.trim().parse().ok()?;
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    };
    let net = Ipv4Addr::from(u32::from(ip) & mask);
    Some(format!("{net}/{len}"))
}

/// Whether an IPv4 CIDR contains an address.
pub fn cidr_contains(cidr: &str, ip: std::net::IpAddr) -> bool {
    let std::net::IpAddr::V4(ip) = ip else {
        return false;
    };
    let Some((a, l)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(len)) = (a.parse::<Ipv4Addr>(), l.parse::<u32>()) else {
        return false;
    };
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Vault>();
}
