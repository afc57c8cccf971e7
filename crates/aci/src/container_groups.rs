//! The `ContainerGroups` trait and its ARM implementation.

use crate::{
    Result,
    api_version::ApiVersion,
    models::{ContainerGroup, Logs},
    validation::{api_version_for, validate_encryption},
};
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    lro::OperationKind,
    names::{ContainerGroupName, ContainerName, ResourceGroupName, SubscriptionId},
    pipeline::{decode, ensure_success, to_json_value},
};
use azure_core::http::{Method, StatusCode};
use std::{collections::BTreeMap, fmt::Debug, sync::Arc};
use url::Url;

/// Options of [`ContainerGroups::logs`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LogOptions {
    /// Only the last `tail` lines.
    pub tail: Option<u32>,
    /// Prefix each line with its timestamp.
    pub timestamps: bool,
}

impl LogOptions {
    /// The last `lines` lines.
    pub fn tail(lines: u32) -> Self {
        Self {
            tail: Some(lines),
            ..Self::default()
        }
    }

    /// Prefixes each line with its timestamp.
    pub fn with_timestamps(mut self) -> Self {
        self.timestamps = true;
        self
    }
}

/// Container groups in one subscription (`Microsoft.ContainerInstance/containerGroups`).
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response, polls of
/// long-running operations included.
#[async_trait::async_trait]
pub trait ContainerGroups: Send + Sync + Debug {
    /// Creates or replaces a group and waits until it is provisioned (`PUT`, long-running).
    ///
    /// The body is checked first: encryption needs sku `Standard`, an encryption identity must
    /// be one of the group's user-assigned identities, and the api-version must have the fields
    /// used. A `Failed` provisioning surfaces the ARM error.
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        group: &ContainerGroup,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup>;

    /// Reads a group (`GET`). A missing group is [`aci_cmk_core::Error::NotFound`].
    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup>;

