//! Container groups with customer-managed-key encryption: both flows, each broken rule with its
//! own code, encryption at rest (dump and state dir hold only ciphertext), crypto-shredding.

use aci_cmk_emulator::EmulatorOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, KV_API, MI_API};

pub(crate) const ACI_API: &str = "2023-05-01";
const ACI_APP: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";
const PLAIN: &str = "plain-canary-5b1e";
const SECURE: &str = "secure-canary-9f3a";
const COMMAND: &str = "command-canary-77c0";

pub(crate) struct Cmk {
    pub(crate) rg: String,
    pub(crate) vault: String,
    pub(crate) version: String,
}

pub(crate) fn group_path(env: &Env, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}",
        env.sub()
    )
}

fn uai_id(env: &Env, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        env.sub()
    )
}

pub(crate) async fn aci_principal(env: &Env) -> String {
    let t = env.graph_token().await;
    let r = env
        .send(
            Method::POST,
            &format!(
                "{}/v1.0/servicePrincipals",
                env.info.graph_endpoint.trim_end_matches('/')
            ),
            Some(&t),
            Some(&json!({"appId": ACI_APP})),
        )
        .await;
    assert!(
        r.status == 201 || r.status == 409,
        "{} {}",
        r.status,
        r.body
    );
    env.wait_for_replication();
    let r = env
        .send(
            Method::GET,
            &format!(
                "{}/v1.0/servicePrincipals(appId='{ACI_APP}')",
                env.info.graph_endpoint.trim_end_matches('/')
            ),
            Some(&t),
            None,
        )
        .await;
    r.body["id"].as_str().expect("sp id").to_owned()
}

/// A resource group, a vault (deployer: all; `grantee`: get + unwrapKey) and a key.
pub(crate) async fn vault_with_key(env: &Env, rg: &str, vault: &str, grantee: Option<&str>) -> Cmk {
    env.create_rg(rg).await;
    let oid = env.deployer_oid().await;
    let mut policies = vec![env.policy(&oid, &["all"])];
    if let Some(g) = grantee {
        policies.push(env.policy(g, &["get", "unwrapKey"]));
    }
    env.create_vault(
        rg,
        vault,
        json!({"accessPolicies": policies, "enablePurgeProtection": true}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    let r = env
        .kv(
            &t,
            Method::POST,
            vault,
            "/keys/cmk/create",
            Some(&json!({"kty": "RSA", "key_size": 2048})),
        )
        .await;
    r.expect(200);
    let kid = r.body["key"]["kid"].as_str().expect("kid");
    Cmk {
        rg: rg.to_owned(),
        vault: vault.to_owned(),
        version: kid.rsplit('/').next().expect("v").to_owned(),
    }
}

pub(crate) fn group_body(env: &Env, cmk: &Cmk, identity: Option<&str>) -> Value {
    let mut body = json!({
        "location": "westeurope",
        "properties": {
            "sku": "Standard",
            "osType": "Linux",
            "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "command": ["/bin/sh", "-c", format!("echo {COMMAND}")],
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}},
                "ports": [{"port": 80}],
                "environmentVariables": [{"name": "PLAIN", "value": PLAIN}, {"name": "SECRET", "secureValue": SECURE}]
            }}],
            "encryptionProperties": {
                "vaultBaseUrl": env.vault_url(&cmk.vault),
                "keyName": "cmk",
                "keyVersion": cmk.version,
            }
        }
    });
    if let Some(id) = identity {
        body["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}});
        body["properties"]["encryptionProperties"]["identity"] = json!(id);
    }
    body
}

