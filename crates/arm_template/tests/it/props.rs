//! Property tests: random expressions (from the functions' names, extreme integers, odd
//! strings) and random small templates (parameters, variables, resources with copy loops and
//! dependencies, outputs) never make the engine panic; every failure is a typed error.

use std::collections::BTreeMap;

use aci_cmk_arm_template::{Engine, Scope, eval_standalone, parse_json_text};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Modest case counts: the whole workspace's tests run on two cores.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn scope() -> Scope {
    Scope {
        subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        subscription_name: "sub".to_owned(),
        tenant_id: "tenant".to_owned(),
        resource_group: "rg".to_owned(),
        location: "westeurope".to_owned(),
        tags: BTreeMap::new(),
        deployment_name: "dep".to_owned(),
        deployed_at: time::macros::datetime!(2026-12-01 12:00 UTC),
    }
}

const FUNCTIONS: &[&str] = &[
    "concat",
    "format",
    "toLower",
    "toUpper",
    "trim",
    "replace",
    "split",
    "substring",
    "startsWith",
    "endsWith",
    "indexOf",
    "lastIndexOf",
    "padLeft",
    "string",
    "json",
    "base64",
    "base64ToString",
    "empty",
    "length",
    "contains",
    "union",
    "coalesce",
    "createArray",
    "createObject",
    "first",
    "last",
    "take",
    "skip",
    "range",
    "null",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "min",
    "max",
    "int",
    "if",
    "and",
    "or",
    "not",
    "equals",
    "true",
    "false",
    "bool",
    "greater",
    "less",
    "greaterOrEquals",
    "lessOrEquals",
    "parameters",
    "variables",
    "resourceGroup",
    "subscription",
    "deployment",
    "tenant",
    "copyIndex",
    "reference",
    "resourceId",
    "subscriptionResourceId",
    "tenantResourceId",
    "extensionResourceId",
    "uniqueString",
    "guid",
    "utcNow",
    "listKeys",
    "nosuch",
];

/// Integers where arithmetic and indexes break.
fn int_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(i64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("2147483647".to_owned()),
        Just("10000".to_owned()),
        (-5i64..50).prop_map(|i| i.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
    ]
}

fn str_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("''".to_owned()),
        Just("'{0}'".to_owned()),
        Just("'{'".to_owned()),
        Just("'Microsoft.A/b'".to_owned()),
        Just("'p'".to_owned()),
        Just("'s'".to_owned()),
        Just("'v'".to_owned()),
        Just("'[1,[2]]'".to_owned()),
        "[a-z0-9 /,{}é]{0,8}".prop_map(|s| format!("'{s}'")),
    ]
}

/// An expression (without the outer brackets) of bounded depth.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        int_literal(),
        str_literal(),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (
                proptest::sample::select(FUNCTIONS),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), "[a-z]{1,3}").prop_map(|(e, p)| format!("{e}.{p}")),
            (inner.clone(), inner).prop_map(|(e, i)| format!("{e}[{i}]")),
        ]
    })
}

/// A small template around random expressions.
fn template() -> impl Strategy<Value = (Value, Value)> {
    (
        prop::collection::vec(expression(), 1..6),
        0i64..4,
        any::<bool>(),
    )
        .prop_map(|(exprs, copies, with_dep)| {
            let e = |i: usize| format!("[{}]", exprs[i % exprs.len()]);
            let mut resource = json!({
                "type": "Microsoft.A/b", "apiVersion": "1",
                "name": format!("[concat('r', copyIndex(), string({}))]", exprs[0]),
                "copy": {"name": "loop", "count": copies},
                "properties": {"x": e(1), "y": [e(2)]},
            });
            if with_dep {
                resource["dependsOn"] = json!([e(3)]);
            }
            let t = json!({
                "parameters": {
                    "p": {"type": "string", "defaultValue": e(0)},
                    "s": {"type": "secureString"},
                },
                "variables": {"v": e(1), "w": "[variables('v')]"},
                "resources": [resource, {"type": "Microsoft.A/b", "apiVersion": "1", "name": "fixed",
                                         "condition": e(4), "properties": {"z": e(0)}}],
                "outputs": {"o": {"type": "string", "value": e(2)}},
            });
            (t, json!({"s": {"value": "PROP-SECRET-VALUE"}}))
        })
}

fn run(t: &Value, p: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let (Some(t), Some(p)) = (t.as_object(), p.as_object()) else {
        return errors;
    };
    match Engine::prepare(t, p, scope()) {
        Err(e) => errors.push(e.message),
        Ok(mut engine) => {
            if let Err(e) = engine.validate_bodies() {
                errors.push(e.message);
            }
            for i in engine.order().to_vec() {
                match engine.body(i) {
                    Ok(b) => engine.record(i, b),
                    Err(e) => errors.push(e.message),
                }
            }
            if let Err(e) = engine.outputs() {
                errors.push(e.message);
            }
            let _ = (
                engine.parameters_json(),
                engine.providers_json(),
                engine.dependencies_json(),
            );
        }
    }
    errors
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn expressions_never_panic(e in expression()) {
        let _ = eval_standalone(&format!("[{e}]"), &scope());
    }

    #[test]
    fn arbitrary_expression_text_never_panics(s in "\\[[a-zA-Z0-9(),.'\\[\\] -]{0,40}\\]") {
        let _ = eval_standalone(&s, &scope());
    }

    #[test]
    fn templates_never_panic_nor_quote_the_secure_value((t, p) in template()) {
        for m in run(&t, &p) {
            prop_assert!(!m.contains("PROP-SECRET-VALUE"), "{}", m);
        }
    }

    #[test]
    fn template_text_never_panics(s in "[\\[\\]{}\"':,/*a-z0-9 \\n]{0,64}") {
        if let Ok(Value::Object(t)) = parse_json_text(&s) {
            let _ = Engine::prepare(&t, &Map::new(), scope());
        }
    }
}
