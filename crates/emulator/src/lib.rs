//! A local HTTPS emulator of the Azure surfaces used to encrypt Azure Container Instances
//! deployment data with a customer-managed key: Entra ID tokens (client credentials and a
//! managed-identity endpoint), Microsoft Graph service principals, Azure Resource Manager
//! (resource groups, Key Vault vaults, user-assigned identities, role assignments, container
//! groups, template deployments) and the Key Vault keys data plane with real RSA-OAEP
//! wrap/unwrap.
//!
//! Everything is served on one HTTPS port on the loopback interface; each vault's data plane
//! is addressed as `https://{vault}.vault.localhost:{port}` and routed by the `Host` header.
//! See the crate `README.md` for the endpoint list, the error codes and the admin API.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
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
//!
//! // Emulator time moves only when asked: 91 days pass in one call.
//! let before = emulator.admin().now();
//! let after = emulator.admin().advance(Duration::from_secs(91 * 86_400))?;
//! assert!(after - before >= time::Duration::days(91));
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Architecture
//!
//! Layers point one way; a lower one never imports a higher one (ARCHITECTURE.md states the
//! invariants, and `cargo xtask tidy` checks that no module imports form a cycle):
//!
//! 1. `clock`, `timing`, `error`, `files` and the `store` (typed tables behind one
//!    mutex; with a state directory each acknowledged write is one redb transaction). The
//!    store knows no service.
//! 2. `config` (identities and endpoint URLs), `context` (what the services share and
//!    one request as a handler sees it) and `reply` (what a handler answers).
//! 3. One folder per emulated service, each with its records, its in-process API and its
//!    handlers: `entra`, `graph`, `arm` (the ARM front door), `keyvault_management`,
//!    `keyvault_data`, `managed_identity`, `authorization`, `aci`, `deployments`.
//!    A service reaches another only through that service's in-process API.
//! 4. `router`: host + path → service, the ARM routes to each provider, the tables every
//!    service registers.
//! 5. `server`: axum, TLS, fault injection, the request log, the admin API's HTTP routes.
//!    Only the server knows axum.
//! 6. The façade: [`Emulator`], [`RunningEmulator`] and its [`Admin`] handle.
//!
//! The ARM template engine behind `deployments` is its own crate.

pub(crate) mod aci;
pub(crate) mod admin;
pub(crate) mod arm;
pub(crate) mod authorization;
pub(crate) mod background;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod deployments;
pub(crate) mod emulator;
pub(crate) mod entra;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod graph;
pub(crate) mod keyvault_data;
pub(crate) mod keyvault_management;
pub(crate) mod managed_identity;
pub(crate) mod reply;
pub(crate) mod router;
pub(crate) mod server;
pub(crate) mod store;
pub(crate) mod timing;

pub use crate::admin::{Admin, AdminError, NewPrincipal, TokenRequest};
pub use crate::clock::{ClockError, MAX_ADVANCE, parse_iso8601_duration};
pub use crate::emulator::{Emulator, EmulatorOptions, ReadyInfo, RunningEmulator};
pub use crate::error::EmulatorError;
pub use crate::events::WebhookUrl;
pub use crate::router::Service;
pub use crate::server::faults::{BucketPacing, FaultAction, FaultConfig, FaultRule};
pub use crate::server::in_flight::InFlightRequest;
pub use crate::server::request_log::LogEntry;
pub use crate::server::tls::ConnectionLimits;
pub use crate::timing::{Durations, TimingProfile, UnknownTimingProfile};

/// The crate README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
