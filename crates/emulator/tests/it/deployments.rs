//! Template deployments: `Microsoft.Resources/deployments` over HTTPS (deploy, validate,
//! failures nested as ARM nests them, operations, delete, JSON with comments, refusals, secure
//! parameters, container groups with a customer-managed key). The engine itself is tested in
//! `aci_cmk_arm_template`.

use reqwest::Method;
use serde_json::{Value, json};

use aci_cmk_emulator::{EmulatorOptions, TimingProfile};

use crate::common::{Env, KV_API, Resp, within_guard};

const DEP_API: &str = "2021-04-01";
const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

// ----- over HTTPS -----

fn dep_path(env: &Env, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}",
        env.sub()
    )
}

/// Sends a raw (not necessarily JSON) body.
async fn put_raw(env: &Env, path: &str, body: &str) -> Resp {
    let t = env.arm_token().await;
    let r = env
        .http
        .put(format!(
            "{}{path}?api-version={DEP_API}",
            env.info.arm_endpoint
        ))
        .bearer_auth(t)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("answered");
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body");
    Resp {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// PUTs a deployment, follows Azure-AsyncOperation to a terminal state and returns the GET.
async fn deploy(env: &Env, rg: &str, name: &str, body: &Value) -> Value {
    let r = env
        .arm(Method::PUT, &dep_path(env, rg, name), DEP_API, Some(body))
        .await;
    finish(env, rg, name, &r).await
}

async fn finish(env: &Env, rg: &str, name: &str, r: &Resp) -> Value {
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(r.header("retry-after"), "1");
    assert!(!r.header("x-ms-retry-after-ms").is_empty());
    assert!(!r.header("location").is_empty());
    let url = r.header("azure-asyncoperation").to_owned();
    let t = env.arm_token().await;
    let mut saw_in_progress = false;
    for _ in 0..200 {
        let op = env.send(Method::GET, &url, Some(&t), None).await;
        match op.body["status"].as_str() {
            Some("InProgress") => {
                saw_in_progress = true;
                env.advance(std::time::Duration::from_millis(50));
            }
            Some(_) => break,
            None => panic!("no status: {}", op.body),
        }
    }
    assert!(saw_in_progress, "the operation is briefly in progress");
    let g = env
        .arm(Method::GET, &dep_path(env, rg, name), DEP_API, None)
        .await;
    g.expect(200);
    g.body
}

fn access_template() -> Value {
    json!({
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {
            "vaultName": {"type": "string"},
            "identityName": {"type": "string", "defaultValue": "[concat('id-', uniqueString(resourceGroup().id))]"},
            "skuName": {"type": "string", "allowedValues": ["standard", "premium"], "defaultValue": "standard"},
            "adminPassword": {"type": "secureString"}
        },
        "variables": {
            "location": "[resourceGroup().location]",
            "identityId": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]",
            "keyPermissions": ["get", "unwrapKey", "wrapKey"]
        },
        "resources": [
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
             "name": "[parameters('identityName')]", "location": "[variables('location')]"},
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2024-11-01",
             "name": "[parameters('vaultName')]", "location": "[variables('location')]",
             "tags": {"note": "[[literal]"},
             "properties": {"tenantId": "[subscription().tenantId]",
                            "sku": {"family": "A", "name": "[parameters('skuName')]"},
                            "accessPolicies": [],
                            "enablePurgeProtection": true}},
            {"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2024-11-01",
             "name": "[concat(parameters('vaultName'), '/add')]",
             "dependsOn": ["[resourceId('Microsoft.KeyVault/vaults', parameters('vaultName'))]",
                           "[variables('identityId')]"],
             "properties": {"accessPolicies": [{
                 "tenantId": "[subscription().tenantId]",
                 "objectId": "[reference(variables('identityId'), '2023-01-31').principalId]",
                 "permissions": {"keys": "[variables('keyPermissions')]"}}]}}
        ],
        "outputs": {
            "vaultUri": {"type": "string", "value": "[reference(parameters('vaultName')).vaultUri]"},
            "principalId": {"type": "string", "value": "[reference(variables('identityId'), '2023-01-31').principalId]"},
            "password": {"type": "secureString", "value": "[parameters('adminPassword')]"}
        }
    })
}

