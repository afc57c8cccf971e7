//! Microsoft.KeyVault management plane: vaults (with soft delete and purge protection),
//! deleted vaults, purge, checkNameAvailability and access-policy updates.

use crate::keyvault_data::KeyRecord;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{
    body_object, check_api_version, norm_location, opt_arr, opt_bool, opt_i64, opt_obj, opt_str,
    opt_tags, system_data,
};
use crate::config::Config;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use crate::store::{Record, Tables};

/// api-versions accepted for Microsoft.KeyVault.
pub const API_VERSIONS: &[&str] = &[
    "2015-06-01",
    "2016-10-01",
    "2018-02-14",
    "2019-09-01",
    "2020-04-01-preview",
    "2021-04-01-preview",
    "2021-06-01-preview",
    "2021-10-01",
    "2021-11-01-preview",
    "2022-02-01-preview",
    "2022-07-01",
    "2022-11-01",
    "2023-02-01",
    "2023-07-01",
    "2023-08-01-preview",
    "2024-04-01-preview",
    "2024-11-01",
    "2024-12-01-preview",
    "2025-05-01",
    "2026-02-01",
    "2026-05-15",
];

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

fn policy_json(p: &AccessPolicy) -> Value {
    let mut v = json!({
        "tenantId": p.tenant_id,
        "objectId": p.object_id,
        "permissions": {
            "keys": p.permissions.keys,
            "secrets": p.permissions.secrets,
            "certificates": p.permissions.certificates,
            "storage": p.permissions.storage,
        }
    });
    if let Some(a) = &p.application_id {
        v["applicationId"] = json!(a);
    }
    v
}

/// The vault resource JSON.
pub fn vault_json(cfg: &Config, v: &Vault) -> Value {
    let p = &v.props;
    let mut props = json!({
        "tenantId": p.tenant_id,
        "sku": {"family": "A", "name": p.sku_name},
        "accessPolicies": p.access_policies.iter().map(policy_json).collect::<Vec<_>>(),
        "enabledForDeployment": p.enabled_for_deployment,
        "enabledForDiskEncryption": p.enabled_for_disk_encryption,
        "enabledForTemplateDeployment": p.enabled_for_template_deployment,
        "enableSoftDelete": true,
        "softDeleteRetentionInDays": p.soft_delete_retention_days,
        "enableRbacAuthorization": p.enable_rbac_authorization,
        "vaultUri": cfg.vault_uri(&v.name),
        "provisioningState": "Succeeded",
        "publicNetworkAccess": p.public_network_access,
    });
    if let Some(pp) = p.enable_purge_protection {
        props["enablePurgeProtection"] = json!(pp);
    }
    if let Some(n) = &p.network_acls {
        props["networkAcls"] = json!({
            "bypass": n.bypass,
            "defaultAction": n.default_action,
            "ipRules": n.ip_rules.iter().map(|r| json!({"value": r})).collect::<Vec<_>>(),
            "virtualNetworkRules": n.virtual_network_rules.iter().map(|r| json!({"id": r.id, "ignoreMissingVnetServiceEndpoint": r.ignore_missing_vnet_service_endpoint})).collect::<Vec<_>>(),
        });
    }
    json!({
        "id": v.id(),
        "name": v.name,
        "type": "Microsoft.KeyVault/vaults",
        "location": v.location,
        "tags": v.tags,
        "systemData": system_data(&v.created_by, v.created, v.updated),
        "properties": props,
    })
}

fn deleted_json(v: &Vault) -> Value {
    let d = v.deleted.as_ref();
    let loc = norm_location(&v.location);
    json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{}", v.subscription, v.name),
        "name": v.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": v.id(),
            "location": loc,
            "deletionDate": d.map(|d| crate::config::rfc3339_secs(d.deletion_date)),
            "scheduledPurgeDate": d.map(|d| crate::config::rfc3339_secs(d.scheduled_purge_date)),
            "tags": v.tags,
            "purgeProtectionEnabled": v.props.purge_protected(),
        }
    })
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

fn invalid_name(n: &str) -> ArmError {
    ArmError::bad(
        "VaultNameNotValid",
        format!(
            "The vault name '{n}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"
        ),
    )
}

fn vault_not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

