//! Key Vault keys data plane: CRUD, wrap/unwrap, key states, soft delete, and the access-policy,
//! RBAC and firewall decisions (also through the in-process entry point).

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, KV_API, RA_API, b64url, unb64url};

#[tokio::test]
async fn keys_crud_wrap_unwrap_states_and_soft_delete() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "keys1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    let v = "keys1";

    let r = env.kv(&t, Method::POST, v, "/keys/cmk/create", Some(&json!({"kty": "RSA", "key_size": 2048, "key_ops": ["wrapKey", "unwrapKey"], "tags": {"purpose": "aci"}}))).await;
    r.expect(200);
    let kid = r.body["key"]["kid"].as_str().expect("kid").to_owned();
    assert!(
        kid.starts_with(&format!("{}/keys/cmk/", env.vault_url(v))),
        "kid {kid}"
    );
    let version = kid.rsplit('/').next().expect("version").to_owned();
    assert_eq!(version.len(), 32);
    assert_eq!(r.body["key"]["e"], "AQAB");
    assert_eq!(unb64url(r.body["key"]["n"].as_str().expect("n")).len(), 256);
    assert_eq!(
        r.body["attributes"]["recoveryLevel"],
        "Recoverable+Purgeable"
    );
    assert_eq!(r.body["tags"]["purpose"], "aci");
    assert!(!r.header("x-ms-keyvault-network-info").is_empty());

    // Get latest (with and without trailing slash) and by version.
    env.kv(&t, Method::GET, v, "/keys/cmk", None)
        .await
        .expect(200);
    let r = env.kv(&t, Method::GET, v, "/keys/cmk/", None).await;
    assert_eq!(r.body["key"]["kid"], kid);
    env.kv(&t, Method::GET, v, &format!("/keys/cmk/{version}"), None)
        .await
        .expect(200);
    env.kv(&t, Method::GET, v, "/keys/nope", None)
        .await
        .expect_err(404, "KeyNotFound");

    // A second version; list keys and versions with paging.
    let r2 = env
        .kv(
            &t,
            Method::POST,
            v,
            "/keys/cmk/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r2.expect(200);
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/other/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    let l = env.kv(&t, Method::GET, v, "/keys", None).await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(2));
    let page1 = env
        .kv(&t, Method::GET, v, "/keys/cmk/versions?maxresults=1", None)
        .await;
    assert_eq!(page1.body["value"].as_array().map(Vec::len), Some(1));
    let next = page1.body["nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let page2 = env.send(Method::GET, &next, Some(&t), None).await;
    assert_eq!(page2.body["value"].as_array().map(Vec::len), Some(1));
    assert!(page2.body["nextLink"].is_null());
    env.kv(&t, Method::GET, v, "/keys?maxresults=26", None)
        .await
        .expect_err(400, "BadParameter");

    // Wrap / unwrap with both OAEP variants.
    let cek = [7u8; 32];
    for alg in ["RSA-OAEP-256", "RSA-OAEP"] {
        let w = env
            .kv(
                &t,
                Method::POST,
                v,
                &format!("/keys/cmk/{version}/wrapkey"),
                Some(&json!({"alg": alg, "value": b64url(&cek)})),
            )
            .await;
        w.expect(200);
        assert_eq!(w.body["kid"], kid);
        let wrapped = w.body["value"].as_str().expect("value").to_owned();
        assert_eq!(unb64url(&wrapped).len(), 256);
        let u = env
            .kv(
                &t,
                Method::POST,
                v,
                &format!("/keys/cmk/{version}/unwrapkey"),
                Some(&json!({"alg": alg, "value": wrapped})),
            )
            .await;
        u.expect(200);
        assert_eq!(unb64url(u.body["value"].as_str().expect("value")), cek);
    }
    // Not base64url, bad algorithm, key_ops.
    let r = env
        .kv(
            &t,
            Method::POST,
            v,
            &format!("/keys/cmk/{version}/wrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": "ab+/cd=="})),
        )
        .await;
    r.expect_err(400, "BadParameter");
    assert_eq!(
        r.body["error"]["message"],
        "Content of 'value' is not base64url."
    );
    env.kv(
        &t,
        Method::POST,
        v,
        &format!("/keys/cmk/{version}/wrapkey"),
        Some(&json!({"alg": "A256KW", "value": b64url(&cek)})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        &format!("/keys/cmk/{version}/unwrapkey"),
        Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(&[1u8; 256])})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        &format!("/keys/cmk/{version}/encrypt"),
        Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(&cek)})),
    )
    .await
    .expect(403);
    // Create validation.
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/k2/create",
        Some(&json!({"kty": "RSA", "key_size": 1024})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/k2/create",
        Some(&json!({"kty": "RSA-HSM"})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/k2/create",
        Some(&json!({"key_size": 2048})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/bad_name/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect_err(400, "BadParameter");
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/k2/create",
        Some(&json!({"kty": 5})),
    )
    .await
    .expect_err(400, "BadParameter");
    let r = env
        .send(
            Method::GET,
            &format!("{}/keys", env.vault_url(v)),
            Some(&t),
            None,
        )
        .await;
    r.expect_err(400, "BadParameter");

    // Disabled, expired and not-yet-valid keys refuse crypto.
    let wrap = |path: String| {
        let t = t.clone();
        let env = &env;
        async move {
            env.kv(
                &t,
                Method::POST,
                "keys1",
                &path,
                Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(&[1u8; 16])})),
            )
            .await
        }
    };
    let kp = format!("/keys/cmk/{version}");
    env.kv(
        &t,
        Method::PATCH,
        v,
        &kp,
        Some(&json!({"attributes": {"enabled": false}})),
    )
    .await
    .expect(200);
    let r = wrap(format!("{kp}/wrapkey")).await;
    r.expect_err(403, "Forbidden");
    assert_eq!(r.inner(), "KeyDisabled");
    env.kv(
        &t,
        Method::PATCH,
        v,
        &kp,
        Some(&json!({"attributes": {"enabled": true, "exp": 1_000_000}})),
    )
    .await
    .expect(200);
    assert_eq!(wrap(format!("{kp}/wrapkey")).await.inner(), "KeyExpired");
    env.kv(
        &t,
        Method::PATCH,
        v,
        &kp,
        Some(&json!({"attributes": {"exp": null, "nbf": 4_000_000_000i64}})),
    )
    .await
    .expect(200);
    assert_eq!(
        wrap(format!("{kp}/wrapkey")).await.inner(),
        "KeyNotYetValid"
    );
    let r = env
        .kv(
            &t,
            Method::PATCH,
            v,
            &kp,
            Some(&json!({"attributes": {"nbf": null}, "tags": {"x": "y"}})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["tags"]["x"], "y");
    wrap(format!("{kp}/wrapkey")).await.expect(200);
    env.kv(
        &t,
        Method::PATCH,
        v,
        &kp,
        Some(&json!({"attributes": {"enabled": "no"}})),
    )
    .await
    .expect_err(400, "BadParameter");

    // Soft delete, recover, purge.
    let d = env.kv(&t, Method::DELETE, v, "/keys/other", None).await;
    d.expect(200);
    assert_eq!(
        d.body["recoveryId"],
        format!("{}/deletedkeys/other", env.vault_url(v))
    );
    assert!(d.body["scheduledPurgeDate"].is_i64());
    env.kv(&t, Method::GET, v, "/keys/other", None)
        .await
        .expect(404);
    let r = env
        .kv(
            &t,
            Method::POST,
            v,
            "/keys/other/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect_err(409, "Conflict");
    assert_eq!(r.inner(), "ObjectIsDeletedButRecoverable");
    // A deleted key shows under deletedkeys after a propagation delay (timing::*).
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().deleted_key_visible_ms + 1,
    ));
    env.kv(&t, Method::GET, v, "/deletedkeys/other", None)
        .await
        .expect(200);
    assert_eq!(
        env.kv(&t, Method::GET, v, "/deletedkeys", None).await.body["value"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    env.kv(&t, Method::POST, v, "/deletedkeys/other/recover", None)
        .await
        .expect(200);
    env.kv(&t, Method::GET, v, "/keys/other", None)
        .await
        .expect(200);
    env.kv(&t, Method::DELETE, v, "/keys/other", None)
        .await
        .expect(200);
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().deleted_key_visible_ms + 1,
    ));
    env.kv(&t, Method::DELETE, v, "/deletedkeys/other", None)
        .await
        .expect(204);
    env.kv(&t, Method::GET, v, "/deletedkeys/other", None)
        .await
        .expect(404);
    env.kv(
        &t,
        Method::POST,
        v,
        "/keys/other/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);

    // Purge protection refuses key purge.
    env.create_vault(
        "rg",
        "keys2",
        json!({"accessPolicies": [env.policy(&oid, &["all"])], "enablePurgeProtection": true}),
    )
    .await
    .expect(200);
    let r = env
        .kv(
            &t,
            Method::POST,
            "keys2",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    assert_eq!(r.body["attributes"]["recoveryLevel"], "Recoverable");
    env.kv(&t, Method::DELETE, "keys2", "/keys/k", None)
        .await
        .expect(200);
    env.kv(&t, Method::DELETE, "keys2", "/deletedkeys/k", None)
        .await
        .expect(403);
    let _ = KV_API;
}

#[tokio::test]
async fn access_policies_decide_and_the_creator_has_no_implicit_access() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault("rg", "ap1", json!({})).await.expect(200);
    let t = env.kv_token().await;
    let r = env
        .kv(
            &t,
            Method::POST,
            "ap1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect_err(403, "Forbidden");
    assert_eq!(r.inner(), "ForbiddenByPolicy");
    let msg = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains(&format!("oid={oid}"))
            && msg.contains("does not have keys create permission on key vault 'ap1"),
        "{msg}"
    );
    // Grant create+get: create and get work, wrap does not.
    let vp = env.vault_path("rg", "ap1");
    env.arm(
        Method::PUT,
        &format!("{vp}/accessPolicies/add"),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&oid, &["create", "get"])]}})),
    )
    .await
    .expect(200);
    let r = env
        .kv(
            &t,
            Method::POST,
            "ap1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect(200);
    env.kv(&t, Method::GET, "ap1", "/keys/k", None)
        .await
        .expect(200);
    let r = env
        .kv(
            &t,
            Method::POST,
            "ap1",
            "/keys/k//wrapkey",
            Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(b"x")})),
        )
        .await;
    assert_eq!(r.inner(), "ForbiddenByPolicy");
    env.kv(&t, Method::GET, "ap1", "/keys", None)
        .await
        .expect(403);
    env.arm(
        Method::PUT,
        &format!("{vp}/accessPolicies/add"),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&oid, &["wrapKey", "list"])]}})),
    )
    .await
    .expect(200);
    env.kv(
        &t,
        Method::POST,
        "ap1",
        "/keys/k//wrapkey",
        Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(b"x")})),
    )
    .await
    .expect(200);
    env.kv(&t, Method::GET, "ap1", "/keys", None)
        .await
        .expect(200);
    // Unknown vault.
    env.kv(&t, Method::GET, "novault", "/keys", None)
        .await
        .expect(404);
}

