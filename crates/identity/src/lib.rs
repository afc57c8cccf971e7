//! # aci_cmk_identity
//!
//! The identities a customer-managed key for Azure Container Instances needs, in three traits:
//!
//! - [`Directory`]: service principals in Microsoft Graph v1.0, such as the one of ACI's
//!   first-party application ([`ACI_FIRST_PARTY_APP_ID`]) whose object id a vault access
//!   policy must name. Implemented by [`DirectoryClient`].
//! - [`ManagedIdentities`]: user-assigned managed identities (`Microsoft.ManagedIdentity`,
//!   api-version [`MANAGED_IDENTITY_API_VERSION`]), which let a container group reach a
//!   firewalled vault. Implemented by [`ManagedIdentitiesClient`].
//! - [`RoleAssignments`]: Azure role assignments (`Microsoft.Authorization`, api-version
//!   [`AUTHORIZATION_API_VERSION`]) for RBAC-mode vaults, with the built-in Key Vault roles as
//!   [`RoleDefinitionId`](role_assignments::RoleDefinitionId) constants, and the role
//!   definitions they assign ([`RoleDefinition`](role_definitions::RoleDefinition), whose data
//!   actions say what a role allows). Implemented by [`RoleAssignmentsClient`].
//!
//! Every trait is object-safe, so callers hold `Arc<dyn Trait>` and tests substitute their own.
//! Every method takes `Option<`[`CallOptions`](aci_cmk_core::CallOptions)`<'_>>` last: a client
//! request id, extra headers and a recorder of the request ids the service answered (`None`:
//! the defaults).
//! Creating is idempotent everywhere: an existing service principal is returned (also when a
//! concurrent creation wins the race), and a role assignment gets a deterministic name and
//! treats `RoleAssignmentExists` as success once confirmed.
//!
//! ```no_run
//! use aci_cmk_core::{
//!     CloudEndpoints, ServiceClientOptions,
//!     credentials::CredentialBuilder,
//!     resource_id::ResourceId,
//!     transport::{HttpTransport, TransportOptions},
//! };
//! use aci_cmk_identity::{
//!     ACI_FIRST_PARTY_APP_ID, Directory, DirectoryClient, ManagedIdentities,
//!     ManagedIdentitiesClient, RoleAssignments, RoleAssignmentsClient,
//!     role_assignments::{PrincipalType, RoleDefinitionId},
//! };
//! use std::{collections::BTreeMap, sync::Arc};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = CloudEndpoints::azure_public();
//! let transport = HttpTransport::new(TransportOptions::default())?;
//! let credential = CredentialBuilder::new(cloud.clone(), transport.clone()).developer_tools()?;
//! let options = ServiceClientOptions::with_transport(&transport);
//! let subscription = "00000000-0000-0000-0000-000000000001".parse()?;
//!
//! // The access-policy flow: the object id of ACI's service principal in this tenant.
//! let directory: Arc<dyn Directory> =
//!     Arc::new(DirectoryClient::new(&cloud, credential.clone(), Some(options.clone())));
//! let aci = directory.ensure_service_principal(&ACI_FIRST_PARTY_APP_ID.parse()?, None).await?;
//! println!("ACI service principal: {}", aci.service_principal.id);
//!
//! // The RBAC flow: a user-assigned identity allowed to wrap and unwrap with the vault's keys.
//! let identities: Arc<dyn ManagedIdentities> = Arc::new(ManagedIdentitiesClient::new(
//!     &cloud,
//!     credential.clone(),
//!     subscription,
//!     Some(options.clone()),
//! ));
//! let identity = identities
//!     .create_or_update(&"rg-cmk".parse()?, &"aci-cmk-id".parse()?, &"westeurope".parse()?, &BTreeMap::new(), None)
//!     .await?;
//! let roles: Arc<dyn RoleAssignments> = Arc::new(RoleAssignmentsClient::new(
//!     &cloud,
//!     credential,
//!     "00000000-0000-0000-0000-000000000001".parse()?,
//!     Some(options),
//! ));
//! let vault: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-cmk\
//!     /providers/Microsoft.KeyVault/vaults/contoso-cmk".parse()?;
//! roles
//!     .create(
//!         &vault,
//!         RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
//!         &identity.principal_id,
//!         PrincipalType::ServicePrincipal,
//!         None,
//!     )
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Role assignment names are deterministic, so a second run asks for the same assignment:
//!
//! ```
//! use aci_cmk_identity::role_assignments::{RoleDefinitionId, assignment_name};
//!
//! let vault = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg\
//!     /providers/Microsoft.KeyVault/vaults/v1".parse()?;
//! let upper = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG\
//!     /PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V1".parse()?;
//! let principal = "00000000-0000-0000-0000-0000000000bb".parse()?;
//! let role = RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER;
//! assert_eq!(assignment_name(&vault, role, &principal), assignment_name(&upper, role, &principal));
//! assert_eq!(assignment_name(&vault, role, &principal).get_version_num(), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod directory;
pub mod error;
pub mod managed_identities;
pub mod role_assignments;
pub mod role_definitions;

#[allow(deprecated)]
pub use directory::GraphDirectory;
pub use directory::{ACI_FIRST_PARTY_APP_ID, Directory, DirectoryClient};
pub use error::{Error, Result};
pub use managed_identities::{
    MANAGED_IDENTITY_API_VERSION, ManagedIdentities, ManagedIdentitiesClient,
};
pub use role_assignments::{AUTHORIZATION_API_VERSION, RoleAssignments, RoleAssignmentsClient};
