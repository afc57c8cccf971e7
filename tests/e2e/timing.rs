//! The SDK under the emulator's timing profiles: apply, rotate, a fleet and destroy converge
//! under `azure` (the states and durations of live Azure) with the emulator's clock driven 100
//! times faster than real time, and under `instant`. (`fast`, the default, is every other test.)

use crate::flows::{PROTECTED, STANDARD, rbac};
use aci_cmk_emulator::TimingProfile;
use aci_cmk_encrypted_deployment::{
    DestroyOptions, FleetOptions, OrchestratorOptions, RotateOptions, propagation::PropagationRetry,
};
use aci_cmk_integration_tests::Harness;
use std::time::{Duration, Instant};

/// Applies, re-applies (no writes), rotates, deploys a small fleet and destroys `text`.
async fn full_lifecycle(h: &Harness, text: &str) {
    let spec = h.spec(text);
    h.orchestrator.apply(&spec).await.expect("apply");
    h.clear_log();
    let again = h.orchestrator.apply(&spec).await.expect("re-apply");
    assert_eq!(again.writes(), 0, "{again}");
    h.orchestrator
        .rotate(&spec, RotateOptions::default())
        .await
        .expect("rotate");
    let fleet: Vec<_> = (0..3)
        .map(|i| h.spec(&text.replace("name = \"hello-", &format!("name = \"fleet{i}-"))))
        .collect();
    let (shared, groups) = crate::fleet_of(&fleet);
    let report = h
        .orchestrator
        .apply_many(shared, &groups, FleetOptions::default().with_concurrency(3))
        .await
        .expect("the fleet deploys");
    assert_eq!(report.failed(), 0, "{:?}", report.groups);
    h.orchestrator
        .destroy(&spec, DestroyOptions::default())
        .await
        .expect("destroy");
}

fn options() -> OrchestratorOptions {
    // Replication takes two emulator minutes under `azure`: about 1.2 s of real time here.
    OrchestratorOptions::default().with_propagation(PropagationRetry::new(
        Duration::from_millis(20),
        Duration::from_millis(100),
        Duration::from_secs(120),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_converges_under_the_azure_profile() {
    let h = Harness::start_driven(TimingProfile::Azure, 100, options()).await;
    let started_wall = Instant::now();
    let started = h.emulator.admin().now();
    for text in [STANDARD.to_owned(), PROTECTED.to_owned(), rbac(STANDARD)] {
        full_lifecycle(&h, &text).await;
    }
    let emulated = h.emulator.admin().now() - started;
    // For the record (the closing note quotes it): emulator time against wall time.
    println!(
        "azure profile: three full lifecycles took {:.0} s of emulator time in {:.1} s of wall time",
        emulated.as_seconds_f64(),
        started_wall.elapsed().as_secs_f64()
    );
    assert!(
        emulated.as_seconds_f64() > 60.0,
        "the azure profile's durations were waited for"
    );
}

#[tokio::test]
async fn every_flow_converges_under_the_instant_profile() {
    let h = Harness::start_driven(TimingProfile::Instant, 1, options()).await;
    for text in [STANDARD.to_owned(), PROTECTED.to_owned()] {
        full_lifecycle(&h, &text).await;
    }
}
