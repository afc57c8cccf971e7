//! The pipeline every client of this SDK sends its requests through: `azure_core`'s
//! [`Pipeline`] with our bearer-token policy, retry guard and error mapping, bound to one
//! service endpoint and token scope.

use crate::{
    Error, Result,
    auth::BearerTokenPolicy,
    call_options::CallOptionsPolicy,
    lro_options::LroOptions,
    retry::{NonIdempotentGuard, default_retry_options},
};
use azure_core::{
    credentials::TokenCredential,
    http::{
        Context, Method, Pipeline, PipelineSendOptions, RawResponse, Request,
        headers::{CONTENT_TYPE, HeaderName},
        policies::Policy,
    },
};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;
use url::Url;

/// Options every client of this SDK takes.
///
/// `client_options` is `azure_core`'s, as the official Azure clients take it: its transport
/// (share one [`HttpTransport`](crate::transport::HttpTransport) per process), retry options,
/// and extra per-call and per-try policies are all honoured.
#[derive(Clone, Debug)]
pub struct ServiceClientOptions {
    /// `azure_core` client options: transport, retry, per-call and per-try policies.
    pub client_options: azure_core::http::ClientOptions,
    /// How long-running operations are polled.
    pub lro: LroOptions,
}

impl Default for ServiceClientOptions {
    fn default() -> Self {
        Self {
            client_options: azure_core::http::ClientOptions {
                retry: default_retry_options(),
                ..Default::default()
            },
            lro: LroOptions::default(),
        }
    }
}

impl ServiceClientOptions {
    /// Default options sending through `transport`.
    pub fn with_transport(transport: &crate::transport::HttpTransport) -> Self {
        let mut options = Self::default();
        options.client_options.transport = Some(transport.to_azure_transport());
        options
    }
}

/// A pipeline bound to one service endpoint and one token scope.
#[derive(Clone, Debug)]
pub struct ServicePipeline {
    pipeline: Pipeline,
    endpoint: Url,
    lro: LroOptions,
}

impl ServicePipeline {
    /// Builds the pipeline for `endpoint`, authenticating with tokens of `scope`.
    ///
    /// Policy order: the call's [`CallOptions`](crate::CallOptions) ([`CallOptionsPolicy`]:
    /// `x-ms-client-request-id`, the call's or a new UUID per call, kept across retries; its
    /// headers; the recording of the response ids), user agent (from `azure_core`), the
    /// caller's per-call policies, retry, the non-idempotent guard, the bearer token, the
    /// caller's per-try policies, the transport.
    pub fn new(
        crate_name: &'static str,
        crate_version: &'static str,
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        scope: impl Into<String>,
        options: ServiceClientOptions,
    ) -> Self {
        Self::with_call_options(
            crate_name,
            crate_version,
            endpoint,
            credential,
            scope,
            options,
            CallOptionsPolicy::default(),
        )
    }

    fn with_call_options(
        crate_name: &'static str,
        crate_version: &'static str,
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        scope: impl Into<String>,
        options: ServiceClientOptions,
        call_options: CallOptionsPolicy,
    ) -> Self {
        let per_call: Vec<Arc<dyn Policy>> = vec![Arc::new(call_options)];
        let per_try: Vec<Arc<dyn Policy>> = vec![
            Arc::new(NonIdempotentGuard),
            Arc::new(BearerTokenPolicy::new(credential, scope)),
        ];
        let pipeline = Pipeline::new(
            Some(crate_name),
            Some(crate_version),
            options.client_options,
            per_call,
            per_try,
            None,
        );
        Self {
            pipeline,
            endpoint,
            lro: options.lro,
        }
    }

    /// A pipeline for Azure Resource Manager in `cloud`, with ARM tokens.
    pub fn resource_manager(
        crate_name: &'static str,
        crate_version: &'static str,
        cloud: &crate::CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        options: Option<ServiceClientOptions>,
    ) -> Self {
        Self::new(
            crate_name,
            crate_version,
            cloud.resource_manager.clone(),
            credential,
            cloud.resource_manager_scope(),
            options.unwrap_or_default(),
        )
    }

    /// A pipeline for Microsoft Graph in `cloud`, with Graph tokens. The client request id
    /// goes in Graph's own header, `client-request-id`, too.
    pub fn microsoft_graph(
        crate_name: &'static str,
        crate_version: &'static str,
        cloud: &crate::CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        options: Option<ServiceClientOptions>,
    ) -> Self {
        Self::with_call_options(
            crate_name,
            crate_version,
            cloud.microsoft_graph.clone(),
            credential,
            cloud.microsoft_graph_scope(),
            options.unwrap_or_default(),
            CallOptionsPolicy::for_graph(),
        )
    }

