//! Both flows end to end, on access-policy and RBAC vaults, by direct PUT and by template
//! deployment; re-applying a converged state writes nothing.

use super::*;
use aci_cmk_aci::{
    ContainerGroups, ResourceGroups,
    models::{IdentityType, Sku as GroupSku},
};
use aci_cmk_core::names::{KeyName, ResourceGroupName, VaultName};
use aci_cmk_encrypted_deployment::progress::{self, ProgressEvent};
use aci_cmk_identity::{ManagedIdentities, role_assignments::RoleDefinitionId};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultManagement,
    models::{KeyPermission, NetworkRuleAction, NetworkRuleBypass, Vault},
};

fn rg() -> ResourceGroupName {
    RG.parse().expect("name")
}

async fn vault(azure: &MemoryAzure) -> Vault {
    KeyVaultManagement::get(
        azure,
        &rg(),
        &VAULT.parse::<VaultName>().expect("name"),
        None,
    )
    .await
    .expect("the vault exists")
}

fn policy_keys(vault: &Vault, principal: &PrincipalId) -> Vec<KeyPermission> {
    vault
        .properties
        .access_policies
        .iter()
        .flatten()
        .filter(|p| &p.object_id == principal)
        .flat_map(|p| p.permissions.keys.clone())
        .collect()
}

fn position(writes: &[String], method: &str) -> usize {
    writes
        .iter()
        .position(|w| w == method)
        .unwrap_or_else(|| panic!("no {method} among {writes:?}"))
}

