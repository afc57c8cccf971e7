//! `aci-cmk-emulator`: runs the local Azure emulator until Ctrl-C or SIGTERM.
//!
//! Prints exactly one JSON ready line on stdout; logs go to stderr (`RUST_LOG` filters them).

use std::io::Write;
use std::path::PathBuf;

use aci_cmk_emulator::{ConnectionLimits, Emulator, EmulatorOptions, TimingProfile};
use clap::Parser;

/// Local emulator of the Azure surfaces used by aci-cmk.
#[derive(Debug, Parser)]
#[command(name = "aci-cmk-emulator", version, about)]
struct Args {
    /// HTTPS port on 127.0.0.1 and ::1 (0 picks a free port).
    #[arg(long, default_value_t = 8443, env = "ACI_CMK_EMULATOR_PORT")]
    port: u16,
    /// Directory for persistent state, certificates and the token signing key.
    #[arg(long, env = "ACI_CMK_EMULATOR_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Tenant id (generated when absent).
    #[arg(long)]
    tenant_id: Option<String>,
    /// Subscription id (generated when absent).
    #[arg(long)]
    subscription_id: Option<String>,
    /// Deployer client id (generated when absent).
    #[arg(long)]
    client_id: Option<String>,
    /// Deployer client secret (generated when absent; prefer the environment variable).
    #[arg(long, env = "ACI_CMK_EMULATOR_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Also run an HTTP CONNECT proxy tunnelling `*.localhost` to the emulator (for clients that
    /// cannot resolve `*.localhost`); announced as `https_proxy` on the ready line.
    #[arg(long)]
    connect_proxy: bool,
    /// Require this bearer token on every admin API call (unset: the admin API is open to
    /// loopback clients).
    #[arg(long, env = "ACI_CMK_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Most connections open at once; one more is closed as soon as it is accepted.
    #[arg(long, default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, default_value_t = ConnectionLimits::default().header_read_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_read_timeout_secs: u64,
    /// How long long-running operations, intermediate states and propagation take: instant,
    /// fast (every state Azure shows, briefly) or azure (as live Azure).
    #[arg(long, default_value_t = TimingProfile::default(), env = "ACI_CMK_EMULATOR_TIMING")]
    timing: TimingProfile,
    /// POST every published event (Key Vault's KeyNewVersionCreated, KeyNearExpiry,
    /// KeyExpired, VaultAccessPolicyChanged) to this loopback http URL, in the Event Grid
    /// schema (no validation handshake).
    #[arg(long, env = "ACI_CMK_EMULATOR_EVENT_WEBHOOK")]
    event_webhook: Option<aci_cmk_emulator::WebhookUrl>,
    /// Threads that serve requests. The default is half the machine's cores (at least one):
    /// the emulator shares its machine with the clients it serves, and on two cores one
    /// thread answers with less CPU and a shorter tail than two (docs/adr/006).
    #[arg(long, default_value_t = default_worker_threads(), env = "ACI_CMK_EMULATOR_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    worker_threads: u16,
}

/// Half the machine's cores, at least one.
fn default_worker_threads() -> u16 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u16::try_from((cores / 2).max(1)).unwrap_or(u16::MAX)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.worker_threads))
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(e) => {
            eprintln!("aci-cmk-emulator: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let opts = EmulatorOptions {
        port: args.port,
        state_dir: args.state_dir,
        tenant_id: args.tenant_id,
        subscription_id: args.subscription_id,
        client_id: args.client_id,
        client_secret: args.client_secret,
        connect_proxy: args.connect_proxy,
        admin_token: args.admin_token,
        limits: ConnectionLimits {
            max_connections: args.max_connections,
            header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout_secs),
        },
        timing: args.timing,
        event_webhook: args.event_webhook,
    };
    let emulator = match Emulator::start(opts).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "emulator failed to start");
            return std::process::ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", emulator.info().to_ready_line());
        let _ = out.flush();
    }
    wait_for_signal().await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
