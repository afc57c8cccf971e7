//! Test helpers: an emulator plus a reqwest client that trusts its CA and resolves
//! `*.localhost` to 127.0.0.1.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use aci_cmk_emulator::{Emulator, EmulatorOptions, ReadyInfo, RunningEmulator};
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const RG_API: &str = "2021-04-01";
pub const KV_API: &str = "2024-11-01";
pub const MI_API: &str = "2023-01-31";
pub const RA_API: &str = "2022-04-01";
pub const DP_API: &str = "7.5";

/// The longest a test waits for an event the emulator reports: far beyond what a busy machine
/// takes, so reaching it means the event never comes.
pub const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(300);

/// Awaits `event`, panicking with `what` if it has not come within [`HANG_GUARD`].
pub async fn within_guard<T>(what: &str, event: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(HANG_GUARD, event).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: not reported within {HANG_GUARD:?}"),
    }
}

/// Waits until the watched value satisfies `done` (checked on the value now, then after each
/// change), panicking after [`HANG_GUARD`] or when the emulator is gone.
pub async fn watch_until<T>(
    what: &str,
    rx: &mut tokio::sync::watch::Receiver<T>,
    done: impl FnMut(&T) -> bool,
) {
    within_guard(what, async {
        rx.wait_for(done)
            .await
            .map(|_| ())
            .unwrap_or_else(|_| panic!("{what}: the emulator stopped"));
    })
    .await;
}

/// Resolves every `*.localhost` name to 127.0.0.1.
#[derive(Debug, Clone, Copy)]
pub struct LocalResolver;

impl reqwest::dns::Resolve for LocalResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            if host == "localhost" || host.ends_with(".localhost") {
                let addrs: reqwest::dns::Addrs =
                    Box::new(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
                Ok(addrs)
            } else {
                Err(format!("refusing to resolve {host} in tests").into())
            }
        })
    }
}

/// A reqwest client trusting `ca_pem` only.
pub fn client(ca_pem: &str) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM parses");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .dns_resolver(Arc::new(LocalResolver))
        .build()
        .expect("client builds")
}

/// A response: status, headers and JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn inner(&self) -> &str {
        self.body["error"]["innererror"]["code"]
            .as_str()
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn expect_err(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        self
    }
}

