//! The `Deployments` trait (ARM template deployments at resource-group scope) and its ARM
//! implementation.

use crate::Result;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, Error as CoreError, ServiceClientOptions, ServiceError,
    ServicePipeline, TokenCredential,
    lro::OperationKind,
    names::{ResourceGroupName, SubscriptionId},
    pipeline::{ensure_success, to_json_value},
    retry::Idempotent,
};
use azure_core::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{fmt, str::FromStr, sync::Arc};

/// The api-version of `Microsoft.Resources/deployments`.
pub const API_VERSION: &str = "2021-04-01";

/// A deployment name: 1–64 characters of letters, digits, `-`, `_`, `.`, `(`, `)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentName(String);

impl DeploymentName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a deployment name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("deployment name {input:?} must be 1–64 letters, digits, '-', '_', '.', '(' or ')'")]
pub struct DeploymentNameError {
    /// The rejected input.
    pub input: String,
}

impl FromStr for DeploymentName {
    type Err = DeploymentNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = (1..=64).contains(&s.chars().count())
            && s.chars()
                .all(|c| c.is_alphanumeric() || "-_.()".contains(c));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(DeploymentNameError {
                input: s.to_owned(),
            })
        }
    }
}

impl TryFrom<String> for DeploymentName {
    type Error = DeploymentNameError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DeploymentName> for String {
    fn from(n: DeploymentName) -> String {
        n.0
    }
}

impl fmt::Display for DeploymentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a deployment treats resources of the group that the template does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeploymentMode {
    /// Leave them alone.
    #[default]
    Incremental,
    /// Delete them.
    Complete,
}

/// What to deploy: a template and its parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeploymentRequest {
    /// Incremental (default) or Complete.
    pub mode: DeploymentMode,
    /// The ARM template.
    pub template: Value,
    /// The parameters, as `{"name": {"value": …}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

impl DeploymentRequest {
    /// An incremental deployment of `template` with `parameters` (`{"name": {"value": …}}`).
    pub fn incremental(template: Value, parameters: Option<Value>) -> Self {
        Self {
            mode: DeploymentMode::Incremental,
            template,
            parameters,
        }
    }

    fn body(&self) -> Result<Value> {
        Ok(serde_json::json!({ "properties": to_json_value(self)? }))
    }
}

/// A deployment as ARM reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Deployment {
    /// The deployment's resource id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The state and results.
    #[serde(default)]
    pub properties: DeploymentProperties,
}

/// The `properties` of a deployment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeploymentProperties {
    /// `Accepted`, `Running`, `Succeeded`, `Failed`, `Canceled`, ...
    #[serde(default)]
    pub provisioning_state: Option<String>,
    /// The template's outputs.
    #[serde(default)]
    pub outputs: Option<Value>,
    /// The resources the deployment created or updated.
    #[serde(default)]
    pub output_resources: Vec<ResourceReference>,
    /// The correlation id to quote to Azure support.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// The duration, ISO 8601.
    #[serde(default)]
    pub duration: Option<String>,
    /// The error of a failed deployment.
    #[serde(default)]
    pub error: Option<Value>,
}

/// A reference to a resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceReference {
    /// The resource id.
    pub id: String,
}

/// One operation of a deployment: a resource it created, updated or failed on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeploymentOperation {
    /// The operation id.
    #[serde(default)]
    pub operation_id: Option<String>,
    /// What happened.
    #[serde(default)]
    pub properties: DeploymentOperationProperties,
}

/// The `properties` of a deployment operation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeploymentOperationProperties {
    /// `Create`, `Read`, ...
    #[serde(default)]
    pub provisioning_operation: Option<String>,
    /// `Succeeded`, `Failed`, ...
    #[serde(default)]
    pub provisioning_state: Option<String>,
    /// The HTTP status the resource provider answered.
    #[serde(default)]
    pub status_code: Option<String>,
    /// The provider's answer, with its error on failure.
    #[serde(default)]
    pub status_message: Option<Value>,
    /// The resource concerned.
    #[serde(default)]
    pub target_resource: Option<TargetResource>,
}

/// The resource a deployment operation acted on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TargetResource {
    /// Its id.
    #[serde(default)]
    pub id: Option<String>,
    /// Its type.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Its name.
    #[serde(default)]
    pub resource_name: Option<String>,
}

impl DeploymentOperation {
    /// The provider's error, when the operation failed.
    pub fn error(&self) -> Option<ServiceError> {
        let failed = self
            .properties
            .provisioning_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Failed"));
        if !failed {
            return None;
        }
        let message = self.properties.status_message.as_ref()?;
        let error = message.get("error").unwrap_or(message);
        let envelope = serde_json::json!({ "error": error });
        let mut parsed = ServiceError::from_body(envelope.to_string().as_bytes())?;
        if let Some(target) = &self.properties.target_resource {
            parsed.target = target.id.clone().or(parsed.target);
        }
        Some(parsed)
    }
}

