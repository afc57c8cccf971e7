//! The engine through its public API, as the emulator's deployments use it (ported from the
//! emulator's `tests/it/deployments.rs`): expressions, errors with positions, parameters,
//! variables and cycles, dependency order with copy loops, `reference()`.

use std::collections::BTreeMap;

use aci_cmk_arm_template::eval::{deterministic_guid, get_ci, unique_string};
use aci_cmk_arm_template::{
    Engine, Scope, eval_standalone, norm_id, parse_json_text, parse_template,
};
use serde_json::{Map, Value, json};

const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

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

#[test]
fn external_references_are_listed_and_read_once_set() {
    let target = "/subscriptions/s/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ext";
    let mut e = prepare(
        json!({"resources": [],
               "outputs": {"p": {"type": "string",
                                 "value": format!("[reference('{target}', '2023-01-31').principalId]")}}}),
        json!({}),
    )
    .expect("valid");
    assert_eq!(
        e.external_references(),
        [(target.to_owned(), Some("2023-01-31".to_owned()))]
    );
    let m = e.outputs().expect_err("not read yet").message;
    assert!(m.contains("was not found"), "{m}");
    e.set_external(
        &target.to_uppercase(),
        json!({"properties": {"principalId": "p-9"}}),
    );
    assert_eq!(e.outputs().expect("outputs")["p"]["value"], json!("p-9"));
    assert_eq!(norm_id("/A/B/"), "/a/b");
}

#[test]
fn templates_as_text_and_lookups_as_the_emulator_uses_them() {
    let text = "{resources: [], /* JSON5 */ outputs: {x: {type: 'int', value: 2.0,},},}";
    let t = parse_template(&Value::String(text.to_owned())).expect("JSON5 string");
    let e = Engine::prepare(&t, &Map::new(), scope()).expect("valid");
    assert_eq!(e.outputs().expect("outputs")["x"]["value"], json!(2));
    let body = parse_json_text(r#"{"Properties": {"mode": "Incremental"}}"#).expect("json");
    let props = get_ci(body.as_object().expect("object"), "properties").expect("found");
    assert_eq!(props["mode"], json!("Incremental"));
    let e = parse_template(&json!([1])).expect_err("not an object");
    assert_eq!(e.code, "InvalidTemplate");
    assert!(e.to_string().starts_with("InvalidTemplate: "), "{e}");
    let e = parse_template(&json!("{")).expect_err("not JSON");
    assert!(
        e.message.contains("The template string is not valid JSON"),
        "{e}"
    );
}

/// A host of one's own: the evaluator's public trait.
struct TestHost;

impl aci_cmk_arm_template::eval::Host for TestHost {
    fn utc_now(&self) -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-01 12:00 UTC)
    }
    fn parameter(&self, name: &str) -> Result<Value, aci_cmk_arm_template::eval::EvalError> {
        Ok(json!(format!("value-of-{name}")))
    }
    fn variable(&self, _name: &str) -> Result<Value, aci_cmk_arm_template::eval::EvalError> {
        Err(aci_cmk_arm_template::eval::EvalError::msg(
            "no variables here",
        ))
    }
    fn resource_group(&self) -> Value {
        json!({"name": "rg"})
    }
    fn subscription(&self) -> Value {
        json!({"subscriptionId": "s"})
    }
    fn deployment(&self) -> Value {
        json!({})
    }
    fn tenant(&self) -> Value {
        json!({})
    }
    fn copy_index(&self, _l: Option<&str>) -> Result<i64, aci_cmk_arm_template::eval::EvalError> {
        Ok(3)
    }
    fn reference(
        &self,
        _t: &str,
        _a: Option<&str>,
        _f: bool,
    ) -> Result<Value, aci_cmk_arm_template::eval::EvalError> {
        Ok(json!({}))
    }
    fn is_secure_parameter(&self, name: &str) -> bool {
        name == "secret"
    }
}

