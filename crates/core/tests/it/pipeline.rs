//! Auth policy and retries.

use crate::pipeline;
use aci_cmk_core::{Error, retry::Idempotent};
use azure_core::http::{Context, Method};
use std::{sync::atomic::Ordering, time::Instant};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

#[tokio::test]
async fn bearer_token_for_the_scope_reaches_a_loopback_http_server() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .and(header(
            "authorization",
            "Bearer token-for-https://management.example/.default",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .expect(3)
        .mount(&server)
        .await;
    let (p, credential) = pipeline(&server.uri(), 0);
    for _ in 0..3 {
        let body: serde_json::Value = p
            .json::<(), _>(&Context::new(), Method::Get, p.url("/thing", None), None)
            .await
            .expect("request succeeds");
        assert_eq!(body["ok"], true);
    }
    assert_eq!(
        credential.calls.load(Ordering::SeqCst),
        1,
        "token is cached"
    );
}

#[tokio::test]
async fn no_token_over_http_to_a_non_loopback_host() {
    let (p, credential) = pipeline("http://management.example.invalid", 0);
    let err = p
        .json::<(), serde_json::Value>(
            &Context::new(),
            Method::Get,
            p.url("/thing", Some("2021-04-01")),
            None,
        )
        .await
        .expect_err("must refuse");
    assert!(matches!(err, Error::InsecureTransport { .. }), "{err:?}");
    assert_eq!(
        credential.calls.load(Ordering::SeqCst),
        0,
        "no token was even fetched"
    );
}

#[tokio::test]
async fn api_version_and_endpoint_path_are_kept() {
    let (p, _) = pipeline("https://localhost:8443/graph", 0);
    assert_eq!(
        p.url("/v1.0/servicePrincipals", None).as_str(),
        "https://localhost:8443/graph/v1.0/servicePrincipals"
    );
    assert_eq!(
        p.url("/subscriptions/s", Some("2021-04-01")).as_str(),
        "https://localhost:8443/graph/subscriptions/s?api-version=2021-04-01"
    );
}

async fn retry_server(status: u16, header_name: &str, header_value: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).insert_header(header_name, header_value))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    server
}

async fn elapsed_until_success(server: &MockServer) -> std::time::Duration {
    let (p, _) = pipeline(&server.uri(), 3);
    let started = Instant::now();
    p.send(&Context::new(), Method::Get, p.url("/x", None), None)
        .await
        .expect("succeeds after one retry");
    started.elapsed()
}

#[tokio::test]
async fn retry_honours_each_retry_header() {
    // (status, header, value, least wait in ms)
    let cases: [(u16, &str, &str, u64); 3] = [
        (429, "retry-after", "1", 1000),
        (503, "retry-after-ms", "600", 600),
        (429, "x-ms-retry-after-ms", "700", 700),
    ];
    for (status, name, value, at_least_ms) in cases {
        let server = retry_server(status, name, value).await;
        let elapsed = elapsed_until_success(&server).await;
        assert!(
            elapsed >= std::time::Duration::from_millis(at_least_ms),
            "{name}: {value} waited only {elapsed:?}"
        );
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
    }
    // An HTTP date names a moment: the retry comes no earlier than that moment, however long
    // the machine took to get there (the date has one-second resolution, so it is the whole
    // second at or before now + 2 s).
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    let since_epoch = at
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch");
    let named = std::time::UNIX_EPOCH + std::time::Duration::from_secs(since_epoch.as_secs());
    let value = httpdate(named);
    let server = retry_server(429, "retry-after", &value).await;
    elapsed_until_success(&server).await;
    let requests = server
        .received_requests()
        .await
        .map(|r| r.len())
        .expect("recorded");
    assert_eq!(requests, 2);
    assert!(
        std::time::SystemTime::now() >= named,
        "retry-after: {value}: the retry came before the moment it names"
    );
}

fn httpdate(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let format = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .expect("valid format");
    t.format(&format).expect("formats")
}

#[tokio::test]
async fn retries_stop_at_the_bound_and_surface_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(serde_json::json!({
            "error": {"code": "ServiceUnavailable", "message": "try later"}
        })))
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 2);
    let err = p
        .send(&Context::new(), Method::Get, p.url("/x", None), None)
        .await
        .expect_err("keeps failing");
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(3));
}

#[tokio::test]
async fn a_non_idempotent_post_is_not_retried_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(serde_json::json!({
            "error": {"code": "InternalError", "message": "boom"}
        })))
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 3);
    let body = serde_json::json!({"kty": "RSA"});
    let err = p
        .send(
            &Context::new(),
            Method::Post,
            p.url("/keys/k/create", None),
            Some(&body),
        )
        .await
        .expect_err("fails");
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));

    // Marked idempotent, the same POST is retried.
    let ctx = Context::new().with_value(Idempotent);
    p.send(
        &ctx,
        Method::Post,
        p.url("/keys/k/unwrapkey", None),
        Some(&body),
    )
    .await
    .expect_err("still fails");
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(1 + 4)
    );
}

#[tokio::test]
async fn a_throttled_post_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"nameAvailable": true})),
        )
        .mount(&server)
        .await;
    let (p, _) = pipeline(&server.uri(), 3);
    p.send(
        &Context::new(),
        Method::Post,
        p.url("/check", None),
        Some(&serde_json::json!({})),
    )
    .await
    .expect("429 means it was not processed: safe to retry");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_as_transport() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (p, _) = pipeline(&format!("http://127.0.0.1:{port}"), 2);
    let err = p
        .send(
            &Context::new(),
            Method::Post,
            p.url("/x", None),
            Some(&serde_json::json!({})),
        )
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}
