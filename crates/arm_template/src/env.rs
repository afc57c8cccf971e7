//! What the evaluator asks of its surroundings inside the crate: [`Env`], the taint-aware and
//! budgeted counterpart of the public [`crate::eval::Host`], and [`WithCopy`], the environment
//! inside a copy loop.

use serde_json::Value;

use crate::error::EvalError;
use crate::limits::Budget;
use crate::secure::Val;

/// The surroundings of an evaluation: parameters and variables (with the secure parameters
/// they derive from), the deployment's scope, copy loops, `reference()` and the budget.
pub(crate) trait Env {
    /// Value of a template parameter (name matched case-insensitively).
    fn parameter(&self, name: &str) -> Result<Val, EvalError>;
    /// Value of a template variable (name matched case-insensitively).
    fn variable(&self, name: &str) -> Result<Val, EvalError>;
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
    /// The deployment's time, which `utcNow()` answers.
    fn utc_now(&self) -> time::OffsetDateTime;
    /// The work and nesting left to this evaluation.
    fn budget(&self) -> &Budget;
}

/// An environment inside a copy loop: `copyIndex()` answers the loop's index.
pub(crate) struct WithCopy<'a> {
    /// The environment around the loop.
    pub(crate) inner: &'a dyn Env,
    /// The loop's name (a variable's name for variable copy loops; empty for outputs).
    pub(crate) name: String,
    /// The current index.
    pub(crate) index: i64,
}

impl Env for WithCopy<'_> {
    fn parameter(&self, name: &str) -> Result<Val, EvalError> {
        self.inner.parameter(name)
    }
    fn variable(&self, name: &str) -> Result<Val, EvalError> {
        self.inner.variable(name)
    }
    fn resource_group(&self) -> Value {
        self.inner.resource_group()
    }
    fn subscription(&self) -> Value {
        self.inner.subscription()
    }
    fn deployment(&self) -> Value {
        self.inner.deployment()
    }
    fn tenant(&self) -> Value {
        self.inner.tenant()
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, EvalError> {
        match loop_name {
            None => Ok(self.index),
            Some(n) if n.eq_ignore_ascii_case(&self.name) => Ok(self.index),
            Some(_) => self.inner.copy_index(loop_name),
        }
    }
    fn reference(&self, t: &str, a: Option<&str>, f: bool) -> Result<Value, EvalError> {
        self.inner.reference(t, a, f)
    }
    fn utc_now(&self) -> time::OffsetDateTime {
        self.inner.utc_now()
    }
    fn budget(&self) -> &Budget {
        self.inner.budget()
    }
}