#[tokio::test]
async fn deploys_identity_vault_and_access_policy_with_operations() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    let secret = "Sup3r-secret-canary-81f2";
    let body = json!({"properties": {"mode": "Incremental", "template": access_template(),
        "parameters": {"vaultName": {"value": "kvdep1"}, "adminPassword": {"value": secret}}}});
    let d = deploy(&env, "rg1", "dep1", &body).await;
    let p = &d["properties"];
    assert_eq!(p["provisioningState"], "Succeeded", "{d}");
    assert_eq!(d["type"], "Microsoft.Resources/deployments");
    assert_eq!(p["mode"], "Incremental");
    assert!(p["duration"].as_str().is_some_and(|s| s.starts_with("PT")));
    assert!(p["correlationId"].is_string());
    assert!(p["templateHash"].is_string());
    assert_eq!(p["outputResources"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        p["parameters"]["skuName"],
        json!({"type": "String", "value": "standard"})
    );
    assert_eq!(
        p["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    assert_eq!(p["outputs"]["password"], json!({"type": "SecureString"}));
    assert_eq!(
        p["outputs"]["vaultUri"]["value"],
        json!(format!("{}/", env.vault_url("kvdep1")))
    );
    assert!(
        p["providers"].as_array().is_some_and(|a| a.len() == 2),
        "{}",
        p["providers"]
    );
    assert_eq!(
        p["dependencies"][0]["dependsOn"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(!d.to_string().contains(secret));

    // The resources exist, made by the same code as direct PUTs.
    let principal = p["outputs"]["principalId"]["value"]
        .as_str()
        .expect("principal");
    let v = env
        .arm(Method::GET, &env.vault_path("rg1", "kvdep1"), KV_API, None)
        .await;
    v.expect(200);
    assert_eq!(v.body["tags"]["note"], "[literal]");
    let policies = v.body["properties"]["accessPolicies"]
        .as_array()
        .expect("policies");
    assert!(
        policies.iter().any(|x| x["objectId"] == principal),
        "{}",
        v.body
    );

    // Operations, with and without the providers segment.
    let ops = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourcegroups/rg1/deployments/dep1/operations",
                env.sub()
            ),
            DEP_API,
            None,
        )
        .await;
    ops.expect(200);
    let items = ops.body["value"].as_array().expect("ops");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|o| o["properties"]["provisioningState"] == "Succeeded")
    );
    assert_eq!(items[0]["properties"]["provisioningOperation"], "Create");
    assert_eq!(
        items[0]["properties"]["targetResource"]["resourceType"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    let op_id = items[2]["operationId"].as_str().expect("id");
    let one = env
        .arm(
            Method::GET,
            &format!("{}/operations/{op_id}", dep_path(&env, "rg1", "dep1")),
            DEP_API,
            None,
        )
        .await;
    one.expect(200);
    assert_eq!(
        one.body["properties"]["targetResource"]["resourceName"],
        "kvdep1/add"
    );

    // HEAD, list with $filter and $top, cancel of a finished deployment.
    env.arm(Method::HEAD, &dep_path(&env, "rg1", "dep1"), DEP_API, None)
        .await
        .expect(204);
    env.arm(Method::HEAD, &dep_path(&env, "rg1", "nope"), DEP_API, None)
        .await
        .expect(404);
    let list_path = format!(
        "/subscriptions/{}/resourcegroups/rg1/providers/Microsoft.Resources/deployments/",
        env.sub()
    );
    let l = env
        .arm(
            Method::GET,
            &format!("{list_path}?$filter=provisioningState eq 'Succeeded'&$top=5"),
            DEP_API,
            None,
        )
        .await;
    assert_eq!(
        l.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        l.body
    );
    let l = env
        .arm(
            Method::GET,
            &format!("{list_path}?$filter=provisioningState eq 'Failed'"),
            DEP_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(0));
    env.arm(
        Method::POST,
        &format!("{}/cancel", dep_path(&env, "rg1", "dep1")),
        DEP_API,
        None,
    )
    .await
    .expect_err(409, "DeploymentCannotBeCanceled");

    // Secure values are in no dump.
    let dump = env.admin(Method::GET, "/dump", None).await;
    assert!(dump.body["deployments"].is_object(), "{}", dump.body);
    assert!(!dump.body.to_string().contains(secret));

    // 2025-04-01 and re-deploying the same template (idempotent, 200 this time).
    let r = env
        .arm(
            Method::PUT,
            &dep_path(&env, "rg1", "dep1"),
            "2025-04-01",
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    env.arm(
        Method::GET,
        &dep_path(&env, "rg1", "dep1"),
        "2099-01-01",
        None,
    )
    .await
    .expect_err(400, "InvalidApiVersionParameter");
}

#[tokio::test]
async fn validate_good_and_bad_templates_without_creating_anything() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    let path = format!("{}/validate", dep_path(&env, "rg1", "v1"));
    let good = json!({"properties": {"mode": "Incremental", "template": access_template(),
        "parameters": {"vaultName": {"value": "kvval1"}, "adminPassword": {"value": "x"}}}});
    let r = env.arm(Method::POST, &path, DEP_API, Some(&good)).await;
    r.expect(200);
    assert_eq!(
        r.body["properties"]["validatedResources"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    env.arm(Method::GET, &env.vault_path("rg1", "kvval1"), KV_API, None)
        .await
        .expect(404);
    env.arm(Method::GET, &dep_path(&env, "rg1", "v1"), DEP_API, None)
        .await
        .expect_err(404, "DeploymentNotFound");

    // Missing parameter, value outside allowedValues: 400 InvalidTemplate naming it.
    let missing = json!({"properties": {"mode": "Incremental", "template": access_template(),
        "parameters": {"adminPassword": {"value": "x"}}}});
    let r = env.arm(Method::POST, &path, DEP_API, Some(&missing)).await;
    r.expect_err(400, "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'vaultName'")),
        "{}",
        r.body
    );
    let bad_sku = json!({"properties": {"mode": "Incremental", "template": access_template(),
        "parameters": {"vaultName": {"value": "kv"}, "adminPassword": {"value": "x"}, "skuName": {"value": "gold"}}}});
    let r = env.arm(Method::POST, &path, DEP_API, Some(&bad_sku)).await;
    r.expect_err(400, "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'skuName'")),
        "{}",
        r.body
    );
    // An expression error names the resource, the property and the position.
    let mut t = access_template();
    t["resources"][1]["properties"]["tenantId"] = json!("[subscription().tenant]");
    let r = env
        .arm(
            Method::POST,
            &path,
            DEP_API,
            Some(&json!({"properties": {"mode": "Incremental", "template": t,
            "parameters": {"vaultName": {"value": "kv"}, "adminPassword": {"value": "x"}}}})),
        )
        .await;
    r.expect_err(400, "InvalidTemplate");
    let m = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("resources[1]")
            && m.contains("properties.tenantId")
            && m.contains("position 16"),
        "{m}"
    );
    // An unknown resource type.
    let t = json!({"resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "sa", "location": "westeurope"}]});
    let r = env
        .arm(
            Method::POST,
            &path,
            DEP_API,
            Some(&json!({"properties": {"mode": "Incremental", "template": t}})),
        )
        .await;
    r.expect_err(400, "InvalidTemplateDeployment");
    assert_eq!(
        r.body["error"]["details"][0]["code"],
        "NoRegisteredProviderFound"
    );
}

#[tokio::test]
async fn a_failed_resource_fails_the_deployment_with_nested_errors() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    let t = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "okid", "location": "[resourceGroup().location]"},
        {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2024-11-01", "name": "kvfail1",
         "location": "[resourceGroup().location]",
         "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                        "accessPolicies": [], "enablePurgeProtection": false}},
        {"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2024-11-01", "name": "kvfail1/add",
         "dependsOn": ["kvfail1"], "properties": {"accessPolicies": []}}
    ]});
    let d = deploy(
        &env,
        "rg1",
        "bad",
        &json!({"properties": {"mode": "Incremental", "template": t}}),
    )
    .await;
    let p = &d["properties"];
    assert_eq!(p["provisioningState"], "Failed", "{d}");
    assert_eq!(p["error"]["code"], "DeploymentFailed");
    assert_eq!(
        p["error"]["message"],
        "At least one resource deployment operation failed. Please list deployment operations for details."
    );
    assert_eq!(p["error"]["details"][0]["code"], "BadRequest");
    assert!(
        p["error"]["details"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("enablePurgeProtection")),
        "{d}"
    );
    assert!(p.get("outputs").is_none());
    // The operations: the identity succeeded, the vault failed with the provider's error,
    // the dependent access policy was not attempted.
    let ops = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/rg1/deployments/bad/operations",
                env.sub()
            ),
            DEP_API,
            None,
        )
        .await;
    let items = ops.body["value"].as_array().expect("ops");
    assert_eq!(items.len(), 2, "{}", ops.body);
    let failed = &items[1]["properties"];
    assert_eq!(failed["provisioningState"], "Failed");
    assert_eq!(failed["statusCode"], "BadRequest");
    assert_eq!(failed["statusMessage"]["status"], "Failed");
    assert_eq!(failed["statusMessage"]["error"]["code"], "BadRequest");
    assert_eq!(failed["targetResource"]["resourceName"], "kvfail1");

    // An unknown type fails the deployment clearly.
    let t = json!({"resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "sa", "location": "westeurope"}]});
    let d = deploy(
        &env,
        "rg1",
        "unknown",
        &json!({"properties": {"mode": "Incremental", "template": t}}),
    )
    .await;
    assert_eq!(d["properties"]["provisioningState"], "Failed");
    assert_eq!(
        d["properties"]["error"]["details"][0]["code"],
        "NoRegisteredProviderFound"
    );
    // The failed deployment's LRO reports the deployment error.
    let l = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}/resourcegroups/rg1/providers/Microsoft.Resources/deployments?$filter=provisioningState eq 'Failed'", env.sub()),
            DEP_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn delete_refusals_and_lenient_bodies() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    // JSON with comments, a bare key and trailing commas, as the Azure CLI sends it.
    let raw = r#"{
      // the deployment
      properties: {
        "mode": "Incremental", /* only mode */
        "template": {
          "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "contentVersion": "1.0.0.0",
          "parameters": {"n": {"type": "int", "defaultValue": 2,},},
          "resources": [
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
             "name": "[concat('id', copyIndex())]", "location": "[resourceGroup().location]",
             "copy": {"name": "ids", "count": "[parameters('n')]"},},
          ],
          "outputs": {"n": {"type": "int", "value": "[parameters('n')]"}},
        },
      },
    }"#;
    let path = dep_path(&env, "rg1", "json5");
    let r = put_raw(&env, &path, raw).await;
    let d = finish(&env, "rg1", "json5", &r).await;
    assert_eq!(d["properties"]["provisioningState"], "Succeeded", "{d}");
    assert_eq!(d["properties"]["outputs"]["n"]["value"], json!(2));
    assert_eq!(
        d["properties"]["outputResources"].as_array().map(Vec::len),
        Some(2)
    );
    // A template given as a string.
    let as_string = json!({"properties": {"mode": "Incremental",
        "template": "{\"resources\": [], \"outputs\": {\"x\": {\"type\": \"string\", \"value\": \"[toUpper('a')]\"}}}"}});
    let d = deploy(&env, "rg1", "str", &as_string).await;
    assert_eq!(d["properties"]["outputs"]["x"]["value"], "A");

    // Complete mode and links are refused clearly.
    let complete = json!({"properties": {"mode": "Complete", "template": {"resources": []}}});
    let r = env.arm(Method::PUT, &path, DEP_API, Some(&complete)).await;
    r.expect_err(400, "DeploymentModeNotSupported");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Incremental"))
    );
    let link = json!({"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}}});
    let r = env.arm(Method::PUT, &path, DEP_API, Some(&link)).await;
    r.expect_err(400, "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not emulated"))
    );
    let plink = json!({"properties": {"mode": "Incremental", "template": {"resources": []}, "parametersLink": {"uri": "https://example.com/p.json"}}});
    env.arm(Method::PUT, &path, DEP_API, Some(&plink))
        .await
        .expect_err(400, "InvalidTemplate");
    env.arm(
        Method::PUT,
        &path,
        DEP_API,
        Some(&json!({"properties": {"template": {"resources": []}}})),
    )
    .await
    .expect_err(400, "InvalidRequestContent");
    env.arm(
        Method::PUT,
        &dep_path(&env, "nogroup", "d"),
        DEP_API,
        Some(&complete),
    )
    .await
    .expect_err(404, "ResourceGroupNotFound");

    // Delete: 202 + Location, then 204; the record is gone, the resources stay.
    let r = env.arm(Method::DELETE, &path, DEP_API, None).await;
    r.expect(202);
    let loc = r.header("location").to_owned();
    let t = env.arm_token().await;
    let mut last = 0;
    for _ in 0..100 {
        last = env
            .send(Method::GET, &loc, Some(&t), None)
            .await
            .status
            .as_u16();
        if last != 202 {
            break;
        }
        env.advance(std::time::Duration::from_millis(50));
    }
    assert_eq!(last, 204);
    env.arm(Method::GET, &path, DEP_API, None)
        .await
        .expect_err(404, "DeploymentNotFound");
    env.arm(
        Method::GET,
        &format!("/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id0", env.sub()),
        crate::common::MI_API,
        None,
    )
    .await
    .expect(200);
    env.arm(Method::DELETE, &path, DEP_API, None)
        .await
        .expect(204);

    // Deleting the group deletes its deployments.
    env.arm(
        Method::DELETE,
        &env.rg_path("rg1"),
        crate::common::RG_API,
        None,
    )
    .await
    .expect(202);
    let dump = env.admin(Method::GET, "/dump", None).await;
    assert_eq!(dump.body["deployments"], json!({}));
}

