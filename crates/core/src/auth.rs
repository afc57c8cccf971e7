//! The bearer-token policy of our pipelines: one audience per policy, the token cached and
//! refreshed before it expires, concurrent requests sharing one refresh, and a token never sent
//! over plain http except to a loopback address.
//!
//! Why not `azure_core`'s `BearerTokenAuthorizationPolicy`: it refuses every non-https URL,
//! which rules out asserting the `Authorization` header in wiremock tests over loopback http;
//! see `docs/adr/001-own-auth-and-retry-policies.md`.

use crate::loopback::is_loopback_host;
use azure_core::{
    credentials::{AccessToken, TokenCredential, TokenRequestOptions},
    http::{
        Context, Request,
        headers::AUTHORIZATION,
        policies::{Policy, PolicyResult},
    },
    time::{Duration, OffsetDateTime},
};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Refresh a token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// Adds `Authorization: Bearer …` for one scope, with a cached token.
#[derive(Debug, Clone)]
pub struct BearerTokenPolicy {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    cache: Arc<Mutex<Option<AccessToken>>>,
}

impl BearerTokenPolicy {
    /// A policy asking `credential` for tokens of `scope` (e.g. `https://management.azure.com/.default`).
    pub fn new(credential: Arc<dyn TokenCredential>, scope: impl Into<String>) -> Self {
        Self {
            credential,
            scope: scope.into(),
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The scope tokens are requested for.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// A valid token: the cached one, or a fresh one. Callers that arrive while a refresh is
    /// under way wait for it instead of starting their own.
    pub async fn token(&self) -> azure_core::Result<AccessToken> {
        let mut cached = self.cache.lock().await;
        if let Some(token) = cached.as_ref()
            && !needs_refresh(token, OffsetDateTime::now_utc())
        {
            return Ok(token.clone());
        }
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], Some(TokenRequestOptions::default()))
            .await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}

fn needs_refresh(token: &AccessToken, now: OffsetDateTime) -> bool {
    token.expires_on <= now + REFRESH_MARGIN
}

/// Why a request was refused before a token was attached to it.
#[derive(Debug, thiserror::Error)]
#[error("refusing to send a bearer token over plain http to {host}")]
pub struct InsecureTransportError {
    /// The host of the refused URL.
    pub host: String,
}

/// Checks that a bearer token may be sent to `url`: https, or http to a loopback address.
pub fn check_token_may_be_sent(url: &url::Url) -> Result<(), InsecureTransportError> {
    if url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(url)) {
        Ok(())
    } else {
        Err(InsecureTransportError {
            host: url.host_str().unwrap_or_default().to_owned(),
        })
    }
}

// The `Policy` trait elides the context's lifetime; the impl must match it.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl Policy for BearerTokenPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        check_token_may_be_sent(request.url())
            .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Other, e))?;
        let token = self.token().await?;
        request.insert_header(AUTHORIZATION, format!("Bearer {}", token.token.secret()));
        let response = next[0].send(ctx, request, &next[1..]).await?;
        if response.status() == azure_core::http::StatusCode::Unauthorized {
            // The service no longer accepts the cached token (revoked, clock skew): the next
            // attempt gets a new one.
            self.invalidate().await;
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::credentials::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct CountingCredential {
        calls: AtomicUsize,
        lifetime: Duration,
    }

    #[async_trait::async_trait]
    impl TokenCredential for CountingCredential {
        async fn get_token(
            &self,
            scopes: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(AccessToken::new(
                Secret::new(format!("token-{n}-{}", scopes.join(","))),
                OffsetDateTime::now_utc() + self.lifetime,
            ))
        }
    }

    fn policy(lifetime: Duration) -> (BearerTokenPolicy, Arc<CountingCredential>) {
        let cred = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime,
        });
        (
            BearerTokenPolicy::new(cred.clone(), "https://x/.default"),
            cred,
        )
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_refresh() {
        let (policy, cred) = policy(Duration::hours(1));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let p = policy.clone();
                tokio::spawn(async move { p.token().await.map(|t| t.token.secret().to_owned()) })
            })
            .collect();
        for t in tasks {
            let token = t.await.expect("task").expect("token");
            assert_eq!(token, "token-0-https://x/.default");
        }
        assert_eq!(cred.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn token_close_to_expiry_is_refreshed() {
        // Expires within the refresh margin: every call must fetch a new one.
        let (policy, cred) = policy(Duration::minutes(4));
        policy.token().await.expect("first");
        policy.token().await.expect("second");
        assert_eq!(cred.calls.load(Ordering::SeqCst), 2);

        let (policy, cred) = policy_with_margin_ok();
        policy.token().await.expect("first");
        policy.token().await.expect("second");
        assert_eq!(cred.calls.load(Ordering::SeqCst), 1);
    }

    fn policy_with_margin_ok() -> (BearerTokenPolicy, Arc<CountingCredential>) {
        policy(Duration::minutes(6))
    }

    #[test]
    fn tokens_only_over_https_or_loopback_http() {
        for (url, ok) in [
            ("https://management.azure.com/x", true),
            ("http://127.0.0.1:1234/x", true),
            ("http://[::1]:1234/x", true),
            ("http://localhost:1234/x", true),
            ("http://management.azure.com/x", false),
            ("http://192.168.1.1/x", false),
        ] {
            let u = url::Url::parse(url).expect("valid test url");
            assert_eq!(check_token_may_be_sent(&u).is_ok(), ok, "{url}");
        }
    }
}
