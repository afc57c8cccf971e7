//! What each resource should look like for a spec: pure functions from the spec (and the ids
//! found or created) to the bodies the steps send, and the checks of whether what exists
//! already matches.

use crate::{
    progress::StepAction,
    spec::{
        ContainerGroupSpec, DeploymentSpec, Flow, Follow, KeySpec, VaultAuthorization, VaultSku,
    },
    template::{TemplateEncryption, TemplateError, inject_encryption},
};
use aci_cmk_aci::{
    DeploymentName, DeploymentRequest,
    models::{ContainerGroup, ContainerGroupIdentity, EncryptionProperties},
};
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyVersion, PrincipalId, TenantId},
    resource_id::ResourceId,
};
use aci_cmk_keyvault::keys::{CreateKeyOptions, KeyProperties};
use aci_cmk_keyvault::models::{
    AccessPolicyEntry, IpRule, KeyPermission, NetworkRuleAction, NetworkRuleBypass, NetworkRuleSet,
    Sku, Vault, VaultCreateParameters, VaultPatch, VaultPatchProperties, VaultProperties,
};
use aci_cmk_keyvault::rotation_policy::{KeyRotationPolicy, LifetimeTrigger};
use serde_json::Value;
use time::OffsetDateTime;

/// The tag holding a digest of the container group body the spec asked for, so that a re-run
/// can tell "as asked" from "changed" although Azure never returns secure values.
pub const SPEC_DIGEST_TAG: &str = "aci-cmk-spec-sha256";

/// What the deployer needs on the vault to create the key and read it: the key, its versions
/// (which one is newest: `follow_latest` reads them for any spec) and its rotation policy (an
/// audit reads it).
pub const DEPLOYER_KEY_PERMISSIONS: [KeyPermission; 4] = [
    KeyPermission::Get,
    KeyPermission::Create,
    KeyPermission::List,
    KeyPermission::GetRotationPolicy,
];

/// What the deployer needs on the vault to keep the key's lifecycle too: rotate, set the
/// rotation policy, and update a version (its expiry; disabling a retired one).
pub const DEPLOYER_LIFECYCLE_PERMISSIONS: [KeyPermission; 3] = [
    KeyPermission::Update,
    KeyPermission::Rotate,
    KeyPermission::SetRotationPolicy,
];

/// The deployer's key permissions for `spec`: create and read the key, and, when its key has a
/// lifecycle, keep that too.
pub fn deployer_key_permissions(spec: &DeploymentSpec) -> Vec<KeyPermission> {
    let lifecycle = spec.key.lifecycle();
    let keeps_lifecycle = lifecycle.rotation_policy().is_some()
        || lifecycle.follow == crate::spec::Follow::Latest
        || lifecycle.retire_previous;
    let mut permissions = DEPLOYER_KEY_PERMISSIONS.to_vec();
    if keeps_lifecycle {
        permissions.extend(DEPLOYER_LIFECYCLE_PERMISSIONS);
    }
    permissions
}

/// What ACI's principal needs on the vault: read the public key, unwrap the data key.
pub const ENCRYPTION_KEY_PERMISSIONS: [KeyPermission; 2] =
    [KeyPermission::Get, KeyPermission::UnwrapKey];

/// The body of a new vault: soft delete with the spec's retention, purge protection unless
/// the spec turns it off (then omitted, never `false`), the authorization mode, no access
/// policy (the steps add them one by one), and open to all networks until the key exists.
pub fn vault_create_parameters(spec: &DeploymentSpec, tenant: &TenantId) -> VaultCreateParameters {
    let sku = match spec.vault.sku {
        VaultSku::Standard => Sku::standard(),
        VaultSku::Premium => Sku::premium(),
    };
    let mut properties = VaultProperties::new(tenant.clone(), sku)
        .with_soft_delete(spec.vault.soft_delete_retention_days)
        .with_rbac_authorization(spec.vault.authorization == VaultAuthorization::Rbac)
        .with_network_acls(NetworkRuleSet::allow_all());
    if spec.vault.purge_protection {
        properties = properties.with_purge_protection();
    }
    let mut parameters = VaultCreateParameters::new(spec.location.clone(), properties);
    for (k, v) in &spec.tags {
        parameters = parameters.with_tag(k, v);
    }
    parameters
}

