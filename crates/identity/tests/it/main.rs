//! Identity clients against a local mock server: Graph service principals, managed identities,
//! role assignments; and against the local emulator end to end.

mod directory;
mod emulator;
mod managed_identities;
mod role_assignments;

use aci_cmk_core::{CloudEndpoints, ServiceClientOptions};
use aci_cmk_identity::{DirectoryClient, ManagedIdentitiesClient, RoleAssignmentsClient};
use std::sync::Arc;
use wiremock::MockServer;

pub use aci_cmk_core::test_support::ScopeEchoCredential;

/// The subscription every test uses.
pub const SUB: &str = "00000000-0000-0000-0000-000000000001";
/// The tenant every test uses.
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

/// A cloud whose ARM and Graph endpoints are the mock server.
pub fn cloud(server: &MockServer) -> CloudEndpoints {
    aci_cmk_core::test_support::mock_cloud(&server.uri())
}

/// Fast retries and polls.
pub fn options() -> ServiceClientOptions {
    aci_cmk_core::test_support::fast_options()
}

/// The bearer header ARM requests must carry.
pub fn arm_bearer(server: &MockServer) -> String {
    format!(
        "Bearer token-for-{}",
        cloud(server).resource_manager_scope()
    )
}

/// A Graph client pointed at the mock server's `/graph`, and the bearer header it must send.
pub fn directory(server: &MockServer) -> (DirectoryClient, String) {
    let cloud = cloud(server);
    let bearer = format!("Bearer token-for-{}", cloud.microsoft_graph_scope());
    let client = DirectoryClient::new(
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