// ----- container groups with a customer-managed key -----

const ACI_APP: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";

/// A vault (deployer: all keys permissions) with an RSA key: returns the key version.
async fn vault_with_key(env: &Env, rg: &str, vault: &str) -> String {
    let oid = env.deployer_oid().await;
    env.create_vault(
        rg,
        vault,
        json!({"accessPolicies": [env.policy(&oid, &["all"])], "enablePurgeProtection": true}),
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
    r.body["key"]["kid"]
        .as_str()
        .and_then(|k| k.rsplit('/').next())
        .expect("kid")
        .to_owned()
}

fn cmk_template(grant: bool) -> Value {
    let mut resources = vec![
        json!({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
               "name": "[parameters('identityName')]", "location": "[resourceGroup().location]"}),
    ];
    if grant {
        resources.push(
            json!({"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2024-11-01",
            "name": "[concat(parameters('vaultName'), '/add')]",
            "dependsOn": ["[variables('identityId')]"],
            "properties": {"accessPolicies": [{"tenantId": "[subscription().tenantId]",
                "objectId": "[reference(variables('identityId'), '2023-01-31').principalId]",
                "permissions": {"keys": ["get", "unwrapKey"]}}]}}),
        );
    }
    let mut depends = vec![json!("[variables('identityId')]")];
    if grant {
        depends.push(json!("[resourceId('Microsoft.KeyVault/vaults/accessPolicies', parameters('vaultName'), 'add')]"));
    }
    resources.push(json!({"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
        "name": "[parameters('groupName')]", "location": "[resourceGroup().location]",
        "dependsOn": depends,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {"[variables('identityId')]": {}}},
        "properties": {
            "sku": "Standard", "osType": "Linux", "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}},
                "environmentVariables": [{"name": "SECRET", "secureValue": "[parameters('secret')]"}]}}],
            "encryptionProperties": {
                "vaultBaseUrl": "[parameters('vaultUrl')]",
                "keyName": "cmk",
                "keyVersion": "[parameters('keyVersion')]",
                "identity": "[variables('identityId')]"}}}));
    json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {
            "vaultName": {"type": "string"}, "vaultUrl": {"type": "string"},
            "keyVersion": {"type": "string"}, "groupName": {"type": "string"},
            "identityName": {"type": "string", "defaultValue": "aci-cmk-id"},
            "secret": {"type": "secureString"}},
        "variables": {"identityId": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]"},
        "resources": resources,
        "outputs": {"state": {"type": "string", "value": "[reference(parameters('groupName')).provisioningState]"}}})
}