    /// Replaces a group's tags (`PATCH`).
    async fn update_tags(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup>;

    /// Deletes a group and waits until it is gone (`DELETE`, long-running). Deleting a missing
    /// group succeeds.
    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// The groups of a resource group.
    async fn list_by_resource_group(
        &self,
        resource_group: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<ContainerGroup>>;

    /// The groups of the subscription.
    async fn list(&self, options: Option<CallOptions<'_>>) -> Result<Vec<ContainerGroup>>;

    /// Restarts every container of a group in place (`POST …/restart`, long-running).
    async fn restart(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// Stops every container of a group (`POST …/stop`).
    async fn stop(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// Starts every container of a stopped group (`POST …/start`, long-running).
    async fn start(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// A container's logs (`GET …/containers/{c}/logs`).
    async fn logs(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        container: &ContainerName,
        log_options: LogOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<String>;
}

/// Options of [`ContainerGroupsClient`].
#[derive(Clone, Debug, Default)]
pub struct ContainerGroupsClientOptions {
    /// Transport, retry, polling.
    pub service: ServiceClientOptions,
    /// Pin every request to this api-version. Unpinned, the client sends
    /// [`ApiVersion::DEFAULT`], which has every field this SDK uses.
    pub api_version: Option<ApiVersion>,
}

/// [`ContainerGroups`] over ARM.
#[derive(Clone, Debug)]
pub struct ContainerGroupsClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
    api_version: Option<ApiVersion>,
}

const PROVIDER: &str = "Microsoft.ContainerInstance/containerGroups";

impl ContainerGroupsClient {
    /// A client for the container groups of `subscription_id` in `cloud`.
    pub fn new(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        subscription_id: SubscriptionId,
        options: Option<ContainerGroupsClientOptions>,
    ) -> Self {
        let options = options.unwrap_or_default();
        let pipeline = ServicePipeline::resource_manager(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            cloud,
            credential,
            Some(options.service),
        );
        Self {
            pipeline,
            subscription_id,
            api_version: options.api_version,
        }
    }

    fn read_api_version(&self) -> ApiVersion {
        self.api_version.clone().unwrap_or_default()
    }

    fn group_path(&self, resource_group: &ResourceGroupName, name: &ContainerGroupName) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{PROVIDER}/{}",
            self.subscription_id, resource_group, name
        )
    }

    fn group_url(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        suffix: &str,
    ) -> Url {
        let path = format!("{}{suffix}", self.group_path(resource_group, name));
        self.pipeline
            .url(&path, Some(self.read_api_version().as_str()))
    }

    async fn list_pages(
        &self,
        options: Option<CallOptions<'_>>,
        first: Url,
    ) -> Result<Vec<ContainerGroup>> {
        let ctx = CallOptions::context_of(options);
        Ok(self
            .pipeline
            .list_all(&ctx, "list container groups", first)
            .await?)
    }

    async fn action(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        action: &str,
        long_running: bool,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.group_url(resource_group, name, &format!("/{action}"));
        let response = self.pipeline.send(&ctx, Method::Post, url, None).await?;
        if long_running {
            let resource = self.group_url(resource_group, name, "");
            self.pipeline
                .wait_for_operation(
                    &ctx,
                    &format!("{action} container group {name}"),
                    OperationKind::Action,
                    response,
                    &resource,
                )
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ContainerGroups for ContainerGroupsClient {
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        group: &ContainerGroup,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup> {
        let ctx = CallOptions::context_of(options);
        validate_encryption(group)?;
        let api_version = api_version_for(group, self.api_version.as_ref())?;
        let url = self.pipeline.url(
            &self.group_path(resource_group, name),
            Some(api_version.as_str()),
        );
        let body = to_json_value(group)?;
        let operation = format!("create container group {name}");
        tracing::debug!(group = %name, %api_version, "creating container group");
        let response = self
            .pipeline
            .send(&ctx, Method::Put, url.clone(), Some(&body))
            .await?;
        let done = self
            .pipeline
            .wait_for_operation(
                &ctx,
                &operation,
                OperationKind::CreateOrUpdate,
                response,
                &url,
            )
            .await?
            .unwrap_or_default();
        serde_json::from_value(done).map_err(|e| {
            aci_cmk_core::Error::Decode {
                what: operation,
                message: e.to_string(),
            }
            .into()
        })
    }

    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup> {
        let ctx = CallOptions::context_of(options);
        let url = self.group_url(resource_group, name, "");
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn update_tags(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> Result<ContainerGroup> {
        let ctx = CallOptions::context_of(options);
        let url = self.group_url(resource_group, name, "");
        let body = serde_json::json!({ "tags": tags });
        Ok(self
            .pipeline
            .json(&ctx, Method::Patch, url, Some(&body))
            .await?)
    }

    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.group_url(resource_group, name, "");
        let response = self
            .pipeline
            .send_unchecked(&ctx, Method::Delete, url.clone(), None)
            .await?;
        if matches!(
            response.status(),
            StatusCode::NotFound | StatusCode::NoContent
        ) {
            return Ok(());
        }
        let response = ensure_success(response)?;
        self.pipeline
            .wait_for_operation(
                &ctx,
                &format!("delete container group {name}"),
                OperationKind::Delete,
                response,
                &url,
            )
            .await?;
        Ok(())
    }

    async fn list_by_resource_group(
        &self,
        resource_group: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<ContainerGroup>> {
        let path = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{PROVIDER}",
            self.subscription_id, resource_group
        );
        let url = self
            .pipeline
            .url(&path, Some(self.read_api_version().as_str()));
        self.list_pages(options, url).await
    }

    async fn list(&self, options: Option<CallOptions<'_>>) -> Result<Vec<ContainerGroup>> {
        let path = format!(
            "/subscriptions/{}/providers/{PROVIDER}",
            self.subscription_id
        );
        let url = self
            .pipeline
            .url(&path, Some(self.read_api_version().as_str()));
        self.list_pages(options, url).await
    }

    async fn restart(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        self.action(resource_group, name, "restart", true, options)
            .await
    }

    async fn stop(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        self.action(resource_group, name, "stop", false, options)
            .await
    }

    async fn start(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        self.action(resource_group, name, "start", true, options)
            .await
    }

    async fn logs(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        container: &ContainerName,
        log_options: LogOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<String> {
        let ctx = CallOptions::context_of(options);
        let mut url = self.group_url(
            resource_group,
            name,
            &format!("/containers/{container}/logs"),
        );
        {
            let mut query = url.query_pairs_mut();
            if let Some(tail) = log_options.tail {
                query.append_pair("tail", &tail.to_string());
            }
            if log_options.timestamps {
                query.append_pair("timestamps", "true");
            }
        }
        let what = format!("logs of {name}/{container}");
        let response = self.pipeline.send(&ctx, Method::Get, url, None).await?;
        let logs: Logs = decode(&what, &response)?;
        Ok(logs.content)
    }
}
