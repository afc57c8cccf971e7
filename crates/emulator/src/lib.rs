//! A local HTTPS emulator of the Azure surfaces used to encrypt Azure Container Instances
//! deployment data with a customer-managed key: Entra ID tokens (client credentials and a
//! managed-identity endpoint), Microsoft Graph service principals, Azure Resource Manager
//! (resource groups, Key Vault vaults, user-assigned identities, role assignments) and the
//! Key Vault keys data plane with real RSA-OAEP wrap/unwrap.
//!
//! Everything is served on one HTTPS port on the loopback interface; each vault's data plane
//! is addressed as `https://{vault}.vault.localhost:{port}` and routed by the `Host` header.
//! See the crate `README.md` for the endpoint list and error codes.
//!
//! # Example
//!
//! ```
//! use aci_cmk_emulator::{Emulator, EmulatorOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Port 0 picks a free port; without a state dir everything lives in memory.
//! let emulator = Emulator::start(EmulatorOptions::default()).await?;
//! let info = emulator.info();
//! assert!(info.arm_endpoint.starts_with("https://localhost:"));
//! assert!(std::path::Path::new(&info.ca_cert_pem_path).exists());
//! // Point clients at `info.authority_host`, `info.arm_endpoint`, … and trust
//! // `emulator.ca_cert_pem()`.
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Architecture
//!
//! - [`server`] accepts TLS connections, classifies each request by host and path into a
//!   service, applies fault injection, logs it and dispatches to the service module.
//! - [`store`] holds every record in typed tables behind one mutex; with a state directory each
//!   acknowledged write is one redb transaction.
//! - Service modules: [`entra`] (token endpoint, OpenID metadata, JWKS), [`msi`] (managed
//!   identity endpoint), [`graph`], [`arm`] (resources, Key Vault management, managed
//!   identities, authorization, long-running operations), [`keyvault`] (data plane and its
//!   authorization), [`admin`] (reset, dump, request log, [`faults`]), [`proxy`] (optional
//!   CONNECT proxy).
//! - [`template`] is the ARM template engine (expression parser and evaluator) behind
//!   [`arm::deployments`], which deploys each resource through the same ARM routing as a
//!   direct request.
//! - [`directory`] is the tenant (applications and service principals) shared by all of them;
//!   [`auth`] signs and validates tokens; [`tls`] makes the CA and the leaf certificate.
//! - In-process callers (the ACI resource provider of a later part) use
//!   [`keyvault::data::authorize_and_unwrap`] with a [`keyvault::access::Caller`], and
//!   [`arm::lro`] for their own long-running operations.
//!
//! Architecture invariants: the emulator depends on no `aci_cmk_*` client crate; every write is
//! committed (one redb transaction when persistent) before its response is sent; no token,
//! secret or key material is ever logged or dumped.

pub mod aci;
pub mod admin;
pub mod arm;
pub mod auth;
pub mod config;
pub mod directory;
pub mod entra;
pub mod faults;
pub mod graph;
pub mod keyvault;
pub mod msi;
pub mod proxy;
pub mod reqlog;
pub mod server;
pub mod store;
pub mod template;
pub mod tls;
pub mod wire;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::server::EmulatorState;

/// Errors starting the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A file or directory could not be read or written.
    #[error("i/o error: {0}")]
    Io(String),
    /// Certificate or key generation/loading failed.
    #[error("tls setup failed: {0}")]
    Tls(String),
    /// The state store could not be opened or written.
    #[error("state store error: {0}")]
    Store(String),
    /// The listening socket could not be bound.
    #[error("could not listen on {addr}: {message}")]
    Bind {
        /// Address that was tried.
        addr: String,
        /// The OS error.
        message: String,
    },
}

impl From<store::StoreError> for EmulatorError {
    fn from(e: store::StoreError) -> Self {
        EmulatorError::Store(e.to_string())
    }
}

/// Options for [`Emulator::start`]. Every identity value is generated when absent (and, with a
/// state directory, remembered across restarts).
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// HTTPS port on 127.0.0.1 (and ::1 when available); 0 picks a free port.
    pub port: u16,
    /// Directory for the persistent state, certificates and signing key (files mode 0600).
    /// `None` keeps everything in memory.
    pub state_dir: Option<PathBuf>,
    /// Tenant id.
    pub tenant_id: Option<String>,
    /// Subscription id.
    pub subscription_id: Option<String>,
    /// Deployer service principal's client (application) id.
    pub client_id: Option<String>,
    /// Deployer service principal's client secret.
    pub client_secret: Option<String>,
    /// Also run an HTTP CONNECT proxy (on a free 127.0.0.1 port) that tunnels `*.localhost`
    /// names to the emulator, announced as `https_proxy` on the ready line.
    pub connect_proxy: bool,
}

