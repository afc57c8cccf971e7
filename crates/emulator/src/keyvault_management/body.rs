//! Reading a vault request body: names, access policies, network rules and properties, each
//! validated as Key Vault does, with its error code.

use super::records::{
    AccessPolicy, CERTIFICATE_PERMISSIONS, KEY_PERMISSIONS, NetworkAcls, Permissions,
    SECRET_PERMISSIONS, STORAGE_PERMISSIONS, VaultProps, VnetRule, normalize_ip_rule,
};
use crate::arm::error::ArmError;
use crate::arm::request::{opt_arr, opt_bool, opt_i64, opt_obj, opt_str};
use serde_json::{Map, Value};

pub fn invalid_name(n: &str) -> ArmError {
    ArmError::bad(
        "VaultNameNotValid",
        format!(
            "The vault name '{n}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"
        ),
    )
}

pub fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

pub fn parse_perms(
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

pub fn parse_network_acls(o: &Map<String, Value>) -> Result<NetworkAcls, ArmError> {
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
pub fn apply_props(
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
    let soft_delete = opt_bool(props, "enableSoftDelete", "properties.enableSoftDelete")?;
    if soft_delete == Some(false) {
        return Err(ArmError::bad(
            "BadRequest",
            "The property \"enableSoftDelete\" cannot be set to false. Soft delete is always enabled for new vaults.",
        ));
    }
    // A legacy vault keeps soft delete off until a request turns it on.
    let soft_delete_disabled =
        soft_delete.is_none() && base.is_some_and(|b| b.soft_delete_disabled);
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
        soft_delete_disabled,
    })
}
