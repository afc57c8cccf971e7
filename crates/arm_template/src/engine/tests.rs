//! Tests of whole templates against the limits (size, work, nesting, ARM's counts) and of
//! secure parameters in error messages. Each reproduces a bug of the old engine: an
//! allocation of gigabytes, a stack overflow, a panic, or a secret quoted in a message.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::Engine;
use crate::error::TemplateError;
use crate::limits::{MAX_RESOURCES, MAX_VALUE_BYTES};
use crate::scope::Scope;

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

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

fn prepare(template: Value, params: Value) -> Result<Engine, TemplateError> {
    Engine::prepare(&obj(template), &obj(params), scope())
}

fn identity(name: &str) -> Value {
    json!({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
           "name": name, "location": "westeurope"})
}

/// Runs `f` on a thread with a small stack, as a tokio worker (2 MiB) or less would.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic, no overflow")
}

/// 40 variables each doubling the last: the old engine tried to build 2^41 bytes.
#[test]
fn doubling_variables_fail_fast_naming_the_variable() {
    let mut vars = Map::new();
    vars.insert("v0".to_owned(), json!("ab"));
    for i in 1..40 {
        vars.insert(
            format!("v{i}"),
            json!(format!(
                "[concat(variables('v{}'), variables('v{}'))]",
                i - 1,
                i - 1
            )),
        );
    }
    let started = Instant::now();
    let e = prepare(json!({"variables": vars, "resources": []}), json!({})).expect_err("too big");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.code, "InvalidTemplate");
    // v21 is exactly 4 MiB; v22 would be 8.
    assert!(
        e.message.contains("template variable 'v22'"),
        "{}",
        e.message
    );
    assert!(e.message.contains("concat"), "{}", e.message);
    assert!(
        e.message.contains(&MAX_VALUE_BYTES.to_string()),
        "{}",
        e.message
    );
}

/// Many small values that add up: the work is bounded, not only each value.
#[test]
fn too_much_work_fails_with_the_step_limit() {
    let t = json!({"variables": {"copy": [{"name": "big", "count": 800,
        "input": "[length(concat(range(0, 10000), range(0, 10000), range(0, 10000)))]"}]},
        "resources": []});
    let started = Instant::now();
    let e = prepare(t, json!({})).expect_err("too much work");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(e.message.contains("evaluation steps"), "{}", e.message);
    assert!(
        e.message.contains("template variable 'big'"),
        "{}",
        e.message
    );
}

/// A chain of variables recursed once per link: 5000 links overflowed the stack (now also
/// more than ARM's 512 variables).
#[test]
fn long_variable_chains_are_refused_not_overflowed() {
    // v0000 uses v0001 … uses v(n-1): evaluated first, so the whole chain recurses.
    let chain = |n: usize| {
        let mut vars = Map::new();
        vars.insert(format!("v{:04}", n - 1), json!("x"));
        for i in 0..n - 1 {
            vars.insert(
                format!("v{i:04}"),
                json!(format!("[variables('v{:04}')]", i + 1)),
            );
        }
        json!({"variables": vars, "resources": [],
               "outputs": {"o": {"type": "string", "value": "[variables('v0000')]"}}})
    };
    let long = chain(5000);
    let e = on_small_stack(move || prepare(long, json!({})).map(|_| ())).expect_err("too deep");
    assert!(e.message.contains("limit is 512"), "{}", e.message);
    let within_count = chain(500);
    let e =
        on_small_stack(move || prepare(within_count, json!({})).map(|_| ())).expect_err("too deep");
    assert!(e.message.contains("nest deeper than"), "{}", e.message);
    // A chain a template could plausibly have works, on the same small stack.
    let fine = chain(40);
    let out = on_small_stack(move || prepare(fine, json!({})).and_then(|e| e.outputs()));
    assert_eq!(out.expect("fine")["o"]["value"], json!("x"));
    // The deepest chain the limit admits does not overflow a small stack either.
    let mut n = 40;
    loop {
        let t = chain(n);
        match on_small_stack(move || prepare(t, json!({})).map(|_| ())) {
            Ok(()) => n += 1,
            Err(e) => {
                assert!(e.message.contains("nest deeper than"), "{}", e.message);
                break;
            }
        }
    }
}