/// Applies `shape` on a fresh subscription and checks everything the flow must leave behind,
/// then that a second apply and a plan find nothing to do.
async fn flow(shape: Shape, rbac: bool) {
    let azure = azure();
    let (sink, mut events) = progress::channel();
    let orchestrator = orchestrator_with(&azure, options().with_progress(sink));
    let spec = spec(shape, rbac);

    let report = orchestrator.apply(&spec).await.expect("apply");
    let writes = azure.writes();
    let protected = matches!(shape, Shape::NetworkProtected);

    // Steps.
    assert_eq!(done(&report, StepId::ResourceGroup), StepAction::Create);
    assert_eq!(done(&report, StepId::Vault), StepAction::Create);
    assert_eq!(done(&report, StepId::Key), StepAction::Create);
    assert_eq!(done(&report, StepId::ContainerGroup), StepAction::Create);
    let grant = if rbac {
        StepAction::Create
    } else {
        StepAction::Update
    };
    assert_eq!(done(&report, StepId::DeployerAccess), grant);
    assert_eq!(done(&report, StepId::EncryptionAccess), grant);
    if protected {
        assert_eq!(done(&report, StepId::Identity), StepAction::Create);
        assert_eq!(done(&report, StepId::Firewall), StepAction::Update);
        assert_eq!(
            report.step(StepId::ServicePrincipal).map(|s| &s.status),
            Some(&StepStatus::NotApplicable)
        );
    } else {
        assert_eq!(done(&report, StepId::ServicePrincipal), StepAction::Create);
        for step in [StepId::Identity, StepId::Firewall] {
            assert_eq!(
                report.step(step).map(|s| &s.status),
                Some(&StepStatus::NotApplicable)
            );
        }
    }
    assert_eq!(report.retries(), 0);

    // Who ACI acts as.
    let encryption_principal = if protected {
        assert_eq!(
            azure.aci_service_principal(),
            None,
            "the network-protected flow needs no ACI service principal"
        );
        let identity =
            ManagedIdentities::get(&azure, &rg(), &IDENTITY.parse().expect("name"), None)
                .await
                .expect("identity");
        let reported = report.identity.as_ref().expect("identity reported");
        assert_eq!(reported.id, identity.id.to_string());
        assert_eq!(reported.principal_id, identity.principal_id);
        assert_eq!(reported.client_id, identity.client_id);
        assert_eq!(report.service_principal_id, None);
        identity.principal_id
    } else {
        let sp = azure
            .aci_service_principal()
            .expect("the ACI service principal was created");
        assert_eq!(report.service_principal_id.as_ref(), Some(&sp));
        assert!(report.identity.is_none());
        sp
    };

    // The vault: soft delete, purge protection, the authorization asked for.
    let vault = vault(&azure).await;
    let p = &vault.properties;
    assert_eq!(p.enable_soft_delete, Some(true));
    assert_eq!(p.soft_delete_retention_in_days, Some(90));
    assert_eq!(p.enable_purge_protection, Some(true));
    assert_eq!(p.enable_rbac_authorization, Some(rbac));
    assert_eq!(report.vault_id.as_deref(), Some(vault.id.as_str()));
    assert_eq!(report.vault_uri, p.vault_uri);

    // Access: policies or roles, never both.
    if rbac {
        let roles = azure.role_assignments();
        assert!(
            roles.contains(&(deployer(), RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER)),
            "{roles:?}"
        );
        assert!(
            roles.contains(&(
                encryption_principal.clone(),
                RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
            )),
            "{roles:?}"
        );
        assert_eq!(roles.len(), 2, "{roles:?}");
        assert!(p.access_policies.iter().flatten().next().is_none());
        assert!(
            !writes
                .iter()
                .any(|w| w.starts_with("vaults.update_access_policy")),
            "{writes:?}"
        );
    } else {
        let deployer_keys = policy_keys(&vault, &deployer());
        assert!(
            deployer_keys.contains(&KeyPermission::Get)
                && deployer_keys.contains(&KeyPermission::Create),
            "{deployer_keys:?}"
        );
        let aci_keys = policy_keys(&vault, &encryption_principal);
        assert!(
            aci_keys.contains(&KeyPermission::Get) && aci_keys.contains(&KeyPermission::UnwrapKey),
            "{aci_keys:?}"
        );
        assert!(azure.role_assignments().is_empty());
        assert_eq!(
            azure.write_counts().get("vaults.create_or_update"),
            Some(&1),
            "the vault is PUT once, then only added to"
        );
    }

    // The firewall, after the key exists.
    let acls = p.network_acls.as_ref().expect("network rules");
    if protected {
        assert_eq!(acls.default_action, Some(NetworkRuleAction::Deny));
        assert_eq!(acls.bypass, Some(NetworkRuleBypass::AzureServices));
        let rules: Vec<&str> = acls.ip_rules.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(rules, [format!("{}/32", memory::CALLER_IP)]);
        let firewall = position(&writes, "vaults.update_network_rules");
        assert!(
            position(&writes, "keys.create_key") < firewall,
            "{writes:?}"
        );
        assert!(
            firewall < position(&writes, "container_groups.create_or_update"),
            "{writes:?}"
        );
    } else {
        assert_eq!(acls.default_action, Some(NetworkRuleAction::Allow));
        assert!(!writes.iter().any(|w| w == "vaults.update_network_rules"));
    }

    // The key, and the group on its version.
    let url = p.vault_uri.clone().expect("vault uri");
    let key = KeyVaultKeys::get_key(
        &azure,
        &url,
        &KEY.parse::<KeyName>().expect("name"),
        None,
        None,
    )
    .await
    .expect("key");
    assert_eq!(report.key_id.as_ref(), Some(&key.kid));
    assert_eq!(
        key.n.as_ref().map(Vec::len),
        Some(256),
        "RSA 2048 by default"
    );
    let grant_write = if rbac {
        "role_assignments.create"
    } else {
        "vaults.update_access_policy.add"
    };
    let last_grant = writes
        .iter()
        .rposition(|w| w == grant_write)
        .expect("a grant");
    assert!(
        last_grant < position(&writes, "container_groups.create_or_update"),
        "access before the group: {writes:?}"
    );

    let group = ContainerGroups::get(&azure, &rg(), &GROUP.parse().expect("name"), None)
        .await
        .expect("group");
    assert_eq!(group.properties.sku, Some(GroupSku::Standard));
    let encryption = group
        .properties
        .encryption_properties
        .clone()
        .expect("encryption");
    assert_eq!(
        encryption.vault_base_url,
        format!("https://{VAULT}.vault.azure.net/"),
        "echoed with a trailing slash"
    );
    assert_eq!(encryption.key_name, KEY);
    assert_eq!(encryption.key_version, key.version.as_str());
    assert_eq!(
        report.encryption.as_ref(),
        Some(&encryption),
        "the report shows what Azure reports"
    );
    assert_eq!(report.container_group_ids, [group.id.clone().expect("id")]);
    if protected {
        let identity_id = report.identity.as_ref().map(|i| i.id.clone());
        assert_eq!(encryption.identity, identity_id);
        let block = group.identity.as_ref().expect("identity block");
        assert_eq!(block.kind, IdentityType::UserAssigned);
        let listed: Vec<&String> = block.user_assigned_identities.keys().collect();
        assert_eq!(listed, [identity_id.as_ref().expect("id")]);
    } else {
        assert_eq!(encryption.identity, None);
        assert!(group.identity.is_none());
    }
    let env = &group.properties.containers[0]
        .properties
        .environment_variables;
    assert!(
        env.iter().all(|v| v.secure_value.is_none()),
        "GET never returns secure values"
    );
    let stored = azure.stored_group(RG, GROUP).expect("stored");
    let token = stored.properties.containers[0]
        .properties
        .environment_variables
        .iter()
        .find(|v| v.name == "TOKEN")
        .and_then(|v| v.secure_value.clone())
        .expect("the secure value was sent");
    assert_eq!(token.expose_secret(), "s3cret");

    // Progress: each step of the flow started, then finished.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    for outcome in &report.steps {
        if outcome.status == StepStatus::NotApplicable {
            continue;
        }
        let started = seen
            .iter()
            .position(|e| matches!(e, ProgressEvent::Started { step } if *step == outcome.step));
        let finished = seen
            .iter()
            .position(|e| matches!(e, ProgressEvent::Done { step, .. } if *step == outcome.step));
        match (started, finished) {
            (Some(s), Some(f)) => assert!(s < f, "{:?}", outcome.step),
            _ => panic!("no Started/Done for {:?} in {seen:?}", outcome.step),
        }
    }

    // Converged: a plan has nothing to do, and a second apply writes nothing.
    azure.clear_writes();
    let plan = orchestrator.plan(&spec).await.expect("plan");
    assert!(plan.is_converged(), "{plan}");
    for s in &plan.steps {
        assert!(
            matches!(s.action, None | Some(StepAction::InPlace)),
            "{plan}"
        );
    }
    let again = orchestrator.apply(&spec).await.expect("re-apply");
    assert_all_in_place(&again);
    assert_eq!(azure.writes(), Vec::<String>::new());
    assert_eq!(again.key_id, report.key_id);
    assert_eq!(again.encryption, report.encryption);
    assert_eq!(again.container_group_ids, report.container_group_ids);
    assert_eq!(again.identity, report.identity);
    assert_eq!(again.service_principal_id, report.service_principal_id);
}

