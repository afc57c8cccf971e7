//! Identity clients against a local mock server: Graph service principals, managed identities,
//! role assignments; and against the local emulator end to end.

mod directory;
mod emulator;
mod managed_identities;
mod role_assignments;

use aci_cmk_core::{CloudEndpoints, ServiceClientOptions, lro::LroOptions};
use aci_cmk_identity::{GraphDirectory, ManagedIdentitiesClient, RoleAssignmentsClient};
use azure_core::{
    credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions},
    http::{ExponentialRetryOptions, RetryOptions},
    time::{Duration, OffsetDateTime},
};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use wiremock::MockServer;

/// Hands out `token-for-{scope}` and counts the calls.
#[derive(Debug, Default)]
pub struct ScopeEchoCredential {
    /// How many tokens were requested.
    pub calls: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for ScopeEchoCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(
            Secret::new(format!("token-for-{}", scopes.join(" "))),
            OffsetDateTime::now_utc() + Duration::hours(1),
        ))
    }
}

/// The subscription every test uses.
pub const SUB: &str = "00000000-0000-0000-0000-000000000001";
/// The tenant every test uses.
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

/// A cloud whose ARM and Graph endpoints are the mock server.
pub fn cloud(server: &MockServer) -> CloudEndpoints {
    CloudEndpoints::custom(
        "wiremock",
        &server.uri(),
        &format!("{}/graph", server.uri()),
        &server.uri(),
        "vault.localhost:1",
    )
    .expect("loopback endpoints are allowed")
}

/// Fast retries and polls.
pub fn options() -> ServiceClientOptions {
    let mut options = ServiceClientOptions::default();
    options.client_options.retry = RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: Duration::milliseconds(5),
        max_retries: 2,
        max_total_elapsed: Duration::seconds(20),
        max_delay: Duration::milliseconds(50),
    });
    options.lro = LroOptions::default()
        .with_default_poll_interval(std::time::Duration::from_millis(10))
        .with_max_wait(std::time::Duration::from_secs(10));
    options
}

/// The bearer header ARM requests must carry.
pub fn arm_bearer(server: &MockServer) -> String {
    format!(
        "Bearer token-for-{}",
        cloud(server).resource_manager_scope()
    )
}

/// A Graph client pointed at the mock server's `/graph`, and the bearer header it must send.
pub fn directory(server: &MockServer) -> (GraphDirectory, String) {
    let cloud = cloud(server);
    let bearer = format!("Bearer token-for-{}", cloud.microsoft_graph_scope());
    let client = GraphDirectory::new(
        &cloud,
        Arc::new(ScopeEchoCredential::default()),
        Some(options()),
    );
    (client, bearer)
}

/// A managed-identity client pointed at the mock server.
pub fn identities(server: &MockServer) -> ManagedIdentitiesClient {
    ManagedIdentitiesClient::new(
        &cloud(server),
        Arc::new(ScopeEchoCredential::default()),
        SUB.parse().expect("valid subscription"),
        Some(options()),
    )
}

/// A role-assignment client pointed at the mock server.
pub fn roles(server: &MockServer) -> RoleAssignmentsClient {
    RoleAssignmentsClient::new(
        &cloud(server),
        Arc::new(ScopeEchoCredential::default()),
        SUB.parse().expect("valid subscription"),
        Some(options()),
    )
}
