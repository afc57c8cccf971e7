//! What a remediation does not do unasked: a dry run (the default) writes nothing — the
//! emulator's request log shows reads only — yet says what it would write; disruptive steps
//! are skipped without `allow_disruptive`; a group whose secure values Azure does not return
//! is not re-created without its spec.

use crate::{Env, remediation::audit};
use aci_cmk_emulator::LogEntry;
use aci_cmk_posture::{
    FindingKind, RemediateOptions, RemediationOptions, Remediator,
    remediation::{CmkTarget, Disruption, Outcome, SkipReason},
    remediation_plan,
    seed::{Messy, SECURE_CANARY, VaultSetup, target_spec},
};

/// The requests that could change state (the token endpoint's POSTs and a vault name's
/// availability check, which the orchestrator's survey of the target makes, change nothing).
fn writes(log: &[LogEntry]) -> Vec<String> {
    log.iter()
        .filter(|e| e.service != "token" && e.method != "GET" && e.method != "HEAD")
        .filter(|e| !e.path.ends_with("/checkNameAvailability"))
        .map(|e| format!("{} {} {}", e.service, e.method, e.path))
        .collect()
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_it_would_write() {
    let env = Env::start().await;
    let admin = env.emulator.admin();
    let mut messy = Messy::build(&env.backends, admin).await.expect("seeded");
    messy.remove_aci_principal(admin).expect("removed");
    let before = audit(&env, Some(&messy)).await;
    let sub = messy.group_specs[0].0.subscription_id().to_string();
    let mut options = RemediationOptions::default().with_cmk_target(CmkTarget::Deploy(Box::new(
        target_spec(&sub).expect("target spec"),
    )));
    for (id, spec) in &messy.group_specs {
        options = options.with_group_spec(id, spec.clone());
    }
    let plan = remediation_plan(&before, &options);
    assert!(!plan.is_empty());

    admin.clear_requests();
    let generation = *admin.watch_writes().borrow();
    // The default is a dry run, disruptive steps included when allowed.
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default()
                .with_disruptive(true)
                .with_clock(env.options().clock),
        )
        .await;
    println!("{report}");
    assert!(report.dry_run);
    let log = admin.requests();
    assert!(!log.is_empty(), "the steps read what they decide on");
    assert_eq!(writes(&log), Vec::<String>::new());
    assert_eq!(
        *admin.watch_writes().borrow(),
        generation,
        "the store is unchanged"
    );
    assert_eq!(report.failed().count(), 0, "{report}");
    for step in &report.steps {
        match &step.outcome {
            Outcome::WouldDo => assert!(!step.actions.is_empty(), "{}", step.id),
            Outcome::Skipped {
                reason: SkipReason::Refused(_),
            } => {}
            other => panic!("{}: {other}", step.id),
        }
    }
    // Nothing changed: the same findings.
    let after = audit(&env, Some(&messy)).await;
    let fingerprints = |r: &aci_cmk_posture::AuditReport| {
        let mut f: Vec<String> = r.findings.iter().map(|f| f.fingerprint.clone()).collect();
        f.sort();
        f
    };
    assert_eq!(fingerprints(&after), fingerprints(&before));
}

#[tokio::test]
async fn disruptive_steps_are_skipped_unless_allowed() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-gate").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let vault = m
        .vault(&rg, "kv-gate", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    m.grant(&vault, &aci).await.expect("seeded");
    let v1 = m.clean_key(&vault, "cmk").await.expect("seeded");
    m.group(&rg, "g-gate", Some(&v1), None, &[])
        .await
        .expect("seeded");
    m.clean_key(&vault, "cmk").await.expect("seeded");
    let before = audit(&env, None).await;
    assert_eq!(before.of_kind(FindingKind::StaleKeyVersion).count(), 1);
    let plan = remediation_plan(&before, &RemediationOptions::default());
    let step = plan
        .fixing(FindingKind::StaleKeyVersion)
        .next()
        .expect("a step");
    assert_eq!(step.disruption, Disruption::Disruptive);

    env.emulator.admin().clear_requests();
    let report = Remediator::new(env.backends.clone())
        .remediate(&plan, RemediateOptions::default().applying())
        .await;
    assert_eq!(
        report.step(&step.id).map(|s| s.outcome.clone()),
        Some(Outcome::Skipped {
            reason: SkipReason::DisruptiveNotAllowed
        })
    );
    let touched: Vec<String> = writes(&env.emulator.admin().requests())
        .into_iter()
        .filter(|w| w.contains("containerGroups"))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    assert_eq!(
        audit(&env, None)
            .await
            .of_kind(FindingKind::StaleKeyVersion)
            .count(),
        1
    );

    // Allowed, the group moves.
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default()
                .applying()
                .with_disruptive(true)
                .with_concurrency(1),
        )
        .await;
    assert_eq!(
        report.step(&step.id).map(|s| s.outcome.clone()),
        Some(Outcome::Done),
        "{report}"
    );
    assert_eq!(
        audit(&env, None)
            .await
            .of_kind(FindingKind::StaleKeyVersion)
            .count(),
        0
    );
}

#[tokio::test]
async fn a_group_with_secure_values_is_not_re_created_without_its_spec() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-secure").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let vault = m
        .vault(&rg, "kv-secure", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    m.grant(&vault, &aci).await.expect("seeded");
    let v1 = m.clean_key(&vault, "cmk").await.expect("seeded");
    let env_vars = [
        ("DB_PASSWORD", SECURE_CANARY, true),
        ("LOG_LEVEL", "info", false),
    ];
    let id = m
        .group(&rg, "g-secure", Some(&v1), None, &env_vars)
        .await
        .expect("seeded");
    m.clean_key(&vault, "cmk").await.expect("seeded");
    let before = audit(&env, None).await;
    let plan = remediation_plan(&before, &RemediationOptions::default());
    let step = plan
        .fixing(FindingKind::StaleKeyVersion)
        .next()
        .expect("a step")
        .id
        .clone();
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default().applying().with_disruptive(true),
        )
        .await;
    let outcome = report.step(&step).map(|s| s.outcome.clone());
    assert!(
        matches!(&outcome, Some(Outcome::Skipped { reason: SkipReason::Refused(why) }) if why.contains("DB_PASSWORD") && why.contains("secure")),
        "{outcome:?}"
    );
    // Still there, on its version, with its secure value.
    let group = env
        .backends
        .container_groups
        .get(&rg, &"g-secure".parse().expect("name"), None)
        .await
        .expect("read");
    assert_eq!(
        group
            .properties
            .encryption_properties
            .map(|e| e.key_version),
        Some(v1.version.to_string())
    );

    // Given its spec, it is re-created with the secure value.
    let spec = aci_cmk_posture::seed::Builder::group_spec("g-secure", &env_vars).expect("spec");
    let plan = remediation_plan(
        &before,
        &RemediationOptions::default().with_group_spec(&id, spec),
    );
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default().applying().with_disruptive(true),
        )
        .await;
    assert_eq!(
        report.step(&step).map(|s| s.outcome.clone()),
        Some(Outcome::Done),
        "{report}"
    );
    let text = format!("{report}{}", report.to_json().expect("json"));
    assert!(!text.contains(SECURE_CANARY));
    let after = audit(&env, None).await;
    assert_eq!(after.of_kind(FindingKind::StaleKeyVersion).count(), 0);
    assert_eq!(
        after
            .of_kind(FindingKind::PlainSecretEnvironmentValue)
            .count(),
        0
    );
}
