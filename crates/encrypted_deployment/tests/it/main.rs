//! The orchestrator against an in-memory Azure ([`memory::MemoryAzure`]): hand-written
//! implementations of the eight backend traits, no HTTP. It proves a backend can be swapped, and
//! tests the orchestrator's behaviour that does not need the wire: both flows on access-policy
//! and RBAC vaults, idempotence, template mode, preflight, recovery, propagation and failures.

mod failures;
mod flows;
mod follow;
mod key_lifecycle;
mod memory;
mod plan_is_apply;
mod preflight;
mod props;
mod request_ids;

use aci_cmk_core::names::{PrincipalId, SubscriptionId, TenantId};
use aci_cmk_encrypted_deployment::{
    Backends, Deployer, Orchestrator, OrchestratorOptions,
    progress::{StepAction, StepId},
    propagation::PropagationRetry,
    report::{ApplyReport, StepStatus},
    spec::DeploymentSpec,
};
use memory::MemoryAzure;
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const DEPLOYER: &str = "00000000-0000-0000-0000-0000000000bb";
const RG: &str = "rg-cmk";
const VAULT: &str = "kv-cmk-memory";
const KEY: &str = "aci-cmk";
const IDENTITY: &str = "aci-cmk-id";
const GROUP: &str = "hello";

fn deployer() -> PrincipalId {
    DEPLOYER.parse().expect("guid")
}

fn tenant() -> TenantId {
    TENANT.parse().expect("guid")
}

fn subscription() -> SubscriptionId {
    SUBSCRIPTION.parse().expect("guid")
}

/// An empty in-memory subscription.
fn azure() -> MemoryAzure {
    MemoryAzure::new(subscription(), tenant(), deployer())
}

/// Propagation waits short enough for tests.
fn fast_retry() -> PropagationRetry {
    let mut retry = PropagationRetry::default();
    retry.initial_delay = Duration::from_millis(10);
    retry.max_delay = Duration::from_millis(40);
    retry.max_total = Duration::from_secs(3);
    retry
}

fn options() -> OrchestratorOptions {
    OrchestratorOptions::default().with_propagation(fast_retry())
}

/// An orchestrator whose every backend is `azure`.
fn orchestrator_with(azure: &MemoryAzure, options: OrchestratorOptions) -> Orchestrator {
    let a = Arc::new(azure.clone());
    let backends = Backends::new(
        a.clone(),
        a.clone(),
        a.clone(),
        a.clone(),
        a.clone(),
        a.clone(),
        a.clone(),
        a,
        Deployer::new(deployer(), tenant()),
    );
    Orchestrator::new(backends, options)
}

fn orchestrator(azure: &MemoryAzure) -> Orchestrator {
    orchestrator_with(azure, options())
}

/// Which flow and vault authorization a spec uses.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Standard,
    NetworkProtected,
}

/// A spec of `shape` on an access-policy (`rbac` false) or RBAC vault, with a direct container
/// group; `extra` is merged into the top level.
fn spec_json(shape: Shape, rbac: bool, extra: Value) -> Value {
    let mut vault =
        json!({"name": VAULT, "authorization": if rbac { "rbac" } else { "access_policies" }});
    let flow = match shape {
        Shape::Standard => json!("standard"),
        Shape::NetworkProtected => {
            // The deployer's address, so it can still read the key once the firewall is up.
            vault["ip_rules"] = json!([memory::CALLER_IP]);
            json!({"network_protected": {"identity_name": IDENTITY}})
        }
    };
    let mut spec = json!({
        "subscription_id": SUBSCRIPTION,
        "resource_group": RG,
        "location": "eastus",
        "tags": {"env": "test"},
        "vault": vault,
        "key": {"create": {"name": KEY}},
        "flow": flow,
        "container_group": {
            "name": GROUP,
            "containers": [{
                "name": "app",
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "ports": [80],
                "env": {"GREETING": "hi"},
                "secure_env": {"TOKEN": "s3cret"}
            }],
            "public_ports": [80]
        }
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            spec.insert(k.clone(), v.clone());
        }
    }
    spec
}

fn spec_from(value: &Value) -> DeploymentSpec {
    DeploymentSpec::from_json_str(&value.to_string()).expect("valid spec")
}

fn spec(shape: Shape, rbac: bool) -> DeploymentSpec {
    spec_from(&spec_json(shape, rbac, json!({})))
}

/// The action `step` reports as done; panics on another status.
fn done(report: &ApplyReport, step: StepId) -> StepAction {
    match &report.step(step).expect("every step is reported").status {
        StepStatus::Done { action } => *action,
        other => panic!("{step} did not run: {other:?}\n{report}"),
    }
}

/// Asserts that every step of the report is in place or not part of the flow.
fn assert_all_in_place(report: &ApplyReport) {
    for s in &report.steps {
        assert!(
            matches!(
                s.status,
                StepStatus::Done {
                    action: StepAction::InPlace
                } | StepStatus::NotApplicable
            ),
            "{} is {:?}\n{report}",
            s.step,
            s.status
        );
    }
    assert_eq!(report.writes(), 0, "{report}");
}

/// Gives the deployer more key permissions on the vault (as its owner would, by hand).
async fn grant_deployer(
    azure: &MemoryAzure,
    permissions: &[aci_cmk_keyvault::models::KeyPermission],
) {
    use aci_cmk_keyvault::{
        KeyVaultManagement,
        models::{AccessPolicyEntry, AccessPolicyUpdateKind},
    };
    KeyVaultManagement::update_access_policy(
        azure,
        &RG.parse().expect("name"),
        &VAULT.parse().expect("name"),
        AccessPolicyUpdateKind::Add,
        &[AccessPolicyEntry::for_keys(
            tenant(),
            deployer(),
            permissions.iter().cloned(),
        )],
        None,
    )
    .await
    .expect("grant");
}
