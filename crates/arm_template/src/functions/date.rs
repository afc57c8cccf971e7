//! Date functions: `utcNow`, the deployment's time (the engine reads no clock).

use serde_json::{Value, json};

use super::args::arity;
use crate::error::EvalError;

/// The date functions; `None` when `lname` is not one.
pub(super) fn call(
    f: &str,
    lname: &str,
    a: &[Value],
    now: time::OffsetDateTime,
) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "utcnow" => arity(f, a, 0, 0).map(|()| {
            let fmt =
                time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
            json!(now.format(&fmt).unwrap_or_default())
        }),
        _ => return None,
    })
}
