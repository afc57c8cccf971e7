//! Persistence across a restart with a state directory.

use aci_cmk_emulator::EmulatorOptions;
use reqwest::Method;
use serde_json::json;

use crate::common::{Env, KV_API, MI_API, b64url, unb64url};

#[tokio::test]
async fn state_survives_a_restart_and_files_are_private() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-test-{}", uuid::Uuid::new_v4()));
    let opts = EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..Default::default()
    };
    let env = Env::start_with(opts.clone()).await;
    let first = env.info.clone();
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "persist1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let mi = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
        env.sub()
    );
    let created = env
        .arm(
            Method::PUT,
            &mi,
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    let t = env.kv_token().await;
    let r = env
        .kv(
            &t,
            Method::POST,
            "persist1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    let version = r.body["key"]["kid"]
        .as_str()
        .and_then(|k| k.rsplit('/').next())
        .expect("version")
        .to_owned();
    let w = env
        .kv(
            &t,
            Method::POST,
            "persist1",
            &format!("/keys/k/{version}/wrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(b"persisted")})),
        )
        .await;
    let wrapped = w.body["value"].as_str().expect("wrapped").to_owned();
    env.emu.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [
            "state.redb",
            "ca.pem",
            "ca-key.pem",
            "tls.pem",
            "tls-key.pem",
            "token-signing-key.pem",
        ] {
            let mode = std::fs::metadata(dir.join(f))
                .expect(f)
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{f} has mode {mode:o}");
        }
    }

    let env = Env::start_with(opts).await;
    assert_eq!(env.info.tenant_id, first.tenant_id);
    assert_eq!(env.info.subscription_id, first.subscription_id);
    assert_eq!(env.info.client_id, first.client_id);
    assert_eq!(env.info.client_secret, first.client_secret);
    assert_eq!(
        env.emu.ca_cert_pem(),
        std::fs::read_to_string(dir.join("ca.pem")).expect("ca")
    );
    env.arm(Method::GET, &env.vault_path("rg", "persist1"), KV_API, None)
        .await
        .expect(200);
    let again = env.arm(Method::GET, &mi, MI_API, None).await;
    assert_eq!(again.body["properties"], created.body["properties"]);
    let t = env.kv_token().await;
    let u = env
        .kv(
            &t,
            Method::POST,
            "persist1",
            &format!("/keys/k/{version}/unwrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": wrapped})),
        )
        .await;
    u.expect(200);
    assert_eq!(
        unb64url(u.body["value"].as_str().expect("value")),
        b"persisted"
    );
    env.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
