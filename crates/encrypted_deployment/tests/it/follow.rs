//! The key lifecycle through the orchestrator: the spec's rotation policy and expiry applied
//! idempotently, groups that follow the newest usable version, retirement, and the watch.

use crate::{
    GROUP, KEY, RG, Shape, azure, done, memory::MemoryAzure, orchestrator, spec_from, spec_json,
};
use aci_cmk_aci::ContainerGroups;
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{ContainerGroupName, KeyName, KeyVersion},
};
use aci_cmk_encrypted_deployment::{
    Error, FollowOptions, WatchOptions,
    follow::MoveOutcome,
    progress::{StepAction, StepId},
    spec::{ContainerGroupSpec, DeploymentSpec},
};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultManagement,
    keys::{CreateKeyOptions, UpdateKeyOptions},
    models::KeyPermission,
    rotation_policy::Iso8601Duration,
};
use futures::StreamExt;
use serde_json::{Value, json};

/// A standard-flow spec whose key has `lifecycle`; `extra` merged at the top.
fn lifecycle_spec(lifecycle: Value, extra: Value) -> DeploymentSpec {
    let mut v = spec_json(Shape::Standard, false, extra);
    v["key"] = json!({"create": {"name": KEY, "lifecycle": lifecycle}});
    spec_from(&v)
}

fn following() -> DeploymentSpec {
    lifecycle_spec(
        json!({"rotate_after": "P90D", "expires_after": "P1Y", "follow": "latest"}),
        json!({}),
    )
}

fn key_name() -> KeyName {
    KEY.parse().expect("name")
}

/// The group's key version, as the in-memory ACI holds it.
async fn version_of_group(azure: &MemoryAzure, name: &str) -> String {
    let name: ContainerGroupName = name.parse().expect("name");
    ContainerGroups::get(azure, &RG.parse().expect("rg"), &name, None)
        .await
        .expect("group")
        .properties
        .encryption_properties
        .expect("encrypted")
        .key_version
}

/// A new version of the key, made outside the orchestrator (as Key Vault's rotation would).
async fn new_version(azure: &MemoryAzure, url: &VaultUrl, options: CreateKeyOptions) -> KeyVersion {
    KeyVaultKeys::create_key(azure, url, &key_name(), options, None)
        .await
        .expect("a new version")
        .version
}

/// A second group spec beside the spec's own.
fn another_group(spec: &DeploymentSpec, name: &str) -> ContainerGroupSpec {
    let mut group = spec.workload.container_group().expect("a group").clone();
    group.name = name.parse().expect("name");
    group
}

#[tokio::test]
async fn apply_sets_the_rotation_policy_and_expiry_once_and_grants_what_the_lifecycle_needs() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = following();
    let plan = orchestrator.plan(&spec).await.expect("plan");
    assert_eq!(
        plan.action(StepId::KeyLifecycle),
        Some(StepAction::Update),
        "{plan}"
    );
    let report = orchestrator.apply(&spec).await.expect("apply");
    assert_eq!(done(&report, StepId::KeyLifecycle), StepAction::Update);
    let url = report.vault_uri.clone().expect("uri");
    let policy = KeyVaultKeys::get_rotation_policy(&azure, &url, &key_name(), None)
        .await
        .expect("policy");
    assert_eq!(
        policy.rotation_trigger().map(|t| t.period().clone()),
        Some(Iso8601Duration::days(90))
    );
    assert_eq!(policy.expiry_time, Some(Iso8601Duration::years(1)));
    let key = KeyVaultKeys::get_key(&azure, &url, &key_name(), None, None)
        .await
        .expect("key");
    let lifetime = key.expires.expect("exp") - key.created.expect("created");
    assert!(
        (lifetime - time::Duration::days(365)).abs() < time::Duration::minutes(1),
        "the version expires a year after creation: {lifetime}"
    );
    let vault = KeyVaultManagement::get(
        &azure,
        &RG.parse().expect("rg"),
        &crate::VAULT.parse().expect("vault"),
        None,
    )
    .await
    .expect("vault");
    let deployer = vault
        .properties
        .access_policies
        .iter()
        .flatten()
        .find(|p| p.object_id == crate::deployer())
        .expect("the deployer's policy");
    for needed in [
        KeyPermission::List,
        KeyPermission::Rotate,
        KeyPermission::GetRotationPolicy,
        KeyPermission::SetRotationPolicy,
        KeyPermission::Update,
    ] {
        assert!(deployer.permissions.keys.contains(&needed), "{needed:?}");
    }
    // Converged: the policy and expiry are read and match; nothing is written.
    azure.clear_writes();
    let again = orchestrator.apply(&spec).await.expect("again");
    assert_eq!(
        done(&again, StepId::KeyLifecycle),
        StepAction::InPlace,
        "{again}"
    );
    assert_eq!(azure.writes(), Vec::<String>::new());
    // A changed period is set again, and only it.
    let changed = lifecycle_spec(
        json!({"rotate_after": "P60D", "expires_after": "P1Y", "follow": "latest"}),
        json!({}),
    );
    orchestrator.apply(&changed).await.expect("changed");
    assert_eq!(azure.writes(), ["keys.set_rotation_policy"]);
}

