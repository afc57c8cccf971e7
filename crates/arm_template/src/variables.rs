//! Parameters' values and variables, evaluated before any resource: [`Prep`] evaluates each
//! lazily, on first use, in whatever order they refer to each other, finds circular
//! references, expands variable `copy` loops, and yields the [`Inputs`] every later
//! evaluation reads.
//!
//! Each value keeps the secure parameters it derives from, so that a variable computed from
//! a secure parameter stays secret in error messages too.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::env::{Env, WithCopy};
use crate::error::{EvalError, TemplateError, ValueError};
use crate::eval::eval_value_in;
use crate::json::get_ci;
use crate::limits::{Budget, MAX_COPY_COUNT, cost};
use crate::parameters::{ParamSpec, check_param};
use crate::scope::Scope;
use crate::secure::{Secure, Val};

/// What every evaluation after preparation reads: the scope, the parameter declarations and
/// the evaluated parameters and variables (keyed by lowercase name).
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    pub(crate) scope: Scope,
    pub(crate) specs: Vec<ParamSpec>,
    pub(crate) params: HashMap<String, Val>,
    pub(crate) vars: HashMap<String, Val>,
}

/// Evaluates parameters and variables on demand (see the module documentation).
pub(crate) struct Prep<'a> {
    pub(crate) scope: &'a Scope,
    pub(crate) specs: &'a [ParamSpec],
    pub(crate) provided: &'a Map<String, Value>,
    pub(crate) raw_vars: &'a Map<String, Value>,
    pub(crate) budget: &'a Budget,
    params: RefCell<HashMap<String, Val>>,
    vars: RefCell<HashMap<String, Val>>,
    /// What is being evaluated: `parameter:{name}` / `variable:{name}`.
    stack: RefCell<Vec<String>>,
}

/// Labels on the evaluation stack are `parameter:{name}` / `variable:{name}`.
fn cycle_error(kind: &str, label: &str, stack: &[String]) -> EvalError {
    let start = stack
        .iter()
        .position(|s| s.eq_ignore_ascii_case(label))
        .unwrap_or(0);
    let show = |l: &str| l.split_once(':').map_or(l, |(_, n)| n).to_owned();
    let mut chain: Vec<String> = stack[start..].iter().map(|l| show(l)).collect();
    chain.push(show(label));
    EvalError::plain(format!(
        "The template {kind} '{}' is not valid: circular reference detected: {}.",
        show(label),
        chain.join(" -> ")
    ))
}

/// Wraps an error from inside a parameter default or a variable with where it happened,
/// unless it already says so (an inner parameter or variable).
fn wrap_inner(what: &str, e: &ValueError) -> EvalError {
    let m = &e.error.message;
    let message = if m.starts_with("Unable to process") || m.contains("circular reference") {
        m.clone()
    } else {
        TemplateError::at(what, e).message
    };
    EvalError {
        message,
        pos: None,
        deferred: false,
        quotes_no_value: e.error.quotes_no_value,
    }
}

fn wrap_var(name: &str, e: &ValueError) -> EvalError {
    wrap_inner(&format!("template variable '{name}'"), e)
}

impl<'a> Prep<'a> {
    /// Nothing evaluated yet.
    pub(crate) fn new(
        scope: &'a Scope,
        specs: &'a [ParamSpec],
        provided: &'a Map<String, Value>,
        raw_vars: &'a Map<String, Value>,
        budget: &'a Budget,
    ) -> Self {
        Self {
            scope,
            specs,
            provided,
            raw_vars,
            budget,
            params: RefCell::new(HashMap::new()),
            vars: RefCell::new(HashMap::new()),
            stack: RefCell::new(Vec::new()),
        }
    }

    /// Evaluates every parameter and variable, in declaration order (each pulls in what it
    /// uses).
    pub(crate) fn evaluate_all(&self) -> Result<(), TemplateError> {
        for s in self.specs {
            self.eval_param(&s.name)
                .map_err(|e| TemplateError::invalid(e.message))?;
        }
        for (k, v) in self.raw_vars {
            if k.eq_ignore_ascii_case("copy") {
                if let Value::Array(loops) = v {
                    for l in loops {
                        if let Some(n) = l.get("name").and_then(Value::as_str) {
                            self.eval_var(n)
                                .map_err(|e| TemplateError::invalid(e.message))?;
                        }
                    }
                }
                continue;
            }
            self.eval_var(k)
                .map_err(|e| TemplateError::invalid(e.message))?;
        }
        Ok(())
    }