fn parse_perms(
    o: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
    path: &str,
) -> Result<Vec<String>, ArmError> {
    let Some(arr) = opt_arr(o, key, &format!("{path}.{key}"))? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, v) in arr.iter().enumerate() {
        let Value::String(s) = v else {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                format!(
                    "The request content was invalid and could not be deserialized: '{path}.{key}[{i}]' must be a string."
                ),
            ));
        };
        if !allowed.contains(&s.to_ascii_lowercase().as_str()) {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "Invalid value found at accessPolicies[].permissions.{key}[{i}]: '{s}' is not a valid {key} permission. Valid values are: {}.",
                    allowed.join(", ")
                ),
            ));
        }
        out.push(s.clone());
    }
    Ok(out)
}

/// Parses and validates an `accessPolicies` array.
pub fn parse_policies(arr: &[Value]) -> Result<Vec<AccessPolicy>, ArmError> {
    if arr.len() > 1024 {
        return Err(ArmError::bad(
            "AccessPolicyLimitExceeded",
            "A vault can have at most 1024 access policies.",
        ));
    }
    let mut out = Vec::with_capacity(arr.len());
    for (i, v) in arr.iter().enumerate() {
        let path = format!("properties.accessPolicies[{i}]");
        let Value::Object(o) = v else {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                format!("'{path}' must be an object."),
            ));
        };
        let tenant_id = opt_str(o, "tenantId", &format!("{path}.tenantId"))?.ok_or_else(|| {
            ArmError::bad(
                "BadRequest",
                format!("The 'tenantId' property of {path} is required."),
            )
        })?;
        if !is_guid(&tenant_id) {
            return Err(ArmError::bad(
                "BadRequest",
                format!("The 'tenantId' of {path} must be a GUID."),
            ));
        }
        let object_id = opt_str(o, "objectId", &format!("{path}.objectId"))?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ArmError::bad(
                    "BadRequest",
                    format!("The 'objectId' property of {path} is required."),
                )
            })?;
        let application_id = opt_str(o, "applicationId", &format!("{path}.applicationId"))?;
        if let Some(a) = &application_id
            && !is_guid(a)
        {
            return Err(ArmError::bad(
                "BadRequest",
                format!("The 'applicationId' of {path} must be a GUID."),
            ));
        }
        let perms =
            opt_obj(o, "permissions", &format!("{path}.permissions"))?.ok_or_else(|| {
                ArmError::bad(
                    "BadRequest",
                    format!("The 'permissions' property of {path} is required."),
                )
            })?;
        let pp = format!("{path}.permissions");
        out.push(AccessPolicy {
            tenant_id: tenant_id.to_ascii_lowercase(),
            object_id: object_id.to_ascii_lowercase(),
            application_id: application_id.map(|a| a.to_ascii_lowercase()),
            permissions: Permissions {
                keys: parse_perms(perms, "keys", KEY_PERMISSIONS, &pp)?,
                secrets: parse_perms(perms, "secrets", SECRET_PERMISSIONS, &pp)?,
                certificates: parse_perms(perms, "certificates", CERTIFICATE_PERMISSIONS, &pp)?,
                storage: parse_perms(perms, "storage", STORAGE_PERMISSIONS, &pp)?,
            },
        });
    }
    Ok(out)
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

