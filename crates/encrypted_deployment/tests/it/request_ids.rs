//! The client request id of each step (`aci-cmk/{run}/{step}`) and the ids of each step's
//! writes in the report, against the in-memory Azure, which keeps the client request id of
//! every write and answers request ids `memory-{n}`.

use crate::{Shape, azure, done, orchestrator, spec};
use aci_cmk_encrypted_deployment::{
    Error,
    progress::{StepAction, StepId},
    report::StepStatus,
};

/// The step each write of the in-memory Azure belongs to.
fn step_of(write: &str) -> Option<&'static str> {
    Some(match write {
        "resource_groups.create_or_update" => "resource_group",
        "directory.create_service_principal" => "service_principal",
        "vaults.create_or_update" => "vault",
        "keys.create_key" => "key",
        "identities.create_or_update" => "identity",
        "vaults.update_network_rules" => "firewall",
        "container_groups.create_or_update" => "container_group",
        _ => return None,
    })
}

#[tokio::test]
async fn every_write_carries_its_steps_client_request_id_and_the_report_its_ids() {
    for shape in [Shape::Standard, Shape::NetworkProtected] {
        let azure = azure();
        let orchestrator = orchestrator(&azure);
        let spec = spec(shape, false);
        let report = orchestrator.apply(&spec).await.expect("applied");
        let run = report.run_id.clone();
        assert_eq!(run.len(), 12, "{report}");

        let writes = azure.writes_with_request_ids();
        assert!(!writes.is_empty());
        for (write, id) in &writes {
            let id = id.as_deref().unwrap_or_else(|| panic!("{write} had no id"));
            let prefix = format!("aci-cmk/{run}/");
            let step = id
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{write}: {id}"));
            match step_of(write) {
                Some(expected) => assert_eq!(step, expected, "{write}"),
                // Access policies: the deployer's or ACI's.
                None => assert!(
                    ["deployer_access", "encryption_access"].contains(&step),
                    "{write}: {id}"
                ),
            }
        }

        for outcome in &report.steps {
            let wrote = matches!(outcome.status, StepStatus::Done { action } if action.writes());
            if matches!(outcome.status, StepStatus::NotApplicable) {
                assert_eq!(outcome.client_request_id, None);
                continue;
            }
            assert_eq!(
                outcome.client_request_id.as_deref(),
                Some(format!("aci-cmk/{run}/{}", outcome.step.as_str()).as_str())
            );
            assert_eq!(
                !outcome.write_ids.is_empty(),
                wrote,
                "{}: {:?}",
                outcome.step,
                outcome.write_ids
            );
            for ids in &outcome.write_ids {
                assert!(ids.is_write());
                assert_eq!(ids.client_request_id, outcome.client_request_id);
                assert!(
                    ids.request_id
                        .as_deref()
                        .is_some_and(|r| r.starts_with("memory-"))
                );
                assert!(ids.correlation_id.is_some());
            }
        }
        let vault = report.step(StepId::Vault).expect("vault");
        let shown = vault.last_write_id().expect("the vault was created");
        let line = report
            .to_string()
            .lines()
            .find(|l| l.starts_with("key vault"))
            .map(str::to_owned)
            .unwrap_or_default();
        assert!(line.ends_with(shown), "{report}");
        assert!(report.to_string().starts_with(&format!("run {run} ")));

        // A converged state: reads only, so no step reports a write; a new run id.
        let again = orchestrator.apply(&spec).await.expect("converged");
        assert_ne!(again.run_id, run);
        assert!(
            again.steps.iter().all(|s| s.write_ids.is_empty()),
            "{again}"
        );
    }
}

#[tokio::test]
async fn a_refused_write_is_in_the_failed_steps_report() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    azure.fail_once(
        "container_groups.create_or_update",
        409,
        "Conflict",
        "Another operation is in progress.",
    );
    let err = orchestrator
        .apply(&spec(Shape::Standard, false))
        .await
        .expect_err("the group step fails");
    let Error::StepFailed { step, report, .. } = err else {
        panic!("expected StepFailed, got {err:?}");
    };
    assert_eq!(step, StepId::ContainerGroup);
    let group = report.step(StepId::ContainerGroup).expect("reported");
    assert!(matches!(group.status, StepStatus::Failed { .. }));
    assert_eq!(group.write_ids.len(), 1, "{report}");
    assert_eq!(group.write_ids[0].status, 409);
    assert!(group.last_write_id().is_some());
    assert_eq!(done(&report, StepId::Vault), StepAction::Create);
}

#[tokio::test]
async fn fleet_groups_rotate_and_destroy_carry_the_ids_of_their_own_run() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let first = spec(Shape::Standard, false);
    let mut second_json = crate::spec_json(Shape::Standard, false, serde_json::json!({}));
    second_json["container_group"]["name"] = "hello-2".into();
    let second = crate::spec_from(&second_json);
    let second = second
        .workload
        .container_group()
        .cloned()
        .expect("a container group");
    let fleet = orchestrator
        .apply_many(&first, &[second], Default::default())
        .await
        .expect("fleet");
    let run = &fleet.shared.run_id;
    let group = &fleet.groups[0];
    assert_eq!(
        group.client_request_id,
        format!("aci-cmk/{run}/container_group/hello-2")
    );
    assert_eq!(group.write_ids.len(), 1, "{group:?}");
    assert!(
        azure
            .writes_with_request_ids()
            .iter()
            .any(|(_, id)| id.as_deref() == Some(group.client_request_id.as_str()))
    );

    azure.clear_writes();
    let rotated = orchestrator
        .rotate(&first, Default::default())
        .await
        .expect("rotated");
    assert_eq!(rotated.run_id.len(), 12);
    let ids: Vec<String> = azure
        .writes_with_request_ids()
        .into_iter()
        .map(|(w, id)| format!("{w} {}", id.unwrap_or_default()))
        .collect();
    let r = &rotated.run_id;
    assert_eq!(
        ids,
        [
            format!("keys.create_key aci-cmk/{r}/rotate/key"),
            format!("container_groups.delete aci-cmk/{r}/rotate/container_group"),
            format!("container_groups.create_or_update aci-cmk/{r}/rotate/container_group"),
        ]
    );
    assert_eq!(rotated.write_ids.len(), 3);

    let destroyed = orchestrator
        .destroy(&first, Default::default())
        .await
        .expect("destroyed");
    assert!(!destroyed.write_ids.is_empty());
    assert!(destroyed.write_ids.iter().all(|w| {
        w.client_request_id
            .as_deref()
            .is_some_and(|id| id.starts_with(&format!("aci-cmk/{}/destroy/", destroyed.run_id)))
    }));
}
