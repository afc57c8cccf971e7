//! Template deployments: the expression engine (parser, functions, errors with positions,
//! cycles) through the `aci_cmk_arm_template` API, and `Microsoft.Resources/deployments` over HTTPS
//! (deploy, validate, failures nested as ARM nests them, operations, delete, JSON with
//! comments, refusals, secure parameters, container groups with a customer-managed key).

use std::collections::BTreeMap;

use aci_cmk_arm_template::eval::{deterministic_guid, unique_string};
use aci_cmk_arm_template::{Engine, Scope, eval_standalone};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::common::{Env, KV_API, Resp};

const DEP_API: &str = "2021-04-01";
const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

// ----- the engine -----

fn scope() -> Scope {
    Scope {
        subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        subscription_name: "sub".to_owned(),
        tenant_id: "tenant-1".to_owned(),
        resource_group: "rg-A".to_owned(),
        location: "westeurope".to_owned(),
        tags: BTreeMap::new(),
        deployment_name: "dep1".to_owned(),
        deployed_at: time::macros::datetime!(2026-12-01 12:00 UTC),
    }
}

fn ev(s: &str) -> Value {
    eval_standalone(s, &scope()).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn ev_err(s: &str) -> (String, Option<usize>) {
    let e = eval_standalone(s, &scope()).expect_err(s);
    (e.message, e.pos)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(o) => o,
        _ => panic!("not an object"),
    }
}

fn prepare(template: Value, params: Value) -> Result<Engine, String> {
    Engine::prepare(&obj(template), &obj(params), scope()).map_err(|e| e.message)
}

#[test]
fn literals_escapes_and_scope_functions() {
    assert_eq!(ev("plain"), json!("plain"));
    assert_eq!(ev("[[not an expression]"), json!("[not an expression]"));
    assert_eq!(ev("['it''s']"), json!("it's"));
    assert_eq!(ev("[42]"), json!(42));
    assert_eq!(ev("[-7]"), json!(-7));
    assert_eq!(ev("[true]"), json!(true));
    assert_eq!(ev("[resourceGroup().location]"), json!("westeurope"));
    assert_eq!(ev("[resourceGroup().name]"), json!("rg-A"));
    assert_eq!(
        ev("[resourceGroup().id]"),
        json!("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-A")
    );
    assert_eq!(
        ev("[subscription().subscriptionId]"),
        json!("00000000-0000-0000-0000-000000000001")
    );
    assert_eq!(ev("[subscription().tenantId]"), json!("tenant-1"));
    assert_eq!(
        ev("[subscription().id]"),
        json!("/subscriptions/00000000-0000-0000-0000-000000000001")
    );
    assert_eq!(ev("[deployment().name]"), json!("dep1"));
    // Property names are matched case-insensitively, as in ARM.
    assert_eq!(ev("[resourceGroup().LOCATION]"), json!("westeurope"));
    assert_eq!(
        ev("[createObject('a', createArray(1, 2, 3)).a[1]]"),
        json!(2)
    );
    assert_eq!(ev("[json('{\"x\": {\"y\": 5}}').x['y']]"), json!(5));
}

