//! Logical and comparison functions: `if`, `and`, `or` (evaluated lazily, so they take their
//! arguments unevaluated), `not`, `equals`, `true`, `false`, `bool`, `greater`, `less`,
//! `greaterOrEquals` and `lessOrEquals`.

use std::cmp::Ordering;

use serde_json::Value;

use super::args::{arity, as_bool, fail_plain};
use crate::error::EvalError;
use crate::expr::Expr;
use crate::json::{quote, type_name};
use crate::secure::{Secure, Val};

/// Evaluates one argument expression.
pub(crate) type EvalArg<'a> = dyn FnMut(&Expr) -> Result<Val, EvalError> + 'a;

/// `if`, `and` and `or`, which evaluate only the arguments they need; `None` for any other
/// function.
pub(crate) fn call_lazy(
    f: &str,
    lname: &str,
    args: &[Expr],
    eval: &mut EvalArg<'_>,
) -> Option<Result<Val, EvalError>> {
    Some(match lname {
        "if" => if_(f, args, eval),
        "and" | "or" => and_or(f, lname == "or", args, eval),
        _ => return None,
    })
}

fn if_(f: &str, args: &[Expr], eval: &mut EvalArg<'_>) -> Result<Val, EvalError> {
    if args.len() != 3 {
        return Err(EvalError::plain(format!(
            "The template function 'if' expects 3 argument(s) but was given {}.",
            args.len()
        )));
    }
    let c = eval(&args[0])?;
    let mut out = if as_bool(f, &c.value, 0)? {
        eval(&args[1])?
    } else {
        eval(&args[2])?
    };
    // Which branch was taken says something about the condition.
    out.secure.extend(&c.secure);
    Ok(out)
}

fn and_or(f: &str, want: bool, args: &[Expr], eval: &mut EvalArg<'_>) -> Result<Val, EvalError> {
    if args.len() < 2 {
        return Err(fail_plain(
            f,
            format_args!(
                "expects at least 2 argument(s) but was given {}.",
                args.len()
            ),
        ));
    }
    let mut secure = Secure::none();
    for (i, a) in args.iter().enumerate() {
        let v = eval(a)?;
        secure.extend(&v.secure);
        if as_bool(f, &v.value, i)? == want {
            return Ok(Val {
                value: Value::Bool(want),
                secure,
            });
        }
    }
    Ok(Val {
        value: Value::Bool(!want),
        secure,
    })
}

/// The eagerly evaluated logical functions; `None` when `lname` is not one.
pub(super) fn call(f: &str, lname: &str, a: &[Value]) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "equals" => arity(f, a, 2, 2).map(|()| Value::Bool(a[0] == a[1])),
        "not" => arity(f, a, 1, 1).and_then(|()| Ok(Value::Bool(!as_bool(f, &a[0], 0)?))),
        "true" => arity(f, a, 0, 0).map(|()| Value::Bool(true)),
        "false" => arity(f, a, 0, 0).map(|()| Value::Bool(false)),
        "bool" => arity(f, a, 1, 1).and_then(|()| match &a[0] {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Number(n) => Ok(Value::Bool(n.as_f64() != Some(0.0))),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            other => Err(EvalError::msg(format!(
                "The template function 'bool' cannot convert '{}' to a Boolean.",
                quote(other)
            ))),
        }),
        "greater" | "less" | "greaterorequals" | "lessorequals" => {
            arity(f, a, 2, 2).and_then(|()| {
                let o = compare(f, &a[0], &a[1])?;
                Ok(Value::Bool(match lname {
                    "greater" => o == Ordering::Greater,
                    "less" => o == Ordering::Less,
                    "greaterorequals" => o != Ordering::Less,
                    _ => o != Ordering::Greater,
                }))
            })
        }
        _ => return None,
    })
}

fn compare(f: &str, a: &Value, b: &Value) -> Result<Ordering, EvalError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        }),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(fail_plain(
            f,
            format_args!(
                "compares two Integers or two Strings, not '{}' and '{}'.",
                type_name(a),
                type_name(b)
            ),
        )),
    }
}
