//! The architecture invariant "plan shows exactly what apply does": for every flow ×
//! authorization mode × starting state, the steps `apply` runs, what each does, and the order
//! they run in are what `plan` said just before.

use crate::{Shape, azure, memory::MemoryAzure, options, orchestrator_with, spec_from, spec_json};
use aci_cmk_core::names::{ContainerGroupName, ResourceGroupName, VaultName};
use aci_cmk_encrypted_deployment::{
    progress::{self, ProgressEvent, StepAction, StepId},
    report::StepStatus,
    spec::DeploymentSpec,
};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultManagement,
    keys::CreateKeyOptions,
    models::{AccessPolicyEntry, AccessPolicyUpdateKind, KeyPermission, NetworkRuleSet},
};
use serde_json::json;

/// Where a run starts from.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// Nothing exists.
    Empty,
    /// Everything is as the spec says.
    Converged,
    /// The vault was deleted (soft delete keeps it recoverable); the group stays.
    VaultSoftDeleted,
    /// The deployer lost its key access, so the survey cannot read the key.
    DeployerAccessRemoved,
    /// ACI's principal lost get + unwrapKey.
    EncryptionAccessRemoved,
    /// A newer key version exists: the group moves onto it.
    KeyRotatedOutside,
    /// The container group was deleted.
    GroupDeleted,
    /// The vault firewall was opened to all networks.
    FirewallOpened,
}

const STARTS: [Start; 8] = [
    Start::Empty,
    Start::Converged,
    Start::VaultSoftDeleted,
    Start::DeployerAccessRemoved,
    Start::EncryptionAccessRemoved,
    Start::KeyRotatedOutside,
    Start::GroupDeleted,
    Start::FirewallOpened,
];

fn rg() -> ResourceGroupName {
    crate::RG.parse().expect("name")
}

fn vault_name() -> VaultName {
    crate::VAULT.parse().expect("name")
}

/// Brings `azure` (where `spec` was applied once) to `start`.
async fn arrange(azure: &MemoryAzure, spec: &DeploymentSpec, start: Start, rbac: bool) {
    let vault = || async {
        KeyVaultManagement::get(azure, &rg(), &vault_name(), None)
            .await
            .expect("vault")
    };
    match start {
        Start::Empty | Start::Converged => {}
        Start::VaultSoftDeleted => KeyVaultManagement::delete(azure, &rg(), &vault_name(), None)
            .await
            .expect("soft delete"),
        Start::DeployerAccessRemoved => {
            let v = vault().await;
            if rbac {
                remove_roles(azure, &v.id, &crate::deployer()).await;
            } else {
                remove_policy(azure, &v, crate::deployer()).await;
            }
        }
        Start::EncryptionAccessRemoved => {
            let v = vault().await;
            let principal = encryption_principal(azure, spec).await;
            if rbac {
                remove_roles(azure, &v.id, &principal).await;
            } else {
                remove_policy(azure, &v, principal).await;
            }
        }
        Start::KeyRotatedOutside => {
            let url = vault().await.properties.vault_uri.expect("uri");
            KeyVaultKeys::create_key(
                azure,
                &url,
                spec.key.name(),
                CreateKeyOptions::new(Default::default(), Default::default()),
                None,
            )
            .await
            .expect("new version");
        }
        Start::GroupDeleted => {
            let name: ContainerGroupName = crate::GROUP.parse().expect("name");
            aci_cmk_aci::ContainerGroups::delete(azure, &rg(), &name, None)
                .await
                .expect("delete group");
        }
        Start::FirewallOpened => {
            KeyVaultManagement::update_network_rules(
                azure,
                &rg(),
                &vault_name(),
                &NetworkRuleSet::allow_all(),
                None,
            )
            .await
            .expect("open the firewall");
        }
    }
}

/// Whoever ACI acts as in `spec`'s flow.
async fn encryption_principal(
    azure: &MemoryAzure,
    spec: &DeploymentSpec,
) -> aci_cmk_core::names::PrincipalId {
    match &spec.flow {
        aci_cmk_encrypted_deployment::spec::Flow::NetworkProtected { identity_name } => {
            aci_cmk_identity::ManagedIdentities::get(azure, &rg(), identity_name, None)
                .await
                .expect("identity")
                .principal_id
        }
        _ => {
            let app = aci_cmk_identity::ACI_FIRST_PARTY_APP_ID
                .parse()
                .expect("app id");
            aci_cmk_identity::Directory::get_service_principal_by_app_id(azure, &app, None)
                .await
                .expect("read")
                .expect("the ACI service principal")
                .id
        }
    }
}

async fn remove_policy(
    azure: &MemoryAzure,
    vault: &aci_cmk_keyvault::models::Vault,
    principal: aci_cmk_core::names::PrincipalId,
) {
    KeyVaultManagement::update_access_policy(
        azure,
        &rg(),
        &vault_name(),
        AccessPolicyUpdateKind::Remove,
        &[AccessPolicyEntry::for_keys(
            vault.properties.tenant_id.clone(),
            principal,
            [
                KeyPermission::Get,
                KeyPermission::Create,
                KeyPermission::UnwrapKey,
            ],
        )],
        None,
    )
    .await
    .expect("remove the policy");
}

