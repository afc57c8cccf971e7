//! Retries: `azure_core`'s retry loop (on 408, 429, 500, 502, 503, 504 and connection errors)
//! with [`ServerDirectedRetry`] as its policy (jittered exponential backoff; `Retry-After` in
//! seconds or as an HTTP date, `retry-after-ms` and `x-ms-retry-after-ms` honoured exactly;
//! bounded attempts and total time), plus one guard the loop lacks: a request that is not
//! idempotent is not retried once it may have reached the server ([`NonIdempotentGuard`]).

use azure_core::{
    error::ErrorKind,
    http::{
        Context, Method, Request, RetryOptions, StatusCode,
        headers::{HeaderName, RETRY_AFTER},
        policies::{Policy, PolicyResult, RetryHeaders, RetryPolicy},
    },
    time::Duration,
};
use std::sync::Arc;

/// The retry options our clients use unless told otherwise: [`ServerDirectedRetry::default`].
pub fn default_retry_options() -> RetryOptions {
    RetryOptions::custom(Arc::new(ServerDirectedRetry::default()))
}

/// `azure_core`'s retry loop with one change of policy: when the service says how long to wait
/// (`x-ms-retry-after-ms`, `retry-after-ms`, `Retry-After` in seconds or as an HTTP date, on a
/// 429 or 503), the client waits exactly that long, not the longer of it and its own backoff.
/// A throttled fleet then resumes as soon as the service lets it. Without such a header it backs
/// off exponentially from `initial_delay` (plus up to 255 ms of jitter), at most `max_delay` at a
/// time; it gives up after `max_retries` retries or `max_total` in all.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerDirectedRetry {
    /// The first backoff.
    pub initial_delay: Duration,
    /// The longest single backoff (and the longest server-directed wait honoured).
    pub max_delay: Duration,
    /// The most retries of one request.
    pub max_retries: u32,
    /// The longest time spent on one request, retries included.
    pub max_total: Duration,
    headers: RetryHeaders,
}

impl Default for ServerDirectedRetry {
    fn default() -> Self {
        Self::new(
            Duration::milliseconds(400),
            Duration::seconds(30),
            8,
            Duration::minutes(3),
        )
    }
}

impl ServerDirectedRetry {
    /// A policy with these bounds.
    pub fn new(
        initial_delay: Duration,
        max_delay: Duration,
        max_retries: u32,
        max_total: Duration,
    ) -> Self {
        Self {
            initial_delay,
            max_delay,
            max_retries,
            max_total,
            headers: RetryHeaders {
                retry_headers: vec![X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER],
            },
        }
    }
}

impl ServerDirectedRetry {
    /// How long retry `retry_count` waits: the server's delay when it gave one (capped at
    /// `max_delay`) plus jitter, so that callers told the same time do not all return at the
    /// same instant; else the backoff.
    ///
    /// The jitter is up to a tenth of a delay given in milliseconds (at most 250 ms), and up to
    /// one more second on a delay in whole seconds (`Retry-After`, as ARM sends it): that delay is
    /// the server's wait rounded up to the second, told alike to every caller refused in that
    /// second. Were they all to come back at its end, a token bucket refilling faster than its
    /// capacity per second would fill up meanwhile and lose the rest of its refill; spread over
    /// the next second, their returns take the tokens as they come.
    pub fn wait_duration(&self, retry_count: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(server) => {
                let server = server.min(self.max_delay);
                let ms = server.whole_milliseconds();
                let spread = if ms > 0 && ms % 1000 == 0 {
                    1000
                } else {
                    (ms / 10).min(250)
                };
                let jitter = if spread > 0 {
                    i128::from(rand::random::<u32>()) % (spread + 1)
                } else {
                    0
                };
                server + Duration::milliseconds(i64::try_from(jitter).unwrap_or(0))
            }
            None => self.sleep_duration(retry_count),
        }
    }
}

const X_MS_RETRY_AFTER_MS: HeaderName = HeaderName::from_static("x-ms-retry-after-ms");
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");

#[async_trait::async_trait]
impl RetryPolicy for ServerDirectedRetry {
    fn is_expired(&self, since_start: Duration, retry_count: u32) -> bool {
        retry_count >= self.max_retries || since_start >= self.max_total
    }

    fn retry_headers(&self) -> Option<&RetryHeaders> {
        Some(&self.headers)
    }

    fn retry_status_codes(&self) -> &[StatusCode] {
        &[
            StatusCode::RequestTimeout,
            StatusCode::TooManyRequests,
            StatusCode::InternalServerError,
            StatusCode::BadGateway,
            StatusCode::ServiceUnavailable,
            StatusCode::GatewayTimeout,
        ]
    }

