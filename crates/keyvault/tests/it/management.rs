//! `KeyVaultManagementClient`: the exact ARM requests, and the decoding of answers and errors.

use crate::{SUB, TENANT, management};
use aci_cmk_core::names::{Location, ResourceGroupName, VaultName};
use aci_cmk_keyvault::{
    Error, KeyVaultManagement,
    models::{
        AccessPolicyEntry, AccessPolicyUpdateKind, CreateMode, IpRule, KeyPermission,
        NameUnavailableReason, NetworkRuleAction, NetworkRuleBypass, NetworkRuleSet,
        PublicNetworkAccess, Sku, SkuName, VaultCreateParameters, VaultPatch, VaultPatchProperties,
        VaultProperties,
    },
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const API: &str = "2024-11-01";
const OBJECT_ID: &str = "00000000-0000-0000-0000-0000000000bb";
const ACI_SP: &str = "00000000-0000-0000-0000-0000000000cc";

fn rg() -> ResourceGroupName {
    "rg-cmk".parse().expect("valid group")
}

fn vault() -> VaultName {
    "contoso-cmk".parse().expect("valid vault")
}

fn westeurope() -> Location {
    "westeurope".parse().expect("valid location")
}

fn vault_path() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.KeyVault/vaults/contoso-cmk"
    )
}

fn vault_body(state: &str) -> Value {
    json!({
        "id": vault_path(),
        "name": "contoso-cmk",
        "type": "Microsoft.KeyVault/vaults",
        "location": "westeurope",
        "tags": {"env": "test"},
        "systemData": {"createdBy": "someone"},
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [{
                "tenantId": TENANT,
                "objectId": OBJECT_ID,
                "permissions": {"keys": ["Get", "unwrapKey", "WrapKey", "getrotationpolicy", "futurepermission"]}
            }],
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": true,
            "enableRbacAuthorization": false,
            "vaultUri": "https://contoso-cmk.vault.azure.net/",
            "provisioningState": state,
            "hsmPoolResourceId": null,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7/32"}], "virtualNetworkRules": []},
            "publicNetworkAccess": "Enabled"
        }
    })
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-ms-request-id", "req-1")
        .insert_header("x-ms-correlation-request-id", "corr-1")
        .set_body_json(json!({"error": {"code": code, "message": message}}))
}

fn deployer_policy() -> AccessPolicyEntry {
    AccessPolicyEntry::for_keys(
        TENANT.parse().expect("tenant"),
        OBJECT_ID.parse().expect("object id"),
        [
            KeyPermission::Get,
            KeyPermission::Create,
            KeyPermission::WrapKey,
            KeyPermission::UnwrapKey,
            KeyPermission::GetRotationPolicy,
        ],
    )
}

#[tokio::test]
async fn check_name_availability_posts_name_and_type_and_decodes_the_reason() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("POST"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/checkNameAvailability"
        )))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(
            json!({"name": "contoso-cmk", "type": "Microsoft.KeyVault/vaults"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": "The vault name 'contoso-cmk' is already in use."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let result = client
        .check_name_availability(&vault(), None)
        .await
        .expect("decodes");
    assert!(!result.name_available);
    assert_eq!(result.reason, Some(NameUnavailableReason::AlreadyExists));
    assert!(result.message.expect("message").contains("already in use"));
}

#[tokio::test]
async fn check_name_availability_is_retried_like_a_read() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("POST"))
        .respond_with(arm_error(500, "InternalServerError", "try again"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"nameAvailable": true})))
        .expect(1)
        .mount(&server)
        .await;
    let result = client
        .check_name_availability(&vault(), None)
        .await
        .expect("retried");
    assert!(result.name_available);
    assert_eq!(result.reason, None);
}

