//! The services the orchestrator drives, as trait objects: any of them can be swapped for
//! another implementation (a mock, a recording, a different transport).

use aci_cmk_aci::{
    ContainerGroups, ContainerGroupsClient, ContainerGroupsClientOptions, Deployments,
    DeploymentsClient, ResourceGroups, ResourceGroupsClient,
};
use aci_cmk_core::{
    CloudEndpoints, Connection, ServiceClientOptions, TokenCredential,
    credentials::signed_in_principal,
    names::{PrincipalId, SubscriptionId, TenantId},
};
use aci_cmk_identity::{
    Directory, DirectoryClient, ManagedIdentities, ManagedIdentitiesClient, RoleAssignments,
    RoleAssignmentsClient, role_assignments::PrincipalType,
};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultKeysClient, KeyVaultManagement, KeyVaultManagementClient,
};
use std::sync::Arc;

/// The principal that runs the deployment: it gets the key permissions it needs to create the
/// key, as the portal and the CLI grant them to their user.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deployer {
    /// Its object id.
    pub object_id: PrincipalId,
    /// Its tenant: the vault's tenant.
    pub tenant_id: TenantId,
    /// What kind of principal it is, for role assignments on RBAC vaults.
    pub principal_type: PrincipalType,
}

impl Deployer {
    /// A service principal (or managed identity) deployer with these ids.
    pub fn new(object_id: PrincipalId, tenant_id: TenantId) -> Self {
        Self {
            object_id,
            tenant_id,
            principal_type: PrincipalType::ServicePrincipal,
        }
    }

    /// The same deployer, of another kind (a `User` signed in through the Azure CLI).
    pub fn with_principal_type(mut self, principal_type: PrincipalType) -> Self {
        self.principal_type = principal_type;
        self
    }
}

/// Every backend of one subscription, and who deploys.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Backends {
    /// Resource groups.
    pub resource_groups: Arc<dyn ResourceGroups>,
    /// Microsoft Graph service principals.
    pub directory: Arc<dyn Directory>,
    /// Key Vault management (ARM).
    pub vaults: Arc<dyn KeyVaultManagement>,
    /// Key Vault keys (data plane).
    pub keys: Arc<dyn KeyVaultKeys>,
    /// User-assigned managed identities.
    pub identities: Arc<dyn ManagedIdentities>,
    /// Role assignments (RBAC vaults).
    pub role_assignments: Arc<dyn RoleAssignments>,
    /// Container groups.
    pub container_groups: Arc<dyn ContainerGroups>,
    /// Template deployments.
    pub deployments: Arc<dyn Deployments>,
    /// Who deploys.
    pub deployer: Deployer,
}

impl Backends {
    /// Backends from any implementations of the traits: mocks, recordings, another transport.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        resource_groups: Arc<dyn ResourceGroups>,
        directory: Arc<dyn Directory>,
        vaults: Arc<dyn KeyVaultManagement>,
        keys: Arc<dyn KeyVaultKeys>,
        identities: Arc<dyn ManagedIdentities>,
        role_assignments: Arc<dyn RoleAssignments>,
        container_groups: Arc<dyn ContainerGroups>,
        deployments: Arc<dyn Deployments>,
        deployer: Deployer,
    ) -> Self {
        Self {
            resource_groups,
            directory,
            vaults,
            keys,
            identities,
            role_assignments,
            container_groups,
            deployments,
            deployer,
        }
    }

    /// The real Azure clients for `subscription_id` in `cloud`, sharing one credential (one
    /// token per audience) and the transport in `options`. The deployer is whoever the
    /// credential signs in as.
    pub async fn azure(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        subscription_id: &SubscriptionId,
        options: ServiceClientOptions,
    ) -> Result<Self, aci_cmk_core::Error> {
        let principal =
            signed_in_principal(credential.as_ref(), &cloud.resource_manager_scope()).await?;
        let deployer = Deployer::new(principal.object_id, principal.tenant_id);
        Ok(Self::azure_with_deployer(
            cloud,
            credential,
            subscription_id,
            options,
            deployer,
        ))
    }

    /// The real Azure clients over `connection` ([`azure`](Self::azure) with its parts). The
    /// deployer is whoever its credential signs in as.
    pub async fn connect(connection: &Connection) -> Result<Self, aci_cmk_core::Error> {
        Self::azure(
            &connection.cloud,
            connection.credential.clone(),
            &connection.subscription_id,
            connection.options.clone(),
        )
        .await
    }

    /// [`azure`](Self::azure) with a known deployer.
    pub fn azure_with_deployer(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        subscription_id: &SubscriptionId,
        options: ServiceClientOptions,
        deployer: Deployer,
    ) -> Self {
        let sub = subscription_id.clone();
        let opts = || Some(options.clone());
        Self {
            resource_groups: Arc::new(ResourceGroupsClient::new(
                cloud,
                credential.clone(),
                sub.clone(),
                opts(),
            )),
            directory: Arc::new(DirectoryClient::new(cloud, credential.clone(), opts())),
            vaults: Arc::new(KeyVaultManagementClient::new(
                cloud,
                credential.clone(),
                sub.clone(),
                opts(),
            )),
            keys: Arc::new(KeyVaultKeysClient::new(cloud, credential.clone(), opts())),
            identities: Arc::new(ManagedIdentitiesClient::new(
                cloud,
                credential.clone(),
                sub.clone(),
                opts(),
            )),
            role_assignments: Arc::new(RoleAssignmentsClient::new(
                cloud,
                credential.clone(),
                sub.clone(),
                opts(),
            )),
            container_groups: Arc::new(ContainerGroupsClient::new(
                cloud,
                credential.clone(),
                sub.clone(),
                Some(ContainerGroupsClientOptions {
                    service: options.clone(),
                    api_version: None,
                }),
            )),
            deployments: Arc::new(DeploymentsClient::new(cloud, credential, sub, opts())),
            deployer,
        }
    }
}
