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
//! ```
//! use aci_cmk_core::cloud::EmulatorProfile;
//! use aci_cmk_encrypted_deployment::{Backends, Connection, Orchestrator, OrchestratorOptions, spec::DeploymentSpec};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The local emulator stands in for Azure; `Connection::new` takes a real cloud instead.
//! let emulator = aci_cmk_emulator::Emulator::start(Default::default()).await?;
//! let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
//! let connection = Connection::emulator(&profile)?;
//! let orchestrator = Orchestrator::new(Backends::connect(&connection).await?, OrchestratorOptions::default());
//!
//! let spec = DeploymentSpec::from_toml_str(&format!(r#"
//!     subscription_id = "{}"
//!     resource_group = "rg-doc"
//!     location = "westeurope"
//!     flow = "standard"
//!     [vault]
//!     name = "doc-vault"
//!     [key.create]
//!     name = "aci-cmk"
//!     [container_group]
//!     name = "hello"
//!     [[container_group.containers]]
//!     name = "app"
//!     image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
//! "#, profile.subscription_id))?;
//!
//! let report = orchestrator.apply(&spec).await?;
//! let encryption = report.encryption.expect("the group is encrypted");
//! assert_eq!(Some(encryption.key_version.as_str()), report.key_id.as_ref().and_then(|k| k.version()).map(|v| v.as_str()));
//! // Applying again changes nothing.
//! assert_eq!(orchestrator.apply(&spec).await?.writes(), 0);
//! # Ok(()) }
//! ```
//!
//! Every request of a step carries the client request id `aci-cmk/{run}/{step}`, and the
//! [`report`] keeps, per step, the request and correlation ids the services answered to its
//! writes ([`report::StepOutcome::write_ids`]), for Azure support. Dropping the future of
//! `apply` abandons the requests in flight; applying again converges.
//!
//! `plan` shows exactly what `apply` does: both come from one decision per step, and the step
//! graph both follow is stated once.
//!
//! - [`spec`]: the declarative description, from JSON or TOML, with the key's lifecycle
//!   ([`spec::KeyLifecycle`]: rotation, expiry, `follow`, `retire_previous`).
//! - [`plan`] and [`report`]: what a run would do, and what it did.
//! - [`fleet`]: `apply_many`, one shared spec and many groups.
//! - [`lifecycle`]: `rotate` and `destroy`; [`follow`]: `follow_latest`, groups that follow
//!   their key's newest usable version ([`key_versions`] judges which are usable), and the
//!   retirement of the versions left; [`watch`]: the reconciler that keeps doing it.
//! - [`clock`]: the orchestrator's "now" (the emulator's, in tests).
//! - [`template`]: adds encryption to the container groups of an existing ARM template.
//! - [`progress`]: the steps and the events a run reports.

mod apply;
pub mod backends;
pub mod clock;
mod container_group;
mod decisions;
mod desired;
pub mod error;
pub mod fleet;
pub mod follow;
mod graph;
pub mod key_versions;
pub mod lifecycle;
mod orchestrator;
pub mod plan;
mod preflight;
pub mod progress;
pub mod propagation;
pub mod report;
mod run_id;
pub mod spec;
mod survey;
pub mod template;
mod tracker;
pub mod watch;

/// Core's [`Connection`] (one cloud, credential, transport and subscription), re-exported where
/// it stood before it moved to core, so that this path still names it. [`Backends::connect`]
/// builds the real clients over one.
pub use aci_cmk_core::Connection;
pub use backends::{Backends, Deployer};
pub use container_group::RecreatedGroup;
pub use desired::{ENCRYPTION_KEY_PERMISSIONS, rotation_policy_matches, vault_protection_patch};
pub use error::{Error, Result};
pub use fleet::{FleetOptions, FleetReport};
pub use follow::{FollowOptions, FollowPlan, FollowReport};
pub use lifecycle::{DestroyOptions, DestroyReport, RotateOptions, RotateReport};
pub use orchestrator::{Orchestrator, OrchestratorOptions};
pub use watch::WatchOptions;