#[tokio::test]
async fn create_sends_the_full_body_and_never_purge_protection_false() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    let expected = json!({
        "location": "westeurope",
        "tags": {"env": "test"},
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [{
                "tenantId": TENANT,
                "objectId": OBJECT_ID,
                "permissions": {"keys": ["get", "create", "wrapKey", "unwrapKey", "getrotationpolicy"]}
            }],
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 7,
            "enableRbacAuthorization": false,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}], "virtualNetworkRules": []},
            "publicNetworkAccess": "Enabled",
            "createMode": "default"
        }
    });
    Mock::given(method("PUT"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let mut properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::standard())
        .with_access_policy(deployer_policy())
        .with_soft_delete(7)
        .with_rbac_authorization(false)
        .with_network_acls(NetworkRuleSet::deny_except_azure_services([IpRule::new(
            "203.0.113.7",
        )]))
        .with_public_network_access(PublicNetworkAccess::Enabled)
        .with_create_mode(CreateMode::Default);
    // Azure rejects `false` with a 400 even on create: it must be left out.
    properties.enable_purge_protection = Some(false);
    let parameters = VaultCreateParameters::new(westeurope(), properties).with_tag("env", "test");
    let vault = client
        .create_or_update(&rg(), &vault(), &parameters, None)
        .await
        .expect("created");
    assert_eq!(vault.name, self::vault());
    assert_eq!(vault.location, westeurope());
    assert_eq!(vault.id.resource_type(), "Microsoft.KeyVault/vaults");
    assert_eq!(vault.properties.sku.name, SkuName::Standard);
    assert_eq!(
        vault.properties.vault_uri.expect("uri").as_str(),
        "https://contoso-cmk.vault.azure.net"
    );
    assert_eq!(
        vault.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(vault.properties.enable_purge_protection, Some(true));
    let policies = vault.properties.access_policies.expect("policies");
    assert_eq!(
        policies[0].permissions.keys,
        vec![
            KeyPermission::Get,
            KeyPermission::UnwrapKey,
            KeyPermission::WrapKey,
            KeyPermission::GetRotationPolicy,
            KeyPermission::Other("futurepermission".into()),
        ]
    );
    let acls = vault.properties.network_acls.expect("acls");
    assert_eq!(acls.default_action, Some(NetworkRuleAction::Deny));
    assert_eq!(acls.bypass, Some(NetworkRuleBypass::AzureServices));
    assert_eq!(acls.ip_rules, vec![IpRule::new("203.0.113.7/32")]);
}

#[tokio::test]
async fn create_sends_purge_protection_when_true() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("PUT"))
        .and(path(vault_path()))
        .and(body_json(json!({
            "location": "westeurope",
            "tags": {},
            "properties": {
                "tenantId": TENANT,
                "sku": {"family": "A", "name": "premium"},
                "accessPolicies": [],
                "enablePurgeProtection": true,
                "enableRbacAuthorization": true
            }
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::premium())
        .with_purge_protection()
        .with_rbac_authorization(true);
    client
        .create_or_update(
            &rg(),
            &vault(),
            &VaultCreateParameters::new(westeurope(), properties),
            None,
        )
        .await
        .expect("created");
}

#[tokio::test]
async fn create_waits_while_the_vault_registers_dns() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("PUT"))
        .and(path(vault_path()))
        .respond_with(ResponseTemplate::new(201).set_body_json(vault_body("RegisteringDns")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("RegisteringDns")))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(vault_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::standard());
    let vault = client
        .create_or_update(
            &rg(),
            &vault(),
            &VaultCreateParameters::new(westeurope(), properties),
            None,
        )
        .await
        .expect("provisioned");
    assert_eq!(
        vault.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
}

#[tokio::test]
async fn create_of_a_name_held_by_a_deleted_vault_is_a_conflict() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            409,
            "ConflictError",
            "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::standard());
    let err = client
        .create_or_update(
            &rg(),
            &vault(),
            &VaultCreateParameters::new(westeurope(), properties),
            None,
        )
        .await
        .expect_err("conflict");
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(err.code(), Some("ConflictError"));
    let service = err
        .as_service()
        .and_then(|e| e.service_error())
        .expect("service error");
    assert_eq!(service.status, 409);
    assert_eq!(service.request_id.as_deref(), Some("req-1"));
    assert_eq!(service.correlation_id.as_deref(), Some("corr-1"));
    assert!(service.message.contains("deleted state"));
}

#[tokio::test]
async fn bad_request_is_invalid_input() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            400,
            "BadRequest",
            "The property \"enablePurgeProtection\" cannot be set to false.",
        ))
        .mount(&server)
        .await;
    let properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::standard());
    let err = client
        .create_or_update(
            &rg(),
            &vault(),
            &VaultCreateParameters::new(westeurope(), properties),
            None,
        )
        .await
        .expect_err("rejected");
    assert!(
        matches!(err, Error::Service(aci_cmk_core::Error::InvalidInput(_))),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("BadRequest"));
    assert!(
        err.to_string()
            .starts_with("invalid request: 400 BadRequest"),
        "{err}"
    );
}

