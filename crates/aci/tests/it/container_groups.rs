//! `ContainerGroupsClient`.

use crate::{ARM_TOKEN, SUB, cloud, credential, options, rg, sub};
use aci_cmk_aci::{
    ContainerGroups, ContainerGroupsClient, ContainerGroupsClientOptions, Error, LogOptions,
    models::{Container, ContainerGroup, ContainerGroupIdentity, EncryptionProperties},
};
use aci_cmk_core::{names::ContainerGroupName, resource_id::ResourceId};
use serde_json::json;
use std::collections::BTreeMap;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const VERSION: &str = "78deebed173b48e48f55abf87ed4cf71";

fn cg_path() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.ContainerInstance/containerGroups/cg1"
    )
}

fn uai() -> ResourceId {
    format!("/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aci-cmk-id")
        .parse()
        .expect("valid id")
}

fn name() -> ContainerGroupName {
    "cg1".parse().expect("valid name")
}

fn client(server: &MockServer, api_version: Option<&str>) -> ContainerGroupsClient {
    ContainerGroupsClient::new(
        &cloud(server),
        credential(),
        sub(),
        Some(ContainerGroupsClientOptions {
            service: options(),
            api_version: api_version.map(|v| v.parse().expect("valid api-version")),
        }),
    )
}

fn encrypted_group(identity: bool) -> ContainerGroup {
    let container = Container::new(
        "app",
        "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
        1.0,
        1.5,
    )
    .with_env("PLAIN", "x")
    .with_secure_env("SECRET", "secure-canary".into())
    .with_port(80);
    let mut group = ContainerGroup::new("eastus", vec![container]);
    let mut encryption = EncryptionProperties::new(
        &"https://myvault.vault.azure.net"
            .parse()
            .expect("vault url"),
        &"aci-cmk".parse().expect("key name"),
        &VERSION.parse().expect("version"),
    );
    if identity {
        encryption = encryption.with_identity(&uai());
        group.identity = Some(ContainerGroupIdentity::user_assigned([&uai()]));
    }
    group.properties.encryption_properties = Some(encryption);
    group
}

fn response_body(state: &str) -> serde_json::Value {
    json!({
        "id": cg_path(),
        "name": "cg1",
        "location": "eastus",
        "identity": {
            "type": "UserAssigned",
            "tenantId": "t",
            "userAssignedIdentities": {
                uai().to_string().replace("resourceGroups", "resourcegroups"): {"principalId": "p-1", "clientId": "c-1"}
            }
        },
        "properties": {
            "provisioningState": state,
            "sku": "Standard",
            "osType": "Linux",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.5}},
                "environmentVariables": [{"name": "PLAIN", "value": "x"}, {"name": "SECRET"}],
                "somethingNew": {"tolerated": true}
            }}],
            "encryptionProperties": {
                "vaultBaseUrl": "https://myvault.vault.azure.net/",
                "keyName": "aci-cmk",
                "keyVersion": VERSION,
                "identity": uai().to_string()
            },
            "instanceView": {"state": "Pending", "events": []}
        }
    })
}

#[tokio::test]
async fn create_network_protected_group_sends_the_exact_body_and_waits() {
    let server = MockServer::start().await;
    let expected_body = json!({
        "location": "eastus",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": { uai().to_string(): {} }
        },
        "properties": {
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "ports": [{"port": 80, "protocol": "TCP"}],
                "environmentVariables": [
                    {"name": "PLAIN", "value": "x"},
                    {"name": "SECRET", "secureValue": "secure-canary"}
                ],
                "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.5}}
            }}],
            "osType": "Linux",
            "sku": "Standard",
            "restartPolicy": "Always",
            "encryptionProperties": {
                "vaultBaseUrl": "https://myvault.vault.azure.net",
                "keyName": "aci-cmk",
                "keyVersion": VERSION,
                "identity": uai().to_string()
            }
        }
    });
    Mock::given(method("PUT"))
        .and(path(cg_path()))
        .and(query_param("api-version", "2023-05-01"))
        .and(header("authorization", ARM_TOKEN))
        .and(body_json(&expected_body))
        .respond_with(ResponseTemplate::new(201).set_body_json(response_body("Pending")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(cg_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Pending")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(cg_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Succeeded")))
        .mount(&server)
        .await;

    let group = encrypted_group(true);
    assert!(
        !format!("{group:?}").contains("secure-canary"),
        "Debug hides secure values"
    );
    let created = client(&server, None)
        .create_or_update(&rg(), &name(), &group, None)
        .await
        .expect("created");
    assert_eq!(created.provisioning_state(), Some("Succeeded"));
    let encryption = created.properties.encryption_properties.expect("echoed");
    assert!(
        encryption.same_as(
            group
                .properties
                .encryption_properties
                .as_ref()
                .expect("set")
        )
    );
    let identity = created.identity.expect("identity");
    assert!(
        identity.has_user_assigned(&uai()),
        "lowercased resourcegroups still matches"
    );
}