#[test]
fn deep_nesting_in_an_expression_string_and_json_is_refused() {
    // Each within ARM's 24,576 characters.
    let parens = format!("[{}1{}]", "(".repeat(5000), ")".repeat(5000));
    let chain = format!("[createObject('a', 1){}]", ".a".repeat(5000));
    for expr in [parens, chain] {
        let t = json!({"variables": {"x": expr}, "resources": []});
        let e = on_small_stack(move || prepare(t, json!({})).map(|_| ())).expect_err("deep");
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
    }
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let t = json!({"variables": {"x": deep}, "resources": []});
    let e = on_small_stack(move || prepare(t, json!({})).map(|_| ())).expect_err("deep JSON");
    assert!(e.message.contains("nested deeper"), "{}", e.message);
    // Values built deeper than JSON allows (each level a variable) are refused too: dropping
    // or comparing them would recurse.
    let mut vars = Map::new();
    vars.insert("v0".to_owned(), json!([]));
    for i in 1..200 {
        vars.insert(
            format!("v{i:03}"),
            json!(format!("[createArray(variables('v{:03}'))]", i - 1)),
        );
    }
    vars.insert("v000".to_owned(), json!([]));
    vars.remove("v0");
    let t = json!({"variables": vars, "resources": []});
    let e = on_small_stack(move || prepare(t, json!({})).map(|_| ())).expect_err("deep value");
    assert!(e.message.contains("nested deeper than"), "{}", e.message);
}

#[test]
fn arm_counts_are_enforced() {
    let copies = |n: i64| {
        json!({"resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "apiVersion": "2023-01-31", "name": "[concat('id', copyIndex())]",
            "copy": {"name": "ids", "count": n}}, identity("extra")]})
    };
    assert_eq!(
        prepare(copies(799), json!({}))
            .expect("800 resources")
            .resources
            .len(),
        MAX_RESOURCES
    );
    let e = prepare(copies(800), json!({})).expect_err("801 resources");
    assert!(
        e.message.contains("more than 800 resources"),
        "{}",
        e.message
    );
    let many: Vec<Value> = (0..900).map(|i| identity(&format!("i{i}"))).collect();
    assert!(prepare(json!({"resources": many}), json!({})).is_err());
    let params: Map<String, Value> = (0..300)
        .map(|i| (format!("p{i}"), json!({"type": "int", "defaultValue": i})))
        .collect();
    let e = prepare(json!({"parameters": params, "resources": []}), json!({})).expect_err("params");
    assert!(e.message.contains("limit is 256"), "{}", e.message);
    let vars: Map<String, Value> = (0..600).map(|i| (format!("v{i}"), json!(i))).collect();
    assert!(prepare(json!({"variables": vars, "resources": []}), json!({})).is_err());
    let outputs: Map<String, Value> = (0..65)
        .map(|i| (format!("o{i}"), json!({"type": "int", "value": i})))
        .collect();
    assert!(prepare(json!({"outputs": outputs, "resources": []}), json!({})).is_err());
}

/// The old order was found by rescanning every resource per step (cubic in the worst case).
#[test]
fn ordering_800_chained_resources_is_fast_and_in_dependency_order() {
    let resources: Vec<Value> = (0..800)
        .map(|i| {
            let mut r = identity(&format!("i{i}"));
            if i + 1 < 800 {
                r["dependsOn"] = json!([format!("i{}", i + 1)]);
            }
            r
        })
        .collect();
    let started = Instant::now();
    let e = prepare(json!({"resources": resources}), json!({})).expect("valid");
    assert!(started.elapsed() < Duration::from_secs(10));
    let expected: Vec<usize> = (0..800).rev().collect();
    assert_eq!(e.order(), expected.as_slice());
}