#[tokio::test]
async fn get_decodes_the_vault_and_a_missing_one_is_not_found() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("GET"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(vault_path()))
        .respond_with(arm_error(
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.KeyVault/vaults/contoso-cmk' under resource group 'rg-cmk' was not found.",
        ))
        .mount(&server)
        .await;
    let vault = client.get(&rg(), &vault(), None).await.expect("found");
    assert_eq!(vault.tags.get("env").map(String::as_str), Some("test"));
    assert_eq!(vault.properties.soft_delete_retention_in_days, Some(90));
    let err = client
        .get(&rg(), &self::vault(), None)
        .await
        .expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some("ResourceNotFound"));
}

#[tokio::test]
async fn update_patches_only_the_given_fields_and_never_access_policies() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("PATCH"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({
            "tags": {"owner": "cmk"},
            "properties": {"enableRbacAuthorization": true, "publicNetworkAccess": "Disabled"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let patch = VaultPatch {
        tags: Some([("owner".to_owned(), "cmk".to_owned())].into()),
        properties: Some(VaultPatchProperties {
            enable_rbac_authorization: Some(true),
            public_network_access: Some(PublicNetworkAccess::Disabled),
            enable_purge_protection: Some(false),
            ..VaultPatchProperties::default()
        }),
    };
    client
        .update(&rg(), &vault(), &patch, None)
        .await
        .expect("patched");
}

#[tokio::test]
async fn update_network_rules_patches_network_acls_only() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("PATCH"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({
            "properties": {"networkAcls": {
                "bypass": "AzureServices",
                "defaultAction": "Deny",
                "ipRules": [{"value": "203.0.113.0/24"}],
                "virtualNetworkRules": []
            }}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let vault = client
        .update_network_rules(
            &rg(),
            &vault(),
            &NetworkRuleSet::deny_except_azure_services([IpRule::new("203.0.113.0/24")]),
            None,
        )
        .await
        .expect("patched");
    assert!(vault.properties.network_acls.is_some());
}

#[tokio::test]
async fn access_policy_add_puts_the_sub_resource_and_returns_the_merged_list() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    let aci = AccessPolicyEntry::for_keys(
        TENANT.parse().expect("tenant"),
        ACI_SP.parse().expect("object id"),
        [
            KeyPermission::Get,
            KeyPermission::UnwrapKey,
            KeyPermission::WrapKey,
        ],
    );
    Mock::given(method("PUT"))
        .and(path(format!("{}/accessPolicies/add", vault_path())))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({"properties": {"accessPolicies": [{
            "tenantId": TENANT,
            "objectId": ACI_SP,
            "permissions": {"keys": ["get", "unwrapKey", "wrapKey"]}
        }]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("{}/accessPolicies/", vault_path()),
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": [
                {"tenantId": TENANT, "objectId": OBJECT_ID, "permissions": {"keys": ["get", "create"]}},
                {"tenantId": TENANT, "objectId": ACI_SP, "permissions": {"keys": ["get", "unwrapKey", "wrapKey"]}}
            ]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let policies = client
        .update_access_policy(
            &rg(),
            &vault(),
            AccessPolicyUpdateKind::Add,
            std::slice::from_ref(&aci),
            None,
        )
        .await
        .expect("added");
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[1], aci);
}

#[tokio::test]
async fn access_policy_replace_and_remove_use_their_paths() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    for kind in ["replace", "remove"] {
        Mock::given(method("PUT"))
            .and(path(format!("{}/accessPolicies/{kind}", vault_path())))
            .and(query_param("api-version", API))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"properties": {"accessPolicies": []}})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    for kind in [
        AccessPolicyUpdateKind::Replace,
        AccessPolicyUpdateKind::Remove,
    ] {
        let left = client
            .update_access_policy(&rg(), &vault(), kind, &[deployer_policy()], None)
            .await
            .expect("updated");
        assert!(left.is_empty());
    }
    let err = client
        .update_access_policy(
            &rg(),
            &vault(),
            AccessPolicyUpdateKind::Other("merge".into()),
            &[],
            None,
        )
        .await
        .expect_err("refused");
    assert!(err.is_client_side());
}

#[tokio::test]
async fn delete_accepts_200_204_and_an_already_missing_vault() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    for status in [200, 204] {
        Mock::given(method("DELETE"))
            .and(path(vault_path()))
            .and(query_param("api-version", API))
            .and(header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .respond_with(arm_error(404, "ResourceNotFound", "gone"))
        .expect(1)
        .mount(&server)
        .await;
    for _ in 0..3 {
        client.delete(&rg(), &vault(), None).await.expect("deleted");
    }
}

#[tokio::test]
async fn delete_surfaces_other_errors() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("DELETE"))
        .respond_with(arm_error(403, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/delete'."))
        .mount(&server)
        .await;
    let err = client
        .delete(&rg(), &vault(), None)
        .await
        .expect_err("forbidden");
    assert!(err.is_forbidden(), "{err:?}");
    assert!(matches!(
        err,
        Error::Service(aci_cmk_core::Error::ForbiddenByRbac(_))
    ));
}

fn deleted_body(name: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/{name}"),
        "name": name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault_path(),
            "location": "westeurope",
            "deletionDate": "2025-01-01T00:00:59Z",
            "scheduledPurgeDate": "2025-04-01T00:00:59Z",
            "tags": {},
            "purgeProtectionEnabled": true
        }
    })
}

#[tokio::test]
async fn get_deleted_reads_the_location_scoped_path() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/contoso-cmk"
        )))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(deleted_body("contoso-cmk")))
        .expect(1)
        .mount(&server)
        .await;
    let deleted = client
        .get_deleted(&westeurope(), &vault(), None)
        .await
        .expect("found");
    assert_eq!(deleted.name, vault());
    let props = deleted.properties;
    assert_eq!(props.purge_protection_enabled, Some(true));
    assert_eq!(props.location, Some(westeurope()));
    assert_eq!(
        props
            .vault_id
            .and_then(|id| id.resource_group_name().cloned()),
        Some(rg())
    );
    assert_eq!(props.scheduled_purge_date.map(|d| d.month() as u8), Some(4));
}