#[tokio::test]
async fn pinned_api_version_is_used_and_checked() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(query_param("api-version", "2019-12-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server, Some("2019-12-01"))
        .create_or_update(&rg(), &name(), &encrypted_group(false), None)
        .await
        .expect("standard flow works on 2019-12-01");

    // The network-protected flow on that version is refused before anything is sent.
    let err = client(&server, Some("2021-10-01"))
        .create_or_update(&rg(), &name(), &encrypted_group(true), None)
        .await
        .expect_err("too old");
    assert!(matches!(err, Error::ApiVersionTooOld { .. }), "{err:?}");
    assert!(err.is_client_side());
}

#[tokio::test]
async fn invalid_encryption_bodies_never_reach_the_service() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut no_standard = encrypted_group(false);
    no_standard.properties.sku = Some(aci_cmk_aci::models::Sku::Dedicated);
    let mut unlisted = encrypted_group(true);
    unlisted.identity = None;
    for (group, what) in [(no_standard, "sku"), (unlisted, "identity")] {
        let err = client(&server, None)
            .create_or_update(&rg(), &name(), &group, None)
            .await
            .expect_err(what);
        assert!(err.is_client_side(), "{what}: {err:?}");
    }
}

#[tokio::test]
async fn a_failed_provisioning_surfaces_the_arm_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).set_body_json(response_body("Pending")))
        .mount(&server)
        .await;
    let mut failed = response_body("Failed");
    failed["properties"]["error"] = json!({"code": "KeyVaultKeyAccessDenied", "message": "the service principal lacks unwrapKey"});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(failed))
        .mount(&server)
        .await;
    let err = client(&server, None)
        .create_or_update(&rg(), &name(), &encrypted_group(false), None)
        .await
        .expect_err("failed");
    let service = err.as_service().expect("service error");
    assert_eq!(service.code(), Some("KeyVaultKeyAccessDenied"));
}

#[tokio::test]
async fn synchronous_arm_errors_are_classified() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-ms-request-id", "rid-1")
                .set_body_json(
                    json!({"error": {"code": "InvalidEncryptionProperties", "message": "bad"}}),
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"code": "ResourceNotFound", "message": "The Resource was not found."}})))
        .mount(&server)
        .await;
    let c = client(&server, None);
    let err = c
        .create_or_update(&rg(), &name(), &encrypted_group(false), None)
        .await
        .expect_err("400");
    let service = err.as_service().expect("service");
    assert!(matches!(service, aci_cmk_core::Error::InvalidInput(_)));
    assert_eq!(
        service
            .service_error()
            .and_then(|e| e.request_id.as_deref()),
        Some("rid-1")
    );
    let err = c.get(&rg(), &name(), None).await.expect_err("404");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn get_decodes_and_tolerates_unknown_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(cg_path()))
        .and(query_param("api-version", "2023-05-01"))
        .and(header("authorization", ARM_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Succeeded")))
        .mount(&server)
        .await;
    let group = client(&server, None)
        .get(&rg(), &name(), None)
        .await
        .expect("found");
    let env = &group.properties.containers[0]
        .properties
        .environment_variables;
    assert_eq!(env[1].name, "SECRET");
    assert!(
        env[1].secure_value.is_none(),
        "GET never returns secure values"
    );
    assert_eq!(
        group
            .properties
            .instance_view
            .and_then(|v| v.state)
            .as_deref(),
        Some("Pending")
    );
}

#[tokio::test]
async fn update_tags_patches_only_tags() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(cg_path()))
        .and(body_json(json!({"tags": {"env": "test"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let tags = BTreeMap::from([("env".to_owned(), "test".to_owned())]);
    client(&server, None)
        .update_tags(&rg(), &name(), &tags, None)
        .await
        .expect("patched");
}

#[tokio::test]
async fn delete_follows_location_and_tolerates_missing() {
    let server = MockServer::start().await;
    let location = format!("{}/operationResults/del1", server.uri());
    Mock::given(method("DELETE"))
        .and(path(cg_path()))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", location.as_str())
                .insert_header("retry-after", "0"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operationResults/del1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(cg_path()))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let c = client(&server, None);
    c.delete(&rg(), &name(), None).await.expect("deleted");
    c.delete(&rg(), &name(), None)
        .await
        .expect("already gone is fine");
}

#[tokio::test]
async fn lists_follow_next_link() {
    let server = MockServer::start().await;
    let rg_path = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.ContainerInstance/containerGroups"
    );
    let next = format!("{}/page2?api-version=2023-05-01", server.uri());
    Mock::given(method("GET"))
        .and(path(rg_path))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [response_body("Succeeded")], "nextLink": next})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/page2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [response_body("Succeeded")]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/containerGroups"
        )))
        .and(query_param("api-version", "2023-05-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    let c = client(&server, None);
    assert_eq!(
        c.list_by_resource_group(&rg(), None)
            .await
            .expect("listed")
            .len(),
        2
    );
    assert!(c.list(None).await.expect("listed").is_empty());
}

#[tokio::test]
async fn restart_stop_start_post_their_actions() {
    let server = MockServer::start().await;
    for action in ["restart", "stop", "start"] {
        Mock::given(method("POST"))
            .and(path(format!("{}/{action}", cg_path())))
            .and(query_param("api-version", "2023-05-01"))
            .and(header("authorization", ARM_TOKEN))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server, None);
    c.restart(&rg(), &name(), None).await.expect("restart");
    c.stop(&rg(), &name(), None).await.expect("stop");
    c.start(&rg(), &name(), None).await.expect("start");
}

/// Start and restart answer 204 with ACI's own `Azure-AsyncOperation`, whose status is
/// `Pending` (start) or `Updating` (restart) until `Succeeded` (the .NET SDK's recordings of
/// live Azure); the client waits for it, and a `Failed` status is the operation's error.
#[tokio::test]
async fn start_and_restart_wait_for_acis_operation() {
    let server = MockServer::start().await;
    for (action, running) in [("start", "Pending"), ("restart", "Updating"), ("stop", "")] {
        let op_path = format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/locations/eastus/operations/{action}-op"
        );
        let mut answer = ResponseTemplate::new(204);
        if !running.is_empty() {
            answer = answer
                .insert_header(
                    "azure-asyncoperation",
                    format!("{}{op_path}?api-version=2018-06-01", server.uri()).as_str(),
                )
                .insert_header("retry-after", "1")
                .insert_header("x-ms-retry-after-ms", "1");
            let status = |s: &str| {
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": cg_path(), "status": s,
                    "startTime": "2021-01-20T08:17:12.6096904Z", "properties": {"events": []}
                }))
            };
            Mock::given(method("GET"))
                .and(path(op_path.as_str()))
                .and(query_param("api-version", "2018-06-01"))
                .respond_with(status(running).insert_header("x-ms-retry-after-ms", "1"))
                .up_to_n_times(3)
                .expect(3)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path(op_path.as_str()))
                .respond_with(status("Succeeded"))
                .expect(1)
                .mount(&server)
                .await;
        }
        Mock::given(method("POST"))
            .and(path(format!("{}/{action}", cg_path())))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server, None);
    c.start(&rg(), &name(), None).await.expect("started");
    c.restart(&rg(), &name(), None).await.expect("restarted");
    c.stop(&rg(), &name(), None).await.expect("stopped");

    let failing = MockServer::start().await;
    let op = format!("{}/operations/failed", failing.uri());
    Mock::given(method("POST"))
        .and(path(format!("{}/start", cg_path())))
        .respond_with(
            ResponseTemplate::new(204)
                .insert_header("azure-asyncoperation", op.as_str())
                .insert_header("x-ms-retry-after-ms", "1"),
        )
        .mount(&failing)
        .await;
    Mock::given(method("GET"))
        .and(path("/operations/failed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": cg_path(), "status": "Failed",
            "error": {"code": "KeyVaultAccessDenied", "message": "no unwrapKey"}
        })))
        .mount(&failing)
        .await;
    let err = client(&failing, None)
        .start(&rg(), &name(), None)
        .await
        .expect_err("the operation failed");
    assert!(
        format!("{err:?}").contains("KeyVaultAccessDenied"),
        "{err:?}"
    );
}