#[tokio::test]
async fn container_group_with_cmk_is_deployed_through_the_aci_rules() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    // The ACI first-party principal exists (the seed's first step).
    let t = env.graph_token().await;
    env.send(
        Method::POST,
        &format!(
            "{}/v1.0/servicePrincipals",
            env.info.graph_endpoint.trim_end_matches('/')
        ),
        Some(&t),
        Some(&json!({"appId": ACI_APP})),
    )
    .await;
    env.wait_for_replication();
    // The identities the templates create are used in the same run: no replication delay
    // (on Azure a deployment would have to wait for it the same way).
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"replication_delay_ms": 0})),
    )
    .await
    .expect(200);
    let version = vault_with_key(&env, "rg1", "kvaci1").await;
    let params = |group: &str| {
        json!({"vaultName": {"value": "kvaci1"}, "vaultUrl": {"value": env.vault_url("kvaci1")},
               "keyVersion": {"value": version}, "groupName": {"value": group},
               "secret": {"value": "aci-secret-canary-3c1d"}})
    };
    // The identity holds get + unwrapKey: the group is created.
    let d = deploy(
        &env,
        "rg1",
        "cg-ok",
        &json!({"properties": {"mode": "Incremental",
        "template": cmk_template(true), "parameters": params("cg1")}}),
    )
    .await;
    assert_eq!(d["properties"]["provisioningState"], "Succeeded", "{d}");
    assert_eq!(d["properties"]["outputs"]["state"]["value"], "Succeeded");
    assert_eq!(
        d["properties"]["outputResources"].as_array().map(Vec::len),
        Some(3)
    );

    // Without the access policy the ACI rule fails the group, and the deployment with it.
    let d = deploy(
        &env,
        "rg1",
        "cg-denied",
        &json!({"properties": {"mode": "Incremental",
        "template": cmk_template(false), "parameters": {
            "vaultName": {"value": "kvaci1"}, "vaultUrl": {"value": env.vault_url("kvaci1")},
            "keyVersion": {"value": version}, "groupName": {"value": "cg2"},
            "identityName": {"value": "other-id"}, "secret": {"value": "x"}}}}),
    )
    .await;
    let p = &d["properties"];
    assert_eq!(p["provisioningState"], "Failed", "{d}");
    assert_eq!(p["error"]["code"], "DeploymentFailed");
    assert_eq!(
        p["error"]["details"][0]["code"], "KeyVaultAccessDenied",
        "{d}"
    );
    let dump = env.admin(Method::GET, "/dump", None).await;
    assert!(!dump.body.to_string().contains("aci-secret-canary-3c1d"));
}