#[test]
fn copy_index_offset_overflow_is_an_error() {
    let t = json!({"resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2023-01-31", "name": format!("[concat('id', copyIndex({}))]", i64::MAX),
        "copy": {"name": "ids", "count": 2}}]});
    let e = prepare(t, json!({})).expect_err("overflow");
    assert!(e.message.contains("copyIndex"), "{}", e.message);
}

const SECRET: &str = "TOPSECRET-123";

/// A template with a secure string `sec` (= [`SECRET`]), a secure object `sobj`, a variable
/// derived from `sec`, and `expr` in `where` (`variable`, `output` or `body`).
fn secure_template(expr: &str, place: &str) -> (Value, Value) {
    let mut t = json!({
        "parameters": {
            "sec": {"type": "secureString"},
            "sobj": {"type": "secureObject"},
            "derived": {"type": "string", "defaultValue": "[concat(parameters('sec'), '-x')]"}
        },
        "variables": {"fromSec": "[concat('pre-', parameters('sec'))]"},
        "resources": [],
    });
    match place {
        "variable" => t["variables"]["probe"] = json!(expr),
        "output" => t["outputs"] = json!({"probe": {"type": "string", "value": expr}}),
        _ => {
            let mut r = identity("probe");
            r["properties"] = json!({"p": expr});
            t["resources"] = json!([r]);
        }
    }
    let p = json!({"sec": {"value": SECRET},
                   "sobj": {"value": {"TOPSECRET-key": SECRET, "n": 1}}});
    (t, p)
}

/// Every error of an expression on a secure value, wherever it is evaluated.
fn secure_errors(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for place in ["variable", "output", "body"] {
        let (t, p) = secure_template(expr, place);
        match prepare(t, p) {
            Err(e) => out.push(e.message),
            Ok(engine) => {
                if let Err(e) = engine.outputs() {
                    out.push(e.message);
                }
                if let Err(e) = engine.validate_bodies() {
                    out.push(e.message);
                }
                for i in 0..engine.resources.len() {
                    if let Err(e) = engine.body(i) {
                        out.push(e.message);
                    }
                }
            }
        }
    }
    out
}

/// Old engine: "cannot convert 'TOPSECRET-123' to an Integer", and the like.
#[test]
fn no_error_quotes_a_secure_value() {
    let exprs = [
        "[int(parameters('sec'))]",
        "[int(variables('fromSec'))]",
        "[int(parameters('derived'))]",
        "[int(substring(parameters('sec'), 0, 9))]",
        "[int(toLower(parameters('sec')))]",
        "[bool(parameters('sec'))]",
        "[bool(parameters('sobj'))]",
        "[json(parameters('sec'))]",
        "[base64ToString(parameters('sec'))]",
        "[format(concat('{', parameters('sec')))]",
        "[substring(parameters('sec'), 100)]",
        "[range(0, length(parameters('sec')))[99]]",
        "[createArray(1)[parameters('sec')]]",
        "[createArray(1)[length(parameters('sec'))]]",
        "[parameters('sobj').missing]",
        "[parameters('sobj')[parameters('sec')]]",
        "[parameters('sobj')['nope']]",
        "[reference(parameters('sec'))]",
        "[reference(concat('/subscriptions/', parameters('sec')))]",
        "[resourceId(parameters('sec'), 'x')]",
        "[resourceId('Microsoft.A/b/c', parameters('sec'))]",
        "[subscriptionResourceId(parameters('sec'), 'x')]",
        "[tenantResourceId(parameters('sec'), 'x')]",
        "[copyIndex(parameters('sec'))]",
        "[parameters(parameters('sec'))]",
        "[variables(parameters('sec'))]",
        "[range(length(parameters('sec')), -1)]",
        "[padLeft(parameters('sec'), -1)]",
        "[replace(parameters('sec'), '', 'x')]",
        "[split(parameters('sec'), 1)]",
        "[if(parameters('sec'), 1, 2)]",
        "[and(parameters('sec'), true)]",
        "[greater(parameters('sec'), 1)]",
        "[add(parameters('sec'), 1)]",
        "[length(int(parameters('sec')))]",
        "[concat(parameters('sec'), createArray())]",
        "[union(parameters('sobj'), createArray())]",
        "[nosuch(parameters('sec'))]",
        "[listKeys(parameters('sec'), '2020-01-01')]",
    ];
    for expr in exprs {
        let errors = secure_errors(expr);
        assert!(!errors.is_empty(), "{expr} should fail somewhere");
        for m in errors {
            assert!(!m.contains("TOPSECRET"), "{expr}: {m}");
        }
    }
    // The message names the parameter instead.
    let m = &secure_errors("[int(parameters('sec'))]")[0];
    assert!(
        m.contains("'int'") && m.contains("secure") && m.contains("'sec'"),
        "{m}"
    );
}

