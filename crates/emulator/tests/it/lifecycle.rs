//! Key lifecycle on the emulator's clock: rotation policies run when they fall due (once per
//! period crossed, each new version dated when it was due and living the policy's
//! `expiryTime`), and the events Key Vault publishes reach the feed (`/_admin/events`).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, KV_API};

const DAY: i64 = 86_400;

async fn vault_with_key(env: &Env, vault: &str) -> String {
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        vault,
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    env.wait_for_replication();
    env.kv_token().await
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

async fn events(env: &Env, since: u64) -> Vec<Value> {
    let r = env
        .admin(Method::GET, &format!("/events?since={since}"), None)
        .await;
    r.expect(200);
    r.body["value"].as_array().cloned().unwrap_or_default()
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["eventType"] == format!("Microsoft.KeyVault.{t}"))
        .collect()
}

/// `(created, exp)` of every version of key `k` in vault `life1`, oldest first.
async fn versions(env: &Env, t: &str) -> Vec<(i64, Option<i64>)> {
    let r = env
        .kv(t, Method::GET, "life1", "/keys/k/versions", None)
        .await;
    r.expect(200);
    let mut v: Vec<(i64, Option<i64>)> = r.body["value"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|k| {
            (
                k["attributes"]["created"].as_i64().unwrap_or(0),
                k["attributes"]["exp"].as_i64(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_rotation_policy_rotates_once_per_period_crossed_and_publishes_each_version() {
    let env = Env::start().await;
    let t = vault_with_key(&env, "life1").await;
    let created = env
        .kv(
            &t,
            Method::POST,
            "life1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    created.expect(200);
    let t0 = created.body["attributes"]["created"]
        .as_i64()
        .expect("created");
    env.kv(
        &t,
        Method::PUT,
        "life1",
        "/keys/k/rotationpolicy",
        Some(&json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}],
                     "attributes": {"expiryTime": "P1Y"}})),
    )
    .await
    .expect(200);
    // 89 days: nothing due.
    env.advance(days(89));
    assert_eq!(versions(&env, &t).await.len(), 1);
    // Past 90 days: one new version, dated when it was due, living a year.
    env.advance(days(2));
    let v = versions(&env, &t).await;
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[1].0, t0 + 90 * DAY);
    assert_eq!(v[1].1, Some(t0 + 90 * DAY + 365 * DAY));
    // 200 days more: two more periods crossed, two more versions (not three, not one).
    env.advance(days(200));
    let v = versions(&env, &t).await;
    assert_eq!(v.len(), 4, "{v:?}");
    assert_eq!(v[2].0, t0 + 180 * DAY);
    assert_eq!(v[3].0, t0 + 270 * DAY);
    // The feed: the creation and each rotation, in order, in Event Grid's schema.
    let all = events(&env, 0).await;
    let created = of_type(&all, "KeyNewVersionCreated");
    assert_eq!(created.len(), 4, "{all:?}");
    let e = created[1];
    assert_eq!(e["subject"], "k");
    assert!(
        e["topic"]
            .as_str()
            .unwrap_or("")
            .ends_with("/providers/Microsoft.KeyVault/vaults/life1")
    );
    assert_eq!(e["data"]["ObjectType"], "Key");
    assert_eq!(e["data"]["VaultName"], "life1");
    assert_eq!(e["data"]["EXP"], t0 + 90 * DAY + 365 * DAY);
    assert!(e["data"]["Id"].as_str().unwrap_or("").contains("/keys/k/"));
    assert_eq!(e["dataVersion"], "1");
    let sequences: Vec<u64> = all.iter().filter_map(|e| e["sequence"].as_u64()).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    // Reading from a sequence number returns only what came after.
    let last = *sequences.last().expect("events");
    assert!(events(&env, last).await.is_empty());
}

#[tokio::test]
async fn expiry_publishes_near_expiry_then_expired_once_each() {
    let env = Env::start().await;
    let t = vault_with_key(&env, "life2").await;
    let now = env.emu.admin().now().unix_timestamp();
    env.kv(
        &t,
        Method::POST,
        "life2",
        "/keys/e/create",
        Some(&json!({"kty": "RSA", "attributes": {"exp": now + 40 * DAY}})),
    )
    .await
    .expect(200);
    let start = events(&env, 0).await.len() as u64;
    env.advance(days(5));
    assert!(of_type(&events(&env, start).await, "KeyNearExpiry").is_empty());
    // 30 days before expiry (the default Notify): near expiry, once.
    env.advance(days(6));
    env.advance(days(1));
    let near = events(&env, start).await;
    assert_eq!(of_type(&near, "KeyNearExpiry").len(), 1, "{near:?}");
    assert!(of_type(&near, "KeyExpired").is_empty());
    env.advance(days(30));
    let after = events(&env, start).await;
    assert_eq!(of_type(&after, "KeyNearExpiry").len(), 1, "{after:?}");
    assert_eq!(of_type(&after, "KeyExpired").len(), 1, "{after:?}");
}

#[tokio::test]
async fn an_access_policy_change_is_published() {
    let env = Env::start().await;
    let _t = vault_with_key(&env, "life3").await;
    let before = events(&env, 0).await.len() as u64;
    let add = format!("{}/accessPolicies/add", env.vault_path("rg", "life3"));
    env.arm(
        Method::PUT,
        &add,
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy("00000000-0000-4000-8000-00000000e001", &["get"])]}})),
    )
    .await
    .expect(200);
    let new = events(&env, before).await;
    let changed = of_type(&new, "VaultAccessPolicyChanged");
    assert_eq!(changed.len(), 1, "{new:?}");
    assert_eq!(changed[0]["data"]["ObjectType"], "Vault");
    assert_eq!(changed[0]["subject"], "life3");
    env.admin(Method::GET, "/events?since=x", None)
        .await
        .expect(400);
}

