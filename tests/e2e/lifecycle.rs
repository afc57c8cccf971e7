//! rotate, destroy, recovery of a soft-deleted vault, preflight against real state, and faults.

use crate::flows::{PROTECTED, STANDARD, rbac};
use aci_cmk_emulator::FaultConfig;
use aci_cmk_encrypted_deployment::{
    DestroyOptions, Error, OrchestratorOptions, RotateOptions,
    progress::{StepAction, StepId},
    propagation::PropagationRetry,
    report::StepStatus,
};
use aci_cmk_integration_tests::Harness;
use std::time::Duration;

#[tokio::test]
async fn rotate_moves_the_group_to_a_new_key_version() {
    let h = Harness::start().await;
    let spec = h.spec(STANDARD);
    let before = h.orchestrator.apply(&spec).await.expect("apply");
    let rotated = h
        .orchestrator
        .rotate(&spec, RotateOptions::default())
        .await
        .expect("rotate");
    assert_eq!(rotated.previous.as_ref(), before.key_id.as_ref());
    let new_version = rotated.current.version().expect("versioned").to_string();
    assert_ne!(
        Some(new_version.clone()),
        before
            .key_id
            .as_ref()
            .and_then(|k| k.version())
            .map(ToString::to_string)
    );
    assert_eq!(rotated.groups.len(), 1);
    assert_eq!(rotated.groups[0].key_version, new_version);
    // The next apply sees the rotated state as converged.
    h.clear_log();
    let after = h
        .orchestrator
        .apply(&spec)
        .await
        .expect("apply after rotate");
    assert_eq!(after.writes(), 0, "{after}");
}

#[tokio::test]
async fn destroy_then_apply_recovers_the_soft_deleted_vault() {
    let h = Harness::start().await;
    let spec = h.spec(PROTECTED);
    h.orchestrator.apply(&spec).await.expect("apply");
    let destroyed = h
        .orchestrator
        .destroy(&spec, DestroyOptions::default())
        .await
        .expect("destroy");
    assert!(
        destroyed.removed.iter().any(|r| r.contains("soft-deleted")),
        "{destroyed:?}"
    );
    let plan = h.orchestrator.plan(&spec).await.expect("plan");
    assert_eq!(
        plan.action(StepId::Vault),
        Some(StepAction::Recover),
        "{plan}"
    );
    let report = h.orchestrator.apply(&spec).await.expect("apply recovers");
    assert_eq!(
        report.step(StepId::Vault).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::Recover
        })
    );
    // The recovered vault kept its key: no new key was created.
    assert_eq!(
        report.step(StepId::Key).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::InPlace
        })
    );
}

#[tokio::test]
async fn apply_after_recovering_an_rbac_vault_grants_access_again() {
    let h = Harness::start().await;
    let spec = h.spec(&rbac(PROTECTED));
    h.orchestrator.apply(&spec).await.expect("apply");
    h.orchestrator
        .destroy(&spec, DestroyOptions::default())
        .await
        .expect("destroy");
    // Azure deleted the vault's role assignments with it: recovering the vault is not enough.
    let plan = h.orchestrator.plan(&spec).await.expect("plan");
    assert_eq!(
        plan.action(StepId::Vault),
        Some(StepAction::Recover),
        "{plan}"
    );
    assert_eq!(
        plan.action(StepId::EncryptionAccess),
        Some(StepAction::Create),
        "{plan}"
    );
    let report = h.orchestrator.apply(&spec).await.expect("apply recovers");
    assert_eq!(
        report.step(StepId::EncryptionAccess).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::Create
        }),
        "{report}"
    );
    // Converged: the group reads its key again.
    h.clear_log();
    let again = h.orchestrator.apply(&spec).await.expect("apply again");
    assert_eq!(again.writes(), 0, "{again}");
}

