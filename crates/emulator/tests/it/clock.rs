//! The emulator's one clock: `GET`/`POST /_admin/clock`, bounds on what moves it, and that a
//! move reaches every service at once (tokens, key expiry, soft-delete retention) and survives
//! a restart on the same state directory.

use std::time::Duration;

use http::Method;
use serde_json::{Value, json};

use crate::common::{Env, KV_API};
use aci_cmk_emulator::EmulatorOptions;

const DAY: i64 = 86_400;

async fn clock(env: &Env) -> i64 {
    let r = env.admin(Method::GET, "/clock", None).await;
    r.expect(200);
    assert!(r.body["now"].is_string(), "{}", r.body);
    r.body["now_unix"].as_i64().expect("now_unix")
}

#[tokio::test]
async fn the_clock_moves_forward_over_http_and_in_process() {
    let env = Env::start().await;
    let start = clock(&env).await;
    let real = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((start - real).abs() <= 5, "follows real time by default");

    let r = env
        .admin(Method::POST, "/clock", Some(&json!({"advance": "P91D"})))
        .await;
    r.expect(200);
    let after = r.body["now_unix"].as_i64().expect("now_unix");
    assert!(
        (91 * DAY..91 * DAY + 5).contains(&(after - start)),
        "{}",
        after - start
    );

    let r = env
        .admin(Method::POST, "/clock", Some(&json!({"advance_secs": 3600})))
        .await;
    r.expect(200);
    assert!(r.body["now_unix"].as_i64().expect("now") - after >= 3600);

    let before = env.emu.admin().now();
    let moved = env
        .emu
        .admin()
        .advance(Duration::from_secs(7 * 86_400))
        .expect("advance");
    assert!(moved - before >= time::Duration::days(7));
    assert!(clock(&env).await - start >= 98 * DAY);
}

#[tokio::test]
async fn bad_moves_are_refused_with_the_field_named_and_change_nothing() {
    let env = Env::start().await;
    let start = clock(&env).await;
    let cases: [(Value, &str); 9] = [
        (json!({"advance": "-P1D"}), "advance"),
        (json!({"advance": "P1X"}), "advance"),
        (json!({"advance": "yesterday"}), "advance"),
        (json!({"advance": "P101Y"}), "advance"),
        (json!({"advance_secs": -5}), "advance_secs"),
        (json!({"advance_secs": 1.5}), "advance_secs"),
        (json!({"advance_secs": 4_000_000_000u64 * 1000}), "advance"),
        (json!({"advance": "P1D", "advance_secs": 1}), "exactly one"),
        (json!({}), "exactly one"),
    ];
    for (body, field) in cases {
        let r = env.admin(Method::POST, "/clock", Some(&body)).await;
        r.expect_err(400, "BadRequest");
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let r = env
        .send(
            Method::POST,
            &format!("{}/clock", env.info.admin_endpoint),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 400, "an empty body is refused");
    assert!(
        env.emu
            .admin()
            .advance(Duration::from_secs(101 * 366 * 86_400))
            .is_err()
    );
    let now = clock(&env).await;
    assert!((now - start).abs() <= 5, "nothing moved: {}", now - start);
}

#[tokio::test]
async fn a_move_expires_keys_and_ends_retention_at_once() {
    let env = Env::start().await;
    env.create_rg("rg-clock").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg-clock",
        "clock-vault",
        json!({"accessPolicies": [env.policy(&oid, &["all"])], "softDeleteRetentionInDays": 7}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    let exp = clock(&env).await + 10 * DAY;
    env.kv(
        &t,
        Method::POST,
        "clock-vault",
        "/keys/k/create",
        Some(&json!({"kty": "RSA", "attributes": {"exp": exp}})),
    )
    .await
    .expect(200);
    let wrap = json!({"alg": "RSA-OAEP-256", "value": "c2VjcmV0"});
    let r = env
        .kv(
            &t,
            Method::POST,
            "clock-vault",
            "/keys/k/wrapkey",
            Some(&wrap),
        )
        .await;
    r.expect(200);

    env.advance(Duration::from_secs(11 * 86_400));
    // The token taken before the move is still good: a client keeps its session.
    let r = env
        .kv(
            &t,
            Method::POST,
            "clock-vault",
            "/keys/k/wrapkey",
            Some(&wrap),
        )
        .await;
    r.expect_err(403, "Forbidden");
    assert_eq!(r.inner(), "KeyExpired");

    // Soft delete, then the 7 days of retention pass in one call.
    let vp = env.vault_path("rg-clock", "clock-vault");
    env.arm(Method::DELETE, &vp, KV_API, None).await.expect(200);
    let deleted = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/clock-vault",
        env.sub()
    );
    env.arm(Method::GET, &deleted, KV_API, None)
        .await
        .expect(200);
    env.advance(Duration::from_secs(8 * 86_400));
    env.arm(Method::GET, &deleted, KV_API, None)
        .await
        .expect_err(404, "ResourceNotFound");
}

#[tokio::test]
async fn tokens_expire_on_the_emulator_clock_in_real_time_after_a_move() {
    let env = Env::start().await;
    // A token minted already expired stays refused, however the clock moved.
    let expired = env
        .mint(json!({"aud": env.info.arm_audience, "ttl_secs": -120}))
        .await;
    let path = format!(
        "/subscriptions/{}/resourcegroups?api-version=2021-04-01",
        env.sub()
    );
    let url = format!("{}{path}", env.info.arm_endpoint);
    let r = env.send(Method::GET, &url, Some(&expired), None).await;
    r.expect_err(401, "InvalidAuthenticationToken");
    // A token minted after a move is checked against the moved clock.
    env.advance(Duration::from_secs(30 * 86_400));
    let fresh = env.mint(json!({"aud": env.info.arm_audience})).await;
    env.send(Method::GET, &url, Some(&fresh), None)
        .await
        .expect(200);
    let stale = env
        .mint(json!({"aud": env.info.arm_audience, "ttl_secs": 60, "nbf_offset_secs": -120}))
        .await;
    env.send(Method::GET, &url, Some(&stale), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn the_clock_survives_a_restart_on_the_state_dir() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-clock-{}", uuid::Uuid::new_v4()));
    let opts = EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..Default::default()
    };
    let env = Env::start_with(opts.clone()).await;
    let start = clock(&env).await;
    env.advance(Duration::from_secs(40 * 86_400));
    env.emu.admin().reset().expect("reset");
    assert!(
        clock(&env).await - start >= 40 * DAY,
        "a reset keeps the clock"
    );
    env.emu.shutdown().await;
    let env = Env::start_with(opts).await;
    assert!(
        clock(&env).await - start >= 40 * DAY,
        "time never moves back across a restart"
    );
    env.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
