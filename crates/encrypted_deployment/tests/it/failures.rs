//! Recovery of a soft-deleted vault, waiting out replication delay, and a failed step.

use super::*;
use aci_cmk_core::names::{KeyName, ResourceGroupName, VaultName};
use aci_cmk_encrypted_deployment::{
    Error,
    progress::{self, ProgressEvent},
};
use aci_cmk_keyvault::{KeyVaultKeys, KeyVaultManagement};

fn rg() -> ResourceGroupName {
    RG.parse().expect("name")
}

fn vault_name() -> VaultName {
    VAULT.parse().expect("name")
}

#[tokio::test]
async fn a_soft_deleted_vault_is_recovered_not_fought() {
    let azure = azure();
    let spec = spec(Shape::Standard, false);
    let orchestrator = orchestrator(&azure);
    let first = orchestrator.apply(&spec).await.expect("first apply");
    KeyVaultManagement::delete(&azure, &rg(), &vault_name(), None)
        .await
        .expect("soft delete");
    assert!(
        KeyVaultManagement::get(&azure, &rg(), &vault_name(), None)
            .await
            .is_err()
    );
    let name = KeyVaultManagement::check_name_availability(&azure, &vault_name(), None)
        .await
        .expect("check");
    assert!(
        name.name_available,
        "like Azure, the name check does not see the deleted vault"
    );
    azure.clear_writes();

    let plan = orchestrator.plan(&spec).await.expect("plan");
    assert_eq!(
        plan.action(StepId::Vault),
        Some(StepAction::Recover),
        "{plan}"
    );
    let report = orchestrator.apply(&spec).await.expect("apply recovers");
    assert_eq!(done(&report, StepId::Vault), StepAction::Recover);
    assert_eq!(
        done(&report, StepId::Key),
        StepAction::InPlace,
        "the key came back with the vault"
    );
    assert_eq!(report.key_id, first.key_id);
    let writes = azure.writes();
    assert_eq!(
        writes,
        ["vaults.recover"],
        "recovered with its policies, key and group intact"
    );

    azure.clear_writes();
    assert_all_in_place(&orchestrator.apply(&spec).await.expect("converged"));
    assert_eq!(azure.writes(), Vec::<String>::new());
}

/// With principals invisible for a while after creation, the RBAC flows still converge, and the
/// step that waited reports its retries.
async fn replication_delay(shape: Shape) {
    let azure = azure();
    azure.set_replication_delay(Duration::from_millis(120));
    let (sink, mut events) = progress::channel();
    let orchestrator = orchestrator_with(&azure, options().with_progress(sink));
    let spec = spec(shape, true);
    let report = orchestrator
        .apply(&spec)
        .await
        .expect("converges despite the delay");
    let access = report.step(StepId::EncryptionAccess).expect("step");
    assert_eq!(
        access.status,
        StepStatus::Done {
            action: StepAction::Create
        }
    );
    assert!(access.retries > 0, "{report}");
    assert!(access.duration >= Duration::from_millis(100), "{report}");
    assert_eq!(
        report.step(StepId::DeployerAccess).map(|s| s.retries),
        Some(0),
        "the deployer existed already"
    );
    assert_eq!(report.retries(), access.retries);
    let mut retried = 0;
    while let Ok(event) = events.try_recv() {
        if let ProgressEvent::Retried { step, reason, .. } = event {
            assert_eq!(step, StepId::EncryptionAccess);
            assert!(reason.contains("PrincipalNotFound"), "{reason}");
            retried += 1;
        }
    }
    assert_eq!(retried, access.retries);
    assert_eq!(done(&report, StepId::ContainerGroup), StepAction::Create);

    azure.clear_writes();
    assert_all_in_place(&orchestrator.apply(&spec).await.expect("converged"));
}

#[tokio::test]
async fn replication_delay_standard_rbac() {
    replication_delay(Shape::Standard).await;
}

#[tokio::test]
async fn replication_delay_network_protected_rbac() {
    replication_delay(Shape::NetworkProtected).await;
}

#[tokio::test]
async fn a_failed_step_skips_its_dependents_and_the_next_apply_converges() {
    let azure = azure();
    let spec = spec(Shape::Standard, false);
    let orchestrator = orchestrator(&azure);
    azure.fail_once(
        "keys.create_key",
        400,
        "BadParameter",
        "The key size is not supported.",
    );

    let err = orchestrator
        .apply(&spec)
        .await
        .expect_err("the key step fails");
    let Error::StepFailed {
        step,
        source,
        report,
    } = err
    else {
        panic!("expected StepFailed, got {err:?}");
    };
    assert_eq!(step, StepId::Key);
    assert!(source.to_string().contains("BadParameter"), "{source}");
    assert!(
        matches!(&report.step(StepId::Key).expect("key").status, StepStatus::Failed { error } if error.contains("not supported")),
        "{report}"
    );
    assert!(
        matches!(
            report.step(StepId::ContainerGroup).expect("group").status,
            StepStatus::Skipped { .. }
        ),
        "{report}"
    );
    for independent in [
        StepId::ResourceGroup,
        StepId::ServicePrincipal,
        StepId::Vault,
        StepId::DeployerAccess,
        StepId::EncryptionAccess,
    ] {
        assert!(
            matches!(
                report.step(independent).expect("step").status,
                StepStatus::Done { .. }
            ),
            "{independent}: {report}"
        );
    }
    assert_eq!(report.key_id, None);
    assert!(report.vault_id.is_some());
    assert_eq!(azure.group_count(), 0);

    let second = orchestrator
        .apply(&spec)
        .await
        .expect("the second apply converges");
    assert_eq!(done(&second, StepId::Key), StepAction::Create);
    assert_eq!(done(&second, StepId::ContainerGroup), StepAction::Create);
    for in_place in [
        StepId::ResourceGroup,
        StepId::ServicePrincipal,
        StepId::Vault,
        StepId::DeployerAccess,
        StepId::EncryptionAccess,
    ] {
        assert_eq!(done(&second, in_place), StepAction::InPlace);
    }
    let url = second.vault_uri.clone().expect("uri");
    grant_deployer(&azure, &[aci_cmk_keyvault::models::KeyPermission::List]).await;
    let versions =
        KeyVaultKeys::list_key_versions(&azure, &url, &KEY.parse::<KeyName>().expect("name"), None)
            .await
            .expect("versions");
    assert_eq!(versions.len(), 1, "one key version, not two");

    azure.clear_writes();
    assert_all_in_place(&orchestrator.apply(&spec).await.expect("converged"));
    assert_eq!(azure.writes(), Vec::<String>::new());
}

#[tokio::test]
async fn a_fresh_role_assignment_is_waited_for_on_the_data_plane() {
    let azure = azure();
    azure.set_rbac_delay(Duration::from_millis(120));
    let spec = spec(Shape::Standard, true);
    let orchestrator = orchestrator(&azure);
    let report = orchestrator
        .apply(&spec)
        .await
        .expect("converges once RBAC has caught up");
    let key = report.step(StepId::Key).expect("key");
    assert_eq!(
        key.status,
        StepStatus::Done {
            action: StepAction::Create
        }
    );
    assert!(
        key.retries > 0,
        "the key step waited out ForbiddenByRbac: {report}"
    );
    assert_eq!(done(&report, StepId::ContainerGroup), StepAction::Create);

    // RBAC has caught up (the delay is over): a re-apply finds everything in place.
    azure.set_rbac_delay(Duration::ZERO);
    azure.clear_writes();
    assert_all_in_place(&orchestrator.apply(&spec).await.expect("converged"));
}