#[tokio::test]
async fn preflight_refuses_a_changed_encryption_and_writes_nothing() {
    let h = Harness::start().await;
    let spec = h.spec(STANDARD);
    h.orchestrator.apply(&spec).await.expect("apply");
    // A new key version out of band: the group's encryption now differs from the spec's.
    h.orchestrator
        .rotate(&spec, RotateOptions::default())
        .await
        .expect("rotate");
    let pinned_old = STANDARD.replace(
        "[key.create]\nname = \"aci-cmk\"",
        "[key.create]\nname = \"other-key\"",
    );
    let other = h.spec(&pinned_old);
    h.clear_log();
    let err = h.orchestrator.apply(&other).await.expect_err("refused");
    assert!(
        matches!(err, Error::Preflight(_)) || matches!(err, Error::StepFailed { .. }),
        "{err}"
    );
    if let Error::Preflight(issues) = &err {
        assert!(
            issues.iter().any(|i| i.message.contains("recreate")),
            "{err}"
        );
        assert!(h.writes().is_empty(), "{:?}", h.writes());
    }
}

#[tokio::test]
async fn converges_under_throttling_errors_dropped_connections_and_replication_delay() {
    let options = OrchestratorOptions::default().with_propagation(PropagationRetry::new(
        Duration::from_millis(50),
        Duration::from_millis(500),
        Duration::from_secs(30),
    ));
    let h = Harness::start_with(options).await;
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "seed": 7,
        "replication_delay_ms": 1500,
        "rules": [
            {"rate": 0.15, "action": {"type": "throttle", "retry_after_secs": 0}},
            {"rate": 0.1, "action": {"type": "error", "status": 503}},
            {"action": {"type": "latency", "fixed_ms": 5, "jitter_ms": 10}},
            {"rate": 0.04, "action": {"type": "drop"}}
        ]
    }))
    .expect("a fault configuration");
    h.emulator.admin().set_faults(faults).expect("faults");
    let spec = h.spec(&PROTECTED.replace("[vault]\n", "[vault]\nauthorization = \"rbac\"\n"));
    // A dropped connection on a request that is not idempotent (a key creation) is not retried
    // by the pipeline — it may have been processed — so it fails the run; the next run
    // converges from wherever it stopped.
    let mut runs = Vec::new();
    let report = loop {
        match h.orchestrator.apply(&spec).await {
            Ok(report) => break report,
            Err(e) if runs.len() < 4 => runs.push(e.to_string()),
            Err(e) => panic!("no convergence under faults after {runs:?}: {e}"),
        }
    };
    let encrypted_with = report.encryption.as_ref().map(|e| e.key_version.clone());
    let key_version = report
        .key_id
        .as_ref()
        .and_then(|k| k.version())
        .map(ToString::to_string);
    assert!(encrypted_with.is_some(), "{report}");
    assert_eq!(
        encrypted_with, key_version,
        "the group uses the one key version"
    );
    let dump = h.emulator.admin().dump();
    let versions: usize = dump["keys"]
        .as_object()
        .into_iter()
        .flat_map(|keys| keys.values())
        .map(|k| k["versions"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(versions, 1, "no key version was created twice");
    h.emulator
        .admin()
        .set_faults(FaultConfig::default())
        .expect("faults");
    h.clear_log();
    let again = h.orchestrator.apply(&spec).await.expect("re-apply");
    assert_eq!(again.writes(), 0);
}

#[tokio::test]
async fn a_fresh_identity_is_waited_for_until_it_has_replicated() {
    let options = OrchestratorOptions::default().with_propagation(PropagationRetry::new(
        Duration::from_millis(50),
        Duration::from_millis(300),
        Duration::from_secs(30),
    ));
    let h = Harness::start_with(options).await;
    let faults: FaultConfig =
        serde_json::from_value(serde_json::json!({"replication_delay_ms": 2500}))
            .expect("a fault configuration");
    h.emulator.admin().set_faults(faults).expect("faults");
    let spec = h.spec(PROTECTED);
    let report = h
        .orchestrator
        .apply(&spec)
        .await
        .expect("converges once replicated");
    let waited = report
        .step(StepId::ContainerGroup)
        .map(|s| s.retries)
        .unwrap_or_default();
    assert!(
        waited > 0,
        "ACI could not use the identity until it replicated: {report}"
    );
}
