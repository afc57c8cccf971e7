//! Malformed bodies and wrong types get 4xx in each service's shape, never 5xx.

use reqwest::Method;
use serde_json::json;

use crate::common::{DP_API, Env, KV_API, MI_API, RA_API, RG_API, enc};

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
    .expect(200);
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

const ACI_API: &str = "2023-05-01";

/// The error shape of each service.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// ARM, the admin API, Key Vault and Graph: `{"error": {"code": …, "message": …}}`.
    Envelope,
    /// Entra ID and the managed-identity endpoint: `{"error": "…", "error_description": …}`.
    Entra,
}

/// Sends a request and asserts a 4xx in `shape`, answered within 15 s (no hang).
async fn refused(
    env: &Env,
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
    shape: Shape,
) -> u16 {
    let mut rb = env.http.request(method.clone(), url);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    for (name, value) in headers {
        rb = rb.header(*name, *value);
    }
    if let Some(body) = body {
        rb = rb.header("content-type", "application/json").body(body);
    }
    let shown = if url.len() > 160 { &url[..160] } else { url };
    let r = tokio::time::timeout(std::time::Duration::from_secs(15), rb.send())
        .await
        .unwrap_or_else(|_| panic!("{method} {shown}: no answer within 15 s"))
        .expect("answered");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(
        status.is_client_error(),
        "{method} {shown} gave {status}: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match shape {
        Shape::Envelope => assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{method} {shown}: error envelope expected, got {status} {text}"
        ),
        Shape::Entra => assert!(
            v["error"].is_string(),
            "{method} {shown}: Entra error expected, got {status} {text}"
        ),
    }
    status.as_u16()
}

fn group_url(env: &Env, rg: &str, name: &str) -> String {
    format!(
        "{}/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}",
        env.info.arm_endpoint,
        env.sub()
    )
}

/// A container group without customer-managed-key encryption.
fn plain_group() -> serde_json::Value {
    json!({
        "location": "westeurope",
        "properties": {
            "osType": "Linux",
            "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}
            }}]
        }
    })
}