/// PUTs a group and follows it to a terminal state: `Ok(body)` when it succeeded, `Err(code)`
/// for a synchronous refusal or a failed provisioning.
pub(crate) async fn deploy(
    env: &Env,
    rg: &str,
    name: &str,
    api: &str,
    body: &Value,
) -> Result<Value, String> {
    let r = env
        .arm(Method::PUT, &group_path(env, rg, name), api, Some(body))
        .await;
    if r.status.as_u16() >= 400 {
        return Err(r.code().to_owned());
    }
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Pending");
    assert!(!r.header("azure-asyncoperation").is_empty());
    let async_url = r.header("azure-asyncoperation").to_owned();
    let t = env.arm_token().await;
    for _ in 0..100 {
        let op = env.send(Method::GET, &async_url, Some(&t), None).await;
        match op.body["status"].as_str() {
            Some("Succeeded") => {
                let g = env
                    .arm(Method::GET, &group_path(env, rg, name), api, None)
                    .await;
                g.expect(200);
                assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
                return Ok(g.body);
            }
            Some("Failed") => {
                let g = env
                    .arm(Method::GET, &group_path(env, rg, name), api, None)
                    .await;
                assert_eq!(g.body["properties"]["provisioningState"], "Failed");
                assert_eq!(
                    g.body["properties"]["error"]["code"],
                    op.body["error"]["code"]
                );
                return Err(op.body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned());
            }
            _ => env.advance(std::time::Duration::from_millis(50)),
        }
    }
    panic!("the operation did not finish");
}

async fn logs(env: &Env, cmk: &Cmk, name: &str) -> Result<String, String> {
    let r = env
        .arm(
            Method::GET,
            &format!(
                "{}/containers/app/logs?timestamps=false",
                group_path(env, &cmk.rg, name)
            ),
            ACI_API,
            None,
        )
        .await;
    if r.status == 200 {
        Ok(r.body["content"].as_str().unwrap_or_default().to_owned())
    } else {
        Err(r.code().to_owned())
    }
}

async fn set_key_enabled(env: &Env, cmk: &Cmk, enabled: bool) {
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::PATCH,
        &cmk.vault,
        &format!("/keys/cmk/{}", cmk.version),
        Some(&json!({"attributes": {"enabled": enabled}})),
    )
    .await
    .expect(200);
}