#[test]
fn lifecycles_key_vault_would_refuse_are_refused_when_the_spec_is_read() {
    for (lifecycle, expected) in [
        (json!({"rotate_after": "P5D"}), "7 days"),
        (
            json!({"rotate_after": "P90D", "rotate_before_expiry": "P30D", "expires_after": "P1Y"}),
            "not both",
        ),
        (
            json!({"rotate_before_expiry": "P30D"}),
            "needs expires_after",
        ),
        (json!({"expires_after": "P10D"}), "28"),
        (json!({"rotate_after": "P90"}), "P90"),
    ] {
        let mut v = spec_json(Shape::Standard, false, json!({}));
        v["key"] = json!({"create": {"name": KEY, "lifecycle": lifecycle}});
        let err = DeploymentSpec::from_json_str(&v.to_string()).expect_err(expected);
        assert!(err.to_string().contains(expected), "{lifecycle}: {err}");
    }
}

#[tokio::test]
async fn follow_latest_moves_groups_onto_the_newest_usable_version_and_never_onto_an_unusable_one()
{
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = following();
    let second = another_group(&spec, "hello-2");
    let report = orchestrator.apply(&spec).await.expect("apply");
    orchestrator
        .apply_many(&spec, std::slice::from_ref(&second), Default::default())
        .await
        .expect("the second group");
    let url = report.vault_uri.clone().expect("uri");
    let first_version = version_of_group(&azure, GROUP).await;

    // Newer versions that cannot be used are passed over.
    let now = time::OffsetDateTime::now_utc();
    let usable = new_version(&azure, &url, CreateKeyOptions::default()).await;
    new_version(
        &azure,
        &url,
        CreateKeyOptions::default().with_enabled(false),
    )
    .await;
    new_version(
        &azure,
        &url,
        CreateKeyOptions::default().with_not_before(now + time::Duration::days(3)),
    )
    .await;
    let options = FollowOptions::default().with_groups(vec![second.clone()]);
    let plan = orchestrator
        .plan_follow_latest(&spec, &options)
        .await
        .expect("plan");
    assert_eq!(plan.target.version(), Some(&usable), "{plan:?}");
    assert_eq!(plan.passed_over.len(), 2, "{plan:?}");
    assert!(
        plan.groups.iter().all(|g| g.action == StepAction::Recreate),
        "{plan:?}"
    );
    assert!(plan.groups[0].detail.contains(&first_version), "{plan:?}");

    let followed = orchestrator
        .follow_latest(&spec, options.clone())
        .await
        .expect("follow");
    assert_eq!(followed.moved(), 2, "{followed:?}");
    for g in &followed.groups {
        assert_eq!(g.from.as_deref(), Some(first_version.as_str()));
        assert_eq!(g.to.as_deref(), Some(usable.as_str()));
    }
    for name in [GROUP, "hello-2"] {
        assert_eq!(version_of_group(&azure, name).await, usable.as_str());
    }
    // The re-created group kept its environment and secure values.
    let group = ContainerGroups::get(
        &azure,
        &RG.parse().expect("rg"),
        &GROUP.parse().expect("name"),
        None,
    )
    .await
    .expect("group");
    let env = &group.properties.containers[0]
        .properties
        .environment_variables;
    assert!(env.iter().any(|e| e.name == "GREETING"), "{env:?}");
    assert!(env.iter().any(|e| e.name == "TOKEN"), "{env:?}");
    // Once there, following writes nothing.
    azure.clear_writes();
    let again = orchestrator
        .follow_latest(&spec, options.clone())
        .await
        .expect("again");
    assert!(
        again
            .groups
            .iter()
            .all(|g| g.outcome == MoveOutcome::AlreadyCurrent)
    );
    assert_eq!(azure.writes(), Vec::<String>::new());

    // A version named that cannot be used is refused before anything is written.
    let disabled = new_version(&azure, &url, CreateKeyOptions::default()).await;
    KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &key_name(),
        Some(&disabled),
        UpdateKeyOptions::disable(),
        None,
    )
    .await
    .expect("disable");
    azure.clear_writes();
    let err = orchestrator
        .follow_latest(&spec, options.to_version(disabled.clone()))
        .await
        .expect_err("a disabled version");
    let Error::Preflight(issues) = &err else {
        panic!("expected a preflight refusal: {err}");
    };
    assert!(issues[0].message.contains(disabled.as_str()), "{err}");
    assert!(issues[0].message.contains("disabled"), "{err}");
    assert_eq!(azure.writes(), Vec::<String>::new());
}

