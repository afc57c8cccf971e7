//! Evaluation of template expressions: the built-in functions and the walk over a JSON value
//! that evaluates every expression string in it.
//!
//! The evaluator knows nothing about deployments: parameters, variables, the deployment's
//! scope and `reference()` come from a [`Host`].

use base64::Engine;
use serde_json::{Map, Value, json};

use super::expr::{self, Expr, StringKind};

/// An evaluation error. `pos` is the character offset in the expression string when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
    /// Offset in the JSON string.
    pub pos: Option<usize>,
    /// The value depends on a resource that is not deployed yet (validation only).
    pub deferred: bool,
}

impl EvalError {
    /// An error without a position (the caller adds the position of the call).
    pub fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: None,
            deferred: false,
        }
    }

    /// A value that cannot be known before deployment.
    pub fn deferred(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: None,
            deferred: true,
        }
    }

    fn at(mut self, pos: usize) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }
}

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
}

/// JSON type name as ARM words it in errors.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// Evaluates a JSON string: a literal (with `[[` unescaped) or an expression.
pub fn eval_string(s: &str, host: &dyn Host) -> Result<Value, EvalError> {
    match expr::classify(s) {
        StringKind::Literal(l) => Ok(Value::String(l.into_owned())),
        StringKind::Expression(src) => {
            let e = expr::parse(src, 1).map_err(|e| EvalError {
                message: e.message,
                pos: Some(e.pos),
                deferred: false,
            })?;
            eval(&e, host)
        }
    }
}

/// Parses a JSON string if it is an expression.
pub fn parse_string(s: &str) -> Result<Option<Expr>, EvalError> {
    match expr::classify(s) {
        StringKind::Literal(_) => Ok(None),
        StringKind::Expression(src) => expr::parse(src, 1).map(Some).map_err(|e| EvalError {
            message: e.message,
            pos: Some(e.pos),
            deferred: false,
        }),
    }
}

/// An error found while evaluating a JSON value: where (a property path) and which string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Property path inside the value (`properties.tenantId`, `tags.env`, `[2]`).
    pub path: String,
    /// The JSON string that failed.
    pub expression: String,
    /// The error.
    pub error: EvalError,
}