/// The values printed on the ready line, also returned by [`RunningEmulator::info`].
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReadyInfo {
    /// Always true.
    pub ready: bool,
    /// `https://localhost:{port}`.
    pub arm_endpoint: String,
    /// ARM token audience (`https://localhost:{port}`).
    pub arm_audience: String,
    /// `https://localhost:{port}/graph`.
    pub graph_endpoint: String,
    /// Graph token audience (the Graph endpoint).
    pub graph_audience: String,
    /// Entra authority host (`https://localhost:{port}`).
    pub authority_host: String,
    /// `vault.localhost:{port}`.
    pub keyvault_dns_suffix: String,
    /// Key Vault token audience (`https://vault.localhost:{port}`).
    pub keyvault_audience: String,
    /// App Service-style managed-identity endpoint.
    pub managed_identity_endpoint: String,
    /// Value to send in `X-IDENTITY-HEADER` to the managed-identity endpoint.
    pub identity_header: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Subscription id.
    pub subscription_id: String,
    /// Deployer client id.
    pub client_id: String,
    /// Deployer client secret.
    pub client_secret: String,
    /// Path of the CA certificate (PEM) to trust.
    pub ca_cert_pem_path: String,
    /// Admin API base (loopback only, no Azure token).
    pub admin_endpoint: String,
    /// `http://127.0.0.1:{port}` of the CONNECT proxy, when enabled
    /// ([`EmulatorOptions::connect_proxy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_proxy: Option<String>,
}

impl std::fmt::Debug for ReadyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyInfo")
            .field("arm_endpoint", &self.arm_endpoint)
            .field("arm_audience", &self.arm_audience)
            .field("graph_endpoint", &self.graph_endpoint)
            .field("graph_audience", &self.graph_audience)
            .field("authority_host", &self.authority_host)
            .field("keyvault_dns_suffix", &self.keyvault_dns_suffix)
            .field("keyvault_audience", &self.keyvault_audience)
            .field("managed_identity_endpoint", &self.managed_identity_endpoint)
            .field("identity_header", &"<redacted>")
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("ca_cert_pem_path", &self.ca_cert_pem_path)
            .field("admin_endpoint", &self.admin_endpoint)
            .field("https_proxy", &self.https_proxy)
            .finish()
    }
}

/// Entry point.
#[derive(Debug)]
pub struct Emulator;

/// A started emulator. Dropping it stops the server (and deletes its temporary CA file).
pub struct RunningEmulator {
    info: ReadyInfo,
    ca_pem: String,
    handle: axum_server::Handle,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    proxy_task: Option<tokio::task::JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
    state: Arc<EmulatorState>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The endpoints and identities (as on the ready line).
    pub fn info(&self) -> &ReadyInfo {
        &self.info
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The shared state, for in-process callers (e.g. a resource provider that calls Key Vault).
    pub fn state(&self) -> &Arc<EmulatorState> {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 1 s) and returns.
    pub async fn shutdown(mut self) {
        if let Some(p) = self.proxy_task.take() {
            p.abort();
        }
        self.handle.graceful_shutdown(Some(Duration::from_secs(1)));
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.handle.shutdown();
        for t in &self.tasks {
            t.abort();
        }
        if let Some(p) = &self.proxy_task {
            p.abort();
        }
        if let Some(dir) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, EmulatorError> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| EmulatorError::Bind {
        addr: addr.to_string(),
        message: e.to_string(),
    })?;
    l.set_nonblocking(true).map_err(|e| EmulatorError::Bind {
        addr: addr.to_string(),
        message: e.to_string(),
    })?;
    Ok(l)
}

impl Emulator {
    /// Starts an emulator and returns once it accepts connections.
    pub async fn start(options: EmulatorOptions) -> Result<RunningEmulator, EmulatorError> {
        if let Some(dir) = &options.state_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| EmulatorError::Io(format!("create {}: {e}", dir.display())))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
        let dir = options.state_dir.clone();
        // Key generation is CPU-bound: do it off the async threads, in parallel.
        // Key creations take a pre-generated RSA-2048 key from a pool filled in the background.
        keyvault::crypto::warm_key_pool();
        let tokens = auth::TokenService::new(dir.as_deref());
        let d2 = dir.clone();
        let tls = tokio::task::spawn_blocking(move || tls::load_or_generate(d2.as_deref()));
        let store = match &dir {
            Some(d) => store::Store::open(d)?,
            None => store::Store::in_memory(),
        };
        let ids = directory::ensure_seeded(&store, &options)?;

