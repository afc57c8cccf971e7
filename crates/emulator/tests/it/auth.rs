//! Token endpoint, OpenID metadata, and the authentication failures of each service.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, claims, enc, header};

async fn token_raw(env: &Env, tenant: &str, form: &str) -> (u16, Value) {
    let r = env
        .http
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            env.info.authority_host
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .expect("answered");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn token_endpoint_issues_rs256_tokens_and_refuses_bad_clients() {
    let env = Env::start().await;
    let i = &env.info;
    // The doubled slash form some clients send.
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope={}&client_info=1&claims=%7B%7D",
        i.client_id,
        enc(&i.client_secret),
        enc(&format!("{}//.default", i.arm_audience))
    );
    let (s, v) = token_raw(&env, &i.tenant_id, &form).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].is_i64());
    let t = v["access_token"].as_str().expect("token");
    let c = claims(t);
    assert_eq!(c["aud"], i.arm_audience);
    assert_eq!(
        c["iss"],
        format!("{}/{}/v2.0", i.authority_host, i.tenant_id)
    );
    assert_eq!(c["tid"], i.tenant_id);
    assert_eq!(c["appid"], i.client_id);
    for k in ["oid", "iat", "nbf", "exp"] {
        assert!(!c[k].is_null(), "claim {k} missing");
    }
    let h = header(t);
    assert_eq!(h["alg"], "RS256");
    assert!(h["kid"].is_string());

    // OpenID configuration and JWKS.
    let oc = env
        .send(
            Method::GET,
            &format!(
                "{}/{}/v2.0/.well-known/openid-configuration",
                i.authority_host, i.tenant_id
            ),
            None,
            None,
        )
        .await;
    oc.expect(200);
    assert_eq!(oc.body["issuer"], c["iss"]);
    assert!(oc.body["authorization_endpoint"].is_string());
    let jwks_uri = oc.body["jwks_uri"].as_str().expect("jwks_uri").to_owned();
    assert_eq!(
        oc.body["token_endpoint"],
        format!("{}/{}/oauth2/v2.0/token", i.authority_host, i.tenant_id)
    );
    let jwks = env.send(Method::GET, &jwks_uri, None, None).await;
    jwks.expect(200);
    assert_eq!(jwks.body["keys"][0]["kid"], h["kid"]);

    // Wrong secret.
    let bad = format!(
        "client_id={}&client_secret=nope&grant_type=client_credentials&scope={}",
        i.client_id,
        enc(&format!("{}/.default", i.arm_audience))
    );
    let (s, v) = token_raw(&env, &i.tenant_id, &bad).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"][0], 7000215);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("AADSTS7000215")
    );
    assert!(!v.to_string().contains(&i.client_secret));
    // Unknown client.
    let unknown = format!(
        "client_id=00000000-0000-0000-0000-000000000001&client_secret=x&grant_type=client_credentials&scope={}",
        enc(&format!("{}/.default", i.arm_audience))
    );
    let (s, v) = token_raw(&env, &i.tenant_id, &unknown).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("unauthorized_client")));
    // Unknown tenant.
    let (s, v) = token_raw(&env, "00000000-0000-0000-0000-000000000002", &form).await;
    assert_eq!(s, 400);
    assert_eq!(v["error_codes"][0], 90002);
    // Unknown resource.
    let foreign = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
        i.client_id,
        enc(&i.client_secret),
        enc("https://management.azure.com/.default")
    );
    let (s, v) = token_raw(&env, &i.tenant_id, &foreign).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_resource")));
    // Unsupported grant type, missing fields.
    let (s, v) = token_raw(&env, &i.tenant_id, "grant_type=password").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, _) = token_raw(&env, &i.tenant_id, "").await;
    assert_eq!(s, 400);
    // Key Vault accepts the vault.azure.net audience too.
    let kv = env
        .token_for(
            &i.client_id,
            &i.client_secret,
            "https://vault.azure.net/.default",
        )
        .await;
    assert_eq!(claims(&kv)["aud"], "https://vault.azure.net");
}

#[tokio::test]
async fn every_service_rejects_missing_expired_forged_foreign_and_misaddressed_tokens() {
    let env = Env::start().await;
    let i = env.info.clone();
    let arm_url = format!(
        "{}/subscriptions/{}/resourcegroups?api-version=2021-04-01",
        i.arm_endpoint, i.subscription_id
    );
    let graph_url = format!("{}/v1.0/servicePrincipals", i.graph_endpoint);
    env.create_rg("rg").await;
    env.create_vault("rg", "authvault", json!({}))
        .await
        .expect(200);
    let kv_url = format!("{}/keys?api-version=7.5", env.vault_url("authvault"));

    // Missing token.
    let r = env.send(Method::GET, &arm_url, None, None).await;
    r.expect_err(401, "AuthenticationFailed");
    assert_eq!(r.header("x-ms-error-code"), "AuthenticationFailed");
    assert!(!r.header("x-ms-request-id").is_empty());
    env.send(Method::GET, &graph_url, None, None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");
    let r = env.send(Method::GET, &kv_url, None, None).await;
    r.expect_err(401, "Unauthorized");
    assert_eq!(
        r.header("www-authenticate"),
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            i.authority_host, i.tenant_id, i.keyvault_audience
        )
    );

    // The first Key Vault request of a client may be a bodiless POST: challenge, not 400.
    let r = env
        .http
        .post(format!(
            "{}/keys/k1/create?api-version=7.5",
            env.vault_url("authvault")
        ))
        .header("content-type", "application/json")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));

    // Wrong audience: a Graph token on ARM and Key Vault, an ARM token on Graph.
    let graph = env.graph_token().await;
    let arm = env.arm_token().await;
    env.send(Method::GET, &arm_url, Some(&graph), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");
    env.send(Method::GET, &kv_url, Some(&arm), None)
        .await
        .expect_err(401, "Unauthorized");
    env.send(Method::GET, &graph_url, Some(&arm), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");

    // Expired.
    let expired = env
        .mint(json!({"aud": i.arm_audience, "ttl_secs": -3600}))
        .await;
    env.send(Method::GET, &arm_url, Some(&expired), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");
    let expired_kv = env
        .mint(json!({"aud": i.keyvault_audience, "ttl_secs": -3600}))
        .await;
    env.send(Method::GET, &kv_url, Some(&expired_kv), None)
        .await
        .expect_err(401, "Unauthorized");

    // Other tenant.
    let other = "11111111-1111-1111-1111-111111111111";
    let foreign = env
        .mint(json!({"aud": i.arm_audience, "tid": other, "iss": format!("{}/{other}/v2.0", i.authority_host)}))
        .await;
    env.send(Method::GET, &arm_url, Some(&foreign), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");

    // Forged signature: flip the payload.
    let mut parts: Vec<String> = arm.split('.').map(str::to_owned).collect();
    let mut c = claims(&arm);
    c["oid"] = json!("00000000-0000-0000-0000-000000000009");
    parts[1] = crate::common::b64url(c.to_string().as_bytes());
    let forged = parts.join(".");
    env.send(Method::GET, &arm_url, Some(&forged), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");
    env.send(Method::GET, &arm_url, Some("not-a-jwt"), None)
        .await
        .expect_err(401, "InvalidAuthenticationToken");

    // And the good token works.
    env.send(Method::GET, &arm_url, Some(&arm), None)
        .await
        .expect(200);
}
