//! Per-call options, the last argument of every client trait method: the `azure_core`
//! [`Context`] of the call, a client request id, extra headers, and a [`ResponseRecorder`] the
//! pipeline fills with what the service answered. [`CallOptionsPolicy`] is the pipeline policy
//! that applies them; see `docs/adr/004-per-call-options.md`.
//!
//! Cancellation is Rust's: drop the future of a call and its request is abandoned (the
//! connection or HTTP/2 stream is closed, no retry or poll follows).
//!
//! ```
//! use aci_cmk_core::{CallOptions, response_ids::ResponseRecorder};
//!
//! let recorder = ResponseRecorder::new();
//! let options = CallOptions::default()
//!     .with_client_request_id("aci-cmk/run-1/vault")
//!     .with_header("x-ms-command-name", "deploy")
//!     .with_recorder(recorder.clone());
//! assert_eq!(options.client_request_id.as_deref(), Some("aci-cmk/run-1/vault"));
//! // Header values never print.
//! assert!(!format!("{options:?}").contains("deploy"));
//! # let _ = options.into_context();
//! ```

use crate::{response_ids::ResponseIds, response_ids::ResponseRecorder, secret::SecretString};
use azure_core::{
    error::ErrorKind,
    http::{
        Context, Request,
        headers::{AUTHORIZATION, CLIENT_REQUEST_ID, Header, HeaderName},
        policies::{Policy, PolicyResult},
        request::options::ClientRequestId,
    },
};
use std::sync::Arc;

/// Options of one call of a client method.
///
/// Every method of the client traits takes `Option<CallOptions<'_>>` last (`None` is the
/// default), as the official Azure clients take `Option<…Options<'_>>` whose `method_options`
/// carry a [`Context`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions<'a> {
    /// The `azure_core` pipeline context of the call: values that policies read (for example
    /// [`Idempotent`](crate::retry::Idempotent)).
    pub context: Context<'a>,
    /// Sent as `x-ms-client-request-id` (Graph: `client-request-id`) on every request of the
    /// call, polls included. Without one the pipeline generates a UUID per call.
    pub client_request_id: Option<String>,
    /// Extra request headers, names lowercased; their values never print.
    pub headers: Vec<(String, SecretString)>,
    /// Where the ids of every response of the call go.
    pub recorder: Option<ResponseRecorder>,
}

impl<'a> CallOptions<'a> {
    /// Sends `id` as the client request id of every request of the call.
    pub fn with_client_request_id(mut self, id: impl Into<String>) -> Self {
        self.client_request_id = Some(id.into());
        self
    }

    /// Adds a request header.
    ///
    /// `name` must be an HTTP token (ASCII letters, digits and ``!#$%&'*+-.^_`|~``) and the
    /// value must hold no line break; a header that breaks these rules, and `Authorization`
    /// (which the pipeline's credential decides), is left out.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        let value = value.into();
        let valid = !name.is_empty()
            && name.bytes().all(is_token_byte)
            && name != AUTHORIZATION.as_str()
            && !value.contains(['\r', '\n']);
        if valid {
            self.headers.retain(|(n, _)| n != &name);
            self.headers.push((name, SecretString::new(value)));
        }
        self
    }

    /// Uses `context` as the call's pipeline context.
    pub fn with_context(mut self, context: Context<'a>) -> Self {
        self.context = context;
        self
    }

    /// Records the ids of every response of the call in `recorder`.
    pub fn with_recorder(mut self, recorder: ResponseRecorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The pipeline context that carries these options to [`CallOptionsPolicy`] and to
    /// `azure_core`'s client-request-id policy.
    pub fn into_context(self) -> Context<'a> {
        let mut context = self.context;
        if let Some(id) = self.client_request_id {
            context.insert(ClientRequestId::new(id));
        }
        if !self.headers.is_empty() {
            context.insert(CallHeaders(self.headers));
        }
        if let Some(recorder) = self.recorder {
            context.insert(recorder);
        }
        context
    }

    /// The context of `options`, or an empty one.
    pub fn context_of(options: Option<Self>) -> Context<'a> {
        options.unwrap_or_default().into_context()
    }
}

