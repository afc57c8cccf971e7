//! Vaults and deleted vaults as ARM answers them, and the vaults as the generic resource list
//! shows them.

use super::records::{AccessPolicy, Vault};
use crate::arm::generic_resources::{GenericResource, ListScope};
use crate::arm::request::{norm_location, system_data};
use crate::config::Config;
use crate::store::Tables;
use serde_json::{Value, json};

pub fn policy_json(p: &AccessPolicy) -> Value {
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
/// A vault as ARM answers it at `now_ms`: while its DNS name is being registered,
/// `provisioningState` is `RegisteringDns` and `vaultUri` is the name as given (no trailing
/// slash), as Azure answers a create; then `Succeeded` and the lower-cased URI with its slash.
pub fn vault_json(cfg: &Config, v: &Vault, now_ms: i64) -> Value {
    let p = &v.props;
    let registering = now_ms < v.dns_ready_ms;
    let (state, uri) = if registering {
        (
            "RegisteringDns",
            format!("https://{}.{}", v.name, cfg.keyvault_dns_suffix()),
        )
    } else {
        ("Succeeded", cfg.vault_uri(&v.name))
    };
    let mut props = json!({
        "tenantId": p.tenant_id,
        "sku": {"family": "A", "name": p.sku_name},
        "accessPolicies": p.access_policies.iter().map(policy_json).collect::<Vec<_>>(),
        "enabledForDeployment": p.enabled_for_deployment,
        "enabledForDiskEncryption": p.enabled_for_disk_encryption,
        "enabledForTemplateDeployment": p.enabled_for_template_deployment,
        "enableSoftDelete": !p.soft_delete_disabled,
        "softDeleteRetentionInDays": p.soft_delete_retention_days,
        "enableRbacAuthorization": p.enable_rbac_authorization,
        "vaultUri": uri,
        "provisioningState": state,
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

pub fn deleted_json(v: &Vault) -> Value {
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

/// The live vaults of a subscription, as the generic resource list shows them.
pub fn generic_resources(st: &Tables, scope: &ListScope<'_>) -> Vec<GenericResource> {
    st.table::<Vault>()
        .values()
        .filter(|v| v.deleted.is_none() && v.subscription.eq_ignore_ascii_case(scope.subscription))
        .map(|v| GenericResource {
            id: v.id(),
            name: v.name.clone(),
            resource_type: "Microsoft.KeyVault/vaults".to_owned(),
            resource_group: v.resource_group.clone(),
            location: v.location.clone(),
            tags: v.tags.clone(),
            ..GenericResource::default()
        })
        .collect()
}
