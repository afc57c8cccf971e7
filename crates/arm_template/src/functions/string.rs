//! String functions: `concat`, `format`, `toLower`, `toUpper`, `trim`, `replace`, `split`,
//! `substring`, `startsWith`, `endsWith`, `indexOf`, `lastIndexOf`, `padLeft`, and the
//! conversions `string`, `json`, `base64`, `base64ToString`.
//!
//! Every function that can make a value larger than its arguments checks the size it would
//! produce before building it.

use base64::Engine as _;
use serde_json::{Value, json};

use super::args::{arity, as_int, as_str, count, fail_plain, int_len, primitive_text, strings};
use crate::error::EvalError;
use crate::json::quote;
use crate::limits::{BYTES_PER_STEP, Budget, NODE_BYTES, check_size};

/// The string functions; `None` when `lname` is not one.
pub(super) fn call(
    f: &str,
    lname: &str,
    a: &[Value],
    budget: &Budget,
) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "concat" => concat(f, a),
        "format" => arity(f, a, 1, usize::MAX)
            .and_then(|()| format_str(f, as_str(f, &a[0], 0)?, &a[1..]).map(Value::String)),
        "tolower" => one_str(f, a).map(|s| json!(s.to_lowercase())),
        "toupper" => one_str(f, a).map(|s| json!(s.to_uppercase())),
        "trim" => one_str(f, a).map(|s| json!(s.trim())),
        "replace" => replace(f, a),
        "split" => split(f, a, budget),
        "substring" => substring(f, a),
        "startswith" | "endswith" => arity(f, a, 2, 2).and_then(|()| {
            let s = strings(f, a)?;
            let (x, y) = (s[0].to_lowercase(), s[1].to_lowercase());
            Ok(Value::Bool(if lname == "startswith" {
                x.starts_with(&y)
            } else {
                x.ends_with(&y)
            }))
        }),
        "indexof" | "lastindexof" => arity(f, a, 2, 2).and_then(|()| {
            let s = strings(f, a)?;
            let (x, y) = (s[0].to_lowercase(), s[1].to_lowercase());
            let found = if lname == "indexof" {
                x.find(&y)
            } else {
                x.rfind(&y)
            };
            Ok(json!(found.map_or(-1, |b| int_len(x[..b].chars().count()))))
        }),
        "padleft" => pad_left(f, a),
        "string" => arity(f, a, 1, 1).map(|()| {
            json!(match &a[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }),
        "json" => arity(f, a, 1, 1).and_then(|()| {
            // serde_json refuses nesting deeper than 128 on its own.
            serde_json::from_str(as_str(f, &a[0], 0)?).map_err(|e| {
                EvalError::msg(format!(
                    "The template function 'json': the argument is not valid JSON: {e}."
                ))
            })
        }),
        "base64" => one_str(f, a).and_then(|s| {
            check_size(f, s.len().div_ceil(3).saturating_mul(4))?;
            Ok(json!(base64::engine::general_purpose::STANDARD.encode(s)))
        }),
        "base64tostring" => one_str(f, a).and_then(|s| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| {
                    EvalError::plain(
                        "The template function 'base64ToString': the argument is not valid base64.",
                    )
                })?;
            Ok(json!(String::from_utf8_lossy(&bytes)))
        }),
        _ => return None,
    })
}

/// The one string argument of `f`.
fn one_str<'a>(f: &str, a: &'a [Value]) -> Result<&'a str, EvalError> {
    arity(f, a, 1, 1)?;
    as_str(f, &a[0], 0)
}

/// `concat`: arrays joined, or primitives joined as text.
fn concat(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    if !a.is_empty() && a.iter().all(Value::is_array) {
        let total = a
            .iter()
            .filter_map(Value::as_array)
            .fold(0usize, |n, x| n.saturating_add(x.len()));
        check_size(f, total.saturating_mul(NODE_BYTES))?;
        let mut out = Vec::with_capacity(total);
        for x in a.iter().filter_map(Value::as_array) {
            out.extend(x.iter().cloned());
        }
        return Ok(Value::Array(out));
    }
    let parts = a
        .iter()
        .enumerate()
        .map(|(i, v)| primitive_text(f, v, i))
        .collect::<Result<Vec<_>, _>>()?;
    check_size(
        f,
        parts.iter().fold(0usize, |n, p| n.saturating_add(p.len())),
    )?;
    Ok(Value::String(parts.concat()))
}

/// `replace(s, old, new)`, with the result's size checked before it is built.
fn replace(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 3, 3)?;
    let s = strings(f, a)?;
    let (text, old, new) = (s[0], s[1], s[2]);
    if old.is_empty() {
        return Err(fail_plain(
            f,
            "expects a non-empty string to replace (argument 2).",
        ));
    }
    let matches = text.matches(old).count();
    let size = text
        .len()
        .saturating_sub(matches.saturating_mul(old.len()))
        .saturating_add(matches.saturating_mul(new.len()));
    check_size(f, size)?;
    Ok(json!(text.replace(old, new)))
}

