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
/// It cannot refresh: once the token expires, requests fail with 401. `Debug` shows the expiry
/// only: the token is an `azure_core` `Secret`, which prints as `Secret`.
#[derive(Clone, Debug)]
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

/// Who a credential signs in as, read from the claims of one of its access tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedInPrincipal {
    /// The object id (`oid`): what Key Vault access policies and role assignments name.
    pub object_id: crate::names::PrincipalId,
    /// The tenant (`tid`).
    pub tenant_id: crate::names::TenantId,
    /// The application id (`appid` or `azp`), for service principals and managed identities.
    pub app_id: Option<String>,
}

/// Asks `credential` for a token of `scope` and reads the principal from its claims, as the Azure
/// CLI does to learn the signed-in object id. The token's signature is not checked: it came
/// from the credential, not from a third party, and it is not used for anything else.
pub async fn signed_in_principal(
    credential: &dyn TokenCredential,
    scope: &str,
) -> Result<SignedInPrincipal> {
    use base64::Engine as _;
    let token = credential
        .get_token(&[scope], None)
        .await
        .map_err(credential_error)?;
    let invalid = |what: &str| Error::Decode {
        what: "the access token's claims".into(),
        message: what.to_owned(),
    };
    let payload = token
        .token
        .secret()
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("the token is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the claims are not base64url"))?;
    #[derive(serde::Deserialize)]
    struct Claims {
        oid: Option<String>,
        tid: Option<String>,
        appid: Option<String>,
        azp: Option<String>,
    }
    let claims: Claims =
        serde_json::from_slice(&bytes).map_err(|_| invalid("the claims are not JSON"))?;
    let object_id = claims
        .oid
        .ok_or_else(|| invalid("no oid claim"))?
        .parse()
        .map_err(|_| invalid("the oid claim is not a GUID"))?;
    let tenant_id = claims
        .tid
        .ok_or_else(|| invalid("no tid claim"))?
        .parse()
        .map_err(|_| invalid("the tid claim is not a GUID"))?;
    Ok(SignedInPrincipal {
        object_id,
        tenant_id,
        app_id: claims.appid.or(claims.azp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn a_fixed_credentials_debug_shows_no_token() {
        let credential = FixedTokenCredential::new(
            "eyJ-the-token".into(),
            azure_core::time::OffsetDateTime::now_utc(),
        );
        let printed = format!("{credential:?}");
        assert!(!printed.contains("eyJ-the-token"), "{printed}");
        assert!(printed.contains("expires_on"), "{printed}");
    }

    fn jwt(claims: serde_json::Value) -> SecretString {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b64(br#"{"alg":"RS256"}"#),
            b64(claims.to_string().as_bytes())
        )
        .into()
    }

    #[tokio::test]
    async fn reads_oid_tid_and_appid() {
        let oid = "11111111-2222-3333-4444-555555555555";
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let token = jwt(serde_json::json!({"oid": oid, "tid": tid, "appid": "app"}));
        let credential =
            FixedTokenCredential::new(token, azure_core::time::OffsetDateTime::now_utc());
        let principal = signed_in_principal(credential.as_ref(), "https://x/.default")
            .await
            .expect("reads");
        assert_eq!(principal.object_id.as_str(), oid);
        assert_eq!(principal.tenant_id.as_str(), tid);
        assert_eq!(principal.app_id.as_deref(), Some("app"));
    }

    #[tokio::test]
    async fn rejects_tokens_without_claims() {
        for token in [
            "opaque".to_owned(),
            jwt(serde_json::json!({"tid": "x"}))
                .expose_secret()
                .to_owned(),
        ] {
            let credential = FixedTokenCredential::new(
                token.into(),
                azure_core::time::OffsetDateTime::now_utc(),
            );
            let err = signed_in_principal(credential.as_ref(), "s")
                .await
                .expect_err("no oid");
            assert!(matches!(err, Error::Decode { .. }), "{err:?}");
            assert!(!err.to_string().contains("sig"), "the token is not echoed");
        }
    }
}
