//! Errors of the identity clients (directory, managed identities, role assignments): the client crates' one error, [`aci_cmk_core::ClientError`]
//! (the service's error with its codes and ids, a request refused before it was sent, or an
//! answer the client cannot use), so every client classifies failures alike.

pub use aci_cmk_core::ClientError as Error;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