#[tokio::test]
async fn rbac_vaults_check_role_assignments() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    // Access policies are ignored on RBAC vaults.
    env.create_vault(
        "rg",
        "rbac2",
        json!({"enableRbacAuthorization": true, "accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    let r = env
        .kv(
            &t,
            Method::POST,
            "rbac2",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    assert_eq!(r.inner(), "ForbiddenByRbac");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Action: 'Microsoft.KeyVault/vaults/keys/create/action'")
    );
    let scope = env.vault_path("rg", "rbac2");
    let assign = |p: &str, role: &str, n: &str| {
        (
            format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{n}"),
            json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", env.sub()), "principalId": p}}),
        )
    };
    let (u, b) = assign(
        &oid,
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "00000000-0000-4000-8000-0000000000a1",
    );
    env.arm(Method::PUT, &u, RA_API, Some(&b)).await.expect(201);
    let r = env
        .kv(
            &t,
            Method::POST,
            "rbac2",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect(200);
    let version = r.body["key"]["kid"]
        .as_str()
        .and_then(|k| k.rsplit('/').next())
        .expect("version")
        .to_owned();
    // A second principal with Crypto Service Encryption User: get/wrap/unwrap but not create.
    let (cid, secret, p2) = env.add_principal("svc").await;
    let (u, b) = assign(
        &p2,
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "00000000-0000-4000-8000-0000000000a2",
    );
    env.arm(Method::PUT, &u, RA_API, Some(&b)).await.expect(201);
    let t2 = env
        .token_for(
            &cid,
            &secret,
            &format!("{}/.default", env.info.keyvault_audience),
        )
        .await;
    env.kv(&t2, Method::GET, "rbac2", "/keys/k", None)
        .await
        .expect(200);
    let w = env
        .kv(
            &t2,
            Method::POST,
            "rbac2",
            &format!("/keys/k/{version}/wrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(b"dek")})),
        )
        .await;
    w.expect(200);
    let u = env
        .kv(
            &t2,
            Method::POST,
            "rbac2",
            &format!("/keys/k/{version}/unwrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": w.body["value"]})),
        )
        .await;
    assert_eq!(unb64url(u.body["value"].as_str().expect("value")), b"dek");
    let r = env
        .kv(
            &t2,
            Method::POST,
            "rbac2",
            "/keys/k2/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    assert_eq!(r.inner(), "ForbiddenByRbac");
    env.kv(&t2, Method::DELETE, "rbac2", "/keys/k", None)
        .await
        .expect(403);
}

#[tokio::test]
async fn firewall_and_public_network_access_with_trusted_service_bypass() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    let acl = |ips: &[&str], bypass: &str| json!({"bypass": bypass, "defaultAction": "Deny", "ipRules": ips.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()});
    env.create_vault("rg", "fw1", json!({"accessPolicies": [env.policy(&oid, &["all"])], "networkAcls": acl(&["10.0.0.1"], "AzureServices")})).await.expect(200);
    let t = env.kv_token().await;
    let r = env
        .kv(
            &t,
            Method::POST,
            "fw1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect_err(403, "Forbidden");
    assert_eq!(r.inner(), "ForbiddenByFirewall");
    let msg = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1"), "{msg}");
    // Allow our address.
    let vp = env.vault_path("rg", "fw1");
    env.arm(Method::PATCH, &vp, KV_API, Some(&json!({"properties": {"networkAcls": acl(&["10.0.0.1", "127.0.0.0/8"], "AzureServices")}}))).await.expect(200);
    let r = env
        .kv(
            &t,
            Method::POST,
            "fw1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    r.expect(200);
    let version = r.body["key"]["kid"]
        .as_str()
        .and_then(|k| k.rsplit('/').next())
        .expect("version")
        .to_owned();
    let w = env
        .kv(
            &t,
            Method::POST,
            "fw1",
            &format!("/keys/k/{version}/wrapkey"),
            Some(&json!({"alg": "RSA-OAEP-256", "value": b64url(b"secret-dek")})),
        )
        .await;
    assert_eq!(
        unb64url(w.body["value"].as_str().expect("value")).len(),
        256
    );
    // Lock it again: only a trusted service gets through, and only with bypass.
    env.arm(
        Method::PATCH,
        &vp,
        KV_API,
        Some(&json!({"properties": {"networkAcls": acl(&[], "AzureServices")}})),
    )
    .await
    .expect(200);
    env.kv(&t, Method::GET, "fw1", "/keys/k", None)
        .await
        .expect(403);
    // That a trusted service (ACI with an encryption identity) passes only with the bypass is
    // asserted over the wire in `aci::network_protected_flow_needs_the_identity_and_trusted_services`.
}

#[tokio::test]
async fn rotation_policies_are_validated_as_key_vault_does() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "rotpol1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "rotpol1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    let put = |body: serde_json::Value| {
        let t = t.clone();
        let env = &env;
        async move {
            env.kv(
                &t,
                Method::PUT,
                "rotpol1",
                "/keys/k/rotationpolicy",
                Some(&body),
            )
            .await
        }
    };
    // A valid policy, as the Azure CLI sends it (a null trigger field, lower-case action type).
    let good = json!({"lifetimeActions": [
        {"trigger": {"timeAfterCreate": "P90D", "timeBeforeExpiry": null}, "action": {"type": "rotate"}},
        {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
        "attributes": {"expiryTime": "P1Y", "created": 1, "updated": 1}});
    let r = put(good).await;
    r.expect(200);
    assert_eq!(r.body["lifetimeActions"][0]["action"]["type"], "Rotate");
    assert_eq!(
        r.body["lifetimeActions"][0]["trigger"],
        json!({"timeAfterCreate": "P90D"})
    );
    assert_eq!(r.body["attributes"]["expiryTime"], "P1Y");
    assert_ne!(r.body["attributes"]["created"], 1, "created is read-only");
    let kept = env
        .kv(&t, Method::GET, "rotpol1", "/keys/k/rotationpolicy", None)
        .await;
    // The policy had its own Notify: only that one.
    assert_eq!(
        kept.body["lifetimeActions"].as_array().map(Vec::len),
        Some(2),
        "{}",
        kept.body
    );
    // Without a Notify action, Key Vault adds its default one (30 days before expiry).
    for body in [
        json!({"lifetimeActions": []}),
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}]}),
    ] {
        let r = put(body).await;
        r.expect(200);
        let actions = r.body["lifetimeActions"]
            .as_array()
            .expect("actions")
            .clone();
        let notify: Vec<_> = actions
            .iter()
            .filter(|a| a["action"]["type"] == "Notify")
            .collect();
        assert_eq!(notify.len(), 1, "{}", r.body);
        assert_eq!(notify[0]["trigger"], json!({"timeBeforeExpiry": "P30D"}));
    }
    let kept = env
        .kv(&t, Method::GET, "rotpol1", "/keys/k/rotationpolicy", None)
        .await;
    for (what, body) in [
        (
            "lifetimeActions not an array",
            json!({"lifetimeActions": "x"}),
        ),
        (
            "an action that is not an object",
            json!({"lifetimeActions": ["x"]}),
        ),
        (
            "no trigger",
            json!({"lifetimeActions": [{"action": {"type": "Rotate"}}]}),
        ),
        (
            "an unknown action",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Delete"}}]}),
        ),
        (
            "not a duration",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "90 days"}, "action": {"type": "Rotate"}}]}),
        ),
        (
            "a number for a duration",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": 90}, "action": {"type": "Rotate"}}]}),
        ),
        (
            "both triggers",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D", "timeBeforeExpiry": "P30D"}, "action": {"type": "Rotate"}}]}),
        ),
        (
            "neither trigger",
            json!({"lifetimeActions": [{"trigger": {}, "action": {"type": "Rotate"}}]}),
        ),
        (
            "under 7 days",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P6D"}, "action": {"type": "Rotate"}}]}),
        ),
        (
            "two rotations",
            json!({"lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "rotate"}}]}),
        ),
        (
            "notify after create",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Notify"}}]}),
        ),
        (
            "expiry under 28 days",
            json!({"lifetimeActions": [], "attributes": {"expiryTime": "P27D"}}),
        ),
        (
            "rotation too close to expiry",
            json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P60D"}, "action": {"type": "Rotate"}}], "attributes": {"expiryTime": "P65D"}}),
        ),
        (
            "attributes not an object",
            json!({"lifetimeActions": [], "attributes": "P1Y"}),
        ),
    ] {
        let r = put(body).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(
            r.body["error"]["code"], "BadParameter",
            "{what}: {}",
            r.body
        );
    }
    let after = env
        .kv(&t, Method::GET, "rotpol1", "/keys/k/rotationpolicy", None)
        .await;
    assert_eq!(after.body, kept.body, "a refused policy changes nothing");
}

