//! What a deployment reports: its outputs (evaluated after the resources are deployed, with
//! `condition` and `copy`), and the `parameters`, `providers` and `dependencies` of the
//! deployment object. Secure values are never returned.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::env::WithCopy;
use crate::error::TemplateError;
use crate::eval::eval_value_in;
use crate::json::{get_ci, type_name};
use crate::limits::{Budget, MAX_COPY_COUNT};
use crate::parameters::ParamType;
use crate::resources::Resource;

impl Engine {
    /// The outputs: `{name: {type, value}}` (no value for secure types).
    pub fn outputs(&self) -> Result<Map<String, Value>, TemplateError> {
        let budget = Budget::new();
        let mut out = Map::new();
        let h = self.host(None, false, &budget);
        for (name, o) in &self.outputs {
            let what = format!("template output '{}'", crate::json::clip(name));
            let Value::Object(o) = o else {
                return Err(TemplateError::invalid(format!(
                    "The {what} must be an object."
                )));
            };
            if let Some(c) = get_ci(o, "condition") {
                let c =
                    eval_value_in(c, &h, "condition").map_err(|e| TemplateError::at(&what, &e))?;
                if c.value == Value::Bool(false) {
                    continue;
                }
            }
            let ty = get_ci(o, "type")
                .and_then(Value::as_str)
                .and_then(ParamType::parse)
                .ok_or_else(|| {
                    TemplateError::invalid(format!("The {what} needs a valid 'type'."))
                })?;
            let value = match (get_ci(o, "copy"), get_ci(o, "value")) {
                (Some(Value::Object(c)), _) => {
                    let count =
                        eval_value_in(get_ci(c, "count").unwrap_or(&Value::Null), &h, "copy.count")
                            .map_err(|e| TemplateError::at(&what, &e))?
                            .value
                            .as_i64()
                            .unwrap_or(0);
                    let input = get_ci(c, "input").cloned().unwrap_or(Value::Null);
                    let mut items = Vec::new();
                    for i in 0..count.clamp(0, MAX_COPY_COUNT) {
                        let hc = WithCopy {
                            inner: &h,
                            name: String::new(),
                            index: i,
                        };
                        items.push(
                            eval_value_in(&input, &hc, "copy.input")
                                .map_err(|e| TemplateError::at(&what, &e))?
                                .value,
                        );
                    }
                    Value::Array(items)
                }
                (_, Some(v)) => {
                    eval_value_in(v, &h, "value")
                        .map_err(|e| TemplateError::at(&what, &e))?
                        .value
                }
                (_, None) => {
                    return Err(TemplateError::invalid(format!(
                        "The {what} needs a 'value'."
                    )));
                }
            };
            if !ty.accepts(&value) {
                return Err(TemplateError::invalid(format!(
                    "The {what} is of type '{}' but its value is of type '{}'.",
                    ty.as_str(),
                    type_name(&value)
                )));
            }
            let mut entry = json!({"type": ty.as_str()});
            if !ty.is_secure() {
                entry["value"] = value;
            }
            out.insert(name.clone(), entry);
        }
        Ok(out)
    }

    /// The parameters as a deployment returns them: `{name: {type, value}}`, secure values
    /// omitted.
    pub fn parameters_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for s in &self.inputs.specs {
            let mut e = json!({"type": s.ty.as_str()});
            if !s.ty.is_secure()
                && let Some(v) = self.inputs.params.get(&s.name.to_ascii_lowercase())
            {
                e["value"] = v.value.clone();
            }
            out.insert(s.name.clone(), e);
        }
        out
    }

    /// `providers[]` of the deployment: namespaces with their resource types and locations.
    pub fn providers_json(&self) -> Value {
        let mut by_ns: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for r in self.resources.iter().filter(|r| r.enabled) {
            let (ns, rest) = r
                .effective_type
                .split_once('/')
                .unwrap_or((&r.effective_type, ""));
            let locs = by_ns
                .entry(ns.to_owned())
                .or_default()
                .entry(rest.to_owned())
                .or_default();
            if let Some(l) = &r.location
                && !locs.contains(l)
            {
                locs.push(l.clone());
            }
        }
        Value::Array(
            by_ns
                .into_iter()
                .map(|(ns, types)| {
                    json!({
                        "namespace": ns,
                        "resourceTypes": types.into_iter().map(|(t, l)| json!({"resourceType": t, "locations": l})).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    }

    /// `dependencies[]` of the deployment.
    pub fn dependencies_json(&self) -> Value {
        let short = |r: &Resource| json!({"id": r.id, "resourceType": r.resource_type, "resourceName": r.name});
        Value::Array(
            self.resources
                .iter()
                .filter(|r| !r.depends_on.is_empty())
                .map(|r| {
                    let mut v = short(r);
                    v["dependsOn"] = Value::Array(
                        r.depends_on
                            .iter()
                            .filter_map(|d| self.resources.get(*d))
                            .map(short)
                            .collect(),
                    );
                    v
                })
                .collect(),
        )
    }
}