/// ARM template deployments at resource-group scope (`Microsoft.Resources/deployments`).
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response, polls of
/// long-running operations included.
#[async_trait::async_trait]
pub trait Deployments: Send + Sync + fmt::Debug {
    /// Validates a deployment without deploying (`POST …/validate`). An invalid template is an
    /// [`aci_cmk_core::Error::InvalidInput`] carrying ARM's error.
    async fn validate(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> Result<Value>;

    /// Deploys and waits for the result (`PUT`, long-running). A failed deployment is
    /// [`aci_cmk_core::Error::OperationFailed`] whose details include each failing resource's
    /// own error, read from the deployment operations.
    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> Result<Deployment>;

    /// Reads a deployment.
    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Deployment>;

    /// Deletes the deployment record (not its resources). Deleting a missing one succeeds.
    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;

    /// The deployment's operations (`GET …/deployments/{name}/operations`, no `providers/`).
    async fn list_operations(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<DeploymentOperation>>;
}

/// [`Deployments`] over ARM.
#[derive(Clone, Debug)]
pub struct DeploymentsClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
}

impl DeploymentsClient {
    /// A client for the deployments of `subscription_id` in `cloud`.
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

    fn url(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        suffix: &str,
    ) -> url::Url {
        let path = format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.Resources/deployments/{}{suffix}",
            self.subscription_id, resource_group, name
        );
        self.pipeline.url(&path, Some(API_VERSION))
    }

    /// Adds the failing operations' errors to a failed deployment's error.
    async fn explain_failure(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        error: CoreError,
        options: Option<CallOptions<'_>>,
    ) -> CoreError {
        let CoreError::OperationFailed {
            operation,
            status,
            error: mut service_error,
        } = error
        else {
            return error;
        };
        if let Ok(operations) = self.list_operations(resource_group, name, options).await {
            for failure in operations.iter().filter_map(DeploymentOperation::error) {
                let known = service_error
                    .details
                    .iter()
                    .any(|d| d.code == failure.code && d.message == failure.message);
                if !known {
                    service_error.details.push(failure);
                }
            }
        }
        CoreError::OperationFailed {
            operation,
            status,
            error: service_error,
        }
    }
}

#[async_trait::async_trait]
impl Deployments for DeploymentsClient {
    async fn validate(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> Result<Value> {
        let url = self.url(resource_group, name, "/validate");
        let body = request.body()?;
        // Validating changes nothing: let the retry policy repeat it like a read.
        let ctx = CallOptions::context_of(options).with_value(Idempotent);
        let response = self
            .pipeline
            .send(&ctx, Method::Post, url.clone(), Some(&body))
            .await?;
        let result = self
            .pipeline
            .wait_for_operation(
                &ctx,
                &format!("validate deployment {name}"),
                OperationKind::Action,
                response,
                &url,
            )
            .await?;
        Ok(result.unwrap_or(Value::Null))
    }

    async fn create_or_update(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> Result<Deployment> {
        let ctx = CallOptions::context_of(options.clone());
        let url = self.url(resource_group, name, "");
        let body = request.body()?;
        let operation = format!("deployment {name}");
        let response = self
            .pipeline
            .send(&ctx, Method::Put, url.clone(), Some(&body))
            .await?;
        let done = match self
            .pipeline
            .wait_for_operation(
                &ctx,
                &operation,
                OperationKind::CreateOrUpdate,
                response,
                &url,
            )
            .await
        {
            Ok(done) => done.unwrap_or_default(),
            Err(e) => {
                let explained = self.explain_failure(resource_group, name, e, options).await;
                return Err(explained.into());
            }
        };
        serde_json::from_value(done).map_err(|e| {
            CoreError::Decode {
                what: operation,
                message: e.to_string(),
            }
            .into()
        })
    }

    async fn get(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Deployment> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(resource_group, name, "");
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn delete(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.url(resource_group, name, "");
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
                &format!("delete deployment {name}"),
                OperationKind::Delete,
                response,
                &url,
            )
            .await?;
        Ok(())
    }

    async fn list_operations(
        &self,
        resource_group: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<DeploymentOperation>> {
        let ctx = CallOptions::context_of(options);
        let path = format!(
            "/subscriptions/{}/resourcegroups/{}/deployments/{}/operations",
            self.subscription_id, resource_group, name
        );
        let url = self.pipeline.url(&path, Some(API_VERSION));
        Ok(self
            .pipeline
            .list_all(&ctx, "list deployment operations", url)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_names() {
        for ok in ["d", "aci-cmk.2024_01(x)", &"a".repeat(64)] {
            assert!(ok.parse::<DeploymentName>().is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", &"a".repeat(65)] {
            assert!(bad.parse::<DeploymentName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn failed_operation_yields_the_provider_error() {
        let op: DeploymentOperation = serde_json::from_value(serde_json::json!({
            "operationId": "1",
            "properties": {
                "provisioningState": "Failed",
                "statusCode": "BadRequest",
                "statusMessage": {"error": {"code": "KeyVaultAccessDenied", "message": "no unwrapKey"}},
                "targetResource": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/cg"}
            }
        }))
        .expect("decodes");
        let error = op.error().expect("failed");
        assert_eq!(error.code.as_deref(), Some("KeyVaultAccessDenied"));
        assert!(error.target.as_deref().is_some_and(|t| t.ends_with("/cg")));
    }
}