#[tokio::test]
async fn container_instance_routes_refuse_malformed_requests() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let arm = env.arm_token().await;
    // One group that exists, so that PATCH, the actions and logs reach their body parsing.
    let r = env
        .http
        .put(format!(
            "{}?api-version={ACI_API}",
            group_url(&env, "rg", "cg-ok")
        ))
        .bearer_auth(&arm)
        .json(&plain_group())
        .send()
        .await
        .expect("answered");
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );

    let bad_bodies: Vec<Vec<u8>> = [
        &b""[..],
        b"null",
        b"[]",
        b"{",
        b"\xff\xfe",
        b"{\"location\":5}",
        b"{\"location\":\"westeurope\",\"properties\":5}",
        b"{\"location\":\"westeurope\",\"properties\":{\"containers\":{}}}",
        b"{\"location\":\"westeurope\",\"properties\":{\"osType\":\"Linux\",\"containers\":[5]}}",
        b"{\"location\":\"westeurope\",\"properties\":{\"osType\":\"Linux\",\"containers\":[{\"name\":7,\"properties\":[]}]}}",
        b"{\"location\":\"westeurope\",\"properties\":{\"osType\":\"Linux\",\"containers\":[{\"name\":\"a\",\"properties\":{\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":1e308,\"memoryInGB\":-1}},\"ports\":[{\"port\":70000}],\"environmentVariables\":[{\"name\":5,\"secureValue\":[]}]}}]}}",
        b"{\"location\":\"westeurope\",\"properties\":{\"sku\":7,\"encryptionProperties\":{\"vaultBaseUrl\":5,\"keyName\":[],\"keyVersion\":{}},\"containers\":[]}}",
        b"{\"location\":\"westeurope\",\"identity\":{\"type\":\"UserAssigned\",\"userAssignedIdentities\":[\"x\"]},\"properties\":{\"containers\":[]}}",
        b"{\"tags\":[1,2],\"properties\":{\"ipAddress\":{\"ports\":\"80\",\"type\":false}}}",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    let api = format!("?api-version={ACI_API}");
    for name in ["cg-new", "cg-ok"] {
        for method in [Method::PUT, Method::PATCH] {
            for body in &bad_bodies {
                let url = format!("{}{api}", group_url(&env, "rg", name));
                let mut rb = env
                    .http
                    .request(method.clone(), &url)
                    .bearer_auth(&arm)
                    .header("content-type", "application/json")
                    .body(body.clone());
                rb = rb.timeout(std::time::Duration::from_secs(15));
                let r = rb.send().await.expect("answered");
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                assert!(
                    status.is_client_error() || status.is_success(),
                    "{method} {name} with {:?} gave {status}: {text}",
                    String::from_utf8_lossy(body)
                );
                if status.is_client_error() {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    assert!(v["error"]["code"].is_string(), "{method} {name}: {text}");
                }
            }
        }
    }
    // Actions with bodies, unknown actions, logs with bad queries, groups that do not exist.
    let base = group_url(&env, "rg", "cg-ok");
    for (method, url) in [
        (Method::POST, format!("{base}/restart{api}")),
        (Method::POST, format!("{base}/frobnicate{api}")),
        (Method::GET, format!("{base}/restart{api}")),
        (
            Method::POST,
            format!("{}/stop{api}", group_url(&env, "rg", "missing")),
        ),
        (
            Method::GET,
            format!("{}{api}", group_url(&env, "rg", "missing")),
        ),
        (
            Method::GET,
            format!("{}{api}", group_url(&env, "nosuchrg", "cg")),
        ),
        (Method::GET, format!("{base}/containers/nope/logs{api}")),
        (
            Method::GET,
            format!("{base}/containers/app/logs{api}&tail=-1"),
        ),
        (
            Method::GET,
            format!("{base}/containers/app/logs{api}&tail=abc"),
        ),
        (
            Method::GET,
            format!("{base}/containers/app/logs{api}&tail=99999999999999999999999"),
        ),
        (Method::GET, format!("{base}/containers//logs{api}")),
        (
            Method::GET,
            format!("{base}/containers/app/logs/extra{api}"),
        ),
        (
            Method::PUT,
            format!("{}{api}", group_url(&env, "rg", "Bad_Name")),
        ),
        (
            Method::PUT,
            format!("{}{api}", group_url(&env, "rg", &"a".repeat(300))),
        ),
        (
            Method::PUT,
            format!("{}{api}", group_url(&env, "rg", "%00%ff")),
        ),
        (Method::POST, format!("{base}{api}")),
    ] {
        let mut rb = env
            .http
            .request(method.clone(), &url)
            .bearer_auth(&arm)
            .timeout(std::time::Duration::from_secs(15));
        if method != Method::GET {
            rb = rb
                .header("content-type", "application/json")
                .body(b"{\"bogus\":[".to_vec());
        }
        let r = rb.send().await.expect("answered");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(
            status.is_client_error() || status.is_success(),
            "{method} {url} gave {status}: {text}"
        );
        if status.is_client_error() {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            assert!(v["error"]["code"].is_string(), "{method} {url}: {text}");
        }
    }
}

