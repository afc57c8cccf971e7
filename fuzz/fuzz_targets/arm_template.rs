//! The ARM template engine (`aci_cmk_arm_template`) on whole templates: any text is parsed
//! as JSON or JSON5 (`parse_json_text`), taken as `{"template": …, "parameters": {…}}` or as
//! the template itself (then every declared parameter without a default gets a value of its
//! type), prepared, and every body, the validation, the outputs and the deployment's JSON
//! evaluated in deployment order. No input panics, overflows the stack, or runs away with
//! memory or time; and no error quotes the value given to a secure parameter.
#![no_main]

use aci_cmk_arm_template::{Engine, Scope, eval_standalone, parse_json_text, parse_template};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// What every secure parameter is given; no error may contain it.
const SECRET: &str = "Fz9SecretValue7Q";

fn scope() -> Scope {
    Scope {
        subscription_id: "00000000-0000-0000-0000-000000000001".into(),
        subscription_name: "fuzz".into(),
        tenant_id: "00000000-0000-0000-0000-0000000000aa".into(),
        resource_group: "rg".into(),
        location: "westeurope".into(),
        tags: BTreeMap::new(),
        deployment_name: "fuzz".into(),
        deployed_at: time::macros::datetime!(2026-12-01 12:00 UTC),
    }
}

/// A value for each declared parameter that has no default: by type, the secret for secure
/// ones.
fn parameters_for(template: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(Value::Object(declared)) = template.get("parameters") else {
        return out;
    };
    for (name, def) in declared {
        if def.get("defaultValue").is_some() {
            continue;
        }
        let ty = def.get("type").and_then(Value::as_str).unwrap_or("string");
        let value = match ty.to_ascii_lowercase().as_str() {
            "securestring" => json!(SECRET),
            "secureobject" => json!({"k": SECRET, SECRET: 1}),
            "int" => json!(1),
            "bool" => json!(true),
            "object" => json!({"a": 1}),
            "array" => json!(["a", 1]),
            _ => json!("value"),
        };
        out.insert(name.clone(), json!({ "value": value }));
    }
    out
}

fn check(message: &str, secret_possible: bool) {
    assert!(
        !(secret_possible && message.contains(SECRET)),
        "an error quotes a secure value: {message}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The template text may spell the secret itself; then its errors may too.
    let secret_possible = !text.contains(SECRET);
    if text.len() < 512 {
        let _ = eval_standalone(text, &scope());
    }
    let Ok(value) = parse_json_text(text) else {
        return;
    };
    let (template, parameters) = match &value {
        Value::Object(o) if o.contains_key("template") => (
            o["template"].clone(),
            o.get("parameters").and_then(Value::as_object).cloned(),
        ),
        _ => (value.clone(), None),
    };
    let template = match parse_template(&template) {
        Ok(t) => t,
        Err(e) => return check(&e.message, secret_possible),
    };
    let parameters = parameters.unwrap_or_else(|| parameters_for(&template));
    let mut engine = match Engine::prepare(&template, &parameters, scope()) {
        Ok(e) => e,
        Err(e) => return check(&e.message, secret_possible),
    };
    if let Err(e) = engine.validate_bodies() {
        check(&e.message, secret_possible);
    }
    let order = engine.order().to_vec();
    for index in order {
        match engine.body(index) {
            Ok(body) => engine.record(index, body),
            Err(e) => check(&e.message, secret_possible),
        }
    }
    if let Err(e) = engine.outputs() {
        check(&e.message, secret_possible);
    }
    let _ = (
        engine.parameters_json(),
        engine.providers_json(),
        engine.dependencies_json(),
        engine.external_references(),
    );
});
