//! The `aci-cmk-emulator` binary: exactly one ready line on stdout, acknowledged writes survive a
//! SIGKILL, SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

use aci_cmk_emulator::ReadyInfo;
use reqwest::Method;
use serde_json::json;

use crate::common::{KV_API, RG_API, b64url, client, enc, unb64url};

fn spawn(dir: &std::path::Path) -> (Child, BufReader<ChildStdout>, ReadyInfo) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aci-cmk-emulator"))
        .args(["--port", "0", "--state-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("ready line");
    let info: ReadyInfo = serde_json::from_str(&line).expect("ready line is JSON");
    assert!(info.ready);
    (child, out, info)
}

struct Api {
    http: reqwest::Client,
    info: ReadyInfo,
}

impl Api {
    fn new(info: ReadyInfo) -> Api {
        let ca = std::fs::read_to_string(&info.ca_cert_pem_path).expect("ca");
        Api {
            http: client(&ca),
            info,
        }
    }

    async fn token(&self, aud: &str) -> String {
        let form = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            enc(&self.info.client_id),
            enc(&self.info.client_secret),
            enc(&format!("{aud}/.default"))
        );
        let v: serde_json::Value = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.info.authority_host, self.info.tenant_id
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        v["access_token"].as_str().expect("token").to_owned()
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut rb = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("answered");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn binary_ready_line_crash_safety_and_sigterm() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-bin-{}", uuid::Uuid::new_v4()));
    let (mut child, _out, info) = spawn(&dir);
    let api = Api::new(info.clone());
    let arm = api.token(&info.arm_audience).await;
    let oid = crate::common::claims(&arm)["oid"]
        .as_str()
        .expect("oid")
        .to_owned();
    let sub = &info.subscription_id;
    let (s, _) = api
        .call(
            Method::PUT,
            &format!(
                "{}/subscriptions/{sub}/resourcegroups/rg?api-version={RG_API}",
                info.arm_endpoint
            ),
            &arm,
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(s, 201);
    let vault = json!({"location": "westeurope", "properties": {"tenantId": info.tenant_id, "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [{"tenantId": info.tenant_id, "objectId": oid, "permissions": {"keys": ["all"]}}]}});
    let (s, _) = api.call(Method::PUT, &format!("{}/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/crash1?api-version={KV_API}", info.arm_endpoint), &arm, Some(vault)).await;
    assert_eq!(s, 200);
    let kv = api.token(&info.keyvault_audience).await;
    let vault_url = format!("https://crash1.{}", info.keyvault_dns_suffix);
    let (s, key) = api
        .call(
            Method::POST,
            &format!("{vault_url}/keys/k/create?api-version=7.5"),
            &kv,
            Some(json!({"kty": "RSA"})),
        )
        .await;
    assert_eq!(s, 200);
    let kid = key["key"]["kid"].as_str().expect("kid").to_owned();
    let version = kid.rsplit('/').next().expect("version").to_owned();
    let (_, w) = api
        .call(
            Method::POST,
            &format!("{vault_url}/keys/k/{version}/wrapkey?api-version=7.5"),
            &kv,
            Some(json!({"alg": "RSA-OAEP-256", "value": b64url(b"crash-safe")})),
        )
        .await;
    let wrapped = w["value"].as_str().expect("wrapped").to_owned();

    // SIGKILL right after the acknowledged writes.
    child.kill().expect("kill");
    let _ = child.wait();

    let (mut child, mut out, info2) = spawn(&dir);
    assert_eq!(info2.tenant_id, info.tenant_id);
    assert_eq!(info2.client_secret, info.client_secret);
    let api = Api::new(info2.clone());
    let kv = api.token(&info2.keyvault_audience).await;
    let vault_url = format!("https://crash1.{}", info2.keyvault_dns_suffix);
    let (s, u) = api
        .call(
            Method::POST,
            &format!("{vault_url}/keys/k/{version}/unwrapkey?api-version=7.5"),
            &kv,
            Some(json!({"alg": "RSA-OAEP-256", "value": wrapped})),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(unb64url(u["value"].as_str().expect("value")), b"crash-safe");

    // SIGTERM: a clean exit and nothing more on stdout.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("stdout");
    assert!(
        rest.is_empty(),
        "stdout must hold only the ready line, got {rest:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