#[tokio::test]
async fn bad_api_versions_paths_and_tokens_get_4xx_in_each_services_shape() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "robust2",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let arm = env.arm_token().await;
    let graph = env.graph_token().await;
    let kv = env.kv_token().await;
    let a = &env.info.arm_endpoint;
    let g = &env.info.graph_endpoint;
    let v = env.vault_url("robust2");
    let sub = env.sub().to_owned();
    let rg = env.rg_path("rg");
    let vp = env.vault_path("rg", "robust2");
    let cg = format!("{rg}/providers/Microsoft.ContainerInstance/containerGroups");
    let mi = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities");

    // Bad api-versions: missing, empty, malformed, unsupported, on each kind of route.
    for api in [
        "",
        "?api-version=",
        "?api-version=bogus",
        "?api-version=2099-01-01",
        "?api-version=%ff",
    ] {
        for path in [
            rg.clone(),
            vp.clone(),
            cg.clone(),
            mi.clone(),
            format!("/subscriptions/{sub}/resourcegroups"),
        ] {
            refused(
                &env,
                Method::GET,
                &format!("{a}{path}{api}"),
                Some(&arm),
                &[],
                None,
                Shape::Envelope,
            )
            .await;
        }
        refused(
            &env,
            Method::GET,
            &format!("{v}/keys{api}"),
            Some(&kv),
            &[],
            None,
            Shape::Envelope,
        )
        .await;
    }
    let msi = &env.info.managed_identity_endpoint;
    let header = [("x-identity-header", env.info.identity_header.as_str())];
    for api in ["", "?api-version=bogus"] {
        let url = format!(
            "{msi}{api}{}resource={}",
            if api.is_empty() { "?" } else { "&" },
            enc(&env.info.arm_audience)
        );
        refused(&env, Method::GET, &url, None, &header, None, Shape::Entra).await;
    }

    // Bad paths.
    let long = "x".repeat(5000);
    for path in [
        "/subscriptions".to_owned(),
        "/subscriptions/not-a-guid/resourceGroups".to_owned(),
        format!("/subscriptions/{sub}/resourceGroups/%ff%fe"),
        format!("/subscriptions/{sub}/resourceGroups/{long}"),
        format!("/subscriptions/{sub}/resourceGroups/rg/providers"),
        format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault"),
        format!(
            "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/robust2/keys/k/versions/v/extra"
        ),
        format!("{cg}/cg/containers"),
        format!("{cg}/cg/a/b/c/d/e/f"),
        format!("{cg}/%2e%2e/%2e%2e"),
        format!(
            "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/not-a-guid"
        ),
        "/nope".to_owned(),
        "/providers/Microsoft.Nope".to_owned(),
    ] {
        refused(
            &env,
            Method::GET,
            &format!("{a}{path}?api-version={RG_API}"),
            Some(&arm),
            &[],
            None,
            Shape::Envelope,
        )
        .await;
    }
    for path in [
        "/nope",
        "/keys/%2e%2e/x",
        "/keys/k/notaversion/wrapkey",
        "/keys/k/a/b/c",
        "/secrets",
        "/keys/%00",
    ] {
        refused(
            &env,
            Method::GET,
            &format!("{v}{path}?api-version={DP_API}"),
            Some(&kv),
            &[],
            None,
            Shape::Envelope,
        )
        .await;
    }
    let long_key = format!("{v}/keys/{}?api-version={DP_API}", "k".repeat(3000));
    refused(
        &env,
        Method::GET,
        &long_key,
        Some(&kv),
        &[],
        None,
        Shape::Envelope,
    )
    .await;
    for path in [
        "/v1.0/nope",
        "/v1.0/servicePrincipals(appId='not-a-guid')",
        "/v1.0/servicePrincipals/not-an-id",
        "/v1.0/servicePrincipals/%ff",
    ] {
        refused(
            &env,
            Method::GET,
            &format!("{g}{path}"),
            Some(&graph),
            &[],
            None,
            Shape::Envelope,
        )
        .await;
    }
    let authority = &env.info.authority_host;
    let tenant = env.tenant();
    for url in [
        format!("{authority}/{tenant}/oauth2/v2.0/nope"),
        format!("{authority}/not-a-tenant/oauth2/v2.0/token"),
        format!("{authority}/{tenant}/oauth2/v2.0/token?x=%ff"),
    ] {
        refused(
            &env,
            Method::POST,
            &url,
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
            None,
            Shape::Entra,
        )
        .await;
    }
    refused(
        &env,
        Method::GET,
        &format!("{}/nope", env.info.admin_endpoint),
        None,
        &[],
        None,
        Shape::Envelope,
    )
    .await;
    let form = b"grant_type=client_credentials&client_id=%ff&client_secret=&scope=".to_vec();
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let mut rb = env
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    rb = rb.timeout(std::time::Duration::from_secs(15));
    let r = rb.send().await.expect("answered");
    assert!(r.status().is_client_error(), "{}", r.status());

    // Bad tokens: none, garbage, a JWT-looking string, a forged signature, the wrong audience.
    let forge = |t: &str| {
        let mut t = t.to_owned();
        let last = t.pop().unwrap_or('A');
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    let arm_url = format!("{a}{rg}?api-version={RG_API}");
    let cg_url = format!("{a}{cg}?api-version={ACI_API}");
    let kv_url = format!("{v}/keys?api-version={DP_API}");
    let graph_url = format!("{g}/v1.0/servicePrincipals");
    for (url, right) in [
        (&arm_url, &arm),
        (&cg_url, &arm),
        (&kv_url, &kv),
        (&graph_url, &graph),
    ] {
        let wrong_audience = if right == &arm { &kv } else { &arm };
        for token in [
            None,
            Some("garbage".to_owned()),
            Some("a.b.c".to_owned()),
            Some("eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.".to_owned()),
            Some(forge(right)),
            Some(wrong_audience.clone()),
            Some("x".repeat(8_000)),
        ] {
            let status = refused(
                &env,
                Method::GET,
                url,
                token.as_deref(),
                &[],
                None,
                Shape::Envelope,
            )
            .await;
            assert!(status == 401 || status == 403, "{url}: {status}");
        }
        // Headers past the HTTP layer's limit (16 KiB) are refused by hyper itself with a bare
        // 431, before any service sees them (Azure's front ends answer 400 there): a 4xx, at
        // once, but not in the service's shape.
        let r = env
            .http
            .get(url.as_str())
            .bearer_auth("x".repeat(40_000))
            .timeout(std::time::Duration::from_secs(15))
            .send()
            .await
            .expect("answered");
        assert!(r.status().is_client_error(), "{url}: {}", r.status());
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_by_every_service() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let arm = env.arm_token().await;
    let graph = env.graph_token().await;
    let kv = env.kv_token().await;
    let big = vec![b'{'; 5 * 1024 * 1024];
    let a = &env.info.arm_endpoint;
    let authority = &env.info.authority_host;
    let tenant = env.tenant().to_owned();
    let targets = [
        (
            format!("{}?api-version={ACI_API}", group_url(&env, "rg", "cg")),
            Some(arm.clone()),
            Shape::Envelope,
        ),
        (
            format!("{a}{}?api-version={KV_API}", env.vault_path("rg", "v1")),
            Some(arm.clone()),
            Shape::Envelope,
        ),
        (
            format!("{}/keys/k/create?api-version={DP_API}", env.vault_url("v1")),
            Some(kv),
            Shape::Envelope,
        ),
        (
            format!("{}/v1.0/servicePrincipals", env.info.graph_endpoint),
            Some(graph),
            Shape::Envelope,
        ),
        (
            format!("{authority}/{tenant}/oauth2/v2.0/token"),
            None,
            Shape::Entra,
        ),
        (
            format!("{}/faults", env.info.admin_endpoint),
            None,
            Shape::Envelope,
        ),
    ];
    for (url, token, shape) in targets {
        for method in [Method::PUT, Method::POST] {
            let status = refused(
                &env,
                method,
                &url,
                token.as_deref(),
                &[],
                Some(big.clone()),
                shape,
            )
            .await;
            assert!(
                status == 413 || status == 405 || status == 404,
                "{url}: {status}"
            );
        }
    }
}

/// Azure reads `//subscriptions/…`, `…/Microsoft.ContainerInstance//containerGroups/…` and a
/// vault's `//keys/…` as the single-slash paths (the JavaScript authorization client and the
/// Azure CLI's generic-resource client send them).
#[tokio::test]
async fn doubled_slashes_route_as_single_ones() {
    let env = Env::start().await;
    let t = env.arm_token().await;
    let url = format!(
        "{}//subscriptions/{}/resourcegroups?api-version=2021-04-01",
        env.info.arm_endpoint,
        env.sub()
    );
    env.send(Method::GET, &url, Some(&t), None)
        .await
        .expect(200);
    env.create_rg("rg-slash").await;
    let url = format!(
        "{}/subscriptions/{}/resourceGroups/rg-slash/providers/Microsoft.ContainerInstance//containerGroups?api-version=2023-05-01",
        env.info.arm_endpoint,
        env.sub()
    );
    let r = env.send(Method::GET, &url, Some(&t), None).await;
    r.expect(200);
    assert!(r.body["value"].is_array(), "{}", r.body);
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg-slash",
        "slash-vault",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let kt = env.kv_token().await;
    env.kv(
        &kt,
        Method::POST,
        "slash-vault",
        "//keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    env.kv(&kt, Method::GET, "slash-vault", "//keys//k", None)
        .await
        .expect(200);
}

/// A `Host` that is not a host[:port] is refused before any service sees it, so nothing of it
/// is reflected into key ids or other URLs.
#[tokio::test]
async fn a_host_that_is_not_host_and_port_is_refused() {
    let env = Env::start().await;
    let client = reqwest::Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(env.emu.ca_cert_pem().as_bytes()).expect("CA"),
        ])
        .http1_only()
        .build()
        .expect("client");
    let port = env.info.arm_endpoint.rsplit(':').next().expect("port");
    let r = client
        .get(format!("https://127.0.0.1:{port}/keys?api-version=7.5"))
        .header("host", format!("v.vault.localhost:{port}@evil.example"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "InvalidHostHeader");
    assert!(!body.to_string().contains("evil.example"));
}
