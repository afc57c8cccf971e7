//! Container-group properties the emulator does not act on (volumes and mounts, registry
//! credentials, init containers, subnets, DNS configuration, diagnostics, GPUs, probes,
//! extensions, …) are stored and echoed as sent, checked where Azure checks cheaply, or refused
//! as not emulated; never dropped. Their secrets never appear in an answer, the admin dump or
//! the state files (the log: the `aci_secrets` test binary).

use aci_cmk_emulator::EmulatorOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::aci::{ACI_API, aci_principal, group_path, vault_with_key};
use crate::aci_fixtures::{INIT_PLAIN, PROBE_COMMAND, SECRETS, full_body, subnet};
use crate::common::Env;

/// Every property sent (secrets aside) is in `g`.
#[track_caller]
fn assert_echoed(env: &Env, g: &Value) {
    let p = &g["properties"];
    let c = &p["containers"][0]["properties"];
    assert_eq!(
        c["resources"]["requests"]["gpu"],
        json!({"count": 1, "sku": "V100"})
    );
    assert_eq!(
        c["resources"]["limits"]["gpu"],
        json!({"count": 1, "sku": "V100"})
    );
    assert_eq!(c["volumeMounts"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        c["volumeMounts"][0],
        json!({"name": "files", "mountPath": "/mnt/files", "readOnly": true})
    );
    assert_eq!(
        c["livenessProbe"]["exec"]["command"],
        json!(["/bin/check", PROBE_COMMAND])
    );
    assert_eq!(c["livenessProbe"]["periodSeconds"], 10);
    assert_eq!(
        c["readinessProbe"]["httpGet"],
        json!({"path": "/ready", "port": 80, "scheme": "http"})
    );
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["configMap"]["keyValuePairs"], json!({"mode": "test"}));
    let init = &p["initContainers"][0];
    assert_eq!(init["name"], "init");
    assert_eq!(
        init["properties"]["command"],
        json!(["/bin/sh", "-c", "echo init"])
    );
    assert_eq!(
        init["properties"]["environmentVariables"],
        json!([{"name": "INIT_PLAIN", "value": INIT_PLAIN}, {"name": "INIT_SECRET"}])
    );
    assert_eq!(init["properties"]["volumeMounts"][0]["name"], "scratch");
    assert_eq!(
        p["volumes"],
        json!([
            {"name": "files", "azureFile": {"shareName": "share", "storageAccountName": "acct", "readOnly": true}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "secrets", "secret": {}},
            {"name": "repo", "gitRepo": {"repository": "https://github.com/Azure-Samples/aci-helloworld", "directory": "app", "revision": "abc123"}}
        ])
    );
    assert_eq!(
        p["imageRegistryCredentials"],
        json!([{"server": "myregistry.azurecr.io", "username": "puller"}])
    );
    assert_eq!(p["subnetIds"], json!([{"id": subnet(env), "name": "aci"}]));
    assert_eq!(p["dnsConfig"]["nameServers"], json!(["10.0.0.10"]));
    assert_eq!(p["dnsConfig"]["options"], "ndots:2");
    assert_eq!(
        p["diagnostics"],
        json!({"logAnalytics": {"workspaceId": "ws-id", "logType": "ContainerInstanceLogs"}})
    );
    assert_eq!(
        p["extensions"][0]["properties"]["settings"],
        json!({"clusterCidr": "10.240.0.0/16"})
    );
    assert!(
        p["extensions"][0]["properties"]
            .get("protectedSettings")
            .is_none()
    );
    assert_eq!(
        p["confidentialComputeProperties"]["ccePolicy"],
        "eyJhbGxvd19hbGwiOnRydWV9"
    );
    assert_eq!(p["priority"], "Regular");
    assert_eq!(p["identityAcls"], json!({"defaultAccess": "All"}));
    let text = g.to_string();
    for s in SECRETS {
        assert!(!text.contains(s), "the answer holds {s}: {text}");
    }
}

