//! What a run did: each step's outcome and the resulting ids, as Azure reports them.

use crate::progress::{StepAction, StepId};
use aci_cmk_aci::models::EncryptionProperties;
use aci_cmk_core::{
    ResponseIds,
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
    /// The client request id every request of the step carried, `aci-cmk/{run}/{step}`
    /// (`None`: the step did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// What the services answered to each request of the step that could change state, in
    /// order, with the request and correlation ids to quote to Azure support (refused ones and
    /// those a propagation retry repeated included).
    pub write_ids: Vec<ResponseIds>,
}

impl StepOutcome {
    /// The outcome of a step that sent nothing.
    pub(crate) fn new(step: StepId, status: StepStatus) -> Self {
        Self {
            step,
            status,
            retries: 0,
            duration: Duration::ZERO,
            client_request_id: None,
            write_ids: Vec::new(),
        }
    }

    /// The id to quote for the step's last write: its request id, else its correlation id.
    pub fn last_write_id(&self) -> Option<&str> {
        self.write_ids.last().and_then(ResponseIds::support_id)
    }
}

/// Serialises a duration as whole milliseconds (every report's durations).
pub(crate) fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
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
    /// The run's id: the `{run}` of the client request ids `aci-cmk/{run}/{step}` its requests
    /// carried.
    pub run_id: String,
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
    /// What preflight warned of (a key version about to expire, say); none stopped the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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

/// A table of the steps, one line each, with the request id of each step's last write (and
/// how many more writes it made) to quote to Azure support.
impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.run_id.is_empty() {
            writeln!(
                f,
                "run {} (client request ids aci-cmk/{}/<step>)",
                self.run_id, self.run_id
            )?;
        }
        writeln!(
            f,
            "{:<24} {:<10} {:>8} {:>7}  request id",
            "step", "outcome", "ms", "retries"
        )?;
        for s in &self.steps {
            let outcome = match &s.status {
                StepStatus::Done { action } => action.to_string(),
                StepStatus::NotApplicable => "-".to_owned(),
                StepStatus::Skipped { .. } => "skipped".to_owned(),
                StepStatus::Failed { .. } => "FAILED".to_owned(),
            };
            let request = match (s.last_write_id(), s.write_ids.len()) {
                (Some(id), 1) => id.to_owned(),
                (Some(id), n) => format!("{id} (+{} earlier)", n - 1),
                (None, 0) => "-".to_owned(),
                (None, n) => format!("({n} writes, no id answered)"),
            };
            writeln!(
                f,
                "{:<24} {:<10} {:>8} {:>7}  {}",
                s.step.title(),
                outcome,
                s.duration.as_millis(),
                s.retries,
                request
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::StepAction;

    #[test]
    fn the_table_shows_each_steps_last_write_id() {
        let mut vault = StepOutcome::new(
            StepId::Vault,
            StepStatus::Done {
                action: StepAction::Create,
            },
        );
        vault.client_request_id = Some("aci-cmk/0123456789ab/vault".into());
        vault.write_ids = vec![
            ResponseIds::new("PUT", "https://arm/v", 409).with_request_id("req-1"),
            ResponseIds::new("PUT", "https://arm/v", 200)
                .with_request_id("req-2")
                .with_correlation_id("corr-2"),
        ];
        let mut key = StepOutcome::new(
            StepId::Key,
            StepStatus::Done {
                action: StepAction::Create,
            },
        );
        key.write_ids = vec![
            ResponseIds::new("POST", "https://kv/keys/k/create", 200)
                .with_correlation_id("corr-only"),
        ];
        let report = ApplyReport {
            run_id: "0123456789ab".into(),
            steps: vec![
                vault,
                key,
                StepOutcome::new(StepId::Firewall, StepStatus::NotApplicable),
            ],
            ..ApplyReport::default()
        };
        let table = report.to_string();
        assert!(
            table
                .starts_with("run 0123456789ab (client request ids aci-cmk/0123456789ab/<step>)\n"),
            "{table}"
        );
        let line = |title: &str| {
            table
                .lines()
                .find(|l| l.starts_with(title))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(line("key vault").ends_with("req-2 (+1 earlier)"), "{table}");
        assert!(line("key   ").ends_with("corr-only"), "{table}");
        assert!(line("vault firewall").ends_with(" -"), "{table}");
        assert!(table.ends_with("2 writes"), "{table}");
    }
}
