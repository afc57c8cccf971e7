//! The Container Instances and deployments clients against a mock ARM: the exact requests they
//! send and how they decode answers and errors.

mod container_groups;
mod deployments;
mod resource_groups;

use aci_cmk_core::{
    CloudEndpoints, ServiceClientOptions,
    names::{ResourceGroupName, SubscriptionId},
};
use azure_core::credentials::TokenCredential;
use std::sync::Arc;
use wiremock::MockServer;

/// The subscription of every test.
pub const SUB: &str = "00000000-0000-0000-0000-0000000000aa";
/// The Authorization header an ARM request must carry.
pub const ARM_TOKEN: &str = "Bearer token-for-http://127.0.0.1/.default";

/// A cloud whose ARM is the mock server, and whose ARM audience is `http://127.0.0.1`.
pub fn cloud(server: &MockServer) -> CloudEndpoints {
    let mut cloud = CloudEndpoints::custom(
        "Mock",
        &server.uri(),
        &format!("{}/graph", server.uri()),
        &server.uri(),
        "vault.localhost",
    )
    .expect("valid mock cloud");
    cloud.resource_manager_audience = "http://127.0.0.1".into();
    cloud
}

/// Fast retries and polling.
pub fn options() -> ServiceClientOptions {
    aci_cmk_core::test_support::fast_options()
}

/// A credential echoing its scope.
pub fn credential() -> Arc<dyn TokenCredential> {
    aci_cmk_core::test_support::echo_credential()
}

/// [`SUB`], parsed.
pub fn sub() -> SubscriptionId {
    SUB.parse().expect("valid subscription")
}

/// The resource group of every test.
pub fn rg() -> ResourceGroupName {
    "rg-cmk".parse().expect("valid group")
}
