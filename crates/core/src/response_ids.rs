//! What a service answered about a request, in the terms Azure support asks for: the service's
//! request id, the correlation id and the client's own request id, per response, collected by a
//! [`ResponseRecorder`] that a call's [`CallOptions`](crate::CallOptions) carries.

use azure_core::http::{
    Request, StatusCode,
    headers::{HeaderName, Headers},
};
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};

const X_MS_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
/// Microsoft Graph's name for its request id.
const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const X_MS_CORRELATION_REQUEST_ID: HeaderName =
    HeaderName::from_static("x-ms-correlation-request-id");
const X_MS_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");
/// Microsoft Graph's name for the client's request id.
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// The ids of one request and its response: what to quote to Azure support.
///
/// ```
/// use aci_cmk_core::response_ids::ResponseIds;
///
/// let ids = ResponseIds::new("PUT", "https://management.azure.com/subscriptions/s/resourcegroups/rg", 201)
///     .with_request_id("4c2d…")
///     .with_correlation_id("9e1f…");
/// assert!(ids.is_write());
/// assert_eq!(ids.support_id(), Some("4c2d…"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResponseIds {
    /// The HTTP method, e.g. `PUT`.
    pub method: String,
    /// The URL without its query string.
    pub url: String,
    /// The HTTP status of the response.
    pub status: u16,
    /// The service's id of the request: `x-ms-request-id` (ARM, Key Vault) or `request-id`
    /// (Microsoft Graph).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// ARM's `x-ms-correlation-request-id`: one id across every service ARM called for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The client's own id of the request (`x-ms-client-request-id`, Graph's
    /// `client-request-id`), as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
}

impl ResponseIds {
    /// The ids of a `method` request to `url` (its query string is dropped) answered `status`;
    /// no id known yet.
    pub fn new(method: impl Into<String>, url: &str, status: u16) -> Self {
        let url = url.split(['?', '#']).next().unwrap_or_default().to_owned();
        Self {
            method: method.into(),
            url,
            status,
            ..Self::default()
        }
    }

    /// Sets the service's request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the correlation id.
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Sets the client request id.
    pub fn with_client_request_id(mut self, id: impl Into<String>) -> Self {
        self.client_request_id = Some(id.into());
        self
    }

    /// The ids of `request` as sent and of the response's `status` and `headers`.
    pub fn of_exchange(request: &Request, status: StatusCode, headers: &Headers) -> Self {
        let from = |headers: &Headers, names: &[HeaderName]| {
            names
                .iter()
                .find_map(|n| headers.get_optional_str(n))
                .map(str::to_owned)
        };
        let sent = [X_MS_CLIENT_REQUEST_ID, CLIENT_REQUEST_ID];
        Self {
            method: request.method().to_string(),
            url: without_query(request.url()),
            status: u16::from(status),
            request_id: from(headers, &[X_MS_REQUEST_ID, REQUEST_ID]),
            correlation_id: from(headers, &[X_MS_CORRELATION_REQUEST_ID]),
            client_request_id: from(request.headers(), &sent).or_else(|| from(headers, &sent)),
        }
    }

    /// Whether the request could change state (any method but `GET`, `HEAD` and `OPTIONS`).
    pub fn is_write(&self) -> bool {
        !["GET", "HEAD", "OPTIONS"]
            .iter()
            .any(|m| self.method.eq_ignore_ascii_case(m))
    }

    /// The id Azure support asks for first: the service's request id, else the correlation id.
    pub fn support_id(&self) -> Option<&str> {
        self.request_id
            .as_deref()
            .or(self.correlation_id.as_deref())
    }
}

fn without_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// Collects the [`ResponseIds`] of every response to the calls whose
/// [`CallOptions`](crate::CallOptions) carry it, in the order they arrived. Clones share one
/// list, so the caller keeps a clone and reads it after the call.
///
/// Every HTTP exchange of a call is recorded: the first request, each poll of a long-running
/// operation, each page of a list; a transport error that got no response records nothing.
/// Retries of one request inside the pipeline record only the response the call saw.
#[derive(Clone, Debug, Default)]
pub struct ResponseRecorder {
    responses: Arc<Mutex<Vec<ResponseIds>>>,
}

impl ResponseRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `ids`.
    pub fn record(&self, ids: ResponseIds) {
        self.responses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ids);
    }

    /// Every response so far, oldest first.
    pub fn responses(&self) -> Vec<ResponseIds> {
        self.responses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The responses to requests that could change state ([`ResponseIds::is_write`]).
    pub fn writes(&self) -> Vec<ResponseIds> {
        self.responses()
            .into_iter()
            .filter(ResponseIds::is_write)
            .collect()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.responses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::Method;

    #[test]
    fn ids_of_an_arm_and_a_graph_exchange() {
        let mut request = Request::new(
            "https://management.azure.com/x?api-version=1&$filter=a"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            Method::Put,
        );
        request.insert_header(X_MS_CLIENT_REQUEST_ID, "aci-cmk/r1/vault");
        let mut headers = Headers::new();
        headers.insert(X_MS_REQUEST_ID, "req");
        headers.insert(X_MS_CORRELATION_REQUEST_ID, "corr");
        let ids = ResponseIds::of_exchange(&request, StatusCode::Created, &headers);
        assert_eq!(ids.url, "https://management.azure.com/x");
        assert_eq!(ids.method, "PUT");
        assert_eq!(ids.status, 201);
        assert_eq!(ids.request_id.as_deref(), Some("req"));
        assert_eq!(ids.correlation_id.as_deref(), Some("corr"));
        assert_eq!(ids.client_request_id.as_deref(), Some("aci-cmk/r1/vault"));
        assert!(ids.is_write());

        let request = Request::new(
            "https://graph.microsoft.com/v1.0/servicePrincipals"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            Method::Get,
        );
        let mut headers = Headers::new();
        headers.insert(REQUEST_ID, "graph-req");
        headers.insert(CLIENT_REQUEST_ID, "echoed");
        let ids = ResponseIds::of_exchange(&request, StatusCode::Ok, &headers);
        assert_eq!(ids.support_id(), Some("graph-req"));
        assert_eq!(ids.client_request_id.as_deref(), Some("echoed"));
        assert!(!ids.is_write());
    }

    #[test]
    fn a_recorder_is_shared_by_its_clones() {
        let recorder = ResponseRecorder::new();
        let clone = recorder.clone();
        clone.record(ResponseIds::new("GET", "https://x/a", 200));
        clone.record(ResponseIds::new("POST", "https://x/b?c=d", 202));
        assert_eq!(recorder.responses().len(), 2);
        let writes = recorder.writes();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].url, "https://x/b");
    }
}
