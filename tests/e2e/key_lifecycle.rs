//! The key lifecycle against the emulator: its rotation policy runs on its clock, the groups
//! follow the new version, the old one is retired, and a group left on it is shredded.

use crate::flows::{PROTECTED, rbac};
use aci_cmk_aci::LogOptions;
use aci_cmk_encrypted_deployment::{
    FollowOptions, Orchestrator, OrchestratorOptions, WatchOptions, clock::Clock,
    follow::MoveOutcome, spec::DeploymentSpec,
};
use aci_cmk_integration_tests::Harness;
use futures::StreamExt;
use std::time::Duration;

const LIFECYCLE: &str = r#"[key.create]
name = "aci-cmk"

[key.create.lifecycle]
rotate_after = "P90D"
expires_after = "P1Y"
follow = "latest"
retire_previous = true
"#;

/// An orchestrator over the harness's backends that reads the emulator's clock.
fn on_emulator_clock(h: &Harness) -> Orchestrator {
    let admin = h.emulator.admin().clone();
    Orchestrator::new(
        h.orchestrator.backends().clone(),
        OrchestratorOptions::default().with_clock(Clock::from_fn(move || admin.now())),
    )
}

async fn logs(o: &Orchestrator, spec: &DeploymentSpec, group: &str) -> Result<String, String> {
    let container = spec.workload.container_group().expect("group").containers[0]
        .name
        .clone();
    o.backends()
        .container_groups
        .logs(
            &spec.resource_group,
            &group.parse().expect("name"),
            &container,
            LogOptions::default(),
            None,
        )
        .await
        .map_err(|e| e.to_string())
}

async fn policy_rotation_is_followed(text: &str) {
    let h = Harness::start().await;
    let o = on_emulator_clock(&h);
    let spec = h.spec(&text.replace("[key.create]\nname = \"aci-cmk\"\n", LIFECYCLE));
    let mut stranger = spec.workload.container_group().expect("group").clone();
    stranger.name = "stranger".parse().expect("name");
    let report = o.apply(&spec).await.expect("apply");
    o.apply_many(&spec, &[stranger], Default::default())
        .await
        .expect("a second group");
    assert_eq!(o.apply(&spec).await.expect("again").writes(), 0);
    let first = report.key_id.clone().expect("key");

    // The watch looks at once: nothing to follow yet. Move the clock past the rotation.
    let (wake, woken) = futures::channel::mpsc::unbounded::<()>();
    let options = WatchOptions::default()
        .with_interval(Duration::from_secs(3600))
        .with_follow(FollowOptions::default());
    let mut watch = Box::pin(o.watch_with(&spec, options, woken));
    // Creating the key announced its first version; count from here.
    let seen = h
        .emulator
        .admin()
        .events(0)
        .last()
        .and_then(|e| e["sequence"].as_u64())
        .unwrap_or(0);
    h.emulator
        .admin()
        .advance(Duration::from_secs(91 * 24 * 3600))
        .expect("the clock moves");
    let created = h
        .emulator
        .admin()
        .events(seen)
        .into_iter()
        .filter(|e| e["eventType"] == "Microsoft.KeyVault.KeyNewVersionCreated")
        .count();
    assert_eq!(created, 1, "the policy rotated once");
    wake.unbounded_send(()).expect("the watch listens");
    let followed = watch.next().await.expect("a report").expect("followed");
    drop(watch);

    let target = followed.target.version().cloned().expect("version");
    assert_ne!(Some(&target), first.version());
    assert_eq!(followed.groups.len(), 1, "{followed:?}");
    assert_eq!(
        followed.groups[0].outcome,
        MoveOutcome::Moved,
        "{followed:?}"
    );
    assert_eq!(followed.groups[0].to.as_deref(), Some(target.as_str()));
    assert!(
        logs(&o, &spec, "hello-np").await.is_ok(),
        "readable on the new version"
    );
    assert_eq!(followed.retired.first(), first.version());
    assert_eq!(followed.retired.len(), 1);
    assert_eq!(followed.stranded.len(), 1, "{followed:?}");
    assert!(
        followed.stranded[0]
            .container_group_id
            .ends_with("/stranger")
    );
    let shredded = logs(&o, &spec, "stranger").await.expect_err("shredded");
    assert!(shredded.contains("disabled"), "{shredded}");
}

#[tokio::test]
async fn a_network_protected_group_follows_the_policys_rotation_and_the_old_version_retires() {
    policy_rotation_is_followed(PROTECTED).await;
}

#[tokio::test]
async fn the_same_on_an_rbac_vault() {
    policy_rotation_is_followed(&rbac(PROTECTED)).await;
}
