//! Per-call options end to end: every step's requests carry `aci-cmk/{run}/{step}`, the report
//! holds the emulator's request and correlation ids of each step's writes, and dropping the
//! future of `apply` abandons the request in flight at once (the emulator never handles it)
//! and a re-run converges.

use crate::flows::STANDARD;
use aci_cmk_emulator::FaultConfig;
use aci_cmk_encrypted_deployment::{
    OrchestratorOptions,
    progress::{self, ProgressEvent, StepAction, StepId},
    report::StepStatus,
};
use aci_cmk_integration_tests::Harness;
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_report_carries_the_ids_the_emulator_answered_for_each_steps_writes() {
    let h = Harness::start().await;
    let spec = h.spec(&STANDARD.replace("rg-e2e-std", "rg-e2e-ids"));
    let report = h.orchestrator.apply(&spec).await.expect("applied");
    let run = &report.run_id;
    let mut steps_that_wrote = 0;
    for step in &report.steps {
        let StepStatus::Done { action } = step.status else {
            continue;
        };
        let expected = format!("aci-cmk/{run}/{}", step.step.as_str());
        assert_eq!(step.client_request_id.as_deref(), Some(expected.as_str()));
        assert_eq!(action.writes(), !step.write_ids.is_empty(), "{report}");
        for ids in &step.write_ids {
            assert_eq!(ids.client_request_id.as_deref(), Some(expected.as_str()));
            assert!(ids.request_id.is_some(), "{}: {ids:?}", step.step);
            assert!((200..300).contains(&ids.status), "{ids:?}");
            // ARM correlates; the Key Vault data plane and Graph have no correlation id.
            if ids.url.contains("/subscriptions/") {
                assert!(ids.correlation_id.is_some(), "{ids:?}");
            }
        }
        steps_that_wrote += usize::from(action.writes());
    }
    assert_eq!(steps_that_wrote, report.writes());
    let table = report.to_string();
    let key = report.step(StepId::Key).and_then(|s| s.last_write_id());
    assert!(table.contains(key.expect("the key was created")), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_apply_abandons_the_request_in_flight_and_a_rerun_converges() {
    const LATENCY: Duration = Duration::from_secs(3);
    let (sink, mut events) = progress::channel();
    let h = Harness::start_with(OrchestratorOptions::default().with_progress(sink)).await;
    let spec = h.spec(
        &STANDARD
            .replace("rg-e2e-std", "rg-e2e-cancel")
            .replace("e2e-std-vault", "e2e-cancel-vault"),
    );
    // The emulator holds every vault PUT for LATENCY before it handles it.
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{
            "service": "arm",
            "method": "PUT",
            "path_contains": "/providers/Microsoft.KeyVault/vaults/e2e-cancel-vault",
            "action": {"type": "latency", "fixed_ms": LATENCY.as_millis() as u64}
        }]
    }))
    .expect("a fault configuration");
    h.emulator.admin().set_faults(faults).expect("faults set");

    // Ctrl-C while the vault PUT is in flight: the future of `apply` is dropped.
    let started = Instant::now();
    let vault_in_flight = async {
        while let Some(event) = events.recv().await {
            if matches!(
                event,
                ProgressEvent::Started {
                    step: StepId::Vault
                }
            ) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    tokio::select! {
        result = h.orchestrator.apply(&spec) => {
            panic!("apply finished although the vault PUT is held: {result:?}")
        }
        () = vault_in_flight => {}
    }
    let dropped = Instant::now();
    assert!(
        dropped - started < LATENCY,
        "the drop came {:?} after the start, later than the held request would have taken",
        dropped - started
    );

    // Had the request lived on, the emulator would have answered and logged it by now.
    tokio::time::sleep(LATENCY + Duration::from_millis(700)).await;
    let vault_puts: Vec<_> = h
        .emulator
        .admin()
        .requests()
        .into_iter()
        .filter(|e| e.method == "PUT" && e.path.contains("/vaults/e2e-cancel-vault"))
        .collect();
    assert!(
        vault_puts.is_empty(),
        "the abandoned PUT was handled (or retried): {vault_puts:?}"
    );
    let vault = h
        .orchestrator
        .backends()
        .vaults
        .get(
            &"rg-e2e-cancel".parse().expect("rg"),
            &"e2e-cancel-vault".parse().expect("vault"),
            None,
        )
        .await;
    assert!(vault.as_ref().is_err_and(|e| e.is_not_found()), "{vault:?}");

    // A re-run converges from where the dropped one stopped.
    h.emulator
        .admin()
        .set_faults(FaultConfig::default())
        .expect("faults cleared");
    let report = h
        .orchestrator
        .apply(&spec)
        .await
        .expect("the re-run converges");
    assert_eq!(
        report.step(StepId::Vault).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::Create
        }),
        "{report}"
    );
    assert_eq!(
        report.step(StepId::ResourceGroup).map(|s| &s.status),
        Some(&StepStatus::Done {
            action: StepAction::InPlace
        }),
        "the dropped run had created it: {report}"
    );
    assert!(report.encryption.is_some(), "{report}");
    h.clear_log();
    assert_eq!(
        h.orchestrator.apply(&spec).await.expect("again").writes(),
        0
    );
    assert!(h.writes().is_empty(), "{:?}", h.writes());
}