#[tokio::test]
async fn list_deleted_follows_next_link() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    let list_path = format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedVaults");
    let next = format!(
        "{}{list_path}?api-version={API}&$skiptoken=page2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(list_path.as_str()))
        .and(query_param("$skiptoken", "page2"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"value": [deleted_body("vault-two")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path.as_str()))
        .and(query_param("api-version", API))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [deleted_body("vault-one")], "nextLink": next})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let deleted = client.list_deleted(None).await.expect("listed");
    let names: Vec<&str> = deleted.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["vault-one", "vault-two"]);
}

#[tokio::test]
async fn list_reads_the_subscriptions_vaults_across_pages() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    let list_path = format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults");
    let next = format!(
        "{}{list_path}?api-version={API}&$skiptoken=page2",
        server.uri()
    );
    let mut second = vault_body("Succeeded");
    second["id"] = json!(vault_path().replace("contoso-cmk", "contoso-two"));
    second["name"] = json!("contoso-two");
    Mock::given(method("GET"))
        .and(path(list_path.as_str()))
        .and(query_param("$skiptoken", "page2"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [second]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path.as_str()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [vault_body("Succeeded")], "nextLink": next})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let vaults = client.list(None).await.expect("listed");
    let names: Vec<&str> = vaults.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["contoso-cmk", "contoso-two"]);
    assert_eq!(vaults[0].properties.enable_purge_protection, Some(true));
}

#[tokio::test]
async fn list_deleted_refuses_a_next_link_to_another_host() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [],
            "nextLink": "https://attacker.example/steal"
        })))
        .mount(&server)
        .await;
    let err = client.list_deleted(None).await.expect_err("refused");
    assert!(
        matches!(err, Error::Service(aci_cmk_core::Error::Decode { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("leaves the endpoint"), "{err}");
}

#[tokio::test]
async fn recover_puts_create_mode_recover_without_access_policies() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("PUT"))
        .and(path(vault_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({
            "location": "westeurope",
            "tags": {},
            "properties": {
                "tenantId": TENANT,
                "sku": {"family": "A", "name": "standard"},
                "createMode": "recover"
            }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let vault = client
        .recover(
            &rg(),
            &vault(),
            &westeurope(),
            &TENANT.parse().expect("tenant"),
            &Sku::standard(),
            None,
        )
        .await
        .expect("recovered");
    assert_eq!(vault.properties.access_policies.map(|p| p.len()), Some(1));
}

#[tokio::test]
async fn purge_follows_location_until_done() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    let deleted_path = format!(
        "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/contoso-cmk"
    );
    let operation = format!(
        "{}/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/operationResults/op1",
        server.uri()
    );
    Mock::given(method("POST"))
        .and(path(format!("{deleted_path}/purge")))
        .and(query_param("api-version", API))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", operation.as_str())
                .insert_header("retry-after", "0"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/operationResults/op1")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(202).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/operationResults/op1")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    client
        .purge_deleted(&westeurope(), &vault(), None)
        .await
        .expect("purged");
}

#[tokio::test]
async fn purge_finishing_at_once_and_purge_refused() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("POST"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/contoso-cmk/purge"
        )))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(arm_error(
            409,
            "Conflict",
            "Operation 'DeletedVaultPurge' is not allowed.",
        ))
        .mount(&server)
        .await;
    client
        .purge_deleted(&westeurope(), &vault(), None)
        .await
        .expect("purged");
    let err = client
        .purge_deleted(
            &westeurope(),
            &"protected-vault".parse().expect("name"),
            None,
        )
        .await
        .expect_err("protected");
    assert!(err.is_conflict(), "{err:?}");
}