    /// The evaluated parameters and variables.
    pub(crate) fn into_values(self) -> (HashMap<String, Val>, HashMap<String, Val>) {
        (self.params.into_inner(), self.vars.into_inner())
    }

    fn on_stack(&self, label: &str) -> bool {
        self.stack
            .borrow()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(label))
    }

    pub(crate) fn eval_param(&self, name: &str) -> Result<Val, EvalError> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.params.borrow().get(&key) {
            return Ok(v.clone());
        }
        let Some(spec) = self
            .specs
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
        else {
            return Err(self.no_such_param(name));
        };
        let label = format!("parameter:{}", spec.name);
        if self.on_stack(&label) {
            return Err(self.cycle("parameter", &label));
        }
        let _depth = self.budget.enter_reference()?;
        let mut val = match get_ci(self.provided, &spec.name) {
            Some(v) => Val::plain(v.clone()),
            None => self.default_value(spec, label)?,
        };
        if spec.ty.is_secure() {
            val.secure.extend(&Secure::parameter(&spec.name));
        }
        self.admit_param(spec, &val)?;
        self.params.borrow_mut().insert(key, val.clone());
        Ok(val)
    }

    fn no_such_param(&self, name: &str) -> EvalError {
        let names: Vec<&str> = self.specs.iter().map(|s| s.name.as_str()).collect();
        EvalError::msg(format!(
            "The template parameter '{}' is not found. The parameters of this template are '{}'.",
            crate::json::clip(name),
            names.join(", ")
        ))
    }

    fn cycle(&self, kind: &str, label: &str) -> EvalError {
        let stack: Vec<String> = self.stack.borrow().clone();
        cycle_error(kind, label, &stack)
    }

    /// A parameter's default value, evaluated (`label` marks it on the stack meanwhile).
    fn default_value(&self, spec: &ParamSpec, label: String) -> Result<Val, EvalError> {
        let Some(default) = &spec.default else {
            return Err(EvalError::plain(format!(
                "The value for the template parameter '{}' is not provided. Please provide a value for this parameter.",
                spec.name
            )));
        };
        self.stack.borrow_mut().push(label);
        let r = eval_value_in(default, self, "defaultValue");
        self.stack.borrow_mut().pop();
        r.map_err(|e| {
            wrap_inner(
                &format!("the default value of template parameter '{}'", spec.name),
                &e,
            )
        })
    }

    /// Charges a parameter's value and checks it against its declaration.
    fn admit_param(&self, spec: &ParamSpec, val: &Val) -> Result<(), EvalError> {
        let steps = cost(&val.value).map_err(|x| {
            EvalError::plain(format!(
                "The value of the template parameter '{}' {}.",
                spec.name,
                x.describe()
            ))
        })?;
        self.budget.charge(steps)?;
        check_param(spec, &val.value, !val.secure.is_empty(), self.budget).map_err(EvalError::plain)
    }

    pub(crate) fn eval_var(&self, name: &str) -> Result<Val, EvalError> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.vars.borrow().get(&key) {
            return Ok(v.clone());
        }
        let label = format!("variable:{name}");
        if self.on_stack(&label) {
            return Err(self.cycle("variable", &label));
        }
        let _depth = self.budget.enter_reference()?;
        self.stack.borrow_mut().push(label);
        let r = self.compute_var(name);
        self.stack.borrow_mut().pop();
        let v = r?;
        self.vars.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    fn compute_var(&self, name: &str) -> Result<Val, EvalError> {
        if !name.eq_ignore_ascii_case("copy")
            && let Some(raw) = get_ci(self.raw_vars, name)
        {
            return eval_value_in(raw, self, "").map_err(|e| wrap_var(name, &e));
        }
        // Variable copy loops: "copy": [{"name", "count", "input"}].
        if let Some(Value::Array(loops)) = get_ci(self.raw_vars, "copy") {
            for l in loops {
                let Some(lo) = l.as_object() else { continue };
                if get_ci(lo, "name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                {
                    return self.copy_var(name, lo);
                }
            }
        }
        Err(self.no_such_var(name))
    }

    fn no_such_var(&self, name: &str) -> EvalError {
        let names: Vec<&str> = self.raw_vars.keys().map(String::as_str).collect();
        EvalError::msg(format!(
            "The template variable '{}' is not found. The variables of this template are '{}'.",
            crate::json::clip(name),
            crate::json::clip(&names.join(", "))
        ))
    }

    /// A variable of a copy loop: `count` evaluations of `input`.
    fn copy_var(&self, name: &str, lo: &Map<String, Value>) -> Result<Val, EvalError> {
        let wrap = |e: ValueError| wrap_var(name, &e);
        let count = eval_value_in(
            get_ci(lo, "count").unwrap_or(&Value::Null),
            self,
            "copy.count",
        )
        .map_err(wrap)?;
        let n = count
            .value
            .as_i64()
            .filter(|c| (0..=MAX_COPY_COUNT).contains(c))
            .ok_or_else(|| {
                EvalError::plain(format!(
                    "The copy count of template variable '{name}' must be an integer from 0 to {MAX_COPY_COUNT}."
                ))
            })?;
        let input = get_ci(lo, "input").cloned().unwrap_or(Value::Null);
        let mut out = Vec::new();
        let mut secure = count.secure;
        for i in 0..n {
            let h = WithCopy {
                inner: self,
                name: name.to_owned(),
                index: i,
            };
            let v = eval_value_in(&input, &h, "copy.input").map_err(wrap)?;
            secure.extend(&v.secure);
            out.push(v.value);
        }
        let value = Value::Array(out);
        let steps = cost(&value).map_err(|x| {
            EvalError::plain(format!(
                "The value of template variable '{name}' {}.",
                x.describe()
            ))
        })?;
        self.budget.charge(steps)?;
        Ok(Val { value, secure })
    }
}

