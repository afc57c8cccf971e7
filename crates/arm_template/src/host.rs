//! The environment of resource and output evaluation, [`RunHost`]: the evaluated parameters
//! and variables, the resource's copy loop, and `reference()` to the resources deployed so
//! far (or deferred, before deployment).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::env::Env;
use crate::error::EvalError;
use crate::limits::Budget;
use crate::resources::{Resource, norm_id, resolve};
use crate::secure::Val;
use crate::variables::Inputs;

/// An environment for resource and output evaluation.
pub(crate) struct RunHost<'a> {
    pub(crate) inputs: &'a Inputs,
    /// The template's resources (those expanded so far, during expansion).
    pub(crate) resources: &'a [Resource],
    /// What the resource providers answered, by normalised id.
    pub(crate) deployed: &'a HashMap<String, Value>,
    /// Resources outside the template, by normalised id.
    pub(crate) external: &'a HashMap<String, Value>,
    /// The copy loop of the resource being evaluated.
    pub(crate) copy: Option<(String, i64)>,
    /// Before deployment: `reference()` of a template resource is deferred.
    pub(crate) static_only: bool,
    pub(crate) budget: &'a Budget,
}

impl Env for RunHost<'_> {
    fn parameter(&self, name: &str) -> Result<Val, EvalError> {
        self.inputs
            .params
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.inputs.specs.iter().map(|s| s.name.as_str()).collect();
                EvalError::msg(format!(
                    "The template parameter '{}' is not found. The parameters of this template are '{}'.",
                    crate::json::clip(name),
                    names.join(", ")
                ))
            })
    }
    fn variable(&self, name: &str) -> Result<Val, EvalError> {
        self.inputs
            .vars
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| {
                EvalError::msg(format!(
                    "The template variable '{}' is not found.",
                    crate::json::clip(name)
                ))
            })
    }
    fn resource_group(&self) -> Value {
        self.inputs.scope.resource_group_value()
    }
    fn subscription(&self) -> Value {
        self.inputs.scope.subscription_value()
    }
    fn utc_now(&self) -> time::OffsetDateTime {
        self.inputs.scope.deployed_at
    }
    fn deployment(&self) -> Value {
        self.inputs.scope.deployment_value()
    }
    fn tenant(&self) -> Value {
        self.inputs.scope.tenant_value()
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError> {
        match (&self.copy, loop_name) {
            (Some((_, i)), None) => Ok(*i),
            (Some((n, i)), Some(l)) if n.eq_ignore_ascii_case(l) => Ok(*i),
            (Some(_), Some(l)) => Err(EvalError::msg(format!(
                "The template function 'copyIndex': the copy loop '{}' is not the loop of this resource.",
                crate::json::clip(l)
            ))),
            (None, _) => Err(EvalError::plain(
                "The template function 'copyIndex' is not expected at this location: the resource has no copy loop.",
            )),
        }
    }
    fn reference(&self, target: &str, api: Option<&str>, full: bool) -> Result<Value, EvalError> {
        // A linear search over the resources: charged as such.
        self.budget.charge(1 + (self.resources.len() / 8) as u64)?;
        let pick = |v: &Value| {
            if full {
                v.clone()
            } else {
                v.get("properties").cloned().unwrap_or_else(|| json!({}))
            }
        };
        let shown = crate::json::clip(target);
        let matches = resolve(self.resources, target);
        if let [i] = matches.as_slice() {
            let r = &self.resources[*i];
            if let Some(v) = self.deployed.get(&norm_id(&r.id)) {
                return Ok(pick(v));
            }
            if self.static_only {
                return Err(EvalError::deferred(format!(
                    "The value of reference('{shown}') is known only after the resource is deployed."
                )));
            }
            if !r.enabled {
                return Err(EvalError::msg(format!(
                    "The resource {} is not deployed (its condition is false), so it cannot be referenced.",
                    r.shown_id()
                )));
            }
            return Err(EvalError::msg(format!(
                "The resource {} is referenced before it is deployed. Add it to the dependsOn of the resource that references it.",
                r.shown_id()
            )));
        }
        if matches.len() > 1 {
            return Err(EvalError::msg(format!(
                "The reference target '{shown}' is ambiguous: several template resources have that name. Use resourceId()."
            )));
        }
        if !target.starts_with('/') {
            return Err(EvalError::msg(format!(
                "The template resource '{shown}' is not found in the template. Use a resource id (resourceId()) to reference a resource deployed elsewhere."
            )));
        }
        if let Some(v) = self.external.get(&norm_id(target)) {
            return Ok(pick(v));
        }
        if self.static_only {
            return Err(EvalError::deferred(format!(
                "The value of reference('{shown}') is read at deployment time."
            )));
        }
        if api.is_none() {
            return Err(EvalError::msg(format!(
                "The template function 'reference' needs an api-version to read '{shown}', which is not deployed by this template."
            )));
        }
        Err(EvalError::msg(format!(
            "The Resource '{shown}' was not found (referenced by reference())."
        )))
    }
    fn budget(&self) -> &Budget {
        self.budget
    }
}
