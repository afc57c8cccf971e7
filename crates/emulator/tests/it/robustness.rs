//! Malformed bodies and wrong types get 4xx in each service's shape, never 5xx.

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, KV_API, MI_API, RA_API, RG_API};

#[tokio::test]
async fn malformed_input_never_yields_a_server_error() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "robust1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(201);
    let arm = env.arm_token().await;
    let graph = env.graph_token().await;
    let kv = env.kv_token().await;
    let base = env.info.arm_endpoint.clone();
    let sub = env.sub().to_owned();
    let vp = env.vault_path("rg", "robust1");
    let targets: Vec<(Method, String, String)> = vec![
        (
            Method::PUT,
            format!("{base}{}?api-version={RG_API}", env.rg_path("rg9")),
            arm.clone(),
        ),
        (
            Method::PATCH,
            format!("{base}{}?api-version={RG_API}", env.rg_path("rg")),
            arm.clone(),
        ),
        (
            Method::PUT,
            format!("{base}{vp}?api-version={KV_API}"),
            arm.clone(),
        ),
        (
            Method::PATCH,
            format!("{base}{vp}?api-version={KV_API}"),
            arm.clone(),
        ),
        (
            Method::PUT,
            format!("{base}{vp}/accessPolicies/add?api-version={KV_API}"),
            arm.clone(),
        ),
        (
            Method::POST,
            format!(
                "{base}/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability?api-version={KV_API}"
            ),
            arm.clone(),
        ),
        (
            Method::PUT,
            format!(
                "{base}/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id9?api-version={MI_API}"
            ),
            arm.clone(),
        ),
        (
            Method::PUT,
            format!(
                "{base}{vp}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-000000000001?api-version={RA_API}"
            ),
            arm.clone(),
        ),
        (
            Method::POST,
            format!("{}/v1.0/servicePrincipals", env.info.graph_endpoint),
            graph.clone(),
        ),
        (
            Method::POST,
            format!("{}/keys/k/create?api-version=7.5", env.vault_url("robust1")),
            kv.clone(),
        ),
        (
            Method::PATCH,
            format!("{}/keys/k?api-version=7.5", env.vault_url("robust1")),
            kv.clone(),
        ),
        (
            Method::POST,
            format!(
                "{}/keys/k//wrapkey?api-version=7.5",
                env.vault_url("robust1")
            ),
            kv.clone(),
        ),
        (
            Method::PUT,
            format!(
                "{}/keys/k/rotationpolicy?api-version=7.5",
                env.vault_url("robust1")
            ),
            kv.clone(),
        ),
        (
            Method::POST,
            format!(
                "{}/{}/oauth2/v2.0/token",
                env.info.authority_host,
                env.tenant()
            ),
            String::new(),
        ),
        (
            Method::PUT,
            format!("{}/faults", env.info.admin_endpoint),
            String::new(),
        ),
        (
            Method::POST,
            format!("{}/tokens", env.info.admin_endpoint),
            String::new(),
        ),
    ];
    env.kv(
        &kv,
        Method::POST,
        "robust1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    let bodies: [&[u8]; 12] = [
        b"",
        b"null",
        b"[]",
        b"{",
        b"\xff\xfe",
        b"{\"properties\":5}",
        b"{\"location\":5,\"properties\":{\"tenantId\":5}}",
        b"{\"location\":\"westeurope\",\"properties\":{\"tenantId\":\"x\",\"sku\":7,\"accessPolicies\":{}}}",
        b"{\"properties\":{\"accessPolicies\":[5,{\"permissions\":[]}]}}",
        b"{\"kty\":[],\"key_size\":\"big\",\"attributes\":{\"exp\":\"soon\"},\"tags\":[1]}",
        b"{\"alg\":\"RSA-OAEP\",\"value\":5,\"appId\":{},\"tags\":\"x\"}",
        b"{\"properties\":{\"roleDefinitionId\":1,\"principalId\":[]},\"rules\":7,\"aud\":3}",
    ];
    for (method, url, token) in &targets {
        for body in bodies {
            let mut rb = env
                .http
                .request(method.clone(), url)
                .header("content-type", "application/json")
                .body(body.to_vec());
            if !token.is_empty() {
                rb = rb.bearer_auth(token);
            }
            let r = rb.send().await.expect("answered");
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            assert!(
                status.is_client_error() || status.is_success(),
                "{method} {url} with {:?} gave {status}: {text}",
                String::from_utf8_lossy(body)
            );
            if status.is_client_error() && !url.contains("/oauth2/") {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                assert!(
                    v["error"].is_object(),
                    "{method} {url}: error envelope expected, got {text}"
                );
            }
        }
    }
}
