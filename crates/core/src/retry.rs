//! Retries: `azure_core`'s exponential retry policy (jittered backoff on 408, 429, 500, 502,
//! 503, 504 and connection errors; `Retry-After` in seconds or as an HTTP date,
//! `retry-after-ms`, `x-ms-retry-after-ms`; bounded attempts and total time), plus one guard
//! it lacks: a request that is not idempotent is not retried once it may have reached the server.

use azure_core::{
    error::ErrorKind,
    http::{
        Context, ExponentialRetryOptions, Method, Request, RetryOptions, StatusCode,
        policies::{Policy, PolicyResult},
    },
    time::Duration,
};
use std::sync::Arc;

/// The retry options our clients use unless told otherwise: up to 6 retries, starting at
/// 400 ms and doubling (plus up to 255 ms of jitter), at most 30 s apart and 3 minutes in all.
pub fn default_retry_options() -> RetryOptions {
    RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: Duration::milliseconds(400),
        max_retries: 6,
        max_total_elapsed: Duration::minutes(3),
        max_delay: Duration::seconds(30),
    })
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