/// Whether `b` may appear in an HTTP header name (RFC 9110 `tchar`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The extra headers of a call, in its context.
#[derive(Clone, Debug)]
struct CallHeaders(Vec<(String, SecretString)>);

/// The per-call policy that applies a call's [`CallOptions`]: sets the client request id (the
/// call's, one the request already has, or a new UUID; the same on every retry), adds the
/// call's headers, and records the ids of the response the call gets (after retries) in its
/// recorder. [`ServicePipeline`](crate::ServicePipeline) puts it first among the per-call
/// policies; clients over an official Azure client add it to that client's
/// `per_call_policies`.
#[derive(Clone, Debug, Default)]
pub struct CallOptionsPolicy {
    /// Another header that carries the client request id too (Graph's `client-request-id`).
    also_as: Option<HeaderName>,
}

impl CallOptionsPolicy {
    /// The policy for Microsoft Graph, which reads the client request id from
    /// `client-request-id`.
    pub fn for_graph() -> Self {
        Self {
            also_as: Some(GRAPH_CLIENT_REQUEST_ID),
        }
    }
}

const GRAPH_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

// The `Policy` trait elides the context's lifetime; the impl must match it.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl Policy for CallOptionsPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let id = match ctx.value::<ClientRequestId>() {
            Some(id) => Some(id.value().as_str().to_owned()),
            None => request
                .headers()
                .get_optional_str(&CLIENT_REQUEST_ID)
                .map(str::to_owned),
        }
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        request.insert_header(CLIENT_REQUEST_ID, id.clone());
        if let Some(other) = &self.also_as {
            request.insert_header(other.clone(), id);
        }
        if let Some(CallHeaders(headers)) = ctx.value::<CallHeaders>() {
            for (name, value) in headers {
                request.insert_header(
                    HeaderName::from(name.clone()),
                    value.expose_secret().to_owned(),
                );
            }
        }
        let result = next[0].send(ctx, request, &next[1..]).await;
        if let Some(recorder) = ctx.value::<ResponseRecorder>() {
            match &result {
                Ok(response) => recorder.record(ResponseIds::of_exchange(
                    request,
                    response.status(),
                    response.headers(),
                )),
                Err(error) => {
                    if let ErrorKind::HttpResponse {
                        status,
                        raw_response: Some(raw),
                        ..
                    } = error.kind()
                    {
                        recorder.record(ResponseIds::of_exchange(request, *status, raw.headers()));
                    }
                }
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_that_are_no_tokens_or_authorization_are_left_out() {
        let options = CallOptions::default()
            .with_header("X-Ms-Command-Name", "a")
            .with_header("x-ms-command-name", "b")
            .with_header("Authorization", "Bearer stolen")
            .with_header("bad name", "c")
            .with_header("", "d")
            .with_header("x-split", "e\r\nx-injected: f")
            .with_header("x-名", "g");
        let names: Vec<&str> = options.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-ms-command-name"]);
        assert_eq!(options.headers[0].1.expose_secret(), "b");
    }

    #[test]
    fn debug_prints_no_header_value() {
        let options = CallOptions::default()
            .with_header("x-api-key", "canary-value")
            .with_client_request_id("visible-id");
        let printed = format!("{options:?}");
        assert!(!printed.contains("canary"), "{printed}");
        assert!(printed.contains("x-api-key") && printed.contains("visible-id"));
    }

    #[test]
    fn the_context_carries_the_options() {
        let recorder = ResponseRecorder::new();
        let context = CallOptions::default()
            .with_context(Context::new().with_value(crate::retry::Idempotent))
            .with_client_request_id("id-1")
            .with_header("x-a", "1")
            .with_recorder(recorder)
            .into_context();
        assert!(context.value::<crate::retry::Idempotent>().is_some());
        assert!(context.value::<ClientRequestId>().is_some());
        assert!(context.value::<CallHeaders>().is_some());
        assert!(context.value::<ResponseRecorder>().is_some());
        assert!(CallOptions::context_of(None).is_empty());
    }
}
