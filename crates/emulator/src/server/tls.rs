//! TLS material (a local CA and a leaf certificate), the rustls server configuration, and a
//! connection wrapper that lets fault injection drop a connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::error::EmulatorError;
use crate::files::write_private;

/// PEM-encoded CA and leaf material.
#[derive(Clone)]
pub struct TlsMaterial {
    /// CA certificate, PEM.
    pub ca_cert_pem: String,
    /// Leaf certificate, DER.
    pub leaf_der: Vec<u8>,
    /// Leaf private key, PKCS#8 DER.
    pub leaf_key_der: Vec<u8>,
}

fn tls_err(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Tls(e.to_string())
}

fn generate() -> Result<(String, String, String, String), EmulatorError> {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(tls_err)?;
    let mut ca = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "aci-cmk emulator local CA");
    dn.push(DnType::OrganizationName, "aci-cmk emulator");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key).map_err(tls_err)?;
    let issuer = Issuer::new(ca, &ca_key);

    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(tls_err)?;
    let mut leaf = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    leaf.distinguished_name = dn;
    leaf.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into().map_err(tls_err)?),
        SanType::DnsName("*.vault.localhost".try_into().map_err(tls_err)?),
        SanType::DnsName("vault.localhost".try_into().map_err(tls_err)?),
        SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
    ];
    // An ECDSA key signs (TLS 1.2 ECDHE / TLS 1.3); key encipherment would be wrong for it.
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(825);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(tls_err)?;
    Ok((
        ca_cert.pem(),
        ca_key.serialize_pem(),
        leaf_cert.pem(),
        leaf_key.serialize_pem(),
    ))
}

fn pem_to_der(pem: &str, label: &str) -> Result<Vec<u8>, EmulatorError> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| tls_err(format!("no {label} in PEM")))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| tls_err(format!("unterminated {label} in PEM")))?
        + start;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(tls_err)
}

/// Loads the CA and leaf from `dir`, generating (and saving) them on first start.
pub fn load_or_generate(dir: Option<&Path>) -> Result<TlsMaterial, EmulatorError> {
    let (ca_pem, leaf_pem, leaf_key_pem) = match dir {
        Some(dir) => {
            let ca = dir.join("ca.pem");
            let ca_key = dir.join("ca-key.pem");
            let leaf = dir.join("tls.pem");
            let leaf_key = dir.join("tls-key.pem");
            if ca.exists() && leaf.exists() && leaf_key.exists() {
                let read = |p: &Path| {
                    std::fs::read_to_string(p)
                        .map_err(|e| EmulatorError::Io(format!("read {}: {e}", p.display())))
                };
                (read(&ca)?, read(&leaf)?, read(&leaf_key)?)
            } else {
                let (c, ck, l, lk) = generate()?;
                write_private(&ca, c.as_bytes())?;
                write_private(&ca_key, ck.as_bytes())?;
                write_private(&leaf, l.as_bytes())?;
                write_private(&leaf_key, lk.as_bytes())?;
                (c, l, lk)
            }
        }
        None => {
            let (c, _ck, l, lk) = generate()?;
            (c, l, lk)
        }
    };
    Ok(TlsMaterial {
        leaf_der: pem_to_der(&leaf_pem, "CERTIFICATE")?,
        leaf_key_der: pem_to_der(&leaf_key_pem, "PRIVATE KEY")?,
        ca_cert_pem: ca_pem,
    })
}