fn parse_network_acls(o: &Map<String, Value>) -> Result<NetworkAcls, ArmError> {
    let p = "properties.networkAcls";
    let bypass = match opt_str(o, "bypass", &format!("{p}.bypass"))? {
        None => "AzureServices".to_owned(),
        Some(b) if b.eq_ignore_ascii_case("AzureServices") => "AzureServices".to_owned(),
        Some(b) if b.eq_ignore_ascii_case("None") => "None".to_owned(),
        Some(b) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The value '{b}' of networkAcls.bypass is invalid. Valid values are 'AzureServices' and 'None'."
                ),
            ));
        }
    };
    let default_action = match opt_str(o, "defaultAction", &format!("{p}.defaultAction"))? {
        None => "Allow".to_owned(),
        Some(b) if b.eq_ignore_ascii_case("Allow") => "Allow".to_owned(),
        Some(b) if b.eq_ignore_ascii_case("Deny") => "Deny".to_owned(),
        Some(b) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The value '{b}' of networkAcls.defaultAction is invalid. Valid values are 'Allow' and 'Deny'."
                ),
            ));
        }
    };
    let mut ip_rules = Vec::new();
    for (i, r) in opt_arr(o, "ipRules", &format!("{p}.ipRules"))?
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Value::Object(ro) = r else {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                format!("'{p}.ipRules[{i}]' must be an object."),
            ));
        };
        let v = opt_str(ro, "value", &format!("{p}.ipRules[{i}].value"))?.unwrap_or_default();
        let n = normalize_ip_rule(&v).ok_or_else(|| {
            ArmError::bad("BadRequest", format!("The IP rule '{v}' is invalid. Specify an IPv4 address or an IPv4 address range in CIDR format."))
        })?;
        if !ip_rules.contains(&n) {
            ip_rules.push(n);
        }
    }
    let mut virtual_network_rules = Vec::new();
    for (i, r) in opt_arr(
        o,
        "virtualNetworkRules",
        &format!("{p}.virtualNetworkRules"),
    )?
    .into_iter()
    .flatten()
    .enumerate()
    {
        let Value::Object(ro) = r else {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                format!("'{p}.virtualNetworkRules[{i}]' must be an object."),
            ));
        };
        let id =
            opt_str(ro, "id", &format!("{p}.virtualNetworkRules[{i}].id"))?.unwrap_or_default();
        if !id.to_ascii_lowercase().contains("/subnets/") {
            return Err(ArmError::bad(
                "BadRequest",
                format!("The virtual network rule '{id}' is not a subnet id."),
            ));
        }
        virtual_network_rules.push(VnetRule {
            id: id.to_ascii_lowercase(),
            ignore_missing_vnet_service_endpoint: opt_bool(
                ro,
                "ignoreMissingVnetServiceEndpoint",
                "ignoreMissingVnetServiceEndpoint",
            )?
            .unwrap_or(false),
        });
    }
    Ok(NetworkAcls {
        bypass,
        default_action,
        ip_rules,
        virtual_network_rules,
    })
}

/// Applies the properties of a PUT (`full`) or PATCH body onto `base`.
fn apply_props(
    props: &Map<String, Value>,
    base: Option<&VaultProps>,
    full: bool,
) -> Result<VaultProps, ArmError> {
    let tenant = opt_str(props, "tenantId", "properties.tenantId")?;
    let tenant = match (tenant, base) {
        (Some(t), _) => {
            if !is_guid(&t) {
                return Err(ArmError::bad(
                    "BadRequest",
                    format!("The tenant id '{t}' is not a valid GUID."),
                ));
            }
            t.to_ascii_lowercase()
        }
        (None, Some(b)) if !full => b.tenant_id.clone(),
        _ => {
            return Err(ArmError::bad(
                "BadRequest",
                "The 'properties.tenantId' property is required.",
            ));
        }
    };
    let sku = match opt_obj(props, "sku", "properties.sku")? {
        Some(s) => {
            let family = opt_str(s, "family", "properties.sku.family")?;
            if family.as_deref().is_some_and(|f| f != "A") || (family.is_none() && full) {
                return Err(ArmError::bad(
                    "BadRequest",
                    "The 'properties.sku.family' property must be 'A'.",
                ));
            }
            match opt_str(s, "name", "properties.sku.name")? {
                Some(n) if n.eq_ignore_ascii_case("standard") => "standard".to_owned(),
                Some(n) if n.eq_ignore_ascii_case("premium") => "premium".to_owned(),
                Some(n) => {
                    return Err(ArmError::bad(
                        "BadRequest",
                        format!(
                            "The sku name '{n}' is invalid. Valid values are 'standard' and 'premium'."
                        ),
                    ));
                }
                None => {
                    return Err(ArmError::bad(
                        "BadRequest",
                        "The 'properties.sku.name' property is required.",
                    ));
                }
            }
        }
        None => match base {
            Some(b) if !full => b.sku_name.clone(),
            _ => {
                return Err(ArmError::bad(
                    "BadRequest",
                    "The 'properties.sku' property is required.",
                ));
            }
        },
    };
    let access_policies = match opt_arr(props, "accessPolicies", "properties.accessPolicies")? {
        Some(a) => parse_policies(a)?,
        None => base.map(|b| b.access_policies.clone()).unwrap_or_default(),
    };
    if opt_bool(props, "enableSoftDelete", "properties.enableSoftDelete")? == Some(false) {
        return Err(ArmError::bad(
            "BadRequest",
            "The property \"enableSoftDelete\" cannot be set to false. Soft delete is always enabled for new vaults.",
        ));
    }
    let retention = match opt_i64(
        props,
        "softDeleteRetentionInDays",
        "properties.softDeleteRetentionInDays",
    )? {
        Some(d) if (7..=90).contains(&d) => d,
        Some(d) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The property \"softDeleteRetentionInDays\" has an invalid value {d}. It must be an integer between 7 and 90."
                ),
            ));
        }
        None => base.map(|b| b.soft_delete_retention_days).unwrap_or(90),
    };
    let purge = match opt_bool(
        props,
        "enablePurgeProtection",
        "properties.enablePurgeProtection",
    )? {
        Some(false) => {
            return Err(ArmError::bad(
                "BadRequest",
                "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
            ));
        }
        Some(true) => Some(true),
        None => base.and_then(|b| b.enable_purge_protection),
    };
    let pna = match opt_str(
        props,
        "publicNetworkAccess",
        "properties.publicNetworkAccess",
    )? {
        Some(p) if p.eq_ignore_ascii_case("enabled") => "Enabled".to_owned(),
        Some(p) if p.eq_ignore_ascii_case("disabled") => "Disabled".to_owned(),
        Some(p) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The value '{p}' of publicNetworkAccess is invalid. Valid values are 'Enabled' and 'Disabled'."
                ),
            ));
        }
        None => base
            .map(|b| b.public_network_access.clone())
            .unwrap_or_else(|| "Enabled".to_owned()),
    };
    let network_acls = match opt_obj(props, "networkAcls", "properties.networkAcls")? {
        Some(n) => Some(parse_network_acls(n)?),
        None => base.and_then(|b| b.network_acls.clone()),
    };
    let b = |key: &str, cur: Option<bool>| -> Result<bool, ArmError> {
        Ok(opt_bool(props, key, &format!("properties.{key}"))?
            .or(cur)
            .unwrap_or(false))
    };
    Ok(VaultProps {
        tenant_id: tenant,
        sku_name: sku,
        access_policies,
        enabled_for_deployment: b(
            "enabledForDeployment",
            base.map(|x| x.enabled_for_deployment),
        )?,
        enabled_for_disk_encryption: b(
            "enabledForDiskEncryption",
            base.map(|x| x.enabled_for_disk_encryption),
        )?,
        enabled_for_template_deployment: b(
            "enabledForTemplateDeployment",
            base.map(|x| x.enabled_for_template_deployment),
        )?,
        soft_delete_retention_days: retention,
        enable_rbac_authorization: b(
            "enableRbacAuthorization",
            base.map(|x| x.enable_rbac_authorization),
        )?,
        enable_purge_protection: purge,
        public_network_access: pna,
        network_acls,
    })
}