#[tokio::test]
async fn rotate_and_the_rotation_policy_obey_the_access_policy() {
    let env = Env::start().await;
    let t = vault_with_key(&env, "life4").await;
    env.kv(
        &t,
        Method::POST,
        "life4",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    // A principal with get only: no rotate, no rotation policy.
    let (cid, secret, oid) = env.add_principal("reader").await;
    let add = format!("{}/accessPolicies/add", env.vault_path("rg", "life4"));
    env.arm(
        Method::PUT,
        &add,
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&oid, &["get"])]}})),
    )
    .await
    .expect(200);
    let reader = env
        .token_for(
            &cid,
            &secret,
            &format!("{}/.default", env.info.keyvault_audience),
        )
        .await;
    env.kv(&reader, Method::GET, "life4", "/keys/k", None)
        .await
        .expect(200);
    for (method, path, body) in [
        (Method::POST, "/keys/k/rotate", None),
        (Method::GET, "/keys/k/rotationpolicy", None),
        (
            Method::PUT,
            "/keys/k/rotationpolicy",
            Some(json!({"lifetimeActions": []})),
        ),
    ] {
        let r = env.kv(&reader, method, "life4", path, body.as_ref()).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    // The deployer (all) may.
    env.kv(&t, Method::POST, "life4", "/keys/k/rotate", None)
        .await
        .expect(200);
}

/// A loopback receiver of webhook POSTs: each delivery's `aeg-event-type` header and body.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Value)>,
) {
    use axum::{Router, extract::State, http::HeaderMap, routing::post};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/events",
            post(
                |State(tx): State<tokio::sync::mpsc::UnboundedSender<(String, Value)>>,
                 headers: HeaderMap,
                 body: String| async move {
                    let kind = headers
                        .get("aeg-event-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send((kind, serde_json::from_str(&body).unwrap_or(Value::Null)));
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/events"), rx)
}

#[tokio::test]
async fn events_are_delivered_to_a_loopback_webhook_in_order_as_event_grid_does() {
    let (url, mut deliveries) = webhook_receiver().await;
    let env = Env::start_with(aci_cmk_emulator::EmulatorOptions {
        event_webhook: Some(url.parse().expect("a loopback URL")),
        ..Default::default()
    })
    .await;
    let t = vault_with_key(&env, "life1").await;
    for _ in 0..2 {
        env.kv(
            &t,
            Method::POST,
            "life1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await
        .expect(200);
    }
    let feed = events(&env, 0).await;
    let created = of_type(&feed, "KeyNewVersionCreated");
    assert_eq!(created.len(), 2, "{feed:?}");
    // Every event of the feed arrives, in order, one per POST, as Event Grid's array.
    for expected in &feed {
        let (kind, body) = deliveries.recv().await.expect("a delivery");
        assert_eq!(kind, "Notification");
        let delivered = body.as_array().expect("an array");
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0]["id"], expected["id"]);
        assert_eq!(delivered[0]["eventType"], expected["eventType"]);
        assert_eq!(delivered[0]["data"]["Version"], expected["data"]["Version"]);
    }
}

#[test]
fn a_webhook_off_the_machine_is_refused() {
    let err = "http://192.0.2.10/events"
        .parse::<aci_cmk_emulator::WebhookUrl>()
        .expect_err("not loopback");
    assert!(err.to_string().contains("loopback"), "{err}");
}