/// Builds the rustls server configuration (aws-lc-rs provider, ALPN h2 + http/1.1).
pub fn server_config(m: &TlsMaterial) -> Result<Arc<rustls::ServerConfig>, EmulatorError> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_der = pem_to_der(&m.ca_cert_pem, "CERTIFICATE")?;
    let chain = vec![
        CertificateDer::from(m.leaf_der.clone()),
        CertificateDer::from(ca_der),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(m.leaf_key_der.clone()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The live connections: a kill switch per connection, keyed by the peer address (to drop
/// connections), the cap on how many may be open at once, and their number published for
/// those who wait on it.
#[derive(Debug)]
pub struct Connections {
    map: Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>,
    max: usize,
    open: tokio::sync::watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Self {
        Self::with_max(ConnectionLimits::default().max_connections)
    }
}

impl Connections {
    /// A registry that admits at most `max` connections at once.
    pub fn with_max(max: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            max,
            open: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Marks the connection from `peer` to be dropped at its next read or write.
    pub fn kill(&self, peer: &SocketAddr) {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flag) = map.get(peer) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    /// Admits a connection from `peer`, or `None` when the cap is reached.
    fn register(&self, peer: SocketAddr) -> Option<Arc<AtomicBool>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max {
            return None;
        }
        let flag = Arc::new(AtomicBool::new(false));
        map.insert(peer, flag.clone());
        self.open.send_replace(map.len());
        Some(flag)
    }

    fn unregister(&self, peer: &SocketAddr) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(peer);
        // Under the lock, so the published count is always the latest.
        self.open.send_replace(map.len());
    }

    /// The number of open connections, starting from the number now; the receiver is woken
    /// when a connection is admitted and when one is closed.
    pub fn watch_open(&self) -> tokio::sync::watch::Receiver<usize> {
        self.open.subscribe()
    }
}

/// A TCP stream that fails all I/O once its kill switch is set.
pub struct KillableStream {
    inner: TcpStream,
    peer: Option<SocketAddr>,
    kill: Arc<AtomicBool>,
    registry: Arc<Connections>,
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if let Some(p) = &self.peer {
            self.registry.unregister(p);
        }
    }
}

fn killed() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// axum-server acceptor wrapping accepted TCP streams in [`KillableStream`].
#[derive(Clone)]
pub struct KillableAcceptor {
    /// The registry of live connections.
    pub registry: Arc<Connections>,
}

impl<S> axum_server::accept::Accept<TcpStream, S> for KillableAcceptor {
    type Stream = KillableStream;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(KillableStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let _ = stream.set_nodelay(true);
        let Ok(peer) = stream.peer_addr() else {
            return std::future::ready(Err(std::io::Error::other("the peer left")));
        };
        let Some(kill) = self.registry.register(peer) else {
            // Over the cap: the connection is closed at once (dropping the stream), so idle or
            // slow connections cannot exhaust the process's file descriptors.
            tracing::warn!(%peer, max = self.registry.max, "connection refused: too many open connections");
            return std::future::ready(Err(std::io::Error::other("too many open connections")));
        };
        let peer = Some(peer);
        std::future::ready(Ok((
            KillableStream {
                inner: stream,
                peer,
                kill,
                registry: self.registry.clone(),
            },
            service,
        )))
    }
}

/// How many connections the server keeps open at once, and how long a client may take to send
/// a request's headers (a slower connection is closed, as a front door closes a slow-loris).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Longest time to receive a request's headers (HTTP/1.1), also while a kept-alive
    /// connection waits for its next request.
    pub header_read_timeout: std::time::Duration,
}

impl ConnectionLimits {
    /// Checks the limits: at least one connection, and a header-read timeout of 1 ms to an hour.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        if self.max_connections == 0 {
            return Err(EmulatorError::InvalidOption {
                option: "max_connections",
                message: "at least 1".to_owned(),
            });
        }
        let t = self.header_read_timeout;
        if t < std::time::Duration::from_millis(1) || t > std::time::Duration::from_secs(3600) {
            return Err(EmulatorError::InvalidOption {
                option: "header_read_timeout",
                message: "from 1 ms to an hour".to_owned(),
            });
        }
        Ok(())
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: std::time::Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Connections;
    use std::net::SocketAddr;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_open_count_follows_admissions_and_closes_but_not_refusals() {
        let connections = Connections::with_max(2);
        let mut open = connections.watch_open();
        assert_eq!(*open.borrow_and_update(), 0);
        assert!(connections.register(peer(1)).is_some());
        assert!(connections.register(peer(2)).is_some());
        assert!(open.has_changed().expect("the registry lives"));
        assert_eq!(*open.borrow_and_update(), 2);
        assert!(connections.register(peer(3)).is_none(), "over the cap");
        assert_eq!(*open.borrow_and_update(), 2);
        connections.unregister(&peer(1));
        assert!(open.has_changed().expect("the registry lives"));
        assert_eq!(*open.borrow_and_update(), 1);
    }
}