#[tokio::test]
async fn standard_flow_on_an_access_policy_vault() {
    flow(Shape::Standard, false).await;
}

#[tokio::test]
async fn network_protected_flow_on_an_access_policy_vault() {
    flow(Shape::NetworkProtected, false).await;
}

#[tokio::test]
async fn standard_flow_on_an_rbac_vault() {
    flow(Shape::Standard, true).await;
}

#[tokio::test]
async fn network_protected_flow_on_an_rbac_vault() {
    flow(Shape::NetworkProtected, true).await;
}

fn template_spec(shape: Shape, rbac: bool) -> DeploymentSpec {
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "groupName": {"type": "string"},
            "image": {"type": "string", "defaultValue": "mcr.microsoft.com/azuredocs/aci-helloworld:latest"}
        },
        "resources": [{
            "type": "Microsoft.ContainerInstance/containerGroups",
            "apiVersion": "2021-10-01",
            "name": "[parameters('groupName')]",
            "location": "[resourceGroup().location]",
            "properties": {
                "osType": "Linux",
                "restartPolicy": "OnFailure",
                "containers": [{
                    "name": "web",
                    "properties": {
                        "image": "[parameters('image')]",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}
                    }
                }]
            }
        }]
    });
    let mut value = spec_json(
        shape,
        rbac,
        json!({"template": {
            "deployment_name": "cmk-template",
            "template": template,
            "parameters": {"groupName": {"value": "templated"}}
        }}),
    );
    value.as_object_mut().map(|o| o.remove("container_group"));
    spec_from(&value)
}

