//! The one HTTP transport a process shares: a `reqwest` client on rustls, reused by every
//! client and credential so that connections (and HTTP/2 sessions) are pooled.

use crate::loopback::is_localhost_name;
pub use crate::loopback::is_loopback_host;
use crate::{Error, Result};
use azure_core::http::Transport;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs},
    sync::Arc,
    time::Duration,
};

/// Settings for [`HttpTransport::new`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Extra root CA certificates to trust (PEM, one or more), on top of the platform's
    /// unless `trust_platform_roots` is off. The local emulator's CA goes here.
    pub extra_root_ca_pem: Option<String>,
    /// Trust the platform's root CAs (on by default). Off, only `extra_root_ca_pem` is
    /// trusted: a connection to the local emulator, whose every host carries a certificate of
    /// its own CA, then neither loads the platform's store (milliseconds when the client is
    /// built) nor trusts a CA it never needs.
    pub trust_platform_roots: bool,
    /// Resolve `localhost` and every `*.localhost` name to the loopback addresses, as RFC 6761
    /// reserves them (glibc does not do this for subdomains). On by default.
    pub resolve_localhost_to_loopback: bool,
    /// How long to wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// How long to wait for response data before giving up on a request.
    pub read_timeout: Duration,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            extra_root_ca_pem: None,
            trust_platform_roots: true,
            resolve_localhost_to_loopback: true,
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl TransportOptions {
    /// Trusts an extra root CA (PEM) on top of the platform's roots.
    pub fn with_extra_root_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.extra_root_ca_pem = Some(pem.into());
        self
    }

    /// Trusts this root CA (PEM) and no other: not the platform's roots.
    pub fn with_only_root_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.extra_root_ca_pem = Some(pem.into());
        self.trust_platform_roots = false;
        self
    }
}

/// The shared HTTP transport. Cloning is cheap and shares the connection pool.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: Arc<reqwest::Client>,
}

impl HttpTransport {
    /// Builds the transport: rustls (aws-lc-rs), HTTP/2 where the server offers it, no redirects
    /// (a redirect could carry a bearer token to another host), the platform's roots plus any
    /// extra CA (or that CA alone, with `trust_platform_roots` off).
    pub fn new(options: TransportOptions) -> Result<Self> {
        if !options.trust_platform_roots && options.extra_root_ca_pem.is_none() {
            return Err(Error::Configuration(
                "no root CA to trust: the platform's roots are off and no extra root CA is given"
                    .into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90));
        if let Some(pem) = &options.extra_root_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                Error::Configuration(format!("the extra root CA is not valid PEM: {e}"))
            })?;
            if certs.is_empty() {
                return Err(Error::Configuration(
                    "the extra root CA PEM holds no certificate".into(),
                ));
            }
            builder = if options.trust_platform_roots {
                builder.tls_certs_merge(certs)
            } else {
                builder.tls_certs_only(certs)
            };
        }
        if options.resolve_localhost_to_loopback {
            builder = builder.dns_resolver(Arc::new(LocalhostResolver));
        }
        let client = builder
            .build()
            .map_err(|e| Error::Configuration(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client: Arc::new(client),
        })
    }

    /// The underlying `reqwest` client.
    pub fn reqwest_client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The transport in the form `azure_core` pipelines and official clients take.
    pub fn to_azure_transport(&self) -> Transport {
        Transport::new(self.client.clone())
    }

    /// `azure_core` client options that use this transport and the given cloud, for credentials
    /// and official clients.
    pub fn client_options(
        &self,
        cloud: &crate::cloud::CloudEndpoints,
    ) -> azure_core::http::ClientOptions {
        azure_core::http::ClientOptions {
            transport: Some(self.to_azure_transport()),
            cloud: Some(Arc::new(cloud.to_cloud_configuration())),
            ..Default::default()
        }
    }
}

/// Resolves `localhost` names to loopback and everything else through the system resolver.
#[derive(Debug)]
struct LocalhostResolver;

impl Resolve for LocalhostResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if is_localhost_name(&host) {
                let addrs: Vec<SocketAddr> = vec![
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
                ];
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let addrs = tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs())
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn loopback_hosts() {
        for (url, expected) in [
            ("http://127.0.0.1:80/", true),
            ("http://127.8.0.1/", true),
            ("http://[::1]:80/", true),
            ("http://localhost/", true),
            ("https://myvault.vault.localhost:8443/", true),
            ("http://example.com/", false),
            ("http://localhost.example.com/", false),
            ("http://10.0.0.1/", false),
        ] {
            let u = Url::parse(url).expect("valid test url");
            assert_eq!(is_loopback_host(&u), expected, "{url}");
        }
    }

    #[test]
    fn bad_ca_is_a_configuration_error() {
        let err = HttpTransport::new(TransportOptions::default().with_extra_root_ca_pem("nope"))
            .expect_err("not PEM");
        assert!(matches!(err, Error::Configuration(_)));
        let none = TransportOptions {
            trust_platform_roots: false,
            ..TransportOptions::default()
        };
        let err = HttpTransport::new(none).expect_err("nothing to trust");
        assert!(matches!(err, Error::Configuration(_)));
    }

    #[tokio::test]
    async fn localhost_subdomains_resolve_to_loopback() {
        let name: Name = "myvault.vault.localhost".parse().expect("valid name");
        let addrs: Vec<_> = LocalhostResolver
            .resolve(name)
            .await
            .expect("resolves")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        assert_eq!(addrs.len(), 2);
    }
}
