//! Evaluation of template expressions: the walk over an expression tree and over a JSON value
//! that evaluates every expression string in it.
//!
//! The evaluator knows nothing about deployments: parameters, variables, the deployment's
//! scope and `reference()` come from a [`Host`] (inside the crate, from an `Env`, which
//! adds the secure parameters each value derives from and the evaluation budget). Every node
//! costs budget, every value produced is measured against the limits in [`crate::limits`],
//! and every level of nesting (in an expression, a JSON value, a parameter or a variable)
//! counts against [`crate::limits::MAX_EVAL_DEPTH`].

use serde_json::{Map, Value, json};

pub use crate::error::{EvalError, ValueError};
pub use crate::functions::{deterministic_guid, unique_string};
pub use crate::json::{get_ci, type_name};

use crate::env::Env;
use crate::expr::{self, Expr, StringKind};
use crate::functions;
use crate::limits::{BYTES_PER_STEP, Budget, Excess, PARSE_BYTES_PER_STEP, cost};
use crate::secure::{Secure, Val};

/// What the evaluator asks of its surroundings.
pub trait Host {
    /// Value of a template parameter (name matched case-insensitively).
    fn parameter(&self, name: &str) -> Result<Value, EvalError>;
    /// Value of a template variable (name matched case-insensitively).
    fn variable(&self, name: &str) -> Result<Value, EvalError>;
    /// The `resourceGroup()` object.
    fn resource_group(&self) -> Value;
    /// The `subscription()` object.
    fn subscription(&self) -> Value;
    /// The `deployment()` object.
    fn deployment(&self) -> Value;
    /// The `tenant()` object.
    fn tenant(&self) -> Value;
    /// `copyIndex(loopName?)` without offset.
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError>;
    /// `reference(idOrName, apiVersion?, 'Full'?)`.
    fn reference(
        &self,
        target: &str,
        api_version: Option<&str>,
        full: bool,
    ) -> Result<Value, EvalError>;
    /// The deployment's time, which `utcNow()` answers.
    fn utc_now(&self) -> time::OffsetDateTime;
    /// Whether the parameter `name` is secure (`secureString`, `secureObject`): an error of
    /// an expression that uses its value then names the parameter instead of quoting it.
    fn is_secure_parameter(&self, name: &str) -> bool {
        let _ = name;
        false
    }
}

/// How much of a failing JSON string an error quotes.
const EXPRESSION_CHARS_SHOWN: usize = 2_000;

/// A public [`Host`] as an [`Env`], with a budget of its own.
struct HostEnv<'a> {
    host: &'a dyn Host,
    budget: Budget,
}

impl<'a> HostEnv<'a> {
    fn new(host: &'a dyn Host) -> Self {
        Self {
            host,
            budget: Budget::new(),
        }
    }
}

impl Env for HostEnv<'_> {
    fn parameter(&self, name: &str) -> Result<Val, EvalError> {
        let value = self.host.parameter(name)?;
        let secure = if self.host.is_secure_parameter(name) {
            Secure::parameter(name)
        } else {
            Secure::none()
        };
        Ok(Val { value, secure })
    }
    fn variable(&self, name: &str) -> Result<Val, EvalError> {
        self.host.variable(name).map(Val::plain)
    }
    fn resource_group(&self) -> Value {
        self.host.resource_group()
    }
    fn subscription(&self) -> Value {
        self.host.subscription()
    }
    fn utc_now(&self) -> time::OffsetDateTime {
        self.host.utc_now()
    }
    fn deployment(&self) -> Value {
        self.host.deployment()
    }
    fn tenant(&self) -> Value {
        self.host.tenant()
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError> {
        self.host.copy_index(loop_name)
    }
    fn reference(&self, t: &str, a: Option<&str>, f: bool) -> Result<Value, EvalError> {
        self.host.reference(t, a, f)
    }
    fn budget(&self) -> &Budget {
        &self.budget
    }
}

/// Evaluates a JSON string: a literal (with `[[` unescaped) or an expression.
pub fn eval_string(s: &str, host: &dyn Host) -> Result<Value, EvalError> {
    eval_string_in(s, &HostEnv::new(host)).map(|v| v.value)
}

/// Evaluates every expression string in `v` (object keys stay as they are, unless they are
/// expressions themselves).
pub fn eval_value(v: &Value, host: &dyn Host, path: &str) -> Result<Value, ValueError> {
    eval_value_in(v, &HostEnv::new(host), path).map(|v| v.value)
}

/// Evaluates an expression.
pub fn eval(e: &Expr, host: &dyn Host) -> Result<Value, EvalError> {
    eval_in(e, &HostEnv::new(host)).map(|v| v.value)
}

