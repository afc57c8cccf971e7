//! The engine's errors: [`TemplateError`] for a template and its parameters (ARM's
//! `InvalidTemplate`), [`EvalError`] for one expression and [`ValueError`] for an expression
//! inside a JSON value.

use std::fmt;

use crate::secure::Secure;

/// A template or parameter error (`InvalidTemplate`), with a message that says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct TemplateError {
    /// ARM error code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl TemplateError {
    /// `InvalidTemplate` with ARM's prefix.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidTemplate".to_owned(),
            message: format!(
                "Deployment template validation failed: '{}'",
                message.into()
            ),
        }
    }

    /// An expression error inside `what` (a resource, an output, a variable…).
    pub(crate) fn at(what: &str, e: &ValueError) -> Self {
        let path = if e.path.is_empty() {
            String::new()
        } else {
            format!(" at property '{}'", e.path)
        };
        let pos = match e.error.pos {
            Some(p) => format!(" position {p} of '{}'", e.expression),
            None => format!(" '{}'", e.expression),
        };
        Self {
            code: "InvalidTemplate".to_owned(),
            message: format!(
                "Unable to process template language expressions for {what}{path},{pos}: {}",
                e.error.message
            ),
        }
    }
}

/// An evaluation error. `pos` is the character offset in the expression string when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
    /// Offset in the JSON string.
    pub pos: Option<usize>,
    /// The value depends on a resource that is not deployed yet (validation only).
    pub deferred: bool,
    /// The message quotes no value (only types, counts, names and limits), so it may stand
    /// even when an argument is secure.
    pub(crate) quotes_no_value: bool,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{} (at position {p})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EvalError {}

impl EvalError {
    /// An error without a position (the caller adds the position of the call). The message
    /// may quote values.
    pub fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: None,
            deferred: false,
            quotes_no_value: false,
        }
    }

    /// A value that cannot be known before deployment.
    pub fn deferred(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: None,
            deferred: true,
            quotes_no_value: false,
        }
    }

    /// An error whose message quotes no value (types, counts, names, limits only).
    pub(crate) fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: None,
            deferred: false,
            quotes_no_value: true,
        }
    }

    /// Sets the position unless one is known already.
    pub(crate) fn at(mut self, pos: usize) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }

    /// The error of `what` (`the template function 'int'`) applied to a value that derives
    /// from the secure parameters `secure`: unless the message quotes no value, it is
    /// replaced by one that names the parameters instead.
    pub(crate) fn guard(self, what: &str, secure: &Secure) -> Self {
        if secure.is_empty() || self.quotes_no_value {
            return self;
        }
        Self {
            message: format!(
                "{what} cannot be evaluated on a secure value (from the parameter {}); the details are withheld so that the value is not revealed.",
                secure.names()
            ),
            pos: self.pos,
            deferred: self.deferred,
            quotes_no_value: true,
        }
    }
}

/// An error found while evaluating a JSON value: where (a property path) and which string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Property path inside the value (`properties.tenantId`, `tags.env`, `[2]`).
    pub path: String,
    /// The JSON string that failed.
    pub expression: String,
    /// The error.
    pub error: EvalError,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "'{}': {}", self.expression, self.error)
        } else {
            write!(
                f,
                "property '{}', '{}': {}",
                self.path, self.expression, self.error
            )
        }
    }
}

impl std::error::Error for ValueError {}