#[test]
fn string_and_collection_functions() {
    assert_eq!(ev("[concat('a', 'b', 1, true)]"), json!("ab1True"));
    assert_eq!(
        ev("[concat(createArray(1), createArray(2, 3))]"),
        json!([1, 2, 3])
    );
    assert_eq!(
        ev("[format('{0}-{1}-{0} {{x}}', 'a', 2)]"),
        json!("a-2-a {x}")
    );
    assert_eq!(ev("[toLower('AbC')]"), json!("abc"));
    assert_eq!(ev("[toUpper('AbC')]"), json!("ABC"));
    assert_eq!(ev("[if(equals(1, 1), 'yes', 'no')]"), json!("yes"));
    // if() is lazy: the branch not taken is not evaluated.
    assert_eq!(ev("[if(false, parameters('nope'), 'ok')]"), json!("ok"));
    assert_eq!(ev("[not(equals('a', 'b'))]"), json!(true));
    assert_eq!(ev("[and(true, true, false)]"), json!(false));
    assert_eq!(ev("[or(false, true)]"), json!(true));
    assert_eq!(ev("[empty('')]"), json!(true));
    assert_eq!(ev("[empty(createArray(1))]"), json!(false));
    assert_eq!(ev("[empty(json('{}'))]"), json!(true));
    assert_eq!(ev("[length('abcd')]"), json!(4));
    assert_eq!(ev("[length(createArray(1, 2))]"), json!(2));
    assert_eq!(ev("[contains('hello', 'ell')]"), json!(true));
    assert_eq!(ev("[contains(createArray('a', 'b'), 'b')]"), json!(true));
    assert_eq!(ev("[contains(createObject('Key', 1), 'key')]"), json!(true));
    assert_eq!(
        ev("[union(createObject('a', 1), createObject('b', 2, 'a', 3))]"),
        json!({"a": 3, "b": 2})
    );
    assert_eq!(
        ev("[union(createArray(1, 2), createArray(2, 3))]"),
        json!([1, 2, 3])
    );
    assert_eq!(ev("[replace('a-b-c', '-', '')]"), json!("abc"));
    assert_eq!(ev("[split('a,b', ',')]"), json!(["a", "b"]));
    assert_eq!(ev("[substring('abcdef', 1, 3)]"), json!("bcd"));
    assert_eq!(ev("[add(2, mul(3, 4))]"), json!(14));
    assert_eq!(ev("[string(5)]"), json!("5"));
    assert_eq!(ev("[int('12')]"), json!(12));
    assert_eq!(ev("[coalesce(null, 'x')]"), json!("x"));
    assert_eq!(ev("[base64ToString(base64('hi'))]"), json!("hi"));
}

#[test]
fn unique_string_and_guid_are_deterministic_like_arm() {
    // Known ARM outputs.
    assert_eq!(unique_string("test"), "rbgf3xv4ufgzg");
    assert_eq!(unique_string("abc"), "cgtzqvhu4i23s");
    assert_eq!(
        ev("[uniqueString('hello', 'world')]"),
        json!("a7wkljktk6wne")
    );
    assert_eq!(
        ev("[uniqueString('foo', 'bar', 'baz')]"),
        json!("xzi4ioaxtmth4")
    );
    assert_eq!(
        unique_string("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"),
        "bmg7c6xu4tw46"
    );
    let u = ev("[uniqueString(resourceGroup().id)]");
    assert_eq!(u.as_str().map(str::len), Some(13));
    assert_eq!(u, ev("[uniqueString(resourceGroup().id)]"));
    // guid(): a name-based UUID over ARM's namespace, of the hyphen-joined arguments.
    assert_eq!(
        deterministic_guid("a-b-c"),
        "a98fa280-e03f-5afa-8d8e-92d0a9c201e8"
    );
    assert_eq!(
        ev("[guid('a', 'b', 'c')]"),
        json!("a98fa280-e03f-5afa-8d8e-92d0a9c201e8")
    );
    assert_ne!(ev("[guid('a', 'b')]"), ev("[guid('a', 'c')]"));
}

#[test]
fn resource_id_family() {
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-A";
    assert_eq!(
        ev("[resourceId('Microsoft.KeyVault/vaults', 'kv1')]"),
        json!(format!("{rg}/providers/Microsoft.KeyVault/vaults/kv1"))
    );
    assert_eq!(
        ev("[resourceId('Microsoft.KeyVault/vaults/accessPolicies', 'kv1', 'add')]"),
        json!(format!(
            "{rg}/providers/Microsoft.KeyVault/vaults/kv1/accessPolicies/add"
        ))
    );
    assert_eq!(
        ev("[resourceId('other', 'Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')]"),
        json!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
        )
    );
    assert_eq!(
        ev("[resourceId('sub2', 'rg2', 'Microsoft.KeyVault/vaults', 'kv')]"),
        json!("/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv")
    );
    assert_eq!(
        ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]"),
        json!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r1"
        )
    );
    assert_eq!(
        ev(
            "[extensionResourceId(resourceId('Microsoft.KeyVault/vaults', 'kv1'), 'Microsoft.Authorization/roleAssignments', 'g')]"
        ),
        json!(format!(
            "{rg}/providers/Microsoft.KeyVault/vaults/kv1/providers/Microsoft.Authorization/roleAssignments/g"
        ))
    );
    let (m, _) = ev_err("[resourceId('Microsoft.KeyVault/vaults/accessPolicies', 'kv1')]");
    assert!(m.contains("name segment"), "{m}");
}

