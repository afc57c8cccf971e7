//! Each preflight rule refuses before any write, with a message saying what to change; the
//! allowances let apply go on.

use super::*;
use aci_cmk_aci::{ContainerGroups, ResourceGroups};
use aci_cmk_core::names::{KeyName, ResourceGroupName, VaultName};
use aci_cmk_encrypted_deployment::{
    Error,
    error::{PreflightIssue, PreflightRule},
};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultManagement,
    keys::{CreateKeyOptions, UpdateKeyOptions},
    models::{NetworkRuleSet, Sku, VaultCreateParameters, VaultProperties},
};

fn rg() -> ResourceGroupName {
    RG.parse().expect("name")
}

fn vault_name() -> VaultName {
    VAULT.parse().expect("name")
}

/// A resource group and a vault made outside the orchestrator, from `properties`.
async fn existing_vault(azure: &MemoryAzure, rg: &str, properties: VaultProperties) {
    let rg: ResourceGroupName = rg.parse().expect("name");
    ResourceGroups::create_or_update(
        azure,
        &rg,
        &"eastus".parse().expect("location"),
        &Default::default(),
        None,
    )
    .await
    .expect("rg");
    KeyVaultManagement::create_or_update(
        azure,
        &rg,
        &vault_name(),
        &VaultCreateParameters::new("eastus".parse().expect("location"), properties),
        None,
    )
    .await
    .expect("vault");
}

fn protected_vault() -> VaultProperties {
    VaultProperties::new(tenant(), Sku::standard())
        .with_soft_delete(90)
        .with_purge_protection()
}

/// Plan and apply both refuse `spec` for `rule`, writing nothing; returns the issue.
async fn refused(
    azure: &MemoryAzure,
    spec: &DeploymentSpec,
    rule: PreflightRule,
) -> PreflightIssue {
    azure.clear_writes();
    let orchestrator = orchestrator(azure);
    match orchestrator.plan(spec).await {
        Err(Error::Preflight(issues)) => {
            assert!(issues.iter().any(|i| i.rule == rule), "{issues:?}")
        }
        other => panic!("plan should refuse for {rule:?}: {other:?}"),
    }
    let issues = match orchestrator.apply(spec).await {
        Err(Error::Preflight(issues)) => issues,
        other => panic!("apply should refuse for {rule:?}: {other:?}"),
    };
    assert_eq!(
        azure.writes(),
        Vec::<String>::new(),
        "nothing is written when preflight refuses"
    );
    let issue = issues
        .into_iter()
        .find(|i| i.rule == rule)
        .expect("the rule");
    assert!(!issue.message.is_empty());
    issue
}

#[tokio::test]
async fn a_vault_name_taken_in_another_subscription_is_refused() {
    let azure = azure();
    azure.take_vault_name_elsewhere(VAULT);
    let issue = refused(
        &azure,
        &spec(Shape::Standard, false),
        PreflightRule::VaultNameTaken,
    )
    .await;
    assert!(issue.message.contains("choose another name"), "{issue}");
}

#[tokio::test]
async fn a_vault_name_taken_in_another_resource_group_is_refused() {
    let azure = azure();
    existing_vault(&azure, "rg-other", protected_vault()).await;
    refused(
        &azure,
        &spec(Shape::Standard, false),
        PreflightRule::VaultNameTaken,
    )
    .await;
}

#[tokio::test]
async fn an_existing_vault_without_purge_protection_needs_an_allowance() {
    let azure = azure();
    existing_vault(
        &azure,
        RG,
        VaultProperties::new(tenant(), Sku::standard()).with_soft_delete(90),
    )
    .await;
    let issue = refused(
        &azure,
        &spec(Shape::Standard, false),
        PreflightRule::VaultWithoutPurgeProtection,
    )
    .await;
    assert!(
        issue
            .message
            .contains("allow.vault_without_purge_protection"),
        "{issue}"
    );

    let allowed = spec_from(&spec_json(
        Shape::Standard,
        false,
        json!({"allow": {"vault_without_purge_protection": true}}),
    ));
    let report = orchestrator(&azure).apply(&allowed).await.expect("allowed");
    assert_eq!(done(&report, StepId::Vault), StepAction::Update);
    let vault = KeyVaultManagement::get(&azure, &rg(), &vault_name(), None)
        .await
        .expect("vault");
    assert_eq!(
        vault.properties.enable_purge_protection,
        Some(true),
        "apply turned it on"
    );
    assert!(azure.writes().contains(&"vaults.update".to_owned()));
    assert!(
        !azure
            .writes()
            .contains(&"vaults.create_or_update".to_owned()),
        "never re-PUT"
    );
}

#[tokio::test]
async fn a_vault_of_the_other_authorization_mode_is_refused() {
    let azure = azure();
    existing_vault(&azure, RG, protected_vault().with_rbac_authorization(true)).await;
    let issue = refused(
        &azure,
        &spec(Shape::Standard, false),
        PreflightRule::VaultAuthorizationMismatch,
    )
    .await;
    assert!(
        issue.message.contains("authorization = \"rbac\""),
        "{issue}"
    );

    let azure = self::azure();
    existing_vault(&azure, RG, protected_vault()).await;
    refused(
        &azure,
        &spec(Shape::NetworkProtected, true),
        PreflightRule::VaultAuthorizationMismatch,
    )
    .await;
}

