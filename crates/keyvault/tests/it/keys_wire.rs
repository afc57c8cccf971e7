//! `KeyVaultKeysClient`'s key-lifecycle requests on the wire, against a mock vault: the official
//! client only sends to `https` URLs, so a test transport ([`MockVault`]) hands each request
//! to the wiremock server over plain http, with the vault's own URL kept for the client's
//! challenge check, and can lose a response after the server has handled the request.
//!
//! Checked here: the exact requests of rotate, get and set policy, `nbf` / `exp` as unix
//! seconds, a rotation never retried once its response is lost (a read is), and a policy that
//! fails validation never sent.

use crate::{TENANT, options};
use aci_cmk_core::{CloudEndpoints, key_id::VaultUrl, names::KeyName, test_support};
use aci_cmk_keyvault::{
    Error, KEYS_API_VERSION, KeyVaultKeys, KeyVaultKeysClient,
    keys::{CreateKeyOptions, UpdateKeyOptions},
    rotation_policy::{
        Iso8601Duration, KeyRotationPolicy, LifetimeAction, LifetimeActionType, LifetimeTrigger,
    },
};
use azure_core::{
    error::ErrorKind,
    http::{AsyncRawResponse, HttpClient, Request, Transport, Url},
    time::OffsetDateTime,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const VAULT: &str = "https://contoso-cmk.vault.azure.net";
const VERSION: &str = "78deebed173b48e48f55abf87ed4cf71";
const ROTATED: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The `Authorization` header the client sends once it has answered the challenge.
fn bearer() -> String {
    test_support::bearer("https://vault.azure.net/.default")
}

/// A transport that sends every request to the mock server instead of the vault, and loses the
/// response of the first `n` authorized requests whose path ends with a given suffix (the
/// server has handled them; the client sees a connection reset).
#[derive(Debug)]
struct MockVault {
    inner: Arc<dyn HttpClient>,
    server: Url,
    lose: Mutex<Vec<(String, usize)>>,
}

#[async_trait::async_trait]
impl HttpClient for MockVault {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut forwarded = request.clone();
        let url = forwarded.url_mut();
        url.set_scheme(self.server.scheme())
            .and_then(|()| url.set_host(self.server.host_str()).map_err(|_| ()))
            .and_then(|()| url.set_port(self.server.port()))
            .map_err(|()| azure_core::Error::with_message(ErrorKind::Other, "cannot redirect"))?;
        let response = self.inner.execute_request(&forwarded).await?;
        let authorized = request
            .headers()
            .iter()
            .any(|(n, _)| n.as_str() == "authorization");
        if authorized {
            let mut lose = self.lose.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, n)) = lose
                .iter_mut()
                .find(|(suffix, n)| *n > 0 && request.url().path().ends_with(suffix.as_str()))
            {
                *n -= 1;
                drop(response);
                return Err(azure_core::Error::with_message(
                    ErrorKind::Io,
                    "connection reset by peer (the test lost the response)",
                ));
            }
        }
        Ok(response)
    }
}

struct Setup {
    server: MockServer,
    transport: Arc<MockVault>,
    keys: KeyVaultKeysClient,
    vault: VaultUrl,
    name: KeyName,
}

impl Setup {
    /// Loses the next `n` responses to authorized requests whose path ends with `suffix`.
    fn lose(&self, suffix: &str, n: usize) {
        self.transport
            .lose
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((suffix.to_owned(), n));
    }

    /// The requests the server received with a token (the challenge round trip left out).
    async fn authorized_requests(&self) -> Vec<wiremock::Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.headers.contains_key("authorization"))
            .collect()
    }
}

