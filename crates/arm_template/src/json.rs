//! JSON values as ARM sees them: case-insensitive property lookup, ARM's type names, and
//! values clipped for messages.

use serde_json::{Map, Value};

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

/// Looks a property up: exact name first, then case-insensitively (as ARM does).
pub fn get_ci<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// How many characters of a value a message quotes at most.
const CLIP_CHARS: usize = 120;

/// `text`, cut to [`CLIP_CHARS`] characters (with `…`) so that a message stays short.
pub(crate) fn clip(text: &str) -> String {
    clip_to(text, CLIP_CHARS)
}

/// `text`, cut to `max` characters (with `…`).
pub(crate) fn clip_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((i, _)) => format!("{}…", &text[..i]),
    }
}

/// A value as a message quotes it: strings without quotes, the rest as JSON, clipped.
pub(crate) fn quote(v: &Value) -> String {
    match v {
        Value::String(s) => clip(s),
        other => {
            // Serialise at most a little more than is shown.
            let mut out = String::new();
            let _ = write_clipped(other, &mut out);
            clip(&out)
        }
    }
}

/// Writes `v` as JSON into `out`, stopping once `out` is longer than [`CLIP_CHARS`] (the
/// result is then cut by the caller). Iterative, so any nesting is fine.
fn write_clipped(v: &Value, out: &mut String) -> Result<(), ()> {
    enum Step<'a> {
        Value(&'a Value),
        Text(&'static str),
        Key(&'a str),
    }
    let mut stack = vec![Step::Value(v)];
    while let Some(step) = stack.pop() {
        if out.len() > CLIP_CHARS * 4 {
            return Err(());
        }
        match step {
            Step::Text(t) => out.push_str(t),
            Step::Key(k) => {
                out.push_str(&Value::String(k.to_owned()).to_string());
                out.push(':');
            }
            Step::Value(Value::Array(a)) => {
                out.push('[');
                stack.push(Step::Text("]"));
                for (i, x) in a.iter().enumerate().rev() {
                    stack.push(Step::Value(x));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            Step::Value(Value::Object(o)) => {
                out.push('{');
                stack.push(Step::Text("}"));
                let items: Vec<(&String, &Value)> = o.iter().collect();
                for (i, (k, x)) in items.into_iter().enumerate().rev() {
                    stack.push(Step::Value(x));
                    stack.push(Step::Key(k));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            Step::Value(scalar) => out.push_str(&scalar.to_string()),
        }
    }
    Ok(())
}

/// JSON5 numbers arrive as floats: integral ones become integers again.
pub(crate) fn normalize_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.as_i64().is_none() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                // In range and integral: the conversion is exact.
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize_numbers).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, normalize_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_are_clipped_and_iterative() {
        assert_eq!(quote(&json!("abc")), "abc");
        assert_eq!(quote(&json!({"a": [1, "x"]})), r#"{"a":[1,"x"]}"#);
        let long = "x".repeat(1000);
        let q = quote(&json!(long));
        assert_eq!(q.chars().count(), CLIP_CHARS + 1);
        assert!(q.ends_with('…'));
        let big = json!((0..10_000).collect::<Vec<_>>());
        assert!(quote(&big).chars().count() <= CLIP_CHARS + 1);
    }

    #[test]
    fn json5_floats_become_integers() {
        assert_eq!(normalize_numbers(json!([1.0, 1.5])), json!([1, 1.5]));
    }
}