/// Purges soft-deleted vaults whose retention has ended (and their keys).
pub fn expire_deleted(st: &mut Tables, now: i64) {
    let gone: Vec<String> = st
        .table::<Vault>()
        .iter()
        .filter(|(_, v)| {
            v.deleted
                .as_ref()
                .is_some_and(|d| d.scheduled_purge_date <= now)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in gone {
        purge_vault(st, &k);
    }
}

fn purge_vault(st: &mut Tables, key: &str) {
    st.table_mut::<Vault>().remove(key);
    let prefix = format!("{key}/");
    st.table_mut::<KeyRecord>()
        .retain(|k, _| !k.starts_with(&prefix));
}

fn soft_delete(st: &mut Tables, key: &str, now: i64) -> bool {
    let Some(v) = st.table_mut::<Vault>().get_mut(key) else {
        return false;
    };
    if v.deleted.is_some() {
        return false;
    }
    v.deleted = Some(DeletedInfo {
        deletion_date: now,
        scheduled_purge_date: now + v.props.soft_delete_retention_days * 86_400,
    });
    true
}

/// Soft-deletes the vaults of a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, now: i64, sub: &str, rg: &str) {
    let keys: Vec<String> = st
        .table::<Vault>()
        .iter()
        .filter(|(_, v)| {
            v.deleted.is_none()
                && v.subscription.eq_ignore_ascii_case(sub)
                && v.resource_group.eq_ignore_ascii_case(rg)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        soft_delete(st, &k, now);
    }
}

/// Routes `…/providers/Microsoft.KeyVault/{tail}`.
pub fn handle(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
) -> ArmResult {
    check_api_version(ctx, "Microsoft.KeyVault/vaults", API_VERSIONS)?;
    ctx.shared
        .store
        .write(|st| expire_deleted(st, ctx.shared.clock.now_secs()))?;
    let m = &ctx.method;
    match (rg, tail) {
        (None, ["checknameavailability"]) if m == Method::POST => check_name(ctx),
        (_, ["vaults"]) if m == Method::GET => list(ctx, sub, rg),
        (None, ["deletedvaults"]) if m == Method::GET => {
            let items: Vec<Value> = ctx.shared.store.read(|st| {
                st.table::<Vault>()
                    .values()
                    .filter(|v| v.deleted.is_some() && v.subscription.eq_ignore_ascii_case(sub))
                    .map(deleted_json)
                    .collect()
            });
            Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
        }
        (None, ["locations", _, "deletedvaults", _]) if m == Method::GET => {
            let v = find_deleted(ctx, sub, &orig[1], &orig[3])?;
            Ok(reply::json(StatusCode::OK, &deleted_json(&v)))
        }
        (None, ["locations", _, "deletedvaults", _, "purge"]) if m == Method::POST => {
            purge(ctx, sub, &orig[1], &orig[3])
        }
        (None, ["locations", _, "operationresults", _]) => Ok(reply::empty(StatusCode::OK)),
        (Some(rg), ["vaults", _]) => vault(ctx, claims, sub, rg, &orig[1]),
        (Some(rg), ["vaults", _, "accesspolicies", kind]) if m == Method::PUT => {
            access_policies(ctx, sub, rg, &orig[1], kind)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The path '{}' is not emulated for namespace 'Microsoft.KeyVault'.",
                ctx.path
            ),
        )),
    }
}

