//! The ARM template engine used by `Microsoft.Resources/deployments` ([`crate::arm::deployments`]).
//!
//! [`Engine::prepare`] reads a template and the deployment's parameter values, checks them,
//! evaluates every parameter and variable, expands `copy` loops and nested child resources,
//! computes each resource's id, resolves `dependsOn` (and the implicit dependencies of
//! `reference()` and of nested children) and orders the resources. The deployment then asks
//! for each resource's request body ([`Engine::body`]) in [`Engine::order`], records what the
//! resource provider answered ([`Engine::record`]) so later `reference()` calls see it, and
//! finally evaluates the outputs.
//!
//! Modules: [`expr`] (tokenizer and parser), [`eval`] (functions and evaluation).
//!
//! Supported: `$schema`, `contentVersion`, `parameters` (string, int, bool, object, array,
//! secureString, secureObject; defaultValue, allowedValues, minValue, maxValue, minLength,
//! maxLength), `variables` (with variable `copy` loops), `resources` (array, or an object of
//! symbolic names with `languageVersion` 2.0; type, apiVersion, name, location, dependsOn,
//! condition, copy, scope, nested `resources`, `existing`), `outputs` (type, value, condition).

pub mod eval;
pub mod expr;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use self::eval::{EvalError, Host, ValueError, eval_string, eval_value, get_ci, type_name};
use self::expr::Expr;

/// A template or parameter error (`InvalidTemplate`), with a message that says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct TemplateError {
    /// ARM error code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl TemplateError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidTemplate".to_owned(),
            message: format!(
                "Deployment template validation failed: '{}'",
                message.into()
            ),
        }
    }

    fn at(what: &str, e: &ValueError) -> Self {
        let path = if e.path.is_empty() {
            String::new()
        } else {
            format!(" at property '{}'", e.path)
        };
        let pos = match e.error.pos {
            Some(p) => format!(" position {p} of '{}'", e.expression),
            None => format!(" '{}'", e.expression),
        };
        Self {
            code: "InvalidTemplate".to_owned(),
            message: format!(
                "Unable to process template language expressions for {what}{path},{pos}: {}",
                e.error.message
            ),
        }
    }
}

/// Where a deployment runs.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Subscription id.
    pub subscription_id: String,
    /// Subscription display name.
    pub subscription_name: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Resource group name (as created).
    pub resource_group: String,
    /// Resource group location.
    pub location: String,
    /// Resource group tags.
    pub tags: BTreeMap<String, String>,
    /// Deployment name.
    pub deployment_name: String,
}

impl Scope {
    /// `/subscriptions/{sub}/resourceGroups/{rg}`.
    pub fn group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id, self.resource_group
        )
    }

    fn resource_group_value(&self) -> Value {
        json!({
            "id": self.group_id(),
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "tags": self.tags,
            "properties": {"provisioningState": "Succeeded"},
        })
    }

    fn subscription_value(&self) -> Value {
        json!({
            "id": format!("/subscriptions/{}", self.subscription_id),
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.subscription_name,
        })
    }

    fn deployment_value(&self) -> Value {
        json!({
            "name": self.deployment_name,
            "properties": {"templateLink": null},
        })
    }

    fn tenant_value(&self) -> Value {
        json!({"tenantId": self.tenant_id, "id": format!("/tenants/{}", self.tenant_id)})
    }
}

/// A parameter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string`.
    String,
    /// `securestring`.
    SecureString,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `object`.
    Object,
    /// `secureobject`.
    SecureObject,
    /// `array`.
    Array,
}

impl ParamType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "securestring" => Self::SecureString,
            "int" => Self::Int,
            "bool" => Self::Bool,
            "object" => Self::Object,
            "secureobject" => Self::SecureObject,
            "array" => Self::Array,
            _ => return None,
        })
    }

    /// The name ARM returns (`String`, `SecureString`, `Int`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::SecureString => "SecureString",
            Self::Int => "Int",
            Self::Bool => "Bool",
            Self::Object => "Object",
            Self::SecureObject => "SecureObject",
            Self::Array => "Array",
        }
    }

    /// Whether values of this type are never returned.
    pub fn is_secure(self) -> bool {
        matches!(self, Self::SecureString | Self::SecureObject)
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::String | Self::SecureString => v.is_string(),
            Self::Int => v.is_i64(),
            Self::Bool => v.is_boolean(),
            Self::Object | Self::SecureObject => v.is_object(),
            Self::Array => v.is_array(),
        }
    }
}

#[derive(Debug, Clone)]
struct ParamSpec {
    name: String,
    ty: ParamType,
    default: Option<Value>,
    allowed: Option<Vec<Value>>,
    min_value: Option<i64>,
    max_value: Option<i64>,
    min_length: Option<i64>,
    max_length: Option<i64>,
}

/// One resource instance of the template, after `copy` expansion.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Label for messages: `resources[1] 'kv'` (with the copy index when in a loop).
    pub label: String,
    /// Symbolic name (languageVersion 2.0).
    pub symbolic: Option<String>,
    /// Copy loop name and index.
    pub copy: Option<(String, i64)>,
    /// The template's resource object (template keys included).
    raw: Map<String, Value>,
    /// Resource type as written (`Microsoft.KeyVault/vaults/accessPolicies`).
    pub resource_type: String,
    /// The type the request is routed as (differs for `…/providers/…` types).
    pub effective_type: String,
    /// Full name (`vault/add`).
    pub name: String,
    /// apiVersion.
    pub api_version: String,
    /// ARM id.
    pub id: String,
    /// False when the `condition` is false: the resource is not deployed.
    pub enabled: bool,
    /// `existing: true`: only read, not deployed.
    pub existing: bool,
    /// Indexes (into [`Engine::resources`]) of the resources this one depends on.
    pub depends_on: Vec<usize>,
    /// Location when it can be evaluated before deployment.
    pub location: Option<String>,
}

