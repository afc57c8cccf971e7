//! What the clients' tests share (feature `test-support`, for dev-dependencies only): a
//! credential that echoes its scope, a cloud whose endpoints are a local mock server, and options
//! with fast retries and polls.

use crate::{CloudEndpoints, ServiceClientOptions, lro::LroOptions, retry::ServerDirectedRetry};
use azure_core::{
    credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions},
    http::RetryOptions,
    time::{Duration, OffsetDateTime},
};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

/// Hands out `token-for-{scope}` (so a test can assert which audience a request was for) and
/// counts the calls.
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

/// A fresh [`ScopeEchoCredential`], as the clients take it.
pub fn echo_credential() -> Arc<dyn TokenCredential> {
    Arc::new(ScopeEchoCredential::default())
}

/// The `Authorization` header a request for `scope` carries with [`ScopeEchoCredential`].
pub fn bearer(scope: &str) -> String {
    format!("Bearer token-for-{scope}")
}

/// A cloud whose ARM, authority and Graph (`{uri}/graph`) endpoints are the mock server at
/// `uri` (plain http to loopback is allowed for tokens).
pub fn mock_cloud(uri: &str) -> CloudEndpoints {
    CloudEndpoints::custom(
        "mock",
        uri,
        &format!("{uri}/graph"),
        uri,
        "vault.localhost:1",
    )
    .unwrap_or_else(|e| panic!("a loopback mock cloud is valid: {e}"))
}

/// Options with fast retries (5 ms, at most 2) and polls (10 ms, at most 10 s).
pub fn fast_options() -> ServiceClientOptions {
    let mut options = ServiceClientOptions::default();
    options.client_options.retry = RetryOptions::custom(Arc::new(ServerDirectedRetry::new(
        Duration::milliseconds(5),
        Duration::milliseconds(50),
        2,
        Duration::seconds(20),
    )));
    options.lro = LroOptions::default()
        .with_default_poll_interval(std::time::Duration::from_millis(10))
        .with_max_wait(std::time::Duration::from_secs(10));
    options
}
