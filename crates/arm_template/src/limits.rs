//! The engine's limits: how deep, how large and how much work a template may be, so that a
//! hostile template fails with a [`crate::TemplateError`] instead of exhausting the stack, the
//! memory or the CPU.
//!
//! ARM's documented template limits (256 parameters, 512 variables, 800 resources including
//! copy loops, 64 outputs, 24,576 characters in an expression) hold as in ARM. The others are
//! the engine's own: the nesting of expressions, of JSON and of evaluation, the size of any
//! one value, and an evaluation budget counted in steps (one per expression node, plus one per
//! [`BYTES_PER_STEP`] bytes of every value produced and one per [`PARSE_BYTES_PER_STEP`]
//! bytes of expression text parsed).

use std::cell::Cell;

use serde_json::Value;

use crate::error::EvalError;

/// Parameters a template may declare (ARM's limit).
pub const MAX_PARAMETERS: usize = 256;
/// Variables a template may declare (ARM's limit).
pub const MAX_VARIABLES: usize = 512;
/// Resources a template may hold, copy loops expanded (ARM's limit).
pub const MAX_RESOURCES: usize = 800;
/// Outputs a template may declare (ARM's limit).
pub const MAX_OUTPUTS: usize = 64;
/// The count of one copy loop (ARM's limit).
pub const MAX_COPY_COUNT: i64 = 800;
/// Characters in one template expression (ARM's limit).
pub const MAX_EXPRESSION_CHARS: usize = 24_576;
/// Nesting of one expression: calls, parentheses, `.property` and `[index]` all count.
pub const MAX_EXPRESSION_DEPTH: usize = 64;
/// Nesting of evaluation across expressions, JSON values, parameters and variables (a
/// variable that uses a variable that uses a variable…), in levels: one per expression node
/// or JSON array or object, [`REFERENCE_DEPTH`] per parameter or variable.
pub const MAX_EVAL_DEPTH: usize = 256;
/// What evaluating a parameter or a variable inside another counts in [`MAX_EVAL_DEPTH`]:
/// that path through the evaluator takes several times the stack of one expression level.
pub const REFERENCE_DEPTH: usize = 4;
/// Nesting of JSON: template text, parameter values and every value produced.
pub const MAX_JSON_DEPTH: usize = 128;
/// Bytes of one value (strings' UTF-8 bytes, plus [`NODE_BYTES`] per array element or
/// object member and each member name).
pub const MAX_VALUE_BYTES: usize = 4 * 1024 * 1024;
/// Bytes (in the units of [`MAX_VALUE_BYTES`]) of all resource definitions, copy loops
/// expanded: ARM's limit is 4 MB of template text after expansion; this counts the same
/// definitions generously, since its units weigh small elements more than their text.
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;
/// What one array element or object member counts for in [`MAX_VALUE_BYTES`].
pub const NODE_BYTES: usize = 16;
/// Steps one evaluation may take: preparing a template, one resource body, validating the
/// bodies, or the outputs.
pub const MAX_STEPS: u64 = 1_000_000;
/// Bytes of produced value that cost one step.
pub const BYTES_PER_STEP: usize = 64;
/// Bytes of expression text whose parsing costs one step (each evaluation of a string parses
/// it again, so a copy loop pays per instance).
pub const PARSE_BYTES_PER_STEP: usize = 16;

/// Why a value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Excess {
    /// Larger than [`MAX_VALUE_BYTES`].
    Size,
    /// Nested deeper than [`MAX_JSON_DEPTH`].
    Depth,
}

impl Excess {
    /// `… is larger than …` / `… is nested deeper than …`, after a subject.
    pub(crate) fn describe(self) -> String {
        match self {
            Self::Size => format!("is larger than {MAX_VALUE_BYTES} bytes, the limit of one value"),
            Self::Depth => {
                format!("is nested deeper than {MAX_JSON_DEPTH} levels, the limit of one value")
            }
        }
    }
}

/// The size of `v` in the units of [`MAX_VALUE_BYTES`], or why it is refused. Iterative, and
/// stops as soon as a limit is passed, so it costs at most what the limit allows.
pub(crate) fn measure(v: &Value) -> Result<usize, Excess> {
    measure_up_to(v, MAX_VALUE_BYTES)
}

/// [`measure`] with another size limit.
pub(crate) fn measure_up_to(v: &Value, max_bytes: usize) -> Result<usize, Excess> {
    let mut bytes = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = stack.pop() {
        let own = match v {
            Value::String(s) => s.len(),
            Value::Array(_) | Value::Object(_) if depth > MAX_JSON_DEPTH => {
                return Err(Excess::Depth);
            }
            Value::Array(a) => {
                stack.extend(a.iter().map(|x| (x, depth + 1)));
                a.len().saturating_mul(NODE_BYTES)
            }
            Value::Object(o) => {
                let mut keys = 0usize;
                for (k, x) in o {
                    keys = keys.saturating_add(k.len());
                    stack.push((x, depth + 1));
                }
                keys.saturating_add(o.len().saturating_mul(NODE_BYTES))
            }
            _ => 0,
        };
        bytes = bytes.saturating_add(own);
        if bytes > max_bytes {
            return Err(Excess::Size);
        }
    }
    Ok(bytes)
}

