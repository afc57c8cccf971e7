//! The rules checked before any write, each with a message saying what to change.

use crate::key_versions::expires_within;
use crate::{
    decisions::{Decisions, WorkloadDecision},
    desired,
    error::{PreflightIssue, PreflightRule},
    progress::StepAction,
    spec::{DeploymentSpec, Flow, KeySpec, VaultAuthorization, Workload},
    survey::{KeyFound, Survey, VaultFound},
};
use aci_cmk_aci::validation::validate_encryption;
use aci_cmk_core::names::KeyVersion;
use aci_cmk_keyvault::keys::KeyType;
use aci_cmk_keyvault::models::NetworkRuleBypass;
use time::OffsetDateTime;

/// A key version that stands in for the real one when checking bodies before the key exists.
fn placeholder_version() -> KeyVersion {
    "00000000000000000000000000000000"
        .parse()
        .unwrap_or_else(|_| unreachable!("32 hex digits are a key version"))
}

/// What `spec` should know before it runs, though nothing stops it: the key version its group
/// uses expires within the lifecycle's notice period (default 30 days).
pub(crate) fn warnings(spec: &DeploymentSpec, survey: &Survey, now: OffsetDateTime) -> Vec<String> {
    let mut warnings = Vec::new();
    let notice = spec.key.lifecycle().notify_before_expiry();
    if let (KeyFound::Found(key), Some(group)) = (&survey.key, &survey.group)
        && group
            .properties
            .encryption_properties
            .as_ref()
            .is_some_and(|e| e.key_version.eq_ignore_ascii_case(key.version.as_str()))
        && let Some(at) = expires_within(key, now, notice.to_duration())
    {
        warnings.push(format!(
            "container group {} uses key version {}, which expires at {at} (within {notice}): rotate, or set a lifecycle that rotates before it",
            group.name.as_deref().unwrap_or_default(),
            key.version
        ));
    }
    warnings
}