fn check_name(ctx: &Ctx) -> ArmResult {
    let body = body_object(ctx)?;
    let name = opt_str(&body, "name", "name")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'name' property is required."))?;
    let ty = opt_str(&body, "type", "type")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'type' property is required."))?;
    if !ty.eq_ignore_ascii_case("Microsoft.KeyVault/vaults") {
        return Err(ArmError::bad(
            "BadRequest",
            format!(
                "The type '{ty}' is invalid. The only valid type is 'Microsoft.KeyVault/vaults'."
            ),
        ));
    }
    if !valid_vault_name(&name) {
        return Ok(reply::json(
            StatusCode::OK,
            &json!({"nameAvailable": false, "reason": "AccountNameInvalid", "message": invalid_name(&name).message}),
        ));
    }
    let taken = ctx.shared.store.read(|st| {
        st.table::<Vault>()
            .get(&name.to_ascii_lowercase())
            .map(|v| v.deleted.is_some())
    });
    Ok(reply::json(
        StatusCode::OK,
        &match taken {
            None => json!({"nameAvailable": true}),
            Some(false) => {
                json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.")})
            }
            Some(true) => {
                json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The vault name '{name}' is already in use by a vault in deleted state. Recover or purge it first.")})
            }
        },
    ))
}

fn list(ctx: &Ctx, sub: &str, rg: Option<&str>) -> ArmResult {
    let top = ctx
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let cfg = &ctx.shared.config;
    let items: Vec<Value> = ctx.shared.store.read(|st| {
        st.table::<Vault>()
            .values()
            .filter(|v| v.deleted.is_none() && v.subscription.eq_ignore_ascii_case(sub))
            .filter(|v| rg.is_none_or(|r| v.resource_group.eq_ignore_ascii_case(r)))
            .take(top)
            .map(|v| vault_json(cfg, v))
            .collect()
    });
    Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
}

fn find_deleted(ctx: &Ctx, sub: &str, loc: &str, name: &str) -> Result<Vault, ArmError> {
    let v = ctx
        .shared
        .store
        .read(|st| st.table::<Vault>().get(&name.to_ascii_lowercase()).cloned());
    match v {
        Some(v)
            if v.deleted.is_some()
                && v.subscription.eq_ignore_ascii_case(sub)
                && norm_location(&v.location) == norm_location(loc) =>
        {
            Ok(v)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}' was not found."
            ),
        )),
    }
}

fn purge(ctx: &Ctx, sub: &str, loc: &str, name: &str) -> ArmResult {
    let v = find_deleted(ctx, sub, loc, name)?;
    if v.props.purge_protected() {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "PurgeProtectionEnabled",
            format!(
                "Operation 'DeletedVaultPurge' is not allowed. The vault '{name}' has purge protection enabled; it will be purged automatically on its scheduled purge date."
            ),
        ));
    }
    ctx.shared
        .store
        .write(|st| purge_vault(st, &name.to_ascii_lowercase()))?;
    Ok(reply::empty(StatusCode::OK))
}

