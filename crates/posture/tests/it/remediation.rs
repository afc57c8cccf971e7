//! Each remediation kind, from finding to no finding: the messy subscription fixed in place and
//! then by re-creating groups, audited before and after (every finding a succeeded step fixes
//! is gone; a plan of the last audit has nothing left to do); a group moved under an existing
//! key; a plain secret moved into a secure value from the group's spec.

use crate::Env;
use aci_cmk_core::{key_id::KeyId, resource_id::ResourceId};
use aci_cmk_posture::{
    AuditReport, AuditScope, Auditor, FindingKind, RemediateOptions, RemediationOptions,
    Remediator,
    remediation::CmkTarget,
    remediation::Outcome,
    remediation::Unfixed,
    remediation_plan,
    seed::{Messy, target_spec},
};
use std::collections::{BTreeMap, BTreeSet};

pub async fn audit(env: &Env, messy: Option<&Messy>) -> AuditReport {
    let specs = messy.map(|m| m.specs.clone()).unwrap_or_default();
    Auditor::new(
        env.backends.clone(),
        env.options().with_min_rsa_key_bits(3072),
    )
    .audit(&AuditScope::subscription().with_specs(specs))
    .await
    .expect("audited")
}

fn fingerprints(report: &AuditReport) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .map(|f| f.fingerprint.clone())
        .collect()
}

fn counts(report: &AuditReport) -> BTreeMap<FindingKind, usize> {
    report.count_by_kind()
}

#[tokio::test]
async fn the_messy_subscription_is_fixed_in_place_then_by_re_creating_groups() {
    let env = Env::start().await;
    let admin = env.emulator.admin();
    let mut messy = Messy::build(&env.backends, admin).await.expect("seeded");
    messy.remove_aci_principal(admin).expect("removed");
    let before = audit(&env, Some(&messy)).await;
    let kinds: BTreeSet<FindingKind> = before.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds.len(), FindingKind::ALL.len(), "{before}");

    let sub = messy.group_specs[0].0.subscription_id().to_string();
    let mut options = RemediationOptions::default().with_cmk_target(CmkTarget::Deploy(Box::new(
        target_spec(&sub).expect("target spec"),
    )));
    for (id, spec) in &messy.group_specs {
        options = options.with_group_spec(id, spec.clone());
    }
    let plan = remediation_plan(&before, &options);
    println!("{plan}");
    let remediator = Remediator::new(env.backends.clone());
    let clock = env.options().clock;
    admin.clear_requests();

    // In place only: the disruptive steps are skipped, the in-place ones all succeed.
    let in_place = remediator
        .remediate(
            &plan,
            RemediateOptions::default()
                .applying()
                .with_clock(clock.clone()),
        )
        .await;
    println!("{in_place}");
    assert_eq!(in_place.failed().count(), 0, "{in_place}");
    for step in &in_place.steps {
        let want_done = step.disruption == aci_cmk_posture::remediation::Disruption::InPlace;
        assert_eq!(
            step.outcome.succeeded(),
            want_done,
            "{}: {}",
            step.id,
            step.outcome
        );
    }
    let middle = audit(&env, Some(&messy)).await;
    let left = fingerprints(&middle);
    for step in in_place.steps.iter().filter(|s| s.outcome.succeeded()) {
        for fixed in &step.fixes {
            assert!(
                !left.contains(&fixed.fingerprint),
                "{} did not fix {:?}\n{middle}",
                step.id,
                fixed
            );
        }
    }

    // Then the disruptive ones too (the in-place ones are already done).
    let all = remediator
        .remediate(
            &plan,
            RemediateOptions::default()
                .applying()
                .with_disruptive(true)
                .with_clock(clock),
        )
        .await;
    println!("{all}");
    assert_eq!(all.failed().count(), 0, "{all}");
    assert!(all.steps.iter().all(|s| s.outcome.succeeded()), "{all}");
    for step in all
        .steps
        .iter()
        .filter(|s| s.disruption == aci_cmk_posture::remediation::Disruption::InPlace)
    {
        assert_eq!(step.outcome, Outcome::AlreadyDone, "{}", step.id);
    }
    // Nothing was purged, no vault deleted: the only deletes are the re-created groups'.
    for e in admin.requests() {
        let path = e.path.to_ascii_lowercase();
        assert!(!path.contains("purge"), "{} {}", e.method, e.path);
        if e.method == "DELETE" {
            assert!(
                path.contains("/containergroups/"),
                "{} {}",
                e.method,
                e.path
            );
        }
    }
    let after = audit(&env, Some(&messy)).await;
    println!("{after}");
    let left = fingerprints(&after);
    for step in &plan.steps {
        for fixed in &step.fixes {
            assert!(
                !left.contains(&fixed.fingerprint),
                "{} left {fixed:?}",
                step.id
            );
        }
    }
    // Every kind a step fixed is gone altogether, but for findings the plan left.
    let remediated = plan.remediable_kinds();
    let unplanned: BTreeSet<&str> = plan
        .unplanned
        .iter()
        .map(|u| u.finding.fingerprint.as_str())
        .collect();
    for f in &after.findings {
        assert!(
            !remediated.contains(&f.kind) || unplanned.contains(f.fingerprint.as_str()),
            "{:?} on {} is left\n{after}",
            f.kind,
            f.resource_id
        );
    }
    // Nothing more to do automatically.
    let again = remediation_plan(&after, &options);
    assert!(again.is_empty(), "{again}");
    println!(
        "found → remaining: {:?} → {:?}",
        counts(&before),
        counts(&after)
    );
    // The findings without an automatic fix are reported as such.
    let no_fix = |kind: FindingKind| {
        plan.unplanned
            .iter()
            .any(|u| u.finding.kind == kind && matches!(u.why, Unfixed::NoAutomaticFix(_)))
    };
    assert!(no_fix(FindingKind::EncryptionIdentityBroken));
    assert!(no_fix(FindingKind::VaultMissing));
    assert!(no_fix(FindingKind::PlainSecretEnvironmentValue));
}

