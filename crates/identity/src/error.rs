//! Errors of the identity clients.

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong with a service principal, a managed identity or a role assignment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request, or it could not be sent (see [`aci_cmk_core::Error`]).
    #[error(transparent)]
    Service(#[from] aci_cmk_core::Error),
    /// The request was refused on the client side, before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service answered with something this client cannot use.
    #[error("unexpected response from {operation}: {message}")]
    UnexpectedResponse {
        /// The call, e.g. `create role assignment`.
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

    /// The service's error code (`Request_ResourceNotFound`, `PrincipalNotFound`, ...), if any.
    pub fn code(&self) -> Option<&str> {
        self.as_service().and_then(aci_cmk_core::Error::code)
    }

    /// Whether the identity, principal or assignment does not exist (including a
    /// `PrincipalNotFound` on a role assignment).
    pub fn is_not_found(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_not_found)
    }

    /// Whether the request conflicted with the current state.
    pub fn is_conflict(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_conflict)
    }

    /// Whether the caller lacks permission.
    pub fn is_forbidden(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_forbidden)
    }

    /// Whether a role assignment named a principal Entra ID does not know yet: a fresh managed
    /// identity replicates with a delay. Retry after a while (with `principalType` set).
    pub fn is_principal_not_found(&self) -> bool {
        self.as_service().is_some_and(|e| {
            e.service_error().is_some_and(|s| {
                s.codes()
                    .any(|c| c.eq_ignore_ascii_case("PrincipalNotFound"))
            })
        })
    }

    /// Whether the request was refused before anything was sent.
    pub fn is_client_side(&self) -> bool {
        matches!(self, Error::InvalidArgument(_))
    }
}