/// Engine-level messages quote evaluated names, scopes and dependsOn targets: not when they
/// derive from a secure parameter.
#[test]
fn resource_names_scopes_and_targets_from_secure_values_are_not_quoted() {
    let p = json!({"sec": {"value": SECRET}});
    let base = |resources: Value| {
        json!({"parameters": {"sec": {"type": "secureString"},
                              "low": {"type": "string", "defaultValue": "[parameters('sec')]",
                                      "allowedValues": ["a"], "maxLength": 2}},
               "resources": resources})
    };
    let cases = [
        // The non-secure parameter `low` defaults to the secret: its checks quote nothing.
        json!([]),
        json!([{"type": "Microsoft.A/b/c", "apiVersion": "1", "name": "[parameters('sec')]"}]),
        json!([{"type": "[parameters('sec')]", "apiVersion": "1", "name": "n"}]),
        json!([{"type": "Microsoft.A/b", "apiVersion": "1", "name": "n", "scope": "[parameters('sec')]"}]),
        json!([{"type": "Microsoft.A/b", "apiVersion": "1", "name": "n", "dependsOn": ["[parameters('sec')]"]}]),
        json!([
            identity("[parameters('sec')]"),
            identity("[parameters('sec')]")
        ]),
        json!([{"type": "Microsoft.A/b", "apiVersion": "1", "name": "[parameters('sec')]", "dependsOn": ["x"]},
               {"type": "Microsoft.A/b", "apiVersion": "1", "name": "x", "dependsOn": ["[parameters('sec')]"]}]),
    ];
    for (i, r) in cases.into_iter().enumerate() {
        let mut t = base(r);
        if i > 0 {
            t["parameters"]
                .as_object_mut()
                .expect("object")
                .remove("low");
        }
        let e = prepare(t, p.clone()).expect_err("fails");
        assert!(!e.message.contains("TOPSECRET"), "case {i}: {}", e.message);
    }
    // And a body error of a resource named from a secret.
    let t = json!({"parameters": {"sec": {"type": "secureString"}},
        "resources": [{"type": "Microsoft.A/b", "apiVersion": "1", "name": "[parameters('sec')]",
                       "properties": {"x": "[int('no')]"}}]});
    let e = prepare(t, p)
        .expect("prepares")
        .body(0)
        .expect_err("bad body");
    assert!(!e.message.contains("TOPSECRET"), "{}", e.message);
}

#[test]
fn secure_values_still_work_and_are_never_returned() {
    let (t, p) = secure_template("[length(parameters('sec'))]", "variable");
    let e = prepare(t, p).expect("valid");
    assert_eq!(e.parameters_json()["sec"], json!({"type": "SecureString"}));
    let t = json!({"parameters": {"sec": {"type": "secureString"}}, "resources": [],
                   "outputs": {"s": {"type": "securestring", "value": "[parameters('sec')]"},
                               "n": {"type": "int", "value": "[length(parameters('sec'))]"}}});
    let o = prepare(t, json!({"sec": {"value": SECRET}}))
        .expect("valid")
        .outputs()
        .expect("outputs");
    assert_eq!(o["s"], json!({"type": "SecureString"}));
    assert_eq!(o["n"]["value"], json!(SECRET.len()));
}