#[tokio::test]
async fn a_deleted_vaults_role_assignments_are_gone_and_recovery_does_not_bring_them_back() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "rbacdel1",
        json!({"enableRbacAuthorization": true, "enablePurgeProtection": true}),
    )
    .await
    .expect(200);
    let scope = env.vault_path("rg", "rbacdel1");
    let officer = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        env.sub()
    );
    let assignment = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-0000000000d1"
    );
    env.arm(
        Method::PUT,
        &assignment,
        RA_API,
        Some(&json!({"properties": {"roleDefinitionId": officer, "principalId": oid}})),
    )
    .await
    .expect(201);
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "rbacdel1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    // Delete (soft) and recover the vault.
    env.arm(Method::DELETE, &scope, KV_API, None)
        .await
        .expect(200);
    env.arm(Method::GET, &assignment, RA_API, None)
        .await
        .expect(404);
    env.create_vault(
        "rg",
        "rbacdel1",
        json!({"createMode": "recover", "enableRbacAuthorization": true}),
    )
    .await
    .expect(200);
    let listed = env
        .arm(
            Method::GET,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
            RA_API,
            None,
        )
        .await;
    assert_eq!(listed.body["value"], json!([]), "{}", listed.body);
    // The recovered vault keeps its keys, but nobody may use them until access is granted again.
    let r = env.kv(&t, Method::GET, "rbacdel1", "/keys/k", None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.inner(), "ForbiddenByRbac");
}
