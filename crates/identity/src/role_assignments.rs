//! The `RoleAssignments` trait (`Microsoft.Authorization/roleAssignments`) and its ARM
//! implementation, for RBAC-mode vaults.

use crate::role_definitions::RoleDefinition;
/// Role definition ids live with the role definitions; named here too, where they always were.
pub use crate::role_definitions::RoleDefinitionId;
use crate::{Error, Result};
use aci_cmk_core::wire_enum;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    names::{PrincipalId, SubscriptionId},
    pipeline::{decode, ensure_success, to_json_value},
    resource_id::ResourceId,
};
use azure_core::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::{fmt::Debug, sync::Arc};
use url::Url;
use uuid::Uuid;

/// The ARM api-version of every `Microsoft.Authorization` call.
pub const AUTHORIZATION_API_VERSION: &str = "2022-04-01";

/// The namespace of the deterministic assignment names (UUIDv5) this crate creates.
const ASSIGNMENT_NAMESPACE: Uuid = Uuid::from_u128(0x5a0c_3f2e_9d41_4b7a_8e61_2c9f_d0b4_a7e3);

wire_enum! {
    /// The kind of principal a role is assigned to (`principalType`). Setting it avoids a
    /// `PrincipalNotFound` for a principal Entra ID has not replicated yet.
    pub enum PrincipalType {
        /// A user.
        User => "User",
        /// A group.
        Group => "Group",
        /// A service principal, including managed identities.
        ServicePrincipal => "ServicePrincipal",
        /// A group from another tenant.
        ForeignGroup => "ForeignGroup",
        /// A device.
        Device => "Device",
    }
}

/// A role assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}` (kept as a string:
    /// assignments inherited from a management group have ids outside a subscription).
    pub id: String,
    /// The assignment's GUID.
    pub name: Uuid,
    /// `Microsoft.Authorization/roleAssignments`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// What is assigned to whom, where.
    pub properties: RoleAssignmentProperties,
}

/// The properties of a role assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// The role definition id, usually without the subscription prefix in responses; compare
    /// with [`RoleAssignment::role`].
    pub role_definition_id: String,
    /// The principal's object id.
    pub principal_id: PrincipalId,
    /// The kind of principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<PrincipalType>,
    /// The scope the role is assigned at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl RoleAssignment {
    /// The assigned role, from the trailing GUID of `roleDefinitionId`.
    pub fn role(&self) -> Option<RoleDefinitionId> {
        self.properties.role_definition_id.parse().ok()
    }

    /// Whether the assignment is made at exactly `scope` (not inherited from above it, nor
    /// made below it). ARM ids compare ignoring case.
    pub fn is_at_scope(&self, scope: &ResourceId) -> bool {
        let wanted = scope.as_str().trim_end_matches('/');
        match &self.properties.scope {
            Some(own) => own.trim_end_matches('/').eq_ignore_ascii_case(wanted),
            None => self
                .id
                .to_ascii_lowercase()
                .rsplit_once("/providers/microsoft.authorization/roleassignments/")
                .is_some_and(|(own, _)| own == wanted.to_ascii_lowercase()),
        }
    }
}

/// The deterministic name of the assignment of `role` to `principal` at `scope`: a UUIDv5 of
/// the three (scope lowercased, as ARM ids compare), so that creating it again is idempotent.
pub fn assignment_name(
    scope: &ResourceId,
    role: RoleDefinitionId,
    principal: &PrincipalId,
) -> Uuid {
    let key = format!(
        "{}|{}|{}",
        scope.as_str().to_ascii_lowercase(),
        role,
        principal
    );
    Uuid::new_v5(&ASSIGNMENT_NAMESPACE, key.as_bytes())
}

#[derive(Serialize)]
struct CreateAssignment<'a> {
    properties: CreateAssignmentProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateAssignmentProperties<'a> {
    role_definition_id: String,
    principal_id: &'a PrincipalId,
    principal_type: &'a PrincipalType,
}

/// Azure role assignments.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request and correlation ids of every response.
#[async_trait::async_trait]
pub trait RoleAssignments: Send + Sync + Debug {
    /// Assigns `role` to `principal_id` at `scope` (`PUT
    /// {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`, with a deterministic
    /// name from [`assignment_name`]).
    ///
    /// A 409 `RoleAssignmentExists` (the same assignment under another name) counts as
    /// success once a list confirms an assignment of that role to that principal at that
    /// scope; that assignment is returned. A 400 `PrincipalNotFound` (a fresh identity not
    /// replicated yet) is reported as such: see [`Error::is_principal_not_found`].
    async fn create(
        &self,
        scope: &ResourceId,
        role: RoleDefinitionId,
        principal_id: &PrincipalId,
        principal_type: PrincipalType,
        options: Option<CallOptions<'_>>,
    ) -> Result<RoleAssignment>;

