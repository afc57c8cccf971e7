//! `DeploymentsClient`.

use crate::{ARM_TOKEN, SUB, cloud, credential, options, rg, sub};
use aci_cmk_aci::{DeploymentName, DeploymentRequest, Deployments, DeploymentsClient};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

fn dep_path(suffix: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourcegroups/rg-cmk/providers/Microsoft.Resources/deployments/dep1{suffix}"
    )
}

fn ops_path() -> String {
    format!("/subscriptions/{SUB}/resourcegroups/rg-cmk/deployments/dep1/operations")
}

fn name() -> DeploymentName {
    "dep1".parse().expect("valid name")
}

fn client(server: &MockServer) -> DeploymentsClient {
    DeploymentsClient::new(&cloud(server), credential(), sub(), Some(options()))
}

fn request() -> DeploymentRequest {
    DeploymentRequest::incremental(
        json!({"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}),
        Some(json!({"containerGroupName": {"value": "cg1"}})),
    )
}

fn expected_body() -> serde_json::Value {
    json!({"properties": {
        "mode": "Incremental",
        "template": {"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []},
        "parameters": {"containerGroupName": {"value": "cg1"}}
    }})
}

fn deployment(state: &str) -> serde_json::Value {
    json!({"id": dep_path(""), "name": "dep1", "properties": {"provisioningState": state, "outputResources": [{"id": "/x"}], "correlationId": "corr"}})
}

#[tokio::test]
async fn create_puts_the_template_and_waits_for_success() {
    let server = MockServer::start().await;
    let op = format!("{}/asyncop/1", server.uri());
    Mock::given(method("PUT"))
        .and(path(dep_path("")))
        .and(query_param("api-version", "2021-04-01"))
        .and(header("authorization", ARM_TOKEN))
        .and(body_json(expected_body()))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(deployment("Accepted"))
                .insert_header("azure-asyncoperation", op.as_str())
                .insert_header("retry-after", "0"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/asyncop/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "Succeeded"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(dep_path("")))
        .respond_with(ResponseTemplate::new(200).set_body_json(deployment("Succeeded")))
        .mount(&server)
        .await;
    let done = client(&server)
        .create_or_update(&rg(), &name(), &request(), None)
        .await
        .expect("deployed");
    assert_eq!(
        done.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(done.properties.output_resources.len(), 1);
}

#[tokio::test]
async fn a_failed_deployment_carries_the_failing_resource_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).set_body_json(deployment("Running")))
        .mount(&server)
        .await;
    let mut failed = deployment("Failed");
    failed["properties"]["error"] = json!({"code": "DeploymentFailed", "message": "At least one resource deployment operation failed."});
    Mock::given(method("GET"))
        .and(path(dep_path("")))
        .respond_with(ResponseTemplate::new(200).set_body_json(failed))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ops_path()))
        .and(query_param("api-version", "2021-04-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"operationId": "1", "properties": {"provisioningState": "Succeeded"}},
            {"operationId": "2", "properties": {
                "provisioningState": "Failed",
                "statusCode": "BadRequest",
                "statusMessage": {"error": {"code": "ForbiddenByFirewall", "message": "Client address is not authorized and caller is not a trusted service."}},
                "targetResource": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/cg1"}
            }}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create_or_update(&rg(), &name(), &request(), None)
        .await
        .expect_err("failed");
    let service = err.as_service().expect("service");
    let error = service.service_error().expect("has details");
    assert_eq!(error.code.as_deref(), Some("DeploymentFailed"));
    assert_eq!(
        error.root_cause().code.as_deref(),
        Some("ForbiddenByFirewall")
    );
    assert!(err.to_string().contains("not a trusted service"), "{err}");
}

#[tokio::test]
async fn validate_posts_the_same_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(dep_path("/validate")))
        .and(body_json(expected_body()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"properties": {"provisioningState": "Succeeded"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let result = client(&server)
        .validate(&rg(), &name(), &request(), None)
        .await
        .expect("valid");
    assert_eq!(result["properties"]["provisioningState"], "Succeeded");

    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "InvalidTemplate", "message": "Deployment template validation failed"}})))
        .mount(&bad)
        .await;
    let err = client(&bad)
        .validate(&rg(), &name(), &request(), None)
        .await
        .expect_err("invalid");
    assert_eq!(
        err.as_service().and_then(|e| e.code()),
        Some("InvalidTemplate")
    );
}

#[tokio::test]
async fn get_delete_and_operations() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(dep_path("")))
        .respond_with(ResponseTemplate::new(200).set_body_json(deployment("Succeeded")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(dep_path("")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ops_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"operationId": "1", "properties": {"provisioningState": "Succeeded", "targetResource": {"resourceName": "cg1"}}}]})))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.get(&rg(), &name(), None)
            .await
            .expect("found")
            .name
            .as_deref(),
        Some("dep1")
    );
    c.delete(&rg(), &name(), None).await.expect("deleted");
    let ops = c
        .list_operations(&rg(), &name(), None)
        .await
        .expect("listed");
    assert_eq!(ops.len(), 1);
    assert!(ops[0].error().is_none());
}

#[tokio::test]
async fn a_failed_deployment_is_explained_under_the_same_call_options() {
    let server = MockServer::start().await;
    let id = "aci-cmk/run-1/container_group";
    Mock::given(method("PUT"))
        .and(header("x-ms-client-request-id", id))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-ms-request-id", "req-put")
                .set_body_json(deployment("Running")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(dep_path("")))
        .and(header("x-ms-client-request-id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(deployment("Failed")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ops_path()))
        .and(header("x-ms-client-request-id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = aci_cmk_core::CallOptions::default()
        .with_client_request_id(id)
        .with_recorder(recorder.clone());
    client(&server)
        .create_or_update(&rg(), &name(), &request(), Some(options))
        .await
        .expect_err("failed");
    let methods: Vec<_> = recorder
        .responses()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["PUT", "GET", "GET"]);
    assert_eq!(recorder.writes()[0].request_id.as_deref(), Some("req-put"));
}
