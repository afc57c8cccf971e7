//! What a run did: each step's outcome and the resulting ids, as Azure reports them.

use crate::progress::{StepAction, StepId};
use aci_cmk_aci::models::EncryptionProperties;
use aci_cmk_core::{
    key_id::{KeyId, VaultUrl},
    names::{ClientId, PrincipalId},
};
use serde::Serialize;
use std::{fmt, time::Duration};

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
#[non_exhaustive]
pub enum StepStatus {
    /// It ran.
    Done {
        /// What it did.
        action: StepAction,
    },
    /// It does not belong to this flow.
    NotApplicable,
    /// It did not run because a step it needs failed.
    Skipped {
        /// Why.
        reason: String,
    },
    /// It failed.
    Failed {
        /// The error.
        error: String,
    },
}

/// One step's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StepOutcome {
    /// Which step.
    pub step: StepId,
    /// How it ended.
    #[serde(flatten)]
    pub status: StepStatus,
    /// How often it retried while a principal or role assignment propagated.
    pub retries: u32,
    /// How long it took.
    #[serde(serialize_with = "ms")]
    pub duration: Duration,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The user-assigned identity of the network-protected flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IdentityReport {
    /// Its resource id.
    pub id: String,
    /// Its principal (object) id.
    pub principal_id: PrincipalId,
    /// Its client id.
    pub client_id: ClientId,
}

/// What `apply` did and what now exists.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Each step, in step order.
    pub steps: Vec<StepOutcome>,
    /// The resource group.
    pub resource_group_id: Option<String>,
    /// The vault.
    pub vault_id: Option<String>,
    /// The vault's data-plane URL.
    pub vault_uri: Option<VaultUrl>,
    /// The key, with the version the container group uses.
    pub key_id: Option<KeyId>,
    /// The ACI first-party service principal's object id (standard flow).
    pub service_principal_id: Option<PrincipalId>,
    /// The identity (network-protected flow).
    pub identity: Option<IdentityReport>,
    /// The container groups deployed.
    pub container_group_ids: Vec<String>,
    /// The template deployment, when the spec held a template.
    pub deployment_id: Option<String>,
    /// The container group's encryption properties as Azure reports them.
    pub encryption: Option<EncryptionProperties>,
    /// The whole run.
    #[serde(serialize_with = "ms")]
    pub duration: Duration,
}

impl ApplyReport {
    /// How many steps wrote something.
    pub fn writes(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Done { action } if action.writes()))
            .count()
    }

    /// How many retries all steps made.
    pub fn retries(&self) -> u32 {
        self.steps.iter().map(|s| s.retries).sum()
    }

    /// The outcome of `step`.
    pub fn step(&self, step: StepId) -> Option<&StepOutcome> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// A table of the steps, one line each.
impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:<10} {:>8} {:>7}",
            "step", "outcome", "ms", "retries"
        )?;
        for s in &self.steps {
            let outcome = match &s.status {
                StepStatus::Done { action } => action.to_string(),
                StepStatus::NotApplicable => "-".to_owned(),
                StepStatus::Skipped { .. } => "skipped".to_owned(),
                StepStatus::Failed { .. } => "FAILED".to_owned(),
            };
            writeln!(
                f,
                "{:<24} {:<10} {:>8} {:>7}",
                s.step.title(),
                outcome,
                s.duration.as_millis(),
                s.retries
            )?;
        }
        write!(
            f,
            "total {} ms, {} writes",
            self.duration.as_millis(),
            self.writes()
        )
    }
}
