//! [`Engine`]: a prepared deployment. [`Engine::prepare`] checks the template and the
//! parameter values, evaluates parameters and variables, expands the resources and orders
//! them; the deployment then asks for each resource's body in [`Engine::order`], records
//! what the provider answered, and finally reads the outputs (in `outputs`).
//!
//! Each of `prepare`, `body`, `validate_bodies` and `outputs` is one evaluation with its own
//! budget (see [`crate::limits`]).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::TemplateError;
use crate::eval::eval_value_in;
use crate::expand::{Decl, expand, flatten, link};
use crate::host::RunHost;
use crate::json::get_ci;
use crate::limits::{Budget, MAX_JSON_DEPTH, MAX_OUTPUTS, MAX_VARIABLES, deeper_than};
use crate::parameters::{parse_specs, read_provided};
use crate::resources::{Resource, TEMPLATE_KEYS, norm_id, resolve};
use crate::scope::Scope;
use crate::variables::{Inputs, Prep};

/// A prepared deployment: parameters and variables evaluated, resources expanded and ordered.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) inputs: Inputs,
    /// Resources in template order.
    pub resources: Vec<Resource>,
    order: Vec<usize>,
    pub(crate) outputs: Map<String, Value>,
    deployed: HashMap<String, Value>,
    external: HashMap<String, Value>,
    external_refs: Vec<(String, Option<String>)>,
}

const TOP_LEVEL: &[&str] = &[
    "$schema",
    "contentversion",
    "apiprofile",
    "parameters",
    "variables",
    "functions",
    "resources",
    "outputs",
    "metadata",
    "languageversion",
    "definitions",
];

/// Checks the template's top level: known properties, `contentVersion`, no user functions.
fn check_top_level(template: &Map<String, Value>) -> Result<(), TemplateError> {
    for k in template.keys() {
        if !TOP_LEVEL.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(TemplateError::invalid(format!(
                "The template property '{}' is not allowed. Allowed properties are '$schema, contentVersion, apiProfile, parameters, variables, functions, resources, outputs, metadata, languageVersion, definitions'.",
                crate::json::clip(k)
            )));
        }
    }
    match get_ci(template, "contentVersion") {
        None | Some(Value::String(_)) => {}
        Some(_) => {
            return Err(TemplateError::invalid(
                "The template property 'contentVersion' must be a string.",
            ));
        }
    }
    let has_functions = match get_ci(template, "functions") {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    };
    if has_functions {
        return Err(TemplateError::invalid(
            "User-defined template functions are not supported by the emulator.",
        ));
    }
    Ok(())
}