/// A prepared deployment: parameters and variables evaluated, resources expanded and ordered.
#[derive(Debug, Clone)]
pub struct Engine {
    scope: Scope,
    specs: Vec<ParamSpec>,
    params: HashMap<String, Value>,
    vars: HashMap<String, Value>,
    /// Resources in template order.
    pub resources: Vec<Resource>,
    order: Vec<usize>,
    outputs: Map<String, Value>,
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

/// Template-only keys of a resource (not sent to the resource provider).
const TEMPLATE_KEYS: &[&str] = &[
    "type",
    "apiversion",
    "name",
    "dependson",
    "condition",
    "copy",
    "comments",
    "scope",
    "resources",
    "metadata",
    "existing",
    "import",
];

/// Normalises an ARM id for comparison.
pub fn norm_id(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// Parses a template given as an object or as a JSON(5) string.
pub fn parse_template(v: &Value) -> Result<Map<String, Value>, TemplateError> {
    let v = match v {
        Value::String(s) => json5::from_str::<Value>(s).map_err(|e| {
            TemplateError::invalid(format!("The template string is not valid JSON: {e}."))
        })?,
        other => other.clone(),
    };
    match v {
        Value::Object(o) => Ok(o),
        other => Err(TemplateError::invalid(format!(
            "The template must be a JSON object, not '{}'.",
            type_name(&other)
        ))),
    }
}

// ----- preparation: parameters and variables -----

struct Prep<'a> {
    scope: &'a Scope,
    specs: &'a [ParamSpec],
    provided: &'a Map<String, Value>,
    raw_vars: &'a Map<String, Value>,
    params: RefCell<HashMap<String, Value>>,
    vars: RefCell<HashMap<String, Value>>,
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
    EvalError::msg(format!(
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
    }
}

fn check_param(spec: &ParamSpec, v: &Value) -> Result<(), String> {
    let n = &spec.name;
    if !spec.ty.accepts(v) {
        return Err(format!(
            "The provided value for the template parameter '{n}' is not valid. Expected a value of type '{}', but received a value of type '{}'.",
            spec.ty.as_str(),
            type_name(v)
        ));
    }
    if let Some(allowed) = &spec.allowed {
        let ok = match v {
            Value::Array(items) => items.iter().all(|i| allowed.contains(i)),
            _ => allowed.contains(v),
        };
        if !ok {
            let list: Vec<String> = allowed
                .iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
                .collect();
            let shown = if spec.ty.is_secure() {
                String::new()
            } else {
                format!(
                    " '{}'",
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                )
            };
            return Err(format!(
                "The provided value{shown} for the template parameter '{n}' is not valid. The value is not part of the allowed value(s): '{}'.",
                list.join(",")
            ));
        }
    }
    if let Some(i) = v.as_i64() {
        if let Some(min) = spec.min_value
            && i < min
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: {i} is less than the minimum value {min}."
            ));
        }
        if let Some(max) = spec.max_value
            && i > max
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: {i} is greater than the maximum value {max}."
            ));
        }
    }
    let len = match v {
        Value::String(s) => Some(s.chars().count() as i64),
        Value::Array(a) => Some(a.len() as i64),
        _ => None,
    };
    if let Some(len) = len {
        if let Some(min) = spec.min_length
            && len < min
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: its length {len} is less than the minimum length {min}."
            ));
        }
        if let Some(max) = spec.max_length
            && len > max
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: its length {len} is greater than the maximum length {max}."
            ));
        }
    }
    Ok(())
}