/// Parses a JSON string if it is an expression.
pub fn parse_string(s: &str) -> Result<Option<Expr>, EvalError> {
    match expr::classify(s) {
        StringKind::Literal(_) => Ok(None),
        StringKind::Expression(src) => expr::parse(src, 1).map(Some).map_err(syntax),
    }
}

fn syntax(e: expr::SyntaxError) -> EvalError {
    EvalError {
        message: e.message,
        pos: Some(e.pos),
        deferred: false,
        quotes_no_value: true,
    }
}

/// [`eval_string`] in an [`Env`].
pub(crate) fn eval_string_in(s: &str, env: &dyn Env) -> Result<Val, EvalError> {
    match expr::classify(s) {
        StringKind::Literal(l) => {
            env.budget().charge(1 + (l.len() / BYTES_PER_STEP) as u64)?;
            Ok(Val::plain(Value::String(l.into_owned())))
        }
        StringKind::Expression(src) => {
            // Parsing is work too: a long expression evaluated in every copy of a loop.
            env.budget()
                .charge(1 + (src.len() / PARSE_BYTES_PER_STEP) as u64)?;
            let e = expr::parse(src, 1).map_err(syntax)?;
            eval_in(&e, env)
        }
    }
}

fn join_path(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// Where a [`ValueError`] happened.
fn value_error(expression: &str, path: &str, error: EvalError) -> ValueError {
    ValueError {
        path: path.to_owned(),
        expression: crate::json::clip_to(expression, EXPRESSION_CHARS_SHOWN),
        error,
    }
}

/// [`eval_value`] in an [`Env`].
///
/// Evaluation recurses through here (a variable's value, a parameter's default), so each
/// branch is a function of its own: in unoptimised builds a frame holds every branch's
/// locals.
pub(crate) fn eval_value_in(v: &Value, env: &dyn Env, path: &str) -> Result<Val, ValueError> {
    match v {
        Value::String(s) => eval_string_in(s, env).map_err(|e| value_error(s, path, e)),
        Value::Array(a) => eval_array(a, env, path),
        Value::Object(o) => eval_object(o, env, path),
        other => {
            env.budget()
                .charge(1)
                .map_err(|e| value_error("", path, e))?;
            Ok(Val::plain(other.clone()))
        }
    }
}

fn eval_array(a: &[Value], env: &dyn Env, path: &str) -> Result<Val, ValueError> {
    let _depth = env.budget().enter().map_err(|e| value_error("", path, e))?;
    let mut out = Vec::with_capacity(a.len());
    let mut secure = Secure::none();
    for (i, x) in a.iter().enumerate() {
        let v = eval_value_in(x, env, &format!("{path}[{i}]"))?;
        secure.extend(&v.secure);
        out.push(v.value);
    }
    Ok(Val {
        value: Value::Array(out),
        secure,
    })
}

fn eval_object(o: &Map<String, Value>, env: &dyn Env, path: &str) -> Result<Val, ValueError> {
    let _depth = env.budget().enter().map_err(|e| value_error("", path, e))?;
    let mut out = Map::new();
    let mut secure = Secure::none();
    for (k, x) in o {
        let p = join_path(path, k);
        // Property names may be expressions too (`"[variables('identityId')]": {}`).
        let key = eval_string_in(k, env).map_err(|e| value_error(k, &p, e))?;
        secure.extend(&key.secure);
        let key = match key.value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let v = eval_value_in(x, env, &p)?;
        secure.extend(&v.secure);
        out.insert(key, v.value);
    }
    Ok(Val {
        value: Value::Object(out),
        secure,
    })
}

/// [`eval`] in an [`Env`]: the value and the secure parameters it derives from.
pub(crate) fn eval_in(e: &Expr, env: &dyn Env) -> Result<Val, EvalError> {
    let budget = env.budget();
    let _depth = budget.enter()?;
    let out = match e {
        Expr::Str(s) => Val::plain(Value::String(s.clone())),
        Expr::Int(i) => Val::plain(json!(i)),
        Expr::Bool(b) => Val::plain(Value::Bool(*b)),
        Expr::Null => Val::plain(Value::Null),
        Expr::Member { target, name, pos } => eval_member(target, name, *pos, env)?,
        Expr::Index { target, index, pos } => eval_index(target, index, *pos, env)?,
        Expr::Call { name, args, pos } => call(name, args, env).map_err(|e| e.at(*pos))?,
    };
    charge(e, &out.value, budget)?;
    Ok(out)
}

/// Charges the cost of `value`, produced by `e`, or refuses it.
fn charge(e: &Expr, value: &Value, budget: &Budget) -> Result<(), EvalError> {
    let steps = cost(value).map_err(|x| too_big(e, x))?;
    budget.charge(steps).map_err(|err| match e {
        Expr::Call { pos, .. } | Expr::Member { pos, .. } | Expr::Index { pos, .. } => err.at(*pos),
        _ => err,
    })
}

fn eval_member(target: &Expr, name: &str, pos: usize, env: &dyn Env) -> Result<Val, EvalError> {
    let t = eval_in(target, env)?;
    let value = member(&t.value, name).map_err(|e| {
        e.guard(
            &format!("The language expression property '{name}'"),
            &t.secure,
        )
        .at(pos)
    })?;
    Ok(Val {
        value,
        secure: t.secure,
    })
}

fn eval_index(target: &Expr, index: &Expr, pos: usize, env: &dyn Env) -> Result<Val, EvalError> {
    let t = eval_in(target, env)?;
    let i = eval_in(index, env)?;
    let mut secure = t.secure;
    secure.extend(&i.secure);
    let value = index_value(&t.value, &i.value)
        .map_err(|e| e.guard("The language expression index", &secure).at(pos))?;
    Ok(Val { value, secure })
}

/// The error for a value over the limits, naming what produced it.
fn too_big(e: &Expr, x: Excess) -> EvalError {
    let (what, pos) = match e {
        Expr::Call { name, pos, .. } => (format!("the template function '{name}'"), Some(*pos)),
        Expr::Member { name, pos, .. } => (format!("the property '{name}'"), Some(*pos)),
        Expr::Index { pos, .. } => ("the index".to_owned(), Some(*pos)),
        _ => ("a literal".to_owned(), None),
    };
    let err = EvalError::plain(format!("The value of {what} {}.", x.describe()));
    match pos {
        Some(p) => err.at(p),
        None => err,
    }
}

/// Evaluates a call: lazily for `if`, `and` and `or`, otherwise arguments first. The result
/// derives from every argument; an error on secure arguments quotes none of them.
fn call(name: &str, arg_exprs: &[Expr], env: &dyn Env) -> Result<Val, EvalError> {
    let lname = name.to_ascii_lowercase();
    if matches!(lname.as_str(), "if" | "and" | "or") {
        return call_lazy(name, &lname, arg_exprs, env);
    }
    let mut secure = Secure::none();
    let mut args = Vec::with_capacity(arg_exprs.len());
    for a in arg_exprs {
        let v = eval_in(a, env)?;
        secure.extend(&v.secure);
        args.push(v.value);
    }
    match functions::call(name, &args, env) {
        Ok(mut v) => {
            v.secure.extend(&secure);
            Ok(v)
        }
        Err(e) => Err(guard_call(e, name, &secure)),
    }
}

fn guard_call(e: EvalError, name: &str, secure: &Secure) -> EvalError {
    if secure.is_empty() {
        return e;
    }
    e.guard(&format!("The template function '{name}'"), secure)
}

fn call_lazy(name: &str, lname: &str, arg_exprs: &[Expr], env: &dyn Env) -> Result<Val, EvalError> {
    // This path takes about twice the stack of an eager call: it counts twice.
    let _depth = env.budget().enter()?;
    let mut seen = Secure::none();
    let mut eval_arg = |a: &Expr| {
        let v = eval_in(a, env)?;
        seen.extend(&v.secure);
        Ok(v)
    };
    let r = functions::call_lazy(name, lname, arg_exprs, &mut eval_arg);
    match r {
        Some(r) => r.map_err(|e| guard_call(e, name, &seen)),
        None => Err(EvalError::plain(format!(
            "The template function '{name}' is not valid."
        ))),
    }
}

fn member(t: &Value, name: &str) -> Result<Value, EvalError> {
    match t {
        Value::Object(o) => get_ci(o, name).cloned().ok_or_else(|| {
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            EvalError::msg(format!(
                "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                crate::json::clip(&keys.join(", "))
            ))
        }),
        other => Err(EvalError::plain(format!(
            "The language expression property '{name}' cannot be evaluated: the value is of type '{}', not 'Object'.",
            type_name(other)
        ))),
    }
}

fn index_value(t: &Value, i: &Value) -> Result<Value, EvalError> {
    match (t, i) {
        (Value::Array(a), Value::Number(n)) => {
            let found = n
                .as_i64()
                .and_then(|x| usize::try_from(x).ok())
                .and_then(|u| a.get(u));
            found.cloned().ok_or_else(|| {
                EvalError::msg(format!(
                    "The language expression array index '{n}' is out of bounds (the array has {} elements).",
                    a.len()
                ))
            })
        }
        (Value::Object(_), Value::String(s)) => member(t, s),
        _ => Err(EvalError::plain(format!(
            "The language expression cannot index a value of type '{}' with a value of type '{}'.",
            type_name(t),
            type_name(i)
        ))),
    }
}
