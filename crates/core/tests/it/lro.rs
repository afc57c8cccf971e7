//! Long-running operations through each of the three mechanisms.

use crate::pipeline;
use aci_cmk_core::{Error, lro::OperationKind};
use azure_core::http::{Context, Method};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

const RESOURCE: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/cg";

async fn start_put(
    server: &MockServer,
) -> (
    aci_cmk_core::ServicePipeline,
    azure_core::http::RawResponse,
    url::Url,
) {
    let (p, _) = pipeline(&server.uri(), 0);
    let url = p.url(RESOURCE, Some("2023-05-01"));
    let initial = p
        .send_unchecked(
            &Context::new(),
            Method::Put,
            url.clone(),
            Some(&json!({"location": "eastus"})),
        )
        .await
        .expect("initial response");
    (p, initial, url)
}

#[tokio::test]
async fn follows_azure_async_operation_then_reads_the_resource() {
    let server = MockServer::start().await;
    let op = format!("{}/operations/op1", server.uri());
    Mock::given(method("PUT"))
        .and(path(RESOURCE))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("azure-asyncoperation", op.as_str())
                .insert_header("retry-after", "0")
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operations/op1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "InProgress"}))
                .insert_header("retry-after", "0"),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operations/op1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "Succeeded"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RESOURCE))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"name": "cg", "properties": {"provisioningState": "Succeeded"}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (p, initial, url) = start_put(&server).await;
    let body = p
        .wait_for_operation(
            &Context::new(),
            "create container group cg",
            OperationKind::CreateOrUpdate,
            initial,
            &url,
        )
        .await
        .expect("succeeds")
        .expect("has a body");
    assert_eq!(body["name"], "cg");
}

#[tokio::test]
async fn follows_location_for_a_delete() {
    let server = MockServer::start().await;
    let location = format!("{}/locations/op2", server.uri());
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", location.as_str())
                .insert_header("retry-after", "0"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/locations/op2"))
        .respond_with(ResponseTemplate::new(202).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/locations/op2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 0);
    let url = p.url(RESOURCE, Some("2023-05-01"));
    let initial = p
        .send_unchecked(&Context::new(), Method::Delete, url.clone(), None)
        .await
        .expect("initial");
    let result = p
        .wait_for_operation(
            &Context::new(),
            "delete container group cg",
            OperationKind::Delete,
            initial,
            &url,
        )
        .await
        .expect("succeeds");
    assert!(result.is_none());
}

#[tokio::test]
async fn follows_provisioning_state_when_no_header_is_given() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RESOURCE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}})),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RESOURCE))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"properties": {"provisioningState": "Succeeded"}, "tag": "final"}),
        ))
        .mount(&server)
        .await;
    let (p, initial, url) = start_put(&server).await;
    let body = p
        .wait_for_operation(
            &Context::new(),
            "create container group cg",
            OperationKind::CreateOrUpdate,
            initial,
            &url,
        )
        .await
        .expect("succeeds")
        .expect("body");
    assert_eq!(body["tag"], "final");
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(1 + 3)
    );
}

#[tokio::test]
async fn a_failed_operation_surfaces_the_arm_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RESOURCE))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"properties": {
                "provisioningState": "Failed",
                "error": {"code": "KeyVaultAccessDenied", "message": "no unwrapKey"}
            }})),
        )
        .mount(&server)
        .await;
    let (p, initial, url) = start_put(&server).await;
    let err = p
        .wait_for_operation(
            &Context::new(),
            "create container group cg",
            OperationKind::CreateOrUpdate,
            initial,
            &url,
        )
        .await
        .expect_err("fails");
    match &err {
        Error::OperationFailed {
            operation,
            status,
            error,
        } => {
            assert_eq!(operation, "create container group cg");
            assert_eq!(status, "Failed");
            assert_eq!(error.code.as_deref(), Some("KeyVaultAccessDenied"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_stuck_operation_times_out_naming_the_operation() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"properties": {"provisioningState": "Pending"}}))
                .insert_header("retry-after-ms", "50"),
        )
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 0);
    let mut options = p.lro_options().clone();
    options.max_wait = std::time::Duration::from_millis(300);
    let url = p.url(RESOURCE, Some("2023-05-01"));
    let p = p.with_lro_options(options);
    let initial = p
        .send_unchecked(&Context::new(), Method::Put, url.clone(), Some(&json!({})))
        .await
        .expect("initial");
    let err = p
        .wait_for_operation(
            &Context::new(),
            "create container group cg",
            OperationKind::CreateOrUpdate,
            initial,
            &url,
        )
        .await
        .expect_err("times out");
    assert!(
        matches!(&err, Error::Timeout { operation, .. } if operation == "create container group cg"),
        "{err:?}"
    );
    assert!(err.to_string().contains("create container group cg"));
}

#[tokio::test]
async fn a_polling_url_on_another_host_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("azure-asyncoperation", "https://evil.example/op")
                .set_body_json(json!({"properties": {"provisioningState": "Succeeded"}})),
        )
        .mount(&server)
        .await;
    let (p, initial, url) = start_put(&server).await;
    let body = p
        .wait_for_operation(
            &Context::new(),
            "create",
            OperationKind::CreateOrUpdate,
            initial,
            &url,
        )
        .await
        .expect("falls back to the body's provisioning state");
    assert!(body.is_some());
}
