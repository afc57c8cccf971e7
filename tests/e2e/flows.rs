//! apply / plan / re-apply for both flows, on access-policy and RBAC vaults.

use aci_cmk_aci::LogOptions;
use aci_cmk_encrypted_deployment::{
    progress::{StepAction, StepId},
    report::StepStatus,
};
use aci_cmk_integration_tests::Harness;

pub const STANDARD: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-e2e-std"
location = "westeurope"
flow = "standard"

[vault]
name = "e2e-std-vault"

[key.create]
name = "aci-cmk"

[container_group]
name = "hello-std"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
env = { GREETING = "hello" }
secure_env = { API_TOKEN = "e2e-secure-canary" }
"#;

pub const PROTECTED: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-e2e-np"
location = "westeurope"

[vault]
name = "e2e-np-vault"
ip_rules = ["127.0.0.1"]

[key.create]
name = "aci-cmk"

[flow.network_protected]
identity_name = "aci-cmk-id"

[container_group]
name = "hello-np"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
"#;

pub fn rbac(spec: &str) -> String {
    spec.replace("[vault]\n", "[vault]\nauthorization = \"rbac\"\n")
        .replace("rg-e2e-", "rg-e2e-rbac-")
        .replace("e2e-std-vault", "e2e-std-rbac")
        .replace("e2e-np-vault", "e2e-np-rbac")
}

async fn converges(h: &Harness, text: &str) -> aci_cmk_encrypted_deployment::report::ApplyReport {
    let spec = h.spec(text);
    let report = h
        .orchestrator
        .apply(&spec)
        .await
        .unwrap_or_else(|e| panic!("apply failed: {e}"));
    assert!(report.writes() > 0);
    assert!(
        report.steps.iter().all(|s| !matches!(
            s.status,
            StepStatus::Failed { .. } | StepStatus::Skipped { .. }
        )),
        "{report}"
    );

    // Re-apply on the converged state: no writes at all, every step in place.
    h.clear_log();
    let again = h.orchestrator.apply(&spec).await.expect("re-apply");
    assert_eq!(again.writes(), 0, "{again}");
    assert!(h.writes().is_empty(), "re-apply wrote: {:?}", h.writes());
    let plan = h.orchestrator.plan(&spec).await.expect("plan");
    assert!(plan.is_converged(), "{plan}");
    assert!(h.writes().is_empty(), "plan wrote: {:?}", h.writes());
    report
}

#[tokio::test]
async fn standard_flow_on_an_access_policy_vault() {
    let h = Harness::start().await;
    let report = converges(&h, STANDARD).await;
    assert_eq!(
        report.step(StepId::ServicePrincipal).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::Create
        })
    );
    let key = report.key_id.expect("key id");
    let encryption = report.encryption.expect("encryption as Azure reports it");
    assert_eq!(
        encryption.key_version,
        key.version().expect("versioned").to_string()
    );
    assert!(
        encryption.vault_base_url.ends_with('/'),
        "Azure echoes a trailing slash"
    );
    assert!(encryption.identity.is_none());
    assert!(report.service_principal_id.is_some());

    // The group really is encrypted with the key: its logs read back through it.
    let b = h.orchestrator.backends();
    let logs = b
        .container_groups
        .logs(
            &"rg-e2e-std".parse().expect("rg"),
            &"hello-std".parse().expect("cg"),
            &"app".parse().expect("c"),
            LogOptions::default(),
            None,
        )
        .await
        .expect("logs");
    assert!(logs.contains("GREETING, API_TOKEN"), "{logs}");
    let dump = h.emulator.admin().dump().to_string();
    assert!(!dump.contains("e2e-secure-canary"));
}

#[tokio::test]
async fn network_protected_flow_on_an_access_policy_vault() {
    let h = Harness::start().await;
    let report = converges(&h, PROTECTED).await;
    let identity = report.identity.clone().expect("identity");
    let encryption = report.encryption.clone().expect("encryption");
    assert_eq!(
        encryption.identity.as_deref().map(str::to_ascii_lowercase),
        Some(identity.id.to_ascii_lowercase())
    );
    assert_eq!(
        report.step(StepId::ServicePrincipal).map(|s| &s.status),
        Some(&StepStatus::NotApplicable)
    );
    // The firewall is on: the first-party path could not pass it.
    let vault = h
        .orchestrator
        .backends()
        .vaults
        .get(
            &"rg-e2e-np".parse().expect("rg"),
            &"e2e-np-vault".parse().expect("vault"),
            None,
        )
        .await
        .expect("vault");
    let acls = vault.properties.network_acls.expect("acls");
    assert_eq!(
        acls.default_action.map(|a| a.to_string()).as_deref(),
        Some("Deny")
    );
    assert_eq!(
        acls.bypass.map(|a| a.to_string()).as_deref(),
        Some("AzureServices")
    );
}

