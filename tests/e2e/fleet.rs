//! apply_many: many groups on one vault and key, under the emulator's ARM write throttling.

use crate::flows::STANDARD;
use aci_cmk_emulator::FaultConfig;
use aci_cmk_encrypted_deployment::FleetOptions;
use aci_cmk_integration_tests::Harness;

#[tokio::test]
async fn a_fleet_deploys_once_each_under_a_write_token_bucket() {
    let h = Harness::start().await;
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "aci_provisioning_ms": 0,
        "rules": [{"service": "arm", "writes_only": true, "action": {"type": "token_bucket", "capacity": 5, "refill_per_sec": 20.0, "retry_after_secs": 1}}]
    }))
    .expect("faults");
    h.emulator.admin().set_faults(faults).expect("faults");
    let specs: Vec<_> = (0..24)
        .map(|i| {
            h.spec(&STANDARD.replace("name = \"hello-std\"", &format!("name = \"fleet-{i:03}\"")))
        })
        .collect();
    let (shared, groups) = crate::fleet_of(&specs);
    let report = h
        .orchestrator
        .apply_many(shared, &groups, FleetOptions::default().with_concurrency(8))
        .await
        .expect("the fleet deploys");
    assert_eq!(
        report.failed(),
        0,
        "{:?}",
        report
            .groups
            .iter()
            .filter(|g| g.error.is_some())
            .collect::<Vec<_>>()
    );
    assert_eq!(report.groups.len(), 23);
    let listed = h
        .orchestrator
        .backends()
        .container_groups
        .list_by_resource_group(&"rg-e2e-std".parse().expect("rg"), None)
        .await
        .expect("list");
    assert_eq!(listed.len(), 24, "one group per spec, no duplicates");
    // Once more: nothing to create.
    let again = h
        .orchestrator
        .apply_many(shared, &groups, FleetOptions::default())
        .await
        .expect("again");
    assert_eq!(again.written(), 0, "{:?}", again.groups);
    assert_eq!(again.failed(), 0, "{:?}", again.groups);
}