/// The steps producing `v` costs (one, plus one per [`BYTES_PER_STEP`] bytes), or why it is
/// refused.
pub(crate) fn cost(v: &Value) -> Result<u64, Excess> {
    let bytes = match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) if s.len() <= MAX_VALUE_BYTES => s.len(),
        _ => measure(v)?,
    };
    Ok(1 + (bytes / BYTES_PER_STEP) as u64)
}

/// Whether `v` nests deeper than `max` (arrays and objects count; iterative).
pub(crate) fn deeper_than(v: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(_) | Value::Object(_) if depth > max => return true,
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, depth + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, depth + 1))),
            _ => {}
        }
    }
    false
}

/// Refuses a string, array or object of `bytes` before it is built.
pub(crate) fn check_size(f: &str, bytes: usize) -> Result<(), EvalError> {
    if bytes > MAX_VALUE_BYTES {
        return Err(EvalError::plain(format!(
            "The template function '{f}' would produce a value that {}.",
            Excess::Size.describe()
        )));
    }
    Ok(())
}

/// The work and nesting left to one evaluation.
#[derive(Debug)]
pub(crate) struct Budget {
    steps: Cell<u64>,
    depth: Cell<usize>,
}

impl Budget {
    /// A fresh budget of [`MAX_STEPS`].
    pub(crate) fn new() -> Self {
        Self {
            steps: Cell::new(MAX_STEPS),
            depth: Cell::new(0),
        }
    }

    /// Spends `steps`.
    pub(crate) fn charge(&self, steps: u64) -> Result<(), EvalError> {
        let left = self.steps.get();
        if steps > left {
            self.steps.set(0);
            return Err(EvalError::plain(format!(
                "The template needs more than {MAX_STEPS} evaluation steps, the limit of one evaluation: it does too much work (a copy loop or a chain of variables that grows values quickly?)."
            )));
        }
        self.steps.set(left - steps);
        Ok(())
    }

    /// Enters one level of nesting; the level is left when the guard drops.
    pub(crate) fn enter(&self) -> Result<DepthGuard<'_>, EvalError> {
        self.enter_levels(1)
    }

    /// Enters the evaluation of a parameter or variable ([`REFERENCE_DEPTH`] levels).
    pub(crate) fn enter_reference(&self) -> Result<DepthGuard<'_>, EvalError> {
        self.enter_levels(REFERENCE_DEPTH)
    }

    fn enter_levels(&self, levels: usize) -> Result<DepthGuard<'_>, EvalError> {
        let d = self.depth.get();
        if d + levels > MAX_EVAL_DEPTH {
            return Err(EvalError::plain(format!(
                "The template's expressions, parameters and variables nest deeper than {MAX_EVAL_DEPTH} levels, the limit of evaluation."
            )));
        }
        self.depth.set(d + levels);
        Ok(DepthGuard(self, levels))
    }
}

/// One level of evaluation nesting (see [`Budget::enter`]).
pub(crate) struct DepthGuard<'a>(&'a Budget, usize);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.depth.set(self.0.depth.get().saturating_sub(self.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measure_counts_bytes_and_stops_at_the_limits() {
        assert_eq!(measure(&json!("abc")), Ok(3));
        assert_eq!(measure(&json!([1, 2])), Ok(2 * NODE_BYTES));
        assert_eq!(measure(&json!({"ab": "c"})), Ok(2 + 1 + NODE_BYTES));
        let mut deep = json!(1);
        for _ in 0..MAX_JSON_DEPTH {
            deep = json!([deep]);
        }
        assert!(measure(&deep).is_ok());
        assert!(!deeper_than(&deep, MAX_JSON_DEPTH));
        deep = json!([deep]);
        assert_eq!(measure(&deep), Err(Excess::Depth));
        assert!(deeper_than(&deep, MAX_JSON_DEPTH));
        assert!(!deeper_than(&json!([[1]]), 2));
        assert!(deeper_than(&json!([[[1]]]), 2));
        let big = json!("x".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(measure(&big), Err(Excess::Size));
        assert_eq!(cost(&big), Err(Excess::Size));
        assert_eq!(cost(&json!("x".repeat(BYTES_PER_STEP * 3))), Ok(4));
        assert_eq!(cost(&json!(7)), Ok(1));
    }

    #[test]
    fn the_budget_runs_out_and_depth_is_restored() {
        let b = Budget::new();
        assert!(b.charge(MAX_STEPS).is_ok());
        assert!(b.charge(1).is_err());
        let b = Budget::new();
        {
            let _g = b.enter();
            assert_eq!(b.depth.get(), 1);
        }
        assert_eq!(b.depth.get(), 0);
        let guards: Vec<_> = (0..MAX_EVAL_DEPTH).map(|_| b.enter()).collect();
        assert!(guards.iter().all(Result::is_ok));
        assert!(b.enter().is_err());
    }
}
