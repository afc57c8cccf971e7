//! Delivering the event feed to a webhook, as an Event Grid subscription would: each event is
//! POSTed as a one-element array in the Event Grid schema with `aeg-event-type: Notification`
//! (Event Grid's validation handshake is skipped). The URL must be plain `http` on a loopback
//! address, so the emulator never sends anything off the machine. Delivery is at least once and
//! in order: an event is retried with backoff until the receiver answers 2xx, up to
//! [`MAX_ATTEMPTS`] times, then skipped (and logged).

use std::{net::IpAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use url::Url;

use crate::{context::Shared, error::EmulatorError};

/// How often one event is tried before it is skipped.
pub const MAX_ATTEMPTS: u32 = 5;

/// A webhook URL the emulator may deliver to: `http`, on a loopback address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl std::str::FromStr for WebhookUrl {
    type Err = EmulatorError;

    fn from_str(s: &str) -> Result<Self, EmulatorError> {
        let bad = |why: &str| EmulatorError::InvalidOption {
            option: "--event-webhook",
            message: format!("{s:?}: {why}"),
        };
        let url = Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad("only http:// on a loopback address is delivered to"));
        }
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        };
        if !loopback {
            return Err(bad(
                "the host must be a loopback address (127.0.0.1, ::1 or localhost)",
            ));
        }
        Ok(Self(url))
    }
}

/// Delivers every event published from now on (and those already in the feed) to `url` until
/// the task is aborted. Wakes on every store write; a reset (the feed starting again) starts
/// the delivery over.
pub async fn deliver(shared: Arc<Shared>, url: WebhookUrl) {
    let mut writes = shared.store.watch_writes();
    let mut delivered = 0u64;
    loop {
        writes.borrow_and_update();
        let last = shared.store.read(|st| {
            st.table::<super::Event>()
                .values()
                .next_back()
                .map_or(0, |e| e.sequence)
        });
        if last < delivered {
            delivered = 0; // The feed was reset.
        }
        let pending = shared.store.read(|st| super::since(st, delivered));
        for event in pending {
            post_with_retries(&url, &event.to_json()).await;
            delivered = event.sequence;
        }
        if writes.changed().await.is_err() {
            return;
        }
    }
}

async fn post_with_retries(url: &WebhookUrl, event: &serde_json::Value) {
    let body = serde_json::to_vec(&[event]).unwrap_or_default();
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=MAX_ATTEMPTS {
        match post(url, body.clone()).await {
            Ok(status) if status.is_success() => return,
            Ok(status) => tracing::warn!(%status, attempt, "the event webhook refused an event"),
            Err(error) => tracing::warn!(%error, attempt, "the event webhook is unreachable"),
        }
        if attempt < MAX_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
    tracing::error!(
        event = %event["id"],
        "an event was not delivered to the webhook after {MAX_ATTEMPTS} attempts; it stays in the feed"
    );
}

/// One POST; the receiver's status.
async fn post(url: &WebhookUrl, body: Vec<u8>) -> Result<http::StatusCode, String> {
    let url = url.as_url();
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().ok_or("no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let request = http::Request::post(path)
        .header(http::header::HOST, format!("{host}:{port}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("aeg-event-type", "Notification")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .map_err(|_| "the webhook did not answer in 10 s".to_owned())?
        .map_err(|e| e.to_string());
    driver.abort();
    Ok(answer?.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_on_a_loopback_address_is_accepted() {
        for ok in [
            "http://127.0.0.1:9000/events",
            "http://localhost:1/",
            "http://[::1]:8080/hook?x=1",
            "http://127.1.2.3/",
        ] {
            assert!(ok.parse::<WebhookUrl>().is_ok(), "{ok}");
        }
        for refused in [
            "https://127.0.0.1/",
            "http://10.0.0.1/",
            "http://example.com/",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            let err = refused.parse::<WebhookUrl>().expect_err(refused);
            assert!(err.to_string().contains("--event-webhook"), "{err}");
        }
    }
}