#[tokio::test]
async fn a_pinned_group_is_not_re_created_unless_the_spec_allows_it() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let pinned = lifecycle_spec(json!({"rotate_after": "P90D"}), json!({}));
    let report = orchestrator.apply(&pinned).await.expect("apply");
    let url = report.vault_uri.clone().expect("uri");
    let before = version_of_group(&azure, GROUP).await;
    new_version(&azure, &url, CreateKeyOptions::default()).await;
    let followed = orchestrator
        .follow_latest(&pinned, FollowOptions::default())
        .await
        .expect("follow");
    let MoveOutcome::Failed { error } = &followed.groups[0].outcome else {
        panic!("{followed:?}");
    };
    assert!(error.contains("follow = \"latest\""), "{error}");
    assert_eq!(version_of_group(&azure, GROUP).await, before);
}

#[tokio::test]
async fn retiring_disables_the_versions_left_and_names_a_group_still_on_one() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = lifecycle_spec(
        json!({"rotate_after": "P90D", "follow": "latest", "retire_previous": true}),
        json!({}),
    );
    let report = orchestrator.apply(&spec).await.expect("apply");
    // A group the spec does not name, on the same key.
    let stranger = another_group(&spec, "stranger");
    orchestrator
        .apply_many(&spec, &[stranger], Default::default())
        .await
        .expect("the stranger");
    let url = report.vault_uri.clone().expect("uri");
    let old = version_of_group(&azure, GROUP).await;
    let newest = new_version(&azure, &url, CreateKeyOptions::default()).await;

    let plan = orchestrator
        .plan_follow_latest(&spec, &FollowOptions::default())
        .await
        .expect("plan");
    assert_eq!(plan.retire.len(), 1, "{plan:?}");
    assert_eq!(plan.retire[0].as_str(), old);
    let followed = orchestrator
        .follow_latest(&spec, FollowOptions::default())
        .await
        .expect("follow");
    assert_eq!(followed.retired.len(), 1, "{followed:?}");
    assert_eq!(followed.retired[0].as_str(), old);
    assert_eq!(followed.unused.len(), 1, "{followed:?}");
    let old_key = KeyVaultKeys::get_key(
        &azure,
        &url,
        &key_name(),
        Some(&old.parse().expect("v")),
        None,
    )
    .await
    .expect("the old version stays");
    assert_eq!(old_key.enabled, Some(false), "retired, not deleted");
    assert_eq!(version_of_group(&azure, GROUP).await, newest.as_str());
    assert_eq!(followed.stranded.len(), 1, "{followed:?}");
    assert!(
        followed.stranded[0]
            .container_group_id
            .ends_with("/stranger")
    );
    assert_eq!(followed.stranded[0].key_version, old);
    assert!(!followed.is_clean());
}