impl Prep<'_> {
    fn eval_param(&self, name: &str) -> Result<Value, EvalError> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.params.borrow().get(&key) {
            return Ok(v.clone());
        }
        let spec = self
            .specs
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = self.specs.iter().map(|s| s.name.as_str()).collect();
                EvalError::msg(format!(
                    "The template parameter '{name}' is not found. The parameters of this template are '{}'.",
                    names.join(", ")
                ))
            })?;
        let label = format!("parameter:{}", spec.name);
        if self
            .stack
            .borrow()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&label))
        {
            let stack: Vec<String> = self.stack.borrow().clone();
            return Err(cycle_error("parameter", &label, &stack));
        }
        let value = match get_ci(self.provided, &spec.name) {
            Some(v) => v.clone(),
            None => {
                let Some(default) = &spec.default else {
                    return Err(EvalError::msg(format!(
                        "The value for the template parameter '{}' is not provided. Please provide a value for this parameter.",
                        spec.name
                    )));
                };
                self.stack.borrow_mut().push(label);
                let r = eval_value(default, self, "defaultValue");
                self.stack.borrow_mut().pop();
                r.map_err(|e| {
                    wrap_inner(
                        &format!("the default value of template parameter '{}'", spec.name),
                        &e,
                    )
                })?
            }
        };
        check_param(spec, &value).map_err(EvalError::msg)?;
        self.params.borrow_mut().insert(key, value.clone());
        Ok(value)
    }

    fn eval_var(&self, name: &str) -> Result<Value, EvalError> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.vars.borrow().get(&key) {
            return Ok(v.clone());
        }
        let label = format!("variable:{name}");
        if self
            .stack
            .borrow()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&label))
        {
            let stack: Vec<String> = self.stack.borrow().clone();
            return Err(cycle_error("variable", &label, &stack));
        }
        self.stack.borrow_mut().push(label);
        let r = self.compute_var(name);
        self.stack.borrow_mut().pop();
        let v = r?;
        self.vars.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    fn compute_var(&self, name: &str) -> Result<Value, EvalError> {
        let wrap = |e: ValueError| wrap_inner(&format!("template variable '{name}'"), &e);
        if !name.eq_ignore_ascii_case("copy")
            && let Some(raw) = get_ci(self.raw_vars, name)
        {
            return eval_value(raw, self, "").map_err(wrap);
        }
        // Variable copy loops: "copy": [{"name", "count", "input"}].
        if let Some(Value::Array(loops)) = get_ci(self.raw_vars, "copy") {
            for l in loops {
                let Some(lo) = l.as_object() else { continue };
                if get_ci(lo, "name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                {
                    let count = eval_value(
                        get_ci(lo, "count").unwrap_or(&Value::Null),
                        self,
                        "copy.count",
                    )
                    .map_err(wrap)?;
                    let count = count.as_i64().filter(|c| (0..=800).contains(c)).ok_or_else(|| {
                        EvalError::msg(format!(
                            "The copy count of template variable '{name}' must be an integer from 0 to 800."
                        ))
                    })?;
                    let input = get_ci(lo, "input").cloned().unwrap_or(Value::Null);
                    let mut out = Vec::new();
                    for i in 0..count {
                        let h = WithCopy {
                            inner: self,
                            name: name.to_owned(),
                            index: i,
                        };
                        out.push(eval_value(&input, &h, "copy.input").map_err(wrap)?);
                    }
                    return Ok(Value::Array(out));
                }
            }
        }
        let names: Vec<&str> = self.raw_vars.keys().map(String::as_str).collect();
        Err(EvalError::msg(format!(
            "The template variable '{name}' is not found. The variables of this template are '{}'.",
            names.join(", ")
        )))
    }
}

impl Host for Prep<'_> {
    fn parameter(&self, name: &str) -> Result<Value, EvalError> {
        self.eval_param(name)
    }
    fn variable(&self, name: &str) -> Result<Value, EvalError> {
        // Parameter default values may not use variables (as in ARM).
        if self
            .stack
            .borrow()
            .last()
            .is_some_and(|s| s.starts_with("parameter:"))
        {
            return Err(EvalError::msg(
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
    fn deployment(&self) -> Value {
        self.scope.deployment_value()
    }
    fn tenant(&self) -> Value {
        self.scope.tenant_value()
    }
    fn copy_index(&self, _loop_name: Option<&str>) -> Result<i64, EvalError> {
        Err(EvalError::msg(
            "The template function 'copyIndex' is not expected at this location: it can only be used in a resource, property or variable with a copy loop.",
        ))
    }
    fn reference(&self, _t: &str, _a: Option<&str>, _f: bool) -> Result<Value, EvalError> {
        Err(EvalError::msg(
            "The template function 'reference' is not expected at this location: it cannot be used in parameters or variables.",
        ))
    }
}

/// A host inside a copy loop: `copyIndex()` answers the loop's index.
struct WithCopy<'a> {
    inner: &'a dyn Host,
    name: String,
    index: i64,
}

impl Host for WithCopy<'_> {
    fn parameter(&self, name: &str) -> Result<Value, EvalError> {
        self.inner.parameter(name)
    }
    fn variable(&self, name: &str) -> Result<Value, EvalError> {
        self.inner.variable(name)
    }
    fn resource_group(&self) -> Value {
        self.inner.resource_group()
    }
    fn subscription(&self) -> Value {
        self.inner.subscription()
    }
    fn deployment(&self) -> Value {
        self.inner.deployment()
    }
    fn tenant(&self) -> Value {
        self.inner.tenant()
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError> {
        match loop_name {
            None => Ok(self.index),
            Some(n) if n.eq_ignore_ascii_case(&self.name) => Ok(self.index),
            Some(_) => self.inner.copy_index(loop_name),
        }
    }
    fn reference(&self, t: &str, a: Option<&str>, f: bool) -> Result<Value, EvalError> {
        self.inner.reference(t, a, f)
    }
}

// ----- resources -----

/// A host for resource and output evaluation.
struct RunHost<'a> {
    engine: &'a Engine,
    copy: Option<(String, i64)>,
    /// Before deployment: `reference()` of a template resource is deferred.
    static_only: bool,
}

impl Host for RunHost<'_> {
    fn parameter(&self, name: &str) -> Result<Value, EvalError> {
        self.engine
            .params
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.engine.specs.iter().map(|s| s.name.as_str()).collect();
                EvalError::msg(format!(
                    "The template parameter '{name}' is not found. The parameters of this template are '{}'.",
                    names.join(", ")
                ))
            })
    }
    fn variable(&self, name: &str) -> Result<Value, EvalError> {
        self.engine
            .vars
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| EvalError::msg(format!("The template variable '{name}' is not found.")))
    }
    fn resource_group(&self) -> Value {
        self.engine.scope.resource_group_value()
    }
    fn subscription(&self) -> Value {
        self.engine.scope.subscription_value()
    }
    fn deployment(&self) -> Value {
        self.engine.scope.deployment_value()
    }
    fn tenant(&self) -> Value {
        self.engine.scope.tenant_value()
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError> {
        match (&self.copy, loop_name) {
            (Some((_, i)), None) => Ok(*i),
            (Some((n, i)), Some(l)) if n.eq_ignore_ascii_case(l) => Ok(*i),
            (Some(_), Some(l)) => Err(EvalError::msg(format!(
                "The template function 'copyIndex': the copy loop '{l}' is not the loop of this resource."
            ))),
            (None, _) => Err(EvalError::msg(
                "The template function 'copyIndex' is not expected at this location: the resource has no copy loop.",
            )),
        }
    }
    fn reference(&self, target: &str, api: Option<&str>, full: bool) -> Result<Value, EvalError> {
        let pick = |v: &Value| {
            if full {
                v.clone()
            } else {
                v.get("properties").cloned().unwrap_or_else(|| json!({}))
            }
        };
        let matches = self.engine.resolve(target);
        if let [i] = matches.as_slice() {
            let r = &self.engine.resources[*i];
            if let Some(v) = self.engine.deployed.get(&norm_id(&r.id)) {
                return Ok(pick(v));
            }
            if self.static_only {
                return Err(EvalError::deferred(format!(
                    "The value of reference('{target}') is known only after the resource is deployed."
                )));
            }
            if !r.enabled {
                return Err(EvalError::msg(format!(
                    "The resource '{}' is not deployed (its condition is false), so it cannot be referenced.",
                    r.id
                )));
            }
            return Err(EvalError::msg(format!(
                "The resource '{}' is referenced before it is deployed. Add it to the dependsOn of the resource that references it.",
                r.id
            )));
        }
        if matches.len() > 1 {
            return Err(EvalError::msg(format!(
                "The reference target '{target}' is ambiguous: several template resources have that name. Use resourceId()."
            )));
        }
        if !target.starts_with('/') {
            return Err(EvalError::msg(format!(
                "The template resource '{target}' is not found in the template. Use a resource id (resourceId()) to reference a resource deployed elsewhere."
            )));
        }
        if let Some(v) = self.engine.external.get(&norm_id(target)) {
            return Ok(pick(v));
        }
        if self.static_only {
            return Err(EvalError::deferred(format!(
                "The value of reference('{target}') is read at deployment time."
            )));
        }
        if api.is_none() {
            return Err(EvalError::msg(format!(
                "The template function 'reference' needs an api-version to read '{target}', which is not deployed by this template."
            )));
        }
        Err(EvalError::msg(format!(
            "The Resource '{target}' was not found (referenced by reference())."
        )))
    }
}

