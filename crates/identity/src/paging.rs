//! Following `nextLink` through a paged list, on the client's own endpoint only.

use crate::{Error, Result};
use aci_cmk_core::{ServicePipeline, pipeline::decode};
use azure_core::http::{Context, Method};
use serde::{Deserialize, de::DeserializeOwned};
use url::Url;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default, alias = "@odata.nextLink")]
    next_link: Option<String>,
}

/// `GET`s `first` and every page after it.
pub(crate) async fn list_all<T: DeserializeOwned>(
    pipeline: &ServicePipeline,
    what: &str,
    first: Url,
) -> Result<Vec<T>> {
    let mut items = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next.take() {
        let response = pipeline
            .send(&Context::new(), Method::Get, url, None)
            .await?;
        let page: Page<T> = decode(what, &response)?;
        items.extend(page.value);
        next = page
            .next_link
            .filter(|link| !link.is_empty())
            .map(|link| same_endpoint_url(pipeline.endpoint(), what, &link))
            .transpose()?;
    }
    Ok(items)
}

/// A `nextLink` as a URL, refused unless it is on `endpoint` (our token goes with it).
fn same_endpoint_url(endpoint: &Url, what: &str, link: &str) -> Result<Url> {
    let unexpected = |message: String| Error::UnexpectedResponse {
        operation: what.to_owned(),
        message,
    };
    let url = endpoint
        .join(link)
        .map_err(|e| unexpected(format!("nextLink {link:?} is not a URL: {e}")))?;
    if url.scheme() != endpoint.scheme()
        || url.host() != endpoint.host()
        || url.port_or_known_default() != endpoint.port_or_known_default()
    {
        return Err(unexpected(format!(
            "nextLink {link:?} leaves the endpoint {endpoint}"
        )));
    }
    Ok(url)
}
