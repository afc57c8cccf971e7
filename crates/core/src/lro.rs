//! ARM long-running operations: follow `Azure-AsyncOperation`, else `Location`, else the
//! resource's `provisioningState`, honouring `Retry-After` (including 0), within a bounded total
//! wait.

use crate::{
    Error, Result,
    error::ServiceError,
    pipeline::{ServicePipeline, decode, ensure_success, header},
};
use azure_core::{
    http::{
        Context, Method, RawResponse, StatusCode,
        headers::{HeaderName, RETRY_AFTER},
        policies::get_retry_after,
    },
    time::OffsetDateTime,
};
use serde_json::Value;
use std::time::{Duration, Instant};
use url::Url;

pub use crate::lro_options::LroOptions;

/// What kind of request started the operation; it decides how completion is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// `PUT` or `PATCH`: done when the resource reports a terminal `provisioningState`; the
    /// result is the resource.
    CreateOrUpdate,
    /// `DELETE`: done when the operation says so or the resource is gone.
    Delete,
    /// `POST` action: done when the operation says so; the result is its body, if any.
    Action,
}

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
const X_MS_RETRY_AFTER_MS: HeaderName = HeaderName::from_static("x-ms-retry-after-ms");

/// Whether an ARM status or provisioning state is terminal, and how.
#[derive(Debug, PartialEq, Eq)]
enum State {
    Succeeded,
    Failed(String),
    InProgress,
}

fn state_of(status: Option<&str>) -> State {
    match status {
        None => State::Succeeded,
        Some(s) if s.eq_ignore_ascii_case("Succeeded") => State::Succeeded,
        Some(s)
            if s.eq_ignore_ascii_case("Failed")
                || s.eq_ignore_ascii_case("Canceled")
                || s.eq_ignore_ascii_case("Cancelled") =>
        {
            State::Failed(s.to_owned())
        }
        Some(_) => State::InProgress,
    }
}

impl ServicePipeline {
    /// Waits for the long-running operation that `initial` (the first response) started.
    ///
    /// `resource_url` is the resource's own URL, polled for its `provisioningState` when the
    /// service gives neither `Azure-AsyncOperation` nor `Location`, and read for the final
    /// body of a create or update. Every poll is sent with `ctx`, the context of the call that
    /// started the operation (its client request id, headers and recorder). Returns the final
    /// resource (or action result) body, or `None` where there is none (a delete).
    pub async fn wait_for_operation(
        &self,
        ctx: &Context<'_>,
        operation: &str,
        kind: OperationKind,
        initial: RawResponse,
        resource_url: &Url,
    ) -> Result<Option<Value>> {
        let initial = ensure_success(initial)?;
        let mut poller = Poller {
            pipeline: self,
            ctx,
            operation,
            started: Instant::now(),
        };
        let async_url = absolute_header_url(&initial, &AZURE_ASYNC_OPERATION, resource_url);
        let location_url = absolute_header_url(&initial, &LOCATION, resource_url);
        if let Some(url) = async_url {
            poller.follow_async_operation(url, &initial).await?;
            return match kind {
                OperationKind::CreateOrUpdate => poller.get_final(resource_url).await.map(Some),
                OperationKind::Delete => Ok(None),
                OperationKind::Action => match location_url {
                    Some(location) => poller.get_final(&location).await.map(Some),
                    None => Ok(None),
                },
            };
        }
        if let Some(url) = location_url
            && (initial.status() == StatusCode::Accepted || kind != OperationKind::CreateOrUpdate)
        {
            let body = poller.follow_location(url, &initial).await?;
            return match kind {
                OperationKind::CreateOrUpdate => poller.get_final(resource_url).await.map(Some),
                _ => Ok(body),
            };
        }
        match kind {
            OperationKind::CreateOrUpdate => poller
                .follow_provisioning_state(resource_url, &initial)
                .await
                .map(Some),
            OperationKind::Delete if initial.status() == StatusCode::Accepted => poller
                .wait_until_gone(resource_url, &initial)
                .await
                .map(|()| None),
            _ => Ok(body_of(operation, &initial)?),
        }
    }
}

struct Poller<'a> {
    pipeline: &'a ServicePipeline,
    ctx: &'a Context<'a>,
    operation: &'a str,
    started: Instant,
}

