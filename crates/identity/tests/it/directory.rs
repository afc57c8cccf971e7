//! `DirectoryClient`: service principals in Microsoft Graph v1.0.

use crate::directory;
use aci_cmk_core::names::AppId;
use aci_cmk_identity::{ACI_FIRST_PARTY_APP_ID, Directory};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const SP_ID: &str = "00000000-0000-0000-0000-0000000000cc";

fn app_id() -> AppId {
    ACI_FIRST_PARTY_APP_ID.parse().expect("valid app id")
}

fn by_app_id_path() -> String {
    format!("/graph/v1.0/servicePrincipals(appId='{ACI_FIRST_PARTY_APP_ID}')")
}

fn sp_body() -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
        "id": SP_ID,
        "appId": ACI_FIRST_PARTY_APP_ID,
        "displayName": "Azure Container Instance Service",
        "accountEnabled": true,
        "servicePrincipalType": "Application",
        "appRoles": []
    })
}

fn graph_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "code": code,
        "message": message,
        "innerError": {"date": "2025-01-01T00:00:00", "request-id": "r1", "client-request-id": "c1"}
    }}))
}

fn not_found() -> ResponseTemplate {
    graph_error(
        404,
        "Request_ResourceNotFound",
        "Resource '6bb8e274-af5d-4df2-98a3-4fd78b4cafd9' does not exist or one of its queried reference-property objects are not present.",
    )
}

#[tokio::test]
async fn get_by_app_id_reads_the_key_addressed_path_under_the_graph_endpoint() {
    let server = MockServer::start().await;
    let (client, bearer) = directory(&server);
    assert!(bearer.ends_with("/graph/.default"), "{bearer}");
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .and(query_param("$select", "id,appId,displayName"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(sp_body()))
        .expect(1)
        .mount(&server)
        .await;
    let sp = client
        .get_service_principal_by_app_id(&app_id(), None)
        .await
        .expect("found")
        .expect("exists");
    assert_eq!(sp.id.as_str(), SP_ID);
    assert_eq!(sp.app_id, app_id());
    assert_eq!(
        sp.display_name.as_deref(),
        Some("Azure Container Instance Service")
    );
}

#[tokio::test]
async fn a_missing_service_principal_is_none() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    let sp = client
        .get_service_principal_by_app_id(&app_id(), None)
        .await
        .expect("no error");
    assert_eq!(sp, None);
}

#[tokio::test]
async fn missing_rights_are_an_error() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .respond_with(graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
        .mount(&server)
        .await;
    let err = client
        .get_service_principal_by_app_id(&app_id(), None)
        .await
        .expect_err("denied");
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(err.code(), Some("Authorization_RequestDenied"));
}

#[tokio::test]
async fn ensure_returns_an_existing_one_without_posting() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(sp_body()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(sp_body()))
        .expect(0)
        .mount(&server)
        .await;
    let ensured = client
        .ensure_service_principal(&app_id(), None)
        .await
        .expect("ensured");
    assert!(!ensured.created);
    assert_eq!(ensured.service_principal.id.as_str(), SP_ID);
}

#[tokio::test]
async fn ensure_creates_a_missing_one() {
    let server = MockServer::start().await;
    let (client, bearer) = directory(&server);
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graph/v1.0/servicePrincipals"))
        .and(header("authorization", bearer.as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"appId": ACI_FIRST_PARTY_APP_ID})))
        .respond_with(ResponseTemplate::new(201).set_body_json(sp_body()))
        .expect(1)
        .mount(&server)
        .await;
    let ensured = client
        .ensure_service_principal(&app_id(), None)
        .await
        .expect("created");
    assert!(ensured.created);
    assert_eq!(ensured.service_principal.id.as_str(), SP_ID);
}

#[tokio::test]
async fn ensure_resolves_a_creation_race_by_reading_back() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .respond_with(not_found())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graph/v1.0/servicePrincipals"))
        .respond_with(graph_error(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "The service principal cannot be created, updated, or restored because the service principal name 6bb8e274-af5d-4df2-98a3-4fd78b4cafd9 is already in use.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(sp_body()))
        .expect(1)
        .mount(&server)
        .await;
    let ensured = client
        .ensure_service_principal(&app_id(), None)
        .await
        .expect("read back");
    assert!(!ensured.created);
    assert_eq!(ensured.service_principal.id.as_str(), SP_ID);
}

#[tokio::test]
async fn ensure_reports_the_conflict_when_nothing_can_be_read_back() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .respond_with(not_found())
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(graph_error(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "already in use",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .ensure_service_principal(&app_id(), None)
        .await
        .expect_err("conflict");
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(err.code(), Some("Request_MultipleObjectsWithSameKeyValue"));
}

#[tokio::test]
async fn ensure_sends_one_client_request_id_as_graph_reads_it_and_records_graph_request_ids() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    let id = "aci-cmk/run-1/service_principal";
    Mock::given(method("GET"))
        .and(path(by_app_id_path()))
        .and(header("client-request-id", id))
        .respond_with(not_found().insert_header("request-id", "graph-get"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graph/v1.0/servicePrincipals"))
        .and(header("client-request-id", id))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("request-id", "graph-post")
                .set_body_json(sp_body()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = aci_cmk_core::CallOptions::default()
        .with_client_request_id(id)
        .with_recorder(recorder.clone());
    let ensured = client
        .ensure_service_principal(&app_id(), Some(options))
        .await
        .expect("created");
    assert!(ensured.created);
    let responses = recorder.responses();
    let seen: Vec<_> = responses
        .iter()
        .map(|r| (r.method.as_str(), r.status, r.request_id.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", 404, Some("graph-get")),
            ("POST", 201, Some("graph-post"))
        ]
    );
    assert_eq!(recorder.writes().len(), 1);
}

#[tokio::test]
async fn a_graph_error_carries_graphs_request_id() {
    let server = MockServer::start().await;
    let (client, _) = directory(&server);
    Mock::given(method("GET"))
        .respond_with(
            graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges.",
            )
            .insert_header("request-id", "graph-403"),
        )
        .mount(&server)
        .await;
    let error = client
        .get_service_principal_by_app_id(&app_id(), None)
        .await
        .expect_err("refused");
    assert_eq!(
        error
            .as_service()
            .and_then(|e| e.service_error())
            .and_then(|e| e.request_id.as_deref()),
        Some("graph-403")
    );
}
