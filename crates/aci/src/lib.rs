//! # aci_cmk_aci
//!
//! Clients for Azure Container Instances (`ContainerGroups`), ARM template deployments
//! (`Deployments`) and the resource groups they live in (`ResourceGroups`), with the rules of encryption with a customer-managed key checked before any
//! request: sku `Standard`, an encryption identity that the group lists among its user-assigned
//! identities, and an api-version that has the fields used (2019-12-01 for
//! `encryptionProperties`, 2022-09-01 for `encryptionProperties.identity`).
//!
//! Every trait method takes `Option<`[`CallOptions`](aci_cmk_core::CallOptions)`<'_>>` last: a
//! client request id (sent on the request and on every poll of a long-running operation),
//! extra headers and a recorder of the request and correlation ids ARM answered (`None`: the
//! defaults).
//!
//! ```
//! use aci_cmk_aci::{
//!     Error,
//!     models::{Container, ContainerGroup, EncryptionProperties, Sku},
//!     validation::validate_encryption,
//! };
//!
//! let vault = "https://contoso-cmk.vault.azure.net".parse()?;
//! let mut group = ContainerGroup::new("eastus", vec![Container::new("app", "nginx", 1.0, 1.5)]);
//! group.properties.encryption_properties = Some(EncryptionProperties::new(
//!     &vault,
//!     &"aci-cmk".parse()?,
//!     &"78deebed173b48e48f55abf87ed4cf71".parse()?,
//! ));
//! validate_encryption(&group)?;
//!
//! // Azure refuses a customer-managed key on any sku but Standard; so do we, before sending.
//! group.properties.sku = Some(Sku::Dedicated);
//! assert!(matches!(validate_encryption(&group), Err(Error::EncryptionNeedsStandardSku { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api_version;
pub mod container_groups;
pub mod deployments;
pub mod error;
pub mod models;
pub mod resource_groups;
pub mod validation;

pub use container_groups::{
    ContainerGroups, ContainerGroupsClient, ContainerGroupsClientOptions, LogOptions,
};
pub use deployments::{DeploymentName, DeploymentRequest, Deployments, DeploymentsClient};
pub use error::{Error, Result};
pub use resource_groups::{ResourceGroup, ResourceGroups, ResourceGroupsClient};