fn join_path(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// Evaluates every expression string in `v` (object keys stay as they are).
pub fn eval_value(v: &Value, host: &dyn Host, path: &str) -> Result<Value, ValueError> {
    match v {
        Value::String(s) => eval_string(s, host).map_err(|error| ValueError {
            path: path.to_owned(),
            expression: s.clone(),
            error,
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| eval_value(x, host, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                let p = join_path(path, k);
                // Property names may be expressions too (`"[variables('identityId')]": {}`).
                let key = match eval_string(k, host) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_string(),
                    Err(error) => {
                        return Err(ValueError {
                            path: p,
                            expression: k.clone(),
                            error,
                        });
                    }
                };
                out.insert(key, eval_value(x, host, &p)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Looks a property up: exact name first, then case-insensitively (as ARM does).
pub fn get_ci<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Evaluates an expression.
pub fn eval(e: &Expr, host: &dyn Host) -> Result<Value, EvalError> {
    match e {
        Expr::Str(s) => Ok(Value::String(s.clone())),
        Expr::Int(i) => Ok(json!(i)),
        Expr::Bool(b) => Ok(Value::Bool(*b)),
        Expr::Null => Ok(Value::Null),
        Expr::Member { target, name, pos } => {
            let t = eval(target, host)?;
            member(&t, name).map_err(|e| e.at(*pos))
        }
        Expr::Index { target, index, pos } => {
            let t = eval(target, host)?;
            let i = eval(index, host)?;
            match (&t, &i) {
                (Value::Array(a), Value::Number(n)) => {
                    let idx = n.as_i64().unwrap_or(-1);
                    usize::try_from(idx)
                        .ok()
                        .and_then(|u| a.get(u))
                        .cloned()
                        .ok_or_else(|| {
                            EvalError::msg(format!(
                                "The language expression array index '{idx}' is out of bounds (the array has {} elements).",
                                a.len()
                            ))
                            .at(*pos)
                        })
                }
                (Value::Object(_), Value::String(s)) => member(&t, s).map_err(|e| e.at(*pos)),
                _ => Err(EvalError::msg(format!(
                    "The language expression cannot index a value of type '{}' with a value of type '{}'.",
                    type_name(&t),
                    type_name(&i)
                ))
                .at(*pos)),
            }
        }
        Expr::Call { name, args, pos } => call(name, args, host).map_err(|e| e.at(*pos)),
    }
}

fn member(t: &Value, name: &str) -> Result<Value, EvalError> {
    match t {
        Value::Object(o) => get_ci(o, name).cloned().ok_or_else(|| {
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            EvalError::msg(format!(
                "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                keys.join(", ")
            ))
        }),
        other => Err(EvalError::msg(format!(
            "The language expression property '{name}' cannot be evaluated: the value is of type '{}', not 'Object'.",
            type_name(other)
        ))),
    }
}

// ----- argument helpers -----

fn arity(f: &str, args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(EvalError::msg(format!(
            "The template function '{f}' expects {expected} argument(s) but was given {}.",
            args.len()
        )));
    }
    Ok(())
}

fn as_str<'a>(f: &str, v: &'a Value, i: usize) -> Result<&'a str, EvalError> {
    v.as_str().ok_or_else(|| {
        EvalError::msg(format!(
            "The template function '{f}' expects argument {} to be a String, but it is of type '{}'.",
            i + 1,
            type_name(v)
        ))
    })
}

fn as_int(f: &str, v: &Value, i: usize) -> Result<i64, EvalError> {
    v.as_i64().ok_or_else(|| {
        EvalError::msg(format!(
            "The template function '{f}' expects argument {} to be an Integer, but it is of type '{}'.",
            i + 1,
            type_name(v)
        ))
    })
}

fn as_bool(f: &str, v: &Value, i: usize) -> Result<bool, EvalError> {
    v.as_bool().ok_or_else(|| {
        EvalError::msg(format!(
            "The template function '{f}' expects argument {} to be a Boolean, but it is of type '{}'.",
            i + 1,
            type_name(v)
        ))
    })
}

fn strings(f: &str, args: &[Value]) -> Result<Vec<String>, EvalError> {
    args.iter()
        .enumerate()
        .map(|(i, a)| as_str(f, a, i).map(str::to_owned))
        .collect()
}

/// A primitive as text (for `concat` and `format`).
fn primitive_text(f: &str, v: &Value, i: usize) -> Result<String, EvalError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_owned()),
        Value::Null => Ok(String::new()),
        other => Err(EvalError::msg(format!(
            "The template function '{f}' cannot use argument {} of type '{}' as text.",
            i + 1,
            type_name(other)
        ))),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The `resourceId()` family: builds `{prefix}/providers/{ns}/{t1}/{n1}/{t2}/{n2}…`.
fn provider_path(f: &str, ty: &str, names: &[String]) -> Result<String, EvalError> {
    let segs: Vec<&str> = ty.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return Err(EvalError::msg(format!(
            "The template function '{f}': '{ty}' is not a fully qualified resource type ('Namespace/type')."
        )));
    }
    let names: Vec<&str> = names
        .iter()
        .flat_map(|n| n.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() != segs.len() - 1 {
        return Err(EvalError::msg(format!(
            "The template function '{f}' was given {} resource name segment(s) for the type '{ty}', which needs {}.",
            names.len(),
            segs.len() - 1
        )));
    }
    let mut out = format!("/providers/{}", segs[0]);
    for (t, n) in segs[1..].iter().zip(names) {
        out.push('/');
        out.push_str(t);
        out.push('/');
        out.push_str(n);
    }
    Ok(out)
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn compare(f: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, EvalError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x
            .as_i64()
            .unwrap_or_default()
            .cmp(&y.as_i64().unwrap_or_default())),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(EvalError::msg(format!(
            "The template function '{f}' compares two Integers or two Strings, not '{}' and '{}'.",
            type_name(a),
            type_name(b)
        ))),
    }
}

/// .NET-style composite formatting: `{0}`, `{1:…}` (the format specifier is ignored), `{{`, `}}`.
fn format_str(fmt: &str, args: &[Value]) -> Result<String, EvalError> {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '{' => {
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == '}')
                    .map(|p| p + i)
                    .ok_or_else(|| {
                        EvalError::msg(format!(
                            "The template function 'format': the format string '{fmt}' has an unclosed '{{'."
                        ))
                    })?;
                let spec: String = chars[i + 1..end].iter().collect();
                let idx_text = spec.split([':', ',']).next().unwrap_or("").trim();
                let idx: usize = idx_text.parse().map_err(|_| {
                    EvalError::msg(format!(
                        "The template function 'format': '{{{spec}}}' in the format string is not a valid placeholder."
                    ))
                })?;
                let v = args.get(idx).ok_or_else(|| {
                    EvalError::msg(format!(
                        "The template function 'format': the placeholder '{{{idx}}}' has no matching argument ({} given).",
                        args.len()
                    ))
                })?;
                out.push_str(&match v {
                    Value::Array(_) | Value::Object(_) => v.to_string(),
                    _ => primitive_text("format", v, idx + 1)?,
                });
                i = end + 1;
            }
            '}' => {
                return Err(EvalError::msg(format!(
                    "The template function 'format': the format string '{fmt}' has an unmatched '}}'."
                )));
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Functions ARM has but this engine does not evaluate.
const UNSUPPORTED: &[&str] = &[
    "listkeys",
    "listsecrets",
    "list",
    "listaccountsas",
    "listservicesas",
    "pickzones",
    "environment",
    "managementgroup",
    "managementgroupresourceid",
    "providers",
    "items",
    "filter",
    "map",
    "reduce",
    "sort",
    "lambda",
    "datetimeadd",
    "datetimefromepoch",
    "datetimetoepoch",
];

fn call(name: &str, arg_exprs: &[Expr], host: &dyn Host) -> Result<Value, EvalError> {
    let lname = name.to_ascii_lowercase();
    // Lazily evaluated functions first.
    match lname.as_str() {
        "if" => {
            if arg_exprs.len() != 3 {
                return Err(EvalError::msg(format!(
                    "The template function 'if' expects 3 argument(s) but was given {}.",
                    arg_exprs.len()
                )));
            }
            let c = eval(&arg_exprs[0], host)?;
            return if as_bool("if", &c, 0)? {
                eval(&arg_exprs[1], host)
            } else {
                eval(&arg_exprs[2], host)
            };
        }
        "and" | "or" => {
            if arg_exprs.len() < 2 {
                return Err(EvalError::msg(format!(
                    "The template function '{name}' expects at least 2 argument(s) but was given {}.",
                    arg_exprs.len()
                )));
            }
            let want = lname == "or";
            for (i, a) in arg_exprs.iter().enumerate() {
                if as_bool(name, &eval(a, host)?, i)? == want {
                    return Ok(Value::Bool(want));
                }
            }
            return Ok(Value::Bool(!want));
        }
        _ => {}
    }
    let args: Vec<Value> = arg_exprs
        .iter()
        .map(|a| eval(a, host))
        .collect::<Result<_, _>>()?;
    let a = args.as_slice();
    match lname.as_str() {
        "parameters" => {
            arity(name, a, 1, 1)?;
            host.parameter(as_str(name, &a[0], 0)?)
        }
        "variables" => {
            arity(name, a, 1, 1)?;
            host.variable(as_str(name, &a[0], 0)?)
        }
        "resourcegroup" => {
            arity(name, a, 0, 0)?;
            Ok(host.resource_group())
        }
        "subscription" => {
            arity(name, a, 0, 0)?;
            Ok(host.subscription())
        }
        "deployment" => {
            arity(name, a, 0, 0)?;
            Ok(host.deployment())
        }
        "tenant" => {
            arity(name, a, 0, 0)?;
            Ok(host.tenant())
        }
        "copyindex" => {
            arity(name, a, 0, 2)?;
            let (loop_name, offset) = match a {
                [] => (None, 0),
                [Value::String(s)] => (Some(s.as_str()), 0),
                [o] => (None, as_int(name, o, 0)?),
                [l, o] => (Some(as_str(name, l, 0)?), as_int(name, o, 1)?),
                _ => (None, 0),
            };
            Ok(json!(host.copy_index(loop_name)? + offset))
        }
        "resourceid" => {
            arity(name, a, 2, usize::MAX)?;
            let s = strings(name, a)?;
            let ti = s.iter().position(|x| x.contains('/')).ok_or_else(|| {
                EvalError::msg(
                    "The template function 'resourceId': no argument is a resource type ('Namespace/type').",
                )
            })?;
            let rg = host.resource_group();
            let sub = host.subscription();
            let (sub_id, rg_name) = match ti {
                0 => (str_field(&sub, "subscriptionId"), str_field(&rg, "name")),
                1 => (str_field(&sub, "subscriptionId"), s[0].clone()),
                2 => (s[0].clone(), s[1].clone()),
                _ => {
                    return Err(EvalError::msg(
                        "The template function 'resourceId' takes at most a subscription id and a resource group name before the resource type.",
                    ));
                }
            };
            let tail = provider_path(name, &s[ti], &s[ti + 1..])?;
            Ok(json!(format!(
                "/subscriptions/{sub_id}/resourceGroups/{rg_name}{tail}"
            )))
        }
        "subscriptionresourceid" => {
            arity(name, a, 2, usize::MAX)?;
            let s = strings(name, a)?;
            let (sub_id, ti) = if s[0].contains('/') {
                (str_field(&host.subscription(), "subscriptionId"), 0)
            } else {
                (s[0].clone(), 1)
            };
            let ty = s.get(ti).cloned().unwrap_or_default();
            let tail = provider_path(name, &ty, &s[(ti + 1).min(s.len())..])?;
            Ok(json!(format!("/subscriptions/{sub_id}{tail}")))
        }
        "tenantresourceid" => {
            arity(name, a, 2, usize::MAX)?;
            let s = strings(name, a)?;
            provider_path(name, &s[0], &s[1..]).map(Value::String)
        }
        "extensionresourceid" => {
            arity(name, a, 3, usize::MAX)?;
            let s = strings(name, a)?;
            let tail = provider_path(name, &s[1], &s[2..])?;
            Ok(json!(format!("{}{tail}", s[0].trim_end_matches('/'))))
        }
        "reference" => {
            arity(name, a, 1, 3)?;
            let target = as_str(name, &a[0], 0)?;
            let api = a.get(1).map(|v| as_str(name, v, 1)).transpose()?;
            let full = match a.get(2) {
                None => false,
                Some(v) => as_str(name, v, 2)?.eq_ignore_ascii_case("full"),
            };
            host.reference(target, api, full)
        }
        "concat" => {
            if !a.is_empty() && a.iter().all(Value::is_array) {
                let mut out = Vec::new();
                for v in a {
                    if let Value::Array(x) = v {
                        out.extend(x.iter().cloned());
                    }
                }
                return Ok(Value::Array(out));
            }
            let mut s = String::new();
            for (i, v) in a.iter().enumerate() {
                s.push_str(&primitive_text(name, v, i)?);
            }
            Ok(Value::String(s))
        }
        "format" => {
            arity(name, a, 1, usize::MAX)?;
            format_str(as_str(name, &a[0], 0)?, &a[1..]).map(Value::String)
        }
        "tolower" => {
            arity(name, a, 1, 1)?;
            Ok(json!(as_str(name, &a[0], 0)?.to_lowercase()))
        }
        "toupper" => {
            arity(name, a, 1, 1)?;
            Ok(json!(as_str(name, &a[0], 0)?.to_uppercase()))
        }
        "trim" => {
            arity(name, a, 1, 1)?;
            Ok(json!(as_str(name, &a[0], 0)?.trim()))
        }
        "uniquestring" => {
            arity(name, a, 1, usize::MAX)?;
            Ok(json!(unique_string(&strings(name, a)?.join("-"))))
        }
        "guid" => {
            arity(name, a, 1, usize::MAX)?;
            Ok(json!(deterministic_guid(&strings(name, a)?.join("-"))))
        }
        "newguid" => {
            arity(name, a, 0, 0)?;
            Ok(json!(uuid::Uuid::new_v4().to_string()))
        }
        "utcnow" => {
            arity(name, a, 0, 0)?;
            let fmt =
                time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
            Ok(json!(
                time::OffsetDateTime::now_utc()
                    .format(&fmt)
                    .unwrap_or_default()
            ))
        }
        "equals" => {
            arity(name, a, 2, 2)?;
            Ok(Value::Bool(a[0] == a[1]))
        }
        "not" => {
            arity(name, a, 1, 1)?;
            Ok(Value::Bool(!as_bool(name, &a[0], 0)?))
        }
        "true" => {
            arity(name, a, 0, 0)?;
            Ok(Value::Bool(true))
        }
        "false" => {
            arity(name, a, 0, 0)?;
            Ok(Value::Bool(false))
        }
        "null" => {
            arity(name, a, 0, 0)?;
            Ok(Value::Null)
        }
        "empty" => {
            arity(name, a, 1, 1)?;
            Ok(Value::Bool(is_empty(&a[0])))
        }
        "length" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::String(s) => Ok(json!(s.chars().count())),
                Value::Array(x) => Ok(json!(x.len())),
                Value::Object(o) => Ok(json!(o.len())),
                other => Err(EvalError::msg(format!(
                    "The template function 'length' expects a String, Array or Object, not '{}'.",
                    type_name(other)
                ))),
            }
        }
        "contains" => {
            arity(name, a, 2, 2)?;
            match (&a[0], &a[1]) {
                (Value::String(s), v) => Ok(Value::Bool(s.contains(&primitive_text(name, v, 1)?))),
                (Value::Array(x), v) => Ok(Value::Bool(x.contains(v))),
                (Value::Object(o), Value::String(k)) => Ok(Value::Bool(get_ci(o, k).is_some())),
                (c, _) => Err(EvalError::msg(format!(
                    "The template function 'contains' expects a String, Array or Object as its first argument, not '{}'.",
                    type_name(c)
                ))),
            }
        }
        "union" => {
            arity(name, a, 1, usize::MAX)?;
            if a.iter().all(Value::is_object) {
                let mut out = Map::new();
                for v in a {
                    if let Value::Object(o) = v {
                        for (k, x) in o {
                            out.insert(k.clone(), x.clone());
                        }
                    }
                }
                Ok(Value::Object(out))
            } else if a.iter().all(Value::is_array) {
                let mut out: Vec<Value> = Vec::new();
                for v in a {
                    if let Value::Array(x) = v {
                        for item in x {
                            if !out.contains(item) {
                                out.push(item.clone());
                            }
                        }
                    }
                }
                Ok(Value::Array(out))
            } else {
                Err(EvalError::msg(
                    "The template function 'union' expects all arguments to be Objects or all to be Arrays.",
                ))
            }
        }
        "coalesce" => Ok(a
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null)),
        "createarray" => Ok(Value::Array(a.to_vec())),
        "createobject" => {
            if !a.len().is_multiple_of(2) {
                return Err(EvalError::msg(
                    "The template function 'createObject' expects an even number of arguments (key, value, …).",
                ));
            }
            let mut out = Map::new();
            for (i, pair) in a.chunks(2).enumerate() {
                out.insert(as_str(name, &pair[0], i * 2)?.to_owned(), pair[1].clone());
            }
            Ok(Value::Object(out))
        }
        "string" => {
            arity(name, a, 1, 1)?;
            Ok(json!(match &a[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
        }
        "int" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Number(n) => Ok(json!(n.as_i64().unwrap_or_default())),
                Value::String(s) => s.trim().parse::<i64>().map(|i| json!(i)).map_err(|_| {
                    EvalError::msg(format!(
                        "The template function 'int' cannot convert '{s}' to an Integer."
                    ))
                }),
                other => Err(EvalError::msg(format!(
                    "The template function 'int' cannot convert a value of type '{}'.",
                    type_name(other)
                ))),
            }
        }
        "bool" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::Number(n) => Ok(Value::Bool(n.as_i64() != Some(0))),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                other => Err(EvalError::msg(format!(
                    "The template function 'bool' cannot convert '{other}' to a Boolean."
                ))),
            }
        }
        "json" => {
            arity(name, a, 1, 1)?;
            serde_json::from_str(as_str(name, &a[0], 0)?).map_err(|e| {
                EvalError::msg(format!(
                    "The template function 'json': the argument is not valid JSON: {e}."
                ))
            })
        }
        "base64" => {
            arity(name, a, 1, 1)?;
            Ok(json!(
                base64::engine::general_purpose::STANDARD.encode(as_str(name, &a[0], 0)?)
            ))
        }
        "base64tostring" => {
            arity(name, a, 1, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(as_str(name, &a[0], 0)?)
                .map_err(|_| {
                    EvalError::msg(
                        "The template function 'base64ToString': the argument is not valid base64.",
                    )
                })?;
            Ok(json!(String::from_utf8_lossy(&bytes)))
        }
        "replace" => {
            arity(name, a, 3, 3)?;
            let s = strings(name, a)?;
            Ok(json!(s[0].replace(&s[1], &s[2])))
        }
        "split" => {
            arity(name, a, 2, 2)?;
            let s = as_str(name, &a[0], 0)?;
            let delims: Vec<String> = match &a[1] {
                Value::Array(d) => strings(name, d)?,
                d => vec![as_str(name, d, 1)?.to_owned()],
            };
            let mut parts = vec![s.to_owned()];
            for d in delims.iter().filter(|d| !d.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(d.as_str()).map(str::to_owned).collect::<Vec<_>>())
                    .collect();
            }
            Ok(json!(parts))
        }
        "substring" => {
            arity(name, a, 2, 3)?;
            let chars: Vec<char> = as_str(name, &a[0], 0)?.chars().collect();
            let start = as_int(name, &a[1], 1)?;
            let len = match a.get(2) {
                Some(v) => as_int(name, v, 2)?,
                None => chars.len() as i64 - start,
            };
            if start < 0 || len < 0 || start + len > chars.len() as i64 {
                return Err(EvalError::msg(format!(
                    "The template function 'substring': start {start} and length {len} are outside the string of length {}.",
                    chars.len()
                )));
            }
            Ok(json!(
                chars[start as usize..(start + len) as usize]
                    .iter()
                    .collect::<String>()
            ))
        }
        "startswith" | "endswith" => {
            arity(name, a, 2, 2)?;
            let s = strings(name, a)?;
            let (x, y) = (s[0].to_lowercase(), s[1].to_lowercase());
            Ok(Value::Bool(if lname == "startswith" {
                x.starts_with(&y)
            } else {
                x.ends_with(&y)
            }))
        }
        "indexof" | "lastindexof" => {
            arity(name, a, 2, 2)?;
            let s = strings(name, a)?;
            let (x, y) = (s[0].to_lowercase(), s[1].to_lowercase());
            let found = if lname == "indexof" {
                x.find(&y)
            } else {
                x.rfind(&y)
            };
            Ok(json!(found.map_or(-1, |b| x[..b].chars().count() as i64)))
        }
        "first" | "last" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Array(x) => Ok((if lname == "first" {
                    x.first()
                } else {
                    x.last()
                })
                .cloned()
                .unwrap_or(Value::Null)),
                Value::String(s) => Ok(json!(
                    (if lname == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    })
                    .map(String::from)
                    .unwrap_or_default()
                )),
                other => Err(EvalError::msg(format!(
                    "The template function '{name}' expects an Array or a String, not '{}'.",
                    type_name(other)
                ))),
            }
        }
        "take" | "skip" => {
            arity(name, a, 2, 2)?;
            let n = as_int(name, &a[1], 1)?.max(0) as usize;
            match &a[0] {
                Value::Array(x) => Ok(Value::Array(if lname == "take" {
                    x.iter().take(n).cloned().collect()
                } else {
                    x.iter().skip(n).cloned().collect()
                })),
                Value::String(s) => Ok(json!(if lname == "take" {
                    s.chars().take(n).collect::<String>()
                } else {
                    s.chars().skip(n).collect::<String>()
                })),
                other => Err(EvalError::msg(format!(
                    "The template function '{name}' expects an Array or a String, not '{}'.",
                    type_name(other)
                ))),
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" => {
            arity(name, a, 2, 2)?;
            let (x, y) = (as_int(name, &a[0], 0)?, as_int(name, &a[1], 1)?);
            let r = match lname.as_str() {
                "add" => x.checked_add(y),
                "sub" => x.checked_sub(y),
                "mul" => x.checked_mul(y),
                "div" => x.checked_div(y),
                _ => x.checked_rem(y),
            };
            r.map(|v| json!(v)).ok_or_else(|| {
                EvalError::msg(format!(
                    "The template function '{name}' overflowed or divided by zero."
                ))
            })
        }
        "min" | "max" => {
            let items: Vec<Value> = match a {
                [Value::Array(x)] => x.clone(),
                _ => a.to_vec(),
            };
            let ints = items
                .iter()
                .enumerate()
                .map(|(i, v)| as_int(name, v, i))
                .collect::<Result<Vec<_>, _>>()?;
            let r = if lname == "min" {
                ints.iter().min()
            } else {
                ints.iter().max()
            };
            r.map(|v| json!(v)).ok_or_else(|| {
                EvalError::msg(format!(
                    "The template function '{name}' needs at least one value."
                ))
            })
        }
        "greater" | "less" | "greaterorequals" | "lessorequals" => {
            arity(name, a, 2, 2)?;
            let o = compare(name, &a[0], &a[1])?;
            use std::cmp::Ordering::*;
            Ok(Value::Bool(match lname.as_str() {
                "greater" => o == Greater,
                "less" => o == Less,
                "greaterorequals" => o != Less,
                _ => o != Greater,
            }))
        }
        "range" => {
            arity(name, a, 2, 2)?;
            let (start, count) = (as_int(name, &a[0], 0)?, as_int(name, &a[1], 1)?);
            if !(0..=10_000).contains(&count) {
                return Err(EvalError::msg(
                    "The template function 'range': the count must be 0 to 10000.",
                ));
            }
            Ok(Value::Array((0..count).map(|i| json!(start + i)).collect()))
        }
        other if UNSUPPORTED.contains(&other) => Err(EvalError::msg(format!(
            "The template function '{name}' is not supported by the emulator's template engine."
        ))),
        _ => Err(EvalError::msg(format!(
            "The template function '{name}' is not valid. Please see https://aka.ms/arm-functions for usage details."
        ))),
    }
}