fn opt_i64(o: &Map<String, Value>, key: &str, what: &str) -> Result<Option<i64>, TemplateError> {
    match get_ci(o, key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            TemplateError::invalid(format!("The '{key}' of {what} must be an integer."))
        }),
    }
}

/// The raw string of a required template string property (may be an expression).
fn raw_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    label: &str,
) -> Result<&'a str, TemplateError> {
    match get_ci(o, key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(TemplateError::invalid(format!(
            "The template resource {label} is missing the required property '{key}'."
        ))),
        Some(_) => Err(TemplateError::invalid(format!(
            "The property '{key}' of template resource {label} must be a string."
        ))),
    }
}

/// A flattened template resource before copy expansion.
struct Decl {
    label: String,
    symbolic: Option<String>,
    raw: Map<String, Value>,
    /// Parent (type, name expression evaluated later) for nested children.
    parent: Option<(String, String)>,
    parent_index: Option<usize>,
}

fn flatten(
    list: Vec<(Option<String>, Value)>,
    prefix: &str,
    parent: Option<(&Map<String, Value>, usize)>,
    out: &mut Vec<Decl>,
) -> Result<(), TemplateError> {
    for (i, (symbolic, v)) in list.into_iter().enumerate() {
        let label = match &symbolic {
            Some(s) => format!("'{s}'"),
            None => format!("{prefix}[{i}]"),
        };
        let Value::Object(mut raw) = v else {
            return Err(TemplateError::invalid(format!(
                "The template resource {label} must be a JSON object."
            )));
        };
        let children = raw.remove("resources");
        let idx = out.len();
        let parent_info = match parent {
            Some((p, _)) => Some((
                raw_str(p, "type", &label)?.to_owned(),
                raw_str(p, "name", &label)?.to_owned(),
            )),
            None => None,
        };
        out.push(Decl {
            label: label.clone(),
            symbolic,
            raw: raw.clone(),
            parent: parent_info,
            parent_index: parent.map(|(_, pi)| pi),
        });
        match children {
            None | Some(Value::Null) => {}
            Some(Value::Array(c)) => {
                if get_ci(&raw, "copy").is_some() && !c.is_empty() {
                    return Err(TemplateError::invalid(format!(
                        "The template resource {label} has a copy loop and nested child resources; the emulator does not support that combination: declare the children at the top level."
                    )));
                }
                let kids = c.into_iter().map(|x| (None, x)).collect();
                flatten(kids, &format!("{label}.resources"), Some((&raw, idx)), out)?;
            }
            Some(_) => {
                return Err(TemplateError::invalid(format!(
                    "The 'resources' of template resource {label} must be an array."
                )));
            }
        }
    }
    Ok(())
}

/// Joins a child's type and name onto its parent's.
fn child_type_and_name(
    parent_type: &str,
    parent_name: &str,
    ty: &str,
    name: &str,
) -> (String, String) {
    // A nested child's type is either a full type or a segment appended to the parent's.
    let full_type = if ty.contains('/') {
        ty.to_owned()
    } else {
        format!("{parent_type}/{ty}")
    };
    let needed = full_type.split('/').count() - 1;
    let full_name = if name.split('/').count() < needed {
        format!("{parent_name}/{name}")
    } else {
        name.to_owned()
    };
    (full_type, full_name)
}