/// The deepest shapes the limits admit (chains of variables or parameters, each holding
/// nested calls, `if`s or JSON) and one step past them: on a 1 MiB stack, unoptimised, each
/// either evaluates or fails with the nesting error; none overflows (which would abort the
/// test binary). Measured in a debug build: about 700 KiB at worst.
#[test]
fn worst_case_nesting_fits_a_1_mib_stack() {
    // v0000 uses v0001 … uses v(n-1): evaluated first, so the whole chain recurses.
    let chain = |n: usize, expr: &dyn Fn(String) -> Value| {
        let mut vars = Map::new();
        vars.insert(format!("v{:04}", n - 1), json!("x"));
        for i in 0..n - 1 {
            vars.insert(
                format!("v{i:04}"),
                expr(format!("variables('v{:04}')", i + 1)),
            );
        }
        json!({"variables": vars, "resources": []})
    };
    let plain = |v: String| json!(format!("[{v}]"));
    let calls = |v: String| json!(format!("[{}{v}{}]", "concat(".repeat(5), ")".repeat(5)));
    let ifs = |v: String| {
        json!(format!(
            "[{}{v}{}]",
            "if(true, ".repeat(60),
            ", 0)".repeat(60)
        ))
    };
    let json_ifs = |v: String| {
        let mut deep = json!(format!(
            "[{}{v}{}]",
            "if(true, ".repeat(30),
            ", 0)".repeat(30)
        ));
        for _ in 0..60 {
            deep = json!({"k": deep});
        }
        deep
    };
    let mut cases = Vec::new();
    for n in [50, 60] {
        cases.push(chain(n, &plain));
    }
    for n in [20, 30] {
        cases.push(chain(n, &calls));
    }
    for n in [3, 4] {
        cases.push(chain(n, &ifs));
        cases.push(chain(n, &json_ifs));
    }
    for n in [50, 60] {
        let mut ps = Map::new();
        ps.insert(
            format!("p{:04}", n - 1),
            json!({"type": "string", "defaultValue": "x"}),
        );
        for i in 0..n - 1 {
            ps.insert(
                format!("p{i:04}"),
                json!({"type": "string", "defaultValue": format!("[parameters('p{:04}')]", i + 1)}),
            );
        }
        cases.push(json!({"parameters": ps, "resources": []}));
    }
    let mut deep = json!(format!(
        "[{}1{}]",
        "if(true, ".repeat(62),
        ", 0)".repeat(62)
    ));
    for _ in 0..120 {
        deep = json!({"k": deep});
    }
    cases.push(json!({"variables": {"x": deep}, "resources": []}));
    for t in cases {
        let r = on_small_stack(move || prepare(t, json!({})).map(|_| ()));
        if let Err(e) = r {
            assert!(e.message.contains("nest deeper than"), "{}", e.message);
        }
    }
}

/// A big resource in a copy loop: the old engine held a copy of its definition per instance
/// (800 MB for a 1 MB definition) and parsed it once per instance.
#[test]
fn expanded_templates_larger_than_the_limit_are_refused() {
    let big: Vec<Value> = (0..20_000)
        .map(|i| json!(format!("item-{i:060}")))
        .collect();
    let t = json!({"resources": [{"type": "Microsoft.A/b", "apiVersion": "1",
        "name": "[concat('r', copyIndex())]", "copy": {"name": "c", "count": 800},
        "properties": {"list": big}}]});
    let started = Instant::now();
    let e = prepare(t, json!({})).expect_err("too large");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        e.message.contains("the limit of a template"),
        "{}",
        e.message
    );
}

/// Parsing is charged: a long expression in an 800-fold variable copy loop.
#[test]
fn parsing_counts_against_the_budget() {
    let long = format!("[{}1]", " ".repeat(20_000));
    let input: Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!(long))).collect();
    let t = json!({"variables": {"copy": [{"name": "many", "count": 800, "input": input}]},
                   "resources": []});
    let started = Instant::now();
    let e = prepare(t, json!({})).expect_err("too much parsing");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(e.message.contains("evaluation steps"), "{}", e.message);
}

/// The emulator holds an `&Engine` across `.await`s in spawned tasks.
#[test]
fn an_engine_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    send_sync::<TemplateError>();
}