#[tokio::test]
async fn role_assignment_as_extension_resource() {
    let env = Env::start().await;
    env.create_rg("rg1").await;
    let t = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
    "variables": {"role": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'e147488a-f6f5-4113-8e2d-b22465e65bf6')]",
                  "idId": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'ra-id')]"},
    "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "ra-id", "location": "[resourceGroup().location]"},
        {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2024-11-01", "name": "kvrbac1",
         "location": "[resourceGroup().location]",
         "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                        "enableRbacAuthorization": true}},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
         "name": "[guid(resourceId('Microsoft.KeyVault/vaults', 'kvrbac1'), variables('idId'), variables('role'))]",
         "scope": "[format('Microsoft.KeyVault/vaults/{0}', 'kvrbac1')]",
         "dependsOn": ["[variables('idId')]"],
         "properties": {"roleDefinitionId": "[variables('role')]",
                        "principalId": "[reference(variables('idId'), '2023-01-31').principalId]",
                        "principalType": "ServicePrincipal"}}
    ]});
    let d = deploy(
        &env,
        "rg1",
        "rbac",
        &json!({"properties": {"mode": "Incremental", "template": t}}),
    )
    .await;
    assert_eq!(d["properties"]["provisioningState"], "Succeeded", "{d}");
    let ids: Vec<&str> = d["properties"]["outputResources"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        ids.iter()
            .any(|i| i
                .contains("/vaults/kvrbac1/providers/Microsoft.Authorization/roleAssignments/")),
        "{ids:?}"
    );
}

