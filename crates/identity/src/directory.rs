//! The `Directory` trait (Microsoft Graph v1.0 service principals) and its implementation.

use crate::Result;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, ServicePipeline, TokenCredential,
    names::{AppId, PrincipalId},
    pipeline::{decode, ensure_success, to_json_value},
};
use azure_core::http::{Context, Method, StatusCode};
use serde::{Deserialize, Serialize};
use std::{fmt::Debug, sync::Arc};
use url::Url;

/// The application id of Azure Container Instances' first-party application ("Azure Container
/// Instance Service"); its service principal in a tenant is what a vault access policy must
/// name in the access-policy CMK flow.
pub const ACI_FIRST_PARTY_APP_ID: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";

/// A service principal: an application's identity in one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// The object id, which access policies (`objectId`) and role assignments
    /// (`principalId`) take. It differs per tenant.
    pub id: PrincipalId,
    /// The application id, the same in every tenant.
    pub app_id: AppId,
    /// The display name, e.g. `Azure Container Instance Service`.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// What [`Directory::ensure_service_principal`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnsuredServicePrincipal {
    /// The service principal.
    pub service_principal: ServicePrincipal,
    /// Whether this call created it.
    pub created: bool,
}

impl EnsuredServicePrincipal {
    /// `service_principal`, `created` by this call or found.
    pub fn new(service_principal: ServicePrincipal, created: bool) -> Self {
        Self {
            service_principal,
            created,
        }
    }
}

/// Service principals in Microsoft Graph.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id (sent
/// as Graph's `client-request-id`), extra headers, and a recorder of Graph's `request-id`s.
#[async_trait::async_trait]
pub trait Directory: Send + Sync + Debug {
    /// The service principal of `app_id` in the signed-in tenant
    /// (`GET /v1.0/servicePrincipals(appId='{appId}')`), or `None` when there is none.
    async fn get_service_principal_by_app_id(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Option<ServicePrincipal>>;

    /// The service principal of `app_id`, created if missing (`POST /v1.0/servicePrincipals`).
    /// When another caller creates it first (409 `Request_MultipleObjectsWithSameKeyValue`),
    /// the existing one is read back and returned.
    async fn ensure_service_principal(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> Result<EnsuredServicePrincipal>;
}

/// [`Directory`] over Microsoft Graph v1.0.
#[derive(Clone, Debug)]
pub struct DirectoryClient {
    pipeline: ServicePipeline,
}

/// The former name of [`DirectoryClient`].
#[deprecated(note = "renamed DirectoryClient, as the other clients are named")]
pub type GraphDirectory = DirectoryClient;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateServicePrincipal<'a> {
    app_id: &'a AppId,
}

impl DirectoryClient {
    /// A client for the Graph endpoint of `cloud` (which may have a path, like the emulator's
    /// `https://localhost:{port}/graph/`), with Graph tokens from `credential`.
    pub fn new(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        options: Option<ServiceClientOptions>,
    ) -> Self {
        let pipeline = ServicePipeline::microsoft_graph(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            cloud,
            credential,
            options,
        );
        Self { pipeline }
    }

    fn by_app_id_url(&self, app_id: &AppId) -> Url {
        let mut url = self
            .pipeline
            .url(&format!("/v1.0/servicePrincipals(appId='{app_id}')"), None);
        url.set_query(Some("$select=id,appId,displayName"));
        url
    }

    async fn create(
        &self,
        ctx: &Context<'_>,
        app_id: &AppId,
    ) -> Result<std::result::Result<ServicePrincipal, aci_cmk_core::Error>> {
        let url = self.pipeline.url("/v1.0/servicePrincipals", None);
        let body = to_json_value(&CreateServicePrincipal { app_id })?;
        let response = self
            .pipeline
            .send_unchecked(ctx, Method::Post, url, Some(&body))
            .await?;
        Ok(match ensure_success(response) {
            Ok(response) => Ok(decode("create service principal", &response)?),
            Err(error) => Err(error),
        })
    }
}

#[async_trait::async_trait]
impl Directory for DirectoryClient {
    async fn get_service_principal_by_app_id(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> Result<Option<ServicePrincipal>> {
        let ctx = CallOptions::context_of(options);
        let response = self
            .pipeline
            .send_unchecked(&ctx, Method::Get, self.by_app_id_url(app_id), None)
            .await?;
        if response.status() == StatusCode::NotFound {
            return Ok(None);
        }
        let response = ensure_success(response)?;
        Ok(Some(decode("get service principal", &response)?))
    }

    async fn ensure_service_principal(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> Result<EnsuredServicePrincipal> {
        // One client request id and recorder for the read, the write and the read-back.
        if let Some(existing) = self
            .get_service_principal_by_app_id(app_id, options.clone())
            .await?
        {
            return Ok(EnsuredServicePrincipal {
                service_principal: existing,
                created: false,
            });
        }
        match self
            .create(&CallOptions::context_of(options.clone()), app_id)
            .await?
        {
            Ok(created) => Ok(EnsuredServicePrincipal {
                service_principal: created,
                created: true,
            }),
            // Someone else created it between our read and our write: read theirs.
            Err(conflict) if conflict.is_conflict() => {
                match self
                    .get_service_principal_by_app_id(app_id, options)
                    .await?
                {
                    Some(existing) => Ok(EnsuredServicePrincipal {
                        service_principal: existing,
                        created: false,
                    }),
                    None => Err(conflict.into()),
                }
            }
            Err(other) => Err(other.into()),
        }
    }
}