#[tokio::test]
async fn the_standard_flow_refuses_a_firewalled_vault() {
    let azure = azure();
    existing_vault(&azure, RG, protected_vault()).await;
    KeyVaultManagement::update_network_rules(
        &azure,
        &rg(),
        &vault_name(),
        &NetworkRuleSet::deny_except_azure_services([]),
        None,
    )
    .await
    .expect("firewall");
    let issue = refused(
        &azure,
        &spec(Shape::Standard, false),
        PreflightRule::FirewallBlocksAci,
    )
    .await;
    assert!(issue.message.contains("network_protected"), "{issue}");
}

#[tokio::test]
async fn a_disabled_key_is_refused() {
    let azure = azure();
    let spec = spec(Shape::Standard, false);
    orchestrator(&azure)
        .apply(&spec)
        .await
        .expect("first apply");
    let url = KeyVaultManagement::get(&azure, &rg(), &vault_name(), None)
        .await
        .expect("vault")
        .properties
        .vault_uri
        .expect("uri");
    grant_deployer(&azure, &[aci_cmk_keyvault::models::KeyPermission::Update]).await;
    KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &KEY.parse::<KeyName>().expect("name"),
        None,
        UpdateKeyOptions::disable(),
        None,
    )
    .await
    .expect("disable");
    let issue = refused(&azure, &spec, PreflightRule::KeyUnusable).await;
    assert!(issue.message.contains("disabled"), "{issue}");
}

#[tokio::test]
async fn a_new_version_moves_a_group_only_when_it_follows_and_another_key_only_when_allowed() {
    let azure = azure();
    let spec = spec(Shape::Standard, false);
    let first = orchestrator(&azure)
        .apply(&spec)
        .await
        .expect("first apply");
    let old = first.encryption.clone().expect("encrypted").key_version;
    // A new latest version (as Key Vault's rotation policy makes one).
    let url = first.vault_uri.clone().expect("uri");
    let newer = KeyVaultKeys::create_key(
        &azure,
        &url,
        &KEY.parse::<KeyName>().expect("name"),
        CreateKeyOptions::default(),
        None,
    )
    .await
    .expect("new version");

    // Pinned (the default): the group stays on its version; nothing is written.
    azure.clear_writes();
    let pinned = orchestrator(&azure).apply(&spec).await.expect("pinned");
    assert_eq!(done(&pinned, StepId::ContainerGroup), StepAction::InPlace);
    assert_eq!(
        pinned.encryption.as_ref().map(|e| e.key_version.as_str()),
        Some(old.as_str())
    );
    assert_eq!(azure.writes(), Vec::<String>::new());

    // Azure itself refuses to change encryption in place, naming the rule.
    let mut body = azure.stored_group(RG, GROUP).expect("stored");
    if let Some(e) = body.properties.encryption_properties.as_mut() {
        e.key_version = newer.version.to_string();
    }
    let err = ContainerGroups::create_or_update(
        &azure,
        &rg(),
        &GROUP.parse().expect("name"),
        &body,
        None,
    )
    .await
    .expect_err("immutable");
    assert!(
        matches!(err.as_service(), Some(aci_cmk_core::Error::InvalidInput(_))),
        "{err}"
    );
    assert!(err.to_string().contains("cannot be updated"), "{err}");

    // Following the latest version: apply re-creates the group on it, touching nothing else.
    azure.clear_writes();
    let mut following = spec_json(Shape::Standard, false, json!({}));
    following["key"]["create"]["lifecycle"] = json!({"follow": "latest"});
    let report = orchestrator(&azure)
        .apply(&spec_from(&following))
        .await
        .expect("re-created");
    assert_eq!(done(&report, StepId::ContainerGroup), StepAction::Recreate);
    assert_eq!(done(&report, StepId::Key), StepAction::InPlace);
    assert_eq!(
        azure.writes(),
        [
            // The deployer gains what keeping a lifecycle needs.
            "vaults.update_access_policy.add",
            "container_groups.delete",
            "container_groups.create_or_update"
        ],
        "the key is not touched"
    );
    assert_eq!(
        report.encryption.as_ref().map(|e| e.key_version.as_str()),
        Some(newer.version.as_str())
    );
    assert_eq!(azure.group_count(), 1);

    // Another key: the encryption must change, which only allow.recreate_container_group lets
    // apply do.
    let mut other = spec_json(Shape::Standard, false, json!({}));
    other["key"] = json!({"create": {"name": "other-key"}});
    let issue = refused(
        &azure,
        &spec_from(&other),
        PreflightRule::EncryptionChangeNeedsRecreate,
    )
    .await;
    assert!(
        issue.message.contains("allow.recreate_container_group"),
        "{issue}"
    );
    other["allow"] = json!({"recreate_container_group": true});
    let moved = orchestrator(&azure)
        .apply(&spec_from(&other))
        .await
        .expect("re-created on the other key");
    assert_eq!(done(&moved, StepId::ContainerGroup), StepAction::Recreate);
    assert_eq!(
        moved.encryption.as_ref().map(|e| e.key_name.as_str()),
        Some("other-key")
    );
}
