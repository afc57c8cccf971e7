//! Smaller endpoints: v1 tokens, tenants, locations, providers, key rotation and rotation
//! policies, identity PATCH, vault `$top`, role definitions by name.

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, KV_API, MI_API, RA_API, enc};

#[tokio::test]
async fn smaller_endpoints_answer_as_azure() {
    let env = Env::start().await;
    let i = env.info.clone();
    // v1 token endpoint: resource=, string expiry fields.
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&resource={}",
        enc(&i.client_id),
        enc(&i.client_secret),
        enc(&format!("{}/", i.arm_audience))
    );
    let r = env
        .http
        .post(format!("{}/{}/oauth2/token", i.authority_host, i.tenant_id))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("v1");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["expires_on"].is_string() && v["expires_in"].is_string());
    let v1 = v["access_token"].as_str().expect("token").to_owned();
    let sub = env.sub().to_owned();
    env.send(
        Method::GET,
        &format!(
            "{}/subscriptions/{sub}/resourcegroups?api-version=2021-04-01",
            i.arm_endpoint
        ),
        Some(&v1),
        None,
    )
    .await
    .expect(200);
    // OpenID v1 path.
    env.send(
        Method::GET,
        &format!(
            "{}/{}/.well-known/openid-configuration",
            i.authority_host, i.tenant_id
        ),
        None,
        None,
    )
    .await
    .expect(200);

    let t = env.arm(Method::GET, "/tenants", "2022-12-01", None).await;
    assert_eq!(t.body["value"][0]["tenantId"], env.tenant());
    let l = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{sub}/locations"),
            "2022-12-01",
            None,
        )
        .await;
    assert!(l.body["value"].as_array().is_some_and(|v| !v.is_empty()));
    let p = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{sub}/providers/Microsoft.KeyVault"),
            "2021-04-01",
            None,
        )
        .await;
    assert_eq!(p.body["registrationState"], "Registered");
    env.arm(
        Method::POST,
        &format!("/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/register"),
        "2021-04-01",
        None,
    )
    .await
    .expect(200);
    let defs = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?$filter={}",
                enc("roleName eq 'Key Vault Crypto Officer'")
            ),
            RA_API,
            None,
        )
        .await;
    assert_eq!(defs.body["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        defs.body["value"][0]["name"],
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    );

    // Identity PATCH changes tags only.
    env.create_rg("rg").await;
    let mi = format!(
        "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
    );
    let created = env
        .arm(
            Method::PUT,
            &mi,
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    let patched = env
        .arm(
            Method::PATCH,
            &mi,
            MI_API,
            Some(&json!({"tags": {"a": "b"}})),
        )
        .await;
    patched.expect(200);
    assert_eq!(patched.body["tags"]["a"], "b");
    assert_eq!(patched.body["properties"], created.body["properties"]);
    env.arm(
        Method::PATCH,
        &format!("{mi}x"),
        MI_API,
        Some(&json!({"tags": {}})),
    )
    .await
    .expect(404);

    // $top on vault lists.
    for n in ["top-a", "top-b", "top-c"] {
        env.create_vault("rg", n, json!({})).await.expect(200);
    }
    let l = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/vaults?$top=2"),
            KV_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(2));

    // Key rotation and rotation policy.
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "rot1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let kv = env.kv_token().await;
    let k1 = env
        .kv(
            &kv,
            Method::POST,
            "rot1",
            "/keys/k/create",
            Some(&json!({"kty": "RSA", "key_size": 2048})),
        )
        .await;
    let k2 = env
        .kv(&kv, Method::POST, "rot1", "/keys/k/rotate", None)
        .await;
    k2.expect(200);
    assert_ne!(k1.body["key"]["kid"], k2.body["key"]["kid"]);
    assert_eq!(
        k1.body["key"]["n"].as_str().map(str::len),
        k2.body["key"]["n"].as_str().map(str::len),
        "same size after rotation"
    );
    let vers = env
        .kv(&kv, Method::GET, "rot1", "/keys/k/versions", None)
        .await;
    assert_eq!(vers.body["value"].as_array().map(Vec::len), Some(2));
    let policy = json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}], "attributes": {"expiryTime": "P2Y"}});
    let r = env
        .kv(
            &kv,
            Method::PUT,
            "rot1",
            "/keys/k/rotationpolicy",
            Some(&policy),
        )
        .await;
    r.expect(200);
    assert_eq!(
        r.body["id"],
        format!("{}/keys/k/rotationpolicy", env.vault_url("rot1"))
    );
    let r = env
        .kv(&kv, Method::GET, "rot1", "/keys/k/rotationpolicy", None)
        .await;
    assert_eq!(r.body["lifetimeActions"][0]["action"]["type"], "Rotate");
    assert!(r.body["attributes"]["created"].is_i64());
}
