//! The emulator's ARM template engine on any JSON template and parameters: no panic; a typed
//! error or a prepared deployment whose bodies and outputs evaluate (or fail typed). Also any
//! string as a template language expression.
#![no_main]

use aci_cmk_emulator::template::{Engine, Scope, eval_standalone, parse_template};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn scope() -> Scope {
    Scope {
        subscription_id: "00000000-0000-0000-0000-000000000001".into(),
        subscription_name: "fuzz".into(),
        tenant_id: "00000000-0000-0000-0000-0000000000aa".into(),
        resource_group: "rg".into(),
        location: "westeurope".into(),
        tags: BTreeMap::new(),
        deployment_name: "fuzz".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = eval_standalone(text, &scope());
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // `{"template": …, "parameters": {…}}`, or the whole input as the template.
    let (template, parameters) = match &value {
        Value::Object(o) if o.contains_key("template") => (
            o["template"].clone(),
            o.get("parameters")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        _ => (value.clone(), Map::new()),
    };
    let Ok(template) = parse_template(&template) else {
        return;
    };
    let Ok(mut engine) = Engine::prepare(&template, &parameters, scope()) else {
        return;
    };
    let order = engine.order().to_vec();
    for index in order {
        if let Ok(body) = engine.body(index) {
            engine.record(index, body);
        }
    }
    let _ = engine.validate_bodies();
    let _ = engine.outputs();
    let _ = (
        engine.parameters_json(),
        engine.providers_json(),
        engine.dependencies_json(),
    );
});
