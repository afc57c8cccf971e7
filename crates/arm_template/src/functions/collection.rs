//! Array and object functions: `empty`, `length`, `contains`, `union`, `coalesce`,
//! `createArray`, `createObject`, `first`, `last`, `take`, `skip`, `range` and `null`.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use super::args::{arity, as_int, as_str, count, fail_plain, int_len, primitive_text};
use crate::error::EvalError;
use crate::json::{get_ci, type_name};
use crate::limits::{NODE_BYTES, check_size};

/// ARM's bound on `range`'s count.
const MAX_RANGE_COUNT: i64 = 10_000;
/// ARM's bound on `range`'s start + count.
const MAX_RANGE_END: i64 = 2_147_483_647;

/// The array and object functions; `None` when `lname` is not one.
pub(super) fn call(f: &str, lname: &str, a: &[Value]) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "null" => arity(f, a, 0, 0).map(|()| Value::Null),
        "empty" => arity(f, a, 1, 1).map(|()| Value::Bool(is_empty(&a[0]))),
        "length" => arity(f, a, 1, 1).and_then(|()| match &a[0] {
            Value::String(s) => Ok(json!(int_len(s.chars().count()))),
            Value::Array(x) => Ok(json!(int_len(x.len()))),
            Value::Object(o) => Ok(json!(int_len(o.len()))),
            other => Err(EvalError::plain(format!(
                "The template function 'length' expects a String, Array or Object, not '{}'.",
                type_name(other)
            ))),
        }),
        "contains" => arity(f, a, 2, 2).and_then(|()| match (&a[0], &a[1]) {
            (Value::String(s), v) => Ok(Value::Bool(s.contains(&primitive_text(f, v, 1)?))),
            (Value::Array(x), v) => Ok(Value::Bool(x.contains(v))),
            (Value::Object(o), Value::String(k)) => Ok(Value::Bool(get_ci(o, k).is_some())),
            (c, _) => Err(EvalError::plain(format!(
                "The template function 'contains' expects a String, Array or Object as its first argument, not '{}'.",
                type_name(c)
            ))),
        }),
        "union" => union(f, a),
        "coalesce" => Ok(a
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null)),
        "createarray" => Ok(Value::Array(a.to_vec())),
        "createobject" => create_object(f, a),
        "first" | "last" => arity(f, a, 1, 1).and_then(|()| {
            let first = lname == "first";
            match &a[0] {
                Value::Array(x) => Ok(if first { x.first() } else { x.last() }
                    .cloned()
                    .unwrap_or(Value::Null)),
                Value::String(s) => Ok(json!(
                    if first {
                        s.chars().next()
                    } else {
                        s.chars().next_back()
                    }
                    .map(String::from)
                    .unwrap_or_default()
                )),
                other => Err(fail_plain(
                    f,
                    format_args!("expects an Array or a String, not '{}'.", type_name(other)),
                )),
            }
        }),
        "take" | "skip" => arity(f, a, 2, 2).and_then(|()| {
            // Negative counts take or skip nothing; huge ones everything.
            let n = count(as_int(f, &a[1], 1)?);
            let take = lname == "take";
            match &a[0] {
                Value::Array(x) => Ok(Value::Array(if take {
                    x.iter().take(n).cloned().collect()
                } else {
                    x.iter().skip(n).cloned().collect()
                })),
                Value::String(s) => Ok(json!(if take {
                    s.chars().take(n).collect::<String>()
                } else {
                    s.chars().skip(n).collect::<String>()
                })),
                other => Err(fail_plain(
                    f,
                    format_args!("expects an Array or a String, not '{}'.", type_name(other)),
                )),
            }
        }),
        "range" => range(f, a),
        _ => return None,
    })
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

/// `range(startIndex, count)` with ARM's bounds: count 0 to 10000, start + count at most
/// 2147483647.
fn range(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 2, 2)?;
    let (start, n) = (as_int(f, &a[0], 0)?, as_int(f, &a[1], 1)?);
    if !(0..=MAX_RANGE_COUNT).contains(&n) {
        return Err(EvalError::msg(format!(
            "The template function 'range': the count must be 0 to {MAX_RANGE_COUNT}, not {n}."
        )));
    }
    match start.checked_add(n) {
        Some(end) if end <= MAX_RANGE_END => {
            Ok(Value::Array((start..end).map(Value::from).collect()))
        }
        _ => Err(EvalError::msg(format!(
            "The template function 'range': the start index {start} plus the count {n} must be at most {MAX_RANGE_END}."
        ))),
    }
}

/// `createObject(key1, value1, key2, value2, …)`.
fn create_object(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    if !a.len().is_multiple_of(2) {
        return Err(EvalError::plain(
            "The template function 'createObject' expects an even number of arguments (key, value, …).",
        ));
    }
    let mut out = Map::new();
    for (i, pair) in a.chunks(2).enumerate() {
        out.insert(as_str(f, &pair[0], i * 2)?.to_owned(), pair[1].clone());
    }
    Ok(Value::Object(out))
}

/// `union`: objects merged (later wins), or arrays joined without duplicates.
fn union(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 1, usize::MAX)?;
    if a.iter().all(Value::is_object) {
        let mut out = Map::new();
        for o in a.iter().filter_map(Value::as_object) {
            for (k, x) in o {
                out.insert(k.clone(), x.clone());
            }
        }
        return Ok(Value::Object(out));
    }
    if a.iter().all(Value::is_array) {
        let total = a
            .iter()
            .filter_map(Value::as_array)
            .fold(0usize, |n, x| n.saturating_add(x.len()));
        check_size(f, total.saturating_mul(NODE_BYTES))?;
        // Hashing keeps this linear (the old nested `contains` was quadratic).
        let mut seen: HashSet<Keyed<'_>> = HashSet::new();
        let mut out: Vec<Value> = Vec::new();
        for item in a.iter().filter_map(Value::as_array).flatten() {
            if seen.insert(Keyed(item)) {
                out.push(item.clone());
            }
        }
        return Ok(Value::Array(out));
    }
    Err(EvalError::plain(
        "The template function 'union' expects all arguments to be Objects or all to be Arrays.",
    ))
}

/// A value hashed consistently with its `==` (objects by sorted keys, `0.0 == -0.0`).
struct Keyed<'a>(&'a Value);

impl PartialEq for Keyed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Keyed<'_> {}

impl Hash for Keyed<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Iterative; values here are bounded in size and depth by the evaluator.
        let mut stack = vec![self.0];
        while let Some(v) = stack.pop() {
            match v {
                Value::Null => state.write_u8(0),
                Value::Bool(b) => {
                    state.write_u8(1);
                    b.hash(state);
                }
                Value::Number(n) => {
                    state.write_u8(2);
                    if let Some(i) = n.as_i64() {
                        i.hash(state);
                    } else if let Some(u) = n.as_u64() {
                        u.hash(state);
                    } else {
                        let x = n.as_f64().unwrap_or_default();
                        (if x == 0.0 { 0.0f64 } else { x }).to_bits().hash(state);
                    }
                }
                Value::String(s) => {
                    state.write_u8(3);
                    s.hash(state);
                }
                Value::Array(x) => {
                    state.write_u8(4);
                    x.len().hash(state);
                    stack.extend(x.iter().rev());
                }
                Value::Object(o) => {
                    state.write_u8(5);
                    let mut keys: Vec<&String> = o.keys().collect();
                    keys.sort_unstable();
                    keys.len().hash(state);
                    for k in keys.into_iter().rev() {
                        k.hash(state);
                        if let Some(x) = o.get(k) {
                            stack.push(x);
                        }
                    }
                }
            }
        }
    }
}