impl Env for Prep<'_> {
    fn parameter(&self, name: &str) -> Result<Val, EvalError> {
        self.eval_param(name)
    }
    fn variable(&self, name: &str) -> Result<Val, EvalError> {
        // Parameter default values may not use variables (as in ARM).
        if self
            .stack
            .borrow()
            .last()
            .is_some_and(|s| s.starts_with("parameter:"))
        {
            return Err(EvalError::plain(
                "The template function 'variables' is not expected in a parameter's default value.",
            ));
        }
        self.eval_var(name)
    }
    fn resource_group(&self) -> Value {
        self.scope.resource_group_value()
    }
    fn subscription(&self) -> Value {
        self.scope.subscription_value()
    }
    fn utc_now(&self) -> time::OffsetDateTime {
        self.scope.deployed_at
    }
    fn deployment(&self) -> Value {
        self.scope.deployment_value()
    }
    fn tenant(&self) -> Value {
        self.scope.tenant_value()
    }
    fn copy_index(&self, _loop_name: Option<&str>) -> Result<i64, EvalError> {
        Err(EvalError::plain(
            "The template function 'copyIndex' is not expected at this location: it can only be used in a resource, property or variable with a copy loop.",
        ))
    }
    fn reference(&self, _t: &str, _a: Option<&str>, _f: bool) -> Result<Value, EvalError> {
        Err(EvalError::plain(
            "The template function 'reference' is not expected at this location: it cannot be used in parameters or variables.",
        ))
    }
    fn budget(&self) -> &Budget {
        self.budget
    }
}

/// Evaluates a single JSON string with no parameters or variables (used by tests and tools).
pub fn eval_standalone(s: &str, scope: &Scope) -> Result<Value, EvalError> {
    let empty = Map::new();
    let budget = Budget::new();
    let prep = Prep::new(scope, &[], &empty, &empty, &budget);
    crate::eval::eval_string_in(s, &prep).map(|v| v.value)
}