impl Poller<'_> {
    /// Sleeps for the service's `Retry-After` (or our default), unless that would pass the
    /// deadline.
    async fn pause(&self, previous: &RawResponse) -> Result<()> {
        let options = self.pipeline.lro_options();
        let wait = retry_after(previous)
            .unwrap_or(options.default_poll_interval)
            .min(options.max_poll_interval);
        let elapsed = self.started.elapsed();
        if elapsed + wait > options.max_wait {
            return Err(Error::Timeout {
                operation: self.operation.to_owned(),
                waited: elapsed,
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn get(&self, url: &Url) -> Result<RawResponse> {
        self.pipeline
            .send_unchecked(self.ctx, Method::Get, url.clone(), None)
            .await
    }

    async fn get_final(&self, url: &Url) -> Result<Value> {
        let response = ensure_success(self.get(url).await?)?;
        decode(self.operation, &response)
    }

    async fn follow_async_operation(&mut self, url: Url, initial: &RawResponse) -> Result<()> {
        let mut previous = initial.clone();
        loop {
            self.pause(&previous).await?;
            let response = ensure_success(self.get(&url).await?)?;
            let body: Value = decode(self.operation, &response)?;
            match state_of(body.get("status").and_then(Value::as_str)) {
                State::Succeeded => return Ok(()),
                State::Failed(status) => return Err(self.failed(status, &body, &response)),
                State::InProgress => previous = response,
            }
        }
    }

    async fn follow_location(&mut self, url: Url, initial: &RawResponse) -> Result<Option<Value>> {
        let mut previous = initial.clone();
        loop {
            self.pause(&previous).await?;
            let response = self.get(&url).await?;
            if response.status() == StatusCode::Accepted {
                previous = response;
                continue;
            }
            let response = ensure_success(response)?;
            return body_of(self.operation, &response);
        }
    }

    async fn follow_provisioning_state(
        &mut self,
        url: &Url,
        initial: &RawResponse,
    ) -> Result<Value> {
        let mut response = initial.clone();
        loop {
            let body: Value = decode(self.operation, &response)?;
            let state = body
                .pointer("/properties/provisioningState")
                .and_then(Value::as_str);
            match state_of(state) {
                State::Succeeded => return Ok(body),
                State::Failed(status) => return Err(self.failed(status, &body, &response)),
                State::InProgress => {}
            }
            self.pause(&response).await?;
            response = ensure_success(self.get(url).await?)?;
        }
    }

    async fn wait_until_gone(&mut self, url: &Url, initial: &RawResponse) -> Result<()> {
        let mut previous = initial.clone();
        loop {
            self.pause(&previous).await?;
            let response = self.get(url).await?;
            if response.status() == StatusCode::NotFound {
                return Ok(());
            }
            previous = ensure_success(response)?;
        }
    }

    fn failed(&self, status: String, body: &Value, response: &RawResponse) -> Error {
        let error_value = body
            .get("error")
            .or_else(|| body.pointer("/properties/error"))
            .cloned()
            .unwrap_or(Value::Null);
        let envelope = serde_json::json!({ "error": error_value });
        let mut error = serde_json::to_vec(&envelope)
            .ok()
            .and_then(|b| ServiceError::from_body(&b))
            .unwrap_or_default();
        if error.message.is_empty() && error.code.is_none() {
            error.message = format!("the operation ended {status} without an error description");
        }
        error.status = u16::from(response.status());
        error.request_id = header(response, "x-ms-request-id").map(str::to_owned);
        error.correlation_id = header(response, "x-ms-correlation-request-id").map(str::to_owned);
        Error::OperationFailed {
            operation: self.operation.to_owned(),
            status,
            error: Box::new(error),
        }
    }
}

fn body_of(operation: &str, response: &RawResponse) -> Result<Option<Value>> {
    if response.body().is_empty() {
        Ok(None)
    } else {
        decode(operation, response).map(Some)
    }
}

/// The polling URL in `name`, made absolute against the resource URL. A URL on another host is
/// ignored: following it would send our token elsewhere.
fn absolute_header_url(response: &RawResponse, name: &HeaderName, base: &Url) -> Option<Url> {
    let value = response.headers().get_optional_str(name)?;
    let url = base.join(value).ok()?;
    (url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.scheme() == base.scheme())
    .then_some(url)
}

fn retry_after(response: &RawResponse) -> Option<Duration> {
    get_retry_after(
        response.headers(),
        OffsetDateTime::now_utc,
        &[X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER],
    )
    .map(|d| Duration::from_millis(u64::try_from(d.whole_milliseconds()).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states() {
        assert_eq!(state_of(Some("Succeeded")), State::Succeeded);
        assert_eq!(state_of(None), State::Succeeded);
        assert_eq!(state_of(Some("Canceled")), State::Failed("Canceled".into()));
        assert_eq!(
            state_of(Some("Cancelled")),
            State::Failed("Cancelled".into())
        );
        assert_eq!(state_of(Some("failed")), State::Failed("failed".into()));
        for s in [
            "Pending",
            "Accepted",
            "Creating",
            "Updating",
            "Running",
            "InProgress",
        ] {
            assert_eq!(state_of(Some(s)), State::InProgress, "{s}");
        }
    }
}