#[tokio::test]
async fn the_watch_follows_each_new_version_when_woken_and_stops_when_dropped() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = following();
    let report = orchestrator.apply(&spec).await.expect("apply");
    let url = report.vault_uri.clone().expect("uri");
    let (wake, woken) = futures::channel::mpsc::unbounded::<()>();
    // An hour between looks: only the first look and the wake-ups run in this test.
    let options = WatchOptions::default().with_interval(std::time::Duration::from_secs(3600));
    let mut watch = Box::pin(orchestrator.watch_with(&spec, options, woken));

    let v2 = new_version(&azure, &url, CreateKeyOptions::default()).await;
    let first = watch.next().await.expect("a report").expect("followed");
    assert_eq!(first.target.version(), Some(&v2));
    assert_eq!(first.moved(), 1);

    let v3 = new_version(&azure, &url, CreateKeyOptions::default()).await;
    wake.unbounded_send(()).expect("the watch listens");
    let second = watch.next().await.expect("a report").expect("followed");
    assert_eq!(second.target.version(), Some(&v3));
    assert_eq!(version_of_group(&azure, GROUP).await, v3.as_str());

    drop(watch);
    assert!(
        wake.unbounded_send(()).is_err(),
        "the dropped watch no longer listens"
    );
}

#[tokio::test]
async fn a_group_on_a_version_about_to_expire_is_warned_of() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let spec = crate::spec(Shape::Standard, false);
    let report = orchestrator.apply(&spec).await.expect("apply");
    let url = report.vault_uri.clone().expect("uri");
    let version = report.key_id.as_ref().and_then(|k| k.version()).cloned();
    crate::grant_deployer(&azure, &[KeyPermission::Update]).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &key_name(),
        version.as_ref(),
        UpdateKeyOptions::default().with_expires(soon),
        None,
    )
    .await
    .expect("expiry");
    let plan = orchestrator.plan(&spec).await.expect("plan");
    assert_eq!(plan.warnings.len(), 1, "{plan}");
    assert!(plan.warnings[0].contains("expires"), "{plan}");
    assert!(plan.to_string().contains("warning:"), "{plan}");
    // Outside the notice period: no warning.
    KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &key_name(),
        version.as_ref(),
        UpdateKeyOptions::default().with_expires(soon + time::Duration::days(30)),
        None,
    )
    .await
    .expect("expiry");
    assert!(
        orchestrator
            .plan(&spec)
            .await
            .expect("plan")
            .warnings
            .is_empty()
    );
}

#[tokio::test]
async fn a_watch_over_a_pinned_key_says_why_it_cannot_follow() {
    let azure = azure();
    let orchestrator = orchestrator(&azure);
    let pinned = lifecycle_spec(json!({"rotate_after": "P90D"}), json!({}));
    orchestrator.apply(&pinned).await.expect("apply");
    let mut watch = Box::pin(orchestrator.watch(&pinned, WatchOptions::default()));
    let err = watch
        .next()
        .await
        .expect("an answer")
        .expect_err("pinned keys are not followed");
    assert!(err.to_string().contains("follow = \"latest\""), "{err}");
}