async fn access_policy(env: &Env, cmk: &Cmk, kind: &str, oid: &str) {
    env.arm(
        Method::PUT,
        &format!(
            "{}/accessPolicies/{kind}",
            env.vault_path(&cmk.rg, &cmk.vault)
        ),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(oid, &["get", "unwrapKey"])]}})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn standard_flow_encrypts_at_rest_and_crypto_shreds() {
    let env = Env::start().await;
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-std", "std-vault", Some(&sp)).await;
    let group = deploy(
        &env,
        "rg-std",
        "cg-std",
        ACI_API,
        &group_body(&env, &cmk, None),
    )
    .await
    .expect("succeeds");

    let enc = &group["properties"]["encryptionProperties"];
    assert_eq!(
        enc["vaultBaseUrl"],
        format!("{}/", env.vault_url("std-vault")),
        "echoed with a trailing slash"
    );
    assert_eq!(enc["keyVersion"], cmk.version.as_str());
    let envs = &group["properties"]["containers"][0]["properties"]["environmentVariables"];
    assert_eq!(envs[0]["value"], PLAIN);
    assert!(
        envs[1].get("secureValue").is_none() && envs[1].get("value").is_none(),
        "secure values are never returned"
    );
    assert_eq!(group["properties"]["instanceView"]["state"], "Running");

    // Logs are real and read back through the key; they name variables, never values.
    let content = logs(&env, &cmk, "cg-std").await.expect("logs");
    assert!(
        content.contains("started from image mcr.microsoft.com/azuredocs/aci-helloworld:latest"),
        "{content}"
    );
    assert!(content.contains("PLAIN, SECRET"), "{content}");
    assert!(!content.contains(PLAIN) && !content.contains(SECURE));

    // Nothing secret in the admin dump.
    let dump = env.admin(Method::GET, "/dump", None).await;
    let text = dump.body.to_string();
    for canary in [PLAIN, SECURE, COMMAND, "started from image"] {
        assert!(!text.contains(canary), "the dump holds {canary}");
    }

    // Crypto-shredding: disable the key, and everything that needs the data key fails.
    set_key_enabled(&env, &cmk, false).await;
    assert_eq!(
        logs(&env, &cmk, "cg-std").await,
        Err("KeyVaultKeyNotUsable".to_owned())
    );
    let restart = env
        .arm(
            Method::POST,
            &format!("{}/restart", group_path(&env, "rg-std", "cg-std")),
            ACI_API,
            None,
        )
        .await;
    restart.expect_err(400, "KeyVaultKeyNotUsable");
    let unreadable = env
        .arm(
            Method::GET,
            &group_path(&env, "rg-std", "cg-std"),
            ACI_API,
            None,
        )
        .await;
    unreadable.expect(200);
    assert!(
        unreadable.body["properties"]["containers"][0]["properties"]["environmentVariables"][0]
            .get("value")
            .is_none()
    );
    set_key_enabled(&env, &cmk, true).await;
    assert!(logs(&env, &cmk, "cg-std").await.is_ok());

    // Removing the access policy shreds too, until it is restored.
    access_policy(&env, &cmk, "remove", &sp).await;
    assert_eq!(
        logs(&env, &cmk, "cg-std").await,
        Err("KeyVaultAccessDenied".to_owned())
    );
    access_policy(&env, &cmk, "add", &sp).await;
    env.arm(
        Method::POST,
        &format!("{}/restart", group_path(&env, "rg-std", "cg-std")),
        ACI_API,
        None,
    )
    .await
    .expect(204);
    let content = logs(&env, &cmk, "cg-std").await.expect("readable again");
    assert!(content.contains("restarted (restart 1)"), "{content}");
    let tail = env
        .arm(
            Method::GET,
            &format!(
                "{}/containers/app/logs?tail=1&timestamps=true",
                group_path(&env, "rg-std", "cg-std")
            ),
            ACI_API,
            None,
        )
        .await;
    let line = tail.body["content"].as_str().expect("content");
    assert_eq!(line.lines().count(), 1);
    assert!(line.starts_with("20"), "timestamped: {line}");

    // Stop and start also go through the key.
    env.arm(
        Method::POST,
        &format!("{}/stop", group_path(&env, "rg-std", "cg-std")),
        ACI_API,
        None,
    )
    .await
    .expect(204);
    let stopped = env
        .arm(
            Method::GET,
            &group_path(&env, "rg-std", "cg-std"),
            ACI_API,
            None,
        )
        .await;
    assert_eq!(
        stopped.body["properties"]["instanceView"]["state"],
        "Stopped"
    );
    env.arm(
        Method::POST,
        &format!("{}/start", group_path(&env, "rg-std", "cg-std")),
        ACI_API,
        None,
    )
    .await
    .expect(204);

    // Encryption cannot change on an existing group.
    let mut other = group_body(&env, &cmk, None);
    other["properties"]["encryptionProperties"]["keyVersion"] =
        json!("0123456789abcdef0123456789abcdef");
    assert_eq!(
        deploy(&env, "rg-std", "cg-std", ACI_API, &other)
            .await
            .err()
            .as_deref(),
        Some("EncryptionPropertiesCannotBeChanged")
    );
    // A re-PUT of the same encryption is fine, and keeps the logs.
    let again = env
        .arm(
            Method::PUT,
            &group_path(&env, "rg-std", "cg-std"),
            ACI_API,
            Some(&group_body(&env, &cmk, None)),
        )
        .await;
    again.expect(200);

    // Delete, then list.
    env.arm(
        Method::DELETE,
        &group_path(&env, "rg-std", "cg-std"),
        ACI_API,
        None,
    )
    .await
    .expect(200);
    env.arm(
        Method::DELETE,
        &group_path(&env, "rg-std", "cg-std"),
        ACI_API,
        None,
    )
    .await
    .expect(204);
    let list = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.ContainerInstance/containerGroups",
                env.sub()
            ),
            ACI_API,
            None,
        )
        .await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn network_protected_flow_needs_the_identity_and_trusted_services() {
    let env = Env::start().await;
    env.create_rg("rg-np").await;
    let identity = env
        .arm(
            Method::PUT,
            &uai_id(&env, "rg-np", "cmk-id"),
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    identity.expect(201);
    let principal = identity.body["properties"]["principalId"]
        .as_str()
        .expect("principal")
        .to_owned();
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-np", "np-vault", Some(&principal)).await;
    access_policy(&env, &cmk, "add", &sp).await;
    env.arm(
        Method::PATCH,
        &env.vault_path("rg-np", "np-vault"),
        KV_API,
        Some(&json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}})),
    )
    .await
    .expect(200);

    // The first-party principal cannot pass the firewall, even with the access policy.
    assert_eq!(
        deploy(
            &env,
            "rg-np",
            "cg-first-party",
            ACI_API,
            &group_body(&env, &cmk, None)
        )
        .await
        .err()
        .as_deref(),
        Some("KeyVaultFirewallDenied")
    );
    let failed = env
        .arm(
            Method::GET,
            &group_path(&env, "rg-np", "cg-first-party"),
            ACI_API,
            None,
        )
        .await;
    let message = failed.body["properties"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("Key vault 'np-vault' refused the ACI first-party service principal ("),
        "{message}"
    );
    // The identity, a trusted service behind bypass AzureServices, can.
    let id = uai_id(&env, "rg-np", "cmk-id");
    let group = deploy(
        &env,
        "rg-np",
        "cg-np",
        "2022-09-01",
        &group_body(&env, &cmk, Some(&id)),
    )
    .await
    .expect("succeeds");
    let listed = group["identity"]["userAssignedIdentities"]
        .as_object()
        .expect("identities");
    let entry = listed.values().next().expect("one");
    assert_eq!(entry["principalId"], principal.as_str());
    assert!(entry["clientId"].is_string());
    assert_eq!(
        group["properties"]["encryptionProperties"]["identity"],
        id.as_str()
    );

    // Without the bypass, nobody passes.
    env.arm(
        Method::PATCH,
        &env.vault_path("rg-np", "np-vault"),
        KV_API,
        Some(&json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}})),
    )
    .await
    .expect(200);
    assert_eq!(
        deploy(
            &env,
            "rg-np",
            "cg-np2",
            "2022-09-01",
            &group_body(&env, &cmk, Some(&id))
        )
        .await
        .err()
        .as_deref(),
        Some("KeyVaultFirewallDenied")
    );
}

