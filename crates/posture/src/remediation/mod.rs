//! Remediation: what an audit found, fixed.
//!
//! [`remediation_plan`] turns an [`AuditReport`](crate::AuditReport)'s findings into steps —
//! each **in place** (turn on soft delete and purge protection, set a key's rotation policy and
//! expiry, grant `get` and `unwrapKey`, let trusted services through a firewall, recover a
//! soft-deleted vault, create the ACI service principal) or **disruptive** (re-create a group:
//! under a customer-managed key, onto a usable key version, listing or given an encryption
//! identity; it restarts and its IP address may change) — each naming the findings it fixes,
//! and says which findings have no automatic fix, and why. It reads nothing.
//!
//! [`Remediator::remediate`] carries a plan out: a dry run by default (the steps read what
//! they decide on and report what they would write); disruptive steps only when allowed, at
//! most [`concurrency`](RemediateOptions::concurrency) at once. The report says per step done,
//! already done, would do, skipped (why) or failed (why). Auditing again afterwards finds none
//! of what the steps that succeeded fixed.
//!
//! Nothing weakens anything: no step disables a firewall (the bypass is the only change to
//! one), grants more than `get` and `unwrapKey` (an access policy of those two, or Key Vault
//! Crypto Service Encryption User on the key) or to a principal that does not unwrap for a
//! group, takes access away, or purges. A group is re-created only from a definition that is
//! whole: one with secure values (Azure never returns them) needs its spec, one with a
//! system-assigned identity or properties this SDK does not model is left to a person.
//!
//! Steps decide as the audit and the orchestrator do, never anew: which versions are usable
//! (the audit's), the protection a vault needs ([`vault_protection_patch`]), the expiries and
//! rotation policy of a key lifecycle (`KeyLifecycle`, [`rotation_policy_matches`]), how a
//! group is re-created ([`Orchestrator::recreate_container_group`]), how long propagation
//! takes ([`is_propagation_error`]).
//!
//! [`vault_protection_patch`]: aci_cmk_encrypted_deployment::vault_protection_patch
//! [`rotation_policy_matches`]: aci_cmk_encrypted_deployment::rotation_policy_matches
//! [`Orchestrator::recreate_container_group`]: aci_cmk_encrypted_deployment::Orchestrator::recreate_container_group
//! [`is_propagation_error`]: aci_cmk_encrypted_deployment::propagation::is_propagation_error

mod access;
mod apply;
pub mod error;
mod groups;
mod keys;
pub mod options;
pub mod plan;
pub mod report;
mod step_context;
mod vaults;

pub use apply::Remediator;
pub use error::StepError;
pub use options::{CmkTarget, RemediateOptions, RemediationOptions};
pub use plan::{
    Disruption, FindingRef, GrantKind, GroupChanges, NewVersion, PlannedStep, RemediationPlan,
    StepAction, Unfixed, Unplanned, VersionTarget, remediation_plan,
};
pub use report::{Outcome, RemediationReport, SkipReason, StepReport};

#[cfg(test)]
mod tests;