#[tokio::test]
async fn purge_is_not_retried_after_it_may_have_reached_the_server() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("POST"))
        .respond_with(arm_error(502, "BadGateway", "upstream"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .purge_deleted(&westeurope(), &vault(), None)
        .await
        .expect_err("not retried");
    assert_eq!(
        err.as_service().and_then(aci_cmk_core::Error::status),
        Some(502)
    );
}

#[tokio::test]
async fn every_request_carries_the_arm_token_only() {
    let server = MockServer::start().await;
    let (client, bearer) = management(&server);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_body("Succeeded")))
        .mount(&server)
        .await;
    client.get(&rg(), &vault(), None).await.expect("found");
    let requests: Vec<Request> = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1);
    let auth = requests[0]
        .headers
        .get("authorization")
        .expect("authorization");
    assert_eq!(auth.to_str().expect("ascii"), bearer);
    assert!(bearer.ends_with("/.default"), "{bearer}");
}

#[tokio::test]
async fn call_options_reach_the_put_and_every_poll_and_the_ids_come_back() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    let id = "aci-cmk/run-1/vault";
    Mock::given(method("PUT"))
        .and(path(vault_path()))
        .and(header("x-ms-client-request-id", id))
        .and(header("x-ms-command-name", "aci-cmk"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-ms-request-id", "req-put")
                .insert_header("x-ms-correlation-request-id", "corr-put")
                .set_body_json(vault_body("RegisteringDns")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(vault_path()))
        .and(header("x-ms-client-request-id", id))
        .and(header("x-ms-command-name", "aci-cmk"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ms-request-id", "req-get")
                .set_body_json(vault_body("Succeeded")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = aci_cmk_core::CallOptions::default()
        .with_client_request_id(id)
        .with_header("x-ms-command-name", "aci-cmk")
        .with_recorder(recorder.clone());
    let properties = VaultProperties::new(TENANT.parse().expect("tenant"), Sku::standard());
    client
        .create_or_update(
            &rg(),
            &vault(),
            &VaultCreateParameters::new(westeurope(), properties),
            Some(options),
        )
        .await
        .expect("provisioned");
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PUT");
    assert_eq!(writes[0].status, 201);
    assert_eq!(writes[0].request_id.as_deref(), Some("req-put"));
    assert_eq!(writes[0].correlation_id.as_deref(), Some("corr-put"));
    assert_eq!(writes[0].client_request_id.as_deref(), Some(id));
    assert_eq!(recorder.responses().len(), 2, "the PUT and its poll");
}

#[tokio::test]
async fn a_refused_write_is_recorded_with_the_ids_to_quote() {
    let server = MockServer::start().await;
    let (client, _) = management(&server);
    Mock::given(method("PUT"))
        .and(path(format!("{}/accessPolicies/add", vault_path())))
        .respond_with(arm_error(403, "AuthorizationFailed", "no"))
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let error = client
        .update_access_policy(
            &rg(),
            &vault(),
            AccessPolicyUpdateKind::Add,
            &[deployer_policy()],
            Some(aci_cmk_core::CallOptions::default().with_recorder(recorder.clone())),
        )
        .await
        .expect_err("refused");
    assert!(error.is_forbidden());
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (writes[0].status, writes[0].request_id.as_deref()),
        (403, Some("req-1"))
    );
    assert!(
        writes[0]
            .client_request_id
            .as_deref()
            .is_some_and(|id| id.len() == 36 && id.matches('-').count() == 4),
        "a generated id: {writes:?}"
    );
}