#[tokio::test]
async fn each_broken_rule_has_its_own_code() {
    let env = Env::start().await;
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-rules", "rules-vault", Some(&sp)).await;
    let id = uai_id(&env, "rg-rules", "rules-id");
    env.arm(
        Method::PUT,
        &id,
        MI_API,
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(201);
    let good = || group_body(&env, &cmk, None);
    type Mutation = fn(&mut Value, &str);
    let cases: Vec<(&str, &str, Mutation, &str)> = vec![
        (
            "old api-version",
            "2018-10-01",
            |_, _| {},
            "EncryptionPropertiesNotSupportedInApiVersion",
        ),
        (
            "identity on 2021-10-01",
            "2021-10-01",
            |b, id| {
                b["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}});
                b["properties"]["encryptionProperties"]["identity"] = json!(id);
            },
            "EncryptionIdentityNotSupportedInApiVersion",
        ),
        (
            "dedicated sku",
            ACI_API,
            |b, _| b["properties"]["sku"] = json!("Dedicated"),
            "EncryptionRequiresStandardSku",
        ),
        (
            "identity not listed",
            ACI_API,
            |b, id| b["properties"]["encryptionProperties"]["identity"] = json!(id),
            "EncryptionIdentityNotAssigned",
        ),
        (
            "unknown identity",
            ACI_API,
            |b, id| {
                let missing = id.replace("rules-id", "nobody");
                b["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {missing.clone(): {}}});
                b["properties"]["encryptionProperties"]["identity"] = json!(missing);
            },
            "UserAssignedIdentityNotFound",
        ),
        (
            "foreign vault",
            ACI_API,
            |b, _| {
                b["properties"]["encryptionProperties"]["vaultBaseUrl"] =
                    json!("https://elsewhere.vault.azure.net")
            },
            "KeyVaultNotFound",
        ),
        (
            "missing key version",
            ACI_API,
            |b, _| {
                b["properties"]["encryptionProperties"]["keyVersion"] =
                    json!("0123456789abcdef0123456789abcdef")
            },
            "KeyVaultKeyNotFound",
        ),
        (
            "not a version",
            ACI_API,
            |b, _| b["properties"]["encryptionProperties"]["keyVersion"] = json!("latest"),
            "KeyVaultKeyNotFound",
        ),
        (
            "no key name",
            ACI_API,
            |b, _| b["properties"]["encryptionProperties"]["keyName"] = json!(""),
            "InvalidEncryptionProperties",
        ),
        (
            "identity without access",
            "2022-09-01",
            |b, id| {
                b["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}});
                b["properties"]["encryptionProperties"]["identity"] = json!(id);
            },
            "KeyVaultAccessDenied",
        ),
    ];
    for (i, (what, api, mutate, code)) in cases.into_iter().enumerate() {
        let mut body = good();
        mutate(&mut body, &id);
        let got = deploy(&env, "rg-rules", &format!("cg-rule-{i}"), api, &body).await;
        assert_eq!(got.err().as_deref(), Some(code), "{what}");
    }
    // Azure's own example omits sku with encryption: a missing sku is Standard.
    let mut no_sku = good();
    no_sku["properties"]
        .as_object_mut()
        .map(|p| p.remove("sku"));
    let group = deploy(&env, "rg-rules", "cg-no-sku", ACI_API, &no_sku)
        .await
        .expect("a missing sku defaults to Standard");
    assert_eq!(group["properties"]["sku"], "Standard");
    // A disabled key.
    set_key_enabled(&env, &cmk, false).await;
    assert_eq!(
        deploy(&env, "rg-rules", "cg-disabled", ACI_API, &good())
            .await
            .err()
            .as_deref(),
        Some("KeyVaultKeyNotUsable")
    );
    set_key_enabled(&env, &cmk, true).await;
    // The ACI principal without the policy.
    access_policy(&env, &cmk, "remove", &sp).await;
    assert_eq!(
        deploy(&env, "rg-rules", "cg-no-access", ACI_API, &good())
            .await
            .err()
            .as_deref(),
        Some("KeyVaultAccessDenied")
    );
    // Body validation, before any rule.
    let mut no_containers = good();
    no_containers["properties"]["containers"] = json!([]);
    assert_eq!(
        deploy(&env, "rg-rules", "cg-empty", ACI_API, &no_containers)
            .await
            .err()
            .as_deref(),
        Some("MissingContainers")
    );
    let mut both = good();
    both["properties"]["containers"][0]["properties"]["environmentVariables"] =
        json!([{"name": "X", "value": "a", "secureValue": "b"}]);
    assert_eq!(
        deploy(&env, "rg-rules", "cg-both", ACI_API, &both)
            .await
            .err()
            .as_deref(),
        Some("InvalidEnvironmentVariable")
    );
    assert_eq!(
        deploy(&env, "rg-rules", "Bad_Name", ACI_API, &good())
            .await
            .err()
            .as_deref(),
        Some("InvalidContainerGroupName")
    );
}

#[tokio::test]
async fn a_fresh_tenant_has_no_aci_principal_and_groups_without_cmk_use_a_service_key() {
    let env = Env::start().await;
    let oid = env.deployer_oid().await;
    let cmk = vault_with_key(&env, "rg-fresh", "fresh-vault", Some(&oid)).await;
    assert_eq!(
        deploy(
            &env,
            "rg-fresh",
            "cg-fresh",
            ACI_API,
            &group_body(&env, &cmk, None)
        )
        .await
        .err()
        .as_deref(),
        Some("AciServicePrincipalNotFound")
    );
    let mut plain = group_body(&env, &cmk, None);
    plain["properties"]
        .as_object_mut()
        .map(|p| p.remove("encryptionProperties"));
    let group = deploy(&env, "rg-fresh", "cg-plain", "2021-10-01", &plain)
        .await
        .expect("no CMK needed");
    assert!(group["properties"].get("encryptionProperties").is_none());
    let content = logs(&env, &cmk, "cg-plain").await.expect("logs");
    assert!(content.contains("started from image"));
    let dump = env.admin(Method::GET, "/dump", None).await.body.to_string();
    assert!(!dump.contains(PLAIN) && !dump.contains(SECURE));
}

#[tokio::test]
async fn the_state_dir_holds_only_ciphertext() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-aci-state-{}", uuid::Uuid::new_v4()));
    let env = Env::start_with(EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-disk", "disk-vault", Some(&sp)).await;
    deploy(
        &env,
        "rg-disk",
        "cg-disk",
        ACI_API,
        &group_body(&env, &cmk, None),
    )
    .await
    .expect("succeeds");
    assert!(logs(&env, &cmk, "cg-disk").await.is_ok());
    env.emu.shutdown().await;
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir).expect("state dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        scanned += bytes.len();
        for canary in [PLAIN, SECURE, COMMAND, "started from image"] {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{canary} found on disk"
            );
        }
    }
    assert!(scanned > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn with_instant_provisioning_the_put_answers_the_terminal_state() {
    let env = Env::start().await;
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"aci_provisioning_ms": 0})),
    )
    .await
    .expect(200);
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-fast", "fast-vault", Some(&sp)).await;
    let r = env
        .arm(
            Method::PUT,
            &group_path(&env, "rg-fast", "cg-fast"),
            ACI_API,
            Some(&group_body(&env, &cmk, None)),
        )
        .await;
    r.expect(201);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert!(
        r.header("azure-asyncoperation").is_empty(),
        "nothing to poll"
    );
}