#[test]
fn the_public_host_trait_evaluates_and_guards_secure_parameters() {
    use aci_cmk_arm_template::eval::{eval_string, eval_value, type_name};
    let h = TestHost;
    assert_eq!(
        eval_string("[concat(parameters('a'), copyIndex(1))]", &h),
        Ok(json!("value-of-a4"))
    );
    assert_eq!(
        eval_value(&json!({"k": ["[resourceGroup().name]", 1]}), &h, ""),
        Ok(json!({"k": ["rg", 1]}))
    );
    let e = eval_value(&json!({"k": "[variables('x')]"}), &h, "base").expect_err("fails");
    assert_eq!(e.path, "base.k");
    assert_eq!(e.error.message, "no variables here");
    let plain = eval_string("[int(parameters('a'))]", &h).expect_err("not a number");
    assert!(plain.message.contains("value-of-a"), "{plain}");
    let secret = eval_string("[int(parameters('secret'))]", &h).expect_err("not a number");
    assert!(!secret.message.contains("value-of-secret"), "{secret}");
    assert!(secret.message.contains("'secret'"), "{secret}");
    assert_eq!(type_name(&json!(1)), "Integer");
}

#[test]
fn resources_carry_what_the_deployment_reads() {
    let e = prepare(
        json!({"resources": [{"type": "Microsoft.KeyVault/vaults", "apiVersion": "2024-11-01",
                              "name": "kv", "location": "[resourceGroup().location]",
                              "properties": {"tenantId": "[subscription().tenantId]"},
                              "resources": [{"type": "accessPolicies", "apiVersion": "2024-11-01",
                                             "name": "add", "properties": {}}]},
                             {"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                              "apiVersion": "2023-01-31", "name": "off", "condition": false,
                              "existing": true}]}),
        json!({}),
    )
    .expect("valid");
    let r = &e.resources[1];
    assert_eq!(r.resource_type, "Microsoft.KeyVault/vaults/accessPolicies");
    assert_eq!(r.name, "kv/add");
    assert_eq!(r.effective_type, "Microsoft.KeyVault/vaults/accessPolicies");
    assert_eq!(r.depends_on, [0]);
    assert_eq!(e.resources[0].location.as_deref(), Some("westeurope"));
    assert!(!e.resources[2].enabled && e.resources[2].existing);
    assert_eq!(
        e.body(0).expect("body"),
        json!({"location": "westeurope", "properties": {"tenantId": "tenant-1"}})
    );
    assert_eq!(
        e.providers_json()[0]["namespace"],
        json!("Microsoft.KeyVault")
    );
    assert_eq!(e.resolve("kv"), [0]);
    assert!(aci_cmk_arm_template::ParamType::SecureObject.is_secure());
}

#[test]
fn a_public_body_leaves_out_secure_and_not_yet_known_members() {
    let template = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
    "parameters": {"pw": {"type": "secureString"}, "plain": {"type": "string"}},
    "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "id1", "location": "westeurope"},
        {"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
         "name": "cg1", "location": "westeurope",
         "dependsOn": ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')]"],
         "properties": {
             "note": "[parameters('plain')]",
             "password": "[concat('x-', parameters('pw'))]",
             "env": [{"name": "S", "secureValue": "[parameters('pw')]"}],
             "principal": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')).principalId]"}}
    ]});
    let params = json!({"pw": {"value": "hunter2-secret"}, "plain": {"value": "shown"}});
    let engine = Engine::prepare(&obj(template), &obj(params), scope()).expect("prepared");
    let cg = engine
        .resources
        .iter()
        .position(|r| r.name == "cg1")
        .expect("cg1");
    let preview = engine.public_body(cg).expect("preview");
    assert_eq!(preview.body["properties"]["note"], "shown");
    assert!(preview.body["properties"].get("password").is_none());
    // An element keeps its place; only its secure member is left out (as a GET shows it).
    assert_eq!(preview.body["properties"]["env"], json!([{"name": "S"}]));
    assert!(preview.body["properties"].get("principal").is_none());
    let mut secure = preview.secure.clone();
    secure.sort();
    assert_eq!(
        secure,
        vec!["properties.env[0].secureValue", "properties.password"]
    );
    assert_eq!(preview.deferred, vec!["properties.principal"]);
    assert!(!preview.body.to_string().contains("hunter2"));
    assert_eq!(preview.body["location"], "westeurope");
    assert!(preview.body.get("dependsOn").is_none());
}
