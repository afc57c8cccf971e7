//! Errors of the Container Instances and deployments clients.

use crate::models::Sku;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong deploying a container group or a template.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request, or it could not be sent (see [`aci_cmk_core::Error`]).
    #[error(transparent)]
    Service(#[from] aci_cmk_core::Error),
    /// `encryptionProperties` is set but the sku is not `Standard`: Azure would refuse the group.
    #[error("encryption with a customer-managed key needs sku Standard, but the group has {sku:?}")]
    EncryptionNeedsStandardSku {
        /// The sku the group asked for (`None`: not set).
        sku: Option<Sku>,
    },
    /// `encryptionProperties.identity` names an identity that is not among the group's
    /// user-assigned identities: Azure would refuse the group.
    #[error(
        "encryption identity {identity} must also be listed in identity.userAssignedIdentities (with type UserAssigned)"
    )]
    EncryptionIdentityNotAssigned {
        /// The identity named by `encryptionProperties.identity`.
        identity: String,
    },
    /// The body uses a field that the pinned api-version does not have.
    #[error(
        "{feature} needs api-version {required} or later, but the client is pinned to {pinned}"
    )]
    ApiVersionTooOld {
        /// The field, e.g. `encryptionProperties.identity`.
        feature: &'static str,
        /// The first api-version with it.
        required: String,
        /// The pinned api-version.
        pinned: String,
    },
    /// `encryptionProperties` is malformed (empty key version, vault URL not https, identity
    /// not a resource id, ...).
    #[error("invalid encryption properties: {0}")]
    InvalidEncryptionProperties(String),
    /// A name or argument is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The core error, when the service was involved.
    pub fn as_service(&self) -> Option<&aci_cmk_core::Error> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the group (or deployment) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.as_service()
            .is_some_and(aci_cmk_core::Error::is_not_found)
    }

    /// Whether the request was refused before anything was sent.
    pub fn is_client_side(&self) -> bool {
        !matches!(self, Error::Service(_))
    }
}