    /// The service endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// How long-running operations are polled.
    pub fn lro_options(&self) -> &LroOptions {
        &self.lro
    }

    /// The same pipeline with other long-running-operation settings.
    pub fn with_lro_options(mut self, lro: LroOptions) -> Self {
        self.lro = lro;
        self
    }

    /// The URL of `path` (which starts with `/`) under the endpoint, with `api-version` set
    /// when given. The endpoint's own path is kept (Graph lives under `/graph` on the emulator).
    pub fn url(&self, path: &str, api_version: Option<&str>) -> Url {
        let mut url = self.endpoint.clone();
        let base = self.endpoint.path().trim_end_matches('/');
        url.set_path(&format!("{base}{path}"));
        url.set_query(None);
        if let Some(v) = api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        url
    }

    /// Sends a request and returns the response whatever its status.
    pub async fn send_unchecked(
        &self,
        ctx: &Context<'_>,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<RawResponse> {
        let mut request = Request::new(url, method);
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| {
                Error::InvalidArgument(format!("the request body cannot be serialized: {e}"))
            })?;
            request.insert_header(CONTENT_TYPE, "application/json");
            request.set_body(bytes);
        }
        let options = PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        self.pipeline
            .send(ctx, &mut request, Some(options))
            .await
            .map_err(Error::from)
    }

    /// Sends a request; an unsuccessful status becomes the matching [`Error`].
    pub async fn send(
        &self,
        ctx: &Context<'_>,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<RawResponse> {
        let response = self.send_unchecked(ctx, method, url, body).await?;
        ensure_success(response)
    }

    /// Sends a request with a serializable body and decodes the JSON response. `ctx` is the
    /// call's context ([`CallOptions::into_context`](crate::CallOptions::into_context), perhaps
    /// marked [`Idempotent`](crate::retry::Idempotent)).
    pub async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T> {
        let body = body.map(to_json_value).transpose()?;
        let what = format!("{method} {}", url.path());
        let response = self.send(ctx, method, url, body.as_ref()).await?;
        decode(&what, &response)
    }

    /// `GET`s a paged list (`{"value": [...], "nextLink": ...}`, or Graph's
    /// `@odata.nextLink`) from `first` through its last page. A `nextLink` that leaves this
    /// endpoint is refused: the bearer token would go with it. Every page is requested with
    /// `ctx`.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        what: &str,
        first: Url,
    ) -> Result<Vec<T>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page<T> {
            #[serde(default = "Vec::new")]
            value: Vec<T>,
            #[serde(default, alias = "@odata.nextLink")]
            next_link: Option<String>,
        }
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let response = self.send(ctx, Method::Get, url, None).await?;
            let page: Page<T> = decode(what, &response)?;
            items.extend(page.value);
            next = page
                .next_link
                .filter(|link| !link.is_empty())
                .map(|link| self.same_endpoint_url(what, &link))
                .transpose()?;
        }
        Ok(items)
    }

    /// `link` as a URL, refused unless it is on this pipeline's endpoint.
    pub fn same_endpoint_url(&self, what: &str, link: &str) -> Result<Url> {
        let endpoint = &self.endpoint;
        let refuse = |message: String| Error::Decode {
            what: what.to_owned(),
            message,
        };
        let url = endpoint
            .join(link)
            .map_err(|e| refuse(format!("nextLink {link:?} is not a URL: {e}")))?;
        if url.scheme() != endpoint.scheme()
            || url.host() != endpoint.host()
            || url.port_or_known_default() != endpoint.port_or_known_default()
        {
            return Err(refuse(format!(
                "nextLink {link:?} leaves the endpoint {endpoint}"
            )));
        }
        Ok(url)
    }
}

/// Serializes a request body.
pub fn to_json_value<B: Serialize + ?Sized>(body: &B) -> Result<serde_json::Value> {
    serde_json::to_value(body)
        .map_err(|e| Error::InvalidArgument(format!("the request body cannot be serialized: {e}")))
}

/// Turns an unsuccessful response into the matching [`Error`].
pub fn ensure_success(response: RawResponse) -> Result<RawResponse> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(Error::from_response(
            response.status(),
            response.headers(),
            response.body(),
        ))
    }
}

/// Decodes a JSON response body; `what` names the call in the error.
pub fn decode<T: DeserializeOwned>(what: &str, response: &RawResponse) -> Result<T> {
    let body: &[u8] = response.body();
    let body = if body.is_empty() {
        b"null".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// A response header as a string.
pub fn header<'a>(response: &'a RawResponse, name: &'static str) -> Option<&'a str> {
    response
        .headers()
        .get_optional_str(&HeaderName::from_static(name))
}
