//! [`ArmError`]: an ARM error (status, code, message), answered in ARM's envelope.

use http::StatusCode;

use crate::reply::{self, Reply};

/// An ARM error: status, code and message (answered as `{"error":{"code","message"}}`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
#[non_exhaustive]
pub struct ArmError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error code (also sent in `x-ms-error-code`).
    pub code: String,
    /// Message.
    pub message: String,
}

impl ArmError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 400 with a code.
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The response.
    pub fn into_reply(self) -> Reply {
        reply::arm_error(self.status, &self.code, self.message)
    }
}

impl From<crate::store::StoreError> for ArmError {
    fn from(e: crate::store::StoreError) -> Self {
        ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            e.to_string(),
        )
    }
}

/// Result of an ARM handler.
pub type ArmResult = Result<Reply, ArmError>;

/// Turns a handler result into a response.
pub fn finish(r: ArmResult) -> Reply {
    r.unwrap_or_else(ArmError::into_reply)
}

/// 405 in ARM's shape.
pub fn method_not_allowed(ctx: &crate::context::Ctx) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The method '{}' is not allowed on '{}'.",
            ctx.method, ctx.path
        ),
    )
}
