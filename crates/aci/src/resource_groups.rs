//! The `ResourceGroups` trait (`Microsoft.Resources/resourceGroups`) and its ARM implementation.
//!
//! It lives beside [`Deployments`](crate::Deployments): both are `Microsoft.Resources`, the
//! containers a deployment of container groups needs.

use crate::Result;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    lro::OperationKind,
    names::{Location, ResourceGroupName, SubscriptionId},
    pipeline::ensure_success,
};
use azure_core::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt::Debug, sync::Arc};

/// The api-version of `Microsoft.Resources/resourceGroups`.
pub const API_VERSION: &str = "2021-04-01";

/// A resource group as ARM reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceGroup {
    /// The resource id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The provisioning state.
    #[serde(default)]
    pub properties: Option<ResourceGroupProperties>,
}

/// The `properties` of a resource group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceGroupProperties {
    /// `Succeeded`, `Deleting`, ...
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// Resource groups of one subscription.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response.
#[async_trait::async_trait]
pub trait ResourceGroups: Send + Sync + Debug {
    /// Creates or updates a group (`PUT`, synchronous).
    async fn create_or_update(
        &self,
        name: &ResourceGroupName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<ResourceGroup>;

    /// Reads a group; `None` when it does not exist.
    async fn get(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Option<ResourceGroup>>;

    /// Deletes a group and everything in it, waiting until it is gone (`DELETE`, long-running).
    /// Deleting a missing group succeeds.
    async fn delete(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;
}

/// [`ResourceGroups`] over ARM.
#[derive(Clone, Debug)]
pub struct ResourceGroupsClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
}

impl ResourceGroupsClient {
    /// A client for the resource groups of `subscription_id` in `cloud`.
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

    fn url(&self, name: &ResourceGroupName) -> url::Url {
        let path = format!(
            "/subscriptions/{}/resourcegroups/{name}",
            self.subscription_id
        );
        self.pipeline.url(&path, Some(API_VERSION))
    }
}

#[async_trait::async_trait]
impl ResourceGroups for ResourceGroupsClient {
    async fn create_or_update(
        &self,
        name: &ResourceGroupName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<ResourceGroup> {
        let ctx = CallOptions::context_of(options);
        let mut body = serde_json::json!({ "location": location.as_str() });
        if !tags.is_empty() {
            body["tags"] = serde_json::json!(tags);
        }
        Ok(self
            .pipeline
            .json(&ctx, Method::Put, self.url(name), Some(&body))
            .await?)
    }

    async fn get(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Option<ResourceGroup>> {
        let ctx = CallOptions::context_of(options);
        match self
            .pipeline
            .json::<(), ResourceGroup>(&ctx, Method::Get, self.url(name), None)
            .await
        {
            Ok(group) => Ok(Some(group)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(name);
        let response = self
            .pipeline
            .send_unchecked(&ctx, Method::Delete, url.clone(), None)
            .await?;
        if response.status() == StatusCode::NotFound {
            return Ok(());
        }
        let response = ensure_success(response)?;
        self.pipeline
            .wait_for_operation(
                &ctx,
                &format!("delete resource group {name}"),
                OperationKind::Delete,
                response,
                &url,
            )
            .await?;
        Ok(())
    }
}
