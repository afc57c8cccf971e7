//! Builders for the `azure_identity` credentials this SDK supports, configured for a given cloud
//! and the shared transport. Token logic for real Azure is always `azure_identity`'s.

use crate::{Error, Result, cloud::CloudEndpoints, secret::SecretString, transport::HttpTransport};
use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::{path::PathBuf, sync::Arc};

/// Which user-assigned managed identity to use, when a resource has several.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedIdentitySelector {
    /// The system-assigned identity (or the only one).
    SystemAssigned,
    /// A user-assigned identity by client id.
    ClientId(String),
    /// A user-assigned identity by object (principal) id.
    ObjectId(String),
    /// A user-assigned identity by ARM resource id.
    ResourceId(String),
}

/// Builds credentials for one cloud over one transport.
///
/// ```
/// use aci_cmk_core::{cloud::CloudEndpoints, credentials::CredentialBuilder, transport::{HttpTransport, TransportOptions}};
///
/// let transport = HttpTransport::new(TransportOptions::default())?;
/// let builder = CredentialBuilder::new(CloudEndpoints::azure_public(), transport);
/// let credential = builder.client_secret(
///     "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "00000000-0000-0000-0000-000000000001",
///     "not-a-real-secret".into(),
/// )?;
/// # let _ = credential;
/// # Ok::<(), aci_cmk_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CredentialBuilder {
    cloud: CloudEndpoints,
    transport: HttpTransport,
}

impl CredentialBuilder {
    /// Credentials for `cloud`, fetching tokens over `transport`.
    pub fn new(cloud: CloudEndpoints, transport: HttpTransport) -> Self {
        Self { cloud, transport }
    }

    fn client_options(&self) -> azure_core::http::ClientOptions {
        self.transport.client_options(&self.cloud)
    }

    /// A service principal with a client secret.
    pub fn client_secret(
        &self,
        tenant_id: &str,
        client_id: &str,
        secret: SecretString,
    ) -> Result<Arc<dyn TokenCredential>> {
        let credential = ClientSecretCredential::new(
            tenant_id,
            client_id.to_owned(),
            Secret::new(secret.expose_secret().to_owned()),
            Some(ClientSecretCredentialOptions {
                client_options: self.client_options(),
            }),
        )
        .map_err(credential_error)?;
        Ok(credential)
    }

    /// A managed identity: IMDS, App Service, or whatever source the environment offers.
    pub fn managed_identity(
        &self,
        selector: ManagedIdentitySelector,
    ) -> Result<Arc<dyn TokenCredential>> {
        let user_assigned_id = match selector {
            ManagedIdentitySelector::SystemAssigned => None,
            ManagedIdentitySelector::ClientId(id) => Some(UserAssignedId::ClientId(id)),
            ManagedIdentitySelector::ObjectId(id) => Some(UserAssignedId::ObjectId(id)),
            ManagedIdentitySelector::ResourceId(id) => Some(UserAssignedId::ResourceId(id)),
        };
        let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id,
            client_options: self.client_options(),
        }))
        .map_err(credential_error)?;
        Ok(credential)
    }

    /// Workload identity federation (AKS and GitHub Actions style): the tenant, client id and
    /// token file come from the arguments, or else from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`
    /// and `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn workload_identity(
        &self,
        tenant_id: Option<String>,
        client_id: Option<String>,
        token_file_path: Option<PathBuf>,
    ) -> Result<Arc<dyn TokenCredential>> {
        let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: self.client_options(),
            },
            client_id,
            tenant_id,
            token_file_path,
        }))
        .map_err(credential_error)?;
        Ok(credential)
    }

    /// The signed-in user of the Azure CLI or the Azure Developer CLI, for development.
    pub fn developer_tools(&self) -> Result<Arc<dyn TokenCredential>> {
        let credential = DeveloperToolsCredential::new(None).map_err(credential_error)?;
        Ok(credential)
    }
}

fn credential_error(error: azure_core::Error) -> Error {
    Error::Credential {
        message: error.to_string(),
        source: error,
    }
}

/// A credential that hands out a token obtained elsewhere (for example from
/// `az account get-access-token`, or a fixed value in tests), for every scope.
///
/// It cannot refresh: once the token expires, requests fail with 401.
#[derive(Clone)]
pub struct FixedTokenCredential {
    token: azure_core::credentials::AccessToken,
}

impl FixedTokenCredential {
    /// A credential returning `token`, valid until `expires_on`.
    pub fn new(token: SecretString, expires_on: azure_core::time::OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            token: azure_core::credentials::AccessToken::new(
                Secret::new(token.expose_secret().to_owned()),
                expires_on,
            ),
        })
    }
}

impl std::fmt::Debug for FixedTokenCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedTokenCredential")
            .field("expires_on", &self.token.expires_on)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenCredential for FixedTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        Ok(self.token.clone())
    }
}