/// A mock vault that challenges every request without a token, as Key Vault does.
async fn start() -> Setup {
    let server = MockServer::start().await;
    Mock::given(|r: &wiremock::Request| !r.headers.contains_key("authorization"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            format!(
                "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://vault.azure.net\""
            )
            .as_str(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    let transport = Arc::new(MockVault {
        inner: azure_core::http::new_http_client(None),
        server: server.uri().parse().expect("the server's URL"),
        lose: Mutex::new(Vec::new()),
    });
    let mut client_options = options();
    client_options.client_options.transport = Some(Transport::new(transport.clone()));
    let keys = KeyVaultKeysClient::new(
        &CloudEndpoints::azure_public(),
        test_support::echo_credential(),
        Some(client_options),
    );
    Setup {
        server,
        transport,
        keys,
        vault: VAULT.parse().expect("vault URL"),
        name: "cmk".parse().expect("key name"),
    }
}

/// A key bundle of version `version` with attributes `attributes`.
fn bundle(version: &str, attributes: Value) -> Value {
    json!({
        "key": {"kid": format!("{VAULT}/keys/cmk/{version}"), "kty": "RSA",
                "key_ops": ["wrapKey", "unwrapKey"], "n": "AQAB", "e": "AQAB"},
        "attributes": attributes
    })
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a valid time")
}

#[tokio::test]
async fn create_and_update_send_nbf_and_exp_as_unix_seconds() {
    let setup = start().await;
    Mock::given(method("POST"))
        .and(path("/keys/cmk/create"))
        .and(query_param("api-version", KEYS_API_VERSION))
        .and(header("authorization", bearer().as_str()))
        .and(body_json(json!({
            "kty": "RSA",
            "key_size": 2048,
            "attributes": {"nbf": 1_767_225_600, "exp": 1_798_761_600}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(bundle(
            VERSION,
            json!({"enabled": true, "nbf": 1_767_225_600, "exp": 1_798_761_600,
                   "created": 1_767_000_000, "updated": 1_767_000_000}),
        )))
        .expect(1)
        .mount(&setup.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/keys/cmk/{VERSION}")))
        .and(query_param("api-version", KEYS_API_VERSION))
        .and(body_json(
            json!({"attributes": {"nbf": 1_767_312_000, "exp": 1_830_297_600}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(bundle(
            VERSION,
            json!({"enabled": true, "nbf": 1_767_312_000, "exp": 1_830_297_600}),
        )))
        .expect(1)
        .mount(&setup.server)
        .await;

    let created = setup
        .keys
        .create_key(
            &setup.vault,
            &setup.name,
            CreateKeyOptions::default()
                .with_not_before(at(1_767_225_600))
                .with_expires(at(1_798_761_600)),
            None,
        )
        .await
        .expect("created");
    assert_eq!(created.not_before, Some(at(1_767_225_600)));
    assert_eq!(created.expires, Some(at(1_798_761_600)));
    assert_eq!(created.created, Some(at(1_767_000_000)));

    let updated = setup
        .keys
        .update_key_attributes(
            &setup.vault,
            &setup.name,
            Some(&created.version),
            UpdateKeyOptions::default()
                .with_not_before(at(1_767_312_000))
                .with_expires(at(1_830_297_600)),
            None,
        )
        .await
        .expect("updated");
    assert_eq!(updated.not_before, Some(at(1_767_312_000)));
    assert_eq!(updated.expires, Some(at(1_830_297_600)));
}

#[tokio::test]
async fn rotate_posts_without_a_body_and_reads_the_new_version() {
    let setup = start().await;
    Mock::given(method("POST"))
        .and(path("/keys/cmk/rotate"))
        .and(query_param("api-version", KEYS_API_VERSION))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(bundle(
            ROTATED,
            json!({"enabled": true, "created": 1_767_225_600, "updated": 1_767_225_600,
                   "exp": 1_798_761_600}),
        )))
        .expect(1)
        .mount(&setup.server)
        .await;
    let rotated = setup
        .keys
        .rotate_key(&setup.vault, &setup.name, None)
        .await
        .expect("rotated");
    assert_eq!(rotated.version.as_str(), ROTATED);
    assert_eq!(rotated.expires, Some(at(1_798_761_600)));
    let sent = setup.authorized_requests().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.is_empty(), "rotate has no body");
}

#[tokio::test]
async fn a_rotation_whose_response_is_lost_is_not_retried() {
    let setup = start().await;
    Mock::given(method("POST"))
        .and(path("/keys/cmk/rotate"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(bundle(ROTATED, json!({"enabled": true}))),
        )
        .mount(&setup.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/keys/cmk/{ROTATED}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(bundle(ROTATED, json!({"enabled": true}))),
        )
        .mount(&setup.server)
        .await;

    setup.lose("/rotate", 1);
    let err = setup
        .keys
        .rotate_key(&setup.vault, &setup.name, None)
        .await
        .expect_err("the response was lost");
    let mut chain = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        chain.push(e.to_string());
        cause = e.source();
    }
    assert!(
        chain.iter().any(|m| m.contains("not idempotent")),
        "the guard says why it did not retry: {chain:?}"
    );
    let rotations = setup
        .authorized_requests()
        .await
        .into_iter()
        .filter(|r| r.url.path().ends_with("/rotate"))
        .count();
    assert_eq!(rotations, 1, "one version created, not two");

    // A read that loses its response is sent again.
    setup.lose(&format!("/keys/cmk/{ROTATED}"), 1);
    let version = ROTATED.parse().expect("a version");
    let key = setup
        .keys
        .get_key(&setup.vault, &setup.name, Some(&version), None)
        .await
        .expect("the retry is answered");
    assert_eq!(key.version.as_str(), ROTATED);
    let reads = setup
        .authorized_requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    assert_eq!(reads, 2);
}

#[tokio::test]
async fn set_rotation_policy_puts_the_policy_without_read_only_fields() {
    let setup = start().await;
    Mock::given(method("PUT"))
        .and(path("/keys/cmk/rotationpolicy"))
        .and(query_param("api-version", KEYS_API_VERSION))
        .and(header("authorization", bearer().as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}
            ],
            "attributes": {"expiryTime": "P1Y"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("{VAULT}/keys/cmk/rotationpolicy"),
            // The service compares action types case-insensitively; so does the client.
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "notify"}}
            ],
            "attributes": {"expiryTime": "P1Y", "created": 1_700_000_000, "updated": 1_700_000_500}
        })))
        .expect(1)
        .mount(&setup.server)
        .await;
    let mut policy = KeyRotationPolicy::rotate_after(Iso8601Duration::days(90))
        .with_expiry(Iso8601Duration::years(1))
        .with_notify_before_expiry(Iso8601Duration::days(30));
    // Read-only fields a caller may carry over from a read are not sent.
    policy.id = Some(format!("{VAULT}/keys/cmk/rotationpolicy"));
    policy.created = Some(at(1_600_000_000));
    policy.updated = Some(at(1_600_000_000));
    let stored = setup
        .keys
        .set_rotation_policy(&setup.vault, &setup.name, &policy, None)
        .await
        .expect("set");
    assert_eq!(stored.lifetime_actions, policy.lifetime_actions);
    assert_eq!(stored.expiry_time, Some(Iso8601Duration::years(1)));
    assert_eq!(stored.created, Some(at(1_700_000_000)));
    assert_eq!(stored.updated, Some(at(1_700_000_500)));
    assert_eq!(
        stored.id.as_deref(),
        Some("https://contoso-cmk.vault.azure.net/keys/cmk/rotationpolicy")
    );
}

#[tokio::test]
async fn get_rotation_policy_reads_key_vaults_default() {
    let setup = start().await;
    Mock::given(method("GET"))
        .and(path("/keys/cmk/rotationpolicy"))
        .and(query_param("api-version", KEYS_API_VERSION))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("{VAULT}/keys/cmk/rotationpolicy"),
            "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {}
        })))
        .expect(1)
        .mount(&setup.server)
        .await;
    let policy = setup
        .keys
        .get_rotation_policy(&setup.vault, &setup.name, None)
        .await
        .expect("the default policy");
    assert_eq!(policy.rotation_trigger(), None);
    assert_eq!(
        policy.lifetime_actions,
        vec![LifetimeAction::new(
            LifetimeTrigger::BeforeExpiry(Iso8601Duration::days(30)),
            LifetimeActionType::Notify
        )]
    );
    assert_eq!((policy.expiry_time, policy.created), (None, None));
}