/// `utcNow()` is the deployment's time on the emulator's clock, not the wall clock.
#[tokio::test]
async fn utc_now_follows_the_emulators_clock() {
    let env = Env::start().await;
    env.create_rg("rg-now").await;
    env.advance(std::time::Duration::from_secs(400 * 86_400));
    let expected = env
        .emu
        .admin()
        .now()
        .format(time::macros::format_description!("[year][month][day]"))
        .expect("date");
    let body = json!({"properties": {"mode": "Incremental", "template": {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"at": {"type": "string", "defaultValue": "[utcNow()]"}},
        "resources": [],
        "outputs": {"at": {"type": "string", "value": "[parameters('at')]"}}
    }}});
    let d = deploy(&env, "rg-now", "now", &body).await;
    let at = d["properties"]["outputs"]["at"]["value"]
        .as_str()
        .expect("output");
    assert!(at.starts_with(&expected), "{at} is not on {expected}");
}

// ----- a deployment runs in the background -----

/// A template of `n` plain container groups, deployed one after another.
fn groups_template(n: usize) -> Value {
    let resources: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
                "name": format!("cg{i}"), "location": "[resourceGroup().location]",
                "properties": {"osType": "Linux", "restartPolicy": "Never",
                    "containers": [{"name": "app", "properties": {
                        "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}}}]}})
        })
        .collect();
    json!({"properties": {"mode": "Incremental", "template": {
        "$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources}}})
}

/// Each container group stays `Pending` for an hour of the emulator's clock, so a deployment of
/// groups runs until the test moves the clock.
async fn slow_provisioning(env: &Env) {
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"aci_provisioning_ms": 3_600_000})),
    )
    .await
    .expect(200);
}

/// An emulator under the instant timing profile, for the tests that wait on a deployment run
/// in the background: each change it makes is a write, and its terminal state shows at once
/// (under a settle time it would show later with no write in between, and a wait on writes
/// would not be woken).
fn instant() -> EmulatorOptions {
    EmulatorOptions {
        timing: TimingProfile::Instant,
        ..Default::default()
    }
}

/// Sends `probe` now and again after each write to the emulator's state (the run goes on in
/// the background) until `done` holds for its answer; panics after the hang guard.
async fn probe_until<T, F: std::future::Future<Output = T>>(
    env: &Env,
    what: &str,
    mut probe: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let mut writes = env.emu.admin().watch_writes();
    within_guard(what, async {
        loop {
            // Marked seen before the probe, so a write during it wakes the wait below.
            writes.borrow_and_update();
            let answer = probe().await;
            if done(&answer) {
                return answer;
            }
            writes.changed().await.expect("the emulator runs");
        }
    })
    .await
}

/// The deployment as its GET shows it, once `done` holds (checked after each write).
async fn wait_for(env: &Env, rg: &str, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    let path = dep_path(env, rg, name);
    let get = || env.arm(Method::GET, &path, DEP_API, None);
    probe_until(env, "the deployment's expected state", get, |g| {
        done(&g.body)
    })
    .await
    .body
}

fn state(d: &Value) -> &str {
    d["properties"]["provisioningState"].as_str().unwrap_or("")
}

fn groups_created(d: &Value) -> usize {
    d["properties"]["outputResources"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn a_deployment_goes_on_after_its_client_hangs_up_and_a_cancel_stops_it() {
    let env = Env::start_with(instant()).await;
    env.create_rg("rg1").await;
    slow_provisioning(&env).await;
    // A client that hangs up once the PUT is answered: at once, as ARM answers it, while the run
    // has hardly begun (its first group waits an hour of the emulator's clock).
    let impatient = crate::common::client(env.emu.ca_cert_pem());
    let t = env.arm_token().await;
    let url = format!(
        "{}{}?api-version={DEP_API}",
        env.info.arm_endpoint,
        dep_path(&env, "rg1", "six")
    );
    let r = impatient
        .put(&url)
        .bearer_auth(&t)
        .json(&groups_template(6))
        .send()
        .await
        .expect("the PUT is answered");
    assert_eq!(r.status(), 201);
    drop(r);
    drop(impatient);
    // The run goes on: the first group is created and waits on the clock.
    let cg0 = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ContainerInstance/containerGroups/cg0",
        env.sub()
    );
    probe_until(
        &env,
        "the first group",
        || env.arm(Method::GET, &cg0, "2023-05-01", None),
        |g| g.status == 200,
    )
    .await;
    let d = env
        .arm(Method::GET, &dep_path(&env, "rg1", "six"), DEP_API, None)
        .await;
    assert_eq!(state(&d.body), "Running", "{}", d.body);
    // Deleting a running deployment is refused; a cancel is taken.
    env.arm(Method::DELETE, &dep_path(&env, "rg1", "six"), DEP_API, None)
        .await
        .expect_err(409, "DeploymentActive");
    env.arm(
        Method::POST,
        &format!("{}/cancel", dep_path(&env, "rg1", "six")),
        DEP_API,
        None,
    )
    .await
    .expect(204);
    // The group being created finishes; the run stops before the next one.
    env.advance(std::time::Duration::from_secs(3601));
    let d = wait_for(&env, "rg1", "six", |d| state(d) != "Running").await;
    assert_eq!(state(&d), "Canceled", "{d}");
    assert_eq!(groups_created(&d), 1, "{d}");
    let cg1 = cg0.replace("/cg0", "/cg1");
    env.arm(Method::GET, &cg1, "2023-05-01", None)
        .await
        .expect(404);
    // A canceled deployment can be deployed again, and runs to the end.
    env.admin(Method::PUT, "/faults", Some(&json!({})))
        .await
        .expect(200);
    env.arm(
        Method::PUT,
        &dep_path(&env, "rg1", "six"),
        DEP_API,
        Some(&groups_template(6)),
    )
    .await
    .expect(200);
    let d = wait_for(&env, "rg1", "six", |d| state(d) != "Running").await;
    assert_eq!(state(&d), "Succeeded", "{d}");
    assert_eq!(groups_created(&d), 6, "{d}");
}

#[tokio::test]
async fn a_deployment_a_stopped_emulator_left_running_is_failed_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-test-{}", uuid::Uuid::new_v4()));
    let opts = EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..instant()
    };
    {
        let env = Env::start_with(opts.clone()).await;
        env.create_rg("rg1").await;
        slow_provisioning(&env).await;
        env.arm(
            Method::PUT,
            &dep_path(&env, "rg1", "cut"),
            DEP_API,
            Some(&groups_template(2)),
        )
        .await
        .expect(201);
        let d = env
            .arm(Method::GET, &dep_path(&env, "rg1", "cut"), DEP_API, None)
            .await;
        assert_eq!(state(&d.body), "Running");
        env.emu.shutdown().await;
    }
    let env = Env::start_with(opts).await;
    let d = env
        .arm(Method::GET, &dep_path(&env, "rg1", "cut"), DEP_API, None)
        .await;
    assert_eq!(state(&d.body), "Failed", "{}", d.body);
    assert_eq!(
        d.body["properties"]["error"]["details"][0]["code"],
        "DeploymentInterrupted"
    );
    // Neither re-deploying nor deleting is blocked by the interrupted run.
    env.arm(
        Method::PUT,
        &dep_path(&env, "rg1", "cut"),
        DEP_API,
        Some(&groups_template(0)),
    )
    .await
    .expect(200);
    wait_for(&env, "rg1", "cut", |d| state(d) == "Succeeded").await;
    env.arm(Method::DELETE, &dep_path(&env, "rg1", "cut"), DEP_API, None)
        .await
        .expect(202);
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- secure parameters never leave the request -----

/// Every file under `dir`, as bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("state dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}

#[tokio::test]
async fn a_secure_parameter_converted_into_a_property_is_never_echoed_or_stored() {
    const SECRET: &str = "TOPSECRET-123";
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-test-{}", uuid::Uuid::new_v4()));
    let env = Env::start_with(EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..instant()
    })
    .await;
    env.create_rg("rg1").await;
    let mut answers = Vec::new();
    for (name, expression, output) in [
        ("as-int", "[int(parameters('sec'))]", false),
        ("as-bool", "[bool(parameters('sec'))]", false),
        ("as-int-output", "[int(parameters('sec'))]", true),
    ] {
        let group = json!({"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
            "name": format!("cg-{name}"), "location": "[resourceGroup().location]",
            "properties": {"osType": "Linux", "restartPolicy": "Never",
                "containers": [{"name": "app", "properties": {
                    "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                    "resources": {"requests": {"cpu": expression, "memoryInGB": 1.5}}}}]}});
        let mut template = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {"sec": {"type": "secureString"}},
            "resources": if output { json!([]) } else { json!([group]) }});
        if output {
            template["outputs"] = json!({"n": {"type": "int", "value": expression}});
        }
        let body = json!({"properties": {"mode": "Incremental", "template": template,
            "parameters": {"sec": {"value": SECRET}}}});
        let r = env
            .arm(
                Method::PUT,
                &dep_path(&env, "rg1", name),
                DEP_API,
                Some(&body),
            )
            .await;
        answers.push(r.body.to_string());
        if r.status == 201 {
            let d = wait_for(&env, "rg1", name, |d| state(d) != "Running").await;
            assert_eq!(state(&d), "Failed", "{name}: {d}");
            let message = d.to_string();
            assert!(
                message.contains("sec"),
                "{name}: the error names the parameter: {d}"
            );
            answers.push(message);
            let ops = env
                .arm(
                    Method::GET,
                    &format!("{}/operations", dep_path(&env, "rg1", name)),
                    DEP_API,
                    None,
                )
                .await;
            answers.push(ops.body.to_string());
        }
    }
    for a in &answers {
        assert!(
            !a.contains(SECRET),
            "a response quotes the secure value: {a}"
        );
    }
    let dump = env.emu.admin().dump().to_string();
    assert!(!dump.contains(SECRET), "the dump holds the secure value");
    env.emu.shutdown().await;
    for (path, bytes) in files_under(&dir) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(SECRET),
            "{} holds the secure value",
            path.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- what-if -----

#[tokio::test]
async fn what_if_reports_create_modify_no_change_and_ignore_without_changing_anything() {
    const SECRET: &str = "whatif-secret-5e1f";
    let env = Env::start().await;
    env.create_rg("rg1").await;
    env.create_vault("rg1", "kvwi1", json!({}))
        .await
        .expect(200);
    let mi = |name: &str| {
        format!(
            "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            env.sub()
        )
    };
    for name in ["same-id", "other-id"] {
        env.arm(
            Method::PUT,
            &mi(name),
            "2023-01-31",
            Some(&json!({"location": "westeurope", "tags": {"team": "a"}})),
        )
        .await
        .expect(201);
    }
    let template = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
    "parameters": {"secret": {"type": "secureString"}},
    "resources": [
        {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2024-11-01", "name": "kvwi1",
         "location": "West Europe",
         "properties": {"tenantId": "[subscription().tenantId]",
                        "sku": {"family": "A", "name": "premium"}, "accessPolicies": []}},
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "same-id", "location": "westeurope", "tags": {"team": "a"}},
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "new-id", "location": "westeurope"},
        {"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
         "name": "cg-new", "location": "westeurope",
         "properties": {"osType": "Linux", "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}},
                "environmentVariables": [{"name": "S", "secureValue": "[parameters('secret')]"}]}}]}}
    ]});
    let before = env.emu.admin().dump();
    let r = env
        .arm(
            Method::POST,
            &format!("{}/whatIf", dep_path(&env, "rg1", "wi")),
            DEP_API,
            Some(
                &json!({"properties": {"mode": "Incremental", "template": template,
                "parameters": {"secret": {"value": SECRET}}}}),
            ),
        )
        .await;
    r.expect(202);
    assert_eq!(r.header("retry-after"), "1");
    let location = r.header("location").to_owned();
    let t = env.arm_token().await;
    let mut result = Value::Null;
    for _ in 0..200 {
        let p = env.send(Method::GET, &location, Some(&t), None).await;
        if p.status == 200 {
            result = p.body;
            break;
        }
        assert_eq!(p.status, 202, "{}", p.body);
        env.advance(std::time::Duration::from_millis(100));
    }
    assert_eq!(result["status"], "Succeeded", "{result}");
    let changes = result["properties"]["changes"].as_array().expect("changes");
    let kind = |suffix: &str| {
        changes
            .iter()
            .find(|c| {
                c["resourceId"]
                    .as_str()
                    .is_some_and(|id| id.to_ascii_lowercase().ends_with(suffix))
            })
            .map(|c| c["changeType"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    assert_eq!(kind("/vaults/kvwi1"), "Modify", "{result}");
    assert_eq!(
        kind(
            "/useridentities/same-id"
                .replace("useridentities", "userassignedidentities")
                .as_str()
        ),
        "NoChange",
        "{result}"
    );
    assert_eq!(kind("/userassignedidentities/new-id"), "Create", "{result}");
    assert_eq!(
        kind("/userassignedidentities/other-id"),
        "Ignore",
        "{result}"
    );
    assert_eq!(kind("/containergroups/cg-new"), "Create", "{result}");
    let vault = changes
        .iter()
        .find(|c| c["changeType"] == "Modify")
        .expect("modify");
    assert_eq!(
        vault["delta"],
        json!([{"path": "properties.sku.name", "propertyChangeType": "Modify", "before": "standard", "after": "premium"}]),
        "{vault}"
    );
    assert!(
        !result.to_string().contains(SECRET),
        "the preview shows the secure value"
    );
    // Nothing changed but the operation that holds the result (and the clock the test moved).
    let mut after = env.emu.admin().dump();
    let mut before = before;
    for d in [&mut after, &mut before] {
        if let Some(o) = d.as_object_mut() {
            o.remove("operations");
            o.remove("clock");
        }
    }
    assert_eq!(after, before, "what-if changed the state");
}
