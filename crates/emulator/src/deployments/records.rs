//! The deployment records: a deployment with its parameters (secure ones never stored), outputs,
//! state and operations.

use crate::arm::error::ArmError;
use crate::context::Ctx;
use crate::store::{Record, Tables};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How long a finished deployment still shows `Running` (so pollers see the LRO shape): the
/// timing profile's `deployment_settle_ms`.
pub fn settle_ms(shared: &crate::context::Shared) -> i64 {
    i64::try_from(shared.timing.durations().deployment_settle_ms).unwrap_or(i64::MAX / 4)
}

/// One resource operation of a deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentOperation {
    /// Operation id (16 hex digits).
    pub operation_id: String,
    /// `Create` (or `Read` for `existing` resources).
    pub provisioning_operation: String,
    /// `Succeeded` or `Failed`.
    pub state: String,
    /// When it finished (unix ms).
    pub timestamp_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// HTTP status name of the provider's answer (`OK`, `Created`, `BadRequest`, …).
    pub status_code: String,
    /// The resource provider's error (`{code, message, details?}`).
    #[serde(default)]
    pub error: Option<Value>,
    /// Target resource id.
    pub target_id: String,
    /// Target resource name.
    pub target_name: String,
    /// Target resource type.
    pub target_type: String,
}

/// A deployment record (no template and no secure parameter value is kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// ARM id.
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group (as created).
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// `Incremental`.
    pub mode: String,
    /// Correlation id of the PUT.
    pub correlation_id: String,
    /// Start (unix ms).
    pub start_ms: i64,
    /// When the terminal state becomes visible (unix ms).
    pub done_at_ms: i64,
    /// `Running` while the engine works, then `Succeeded`, `Failed` or `Canceled`.
    pub state: String,
    /// A cancel arrived while the engine was working.
    #[serde(default)]
    pub cancel_requested: bool,
    /// Template hash.
    pub template_hash: String,
    /// Parameters as returned (`{name: {type, value?}}`; secure values omitted).
    pub parameters: Value,
    /// Outputs (when succeeded).
    #[serde(default)]
    pub outputs: Option<Value>,
    /// `providers[]`.
    pub providers: Value,
    /// `dependencies[]`.
    pub dependencies: Value,
    /// Ids of the deployed resources.
    pub output_resources: Vec<String>,
    /// Deployment error.
    #[serde(default)]
    pub error: Option<Value>,
    /// Resource operations.
    pub operations: Vec<DeploymentOperation>,
    /// The LRO operation id of the last PUT.
    pub lro_id: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Record for Deployment {
    const TABLE: &'static str = "deployments";
}

impl Deployment {
    /// The state a client sees now.
    pub fn visible_state(&self, now_ms: i64) -> &str {
        if self.state == "Running" || now_ms < self.done_at_ms {
            "Running"
        } else {
            &self.state
        }
    }
}

/// Table key of a deployment.
pub fn key(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "{}/{}/{}",
        sub.to_ascii_lowercase(),
        rg.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

/// Deletes the deployments of a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    st.table_mut::<Deployment>().retain(|_, d| {
        !(d.subscription.eq_ignore_ascii_case(sub) && d.resource_group.eq_ignore_ascii_case(rg))
    });
}

pub fn not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "DeploymentNotFound",
        format!("Deployment '{name}' could not be found in resource group '{rg}'."),
    )
}

pub fn get(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<Deployment, ArmError> {
    let k = key(sub, rg, name);
    ctx.shared
        .store
        .read(|st| st.table::<Deployment>().get(&k).cloned())
        .ok_or_else(|| not_found(rg, name))
}

pub fn active_conflict(d: &Deployment, verb: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "DeploymentActive",
        format!(
            "Unable to {verb} deployment '{}': the deployment from '{}' is still active. Wait for it to finish or cancel it.",
            d.name,
            crate::config::rfc3339_ms(d.start_ms)
        ),
    )
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Deployment>();
}

/// The error of a deployment whose run was cut short by the emulator stopping.
pub fn interrupted_error() -> Value {
    serde_json::json!({
        "code": "DeploymentFailed",
        "message": "The deployment was interrupted: the emulator stopped while it was running. Deploy it again.",
        "details": [{"code": "DeploymentInterrupted", "message": "The emulator stopped while this deployment was running."}],
    })
}

/// Marks every deployment a previous process left `Running` as `Failed` (its run is gone), and
/// finishes its operation, so it can be re-deployed, deleted and polled to an end.
pub fn fail_interrupted(st: &mut Tables, now_ms: i64) {
    let running: Vec<String> = st
        .table::<Deployment>()
        .iter()
        .filter(|(_, d)| d.state == "Running")
        .map(|(k, _)| k.clone())
        .collect();
    for k in running {
        let Some(d) = st.table_mut::<Deployment>().get_mut(&k) else {
            continue;
        };
        d.state = "Failed".to_owned();
        d.error = Some(interrupted_error());
        d.done_at_ms = now_ms;
        let lro_id = d.lro_id.clone();
        crate::arm::lro::finish(st, &lro_id, "Failed", Some(interrupted_error()), now_ms);
    }
}