/// The long-running-operation protocol, as a container group PUT drives it: ACI's status URL
/// answers `Pending` (with `Retry-After: 1` and the milliseconds left) and ARM's `Location`
/// URL 202 until the emulator's clock reaches the end, then `Succeeded` / 204; a failed
/// provisioning answers `Failed` with the error, and its `Location` the error's status.
#[tokio::test]
async fn long_running_operations_poll_as_arm() {
    let env = Env::start().await;
    let oid = env.deployer_oid().await;
    let cmk = vault_with_key(&env, "rg-lro", "lro-vault", Some(&oid)).await;
    let mut plain = group_body(&env, &cmk, None);
    plain["properties"]
        .as_object_mut()
        .map(|p| p.remove("encryptionProperties"));
    let r = env
        .arm(
            Method::PUT,
            &group_path(&env, "rg-lro", "cg-lro"),
            ACI_API,
            Some(&plain),
        )
        .await;
    r.expect(201);
    let status = r.header("azure-asyncoperation").to_owned();
    let location = r.header("location").to_owned();
    let t = env.arm_token().await;
    let op = env.send(Method::GET, &status, Some(&t), None).await;
    op.expect(200);
    assert_eq!(op.body["status"], "Pending");
    assert_eq!(op.header("retry-after"), "1");
    let left: i64 = op.header("x-ms-retry-after-ms").parse().expect("ms left");
    assert!((1..=150).contains(&left), "{left}");
    let r = env.send(Method::GET, &location, Some(&t), None).await;
    r.expect(202);
    assert_eq!(r.header("retry-after"), "1");
    // Real time does not finish it; the emulator's clock does.
    env.advance(std::time::Duration::from_secs(1));
    let op = env.send(Method::GET, &status, Some(&t), None).await;
    assert_eq!(op.body["status"], "Succeeded");
    assert!(op.body["startTime"].is_string());
    env.send(Method::GET, &location, Some(&t), None)
        .await
        .expect(204);

    // No ACI principal in a fresh tenant: the provisioning fails, and the operation says why.
    let r = env
        .arm(
            Method::PUT,
            &group_path(&env, "rg-lro", "cg-failed"),
            ACI_API,
            Some(&group_body(&env, &cmk, None)),
        )
        .await;
    r.expect(201);
    let status = r.header("azure-asyncoperation").to_owned();
    let location = r.header("location").to_owned();
    env.advance(std::time::Duration::from_secs(1));
    let op = env.send(Method::GET, &status, Some(&t), None).await;
    assert_eq!(op.body["status"], "Failed");
    assert_eq!(op.body["error"]["code"], "AciServicePrincipalNotFound");
    let r = env.send(Method::GET, &location, Some(&t), None).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(r.code(), "AciServicePrincipalNotFound");
    let missing = format!(
        "{}/subscriptions/{}/providers/Microsoft.Resources/operationStatuses/nope?api-version=2021-04-01",
        env.info.arm_endpoint,
        env.sub()
    );
    env.send(Method::GET, &missing, Some(&t), None)
        .await
        .expect_err(404, "OperationNotFound");
}

