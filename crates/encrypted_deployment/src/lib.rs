//! # aci_cmk_encrypted_deployment
//!
//! The orchestrator of the two flows that encrypt Azure Container Instances deployment data with
//! a customer-managed key in Azure Key Vault:
//!
//! - **standard**: the ACI first-party service principal gets `get` + `unwrapKey` on a vault
//!   with soft delete and purge protection, and the group names the key;
//! - **network-protected**: a user-assigned identity gets them instead, the vault firewall denies
//!   public networks but lets trusted Azure services through, and the group names the identity
//!   in `encryptionProperties.identity` and in its `identity` block.
//!
//! A [`DeploymentSpec`](spec::DeploymentSpec) says what should exist; an [`Orchestrator`]
//! over a set of [`Backends`] (trait objects: real Azure clients, the emulator, or your own)
//! plans, applies, rotates and destroys it.
//!
//! - [`spec`]: the declarative description, from JSON or TOML.
//! - [`template`]: adds encryption to the container groups of an existing ARM template.
//! - [`progress`]: the steps and the events a run reports.

mod apply;
pub mod backends;
pub mod connection;
mod desired;
pub mod error;
pub mod fleet;
pub mod lifecycle;
mod orchestrator;
pub mod plan;
mod preflight;
pub mod progress;
pub mod propagation;
pub mod report;
pub mod spec;
mod survey;
pub mod template;

pub use backends::{Backends, Deployer};
pub use connection::Connection;
pub use error::{Error, Result};
pub use fleet::{FleetOptions, FleetReport};
pub use lifecycle::{DestroyOptions, DestroyReport, RotateOptions, RotateReport};
pub use orchestrator::{Orchestrator, OrchestratorOptions};