    /// The assignments of `principal_id` that apply at `scope` (`GET
    /// {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{id}'`),
    /// including those inherited from above it; see [`RoleAssignment::is_at_scope`].
    async fn list_for_principal(
        &self,
        scope: &ResourceId,
        principal_id: &PrincipalId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<RoleAssignment>>;

    /// Every assignment that applies at `scope` or below it, whoever holds it (`GET
    /// {scope}/providers/Microsoft.Authorization/roleAssignments`, no filter, following
    /// `nextLink`): those made at the scope, inherited from above it (resource group,
    /// subscription, management groups) and made below it (a vault's keys). See
    /// [`RoleAssignment::is_at_scope`].
    async fn list_at_scope(
        &self,
        scope: &ResourceId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<RoleAssignment>>;

    /// Reads the definition of `role` as seen from the client's subscription (`GET
    /// /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`): what
    /// the role allows, in its actions and data actions. A role that does not exist is a
    /// not-found error.
    async fn get_role_definition(
        &self,
        role: RoleDefinitionId,
        options: Option<CallOptions<'_>>,
    ) -> Result<RoleDefinition>;

    /// Deletes the assignment `name` at `scope` (`DELETE`: 200 or 204). Deleting a missing
    /// assignment succeeds.
    async fn delete(
        &self,
        scope: &ResourceId,
        name: &Uuid,
        options: Option<CallOptions<'_>>,
    ) -> Result<()>;
}

/// [`RoleAssignments`] over Azure Resource Manager.
#[derive(Clone, Debug)]
pub struct RoleAssignmentsClient {
    pipeline: ServicePipeline,
    subscription_id: SubscriptionId,
}

impl RoleAssignmentsClient {
    /// A client for `cloud`, with ARM tokens from `credential`. `subscription_id` is the
    /// default subscription; each call's scope names its own.
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

    /// The default subscription.
    pub fn subscription_id(&self) -> &SubscriptionId {
        &self.subscription_id
    }

    fn assignment_url(&self, scope: &ResourceId, name: &Uuid) -> Url {
        self.pipeline.url(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/{}",
                scope.as_str().trim_end_matches('/'),
                name.hyphenated()
            ),
            Some(AUTHORIZATION_API_VERSION),
        )
    }
}

#[async_trait::async_trait]
impl RoleAssignments for RoleAssignmentsClient {
    async fn create(
        &self,
        scope: &ResourceId,
        role: RoleDefinitionId,
        principal_id: &PrincipalId,
        principal_type: PrincipalType,
        options: Option<CallOptions<'_>>,
    ) -> Result<RoleAssignment> {
        let ctx = CallOptions::context_of(options.clone());
        if let PrincipalType::Other(other) = &principal_type {
            return Err(Error::InvalidArgument(format!(
                "principal type {other:?} is not one Azure accepts"
            )));
        }
        let name = assignment_name(scope, role, principal_id);
        let url = self.assignment_url(scope, &name);
        let body = to_json_value(&CreateAssignment {
            properties: CreateAssignmentProperties {
                role_definition_id: role.resource_id_in(scope.subscription_id()),
                principal_id,
                principal_type: &principal_type,
            },
        })?;
        let response = self
            .pipeline
            .send_unchecked(&ctx, Method::Put, url, Some(&body))
            .await?;
        let error = match ensure_success(response) {
            Ok(response) => return Ok(decode("create role assignment", &response)?),
            Err(error) => error,
        };
        let exists = error.is_conflict()
            && error.service_error().is_some_and(|e| {
                e.codes()
                    .any(|c| c.eq_ignore_ascii_case("RoleAssignmentExists"))
            });
        if !exists {
            return Err(error.into());
        }
        // The same (scope, role, principal) exists under another name: confirm and return it.
        let existing = self
            .list_for_principal(scope, principal_id, options)
            .await?;
        existing
            .into_iter()
            .find(|a| a.role() == Some(role) && a.is_at_scope(scope))
            .ok_or_else(|| error.into())
    }

    async fn list_for_principal(
        &self,
        scope: &ResourceId,
        principal_id: &PrincipalId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<RoleAssignment>> {
        let ctx = CallOptions::context_of(options);
        let mut url = self.pipeline.url(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                scope.as_str().trim_end_matches('/')
            ),
            None,
        );
        url.set_query(Some(&format!(
            "api-version={AUTHORIZATION_API_VERSION}&$filter=principalId%20eq%20'{principal_id}'"
        )));
        Ok(self
            .pipeline
            .list_all(&ctx, "list role assignments", url)
            .await?)
    }

    async fn list_at_scope(
        &self,
        scope: &ResourceId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<RoleAssignment>> {
        let ctx = CallOptions::context_of(options);
        let url = self.pipeline.url(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                scope.as_str().trim_end_matches('/')
            ),
            Some(AUTHORIZATION_API_VERSION),
        );
        Ok(self
            .pipeline
            .list_all(&ctx, "list role assignments", url)
            .await?)
    }

    async fn get_role_definition(
        &self,
        role: RoleDefinitionId,
        options: Option<CallOptions<'_>>,
    ) -> Result<RoleDefinition> {
        let ctx = CallOptions::context_of(options);
        let url = self.pipeline.url(
            &role.resource_id_in(&self.subscription_id),
            Some(AUTHORIZATION_API_VERSION),
        );
        Ok(self
            .pipeline
            .json::<(), _>(&ctx, Method::Get, url, None)
            .await?)
    }

    async fn delete(
        &self,
        scope: &ResourceId,
        name: &Uuid,
        options: Option<CallOptions<'_>>,
    ) -> Result<()> {
        let ctx = CallOptions::context_of(options);
        let url = self.assignment_url(scope, name);
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