/// Builds the id of a resource of `ty` named `name` under `prefix` (a scope id).
fn build_id(
    prefix: &str,
    ty: &str,
    name: &str,
    label: &str,
) -> Result<(String, String), TemplateError> {
    let tsegs: Vec<&str> = ty.split('/').filter(|s| !s.is_empty()).collect();
    let nsegs: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    if tsegs.len() < 2 {
        return Err(TemplateError::invalid(format!(
            "The template resource {label} has the invalid type '{ty}': expected 'Namespace/type'."
        )));
    }
    if nsegs.len() != tsegs.len() - 1 {
        return Err(TemplateError::invalid(format!(
            "The template resource '{name}' for type '{ty}' at {label} has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name."
        )));
    }
    let mut id = format!("{}/providers/{}", prefix.trim_end_matches('/'), tsegs[0]);
    for (t, n) in tsegs[1..].iter().zip(&nsegs) {
        id.push('/');
        id.push_str(t);
        id.push('/');
        id.push_str(n);
    }
    // `Ns/type/providers/Other.Ns/type2`: the request goes to the extension's provider.
    let effective = match tsegs
        .iter()
        .rposition(|t| t.eq_ignore_ascii_case("providers"))
    {
        Some(p) if p >= 2 => {
            let ns = nsegs.get(p - 1).copied().unwrap_or_default();
            let mut e = ns.to_owned();
            for t in &tsegs[p + 1..] {
                e.push('/');
                e.push_str(t);
            }
            e
        }
        _ => tsegs.join("/"),
    };
    Ok((id, effective))
}

