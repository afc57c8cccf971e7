//! Numeric functions: `add`, `sub`, `mul`, `div`, `mod`, `min`, `max` and the conversion
//! `int`, all in checked 64-bit arithmetic.

use serde_json::{Value, json};

use super::args::{arity, as_int, fail_plain};
use crate::error::EvalError;
use crate::json::{quote, type_name};

/// The numeric functions; `None` when `lname` is not one.
pub(super) fn call(f: &str, lname: &str, a: &[Value]) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "add" | "sub" | "mul" | "div" | "mod" => arithmetic(f, lname, a),
        "min" | "max" => min_max(f, lname, a),
        "int" => int(f, a),
        _ => return None,
    })
}

fn arithmetic(f: &str, lname: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 2, 2)?;
    let (x, y) = (as_int(f, &a[0], 0)?, as_int(f, &a[1], 1)?);
    if y == 0 && matches!(lname, "div" | "mod") {
        return Err(fail_plain(f, "cannot divide by zero."));
    }
    let r = match lname {
        "add" => x.checked_add(y),
        "sub" => x.checked_sub(y),
        "mul" => x.checked_mul(y),
        "div" => x.checked_div(y),
        _ => x.checked_rem(y),
    };
    r.map(|v| json!(v)).ok_or_else(|| {
        fail_plain(
            f,
            "overflowed: the result is outside the 64-bit integer range.",
        )
    })
}

fn min_max(f: &str, lname: &str, a: &[Value]) -> Result<Value, EvalError> {
    let items: &[Value] = match a {
        [Value::Array(x)] => x,
        _ => a,
    };
    let ints = items
        .iter()
        .enumerate()
        .map(|(i, v)| as_int(f, v, i))
        .collect::<Result<Vec<_>, _>>()?;
    let r = if lname == "min" {
        ints.iter().min()
    } else {
        ints.iter().max()
    };
    r.map(|v| json!(v))
        .ok_or_else(|| fail_plain(f, "needs at least one value."))
}

/// `int(value)`: integers as they are, integral floats in range, or a string of digits.
fn int(f: &str, a: &[Value]) -> Result<Value, EvalError> {
    arity(f, a, 1, 1)?;
    match &a[0] {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(json!(i));
            }
            // Floats (JSON5 parameter values) truncate, when in range.
            match n.as_f64() {
                Some(x) if x.is_finite() && x.trunc() >= -9.2e18 && x.trunc() <= 9.2e18 => {
                    Ok(json!(x.trunc() as i64))
                }
                _ => Err(fail_plain(
                    f,
                    "cannot convert a number outside the 64-bit integer range to an Integer.",
                )),
            }
        }
        Value::String(s) => s.trim().parse::<i64>().map(|i| json!(i)).map_err(|_| {
            EvalError::msg(format!(
                "The template function 'int' cannot convert '{}' to an Integer.",
                quote(&a[0])
            ))
        }),
        other => Err(EvalError::plain(format!(
            "The template function 'int' cannot convert a value of type '{}'.",
            type_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanity() {
        let s = |s: &str| json!(s);
        assert_eq!(int("int", &[s(" 12 ")]).ok(), Some(json!(12)));
        let e = int("int", &[s(&"9".repeat(1000))]).expect_err("out of range");
        assert!(e.message.len() < 300, "{e}");
    }
}