async fn remove_roles(
    azure: &MemoryAzure,
    scope: &aci_cmk_core::resource_id::ResourceId,
    principal: &aci_cmk_core::names::PrincipalId,
) {
    use aci_cmk_identity::RoleAssignments;
    for a in RoleAssignments::list_for_principal(azure, scope, principal, None)
        .await
        .expect("list")
    {
        RoleAssignments::delete(azure, scope, &a.name, None)
            .await
            .expect("delete the assignment");
    }
}

/// Plans, then applies, from `start`, and checks that apply did what the plan said.
async fn plan_then_apply(shape: Shape, rbac: bool, lifecycle: bool, start: Start) {
    let azure = azure();
    let mut json = spec_json(
        shape,
        rbac,
        json!({"allow": {"recreate_container_group": true}}),
    );
    if lifecycle {
        json["key"]["create"]["lifecycle"] =
            json!({"rotate_after": "P90D", "expires_after": "P1Y", "follow": "latest"});
    }
    let spec = spec_from(&json);
    if !matches!(start, Start::Empty) {
        orchestrator_with(&azure, options())
            .apply(&spec)
            .await
            .expect("the first apply");
        arrange(&azure, &spec, start, rbac).await;
    }
    let case = format!("{shape:?}, rbac {rbac}, lifecycle {lifecycle}, from {start:?}");
    let (sink, mut events) = progress::channel();
    let orchestrator = orchestrator_with(&azure, options().with_progress(sink));
    let plan = orchestrator.plan(&spec).await.expect("plan");
    let report = orchestrator
        .apply(&spec)
        .await
        .unwrap_or_else(|e| panic!("{case}: apply failed: {e}\n{plan}"));

    // The same steps, each doing what the plan said.
    for planned in &plan.steps {
        let outcome = report.step(planned.step).expect("every step is reported");
        match (&planned.action, &outcome.status) {
            (None, StepStatus::NotApplicable) => {}
            (Some(_), StepStatus::Done { action }) => assert!(
                plan.admits(planned.step, *action),
                "{case}: {} planned {:?} (or {:?} if found), done {action:?}\n{plan}\n{report}",
                planned.step,
                planned.action,
                planned.if_found
            ),
            (planned_action, status) => panic!(
                "{case}: {} planned {planned_action:?}, ended {status:?}\n{plan}\n{report}",
                planned.step
            ),
        }
    }
    // Each step started only after every step the plan says it needs was done.
    let mut log = Vec::new();
    while let Ok(event) = events.try_recv() {
        log.push(event);
    }
    let position = |wanted: &dyn Fn(&ProgressEvent) -> bool| log.iter().position(wanted);
    for planned in plan.steps.iter().filter(|s| s.action.is_some()) {
        let step = planned.step;
        let started = position(&|e| matches!(e, ProgressEvent::Started { step: s } if *s == step))
            .unwrap_or_else(|| panic!("{case}: {step} never started: {log:?}"));
        for need in &planned.needs {
            let done = position(&|e| matches!(e, ProgressEvent::Done { step: s, .. } if s == need))
                .unwrap_or_else(|| panic!("{case}: {need} never finished: {log:?}"));
            assert!(
                done < started,
                "{case}: {step} started before {need} was done: {log:?}"
            );
        }
    }
    // A converged start writes nothing, and the plan said so.
    if matches!(start, Start::Converged) {
        assert!(plan.is_converged(), "{case}\n{plan}");
        assert_eq!(report.writes(), 0, "{case}\n{report}");
    }
    // After the run, the plan shows nothing more to do.
    let after = orchestrator.plan(&spec).await.expect("plan after");
    assert!(
        after.is_converged(),
        "{case}: not converged after apply\n{after}"
    );
}

#[tokio::test]
async fn plan_shows_exactly_what_apply_does_in_every_flow_mode_and_starting_state() {
    for shape in [Shape::Standard, Shape::NetworkProtected] {
        for rbac in [false, true] {
            for lifecycle in [false, true] {
                for start in STARTS {
                    if matches!(start, Start::FirewallOpened) && matches!(shape, Shape::Standard) {
                        continue; // The standard flow keeps the vault open.
                    }
                    plan_then_apply(shape, rbac, lifecycle, start).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_plan_says_which_steps_depend_on_a_read_the_survey_could_not_make() {
    let azure = azure();
    let spec = spec_from(&spec_json(Shape::Standard, false, json!({})));
    let orchestrator = orchestrator_with(&azure, options());
    orchestrator.apply(&spec).await.expect("apply");
    arrange(&azure, &spec, Start::DeployerAccessRemoved, false).await;
    let plan = orchestrator.plan(&spec).await.expect("plan");
    let key = plan
        .steps
        .iter()
        .find(|s| s.step == StepId::Key)
        .expect("key step");
    assert_eq!(key.action, Some(StepAction::Create), "{plan}");
    assert_eq!(key.if_found, Some(StepAction::InPlace), "{plan}");
    assert!(
        plan.to_string().contains("(or in place if found)"),
        "{plan}"
    );
    let report = orchestrator.apply(&spec).await.expect("apply");
    assert_eq!(
        crate::done(&report, StepId::Key),
        StepAction::InPlace,
        "{report}"
    );
}
