//! Errors of the orchestrator.

use crate::{progress::StepId, report::ApplyReport, spec::SpecError, template::TemplateError};
use std::{fmt, sync::Arc};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of one of the backends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// Resource groups, container groups, deployments.
    #[error(transparent)]
    Aci(#[from] aci_cmk_aci::Error),
    /// Key Vault, Graph, managed identities, role assignments: the client crates' one error.
    #[error(transparent)]
    Client(#[from] aci_cmk_core::ClientError),
    /// Anything else from the pipeline.
    #[error(transparent)]
    Core(#[from] aci_cmk_core::Error),
}

impl BackendError {
    /// The service-level error, when there is one.
    pub fn core(&self) -> Option<&aci_cmk_core::Error> {
        match self {
            BackendError::Aci(e) => e.as_service(),
            BackendError::Client(e) => e.as_service(),
            BackendError::Core(e) => Some(e),
        }
    }

    /// Whether the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        self.core().is_some_and(aci_cmk_core::Error::is_not_found)
    }

    /// Whether the caller was refused (access policy, RBAC or firewall).
    pub fn is_forbidden(&self) -> bool {
        self.core().is_some_and(aci_cmk_core::Error::is_forbidden)
    }
}

/// One rule preflight found broken, with what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreflightIssue {
    /// Which rule.
    pub rule: PreflightRule,
    /// What is wrong and what to change.
    pub message: String,
}

impl fmt::Display for PreflightIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.rule, self.message)
    }
}

/// The rules checked before any write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PreflightRule {
    /// The vault name is taken by a vault this deployment cannot use.
    VaultNameTaken,
    /// An existing vault lacks soft delete or purge protection.
    VaultWithoutPurgeProtection,
    /// An existing vault's authorization mode differs from the spec's.
    VaultAuthorizationMismatch,
    /// The firewall of an existing vault would block ACI.
    FirewallBlocksAci,
    /// The key's type or size does not fit, or the key is disabled.
    KeyUnusable,
    /// The container group's body is refused by the Container Instances rules (sku,
    /// api-version, identity listed in both places).
    ContainerGroupInvalid,
    /// An existing container group is encrypted differently and must be re-created.
    EncryptionChangeNeedsRecreate,
    /// The template cannot be given encryption.
    TemplateInvalid,
}

/// What can go wrong planning or applying a deployment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The template cannot be given encryption.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// Preflight found rules broken; nothing was written.
    #[error("preflight refused the deployment; nothing was written:{}", list(.0))]
    Preflight(Vec<PreflightIssue>),
    /// Reading the current state failed.
    #[error("reading the current {what} failed: {source}")]
    Read {
        /// What was being read.
        what: &'static str,
        /// The backend's error.
        #[source]
        source: Arc<BackendError>,
    },
    /// A step failed; `report` says what was done before and beside it.
    #[error("step {step} failed: {source}")]
    StepFailed {
        /// The first step that failed.
        step: StepId,
        /// Its error.
        #[source]
        source: Arc<BackendError>,
        /// Every step's outcome.
        report: Box<ApplyReport>,
    },
    /// A call of `rotate` or `destroy` failed.
    #[error("{operation} failed: {source}")]
    Operation {
        /// What was being done, e.g. `delete container group cg1`.
        operation: String,
        /// The backend's error.
        #[source]
        source: Arc<BackendError>,
    },
    /// A step cannot go on for a reason of the orchestrator's own (not a backend's error):
    /// the one error for "cannot go on, here is why", in `apply` as in the day-two calls.
    #[error("step {step} cannot go on: {message}")]
    Blocked {
        /// The step.
        step: StepId,
        /// Why, and what to change.
        message: String,
        /// Every step's outcome, when the step was part of an `apply`.
        report: Option<Box<ApplyReport>>,
    },
}

impl Error {
    /// [`Error::Blocked`] outside an `apply`.
    pub(crate) fn blocked(step: StepId, message: impl Into<String>) -> Self {
        Error::Blocked {
            step,
            message: message.into(),
            report: None,
        }
    }
}

/// Why a step's body stopped: a backend's error, or a reason of its own (which `apply` reports
/// as [`Error::Blocked`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// A backend refused or failed.
    #[error(transparent)]
    Backend(Box<BackendError>),
    /// The step cannot go on: why, and what to change.
    #[error("{0}")]
    Blocked(String),
}

impl From<BackendError> for StepError {
    fn from(e: BackendError) -> Self {
        StepError::Backend(Box::new(e))
    }
}

impl From<aci_cmk_aci::Error> for StepError {
    fn from(e: aci_cmk_aci::Error) -> Self {
        BackendError::from(e).into()
    }
}

impl From<aci_cmk_core::ClientError> for StepError {
    fn from(e: aci_cmk_core::ClientError) -> Self {
        BackendError::from(e).into()
    }
}

impl From<aci_cmk_core::Error> for StepError {
    fn from(e: aci_cmk_core::Error) -> Self {
        BackendError::from(e).into()
    }
}

fn list(issues: &[PreflightIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("\n  - {}", i.message))
        .collect()
}
