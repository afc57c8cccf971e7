//! # aci_cmk_posture
//!
//! Audits the customer-managed-key (CMK) posture of a subscription: every container group in
//! scope, and each distinct vault, key, identity and role the groups name, read once however
//! many groups use it. The audit reads only; [`remediation`] then plans the fixes of what it
//! found and carries them out (a dry run by default, disruptive steps only when allowed).
//!
//! An [`Auditor`] over the orchestrator's [`Backends`](aci_cmk_encrypted_deployment::Backends)
//! (the client traits: real Azure, the emulator, or your own) reads an [`AuditScope`] and
//! returns an [`AuditReport`]: [`Finding`]s, each with a stable [`FindingKind`] (the issue's
//! fifteen items), a [`Severity`], the resource id, typed [`Evidence`] of what was read (the
//! vault, key, version, principal, identity and role names a remediation acts on), a one-line
//! fix and the Azure Policy built-in it corresponds to; and the gaps — what could not be read.
//! The report prints as a table (`Display`), serialises as JSON, and converts to SARIF 2.1.0
//! ([`sarif`]); [`AuditReport::passes`] decides pass or fail at a threshold for CI.
//!
//! Time ("expires within 30 days", "expired", "not yet valid") comes from the options' [`Clock`]
//! (the system's by default; the emulator's in tests).
//!
//! With the feature `seed`, the module `seed` builds a messy subscription on the embedded emulator for
//! tests and demos (`cargo run --example posture`).
//!
//! ```
//! use aci_cmk_aci::models::{Container, ContainerGroup};
//! use aci_cmk_core::cloud::EmulatorProfile;
//! use aci_cmk_encrypted_deployment::{Backends, Connection};
//! use aci_cmk_posture::{AuditOptions, AuditScope, Auditor, Clock, FindingKind, Severity};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The local emulator stands in for Azure; `Connection::new` takes a real cloud instead.
//! let emulator = aci_cmk_emulator::Emulator::start(Default::default()).await?;
//! let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
//! let backends = Backends::connect(&Connection::emulator(&profile)?).await?;
//!
//! // A group without a customer-managed key.
//! let rg = "rg-doc".parse()?;
//! backends.resource_groups.create_or_update(&rg, &"westeurope".parse()?, &Default::default(), None).await?;
//! let group = ContainerGroup::new("westeurope", vec![Container::new("app", "nginx", 1.0, 1.5)]);
//! backends.container_groups.create_or_update(&rg, &"plain".parse()?, &group, None).await?;
//!
//! let admin = emulator.admin().clone();
//! let options = AuditOptions::default().with_clock(Clock::from_fn(move || admin.now()));
//! let report = Auditor::new(backends, options).audit(&AuditScope::subscription()).await?;
//! println!("{report}");
//! let finding = report.of_kind(FindingKind::GroupWithoutCmk).next().expect("found");
//! assert_eq!(finding.policy_id.as_deref(), Some("0aa61e00-0a01-4a3c-9945-e93cffedf0e6"));
//! assert!(!report.passes(Severity::High));
//!
//! let sarif: serde_json::Value = serde_json::from_str(&report.to_sarif_json()?)?;
//! assert_eq!(sarif["version"], "2.1.0");
//! # Ok(()) }
//! ```

mod auditor;
mod checks;
pub mod error;
pub mod findings;
mod inventory;
pub mod options;
pub mod remediation;
pub mod report;
pub mod sarif;
pub mod scope;
#[cfg(feature = "seed")]
pub mod seed;

pub use auditor::Auditor;
pub use error::{Error, Result};
pub use findings::evidence;
pub use findings::{
    Finding,
    evidence::Evidence,
    kind::{FindingKind, PolicyDefinition, Severity},
};
pub use options::{AuditOptions, Clock};
pub use remediation::{
    RemediateOptions, RemediationOptions, RemediationPlan, RemediationReport, Remediator,
    remediation_plan,
};
pub use report::AuditReport;
pub use scope::AuditScope;
