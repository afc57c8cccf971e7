//! Which secure parameters a value derives from, so that no error message quotes it.
//!
//! Every value the evaluator produces travels with a [`Secure`] set: the names of the
//! `secureString` / `secureObject` parameters it was computed from (empty for almost every
//! value). A function result derives from everything its arguments derive from; a variable
//! or parameter default keeps what its expression derived from. When an evaluation fails on a
//! value whose set is not empty, the error is replaced by one that names the parameters and
//! quotes nothing (see [`crate::error::EvalError`]), whatever the function's own message said.

use serde_json::Value;

/// The secure parameters a value derives from (names as declared, sorted, no duplicates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Secure(Vec<String>);

impl Secure {
    /// Derived from no secure parameter.
    pub(crate) fn none() -> Self {
        Self(Vec::new())
    }

    /// The value of the secure parameter `name`.
    pub(crate) fn parameter(name: &str) -> Self {
        Self(vec![name.to_owned()])
    }

    /// Whether the value derives from no secure parameter.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds what `other` derives from.
    pub(crate) fn extend(&mut self, other: &Secure) {
        if other.0.is_empty() {
            return;
        }
        for n in &other.0 {
            if !self.0.iter().any(|m| m.eq_ignore_ascii_case(n)) {
                self.0.push(n.clone());
            }
        }
        self.0.sort_unstable();
    }

    /// `'a'` or `'a', 'b'`: the parameter names, for messages.
    pub(crate) fn names(&self) -> String {
        self.0
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How a message shows `text` (an evaluated value): quoted when it derives from no secure
    /// parameter, otherwise a phrase that names the parameters instead.
    pub(crate) fn show(&self, text: &str) -> String {
        if self.is_empty() {
            format!("'{}'", crate::json::clip(text))
        } else {
            format!("<a secure value (from the parameter {})>", self.names())
        }
    }
}

/// A value and the secure parameters it derives from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Val {
    /// The value.
    pub(crate) value: Value,
    /// What it derives from.
    pub(crate) secure: Secure,
}

impl Val {
    /// A value that derives from no secure parameter.
    pub(crate) fn plain(value: Value) -> Self {
        Self {
            value,
            secure: Secure::none(),
        }
    }
}
