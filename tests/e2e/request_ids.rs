//! Per-call options end to end: every step's requests carry `aci-cmk/{run}/{step}`, the report
//! holds the emulator's request and correlation ids of each step's writes, and dropping the
//! future of `apply` abandons the request in flight at once (the emulator never handles it)
//! and a re-run converges.

use crate::flows::STANDARD;
use aci_cmk_emulator::{FaultConfig, InFlightRequest};
use aci_cmk_encrypted_deployment::{
    progress::{StepAction, StepId},
    report::StepStatus,
};
use aci_cmk_integration_tests::Harness;
use std::time::Duration;
use tokio::sync::watch;

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

/// The longest the test waits for an event the emulator reports: far beyond what a busy
/// machine takes, so reaching it means the event never comes.
const HANG_GUARD: Duration = Duration::from_secs(300);

/// Whether `request` is a PUT of the cancellation test's vault.
fn is_vault_put(request: &InFlightRequest) -> bool {
    request.method == "PUT" && request.path.contains("/vaults/e2e-cancel-vault")
}

/// Waits until the requests in flight satisfy `done`, panicking after [`HANG_GUARD`].
async fn in_flight_until(
    what: &str,
    in_flight: &mut watch::Receiver<Vec<InFlightRequest>>,
    done: impl FnMut(&Vec<InFlightRequest>) -> bool,
) {
    let reported = tokio::time::timeout(HANG_GUARD, in_flight.wait_for(done)).await;
    match reported {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => panic!("{what}: the emulator stopped"),
        Err(_) => panic!("{what}: not reported within {HANG_GUARD:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_apply_abandons_the_request_in_flight_and_a_rerun_converges() {
    let h = Harness::start().await;
    let spec = h.spec(
        &STANDARD
            .replace("rg-e2e-std", "rg-e2e-cancel")
            .replace("e2e-std-vault", "e2e-cancel-vault"),
    );
    // The emulator holds every vault PUT for the longest latency it takes (a minute): it is
    // not answered while the test looks at it and drops `apply`.
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{
            "service": "arm",
            "method": "PUT",
            "path_contains": "/providers/Microsoft.KeyVault/vaults/e2e-cancel-vault",
            "action": {"type": "latency", "fixed_ms": 60_000}
        }]
    }))
    .expect("a fault configuration");
    h.emulator.admin().set_faults(faults).expect("faults set");

    // Ctrl-C while the emulator holds the vault PUT: the future of `apply` is dropped.
    let mut in_flight = h.emulator.admin().watch_in_flight();
    tokio::select! {
        result = h.orchestrator.apply(&spec) => {
            panic!("apply finished although the vault PUT is held: {result:?}")
        }
        () = in_flight_until("the vault PUT", &mut in_flight, |r| r.iter().any(is_vault_put)) => {}
    }

    // The emulator drops the abandoned request unhandled (had it gone on, it would have been
    // answered and logged before leaving the set).
    in_flight_until("the abandoned vault PUT's end", &mut in_flight, |r| {
        !r.iter().any(is_vault_put)
    })
    .await;
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
