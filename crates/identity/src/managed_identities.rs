//! The `ManagedIdentities` trait (`Microsoft.ManagedIdentity/userAssignedIdentities`) and its
//! ARM implementation.

use crate::Result;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    names::{
        ClientId, IdentityName, Location, PrincipalId, ResourceGroupName, SubscriptionId, TenantId,
    },
    pipeline::ensure_success,
    resource_id::ResourceId,
};
use azure_core::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt::Debug, sync::Arc};
use url::Url;

/// The ARM api-version of every `Microsoft.ManagedIdentity` call.
pub const MANAGED_IDENTITY_API_VERSION: &str = "2023-01-31";

/// A user-assigned managed identity.
///
/// On the wire the three ids sit under `properties`; here they are flattened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "IdentityWire", into = "IdentityWire")]
pub struct UserAssignedIdentity {
    /// The ARM resource id: what ACI's `identity.userAssignedIdentities` and
    /// `encryptionProperties.identity` take.
    pub id: ResourceId,
    /// The identity name.
    pub name: IdentityName,
    /// The region.
    pub location: Location,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The service principal's object id: what access policies (`objectId`) and role
    /// assignments (`principalId`) take.
    pub principal_id: PrincipalId,
    /// The client id: the managed-identity token endpoint's `client_id=` selector.
    pub client_id: ClientId,
    /// The tenant.
    pub tenant_id: TenantId,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityWire {
    id: ResourceId,
    name: IdentityName,
    location: Location,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    properties: IdentityPropertiesWire,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityPropertiesWire {
    tenant_id: TenantId,
    principal_id: PrincipalId,
    client_id: ClientId,
}

impl From<IdentityWire> for UserAssignedIdentity {
    fn from(wire: IdentityWire) -> Self {
        Self {
            id: wire.id,
            name: wire.name,
            location: wire.location,
            tags: wire.tags,
            principal_id: wire.properties.principal_id,
            client_id: wire.properties.client_id,
            tenant_id: wire.properties.tenant_id,
        }
    }
}

impl From<UserAssignedIdentity> for IdentityWire {
    fn from(identity: UserAssignedIdentity) -> Self {
        Self {
            id: identity.id,
            name: identity.name,
            location: identity.location,
            tags: identity.tags,
            properties: IdentityPropertiesWire {
                tenant_id: identity.tenant_id,
                principal_id: identity.principal_id,
                client_id: identity.client_id,
            },
        }
    }
}

#[derive(Serialize)]
struct CreateIdentity<'a> {
    location: &'a Location,
    tags: &'a BTreeMap<String, String>,
}

/// User-assigned managed identities of one subscription.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response.
#[async_trait::async_trait]
pub trait ManagedIdentities: Send + Sync + Debug {
    /// Creates an identity, or updates its tags (`PUT`, synchronous: 201 or 200).
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<UserAssignedIdentity>;

    /// Reads an identity (`GET`). A missing one is a not-found error.
    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> Result<UserAssignedIdentity>;

    /// Deletes an identity (`DELETE`: 200 or 204). Deleting a missing identity succeeds.
    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;
}

/// [`ManagedIdentities`] over Azure Resource Manager.
#[derive(Clone, Debug)]
pub struct ManagedIdentitiesClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
}

impl ManagedIdentitiesClient {
    /// A client for the identities of `subscription_id` in `cloud`, with ARM tokens from
    /// `credential`.
    pub fn new(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        subscription_id: SubscriptionId,
        options: Option<ServiceClientOptions>,
    ) -> Self {
        let pipeline = ServicePipeline::resource_manager(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            cloud,
            credential,
            options,
        );
        Self {
            pipeline,
            subscription_id,
        }
    }

    fn url(&self, resource_group: &ResourceGroupName, name: &IdentityName) -> Url {
        self.pipeline.url(
            &format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                self.subscription_id, resource_group, name
            ),
            Some(MANAGED_IDENTITY_API_VERSION),
        )
    }
}

#[async_trait::async_trait]
impl ManagedIdentities for ManagedIdentitiesClient {
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<UserAssignedIdentity> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(resource_group, name);
        let body = CreateIdentity { location, tags };
        Ok(self
            .pipeline
            .json(&ctx, Method::Put, url, Some(&body))
            .await?)
    }

    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> Result<UserAssignedIdentity> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(resource_group, name);
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(resource_group, name);
        let response = self
            .pipeline
            .send_unchecked(&ctx, Method::Delete, url, None)
            .await?;
        if response.status() == StatusCode::NotFound {
            return Ok(());
        }
        ensure_success(response)?;
        Ok(())
    }
}