/// Every rule `spec` breaks against what `survey` found, given the steps' `decisions`.
pub(crate) fn check(
    spec: &DeploymentSpec,
    survey: &Survey,
    decisions: &Decisions,
) -> Vec<PreflightIssue> {
    let mut issues = Vec::new();
    let mut issue = |rule, message: String| issues.push(PreflightIssue { rule, message });

    match &survey.vault {
        VaultFound::TakenElsewhere(why) => issue(PreflightRule::VaultNameTaken, why.clone()),
        VaultFound::Live(vault) => {
            let p = &vault.properties;
            let lacks_soft_delete = p.enable_soft_delete == Some(false);
            let lacks_purge_protection =
                p.enable_purge_protection != Some(true) && spec.vault.purge_protection;
            if (lacks_soft_delete || lacks_purge_protection)
                && !spec.allow.vault_without_purge_protection
            {
                issue(
                    PreflightRule::VaultWithoutPurgeProtection,
                    format!(
                        "vault {} exists without {}; a customer-managed key needs both so it cannot be destroyed by mistake. Turning purge protection on is irreversible: set allow.vault_without_purge_protection = true to let apply turn it on",
                        spec.vault.name,
                        if lacks_soft_delete {
                            "soft delete"
                        } else {
                            "purge protection"
                        }
                    ),
                );
            }
            let rbac = p.enable_rbac_authorization == Some(true);
            let wants_rbac = spec.vault.authorization == VaultAuthorization::Rbac;
            if rbac != wants_rbac {
                issue(
                    PreflightRule::VaultAuthorizationMismatch,
                    format!(
                        "vault {} uses {} but the spec says {}: set vault.authorization = \"{}\"",
                        spec.vault.name,
                        if rbac {
                            "Azure RBAC"
                        } else {
                            "access policies"
                        },
                        if wants_rbac {
                            "rbac"
                        } else {
                            "access_policies"
                        },
                        if rbac { "rbac" } else { "access_policies" },
                    ),
                );
            }
            match &spec.flow {
                Flow::Standard if desired::firewall_denies(vault) => issue(
                    PreflightRule::FirewallBlocksAci,
                    format!(
                        "vault {} denies public networks, which the ACI first-party service cannot pass: use the network_protected flow, or open the vault",
                        spec.vault.name
                    ),
                ),
                Flow::NetworkProtected { .. }
                    if desired::firewall_denies(vault)
                        && p.network_acls.as_ref().and_then(|n| n.bypass.clone())
                            == Some(NetworkRuleBypass::None) =>
                {
                    issue(
                        PreflightRule::FirewallBlocksAci,
                        format!(
                            "vault {} has a firewall with bypass None, so ACI (a trusted service) cannot reach the key: set its networkAcls.bypass to AzureServices (apply does not widen an existing firewall for you)",
                            spec.vault.name
                        ),
                    );
                }
                _ => {}
            }
        }
        VaultFound::SoftDeleted(_) | VaultFound::Absent => {}
    }

    if let KeySpec::Existing { id, .. } = &spec.key {
        let gone = match &survey.vault {
            VaultFound::Absent | VaultFound::TakenElsewhere(_) => true,
            VaultFound::Live(_) => matches!(survey.key, KeyFound::Absent),
            VaultFound::SoftDeleted(_) => false,
        };
        if gone {
            issue(
                PreflightRule::KeyUnusable,
                format!(
                    "key {id} does not exist: create it, or use key.create to let apply create one"
                ),
            );
        }
    }

    if let KeyFound::Found(key) = &survey.key {
        if key.enabled == Some(false) {
            issue(
                PreflightRule::KeyUnusable,
                format!(
                    "key {} is disabled: enable it, or name another key",
                    key.kid
                ),
            );
        }
        let rsa = matches!(key.kty, Some(KeyType::Rsa) | Some(KeyType::RsaHsm) | None);
        if !rsa {
            issue(
                PreflightRule::KeyUnusable,
                format!("key {} is not an RSA key, which ACI needs", key.kid),
            );
        }
        if let (KeySpec::Create { size, .. }, Some(n)) = (&spec.key, &key.n) {
            let bits = u32::try_from(n.len() * 8).unwrap_or(u32::MAX);
            if bits != size.bits() {
                issue(
                    PreflightRule::KeyUnusable,
                    format!(
                        "key {} has {bits} bits but the spec asks for {}: change key.create.size, or name another key",
                        key.kid.versionless(),
                        size.bits()
                    ),
                );
            }
        }
    }

    // The body ACI will get, with the real key version if known.
    let vault_url = survey
        .vault_url()
        .or_else(|| aci_cmk_core::key_id::VaultUrl::new(&spec.vault.name, "vault.azure.net").ok());
    let version = match &survey.key {
        KeyFound::Found(k) => k.version.clone(),
        _ => placeholder_version(),
    };
    let identity = desired::identity_id(spec);
    if let Some(vault_url) = vault_url {
        let encryption = desired::encryption(&vault_url, spec, &version, identity.as_ref());
        if let Workload::ContainerGroup(group_spec) = &spec.workload {
            let group = desired::group(spec, group_spec, &encryption, identity.as_ref());
            if let Err(e) = validate_encryption(&group) {
                issue(PreflightRule::ContainerGroupInvalid, e.to_string());
            }
            // Decided with a key version known (an unread one is decided again in the step).
            if matches!(
                decisions.workload.what,
                WorkloadDecision::Group {
                    action: StepAction::Recreate,
                    key_known: true,
                    ..
                }
            ) && !desired::may_recreate(spec)
            {
                issue(
                    PreflightRule::EncryptionChangeNeedsRecreate,
                    format!(
                        "container group {} exists with other encryption properties, which cannot change on an existing group: set allow.recreate_container_group = true (or the key's follow = \"latest\") to delete and re-create it",
                        group_spec.name
                    ),
                );
            }
        }
        if let Err(e) = desired::patched_template(spec, &encryption) {
            issue(PreflightRule::TemplateInvalid, e.to_string());
        }
    }
    issues
}