/// The `PATCH` that turns on what an existing vault lacks (soft delete, purge protection when
/// the spec wants it), or `None` when it has everything.
pub fn vault_patch(spec: &DeploymentSpec, vault: &Vault) -> Option<VaultPatch> {
    vault_protection_patch(vault, spec.vault.purge_protection)
}

/// The `PATCH` that turns on soft delete where it is off and, when `purge_protection`, purge
/// protection where it is not on — both irreversible, never turned off — or `None` when the
/// vault has them. The one decision of the vault step and of a posture remediation.
pub fn vault_protection_patch(vault: &Vault, purge_protection: bool) -> Option<VaultPatch> {
    let mut props = VaultPatchProperties::default();
    let mut needed = false;
    if vault.properties.enable_soft_delete == Some(false) {
        props.enable_soft_delete = Some(true);
        needed = true;
    }
    if purge_protection && vault.properties.enable_purge_protection != Some(true) {
        props.enable_purge_protection = Some(true);
        needed = true;
    }
    needed.then(|| VaultPatch::properties(props))
}

/// Whether the vault's access policies already give `principal` every permission in `needed`.
pub fn policy_grants(vault: &Vault, principal: &PrincipalId, needed: &[KeyPermission]) -> bool {
    vault
        .properties
        .access_policies
        .iter()
        .flatten()
        .filter(|p| &p.object_id == principal)
        .any(|p| {
            let keys = &p.permissions.keys;
            keys.contains(&KeyPermission::All) || needed.iter().all(|n| keys.contains(n))
        })
}

/// The access policy entry granting `needed` to `principal`.
pub fn policy_entry(
    vault: &Vault,
    principal: &PrincipalId,
    needed: &[KeyPermission],
) -> AccessPolicyEntry {
    AccessPolicyEntry::for_keys(
        vault.properties.tenant_id.clone(),
        principal.clone(),
        needed.iter().cloned(),
    )
}