fn vault(ctx: &Ctx, claims: &Claims, sub: &str, rg_in: &str, name: &str) -> ArmResult {
    let key = name.to_ascii_lowercase();
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let cfg = ctx.shared.config.clone();
    let same_place = |v: &Vault| {
        v.subscription.eq_ignore_ascii_case(sub) && v.resource_group.eq_ignore_ascii_case(&rg)
    };
    match ctx.method {
        Method::GET => {
            let v = ctx
                .shared
                .store
                .read(|st| st.table::<Vault>().get(&key).cloned());
            match v {
                Some(v) if v.deleted.is_none() && same_place(&v) => {
                    Ok(reply::json(StatusCode::OK, &vault_json(&cfg, &v)))
                }
                _ => Err(vault_not_found(&rg, name)),
            }
        }
        Method::DELETE => {
            let r = ctx.shared.store.write(|st| {
                match st.table::<Vault>().get(&key) {
                    Some(v) if v.deleted.is_none() && same_place(v) => {}
                    _ => return false,
                }
                soft_delete(st, &key, ctx.shared.clock.now_secs())
            })?;
            Ok(reply::empty(if r {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        Method::PUT => put(ctx, claims, sub, &rg, name),
        Method::PATCH => {
            let body = body_object(ctx)?;
            let props = opt_obj(&body, "properties", "properties")?
                .cloned()
                .unwrap_or_default();
            let tags = opt_tags(&body)?;
            let v = ctx.shared.store.write(|st| -> Result<Vault, ArmError> {
                let cur = match st.table::<Vault>().get(&key) {
                    Some(v) if v.deleted.is_none() && same_place(v) => v.clone(),
                    _ => return Err(vault_not_found(&rg, name)),
                };
                let new_props = apply_props(&props, Some(&cur.props), false)?;
                let v = st
                    .table_mut::<Vault>()
                    .get_mut(&key)
                    .ok_or_else(|| vault_not_found(&rg, name))?;
                v.props = new_props;
                if let Some(t) = tags {
                    v.tags = t;
                }
                v.updated = ctx.shared.clock.now_secs();
                Ok(v.clone())
            })??;
            Ok(reply::json(StatusCode::OK, &vault_json(&cfg, &v)))
        }
        _ => Err(crate::arm::resources::method_not_allowed(ctx)),
    }
}

fn put(ctx: &Ctx, claims: &Claims, sub: &str, rg: &str, name: &str) -> ArmResult {
    if !valid_vault_name(name) {
        return Err(invalid_name(name));
    }
    let body = body_object(ctx)?;
    let location = opt_str(&body, "location", "location")?.ok_or_else(|| {
        ArmError::bad(
            "LocationRequired",
            "The location property is required for this definition.",
        )
    })?;
    let props = opt_obj(&body, "properties", "properties")?
        .cloned()
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'properties' property is required."))?;
    let tags = opt_tags(&body)?;
    let recover = match opt_str(&props, "createMode", "properties.createMode")? {
        None => false,
        Some(m) if m.eq_ignore_ascii_case("default") => false,
        Some(m) if m.eq_ignore_ascii_case("recover") => true,
        Some(m) => {
            return Err(ArmError::bad(
                "BadRequest",
                format!(
                    "The createMode '{m}' is invalid. Valid values are 'default' and 'recover'."
                ),
            ));
        }
    };
    let key = name.to_ascii_lowercase();
    let cfg = ctx.shared.config.clone();
    let caller = claims.oid.clone();
    let (created, v) = ctx.shared.store.write(|st| -> Result<(bool, Vault), ArmError> {
        let existing = st.table::<Vault>().get(&key).cloned();
        let now = ctx.shared.clock.now_secs();
        match existing {
            Some(e) if e.deleted.is_some() => {
                if !recover {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "ConflictError",
                        "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.",
                    ));
                }
                if !e.subscription.eq_ignore_ascii_case(sub) {
                    return Err(ArmError::new(StatusCode::CONFLICT, "VaultAlreadyExists", format!("The vault name '{name}' is already in use.")));
                }
                if norm_location(&e.location) != norm_location(&location) {
                    return Err(ArmError::bad("BadRequest", format!("The deleted vault '{name}' is in location '{}', not '{location}'.", e.location)));
                }
                let v = st.table_mut::<Vault>().get_mut(&key).ok_or_else(|| vault_not_found(rg, name))?;
                v.deleted = None;
                v.resource_group = rg.to_owned();
                if let Some(t) = tags {
                    v.tags = t;
                }
                v.updated = now;
                Ok((false, v.clone()))
            }
            Some(e) => {
                if !e.subscription.eq_ignore_ascii_case(sub) || !e.resource_group.eq_ignore_ascii_case(rg) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "VaultAlreadyExists",
                        format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state."),
                    ));
                }
                if recover {
                    return Err(ArmError::new(StatusCode::CONFLICT, "ConflictError", format!("The vault '{name}' is not in a deleted state and cannot be recovered.")));
                }
                if norm_location(&e.location) != norm_location(&location) {
                    return Err(ArmError::bad("LocationNotAvailableForResourceType", format!("The vault '{name}' exists in location '{}'; its location cannot be changed.", e.location)));
                }
                let new_props = apply_props(&props, Some(&e.props), true)?;
                let v = st.table_mut::<Vault>().get_mut(&key).ok_or_else(|| vault_not_found(rg, name))?;
                v.props = new_props;
                v.tags = tags.unwrap_or_default();
                v.updated = now;
                Ok((false, v.clone()))
            }
            None => {
                if recover {
                    return Err(ArmError::new(
                        StatusCode::NOT_FOUND,
                        "DeletedVaultNotFound",
                        format!("A deleted vault named '{name}' was not found in location '{location}', so it cannot be recovered."),
                    ));
                }
                let rbac = matches!(props.get("enableRbacAuthorization"), Some(Value::Bool(true)));
                if !rbac && !props.contains_key("accessPolicies") {
                    return Err(ArmError::bad(
                        "BadRequest",
                        "The parameter accessPolicies is not specified. Access policies are required unless the vault uses RBAC authorization or createMode is recover.",
                    ));
                }
                let props = apply_props(&props, None, true)?;
                let v = Vault {
                    name: name.to_owned(),
                    subscription: sub.to_owned(),
                    resource_group: rg.to_owned(),
                    location: location.clone(),
                    tags: tags.unwrap_or_default(),
                    props,
                    created_by: caller.clone(),
                    created: now,
                    updated: now,
                    deleted: None,
                };
                st.table_mut::<Vault>().insert(key.clone(), v.clone());
                Ok((true, v))
            }
        }
    })??;
    // Vault creation completes at once: answer the terminal state (provisioningState Succeeded).
    Ok(reply::json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &vault_json(&cfg, &v),
    ))
}

