//! Per-call options through the pipeline: the client request id on every request of a call
//! (polls included), extra headers, and the recorder of what the service answered.

use crate::pipeline;
use aci_cmk_core::{
    CallOptions, ResponseRecorder, ServiceClientOptions, ServicePipeline, lro::OperationKind,
};
use azure_core::http::Method;
use serde_json::json;
use std::sync::Arc;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

fn header_of(request: &wiremock::Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn the_client_request_id_goes_on_every_request_of_a_call_and_the_ids_come_back() {
    let server = MockServer::start().await;
    let op = format!("{}/operations/op1", server.uri());
    Mock::given(method("PUT"))
        .and(path("/thing"))
        .and(header("x-ms-client-request-id", "aci-cmk/run-1/vault"))
        .and(header("x-ms-command-name", "deploy"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("azure-asyncoperation", op.as_str())
                .insert_header("retry-after", "0")
                .insert_header("x-ms-request-id", "req-put")
                .insert_header("x-ms-correlation-request-id", "corr-put")
                .set_body_json(json!({"properties": {"provisioningState": "Creating"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operations/op1"))
        .and(header("x-ms-client-request-id", "aci-cmk/run-1/vault"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ms-request-id", "req-poll")
                .set_body_json(json!({"status": "Succeeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .and(header("x-ms-client-request-id", "aci-cmk/run-1/vault"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ms-request-id", "req-get")
                .set_body_json(json!({"properties": {"provisioningState": "Succeeded"}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let (p, _) = pipeline(&server.uri(), 0);
    let recorder = ResponseRecorder::new();
    let ctx = CallOptions::default()
        .with_client_request_id("aci-cmk/run-1/vault")
        .with_header("X-Ms-Command-Name", "deploy")
        .with_header("authorization", "Bearer not-ours")
        .with_recorder(recorder.clone())
        .into_context();
    let url = p.url("/thing", None);
    let initial = p
        .send_unchecked(&ctx, Method::Put, url.clone(), Some(&json!({})))
        .await
        .expect("initial response");
    p.wait_for_operation(
        &ctx,
        "create thing",
        OperationKind::CreateOrUpdate,
        initial,
        &url,
    )
    .await
    .expect("succeeds");

    let responses = recorder.responses();
    let ids: Vec<_> = responses
        .iter()
        .map(|r| (r.method.as_str(), r.request_id.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            ("PUT", Some("req-put")),
            ("GET", Some("req-poll")),
            ("GET", Some("req-get"))
        ]
    );
    assert!(
        responses
            .iter()
            .all(|r| r.client_request_id.as_deref() == Some("aci-cmk/run-1/vault"))
    );
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].correlation_id.as_deref(), Some("corr-put"));
    assert_eq!(writes[0].status, 201);
    assert_eq!(writes[0].url, format!("{}/thing", server.uri()));

    // The credential's token, not the header the call tried to set.
    let requests = server.received_requests().await.expect("recorded");
    assert!(requests.iter().all(|r| {
        header_of(r, "authorization").as_deref()
            == Some("Bearer token-for-https://management.example/.default")
    }));
}

#[tokio::test]
async fn without_an_id_each_call_gets_one_kept_across_its_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ms-request-id", "served")
                .set_body_json(json!({})),
        )
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 3);
    let recorder = ResponseRecorder::new();
    let ctx = CallOptions::context_of(Some(CallOptions::default().with_recorder(recorder.clone())));
    p.send(&ctx, Method::Get, p.url("/x", None), None)
        .await
        .expect("succeeds after a retry");
    p.send(&ctx, Method::Get, p.url("/x", None), None)
        .await
        .expect("a second call");

    let requests = server.received_requests().await.expect("recorded");
    let ids: Vec<String> = requests
        .iter()
        .map(|r| header_of(r, "x-ms-client-request-id").expect("always sent"))
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "a retry keeps the call's id");
    assert_ne!(ids[1], ids[2], "another call, another id");
    assert!(uuid::Uuid::parse_str(&ids[0]).is_ok(), "{}", ids[0]);

    // Only the response each call saw is recorded, not the retried one.
    let responses = recorder.responses();
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|r| r.status == 200));
    assert_eq!(
        responses[0].client_request_id.as_deref(),
        Some(ids[0].as_str())
    );
}

#[tokio::test]
async fn an_error_response_is_recorded_with_its_ids() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(409)
                .insert_header("x-ms-request-id", "req-409")
                .set_body_json(json!({"error": {"code": "Conflict", "message": "no"}})),
        )
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 0);
    let recorder = ResponseRecorder::new();
    let ctx = CallOptions::default()
        .with_recorder(recorder.clone())
        .into_context();
    let error = p
        .send(&ctx, Method::Delete, p.url("/x", None), None)
        .await
        .expect_err("a conflict");
    assert!(error.is_conflict());
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].status, 409);
    assert_eq!(writes[0].request_id.as_deref(), Some("req-409"));
    assert_eq!(
        error.service_error().and_then(|e| e.request_id.as_deref()),
        Some("req-409")
    );
}

#[tokio::test]
async fn graph_gets_the_client_request_id_in_its_own_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header(
            "client-request-id",
            "aci-cmk/run-1/service_principal",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "graph-req")
                .insert_header("client-request-id", "aci-cmk/run-1/service_principal")
                .set_body_json(json!({})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let cloud = aci_cmk_core::CloudEndpoints::custom(
        "mock",
        &uri,
        &format!("{uri}/graph"),
        &uri,
        "vault.localhost:1",
    )
    .expect("a loopback cloud");
    let p = ServicePipeline::microsoft_graph(
        "aci_cmk_core_tests",
        "0.0.0",
        &cloud,
        Arc::new(crate::ScopeEchoCredential::default()),
        Some(ServiceClientOptions::default()),
    );
    let recorder = ResponseRecorder::new();
    let ctx = CallOptions::default()
        .with_client_request_id("aci-cmk/run-1/service_principal")
        .with_recorder(recorder.clone())
        .into_context();
    p.send(
        &ctx,
        Method::Get,
        p.url("/v1.0/servicePrincipals", None),
        None,
    )
    .await
    .expect("answered");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        header_of(&requests[0], "x-ms-client-request-id").as_deref(),
        Some("aci-cmk/run-1/service_principal"),
        "the same id in both headers"
    );
    let responses = recorder.responses();
    assert_eq!(responses[0].support_id(), Some("graph-req"));
    assert_eq!(
        responses[0].client_request_id.as_deref(),
        Some("aci-cmk/run-1/service_principal")
    );
}