/// The firewall of the network-protected flow: deny by default, trusted Azure services
/// through, and the spec's addresses (a single address as `/32`, as Azure reports it) — added to
/// the rules the vault already has, never replacing rules someone else added: its addresses
/// and its virtual-network rules are kept (the update sends both lists whole, so a rule left
/// out would be deleted).
pub fn firewall(spec: &DeploymentSpec, vault: Option<&Vault>) -> NetworkRuleSet {
    let current = vault.and_then(|v| v.properties.network_acls.as_ref());
    let mut rules: Vec<String> = current
        .map(|acls| {
            acls.ip_rules
                .iter()
                .map(|r| normalize_ip_rule(&r.value))
                .collect()
        })
        .unwrap_or_default();
    for rule in &spec.vault.ip_rules {
        let rule = normalize_ip_rule(rule);
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    let mut set = NetworkRuleSet::deny_except_azure_services(rules.into_iter().map(IpRule::new));
    set.virtual_network_rules = current
        .map(|acls| acls.virtual_network_rules.clone())
        .unwrap_or_default();
    set
}

fn normalize_ip_rule(rule: &str) -> String {
    let rule = rule.trim();
    if rule.contains('/') || rule.contains(':') {
        rule.to_owned()
    } else {
        format!("{rule}/32")
    }
}

/// Whether the vault's firewall is already `desired`.
pub fn firewall_matches(vault: &Vault, desired: &NetworkRuleSet) -> bool {
    let Some(current) = &vault.properties.network_acls else {
        return false;
    };
    let sorted = |mut items: Vec<String>| {
        items.sort();
        items
    };
    let rules = |set: &NetworkRuleSet| {
        sorted(
            set.ip_rules
                .iter()
                .map(|i| normalize_ip_rule(&i.value))
                .collect(),
        )
    };
    // Azure lowercases the subnet ids it returns.
    let subnets = |set: &NetworkRuleSet| {
        sorted(
            set.virtual_network_rules
                .iter()
                .map(|v| v.id.to_ascii_lowercase())
                .collect(),
        )
    };
    current.default_action == desired.default_action
        && current
            .bypass
            .clone()
            .unwrap_or(NetworkRuleBypass::AzureServices)
            == desired
                .bypass
                .clone()
                .unwrap_or(NetworkRuleBypass::AzureServices)
        && rules(current) == rules(desired)
        && subnets(current) == subnets(desired)
}

/// Whether a vault's firewall shuts out public networks.
pub fn firewall_denies(vault: &Vault) -> bool {
    vault
        .properties
        .network_acls
        .as_ref()
        .is_some_and(|n| n.default_action == Some(NetworkRuleAction::Deny))
}

/// The encryption properties ACI gets.
pub fn encryption(
    vault: &VaultUrl,
    spec: &DeploymentSpec,
    version: &KeyVersion,
    identity: Option<&ResourceId>,
) -> EncryptionProperties {
    let properties = EncryptionProperties::new(vault, spec.key.name(), version);
    match identity {
        Some(id) => properties.with_identity(id),
        None => properties,
    }
}

/// The body of `group_spec` (the spec's own group, or a fleet's): with encryption, the identity
/// block of the network-protected flow, the spec's location and tags, and a tag with the
/// digest of all of it.
pub fn group(
    spec: &DeploymentSpec,
    group_spec: &ContainerGroupSpec,
    encryption: &EncryptionProperties,
    identity: Option<&ResourceId>,
) -> ContainerGroup {
    let mut group = group_spec.to_container_group(&spec.location, &spec.tags);
    group.properties.encryption_properties = Some(encryption.clone());
    if let Some(id) = identity {
        group.identity = Some(ContainerGroupIdentity::user_assigned([id]));
    }
    let digest = digest_json(&serde_json::to_value(&group).unwrap_or(Value::Null));
    group.tags.insert(SPEC_DIGEST_TAG.to_owned(), digest);
    group
}

/// Whether an existing group is what [`group`] describes — and provisioned. A group
/// whose provisioning failed (its principal had not replicated yet, say) or is still under way
/// (left `Pending` by a run that was stopped) must be put again: the PUT then follows the
/// operation to its end.
pub fn group_matches(existing: &ContainerGroup, desired: &ContainerGroup) -> bool {
    let provisioned = existing
        .provisioning_state()
        .is_some_and(|s| s.eq_ignore_ascii_case("Succeeded"));
    if !provisioned {
        return false;
    }
    let encryption_same = match (
        &existing.properties.encryption_properties,
        &desired.properties.encryption_properties,
    ) {
        (Some(a), Some(b)) => a.same_as(b),
        (None, None) => true,
        _ => false,
    };
    encryption_same && existing.tags.get(SPEC_DIGEST_TAG) == desired.tags.get(SPEC_DIGEST_TAG)
}

/// What the container-group step does to get from `existing` to `want`: create it, leave it, put
/// it again (`Update`), or delete and create it (`Recreate`: its encryption cannot change).
pub fn group_step(existing: Option<&ContainerGroup>, want: &ContainerGroup) -> StepAction {
    match (existing, &want.properties.encryption_properties) {
        (None, _) => StepAction::Create,
        (Some(e), _) if group_matches(e, want) => StepAction::InPlace,
        (Some(e), Some(encryption)) if encryption_differs(e, encryption) => StepAction::Recreate,
        (Some(_), _) => StepAction::Update,
    }
}

/// Whether the spec lets an existing container group be deleted and re-created (its encryption
/// cannot change in place): `allow.recreate_container_group`, or a key whose groups follow its
/// newest version (`follow = "latest"`). The one answer of preflight, apply, the fleet,
/// `follow_latest` and the watch.
pub fn may_recreate(spec: &DeploymentSpec) -> bool {
    spec.allow.recreate_container_group || spec.key.lifecycle().follow == Follow::Latest
}

/// The key version `existing` is pinned to: when the spec keeps its groups where they are
/// (`follow = "pinned"`, the default), names no version of its own, and `existing` is
/// encrypted with the spec's key in `vault`, the version it uses — `apply` then leaves the
/// group on it (a rotation by Key Vault's policy moves nothing; `rotate` and `follow_latest`
/// do).
pub fn pinned_version(
    spec: &DeploymentSpec,
    existing: Option<&ContainerGroup>,
    vault: &VaultUrl,
) -> Option<KeyVersion> {
    if spec.key.lifecycle().follow != Follow::Pinned {
        return None;
    }
    if let KeySpec::Existing { id, .. } = &spec.key
        && id.version().is_some()
    {
        return None;
    }
    let e = existing?.properties.encryption_properties.as_ref()?;
    let same_vault = e
        .vault_base_url
        .trim_end_matches('/')
        .eq_ignore_ascii_case(vault.as_str());
    let same_key = e.key_name.eq_ignore_ascii_case(spec.key.name().as_str());
    if !(same_vault && same_key) {
        return None;
    }
    e.key_version.parse().ok()
}

/// The refusal of a `Recreate` the spec does not allow.
pub fn recreate_refused(name: &impl std::fmt::Display) -> String {
    format!(
        "container group {name} exists with other encryption properties; set allow.recreate_container_group = true (or the key's follow = \"latest\") to re-create it"
    )
}

/// Whether an existing group's encryption differs from the desired one (it cannot be changed
/// in place).
pub fn encryption_differs(existing: &ContainerGroup, desired: &EncryptionProperties) -> bool {
    !existing
        .properties
        .encryption_properties
        .as_ref()
        .is_some_and(|e| e.same_as(desired))
}

/// The template with encryption injected, and the deployment name carrying its digest (so a
/// re-run finds the deployment of the same template and parameters).
pub fn patched_template(
    spec: &DeploymentSpec,
    encryption: &EncryptionProperties,
) -> Result<Option<(DeploymentName, DeploymentRequest)>, TemplateError> {
    let Some(template) = spec.workload.template() else {
        return Ok(None);
    };
    let mut injected = TemplateEncryption::standard(
        encryption.vault_base_url.clone(),
        encryption.key_name.clone(),
        encryption.key_version.clone(),
    );
    if let Some(identity) = &encryption.identity {
        injected = injected.with_identity(identity.clone());
    }
    let (patched, _) = inject_encryption(&template.template, &injected)?;
    let request = DeploymentRequest::incremental(patched, template.parameters.clone());
    let digest = digest_json(&serde_json::to_value(&request).unwrap_or(Value::Null));
    let base = template.deployment_name.as_str();
    let base = &base[..base.len().min(55)];
    let name = format!("{base}-{}", &digest[..8])
        .parse()
        .unwrap_or_else(|_| template.deployment_name.clone());
    Ok(Some((name, request)))
}

/// The options of a new version of the spec's own key (`None` for an existing key): its type
/// and size, and, when the lifecycle says how long versions live, its expiry counted from `now`.
pub fn create_key_options(spec: &DeploymentSpec, now: OffsetDateTime) -> Option<CreateKeyOptions> {
    let KeySpec::Create { kty, size, .. } = &spec.key else {
        return None;
    };
    let options = CreateKeyOptions::new(*kty, *size);
    Some(match spec.key.lifecycle().new_version_expires(now) {
        Some(expires) => options.with_expires(expires),
        None => options,
    })
}

/// The expiry an existing version without one should get, when the lifecycle says how long
/// versions live: its creation plus that lifetime, but never sooner than the notice period from
/// `now` (a version must not expire under the groups using it the moment the policy is set).
/// `None` when the version already expires or the lifecycle sets no lifetime.
pub fn version_expiry(
    spec: &DeploymentSpec,
    key: &KeyProperties,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    spec.key.lifecycle().version_expiry(key, now)
}

/// Whether the vault's rotation policy is already `desired`: the same actions (as a set, with
/// equal durations) and the same expiry.
pub fn rotation_policy_matches(current: &KeyRotationPolicy, desired: &KeyRotationPolicy) -> bool {
    let actions = |p: &KeyRotationPolicy| {
        let mut a: Vec<(String, String, i128)> = p
            .lifetime_actions
            .iter()
            .map(|a| {
                let trigger = match &a.trigger {
                    LifetimeTrigger::AfterCreate(_) => "after_create",
                    _ => "before_expiry",
                };
                (
                    a.action.to_string(),
                    trigger.to_owned(),
                    a.trigger.period().to_duration().whole_nanoseconds(),
                )
            })
            .collect();
        a.sort();
        a
    };
    let expiry = |p: &KeyRotationPolicy| p.expiry_time.as_ref().map(|e| e.to_duration());
    actions(current) == actions(desired) && expiry(current) == expiry(desired)
}

/// The flow's identity resource id, when it has one.
pub fn identity_id(spec: &DeploymentSpec) -> Option<ResourceId> {
    match &spec.flow {
        Flow::NetworkProtected { identity_name } => ResourceId::resource(
            &spec.subscription_id,
            &spec.resource_group,
            "Microsoft.ManagedIdentity",
            "userAssignedIdentities",
            identity_name.as_str(),
        )
        .ok(),
        Flow::Standard => None,
    }
}

fn digest_json(value: &Value) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_firewall_keeps_rules_others_added() {
        let spec = crate::spec::DeploymentSpec::from_json_str(
            r#"{"subscription_id":"00000000-0000-0000-0000-000000000001","resource_group":"rg","location":"eastus",
                "vault":{"name":"kv-1","ip_rules":["203.0.113.7"]},"key":{"create":{"name":"k"}},
                "flow":{"network_protected":{"identity_name":"id-1"}},
                "container_group":{"name":"cg","containers":[{"name":"c","image":"i"}]}}"#,
        )
        .expect("spec");
        let vault: Vault = serde_json::from_value(serde_json::json!({
            "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1",
            "name": "kv-1", "location": "eastus",
            "properties": {"tenantId": "00000000-0000-0000-0000-000000000002", "sku": {"family": "A", "name": "standard"},
                "networkAcls": {"defaultAction": "Allow", "bypass": "AzureServices", "ipRules": [{"value": "198.51.100.0/24"}]}}
        }))
        .expect("vault");
        let want = firewall(&spec, Some(&vault));
        let rules: Vec<&str> = want.ip_rules.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(rules, ["198.51.100.0/24", "203.0.113.7/32"]);
        assert_eq!(want.default_action, Some(NetworkRuleAction::Deny));
        assert!(!firewall_matches(&vault, &want));
    }

    #[test]
    fn the_firewall_keeps_virtual_network_rules() {
        let spec = crate::spec::DeploymentSpec::from_json_str(
            r#"{"subscription_id":"00000000-0000-0000-0000-000000000001","resource_group":"rg","location":"eastus",
                "vault":{"name":"kv-1"},"key":{"create":{"name":"k"}},
                "flow":{"network_protected":{"identity_name":"id-1"}},
                "container_group":{"name":"cg","containers":[{"name":"c","image":"i"}]}}"#,
        )
        .expect("spec");
        let subnet = "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/net/providers/microsoft.network/virtualnetworks/vnet/subnets/apps";
        let vault = |default_action: &str| -> Vault {
            serde_json::from_value(serde_json::json!({
                "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1",
                "name": "kv-1", "location": "eastus",
                "properties": {"tenantId": "00000000-0000-0000-0000-000000000002", "sku": {"family": "A", "name": "standard"},
                    "networkAcls": {"defaultAction": default_action, "bypass": "AzureServices", "ipRules": [],
                        "virtualNetworkRules": [{"id": subnet, "ignoreMissingVnetServiceEndpoint": false}]}}
            }))
            .expect("vault")
        };
        let open = vault("Allow");
        let want = firewall(&spec, Some(&open));
        assert_eq!(want.default_action, Some(NetworkRuleAction::Deny));
        let kept: Vec<&str> = want
            .virtual_network_rules
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(kept, [subnet]);
        assert!(!firewall_matches(&open, &want));
        // Once denied with the subnet still there, nothing is left to change.
        assert!(firewall_matches(&vault("Deny"), &want));
        // A firewall that lost the subnet does not match what keeps it.
        let mut lost = vault("Deny");
        if let Some(acls) = lost.properties.network_acls.as_mut() {
            acls.virtual_network_rules.clear();
        }
        assert!(!firewall_matches(&lost, &want));
    }
}