async fn template_flow(shape: Shape, rbac: bool) {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = template_spec(shape, rbac);
    let report = orchestrator.apply(&spec).await.expect("apply");
    assert_eq!(done(&report, StepId::ContainerGroup), StepAction::Create);
    assert!(
        azure
            .writes()
            .contains(&"deployments.create_or_update".to_owned())
    );
    assert!(
        !azure
            .writes()
            .contains(&"container_groups.create_or_update".to_owned()),
        "deployed by the template"
    );

    let group = ContainerGroups::get(&azure, &rg(), &"templated".parse().expect("name"), None)
        .await
        .expect("the template's group");
    assert_eq!(group.location, "eastus");
    assert_eq!(group.properties.sku, Some(GroupSku::Standard));
    assert_eq!(
        group.properties.containers[0].properties.image,
        "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
    );
    let encryption = group
        .properties
        .encryption_properties
        .clone()
        .expect("encryption injected");
    let kid = report.key_id.clone().expect("key id");
    assert_eq!(
        Some(encryption.key_version.as_str()),
        kid.version().map(|v| v.as_str())
    );
    assert_eq!(report.encryption.as_ref(), Some(&encryption));
    assert_eq!(report.container_group_ids, [group.id.clone().expect("id")]);
    assert!(
        report
            .deployment_id
            .as_deref()
            .is_some_and(|d| d.contains("/deployments/cmk-template")),
        "{report:?}"
    );
    match shape {
        Shape::NetworkProtected => {
            let identity = report.identity.as_ref().expect("identity").id.clone();
            assert_eq!(encryption.identity.as_ref(), Some(&identity));
            assert!(
                group
                    .identity
                    .as_ref()
                    .is_some_and(|i| i.user_assigned_identities.contains_key(&identity))
            );
        }
        Shape::Standard => assert_eq!(encryption.identity, None),
    }

    azure.clear_writes();
    assert!(orchestrator.plan(&spec).await.expect("plan").is_converged());
    let again = orchestrator.apply(&spec).await.expect("re-apply");
    assert_all_in_place(&again);
    assert_eq!(azure.writes(), Vec::<String>::new());
    assert_eq!(again.encryption, report.encryption);
    assert_eq!(again.deployment_id, report.deployment_id);
}

#[tokio::test]
async fn template_deployment_standard_flow() {
    template_flow(Shape::Standard, false).await;
}

#[tokio::test]
async fn template_deployment_network_protected_flow_on_an_rbac_vault() {
    template_flow(Shape::NetworkProtected, true).await;
}

#[tokio::test]
async fn policies_of_others_survive_on_an_existing_vault() {
    use aci_cmk_keyvault::models::{
        AccessPolicyEntry, Sku, VaultCreateParameters, VaultProperties,
    };
    let azure = azure();
    let other: PrincipalId = "00000000-0000-0000-0000-0000000000cc"
        .parse()
        .expect("guid");
    ResourceGroups::create_or_update(
        &azure,
        &rg(),
        &"eastus".parse().expect("location"),
        &Default::default(),
        None,
    )
    .await
    .expect("rg");
    let properties = VaultProperties::new(tenant(), Sku::standard())
        .with_soft_delete(90)
        .with_purge_protection()
        .with_access_policy(AccessPolicyEntry::for_keys(
            tenant(),
            other.clone(),
            [KeyPermission::List],
        ));
    KeyVaultManagement::create_or_update(
        &azure,
        &rg(),
        &VAULT.parse().expect("name"),
        &VaultCreateParameters::new("eastus".parse().expect("location"), properties),
        None,
    )
    .await
    .expect("vault");
    azure.clear_writes();

    let report = orchestrator(&azure)
        .apply(&spec(Shape::Standard, false))
        .await
        .expect("apply");
    assert_eq!(done(&report, StepId::ResourceGroup), StepAction::InPlace);
    assert_eq!(done(&report, StepId::Vault), StepAction::InPlace);
    assert!(
        !azure
            .writes()
            .contains(&"vaults.create_or_update".to_owned()),
        "{:?}",
        azure.writes()
    );
    assert_eq!(
        policy_keys(&vault(&azure).await, &other),
        [KeyPermission::List]
    );
}

#[tokio::test]
async fn a_firewall_that_shuts_out_the_deployer_does_not_break_re_apply() {
    let azure = azure();
    let mut value = spec_json(Shape::NetworkProtected, false, json!({}));
    value["vault"]["ip_rules"] = json!([]);
    let spec = spec_from(&value);
    let orchestrator = orchestrator(&azure);
    let first = orchestrator.apply(&spec).await.expect("first apply");
    let url = first.vault_uri.clone().expect("uri");
    let err = KeyVaultKeys::get_key(
        &azure,
        &url,
        &KEY.parse::<KeyName>().expect("name"),
        None,
        None,
    )
    .await
    .expect_err("the deployer is outside the firewall now");
    assert!(err.is_forbidden_by_firewall(), "{err}");

    azure.clear_writes();
    let plan = orchestrator.plan(&spec).await.expect("plan");
    assert!(plan.is_converged(), "{plan}");
    let again = orchestrator.apply(&spec).await.expect("re-apply");
    assert_all_in_place(&again);
    assert_eq!(azure.writes(), Vec::<String>::new());
    assert_eq!(again.key_id, first.key_id, "the version the group uses");
}