#[tokio::test]
async fn logs_pass_tail_and_timestamps() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{}/containers/app/logs", cg_path())))
        .and(query_param("tail", "10"))
        .and(query_param("timestamps", "true"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"content": "line1\nline2\n"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let options = LogOptions::tail(10).with_timestamps();
    let logs = client(&server, None)
        .logs(&rg(), &name(), &"app".parse().expect("name"), options, None)
        .await
        .expect("logs");
    assert_eq!(logs, "line1\nline2\n");
}

#[tokio::test]
async fn call_options_reach_the_put_and_acis_operation_and_the_ids_come_back() {
    let server = MockServer::start().await;
    let id = "aci-cmk/run-1/container_group";
    let operation = format!(
        "{}/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/locations/eastus/operations/op-1",
        server.uri()
    );
    Mock::given(method("PUT"))
        .and(path(cg_path()))
        .and(header("x-ms-client-request-id", id))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("azure-asyncoperation", operation.as_str())
                .insert_header("retry-after", "0")
                .insert_header("x-ms-request-id", "req-put")
                .insert_header("x-ms-correlation-request-id", "corr-put")
                .set_body_json(response_body("Pending")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/locations/eastus/operations/op-1"
        )))
        .and(header("x-ms-client-request-id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "Succeeded"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(cg_path()))
        .and(header("x-ms-client-request-id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_body("Succeeded")))
        .expect(1)
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = aci_cmk_core::CallOptions::default()
        .with_client_request_id(id)
        .with_recorder(recorder.clone());
    client(&server, None)
        .create_or_update(&rg(), &name(), &encrypted_group(false), Some(options))
        .await
        .expect("created");
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].request_id.as_deref(), Some("req-put"));
    assert_eq!(writes[0].correlation_id.as_deref(), Some("corr-put"));
    assert_eq!(
        recorder.responses().len(),
        3,
        "the PUT, ACI's operation and the final read"
    );
}