impl Engine {
    /// Reads the template and parameters and prepares the deployment.
    pub fn prepare(
        template: &Map<String, Value>,
        parameters: &Map<String, Value>,
        scope: Scope,
    ) -> Result<Engine, TemplateError> {
        for k in template.keys() {
            if !TOP_LEVEL.contains(&k.to_ascii_lowercase().as_str()) {
                return Err(TemplateError::invalid(format!(
                    "The template property '{k}' is not allowed. Allowed properties are '$schema, contentVersion, apiProfile, parameters, variables, functions, resources, outputs, metadata, languageVersion, definitions'."
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
        let specs = parse_specs(template)?;
        // Provided values: `{"name": {"value": …}}`.
        let mut provided = Map::new();
        for (k, v) in parameters {
            let Some(spec) = specs.iter().find(|s| s.name.eq_ignore_ascii_case(k)) else {
                let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                return Err(TemplateError::invalid(format!(
                    "The template parameters '{k}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '{}'.",
                    names.join(", ")
                )));
            };
            let Value::Object(o) = v else {
                return Err(TemplateError::invalid(format!(
                    "The value of deployment parameter '{k}' must be an object with a 'value' property."
                )));
            };
            if get_ci(o, "reference").is_some() {
                return Err(TemplateError::invalid(format!(
                    "The deployment parameter '{k}' uses a Key Vault reference, which the emulator does not resolve: pass the value directly."
                )));
            }
            match get_ci(o, "value") {
                Some(val) => {
                    provided.insert(spec.name.clone(), val.clone());
                }
                None => {
                    return Err(TemplateError::invalid(format!(
                        "The value of deployment parameter '{k}' must be an object with a 'value' property."
                    )));
                }
            }
        }
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
        let prep = Prep {
            scope: &scope,
            specs: &specs,
            provided: &provided,
            raw_vars,
            params: RefCell::new(HashMap::new()),
            vars: RefCell::new(HashMap::new()),
            stack: RefCell::new(Vec::new()),
        };
        for s in &specs {
            prep.eval_param(&s.name)
                .map_err(|e| TemplateError::invalid(e.message))?;
        }
        for k in raw_vars.keys() {
            if k.eq_ignore_ascii_case("copy") {
                if let Some(Value::Array(loops)) = raw_vars.get(k) {
                    for l in loops {
                        if let Some(n) = l.get("name").and_then(Value::as_str) {
                            prep.eval_var(n)
                                .map_err(|e| TemplateError::invalid(e.message))?;
                        }
                    }
                }
                continue;
            }
            prep.eval_var(k)
                .map_err(|e| TemplateError::invalid(e.message))?;
        }
        let params = prep.params.into_inner();
        let vars = prep.vars.into_inner();

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
        let mut decls = Vec::new();
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
        let mut engine = Engine {
            scope,
            specs,
            params,
            vars,
            resources: Vec::new(),
            order: Vec::new(),
            outputs,
            deployed: HashMap::new(),
            external: HashMap::new(),
            external_refs: Vec::new(),
        };
        engine.expand(&decls)?;
        engine.resolve_dependencies()?;
        Ok(engine)
    }

    fn static_eval(
        &self,
        v: &Value,
        copy: Option<(String, i64)>,
        what: &str,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let h = RunHost {
            engine: self,
            copy,
            static_only: true,
        };
        eval_value(v, &h, path).map_err(|e| TemplateError::at(what, &e))
    }

    fn static_str(
        &self,
        raw: &str,
        copy: Option<(String, i64)>,
        what: &str,
        path: &str,
    ) -> Result<String, TemplateError> {
        let v = self.static_eval(&Value::String(raw.to_owned()), copy, what, path)?;
        match v {
            Value::String(s) => Ok(s),
            other => Err(TemplateError::invalid(format!(
                "The '{path}' of {what} must evaluate to a string, not '{}'.",
                type_name(&other)
            ))),
        }
    }

    /// Expands copy loops and computes names, types and ids.
    fn expand(&mut self, decls: &[Decl]) -> Result<(), TemplateError> {
        // Index of the first instance of each declaration (for nested children's parents).
        let mut first_of: Vec<usize> = Vec::new();
        for d in decls {
            first_of.push(self.resources.len());
            let what = format!("template resource {}", d.label);
            let (copy_name, count) = match get_ci(&d.raw, "copy") {
                None | Some(Value::Null) => (None, 1),
                Some(Value::Object(c)) => {
                    let name = match get_ci(c, "name") {
                        Some(Value::String(n)) => n.clone(),
                        _ => {
                            return Err(TemplateError::invalid(format!(
                                "The copy loop of {what} needs a 'name'."
                            )));
                        }
                    };
                    let count = self.static_eval(
                        get_ci(c, "count").unwrap_or(&Value::Null),
                        None,
                        &what,
                        "copy.count",
                    )?;
                    let count = count
                        .as_i64()
                        .filter(|n| (0..=800).contains(n))
                        .ok_or_else(|| {
                            TemplateError::invalid(format!(
                                "The copy count of {what} must be an integer from 0 to 800."
                            ))
                        })?;
                    (Some(name), count)
                }
                Some(_) => {
                    return Err(TemplateError::invalid(format!(
                        "The 'copy' of {what} must be an object."
                    )));
                }
            };
            for i in 0..count {
                let copy = copy_name.clone().map(|n| (n, i));
                let label = match &copy {
                    Some((_, i)) => format!("{} (copy index {i})", d.label),
                    None => d.label.clone(),
                };
                let what = format!("template resource {label}");
                let ty = self.static_str(
                    raw_str(&d.raw, "type", &label)?,
                    copy.clone(),
                    &what,
                    "type",
                )?;
                let name = self.static_str(
                    raw_str(&d.raw, "name", &label)?,
                    copy.clone(),
                    &what,
                    "name",
                )?;
                let existing = matches!(get_ci(&d.raw, "existing"), Some(Value::Bool(true)));
                let api_version = match get_ci(&d.raw, "apiVersion") {
                    Some(Value::String(s)) => {
                        self.static_str(s, copy.clone(), &what, "apiVersion")?
                    }
                    _ => {
                        return Err(TemplateError::invalid(format!(
                            "The template resource {label} is missing the required property 'apiVersion'."
                        )));
                    }
                };
                let (ty, name) = match &d.parent {
                    Some((pt, pn)) => {
                        let pt = self.static_str(pt, None, &what, "type")?;
                        let pn = self.static_str(pn, None, &what, "name")?;
                        child_type_and_name(&pt, &pn, &ty, &name)
                    }
                    None => (ty, name),
                };
                let prefix = match get_ci(&d.raw, "scope") {
                    None | Some(Value::Null) => self.scope.group_id(),
                    Some(s) => {
                        let s = self.static_eval(s, copy.clone(), &what, "scope")?;
                        let s = s.as_str().unwrap_or_default().to_owned();
                        if s.starts_with('/') {
                            s
                        } else if let Some(i) = self.resolve(&s).first() {
                            self.resources[*i].id.clone()
                        } else if s.contains('/') {
                            format!("{}/providers/{s}", self.scope.group_id())
                        } else {
                            return Err(TemplateError::invalid(format!(
                                "The scope '{s}' of template resource {label} is not a resource id or a resource of the template."
                            )));
                        }
                    }
                };
                let (id, effective_type) = build_id(&prefix, &ty, &name, &label)?;
                let enabled = match get_ci(&d.raw, "condition") {
                    None | Some(Value::Null) => true,
                    Some(c) => match self.static_eval(c, copy.clone(), &what, "condition")? {
                        Value::Bool(b) => b,
                        other => {
                            return Err(TemplateError::invalid(format!(
                                "The condition of template resource {label} must evaluate to a boolean, not '{}'.",
                                type_name(&other)
                            )));
                        }
                    },
                };
                let location = get_ci(&d.raw, "location")
                    .and_then(|l| self.static_eval(l, copy.clone(), &what, "location").ok())
                    .and_then(|v| v.as_str().map(str::to_owned));
                let mut raw = d.raw.clone();
                raw.remove("copy");
                self.resources.push(Resource {
                    label,
                    symbolic: d.symbolic.clone(),
                    copy,
                    raw,
                    resource_type: ty,
                    effective_type,
                    name,
                    api_version,
                    id,
                    enabled,
                    existing,
                    depends_on: Vec::new(),
                    location,
                });
            }
        }
        // Nested children depend on their parent's (first) instance.
        let mut cursor = 0;
        for (di, d) in decls.iter().enumerate() {
            let n = first_of
                .get(di + 1)
                .copied()
                .unwrap_or(self.resources.len())
                - first_of[di];
            if let Some(pi) = d.parent_index {
                let parent_idx = first_of[pi];
                for r in &mut self.resources[cursor..cursor + n] {
                    r.depends_on.push(parent_idx);
                }
            }
            cursor += n;
        }
        Ok(())
    }

    /// Template resources a `dependsOn` / `reference()` target names: a symbolic name, a copy
    /// loop name, a resource id, `Type/name` or a plain name.
    pub fn resolve(&self, target: &str) -> Vec<usize> {
        let t = norm_id(target);
        let by = |f: &dyn Fn(&Resource) -> bool| -> Vec<usize> {
            self.resources
                .iter()
                .enumerate()
                .filter(|(_, r)| f(r))
                .map(|(i, _)| i)
                .collect()
        };
        let found = by(&|r| {
            r.symbolic
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(target))
        });
        if !found.is_empty() {
            return found;
        }
        let found = by(&|r| {
            r.copy
                .as_ref()
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(target))
        });
        if !found.is_empty() {
            return found;
        }
        if target.starts_with('/') {
            return by(&|r| norm_id(&r.id) == t);
        }
        let found = by(&|r| format!("{}/{}", r.resource_type, r.name).to_ascii_lowercase() == t);
        if !found.is_empty() {
            return found;
        }
        by(&|r| r.name.eq_ignore_ascii_case(target))
    }

    /// `reference()` targets in a resource or output, with the api-version when given.
    fn reference_targets(
        &self,
        v: &Value,
        copy: Option<(String, i64)>,
    ) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        let mut strings = Vec::new();
        collect_strings(v, &mut strings);
        let h = RunHost {
            engine: self,
            copy,
            static_only: true,
        };
        for s in strings {
            let Ok(Some(e)) = eval::parse_string(s) else {
                continue;
            };
            e.walk(&mut |node: &Expr| {
                if let Expr::Call { name, args, .. } = node
                    && name.eq_ignore_ascii_case("reference")
                    && let Some(first) = args.first()
                    && let Ok(Value::String(target)) = eval::eval(first, &h)
                {
                    let api = args
                        .get(1)
                        .and_then(|a| eval::eval(a, &h).ok())
                        .and_then(|v| v.as_str().map(str::to_owned));
                    out.push((target, api));
                }
            });
        }
        out
    }

    fn resolve_dependencies(&mut self) -> Result<(), TemplateError> {
        let n = self.resources.len();
        let mut external = Vec::new();
        for i in 0..n {
            let r = &self.resources[i];
            let what = format!("template resource {}", r.label);
            let mut deps = r.depends_on.clone();
            if let Some(d) = get_ci(&r.raw, "dependsOn") {
                let d = self.static_eval(d, r.copy.clone(), &what, "dependsOn")?;
                let Value::Array(items) = d else {
                    return Err(TemplateError::invalid(format!(
                        "The 'dependsOn' of {what} must be an array."
                    )));
                };
                for item in items {
                    let Value::String(target) = item else {
                        return Err(TemplateError::invalid(format!(
                            "The 'dependsOn' entries of {what} must be strings."
                        )));
                    };
                    let found = self.resolve(&target);
                    if found.is_empty() {
                        return Err(TemplateError::invalid(format!(
                            "The resource '{target}' is not defined in the template (in the dependsOn of {what})."
                        )));
                    }
                    deps.extend(found);
                }
            }
            // Implicit dependencies: reference() of a template resource, and the scope.
            let mut body = r.raw.clone();
            for k in [
                "type",
                "apiVersion",
                "name",
                "dependsOn",
                "condition",
                "copy",
            ] {
                body.remove(k);
            }
            for (target, api) in self.reference_targets(&Value::Object(body), r.copy.clone()) {
                let found = self.resolve(&target);
                if found.is_empty() {
                    if target.starts_with('/') {
                        external.push((target, api));
                    }
                } else {
                    deps.extend(found);
                }
            }
            let scope_prefix = norm_id(&r.id);
            for (j, other) in self.resources.iter().enumerate() {
                let oid = norm_id(&other.id);
                if j != i && scope_prefix.starts_with(&format!("{oid}/providers/")) {
                    deps.push(j);
                }
            }
            deps.sort_unstable();
            deps.dedup();
            deps.retain(|d| *d != i);
            self.resources[i].depends_on = deps;
        }
        for o in self.outputs.values() {
            for (target, api) in self.reference_targets(o, None) {
                if self.resolve(&target).is_empty() && target.starts_with('/') {
                    external.push((target, api));
                }
            }
        }
        external.sort();
        external.dedup();
        self.external_refs = external;
        // Duplicate ids are an error, as in ARM.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, r) in self.resources.iter().enumerate() {
            if let Some(j) = seen.insert(norm_id(&r.id), i) {
                return Err(TemplateError::invalid(format!(
                    "The resource '{}' is defined multiple times in a template ({} and {}).",
                    r.id, self.resources[j].label, r.label
                )));
            }
        }
        // Topological order (template order among ready resources), with cycle detection.
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next =
                (0..n).find(|&i| !done[i] && self.resources[i].depends_on.iter().all(|d| done[*d]));
            match next {
                Some(i) => {
                    done[i] = true;
                    order.push(i);
                }
                None => {
                    let cycle = self.find_cycle(&done);
                    return Err(TemplateError::invalid(format!(
                        "Circular dependency detected on resource: {}.",
                        cycle.join(" -> ")
                    )));
                }
            }
        }
        self.order = order;
        Ok(())
    }