#[tokio::test]
async fn a_group_without_cmk_moves_under_an_existing_key_keeping_its_containers() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-move").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let vault = m
        .vault(
            &rg,
            "kv-move",
            aci_cmk_posture::seed::VaultSetup::new(false, true, false),
        )
        .await
        .expect("seeded");
    m.grant(&vault, &aci).await.expect("seeded");
    let key = m.clean_key(&vault, "cmk").await.expect("seeded");
    let group = m
        .group(
            &rg,
            "g-plain",
            None,
            None,
            &[("LOG_LEVEL", "debug", false), ("MODE", "batch", false)],
        )
        .await
        .expect("seeded");
    let before = audit(&env, None).await;
    assert_eq!(before.of_kind(FindingKind::GroupWithoutCmk).count(), 1);

    // Without a target the plan says what it needs.
    let plan = remediation_plan(&before, &RemediationOptions::default());
    assert!(plan.fixing(FindingKind::GroupWithoutCmk).next().is_none());
    assert!(
        plan.unplanned
            .iter()
            .any(|u| u.finding.kind == FindingKind::GroupWithoutCmk
                && matches!(u.why, Unfixed::NeedsInput(_)))
    );

    let target = CmkTarget::Key {
        key: KeyId::new(key.kid.vault_url().clone(), key.kid.name().clone(), None),
        identity: None,
    };
    let plan = remediation_plan(
        &before,
        &RemediationOptions::default().with_cmk_target(target),
    );
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default()
                .applying()
                .with_disruptive(true)
                .with_clock(env.options().clock),
        )
        .await;
    assert_eq!(report.failed().count(), 0, "{report}");
    let after = audit(&env, None).await;
    assert_eq!(
        after.of_kind(FindingKind::GroupWithoutCmk).count(),
        0,
        "{after}"
    );
    let moved = env
        .backends
        .container_groups
        .get(&rg, &"g-plain".parse().expect("name"), None)
        .await
        .expect("read");
    let encryption = moved.properties.encryption_properties.expect("encrypted");
    assert_eq!(encryption.key_version, key.version.to_string());
    let env_vars: Vec<(String, Option<String>)> = moved.properties.containers[0]
        .properties
        .environment_variables
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    assert_eq!(
        env_vars,
        [
            ("LOG_LEVEL".to_owned(), Some("debug".to_owned())),
            ("MODE".to_owned(), Some("batch".to_owned()))
        ]
    );
    let _: &ResourceId = &group;
}

#[tokio::test]
async fn a_plain_secret_becomes_a_secure_value_from_the_groups_spec() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-secret").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let vault = m
        .vault(
            &rg,
            "kv-secret",
            aci_cmk_posture::seed::VaultSetup::new(false, true, false),
        )
        .await
        .expect("seeded");
    m.grant(&vault, &aci).await.expect("seeded");
    let key = m.clean_key(&vault, "cmk").await.expect("seeded");
    let id = m
        .group(
            &rg,
            "g-leaky",
            Some(&key),
            None,
            &[("API_TOKEN", "leaked-value-1", false)],
        )
        .await
        .expect("seeded");
    let before = audit(&env, None).await;
    assert_eq!(
        before
            .of_kind(FindingKind::PlainSecretEnvironmentValue)
            .count(),
        1
    );
    // Without a spec: no automatic fix (the secret must be rotated by its owner).
    let plan = remediation_plan(&before, &RemediationOptions::default());
    assert!(
        plan.fixing(FindingKind::PlainSecretEnvironmentValue)
            .next()
            .is_none()
    );
    // With the owner's spec holding the new secret as a secure value: re-created from it.
    let spec = aci_cmk_posture::seed::Builder::group_spec(
        "g-leaky",
        &[("API_TOKEN", "rotated-value-2", true)],
    )
    .expect("spec");
    let plan = remediation_plan(
        &before,
        &RemediationOptions::default().with_group_spec(&id, spec),
    );
    assert_eq!(
        plan.fixing(FindingKind::PlainSecretEnvironmentValue)
            .count(),
        1,
        "{plan}"
    );
    let report = Remediator::new(env.backends.clone())
        .remediate(
            &plan,
            RemediateOptions::default()
                .applying()
                .with_disruptive(true)
                .with_clock(env.options().clock),
        )
        .await;
    assert_eq!(report.failed().count(), 0, "{report}");
    let text = format!(
        "{report}{}{}",
        report.to_json().expect("json"),
        plan.to_json().expect("json")
    );
    assert!(!text.contains("rotated-value-2") && !text.contains("leaked-value-1"));
    let after = audit(&env, None).await;
    assert_eq!(
        after
            .of_kind(FindingKind::PlainSecretEnvironmentValue)
            .count(),
        0,
        "{after}"
    );
}