#[tokio::test]
async fn a_policy_that_fails_validation_is_never_sent() {
    let setup = start().await;
    for policy in [
        KeyRotationPolicy::rotate_after(Iso8601Duration::days(90))
            .with_expiry(Iso8601Duration::days(14)),
        KeyRotationPolicy::rotate_after(Iso8601Duration::days(3)),
        KeyRotationPolicy::new().with_action(LifetimeAction::new(
            LifetimeTrigger::AfterCreate(Iso8601Duration::days(30)),
            LifetimeActionType::Notify,
        )),
    ] {
        let err = setup
            .keys
            .set_rotation_policy(&setup.vault, &setup.name, &policy, None)
            .await
            .expect_err("refused on the client side");
        assert!(err.is_client_side(), "{err:?}");
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(
            err.to_string().contains("rotation policy of key cmk"),
            "{err}"
        );
    }
    assert_eq!(
        setup.server.received_requests().await.map(|r| r.len()),
        Some(0),
        "not even the challenge round trip"
    );
}

#[tokio::test]
async fn a_rotation_refused_by_the_access_policy_is_forbidden_and_not_retried() {
    let setup = start().await;
    Mock::given(method("POST"))
        .and(path("/keys/cmk/rotate"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "Forbidden",
            "message": "The user, group or application 'oid=…' does not have keys rotate permission on key vault 'contoso-cmk'.",
            "innererror": {"code": "ForbiddenByPolicy"}
        }})))
        .mount(&setup.server)
        .await;
    let err = setup
        .keys
        .rotate_key(&setup.vault, &setup.name, None)
        .await
        .expect_err("forbidden");
    assert!(err.is_forbidden(), "{err:?}");
    assert!(
        matches!(
            err,
            Error::Service(aci_cmk_core::Error::ForbiddenByAccessPolicy(_))
        ),
        "{err:?}"
    );
    assert_eq!(setup.authorized_requests().await.len(), 1);
}
