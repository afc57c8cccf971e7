//! Pipeline behaviour against a local mock server (auth, retries, long-running operations),
//! and property tests of the parsers that take outside input.

mod call_options;
mod lro;
mod pipeline;
mod props;

use aci_cmk_core::{ServiceClientOptions, ServicePipeline, lro::LroOptions};
use azure_core::{
    credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions},
    http::{ExponentialRetryOptions, RetryOptions},
    time::{Duration, OffsetDateTime},
};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

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

/// A pipeline for `endpoint` with fast retries and polls.
pub fn pipeline(endpoint: &str, max_retries: u32) -> (ServicePipeline, Arc<ScopeEchoCredential>) {
    let credential = Arc::new(ScopeEchoCredential::default());
    let mut options = ServiceClientOptions::default();
    options.client_options.retry = RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: Duration::milliseconds(5),
        max_retries,
        max_total_elapsed: Duration::seconds(20),
        max_delay: Duration::seconds(1),
    });
    options.lro = LroOptions::default()
        .with_default_poll_interval(std::time::Duration::from_millis(10))
        .with_max_wait(std::time::Duration::from_secs(10));
    let pipeline = ServicePipeline::new(
        "aci_cmk_core_tests",
        "0.0.0",
        endpoint.parse().expect("valid endpoint"),
        credential.clone(),
        "https://management.example/.default",
        options,
    );
    (pipeline, credential)
}
