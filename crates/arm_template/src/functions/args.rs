//! Argument checks shared by the template functions: arity, types and conversions, each
//! failing with a message in ARM's words that names the function (and quotes no value).

use serde_json::Value;

use crate::error::EvalError;
use crate::json::type_name;

/// An error of function `f`: `The template function 'f' …`. The message may quote values
/// (it is withheld when they are secure).
pub(super) fn fail(f: &str, what: impl std::fmt::Display) -> EvalError {
    EvalError::msg(format!("The template function '{f}' {what}"))
}

/// As [`fail`], for messages that quote no value.
pub(super) fn fail_plain(f: &str, what: impl std::fmt::Display) -> EvalError {
    EvalError::plain(format!("The template function '{f}' {what}"))
}

/// Checks the number of arguments.
pub(super) fn arity(f: &str, args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(fail_plain(
            f,
            format!(
                "expects {expected} argument(s) but was given {}.",
                args.len()
            ),
        ));
    }
    Ok(())
}

/// Argument `i` (0-based) as a string.
pub(super) fn as_str<'a>(f: &str, v: &'a Value, i: usize) -> Result<&'a str, EvalError> {
    v.as_str().ok_or_else(|| {
        fail_plain(
            f,
            format!(
                "expects argument {} to be a String, but it is of type '{}'.",
                i + 1,
                type_name(v)
            ),
        )
    })
}

/// Argument `i` (0-based) as a 64-bit integer.
pub(super) fn as_int(f: &str, v: &Value, i: usize) -> Result<i64, EvalError> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            fail_plain(
                f,
                format!(
                    "expects argument {} to be an Integer from {} to {}, but it is not.",
                    i + 1,
                    i64::MIN,
                    i64::MAX
                ),
            )
        }),
        other => Err(fail_plain(
            f,
            format!(
                "expects argument {} to be an Integer, but it is of type '{}'.",
                i + 1,
                type_name(other)
            ),
        )),
    }
}

/// Argument `i` (0-based) as a boolean.
pub(super) fn as_bool(f: &str, v: &Value, i: usize) -> Result<bool, EvalError> {
    v.as_bool().ok_or_else(|| {
        fail_plain(
            f,
            format!(
                "expects argument {} to be a Boolean, but it is of type '{}'.",
                i + 1,
                type_name(v)
            ),
        )
    })
}

/// Every argument as a string.
pub(super) fn strings<'a>(f: &str, args: &'a [Value]) -> Result<Vec<&'a str>, EvalError> {
    args.iter()
        .enumerate()
        .map(|(i, a)| as_str(f, a, i))
        .collect()
}

/// A primitive as text (for `concat` and `format`).
pub(super) fn primitive_text(f: &str, v: &Value, i: usize) -> Result<String, EvalError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_owned()),
        Value::Null => Ok(String::new()),
        other => Err(fail_plain(
            f,
            format!(
                "cannot use argument {} of type '{}' as text.",
                i + 1,
                type_name(other)
            ),
        )),
    }
}

/// A count or length argument as `usize`: negative counts as 0, anything larger than the
/// platform's address space as `usize::MAX` (callers bound it further).
pub(super) fn count(n: i64) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
}

/// A length or count as `i64` (saturating; lengths here are bounded by the value limit).
pub(super) fn int_len(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
