//! [`ClientError`]: the one error of the client crates (Key Vault, identity), so every client
//! classifies failures the same way: the service's error ([`crate::Error`], with its codes and
//! ids), a request refused before it was sent, or an answer the client cannot use.

/// What can go wrong calling a service through a client crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The service refused the request, or it could not be sent (see [`crate::Error`]).
    #[error(transparent)]
    Service(#[from] crate::Error),
    /// The request was refused on the client side, before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service answered with something the client cannot use (a key id that is not a key
    /// id, a missing field).
    #[error("unexpected response from {operation}: {message}")]
    UnexpectedResponse {
        /// The call, e.g. `create key cmk`.
        operation: String,
        /// What was wrong.
        message: String,
    },
}

impl ClientError {
    /// The core error, when the service was involved.
    pub fn as_service(&self) -> Option<&crate::Error> {
        match self {
            ClientError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The service's error code (`VaultAlreadyExists`, `KeyNotFound`, `PrincipalNotFound`, ...),
    /// if any.
    pub fn code(&self) -> Option<&str> {
        self.as_service().and_then(crate::Error::code)
    }

    /// Whether the resource (vault, deleted vault, key, identity, principal, assignment) does
    /// not exist.
    pub fn is_not_found(&self) -> bool {
        self.as_service().is_some_and(crate::Error::is_not_found)
    }

    /// Whether the request conflicted with the current state (for example a vault name held by
    /// a soft-deleted vault).
    pub fn is_conflict(&self) -> bool {
        self.as_service().is_some_and(crate::Error::is_conflict)
    }

    /// Whether the caller lacks permission (access policy, RBAC, firewall or otherwise).
    pub fn is_forbidden(&self) -> bool {
        self.as_service().is_some_and(crate::Error::is_forbidden)
    }

    /// Whether a Key Vault firewall refused the caller.
    pub fn is_forbidden_by_firewall(&self) -> bool {
        matches!(
            self.as_service(),
            Some(crate::Error::ForbiddenByFirewall(_))
        )
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
        matches!(self, ClientError::InvalidArgument(_))
    }
}
