//! The HTTPS server, the only part of the emulator that knows axum: TLS, connections, fault
//! injection (and its precise latency), the request log, the requests in flight, the admin API's HTTP routes, the optional CONNECT proxy, and
//! the dispatch that turns HTTP into a [`crate::context::Ctx`] and a
//! [`crate::reply::Reply`] back into HTTP.

pub mod admin_api;
pub mod dispatch;
pub mod faults;
pub mod frontend;
pub mod headers;
pub mod in_flight;
pub mod precise_delay;
pub mod proxy;
pub mod request_log;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use self::frontend::Frontend;
use crate::error::EmulatorError;

/// The serving tasks of one emulator: one per listening socket.
pub struct Serving {
    /// Stops the servers.
    pub handle: axum_server::Handle,
    /// One task per listener.
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serving")
            .field("listeners", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Serving {
    /// Stops accepting connections and lets in-flight requests finish (up to 1 s).
    pub async fn graceful_shutdown(&mut self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(1)));
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }

    /// Stops at once.
    pub fn abort(&self) {
        self.handle.shutdown();
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Serves HTTPS with `tls` on every listener and returns once they accept connections.
pub async fn serve(
    frontend: Arc<Frontend>,
    listeners: Vec<std::net::TcpListener>,
    tls: &tls::TlsMaterial,
    limits: tls::ConnectionLimits,
) -> Result<Serving, EmulatorError> {
    let server_cfg = tls::server_config(tls)?;
    let handle = axum_server::Handle::new();
    let rustls_cfg = axum_server::tls_rustls::RustlsConfig::from_config(server_cfg);
    let mut tasks = Vec::new();
    for listener in listeners {
        let app = dispatch::router(frontend.clone());
        let connections = frontend.connections.clone();
        let mut server = axum_server::from_tcp_rustls(listener, rustls_cfg.clone())
            .map(|a| {
                a.acceptor(tls::KillableAcceptor {
                    registry: connections,
                })
            })
            .handle(handle.clone());
        server
            .http_builder()
            .http1()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = server
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
            {
                tracing::error!(error = %e, "server stopped");
            }
        }));
    }
    handle.listening().await;
    Ok(Serving { handle, tasks })
}