#[test]
fn errors_say_where_they_are() {
    let (m, pos) = ev_err("[concat('a', 'b']");
    assert_eq!(pos, Some(16));
    assert!(m.contains("',' or ')'"), "{m}");
    let (m, pos) = ev_err("[resourceGroup().locaton]");
    assert_eq!(pos, Some(17));
    assert!(m.contains("'locaton' doesn't exist"), "{m}");
    let (m, pos) = ev_err("[concat('a', nosuch())]");
    assert_eq!(pos, Some(13));
    assert!(m.contains("'nosuch' is not valid"), "{m}");
    let (m, _) = ev_err("[toLower(1)]");
    assert!(m.contains("argument 1 to be a String"), "{m}");
    let (m, _) = ev_err("[createArray(1)[3]]");
    assert!(m.contains("out of bounds"), "{m}");
    let (m, _) = ev_err("[listKeys('x', '2020-01-01')]");
    assert!(m.contains("not supported by the emulator"), "{m}");
    let (m, _) = ev_err("[copyIndex()]");
    assert!(m.contains("copyIndex"), "{m}");

    // In a template: the resource, the property path and the position.
    let t = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "id1", "location": "[resourceGroup().location]",
         "tags": {"t": "[toLower(subscription().tenantIdd)]"}}]});
    let e = prepare(t, json!({})).expect("prepares");
    let m = e.body(0).expect_err("bad expression").message;
    assert!(m.contains("resources[0]"), "{m}");
    assert!(m.contains("'id1'"), "{m}");
    assert!(m.contains("at property 'tags.t'"), "{m}");
    assert!(m.contains("position 24"), "{m}");
    assert!(m.contains("'tenantIdd' doesn't exist"), "{m}");
}

#[test]
fn parameters_are_checked_and_named() {
    let t = || {
        json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {
                "sku": {"type": "string", "allowedValues": ["standard", "premium"], "defaultValue": "standard"},
                "name": {"type": "string", "minLength": 3, "maxLength": 8},
                "count": {"type": "int", "minValue": 1, "maxValue": 3, "defaultValue": 2},
                "derived": {"type": "string", "defaultValue": "[concat(parameters('name'), '-', parameters('sku'))]"},
                "secret": {"type": "secureString", "defaultValue": "s3cret-default"}
            },
            "resources": []})
    };
    let e = prepare(t(), json!({"name": {"value": "abc"}})).expect("valid");
    let p = e.parameters_json();
    assert_eq!(
        p["derived"],
        json!({"type": "String", "value": "abc-standard"})
    );
    assert_eq!(p["count"], json!({"type": "Int", "value": 2}));
    assert_eq!(p["secret"], json!({"type": "SecureString"}));

    let m = prepare(t(), json!({})).expect_err("missing");
    assert!(m.contains("'name' is not provided"), "{m}");
    let m = prepare(
        t(),
        json!({"name": {"value": "abc"}, "sku": {"value": "gold"}}),
    )
    .expect_err("not allowed");
    assert!(m.contains("'sku'") && m.contains("allowed value"), "{m}");
    let m = prepare(t(), json!({"name": {"value": "ab"}})).expect_err("too short");
    assert!(m.contains("'name'") && m.contains("minimum length"), "{m}");
    let m = prepare(
        t(),
        json!({"name": {"value": "abc"}, "count": {"value": 9}}),
    )
    .expect_err("too big");
    assert!(m.contains("'count'") && m.contains("maximum value"), "{m}");
    let m = prepare(t(), json!({"name": {"value": 5}})).expect_err("wrong type");
    assert!(m.contains("'name'") && m.contains("type 'String'"), "{m}");
    let m = prepare(
        t(),
        json!({"name": {"value": "abc"}, "extra": {"value": 1}}),
    )
    .expect_err("unknown");
    assert!(m.contains("'extra'"), "{m}");
    let m = prepare(
        json!({"parameters": {"a": {"type": "string", "defaultValue": "[parameters('b')]"},
                               "b": {"type": "string", "defaultValue": "[parameters('a')]"}},
               "resources": []}),
        json!({}),
    )
    .expect_err("cycle");
    assert!(m.contains("circular reference"), "{m}");
    let m = prepare(json!({"resource": []}), json!({})).expect_err("typo");
    assert!(m.contains("'resource' is not allowed"), "{m}");
}

