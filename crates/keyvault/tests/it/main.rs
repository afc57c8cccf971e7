//! Key Vault clients against a local mock server (management plane; the data plane's
//! key-lifecycle requests through a test transport) and the local emulator (data plane, which
//! needs TLS and challenge-based authentication).

mod keys_emulator;
mod keys_wire;
mod management;

use aci_cmk_core::{CloudEndpoints, ServiceClientOptions};
use aci_cmk_keyvault::KeyVaultManagementClient;
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

/// A management client pointed at the mock server, and the bearer header it must send.
pub fn management(server: &MockServer) -> (KeyVaultManagementClient, String) {
    let cloud = cloud(server);
    let bearer = format!("Bearer token-for-{}", cloud.resource_manager_scope());
    let client = KeyVaultManagementClient::new(
        &cloud,
        Arc::new(ScopeEchoCredential::default()),
        SUB.parse().expect("valid subscription"),
        Some(options()),
    );
    (client, bearer)
}