    fn sleep_duration(&self, retry_count: u32) -> Duration {
        let exp = retry_count.saturating_sub(1).min(20);
        let backoff = self
            .initial_delay
            .whole_milliseconds()
            .saturating_mul(1 << exp);
        let jitter = i128::from(rand::random::<u8>());
        let ms = (backoff + jitter).min(self.max_delay.whole_milliseconds());
        Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    async fn wait(&self, retry_count: u32, retry_after: Option<Duration>) {
        let wait = self.wait_duration(retry_count, retry_after);
        let std_wait =
            std::time::Duration::from_millis(u64::try_from(wait.whole_milliseconds()).unwrap_or(0));
        tokio::time::sleep(std_wait).await;
    }
}

/// Marks a request as idempotent (safe to send twice) in the pipeline [`Context`].
///
/// `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` are idempotent by definition. A `POST` or `PATCH`
/// is treated as not idempotent unless its context carries `Idempotent` — for example a
/// `checkNameAvailability` query or a Key Vault `unwrapkey`, which change nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Idempotent;

/// Whether `request` may be sent a second time without risk of doing its work twice.
pub fn is_idempotent(ctx: &Context<'_>, request: &Request) -> bool {
    matches!(
        request.method(),
        Method::Get | Method::Head | Method::Put | Method::Delete
    ) || ctx.value::<Idempotent>().is_some()
}

/// A per-try policy that stops the retry policy from re-sending a non-idempotent request once
/// it may have reached the server.
///
/// It lets retries through where the request certainly was not processed: a connection that
/// was never established, a `429` or a `503`. It turns an IO error after the connection was
/// made (the request may have been received) and a `408`, `500`, `502` or `504` response into a
/// final error, so that a `POST /keys/{name}/create` is never sent twice.
#[derive(Debug, Default, Clone)]
pub struct NonIdempotentGuard;

// The `Policy` trait elides the context's lifetime; the impl must match it.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl Policy for NonIdempotentGuard {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let idempotent = is_idempotent(ctx, request);
        let result = next[0].send(ctx, request, &next[1..]).await;
        if idempotent {
            return result;
        }
        match result {
            Err(error) if matches!(error.kind(), ErrorKind::Io) => {
                Err(azure_core::Error::with_message(
                    ErrorKind::Other,
                    format!(
                        "{} {} may have reached the server and is not idempotent, so it was not retried: {error}",
                        request.method(),
                        request.url().path()
                    ),
                ))
            }
            Ok(response)
                if matches!(
                    response.status(),
                    StatusCode::RequestTimeout
                        | StatusCode::InternalServerError
                        | StatusCode::BadGateway
                        | StatusCode::GatewayTimeout
                ) =>
            {
                // Buffer the body so the caller still sees the service's error envelope.
                let status = response.status();
                let raw = response.try_into_raw_response().await?;
                Err(azure_core::Error::new(
                    ErrorKind::HttpResponse {
                        status,
                        error_code: None,
                        raw_response: Some(Box::new(raw)),
                    },
                    NotRetried,
                ))
            }
            other => other,
        }
    }
}

/// The source of the error [`NonIdempotentGuard`] returns for a response it did not let retry.
#[derive(Debug, thiserror::Error)]
#[error("the request is not idempotent and may have been processed, so it was not retried")]
pub struct NotRetried;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_delay_wins_over_the_backoff() {
        let p = ServerDirectedRetry::default();
        let fifty = p.wait_duration(5, Some(Duration::milliseconds(50)));
        assert!(
            fifty >= Duration::milliseconds(50) && fifty <= Duration::milliseconds(55),
            "{fifty}"
        );
        assert_eq!(
            p.wait_duration(1, Some(Duration::seconds(0))),
            Duration::seconds(0)
        );
        let capped = p.wait_duration(1, Some(Duration::hours(1)));
        assert!(
            capped >= Duration::seconds(30) && capped <= Duration::seconds(31),
            "capped: {capped}"
        );
        // A whole-second delay is spread over the next second, a finer one by a tenth of it.
        let seconds: Vec<_> = (0..200)
            .map(|_| p.wait_duration(1, Some(Duration::seconds(1))))
            .collect();
        assert!(
            seconds
                .iter()
                .all(|s| *s >= Duration::seconds(1) && *s <= Duration::seconds(2)),
            "{seconds:?}"
        );
        assert!(
            seconds.iter().any(|s| *s > Duration::milliseconds(1500)),
            "spread over the second: {seconds:?}"
        );
        let fine = p.wait_duration(1, Some(Duration::milliseconds(1001)));
        assert!(
            fine >= Duration::milliseconds(1001) && fine <= Duration::milliseconds(1101),
            "{fine}"
        );
        let first = p.wait_duration(1, None);
        assert!(
            first >= Duration::milliseconds(400) && first < Duration::milliseconds(656),
            "{first}"
        );
        let third = p.wait_duration(3, None);
        assert!(third >= Duration::milliseconds(1600), "{third}");
        assert_eq!(p.wait_duration(30, None), Duration::seconds(30), "capped");
        assert!(p.is_expired(Duration::seconds(1), 8));
        assert!(p.is_expired(Duration::minutes(3), 0));
        assert!(!p.is_expired(Duration::seconds(1), 7));
    }
}