#[test]
fn variables_reference_each_other_and_cycles_are_found() {
    let e = prepare(
        json!({"parameters": {"p": {"type": "string", "defaultValue": "x"}},
               "variables": {"a": "[concat(variables('b'), '-a')]", "b": "[concat(parameters('p'), '-b')]",
                             "copy": [{"name": "list", "count": 3, "input": "[concat('n', copyIndex('list'))]"}]},
               "resources": [],
               "outputs": {"a": {"type": "string", "value": "[variables('a')]"},
                           "l": {"type": "array", "value": "[variables('list')]"}}}),
        json!({}),
    )
    .expect("valid");
    let o = e.outputs().expect("outputs");
    assert_eq!(o["a"]["value"], json!("x-b-a"));
    assert_eq!(o["l"]["value"], json!(["n0", "n1", "n2"]));
    let m = prepare(
        json!({"variables": {"a": "[variables('b')]", "b": "[variables('c')]", "c": "[variables('a')]"},
               "resources": []}),
        json!({}),
    )
    .expect_err("cycle");
    assert!(
        m.contains("circular reference detected: a -> b -> c -> a"),
        "{m}"
    );
}

fn identity(name: &str, depends: Value) -> Value {
    json!({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
           "name": name, "location": "westeurope", "dependsOn": depends})
}

#[test]
fn resources_are_ordered_by_dependencies_with_copy_loops() {
    let e = prepare(
        json!({"resources": [
            identity("last", json!(["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'middle')]"])),
            identity("middle", json!(["ids"])),
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
             "name": "[concat('id', copyIndex(1))]", "location": "westeurope",
             "copy": {"name": "ids", "count": 2}},
            identity("skipped", json!([])),
        ]}),
        json!({}),
    )
    .expect("valid");
    let names: Vec<&str> = e
        .order()
        .iter()
        .map(|i| e.resources[*i].name.as_str())
        .collect();
    assert_eq!(names, ["id1", "id2", "middle", "last", "skipped"]);
    assert_eq!(
        e.dependencies_json()[0]["dependsOn"][0]["resourceName"],
        json!("middle")
    );

    let m = prepare(
        json!({"resources": [identity("a", json!(["b"])), identity("b", json!(["a"]))]}),
        json!({}),
    )
    .expect_err("cycle");
    assert!(m.contains("Circular dependency"), "{m}");
    assert!(m.contains("'a'") && m.contains("'b'"), "{m}");
    let m = prepare(
        json!({"resources": [identity("a", json!(["ghost"]))]}),
        json!({}),
    )
    .expect_err("unknown dependsOn");
    assert!(m.contains("'ghost' is not defined in the template"), "{m}");
    let m = prepare(
        json!({"resources": [{"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2024-11-01", "name": "add"}]}),
        json!({}),
    )
    .expect_err("segments");
    assert!(m.contains("incorrect segment lengths"), "{m}");
}

#[test]
fn reference_reads_deployed_resources_and_implies_dependencies() {
    let mut e = prepare(
        json!({"resources": [
            {"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2024-11-01", "name": "kv/add",
             "properties": {"accessPolicies": [{"objectId": "[reference('id1').principalId]"}]}},
            identity("id1", json!([])),
        ],
        "outputs": {"full": {"type": "string", "value": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1'), '2023-01-31', 'Full').location]"}}}),
        json!({}),
    )
    .expect("valid");
    // reference('id1') makes the policy wait for the identity.
    assert_eq!(e.order(), [1, 0]);
    e.validate_bodies()
        .expect("deferred references are fine in validation");
    let m = e.body(0).expect_err("not deployed yet").message;
    assert!(m.contains("before it is deployed"), "{m}");
    e.record(
        1,
        json!({"location": "westeurope", "properties": {"principalId": "p-1"}}),
    );
    assert_eq!(
        e.body(0).expect("body")["properties"]["accessPolicies"][0]["objectId"],
        json!("p-1")
    );
    assert_eq!(
        e.outputs().expect("outputs")["full"]["value"],
        json!("westeurope")
    );
}

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
        json!(env.vault_url("kvdep1"))
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
    .expect(200);
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
    .expect(201);
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