fn merge_perm_lists(cur: &mut Vec<String>, add: &[String]) {
    for p in add {
        if !cur.iter().any(|c| c.eq_ignore_ascii_case(p)) {
            cur.push(p.clone());
        }
    }
}

fn remove_perm_list(cur: &mut Vec<String>, rm: &[String]) {
    cur.retain(|c| !rm.iter().any(|r| r.eq_ignore_ascii_case(c)));
}

fn access_policies(ctx: &Ctx, sub: &str, rg_in: &str, name: &str, kind: &str) -> ArmResult {
    if !matches!(kind, "add" | "replace" | "remove") {
        return Err(ArmError::bad(
            "BadRequest",
            format!(
                "The access policy operation kind '{kind}' is invalid. Valid values are 'add', 'replace' and 'remove'."
            ),
        ));
    }
    let body = body_object(ctx)?;
    let props = opt_obj(&body, "properties", "properties")?
        .ok_or_else(|| ArmError::bad("BadRequest", "The 'properties' property is required."))?;
    let arr = opt_arr(props, "accessPolicies", "properties.accessPolicies")?.ok_or_else(|| {
        ArmError::bad(
            "BadRequest",
            "The 'properties.accessPolicies' property is required.",
        )
    })?;
    let policies = parse_policies(arr)?;
    let key = name.to_ascii_lowercase();
    let rg = rg_in.to_owned();
    let v = ctx.shared.store.write(|st| -> Result<Vault, ArmError> {
        let v = st.table_mut::<Vault>().get_mut(&key).filter(|v| {
            v.deleted.is_none()
                && v.subscription.eq_ignore_ascii_case(sub)
                && v.resource_group.eq_ignore_ascii_case(&rg)
        });
        let Some(v) = v else {
            return Err(vault_not_found(&rg, name));
        };
        for p in &policies {
            let pos = v.props.access_policies.iter().position(|e| {
                e.object_id.eq_ignore_ascii_case(&p.object_id)
                    && e.tenant_id.eq_ignore_ascii_case(&p.tenant_id)
                    && e.application_id == p.application_id
            });
            match (kind, pos) {
                ("add", Some(i)) => {
                    let e = &mut v.props.access_policies[i].permissions;
                    merge_perm_lists(&mut e.keys, &p.permissions.keys);
                    merge_perm_lists(&mut e.secrets, &p.permissions.secrets);
                    merge_perm_lists(&mut e.certificates, &p.permissions.certificates);
                    merge_perm_lists(&mut e.storage, &p.permissions.storage);
                }
                ("add" | "replace", None) => v.props.access_policies.push(p.clone()),
                ("replace", Some(i)) => {
                    v.props.access_policies[i].permissions = p.permissions.clone()
                }
                ("remove", Some(i)) => {
                    let e = &mut v.props.access_policies[i].permissions;
                    let all_given = p.permissions == Permissions::default();
                    remove_perm_list(&mut e.keys, &p.permissions.keys);
                    remove_perm_list(&mut e.secrets, &p.permissions.secrets);
                    remove_perm_list(&mut e.certificates, &p.permissions.certificates);
                    remove_perm_list(&mut e.storage, &p.permissions.storage);
                    let empty = e.keys.is_empty()
                        && e.secrets.is_empty()
                        && e.certificates.is_empty()
                        && e.storage.is_empty();
                    if empty || all_given {
                        v.props.access_policies.remove(i);
                    }
                }
                _ => {}
            }
        }
        if v.props.access_policies.len() > 1024 {
            return Err(ArmError::bad(
                "AccessPolicyLimitExceeded",
                "A vault can have at most 1024 access policies.",
            ));
        }
        v.updated = ctx.shared.clock.now_secs();
        Ok(v.clone())
    })??;
    Ok(reply::json(
        StatusCode::OK,
        &json!({
            "id": format!("{}/accessPolicies/{kind}", v.id()),
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            // The vault's policies after the update (for `add` of a new principal this is a
            // superset of the request).
            "properties": {"accessPolicies": v.props.access_policies.iter().map(policy_json).collect::<Vec<_>>()},
        }),
    ))
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Vault>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names_follow_the_rules_on_both_sides_of_each_edge() {
        for ok in [
            "abc",
            "a-b",
            "a1b2c3",
            "abcdefghijklmnopqrstuvwx",
            "Vault-01",
        ] {
            assert!(valid_vault_name(ok), "{ok} should be valid");
        }
        for bad in [
            "ab",
            "abcdefghijklmnopqrstuvwxy",
            "1ab",
            "-ab",
            "ab-",
            "a--b",
            "a_b",
            "a.b",
            "ab c",
            "",
        ] {
            assert!(!valid_vault_name(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn ip_rules_normalise_to_cidr() {
        assert_eq!(
            normalize_ip_rule("203.0.113.7").as_deref(),
            Some("203.0.113.7/32")
        );
        assert_eq!(
            normalize_ip_rule("10.1.2.3/16").as_deref(),
            Some("10.1.0.0/16")
        );
        assert_eq!(normalize_ip_rule("0.0.0.0/0").as_deref(), Some("0.0.0.0/0"));
        for bad in ["300.1.1.1", "10.0.0.0/33", "::1", "abc", "10.0.0.1/"] {
            assert_eq!(normalize_ip_rule(bad), None, "{bad}");
        }
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        assert!(cidr_contains("127.0.0.0/8", ip("127.0.0.1")));
        assert!(cidr_contains("203.0.113.7/32", ip("203.0.113.7")));
        assert!(!cidr_contains("203.0.113.7/32", ip("203.0.113.8")));
        assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
        assert!(!cidr_contains("0.0.0.0/0", ip("::1")));
    }

    #[test]
    fn permissions_are_checked_case_insensitively() {
        let p = |keys: &[&str]| serde_json::json!([{"tenantId": "00000000-0000-0000-0000-000000000001", "objectId": "x", "permissions": {"keys": keys}}]);
        let ok = p(&["Get", "WRAPKEY", "all", "getrotationpolicy"]);
        assert!(parse_policies(ok.as_array().expect("array")).is_ok());
        let bad = p(&["get", "frob"]);
        assert!(parse_policies(bad.as_array().expect("array")).is_err());
        let no_tenant = serde_json::json!([{"objectId": "x", "permissions": {}}]);
        assert!(parse_policies(no_tenant.as_array().expect("array")).is_err());
    }
}