/// `split(s, delimiter | delimiters)`.
fn split(f: &str, a: &[Value], budget: &Budget) -> Result<Value, EvalError> {
    arity(f, a, 2, 2)?;
    let s = as_str(f, &a[0], 0)?;
    let delims: Vec<&str> = match &a[1] {
        Value::Array(d) => strings(f, d)?,
        d => vec![as_str(f, d, 1)?],
    };
    // One pass over the parts per delimiter.
    let passes = delims.iter().filter(|d| !d.is_empty()).count();
    budget.charge((passes as u64).saturating_mul(1 + (s.len() / BYTES_PER_STEP) as u64))?;
    let mut parts = vec![s.to_owned()];
    for d in delims.iter().filter(|d| !d.is_empty()) {
        parts = parts
            .iter()
            .flat_map(|p| p.split(d).map(str::to_owned).collect::<Vec<_>>())
            .collect();
        check_size(
            f,
            parts
                .iter()
                .fold(0usize, |n, p| n.saturating_add(p.len() + NODE_BYTES)),
        )?;
    }
    Ok(json!(parts))
}

/// `substring(s, start, length?)` in characters, every bound checked.
fn substring(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 2, 3)?;
    let s = as_str(f, &a[0], 0)?;
    let chars = int_len(s.chars().count());
    let start = as_int(f, &a[1], 1)?;
    let len = match a.get(2) {
        Some(v) => as_int(f, v, 2)?,
        None => chars.saturating_sub(start),
    };
    let end = start.checked_add(len);
    let ok = start >= 0 && len >= 0 && end.is_some_and(|e| e <= chars);
    if !ok {
        return Err(EvalError::msg(format!(
            "The template function 'substring': start {start} and length {len} are outside the string of length {chars}."
        )));
    }
    let out: String = s.chars().skip(count(start)).take(count(len)).collect();
    Ok(json!(out))
}

/// `padLeft(value, totalLength, paddingCharacter?)`.
fn pad_left(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 2, 3)?;
    let text = match &a[0] {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() => n.to_string(),
        other => {
            return Err(fail_plain(
                f,
                format_args!(
                    "expects argument 1 to be a String or an Integer, but it is of type '{}'.",
                    crate::json::type_name(other)
                ),
            ));
        }
    };
    let total = as_int(f, &a[1], 1)?;
    if total < 0 {
        return Err(fail_plain(
            f,
            "expects a total length (argument 2) that is not negative.",
        ));
    }
    let pad = match a.get(2) {
        None => ' ',
        Some(v) => {
            let p = as_str(f, v, 2)?;
            let mut it = p.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(fail_plain(
                        f,
                        "expects a padding character (argument 3) of exactly one character.",
                    ));
                }
            }
        }
    };
    let have = text.chars().count();
    let missing = count(total).saturating_sub(have);
    check_size(
        f,
        text.len()
            .saturating_add(missing.saturating_mul(pad.len_utf8())),
    )?;
    let mut out = String::new();
    out.extend(std::iter::repeat_n(pad, missing));
    out.push_str(&text);
    Ok(json!(out))
}

/// .NET-style composite formatting: `{0}`, `{1:…}` (the format specifier is ignored), `{{`, `}}`.
fn format_str(f: &str, fmt: &str, args: &[Value]) -> Result<String, EvalError> {
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
                            "The template function 'format': the format string '{}' has an unclosed '{{'.",
                            quote(&json!(fmt))
                        ))
                    })?;
                let spec: String = chars[i + 1..end].iter().collect();
                let idx_text = spec.split([':', ',']).next().unwrap_or("").trim();
                let idx: usize = idx_text.parse().map_err(|_| {
                    EvalError::msg(format!(
                        "The template function 'format': '{{{}}}' in the format string is not a valid placeholder.",
                        quote(&json!(spec))
                    ))
                })?;
                let v = args.get(idx).ok_or_else(|| {
                    EvalError::plain(format!(
                        "The template function 'format': the placeholder '{{{idx}}}' has no matching argument ({} given).",
                        args.len()
                    ))
                })?;
                let text = match v {
                    Value::Array(_) | Value::Object(_) => v.to_string(),
                    _ => primitive_text(f, v, idx + 1)?,
                };
                check_size(f, out.len().saturating_add(text.len()))?;
                out.push_str(&text);
                i = end + 1;
            }
            '}' => {
                return Err(EvalError::msg(format!(
                    "The template function 'format': the format string '{}' has an unmatched '}}'.",
                    quote(&json!(fmt))
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
