//! The `KeyVaultManagement` trait and its ARM implementation (`Microsoft.KeyVault`).

use crate::{
    Error, Result,
    models::{
        AccessPolicyEntry, AccessPolicyList, AccessPolicyUpdateKind, AccessPolicyUpdateResult,
        CheckNameAvailabilityResult, CreateMode, DeletedVault, NetworkRuleSet, Sku, Vault,
        VaultCreateParameters, VaultPatch, VaultPatchProperties, VaultProperties,
    },
};
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    lro::OperationKind,
    names::{Location, ResourceGroupName, SubscriptionId, TenantId, VaultName},
    pipeline::{decode, ensure_success, to_json_value},
    retry::Idempotent,
};
use azure_core::http::{Context, Method, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use std::{fmt::Debug, sync::Arc};
use url::Url;

/// The ARM api-version of every `Microsoft.KeyVault` call.
pub const MANAGEMENT_API_VERSION: &str = "2024-11-01";

/// Vaults of one subscription, managed through Azure Resource Manager.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response, polls of
/// long-running operations included.
#[async_trait::async_trait]
pub trait KeyVaultManagement: Send + Sync + Debug {
    /// Whether `name` can be used for a new vault (`POST checkNameAvailability`; changes
    /// nothing, so it is retried like a read). A name held by a soft-deleted vault may still
    /// report as available: check [`get_deleted`](Self::get_deleted) as well.
    async fn check_name_availability(
        &self,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<CheckNameAvailabilityResult>;

    /// Creates or replaces a vault (`PUT`) and waits until it is provisioned.
    ///
    /// A `PUT` replaces the vault's access policies with `parameters.properties.access_policies`:
    /// on an existing vault use [`update`](Self::update) or
    /// [`update_access_policy`](Self::update_access_policy), which keep policies others added.
    /// `enablePurgeProtection` is sent only when it is `true`.
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        parameters: &VaultCreateParameters,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault>;

    /// Reads a vault (`GET`). A missing vault is a not-found error.
    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault>;

    /// Lists the subscription's vaults, with their properties (`GET
    /// /subscriptions/{sub}/providers/Microsoft.KeyVault/vaults`, following `nextLink`).
    /// Soft-deleted vaults are not among them: see [`list_deleted`](Self::list_deleted).
    async fn list(&self, options: Option<CallOptions<'_>>) -> Result<Vec<Vault>>;

    /// Changes some settings of an existing vault (`PATCH`); fields left `None` are not sent
    /// and keep their value.
    async fn update(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        patch: &VaultPatch,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault>;

    /// Deletes a vault (`DELETE`). With soft delete on, it moves to the deleted vaults and its
    /// name stays taken until it is purged. Deleting a missing vault succeeds.
    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// Reads a soft-deleted vault (`GET .../locations/{location}/deletedVaults/{name}`).
    async fn get_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<DeletedVault>;

    /// Lists the subscription's soft-deleted vaults, following `nextLink`.
    async fn list_deleted(&self, options: Option<CallOptions<'_>>) -> Result<Vec<DeletedVault>>;

    /// Recovers a soft-deleted vault: a vault `PUT` with `createMode: recover` carrying only
    /// `location`, `tenantId` and `sku`, so the vault comes back with its own access policies,
    /// keys and settings. Waits until it is provisioned.
    async fn recover(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        location: &Location,
        tenant_id: &TenantId,
        sku: &Sku,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault>;

    /// Purges a soft-deleted vault for good (`POST .../deletedVaults/{name}/purge`, long-running:
    /// `200`, or `202` and a `Location` to poll). Impossible under purge protection.
    async fn purge_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// Adds, replaces or removes access policies without touching the others
    /// (`PUT .../accessPolicies/{add|replace|remove}`). Returns the vault's policies afterwards.
    async fn update_access_policy(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        kind: AccessPolicyUpdateKind,
        policies: &[AccessPolicyEntry],
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<AccessPolicyEntry>>;

    /// Replaces the vault firewall (`PATCH` of `properties.networkAcls` only).
    async fn update_network_rules(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        rules: &NetworkRuleSet,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault>;
}

/// [`KeyVaultManagement`] over Azure Resource Manager.
#[derive(Clone, Debug)]
pub struct KeyVaultManagementClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
}

impl KeyVaultManagementClient {
    /// A client for the vaults of `subscription_id` in `cloud`, with ARM tokens from
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

    /// The subscription this client manages.
    pub fn subscription_id(&self) -> &SubscriptionId {
        &self.subscription_id
    }

    fn vault_path(&self, resource_group: &ResourceGroupName, name: &VaultName) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            self.subscription_id, resource_group, name
        )
    }

    fn vault_url(&self, resource_group: &ResourceGroupName, name: &VaultName) -> Url {
        self.pipeline.url(
            &self.vault_path(resource_group, name),
            Some(MANAGEMENT_API_VERSION),
        )
    }

    fn deleted_vault_url(&self, location: &Location, name: &VaultName, suffix: &str) -> Url {
        self.pipeline.url(
            &format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}{}",
                self.subscription_id, location, name, suffix
            ),
            Some(MANAGEMENT_API_VERSION),
        )
    }

    /// `PUT` a vault body and wait for provisioning.
    async fn put_vault(
        &self,
        ctx: &Context<'_>,
        operation: String,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        body: serde_json::Value,
    ) -> Result<Vault> {
        let url = self.vault_url(resource_group, name);
        let initial = self
            .pipeline
            .send_unchecked(ctx, Method::Put, url.clone(), Some(&body))
            .await?;
        let value = self
            .pipeline
            .wait_for_operation(
                ctx,
                &operation,
                OperationKind::CreateOrUpdate,
                initial,
                &url,
            )
            .await?
            .ok_or_else(|| Error::UnexpectedResponse {
                operation: operation.clone(),
                message: "the vault was not returned".into(),
            })?;
        from_value(&operation, value)
    }

    async fn patch_vault(
        &self,
        ctx: &Context<'_>,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        patch: &VaultPatch,
    ) -> Result<Vault> {
        let url = self.vault_url(resource_group, name);
        Ok(self
            .pipeline
            .json(ctx, Method::Patch, url, Some(patch))
            .await?)
    }
}

#[derive(Serialize)]
struct CheckNameRequest<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    resource_type: &'static str,
}

#[derive(Serialize)]
struct AccessPolicyUpdate<'a> {
    properties: AccessPolicyListRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessPolicyListRef<'a> {
    access_policies: &'a [AccessPolicyEntry],
}

fn from_value<T: DeserializeOwned>(operation: &str, value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        Error::Service(aci_cmk_core::Error::Decode {
            what: operation.to_owned(),
            message: e.to_string(),
        })
    })
}