// ----- uniqueString and guid -----

/// The 64-bit MurmurHash variant ARM uses for `uniqueString` (two 32-bit lanes over 8-byte
/// blocks, little-endian), written from the algorithm's description.
fn arm_murmur64(data: &[u8]) -> u64 {
    const C1: u32 = 0x239b_961b;
    const C2: u32 = 0xab0e_9789;
    const F1: u32 = 0x85eb_ca6b;
    const F2: u32 = 0xc2b2_ae35;
    let le = |b: &[u8]| -> u32 {
        b.iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (8 * i)))
    };
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut chunks = data.chunks_exact(8);
    for block in &mut chunks {
        let k1 = le(&block[..4])
            .wrapping_mul(C1)
            .rotate_left(15)
            .wrapping_mul(C2);
        let k2 = le(&block[4..])
            .wrapping_mul(C2)
            .rotate_left(17)
            .wrapping_mul(C1);
        h1 = (h1 ^ k1).rotate_left(19).wrapping_add(h2);
        h1 = h1.wrapping_mul(5).wrapping_add(0x561c_cd1b);
        h2 = (h2 ^ k2).rotate_left(13).wrapping_add(h1);
        h2 = h2.wrapping_mul(5).wrapping_add(0x0bca_a747);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let (a, b) = rest.split_at(rest.len().min(4));
        h1 ^= le(a).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        if !b.is_empty() {
            h2 ^= le(b).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        }
    }
    let len = data.len() as u32;
    h2 ^= len;
    h1 = (h1 ^ len).wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    let fmix = |mut h: u32| {
        h = (h ^ (h >> 16)).wrapping_mul(F1);
        h = (h ^ (h >> 13)).wrapping_mul(F2);
        h ^ (h >> 16)
    };
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// `uniqueString(...)` of the hyphen-joined arguments: 13 lowercase base32 characters.
pub fn unique_string(input: &str) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut h = arm_murmur64(input.as_bytes());
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        out.push(char::from(ALPHABET[(h >> 59) as usize & 31]));
        h <<= 5;
    }
    out
}

/// Namespace of ARM's `guid()` (a name-based, SHA-1 UUID).
const GUID_NAMESPACE: uuid::Uuid = uuid::uuid!("11fb06fb-712d-4ddd-98c7-e71bbd588830");

/// `guid(...)` of the hyphen-joined arguments.
pub fn deterministic_guid(input: &str) -> String {
    uuid::Uuid::new_v5(&GUID_NAMESPACE, input.as_bytes()).to_string()
}