    fn find_cycle(&self, done: &[bool]) -> Vec<String> {
        // Walk from any unfinished resource along unfinished dependencies until one repeats.
        let Some(mut cur) = (0..done.len()).find(|i| !done[*i]) else {
            return Vec::new();
        };
        let mut path: Vec<usize> = Vec::new();
        loop {
            if let Some(p) = path.iter().position(|x| *x == cur) {
                let mut c: Vec<String> = path[p..]
                    .iter()
                    .map(|i| format!("'{}'", self.resources[*i].name))
                    .collect();
                c.push(format!("'{}'", self.resources[cur].name));
                return c;
            }
            path.push(cur);
            match self.resources[cur].depends_on.iter().find(|d| !done[**d]) {
                Some(d) => cur = *d,
                None => return Vec::new(),
            }
        }
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

    /// The request body of resource `index` (template keys removed, expressions evaluated).
    pub fn body(&self, index: usize) -> Result<Value, TemplateError> {
        self.body_with(index, false)
    }

    fn body_with(&self, index: usize, static_only: bool) -> Result<Value, TemplateError> {
        let Some(r) = self.resources.get(index) else {
            return Err(TemplateError::invalid("No such resource."));
        };
        let mut body = Map::new();
        for (k, v) in &r.raw {
            if !TEMPLATE_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                body.insert(k.clone(), v.clone());
            }
        }
        let h = RunHost {
            engine: self,
            copy: r.copy.clone(),
            static_only,
        };
        let what = format!("template resource {} ('{}')", r.label, r.name);
        match eval_value(&Value::Object(body), &h, "") {
            Ok(v) => Ok(v),
            Err(e) if e.error.deferred && static_only => Ok(Value::Null),
            Err(e) => Err(TemplateError::at(&what, &e)),
        }
    }

