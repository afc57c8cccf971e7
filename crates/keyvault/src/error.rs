//! Errors of the Key Vault clients.

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong managing a vault or using its keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request, or it could not be sent (see [`aci_cmk_core::Error`]).
    #[error(transparent)]
    Service(#[from] aci_cmk_core::Error),
    /// The request was refused on the client side, before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service answered with something this client cannot use (a key id that is not a
    /// key id, a missing field).
    #[error("unexpected response from {operation}: {message}")]
    UnexpectedResponse {
        /// The call, e.g. `create key cmk`.
        operation: String,
        /// What was wrong.
        message: String,
    },
}

impl Error {
    /// The core error, when the service was involved.
    pub fn as_service(&self) -> Option<&aci_cmk_core::Error> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The service's error code (`VaultAlreadyExists`, `KeyNotFound`, ...), if any.
    pub fn code(&self) -> Option<&str> {
        self.as_service().and_then(aci_cmk_core::Error::code)
    }

    /// Whether the vault, deleted vault or key does not exist.
    pub fn is_not_found(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_not_found)
    }

    /// Whether the request conflicted with the current state (for example a vault name held by
    /// a soft-deleted vault).
    pub fn is_conflict(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_conflict)
    }

    /// Whether the caller lacks permission (access policy, RBAC, firewall or otherwise).
    pub fn is_forbidden(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_forbidden)
    }

    /// Whether the vault firewall refused the caller.
    pub fn is_forbidden_by_firewall(&self) -> bool {
        matches!(
            self.as_service(),
            Some(aci_cmk_core::Error::ForbiddenByFirewall(_))
        )
    }

    /// Whether the request was refused before anything was sent.
    pub fn is_client_side(&self) -> bool {
        matches!(self, Error::InvalidArgument(_))
    }
}