pub struct Env {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub info: ReadyInfo,
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(EmulatorOptions::default()).await
    }

    pub async fn start_with(opts: EmulatorOptions) -> Env {
        let emu = Emulator::start(opts).await.expect("emulator starts");
        let info = emu.info().clone();
        let http = client(emu.ca_cert_pem());
        Env { emu, http, info }
    }

    pub fn sub(&self) -> &str {
        &self.info.subscription_id
    }

    pub fn tenant(&self) -> &str {
        &self.info.tenant_id
    }

    /// Moves the emulator's clock forward (tests move time instead of sleeping).
    pub fn advance(&self, by: std::time::Duration) {
        self.emu.admin().advance(by).expect("the clock moves");
    }

    /// Raw request.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.http.request(method, url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).expect("json"));
        }
        let r = rb.send().await.expect("request is answered");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Token from the token endpoint for `client_id`/`secret` and `scope`.
    pub async fn token_for(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let form = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            enc(client_id),
            enc(secret),
            enc(scope)
        );
        let r = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.info.authority_host,
                self.tenant()
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), 200, "token request failed");
        let v: Value = r.json().await.expect("token json");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    pub async fn arm_token(&self) -> String {
        self.token_for(
            &self.info.client_id,
            &self.info.client_secret,
            &format!("{}/.default", self.info.arm_audience),
        )
        .await
    }

    pub async fn graph_token(&self) -> String {
        self.token_for(
            &self.info.client_id,
            &self.info.client_secret,
            &format!("{}/.default", self.info.graph_audience),
        )
        .await
    }

    pub async fn kv_token(&self) -> String {
        self.token_for(
            &self.info.client_id,
            &self.info.client_secret,
            &format!("{}/.default", self.info.keyvault_audience),
        )
        .await
    }

    /// ARM request with the deployer's token; `path` starts with `/`, `api` is appended.
    pub async fn arm(&self, method: Method, path: &str, api: &str, body: Option<&Value>) -> Resp {
        let t = self.arm_token().await;
        let sep = if path.contains('?') { '&' } else { '?' };
        self.send(
            method,
            &format!("{}{path}{sep}api-version={api}", self.info.arm_endpoint),
            Some(&t),
            body,
        )
        .await
    }

    pub fn rg_path(&self, rg: &str) -> String {
        format!("/subscriptions/{}/resourcegroups/{rg}", self.sub())
    }

    pub fn vault_path(&self, rg: &str, vault: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}",
            self.sub()
        )
    }

    pub fn vault_url(&self, vault: &str) -> String {
        format!("https://{vault}.{}", self.info.keyvault_dns_suffix)
    }

    pub async fn create_rg(&self, rg: &str) {
        self.arm(
            Method::PUT,
            &self.rg_path(rg),
            RG_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    }

    /// Object id of the deployer (from its token).
    pub async fn deployer_oid(&self) -> String {
        let t = self.arm_token().await;
        claims(&t)["oid"].as_str().expect("oid").to_owned()
    }

    /// Creates a vault; `props` are merged into the standard properties.
    pub async fn create_vault(&self, rg: &str, vault: &str, props: Value) -> Resp {
        let mut p = json!({
            "tenantId": self.tenant(),
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
        });
        if let (Some(pm), Some(extra)) = (p.as_object_mut(), props.as_object()) {
            for (k, v) in extra {
                pm.insert(k.clone(), v.clone());
            }
        }
        self.arm(
            Method::PUT,
            &self.vault_path(rg, vault),
            KV_API,
            Some(&json!({"location": "westeurope", "properties": p})),
        )
        .await
    }

    /// An access policy entry granting `keys` to `oid`.
    pub fn policy(&self, oid: &str, keys: &[&str]) -> Value {
        json!({"tenantId": self.tenant(), "objectId": oid, "permissions": {"keys": keys}})
    }

    /// Data-plane request.
    pub async fn kv(
        &self,
        token: &str,
        method: Method,
        vault: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.send(
            method,
            &format!("{}{path}{sep}api-version={DP_API}", self.vault_url(vault)),
            Some(token),
            body,
        )
        .await
    }

    /// Admin request.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send(
            method,
            &format!("{}{path}", self.info.admin_endpoint),
            None,
            body,
        )
        .await
    }

    /// Mints a token through the admin API.
    pub async fn mint(&self, body: Value) -> String {
        let r = self.admin(Method::POST, "/tokens", Some(&body)).await;
        r.expect(200);
        r.body["access_token"].as_str().expect("token").to_owned()
    }

    /// Moves the clock past the timing profile's directory replication, so a principal created
    /// just now is known to role assignments and Key Vault (as a client waits for it on Azure).
    pub fn wait_for_replication(&self) {
        let ms = self.info.timing.durations().principal_replication_ms;
        self.advance(std::time::Duration::from_millis(ms + 1));
    }

    /// Adds a service principal via the admin API (and waits for it to replicate):
    /// (client_id, secret, object_id).
    pub async fn add_principal(&self, name: &str) -> (String, String, String) {
        let r = self
            .admin(
                Method::POST,
                "/principals",
                Some(&json!({"display_name": name})),
            )
            .await;
        r.expect(201);
        self.wait_for_replication();
        (
            r.body["client_id"].as_str().expect("cid").to_owned(),
            r.body["client_secret"].as_str().expect("secret").to_owned(),
            r.body["object_id"].as_str().expect("oid").to_owned(),
        )
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes a JWT's payload (no verification).
pub fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("jwt payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("claims json")
}

/// Decodes a JWT's header.
pub fn header(token: &str) -> Value {
    let part = token.split('.').next().expect("jwt header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("header json")
}

pub fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn unb64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}