    /// Validation: evaluates every resource body as far as possible without deploying
    /// (values that need `reference()` of a template resource are skipped).
    pub fn validate_bodies(&self) -> Result<(), TemplateError> {
        for i in &self.order {
            if self.resources[*i].enabled {
                self.body_with(*i, true)?;
            }
        }
        Ok(())
    }

    /// The outputs: `{name: {type, value}}` (no value for secure types).
    pub fn outputs(&self) -> Result<Map<String, Value>, TemplateError> {
        let mut out = Map::new();
        let h = RunHost {
            engine: self,
            copy: None,
            static_only: false,
        };
        for (name, o) in &self.outputs {
            let what = format!("template output '{name}'");
            let Value::Object(o) = o else {
                return Err(TemplateError::invalid(format!(
                    "The {what} must be an object."
                )));
            };
            if let Some(c) = get_ci(o, "condition") {
                let c = eval_value(c, &h, "condition").map_err(|e| TemplateError::at(&what, &e))?;
                if c == Value::Bool(false) {
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
                        eval_value(get_ci(c, "count").unwrap_or(&Value::Null), &h, "copy.count")
                            .map_err(|e| TemplateError::at(&what, &e))?
                            .as_i64()
                            .unwrap_or(0);
                    let input = get_ci(c, "input").cloned().unwrap_or(Value::Null);
                    let mut items = Vec::new();
                    for i in 0..count.clamp(0, 800) {
                        let hc = WithCopy {
                            inner: &h,
                            name: String::new(),
                            index: i,
                        };
                        items.push(
                            eval_value(&input, &hc, "copy.input")
                                .map_err(|e| TemplateError::at(&what, &e))?,
                        );
                    }
                    Value::Array(items)
                }
                (_, Some(v)) => {
                    eval_value(v, &h, "value").map_err(|e| TemplateError::at(&what, &e))?
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
        for s in &self.specs {
            let mut e = json!({"type": s.ty.as_str()});
            if !s.ty.is_secure()
                && let Some(v) = self.params.get(&s.name.to_ascii_lowercase())
            {
                e["value"] = v.clone();
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
                            .map(|d| short(&self.resources[*d]))
                            .collect(),
                    );
                    v
                })
                .collect(),
        )
    }
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

fn parse_specs(template: &Map<String, Value>) -> Result<Vec<ParamSpec>, TemplateError> {
    let raw = match get_ci(template, "parameters") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(TemplateError::invalid(
                "The template 'parameters' must be an object.",
            ));
        }
    };
    let mut specs = Vec::new();
    for (name, def) in raw {
        let what = format!("template parameter '{name}'");
        let Value::Object(d) = def else {
            return Err(TemplateError::invalid(format!(
                "The {what} must be an object."
            )));
        };
        let ty = match get_ci(d, "type") {
            Some(Value::String(t)) => ParamType::parse(t).ok_or_else(|| {
                TemplateError::invalid(format!(
                    "The {what} has the type '{t}', which is not valid. Valid types are 'string, securestring, int, bool, object, secureobject, array'."
                ))
            })?,
            _ => return Err(TemplateError::invalid(format!("The {what} is missing its 'type'."))),
        };
        let allowed = match get_ci(d, "allowedValues") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => {
                return Err(TemplateError::invalid(format!(
                    "The 'allowedValues' of {what} must be an array."
                )));
            }
        };
        specs.push(ParamSpec {
            name: name.clone(),
            ty,
            default: get_ci(d, "defaultValue").cloned(),
            allowed,
            min_value: opt_i64(d, "minValue", &what)?,
            max_value: opt_i64(d, "maxValue", &what)?,
            min_length: opt_i64(d, "minLength", &what)?,
            max_length: opt_i64(d, "maxLength", &what)?,
        });
    }
    Ok(specs)
}

/// Evaluates a single JSON string with no parameters or variables (used by tests and tools).
pub fn eval_standalone(s: &str, scope: &Scope) -> Result<Value, EvalError> {
    let empty = Map::new();
    let prep = Prep {
        scope,
        specs: &[],
        provided: &empty,
        raw_vars: &empty,
        params: RefCell::new(HashMap::new()),
        vars: RefCell::new(HashMap::new()),
        stack: RefCell::new(Vec::new()),
    };
    eval_string(s, &prep)
}
