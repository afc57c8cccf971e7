//! The façade: [`Emulator::start`] with [`EmulatorOptions`], the [`RunningEmulator`] it
//! answers and the [`ReadyInfo`] printed on the ready line.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::admin::Admin;
use crate::background::BackgroundTasks;
use crate::clock::Clock;
use crate::config::{Config, RequestedIds};
use crate::context::Shared;
use crate::error::EmulatorError;
use crate::server::faults::Faults;
use crate::server::frontend::Frontend;
use crate::server::request_log::RequestLog;
use crate::server::tls::ConnectionLimits;
use crate::server::{self, Serving, tls};
use crate::store::Store;
use crate::timing::{Timing, TimingProfile};

/// Options for [`Emulator::start`]. Every identity value is generated when absent (and, with a
/// state directory, remembered across restarts).
#[derive(Clone, Default)]
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
    /// When set, every admin request must carry `Authorization: Bearer {admin_token}`
    /// (otherwise 401). Unset, the admin API is open to loopback clients, for local use.
    pub admin_token: Option<String>,
    /// The cap on open connections and the header-read timeout.
    pub limits: ConnectionLimits,
    /// How long long-running operations, intermediate states and propagation take (`fast`
    /// by default).
    pub timing: TimingProfile,
    /// Where to POST each published event (a loopback `http` URL), as an Event Grid
    /// subscription delivers it.
    pub event_webhook: Option<crate::events::WebhookUrl>,
}

impl std::fmt::Debug for EmulatorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("EmulatorOptions")
            .field("port", &self.port)
            .field("state_dir", &self.state_dir)
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("connect_proxy", &self.connect_proxy)
            .field("admin_token", &redacted(&self.admin_token))
            .field("limits", &self.limits)
            .field("timing", &self.timing)
            .field("event_webhook", &self.event_webhook)
            .finish()
    }
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
    /// The timing profile the emulator runs with.
    #[serde(default)]
    pub timing: TimingProfile,
}

impl ReadyInfo {
    /// The ready line: these values as one line of JSON, as the binary prints it on stdout.
    /// A client's parser of the line (`aci_cmk_core::cloud::EmulatorProfile::from_ready_line`)
    /// reads this, whether the emulator runs in process or as the binary.
    pub fn to_ready_line(&self) -> String {
        // Strings, an optional string and a unit enum: nothing here can fail to serialise.
        serde_json::to_string(self).expect("a ReadyInfo always serialises")
    }
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
            .field("timing", &self.timing)
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
    serving: Serving,
    /// Tasks that live as long as the emulator: the CONNECT proxy, the event webhook.
    side_tasks: Vec<tokio::task::JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
    admin: Admin,
    shared: Arc<Shared>,
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

    /// The admin operations: faults, the clock, dump, request log, reset, principals, test
    /// tokens.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 1 s) and returns.
    pub async fn shutdown(mut self) {
        for t in self.side_tasks.drain(..) {
            t.abort();
        }
        self.serving.graceful_shutdown().await;
        // A deployment still running stops here; the next start marks it failed.
        self.shared.background.stop_all().await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.serving.abort();
        self.shared.background.abort_all();
        for t in &self.side_tasks {
            t.abort();
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
        options.limits.validate()?;
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
        crate::keyvault_data::crypto::warm_key_pool();
        let tokens = crate::entra::tokens::TokenService::new(dir.as_deref());
        let d2 = dir.clone();
        let tls = tokio::task::spawn_blocking(move || tls::load_or_generate(d2.as_deref()));
        let schema = crate::router::schema();
        let store = match &dir {
            Some(d) => Store::open(d, &schema)?,
            None => Store::in_memory(&schema),
        };
        let clock = Clock::with_offset_ms(crate::config::clock_offset_ms(&store));
        // Work a previous process left half done (a deployment it was running) is over.
        crate::router::after_restart(&store, clock.now_ms())?;
        let ids = crate::graph::directory::ensure_seeded(
            &store,
            &RequestedIds {
                tenant_id: options.tenant_id.clone(),
                subscription_id: options.subscription_id.clone(),
                client_id: options.client_id.clone(),
                client_secret: options.client_secret.clone(),
            },
        )?;

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

        let config = Config { port, ids };
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
            timing: options.timing,
        };

        let shared = Arc::new(Shared {
            config,
            store,
            tokens,
            clock,
            timing: Timing::new(options.timing),
            background: BackgroundTasks::default(),
            data_keys: Default::default(),
        });
        let frontend = Arc::new(Frontend {
            shared,
            faults: Faults::default(),
            log: RequestLog::default(),
            in_flight: Default::default(),
            connections: Arc::new(tls::Connections::with_max(options.limits.max_connections)),
            admin_token: options.admin_token.clone(),
        });
        let serving = server::serve(
            frontend.clone(),
            std::iter::once(v4).chain(v6).collect(),
            &tls,
            options.limits,
        )
        .await?;
        let mut side_tasks = Vec::new();
        if options.connect_proxy {
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
            side_tasks.push(tokio::spawn(server::proxy::run(l, port)));
        }
        if let Some(url) = options.event_webhook.clone() {
            side_tasks.push(tokio::spawn(crate::events::webhook::deliver(
                frontend.shared.clone(),
                url,
            )));
        }
        tracing::info!(port, "emulator listening");
        Ok(RunningEmulator {
            info,
            ca_pem: tls.ca_cert_pem,
            serving,
            side_tasks,
            temp_dir,
            shared: frontend.shared.clone(),
            admin: Admin::new(frontend),
        })
    }
}