#[tokio::test]
async fn unmodelled_properties_are_stored_and_echoed_and_their_secrets_never_shown() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-aci-settings-{}", uuid::Uuid::new_v4()));
    let env = Env::start_with(EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    env.create_rg("rg-settings").await;
    let path = group_path(&env, "rg-settings", "cg-settings");
    let put = env
        .arm(Method::PUT, &path, ACI_API, Some(&full_body(&env)))
        .await;
    put.expect(201);
    assert_echoed(&env, &put.body);
    let got = env.arm(Method::GET, &path, ACI_API, None).await;
    got.expect(200);
    assert_echoed(&env, &got.body);
    // A re-PUT of the same body updates it and answers the same.
    let again = env
        .arm(Method::PUT, &path, ACI_API, Some(&full_body(&env)))
        .await;
    again.expect(200);
    assert_echoed(&env, &again.body);

    // With a customer-managed key, the same.
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-settings-cmk", "settings-vault", Some(&sp)).await;
    let mut with_key = full_body(&env);
    with_key["properties"]["encryptionProperties"] = json!({
        "vaultBaseUrl": env.vault_url(&cmk.vault),
        "keyName": "cmk",
        "keyVersion": cmk.version,
    });
    let cmk_path = group_path(&env, "rg-settings-cmk", "cg-settings");
    let put = env
        .arm(Method::PUT, &cmk_path, ACI_API, Some(&with_key))
        .await;
    put.expect(201);
    assert_echoed(&env, &put.body);

    // Lists and the admin dump carry no secret.
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
    let dump = env.admin(Method::GET, "/dump", None).await;
    dump.expect(200);
    let facade_dump = env.emu.admin().dump().to_string();
    for (what, text) in [
        ("list", list.body.to_string()),
        ("dump", dump.body.to_string()),
        ("façade dump", facade_dump),
    ] {
        for s in SECRETS.iter().chain([&INIT_PLAIN, &PROBE_COMMAND]) {
            assert!(!text.contains(s), "the {what} holds {s}");
        }
    }
    env.emu.shutdown().await;

    // The state files hold them sealed only.
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir).expect("state dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        scanned += bytes.len();
        for s in SECRETS.iter().chain([&INIT_PLAIN, &PROBE_COMMAND]) {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} found on disk"
            );
        }
    }
    assert!(scanned > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

type Mutation = fn(&mut Value);

#[tokio::test]
async fn unmodelled_properties_are_checked_as_azure_checks_them() {
    let env = Env::start().await;
    env.create_rg("rg-checks").await;
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "an unevaluated template expression as subnet id",
            |b| {
                b["properties"]["subnetIds"] = json!([{"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'aci')]"}]);
            },
            "LinkedInvalidPropertyId",
        ),
        (
            "a resource id that is no subnet",
            |b| {
                b["properties"]["subnetIds"] = json!([{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"}]);
            },
            "InvalidSubnetId",
        ),
        (
            "a mount of a volume that does not exist",
            |b| {
                b["properties"]["containers"][0]["properties"]["volumeMounts"][0]["name"] =
                    json!("nope")
            },
            "VolumeNotFound",
        ),
        (
            "an init container mounting a volume that does not exist",
            |b| {
                b["properties"]["initContainers"][0]["properties"]["volumeMounts"][0]["name"] =
                    json!("nope")
            },
            "VolumeNotFound",
        ),
        (
            "a volume of no kind",
            |b| b["properties"]["volumes"][1] = json!({"name": "scratch"}),
            "InvalidVolume",
        ),
        (
            "a volume of two kinds",
            |b| {
                b["properties"]["volumes"][1]["gitRepo"] =
                    json!({"repository": "https://example.com/r"})
            },
            "InvalidVolume",
        ),
        (
            "two volumes of one name",
            |b| b["properties"]["volumes"][3]["name"] = json!("scratch"),
            "DuplicateVolumeName",
        ),
        (
            "an Azure Files volume without a share",
            |b| {
                b["properties"]["volumes"][0]["azureFile"]
                    .as_object_mut()
                    .map(|f| f.remove("shareName"));
            },
            "InvalidVolume",
        ),
        (
            "a git repo volume without a repository",
            |b| b["properties"]["volumes"][3]["gitRepo"] = json!({"directory": "x"}),
            "InvalidVolume",
        ),
        (
            "a secret volume value that is not base64",
            |b| b["properties"]["volumes"][2]["secret"] = json!({"token.txt": "not base64 !"}),
            "InvalidVolume",
        ),
        (
            "a mount path with a colon",
            |b| {
                b["properties"]["containers"][0]["properties"]["volumeMounts"][0]["mountPath"] =
                    json!("C:/data")
            },
            "InvalidVolumeMount",
        ),
        (
            "an init container named like a container",
            |b| b["properties"]["initContainers"][0]["name"] = json!("app"),
            "DuplicateContainerName",
        ),
        (
            "a registry credential without a server",
            |b| {
                b["properties"]["imageRegistryCredentials"] =
                    json!([{"username": "u", "password": "p"}])
            },
            "InvalidImageRegistryCredential",
        ),
        (
            "Log Analytics without its key",
            |b| b["properties"]["diagnostics"] = json!({"logAnalytics": {"workspaceId": "w"}}),
            "InvalidDiagnostics",
        ),
        (
            "an unknown priority",
            |b| b["properties"]["priority"] = json!("Low"),
            "InvalidPriority",
        ),
        (
            "a DNS configuration without name servers",
            |b| b["properties"]["dnsConfig"] = json!({"searchDomains": "corp.local"}),
            "InvalidDnsConfig",
        ),
        (
            "a GPU without a sku",
            |b| {
                b["properties"]["containers"][0]["properties"]["resources"]["requests"]["gpu"] =
                    json!({"count": 1})
            },
            "InvalidResourceRequests",
        ),
        (
            "an extension without a version",
            |b| {
                b["properties"]["extensions"] =
                    json!([{"name": "x", "properties": {"extensionType": "x"}}])
            },
            "InvalidExtension",
        ),
        (
            "a probe without a port",
            |b| {
                b["properties"]["containers"][0]["properties"]["readinessProbe"] =
                    json!({"httpGet": {"path": "/"}})
            },
            "InvalidProbe",
        ),
        (
            "a container group profile",
            |b| b["properties"]["containerGroupProfile"] = json!({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroupProfiles/p", "revision": 1}),
            "PropertyNotEmulated",
        ),
        (
            "a standby pool",
            |b| b["properties"]["standbyPoolProfile"] = json!({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.StandbyPool/standbyContainerGroupPools/p"}),
            "PropertyNotEmulated",
        ),
        (
            "Key Vault secret references",
            |b| b["properties"]["secretReferences"] = json!([{"name": "r", "identity": "i", "secretReferenceUri": "https://v.vault.azure.net/secrets/s"}]),
            "PropertyNotEmulated",
        ),
        (
            "a secure value by reference",
            |b| {
                b["properties"]["containers"][0]["properties"]["environmentVariables"] =
                    json!([{"name": "X", "secureValueReference": "r"}])
            },
            "PropertyNotEmulated",
        ),
        (
            "a registry password by reference",
            |b| {
                b["properties"]["imageRegistryCredentials"] =
                    json!([{"server": "r.azurecr.io", "passwordReference": "r"}])
            },
            "PropertyNotEmulated",
        ),
    ];
    for (i, (what, mutate, code)) in cases.into_iter().enumerate() {
        let mut body = full_body(&env);
        mutate(&mut body);
        let r = env
            .arm(
                Method::PUT,
                &group_path(&env, "rg-checks", &format!("cg-check-{i}")),
                ACI_API,
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(r.code(), code, "{what}: {}", r.body);
        let text = r.body.to_string();
        for s in SECRETS {
            assert!(!text.contains(s), "{what}: the error quotes {s}");
        }
    }
    // Nothing was created by a refused request.
    let list = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/rg-checks/providers/Microsoft.ContainerInstance/containerGroups",
                env.sub()
            ),
            ACI_API,
            None,
        )
        .await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(0));
}