#[async_trait::async_trait]
impl KeyVaultManagement for KeyVaultManagementClient {
    async fn check_name_availability(
        &self,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<CheckNameAvailabilityResult> {
        let url = self.pipeline.url(
            &format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/checkNameAvailability",
                self.subscription_id
            ),
            Some(MANAGEMENT_API_VERSION),
        );
        let body = to_json_value(&CheckNameRequest {
            name: name.as_str(),
            resource_type: "Microsoft.KeyVault/vaults",
        })?;
        // Asking changes nothing: let the retry policy repeat it like a read.
        let ctx = CallOptions::context_of(options).with_value(Idempotent);
        let response = self
            .pipeline
            .send(&ctx, Method::Post, url, Some(&body))
            .await?;
        Ok(decode("check vault name availability", &response)?)
    }

    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        parameters: &VaultCreateParameters,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault> {
        let body = to_json_value(parameters)?;
        self.put_vault(
            &CallOptions::context_of(options),
            format!("create or update vault {name}"),
            resource_group,
            name,
            body,
        )
        .await
    }

    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault> {
        let ctx = CallOptions::context_of(options);
        let url = self.vault_url(resource_group, name);
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn list(&self, options: Option<CallOptions<'_>>) -> Result<Vec<Vault>> {
        let ctx = CallOptions::context_of(options);
        let url = self.pipeline.url(
            &format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/vaults",
                self.subscription_id
            ),
            Some(MANAGEMENT_API_VERSION),
        );
        Ok(self.pipeline.list_all(&ctx, "list vaults", url).await?)
    }

