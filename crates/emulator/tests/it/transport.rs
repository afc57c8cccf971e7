//! Transport: HTTP/1.1 and HTTP/2, IPv6 loopback, body size bound, request ids.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, LocalResolver, RG_API};

#[tokio::test]
async fn http1_http2_ipv6_and_body_limit() {
    let env = Env::start().await;
    let t = env.arm_token().await;
    let url = format!(
        "{}/subscriptions/{}/resourcegroups?api-version={RG_API}",
        env.info.arm_endpoint,
        env.sub()
    );
    let cert = || reqwest::Certificate::from_pem(env.emu.ca_cert_pem().as_bytes()).expect("pem");

    // HTTP/2 is negotiated by ALPN; HTTP/1.1 works too.
    let r = env.http.get(&url).bearer_auth(&t).send().await.expect("h2");
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    let h1 = reqwest::Client::builder()
        .tls_certs_only([cert()])
        .dns_resolver(Arc::new(LocalResolver))
        .http1_only()
        .build()
        .expect("client");
    let r = h1.get(&url).bearer_auth(&t).send().await.expect("h1");
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    assert_eq!(r.status(), 200);
    // Vault host routing over HTTP/1.1 (Host header).
    let r = h1
        .get(format!(
            "{}/keys?api-version=7.5",
            env.vault_url("somevault")
        ))
        .send()
        .await
        .expect("kv");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));

    // IPv6 loopback, when the machine has it.
    let port = env
        .info
        .arm_endpoint
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned();
    if std::net::TcpStream::connect(format!("[::1]:{port}")).is_ok() {
        let v6 = reqwest::Client::builder()
            .tls_certs_only([cert()])
            .build()
            .expect("client");
        let r = v6
            .get(format!(
                "https://[::1]:{port}/subscriptions/{}/resourcegroups?api-version={RG_API}",
                env.sub()
            ))
            .bearer_auth(&t)
            .send()
            .await
            .expect("v6");
        assert_eq!(r.status(), 200);
    }

    // Bodies over 4 MiB are refused in the service's shape.
    let big = vec![b' '; 5 * 1024 * 1024];
    let r = env
        .http
        .put(format!(
            "{}{}?api-version={RG_API}",
            env.info.arm_endpoint,
            env.rg_path("big")
        ))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["error"]["code"].is_string());

    // Unknown ARM routes are JSON errors with request ids, never empty 500s.
    let r = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}/foo/bar", env.sub()),
            RG_API,
            None,
        )
        .await;
    r.expect(404);
    assert!(!r.header("x-ms-request-id").is_empty());
    let r = env
        .arm(
            Method::PUT,
            &format!(
                "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Nope/things/x",
                env.sub()
            ),
            RG_API,
            Some(&json!({})),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[tokio::test]
async fn connect_proxy_tunnels_localhost_names_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = Env::start_with(aci_cmk_emulator::EmulatorOptions {
        connect_proxy: true,
        ..Default::default()
    })
    .await;
    let proxy = env.info.https_proxy.clone().expect("https_proxy announced");
    let cert = reqwest::Certificate::from_pem(env.emu.ca_cert_pem().as_bytes()).expect("pem");
    // No custom resolver: the proxy resolves.
    let http = reqwest::Client::builder()
        .tls_certs_only([cert])
        .proxy(reqwest::Proxy::https(&proxy).expect("proxy"))
        .build()
        .expect("client");
    let r = http
        .get(format!(
            "{}/keys?api-version=7.5",
            env.vault_url("anyvault")
        ))
        .send()
        .await
        .expect("tunnelled");
    assert_eq!(r.status(), 401);
    let t = env.arm_token().await;
    let r = http
        .get(format!(
            "{}/subscriptions/{}/resourcegroups?api-version={RG_API}",
            env.info.arm_endpoint,
            env.sub()
        ))
        .bearer_auth(&t)
        .send()
        .await
        .expect("tunnelled");
    assert_eq!(r.status(), 200);
    // Anything else is refused.
    let addr = proxy.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("proxy reachable");
    s.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 64];
    let n = s.read(&mut buf).await.expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 403"));
    let line = serde_json::to_string(&env.info).expect("json");
    assert!(line.contains("\"https_proxy\""));
    env.emu.shutdown().await;
}