        let v4 = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))?;
        let port = v4
            .local_addr()
            .map_err(|e| EmulatorError::Io(e.to_string()))?
            .port();
        let v6 = bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).ok();

        // A key on disk loads at once (and any error surfaces here); a new key is generated in
        // the background while the server already accepts connections.
        if tokens.key_on_disk() {
            tokens.ready().await?;
        } else {
            let t = tokens.clone();
            tokio::spawn(async move {
                if let Err(e) = t.ready().await {
                    tracing::error!(error = %e, "token signing key generation failed");
                }
            });
        }
        let tls = tls.await.map_err(|e| EmulatorError::Tls(e.to_string()))??;
        let server_cfg = tls::server_config(&tls)?;

        let (ca_path, temp_dir) = match &dir {
            Some(d) => (d.join("ca.pem"), None),
            None => {
                let t =
                    std::env::temp_dir().join(format!("aci-cmk-emulator-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&t)
                    .map_err(|e| EmulatorError::Io(format!("create {}: {e}", t.display())))?;
                let p = t.join("ca.pem");
                std::fs::write(&p, tls.ca_cert_pem.as_bytes())
                    .map_err(|e| EmulatorError::Io(format!("write {}: {e}", p.display())))?;
                (p, Some(t))
            }
        };

        let config = config::Config { port, ids };
        let mut info = ReadyInfo {
            ready: true,
            arm_endpoint: config.base(),
            arm_audience: config.base(),
            graph_endpoint: config.graph_endpoint(),
            graph_audience: config.graph_endpoint(),
            authority_host: config.base(),
            keyvault_dns_suffix: config.keyvault_dns_suffix(),
            keyvault_audience: config.keyvault_audience(),
            managed_identity_endpoint: config.msi_endpoint(),
            identity_header: config.ids.identity_header.clone(),
            tenant_id: config.ids.tenant_id.clone(),
            subscription_id: config.ids.subscription_id.clone(),
            client_id: config.ids.client_id.clone(),
            client_secret: config.ids.client_secret.clone(),
            ca_cert_pem_path: ca_path.to_string_lossy().into_owned(),
            admin_endpoint: format!("{}/_admin", config.base()),
            https_proxy: None,
        };

        let connections = Arc::new(tls::Connections::default());
        let state = Arc::new(EmulatorState {
            config,
            store,
            tokens,
            faults: faults::Faults::default(),
            log: reqlog::RequestLog::default(),
            connections: connections.clone(),
        });
        let handle = axum_server::Handle::new();
        let rustls_cfg = axum_server::tls_rustls::RustlsConfig::from_config(server_cfg);
        let mut tasks = Vec::new();
        for listener in std::iter::once(v4).chain(v6) {
            let app = server::router(state.clone());
            let server = axum_server::from_tcp_rustls(listener, rustls_cfg.clone())
                .map(|a| {
                    a.acceptor(tls::KillableAcceptor {
                        registry: connections.clone(),
                    })
                })
                .handle(handle.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = server
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                {
                    tracing::error!(error = %e, "server stopped");
                }
            }));
        }
        let proxy_task = if options.connect_proxy {
            let l = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await
                .map_err(|e| EmulatorError::Bind {
                    addr: "127.0.0.1:0".to_owned(),
                    message: e.to_string(),
                })?;
            let addr = l
                .local_addr()
                .map_err(|e| EmulatorError::Io(e.to_string()))?;
            info.https_proxy = Some(format!("http://{addr}"));
            Some(tokio::spawn(proxy::run(l, port)))
        } else {
            None
        };
        handle.listening().await;
        tracing::info!(port, "emulator listening");
        Ok(RunningEmulator {
            info,
            ca_pem: tls.ca_cert_pem,
            handle,
            tasks,
            proxy_task,
            temp_dir,
            state,
        })
    }
}