    async fn update(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        patch: &VaultPatch,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault> {
        let ctx = CallOptions::context_of(options);
        self.patch_vault(&ctx, resource_group, name, patch).await
    }

    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.vault_url(resource_group, name);
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

    async fn get_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<DeletedVault> {
        let ctx = CallOptions::context_of(options);
        let url = self.deleted_vault_url(location, name, "");
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn list_deleted(&self, options: Option<CallOptions<'_>>) -> Result<Vec<DeletedVault>> {
        let ctx = CallOptions::context_of(options);
        let url = self.pipeline.url(
            &format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/deletedVaults",
                self.subscription_id
            ),
            Some(MANAGEMENT_API_VERSION),
        );
        Ok(self
            .pipeline
            .list_all(&ctx, "list deleted vaults", url)
            .await?)
    }

    async fn recover(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        location: &Location,
        tenant_id: &TenantId,
        sku: &Sku,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault> {
        let mut properties = VaultProperties::new(tenant_id.clone(), sku.clone())
            .with_create_mode(CreateMode::Recover);
        // The recovered vault keeps its own policies; sending a list would replace them.
        properties.access_policies = None;
        let body = to_json_value(&VaultCreateParameters::new(location.clone(), properties))?;
        let ctx = CallOptions::context_of(options);
        self.put_vault(
            &ctx,
            format!("recover vault {name}"),
            resource_group,
            name,
            body,
        )
        .await
    }

    async fn purge_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.deleted_vault_url(location, name, "/purge");
        let resource_url = self.deleted_vault_url(location, name, "");
        let initial = self
            .pipeline
            .send_unchecked(&ctx, Method::Post, url, None)
            .await?;
        self.pipeline
            .wait_for_operation(
                &ctx,
                &format!("purge deleted vault {name}"),
                OperationKind::Action,
                initial,
                &resource_url,
            )
            .await?;
        Ok(())
    }

    async fn update_access_policy(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        kind: AccessPolicyUpdateKind,
        policies: &[AccessPolicyEntry],
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<AccessPolicyEntry>> {
        let ctx = CallOptions::context_of(options);
        if let AccessPolicyUpdateKind::Other(other) = &kind {
            return Err(Error::InvalidArgument(format!(
                "access policy update kind {other:?} is not one of add, replace, remove"
            )));
        }
        let url = self.pipeline.url(
            &format!(
                "{}/accessPolicies/{}",
                self.vault_path(resource_group, name),
                kind.as_str()
            ),
            Some(MANAGEMENT_API_VERSION),
        );
        let body = AccessPolicyUpdate {
            properties: AccessPolicyListRef {
                access_policies: policies,
            },
        };
        let result: AccessPolicyUpdateResult = self
            .pipeline
            .json(&ctx, Method::Put, url, Some(&body))
            .await?;
        let AccessPolicyUpdateResult {
            properties: AccessPolicyList { access_policies },
            ..
        } = result;
        Ok(access_policies)
    }

    async fn update_network_rules(
        &self,
        resource_group: &ResourceGroupName,
        name: &VaultName,
        rules: &NetworkRuleSet,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vault> {
        let patch = VaultPatch::properties(VaultPatchProperties {
            network_acls: Some(rules.clone()),
            ..VaultPatchProperties::default()
        });
        let ctx = CallOptions::context_of(options);
        self.patch_vault(&ctx, resource_group, name, &patch).await
    }
}