/// A subnet rule someone added to the vault survives the flow turning the firewall back on:
/// the update sends the whole rule set, so the orchestrator sends the rule back.
#[tokio::test]
async fn network_protected_flow_keeps_the_vaults_subnet_rules() {
    use aci_cmk_keyvault::models::{NetworkRuleAction, NetworkRuleSet, VirtualNetworkRule};
    let h = Harness::start().await;
    converges(&h, PROTECTED).await;
    let b = h.orchestrator.backends();
    let (rg, name) = (
        "rg-e2e-np".parse().expect("rg"),
        "e2e-np-vault".parse().expect("vault"),
    );
    let subnet = format!(
        "/subscriptions/{}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps",
        h.subscription()
    );
    let firewall = || async {
        b.vaults
            .get(&rg, &name, None)
            .await
            .expect("vault")
            .properties
            .network_acls
            .expect("acls")
    };
    // Someone opens the firewall and lets a subnet in.
    let mut opened = firewall().await;
    opened.default_action = Some(NetworkRuleAction::Allow);
    opened.virtual_network_rules = vec![VirtualNetworkRule {
        id: subnet.clone(),
        ignore_missing_vnet_service_endpoint: Some(true),
    }];
    b.vaults
        .update_network_rules(&rg, &name, &opened, None)
        .await
        .expect("open the firewall");

    converges(&h, PROTECTED).await;
    let acls: NetworkRuleSet = firewall().await;
    assert_eq!(acls.default_action, Some(NetworkRuleAction::Deny));
    let subnets: Vec<String> = acls
        .virtual_network_rules
        .iter()
        .map(|r| r.id.to_ascii_lowercase())
        .collect();
    assert_eq!(subnets, [subnet.to_ascii_lowercase()], "{acls:?}");
}

#[tokio::test]
async fn both_flows_on_rbac_vaults() {
    let h = Harness::start().await;
    let std = converges(&h, &rbac(STANDARD)).await;
    assert_eq!(
        std.step(StepId::EncryptionAccess).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::Create
        })
    );
    let np = converges(&h, &rbac(PROTECTED)).await;
    assert!(np.encryption.and_then(|e| e.identity).is_some());
}

/// A user's own template: one container group, a parameter for its name, the location from the
/// resource group. The orchestrator injects the encryption.
const TEMPLATE_FLOW: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-e2e-tpl-{flow}"
location = "westeurope"
{flow_line}

[vault]
name = "e2e-tpl-{flow}"
{ip_rules}

[key.create]
name = "aci-cmk"

[template]
deployment_name = "hello-template"
parameters = { groupName = { value = "hello-tpl" } }
template = '''
{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"groupName": {"type": "string"}, "image": {"type": "string", "defaultValue": "mcr.microsoft.com/azuredocs/aci-helloworld:latest"}},
  "variables": {"cpu": 1},
  "resources": [{
    "type": "Microsoft.ContainerInstance/containerGroups",
    "apiVersion": "2021-10-01",
    "name": "[parameters('groupName')]",
    "location": "[resourceGroup().location]",
    "properties": {
      "osType": "Linux",
      "restartPolicy": "Never",
      "containers": [{"name": "app", "properties": {
        "image": "[parameters('image')]",
        "resources": {"requests": {"cpu": "[variables('cpu')]", "memoryInGB": 1.5}}
      }}]
    }
  }],
  "outputs": {"group": {"type": "string", "value": "[resourceId('Microsoft.ContainerInstance/containerGroups', parameters('groupName'))]"}}
}
'''
"#;

fn template_spec(flow: &str) -> String {
    let (flow_line, ip_rules) = match flow {
        "std" => ("flow = \"standard\"", ""),
        _ => (
            "flow = { network_protected = { identity_name = \"tpl-id\" } }",
            "ip_rules = [\"127.0.0.1\"]",
        ),
    };
    TEMPLATE_FLOW
        .replace("{flow_line}", flow_line)
        .replace("{ip_rules}", ip_rules)
        .replace("{flow}", flow)
}

#[tokio::test]
async fn both_flows_by_template_deployment() {
    let h = Harness::start().await;
    for flow in ["std", "np"] {
        let report = converges(&h, &template_spec(flow)).await;
        assert!(report.deployment_id.is_some(), "{flow}");
        assert_eq!(report.container_group_ids.len(), 1, "{flow}");
        let encryption = report.encryption.expect("the deployed group's encryption");
        assert_eq!(
            Some(encryption.key_version.as_str()),
            report
                .key_id
                .as_ref()
                .and_then(|k| k.version())
                .map(|v| v.as_str())
        );
        assert_eq!(encryption.identity.is_some(), flow == "np");
    }
}