impl Engine {
    /// Reads the template and parameters and prepares the deployment.
    pub fn prepare(
        template: &Map<String, Value>,
        parameters: &Map<String, Value>,
        scope: Scope,
    ) -> Result<Engine, TemplateError> {
        // Everything below recurses over the template's nesting.
        for (what, v) in [("template", template), ("parameters", parameters)] {
            if v.values().any(|x| deeper_than(x, MAX_JSON_DEPTH - 1)) {
                return Err(TemplateError::invalid(format!(
                    "The {what} is nested deeper than {MAX_JSON_DEPTH} levels."
                )));
            }
        }
        check_top_level(template)?;
        let specs = parse_specs(template)?;
        let provided = read_provided(&specs, parameters)?;
        let empty = Map::new();
        let raw_vars = match get_ci(template, "variables") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(TemplateError::invalid(
                    "The template 'variables' must be an object.",
                ));
            }
        };
        let declared = raw_vars.len()
            + match get_ci(raw_vars, "copy") {
                Some(Value::Array(a)) => a.len().saturating_sub(1),
                _ => 0,
            };
        if declared > MAX_VARIABLES {
            return Err(TemplateError::invalid(format!(
                "The template has {declared} variables; the limit is {MAX_VARIABLES}."
            )));
        }
        let budget = Budget::new();
        let prep = Prep::new(&scope, &specs, &provided, raw_vars, &budget);
        prep.evaluate_all()?;
        let (params, vars) = prep.into_values();
        let inputs = Inputs {
            scope,
            specs,
            params,
            vars,
        };

        // Resources: an array, or an object of symbolic names (languageVersion 2.0).
        let list: Vec<(Option<String>, Value)> = match get_ci(template, "resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.iter().cloned().map(|v| (None, v)).collect(),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| (Some(k.clone()), v.clone()))
                .collect(),
            Some(_) => {
                return Err(TemplateError::invalid(
                    "The template 'resources' must be an array.",
                ));
            }
        };
        let mut decls: Vec<Decl> = Vec::new();
        flatten(list, "resources", None, &mut decls)?;
        let outputs = match get_ci(template, "outputs") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => {
                return Err(TemplateError::invalid(
                    "The template 'outputs' must be an object.",
                ));
            }
        };
        if outputs.len() > MAX_OUTPUTS {
            return Err(TemplateError::invalid(format!(
                "The template has {} outputs; the limit is {MAX_OUTPUTS}.",
                outputs.len()
            )));
        }
        let mut resources = expand(&inputs, &decls, &budget)?;
        let linked = link(&inputs, &mut resources, &outputs, &budget)?;
        Ok(Engine {
            inputs,
            resources,
            order: linked.order,
            outputs,
            deployed: HashMap::new(),
            external: HashMap::new(),
            external_refs: linked.external_refs,
        })
    }

    /// Template resources a `dependsOn` / `reference()` target names: a symbolic name, a copy
    /// loop name, a resource id, `Type/name` or a plain name.
    pub fn resolve(&self, target: &str) -> Vec<usize> {
        resolve(&self.resources, target)
    }

    /// Resource indexes in deployment order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Resources outside the template that `reference()` reads: `(id, apiVersion)`. Fetch
    /// them and hand them to [`Engine::set_external`] before deploying.
    pub fn external_references(&self) -> &[(String, Option<String>)] {
        &self.external_refs
    }

    /// Records the current state of a resource that is not part of the template.
    pub fn set_external(&mut self, id: &str, value: Value) {
        self.external.insert(norm_id(id), value);
    }

    /// Records what the resource provider returned for a deployed resource.
    pub fn record(&mut self, index: usize, value: Value) {
        if let Some(r) = self.resources.get(index) {
            self.deployed.insert(norm_id(&r.id), value);
        }
    }

    /// The environment of resource and output evaluation.
    pub(crate) fn host<'a>(
        &'a self,
        copy: Option<(String, i64)>,
        static_only: bool,
        budget: &'a Budget,
    ) -> RunHost<'a> {
        RunHost {
            inputs: &self.inputs,
            resources: &self.resources,
            deployed: &self.deployed,
            external: &self.external,
            copy,
            static_only,
            budget,
        }
    }

    /// The request body of resource `index` (template keys removed, expressions evaluated).
    pub fn body(&self, index: usize) -> Result<Value, TemplateError> {
        self.body_with(index, false, &Budget::new())
    }

    fn body_with(
        &self,
        index: usize,
        static_only: bool,
        budget: &Budget,
    ) -> Result<Value, TemplateError> {
        let Some(r) = self.resources.get(index) else {
            return Err(TemplateError::invalid("No such resource."));
        };
        let mut body = Map::new();
        for (k, v) in r.raw.iter() {
            if !TEMPLATE_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                body.insert(k.clone(), v.clone());
            }
        }
        let h = self.host(r.copy.clone(), static_only, budget);
        let what = format!("template resource {} ({})", r.label, r.shown_name());
        match eval_value_in(&Value::Object(body), &h, "") {
            Ok(v) => Ok(v.value),
            Err(e) if e.error.deferred && static_only => Ok(Value::Null),
            Err(e) => Err(TemplateError::at(&what, &e)),
        }
    }

    /// Validation: evaluates every resource body as far as possible without deploying
    /// (values that need `reference()` of a template resource are skipped).
    pub fn validate_bodies(&self) -> Result<(), TemplateError> {
        let budget = Budget::new();
        for i in &self.order {
            if self.resources[*i].enabled {
                self.body_with(*i, true, &budget)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