/// Reads are served from the unwrapped data key while nothing that could revoke it changed;
/// each revocation still makes the next read fail at once.
#[tokio::test]
async fn every_revocation_ends_reads_at_once_even_after_warm_reads() {
    let env = Env::start().await;
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-rev", "rev-vault", Some(&sp)).await;
    deploy(
        &env,
        "rg-rev",
        "cg-rev",
        ACI_API,
        &group_body(&env, &cmk, None),
    )
    .await
    .expect("succeeds");
    let warm = async || {
        for _ in 0..3 {
            logs(&env, &cmk, "cg-rev").await.expect("readable");
        }
    };
    // The access policy of the ACI principal.
    warm().await;
    access_policy(&env, &cmk, "remove", &sp).await;
    assert!(logs(&env, &cmk, "cg-rev").await.is_err(), "policy removed");
    access_policy(&env, &cmk, "add", &sp).await;
    // The key version disabled.
    warm().await;
    set_key_enabled(&env, &cmk, false).await;
    assert!(logs(&env, &cmk, "cg-rev").await.is_err(), "key disabled");
    set_key_enabled(&env, &cmk, true).await;
    // The firewall closed to everyone, trusted services too.
    warm().await;
    let vault = env.vault_path(&cmk.rg, &cmk.vault);
    env.arm(
        Method::PATCH,
        &vault,
        KV_API,
        Some(&json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}})),
    )
    .await
    .expect(200);
    assert!(logs(&env, &cmk, "cg-rev").await.is_err(), "firewall closed");
    env.arm(
        Method::PATCH,
        &vault,
        KV_API,
        Some(&json!({"properties": {"networkAcls": {"defaultAction": "Allow", "bypass": "AzureServices"}}})),
    )
    .await
    .expect(200);
    // The key version expiring on the clock.
    let t = env.kv_token().await;
    let tomorrow = env.emu.admin().now().unix_timestamp() + 86_400;
    env.kv(
        &t,
        Method::PATCH,
        &cmk.vault,
        &format!("/keys/cmk/{}", cmk.version),
        Some(&json!({"attributes": {"exp": tomorrow}})),
    )
    .await
    .expect(200);
    warm().await;
    env.advance(std::time::Duration::from_secs(2 * 86_400));
    assert!(logs(&env, &cmk, "cg-rev").await.is_err(), "key expired");
}
