//! The template functions, by group: [`string`] (and text conversions), [`collection`]
//! (arrays and objects), [`numeric`], [`logical`] (and comparisons), [`deployment`]
//! (parameters, variables, scope, `copyIndex`, `reference`, resource ids), [`date`] and
//! [`hash`] (`uniqueString`, `guid`).
//!
//! Names match case-insensitively. Each function checks its arguments and fails with ARM's
//! `The template function '…'` wording; none panics, whatever the arguments (checked
//! arithmetic, bounded sizes).

mod args;
mod collection;
mod date;
mod deployment;
mod hash;
mod logical;
mod numeric;
mod string;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use hash::{deterministic_guid, unique_string};
pub(crate) use logical::call_lazy;

use crate::env::Env;
use crate::error::EvalError;
use crate::secure::Val;

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

/// Calls the function `name` (as written) on evaluated arguments.
pub(crate) fn call(name: &str, a: &[Value], env: &dyn Env) -> Result<Val, EvalError> {
    let lname = name.to_ascii_lowercase();
    if let Some(r) = deployment::lookup(name, &lname, a, env) {
        return r;
    }
    let l = lname.as_str();
    string::call(name, l, a, env.budget())
        .or_else(|| collection::call(name, l, a))
        .or_else(|| numeric::call(name, l, a))
        .or_else(|| logical::call(name, l, a))
        .or_else(|| deployment::call(name, l, a, env))
        .or_else(|| hash::call(name, l, a))
        .or_else(|| date::call(name, l, a, env.utc_now()))
        .unwrap_or_else(|| Err(unknown(name, l)))
        .map(Val::plain)
}

fn unknown(name: &str, lname: &str) -> EvalError {
    if UNSUPPORTED.contains(&lname) {
        EvalError::plain(format!(
            "The template function '{name}' is not supported by the emulator's template engine."
        ))
    } else {
        EvalError::plain(format!(
            "The template function '{name}' is not valid. Please see https://aka.ms/arm-functions for usage details."
        ))
    }
}
