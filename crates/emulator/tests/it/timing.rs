//! Timing profiles: under `azure` the emulator shows the states, headers and propagation
//! refusals of live Azure for durations of the recorded magnitude, all on its clock (the tests
//! move through them without waiting); under `instant` everything is finished when answered.
//! The intermediate states are asserted under `azure`, where no busy machine can outrun them.

use std::time::Duration;

use aci_cmk_emulator::{EmulatorOptions, TimingProfile};
use reqwest::Method;
use serde_json::json;

use crate::common::{Env, KV_API, MI_API, RA_API, RG_API};

async fn env(timing: TimingProfile) -> Env {
    Env::start_with(EmulatorOptions {
        timing,
        ..Default::default()
    })
    .await
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[tokio::test]
async fn a_new_vault_registers_its_dns_name_before_it_succeeds() {
    let env = env(TimingProfile::Azure).await;
    let d = env.info.timing.durations();
    env.create_rg("rg").await;
    let r = env.create_vault("rg", "DnsVault1", json!({})).await;
    r.expect(200);
    assert_eq!(r.body["properties"]["provisioningState"], "RegisteringDns");
    assert_eq!(
        r.body["properties"]["vaultUri"],
        format!("https://DnsVault1.{}", env.info.keyvault_dns_suffix)
    );
    let path = env.vault_path("rg", "DnsVault1");
    env.advance(ms(d.vault_dns_ms / 2));
    let g = env.arm(Method::GET, &path, KV_API, None).await;
    assert_eq!(g.body["properties"]["provisioningState"], "RegisteringDns");
    env.advance(ms(d.vault_dns_ms));
    let g = env.arm(Method::GET, &path, KV_API, None).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        g.body["properties"]["vaultUri"],
        format!("{}/", env.vault_url("dnsvault1"))
    );
}

#[tokio::test]
async fn a_resource_group_delete_is_polled_at_its_location_until_done() {
    let env = env(TimingProfile::Azure).await;
    let d = env.info.timing.durations();
    env.create_rg("rg-del").await;
    let r = env
        .arm(Method::DELETE, &env.rg_path("rg-del"), RG_API, None)
        .await;
    r.expect(202);
    assert_eq!(r.header("retry-after"), "15");
    assert!(!r.header("x-ms-retry-after-ms").is_empty());
    let location = r.header("location").to_owned();
    assert!(location.contains("/operationResults/"), "{location}");
    let t = env.arm_token().await;
    for _ in 0..3 {
        let p = env.send(Method::GET, &location, Some(&t), None).await;
        p.expect(202);
        assert_eq!(p.header("retry-after"), "1");
        env.advance(ms(d.resource_group_delete_ms / 4));
    }
    env.advance(ms(d.resource_group_delete_ms));
    env.send(Method::GET, &location, Some(&t), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_vault_purge_is_not_started_until_it_is_done() {
    let env = env(TimingProfile::Azure).await;
    let d = env.info.timing.durations();
    env.create_rg("rg").await;
    env.create_vault("rg", "purge1", json!({}))
        .await
        .expect(200);
    env.advance(ms(d.vault_dns_ms + 1));
    env.arm(
        Method::DELETE,
        &env.vault_path("rg", "purge1"),
        KV_API,
        None,
    )
    .await
    .expect(200);
    let dv = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/purge1",
        env.sub()
    );
    let r = env
        .arm(Method::POST, &format!("{dv}/purge"), KV_API, None)
        .await;
    r.expect(202);
    let location = r.header("location").to_owned();
    let t = env.arm_token().await;
    let p = env.send(Method::GET, &location, Some(&t), None).await;
    p.expect(202);
    assert_eq!(p.body["status"], "NotStarted");
    env.advance(ms(d.vault_purge_ms + 1));
    let p = env.send(Method::GET, &location, Some(&t), None).await;
    p.expect(200);
    assert_eq!(p.body["status"], "Succeeded");
}

#[tokio::test]
async fn a_deleted_key_and_a_fresh_identity_propagate_before_they_are_seen() {
    let env = env(TimingProfile::Azure).await;
    let d = env.info.timing.durations();
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "prop1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    env.advance(ms(d.vault_dns_ms + 1));
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "prop1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    env.kv(&t, Method::DELETE, "prop1", "/keys/k", None)
        .await
        .expect(200);
    // Deleted, but not listed yet (24 s in the recordings).
    env.kv(&t, Method::GET, "prop1", "/deletedkeys/k", None)
        .await
        .expect_err(404, "KeyNotFound");
    env.advance(ms(d.deleted_key_visible_ms + 1));
    env.kv(&t, Method::GET, "prop1", "/deletedkeys/k", None)
        .await
        .expect(200);

    // A role assignment for an identity created moments ago: PrincipalNotFound until the
    // directory has replicated it (minutes in the recordings).
    let mi = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fresh",
        env.sub()
    );
    let identity = env
        .arm(
            Method::PUT,
            &mi,
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    identity.expect(201);
    let principal = identity.body["properties"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_owned();
    let ra = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-00000000f001",
        env.vault_path("rg", "prop1")
    );
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6", env.sub()), "principalId": principal}});
    for _ in 0..3 {
        env.arm(Method::PUT, &ra, RA_API, Some(&body))
            .await
            .expect_err(400, "PrincipalNotFound");
        env.advance(ms(d.principal_replication_ms / 4));
    }
    env.advance(ms(d.principal_replication_ms));
    env.arm(Method::PUT, &ra, RA_API, Some(&body))
        .await
        .expect(201);
}

#[tokio::test]
async fn under_instant_everything_is_finished_when_answered() {
    let env = env(TimingProfile::Instant).await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    let r = env
        .create_vault(
            "rg",
            "now1",
            json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "now1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    env.kv(&t, Method::DELETE, "now1", "/keys/k", None)
        .await
        .expect(200);
    env.kv(&t, Method::GET, "now1", "/deletedkeys/k", None)
        .await
        .expect(200);
    env.arm(Method::DELETE, &env.vault_path("rg", "now1"), KV_API, None)
        .await
        .expect(200);
    let dv = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/now1",
        env.sub()
    );
    env.arm(Method::POST, &format!("{dv}/purge"), KV_API, None)
        .await
        .expect(200);
    env.arm(Method::DELETE, &env.rg_path("rg"), RG_API, None)
        .await
        .expect(200);
}
