//! The key lifecycle, end to end: `cargo run --example key_lifecycle`.
//!
//! Against the embedded emulator: deploys a group whose key rotates every 90 days and whose
//! versions live a year, with `follow = "latest"` and `retire_previous`; moves the emulator's
//! clock 91 days, so Key Vault's rotation policy creates a version (and its
//! `KeyNewVersionCreated` event); follows it — the group is re-created on the new version and
//! its logs read through it; the old version is retired, so a second group left on it can no
//! longer read its data, and the report names that group. Each fact is printed; the example
//! exits non-zero if any does not hold.

use aci_cmk_aci::LogOptions;
use aci_cmk_core::{cloud::EmulatorProfile, names::ContainerGroupName};
use aci_cmk_emulator::{Emulator, EmulatorOptions};
use aci_cmk_encrypted_deployment::{
    Backends, Connection, FollowOptions, Orchestrator, OrchestratorOptions, clock::Clock,
    spec::DeploymentSpec,
};
use std::{error::Error, time::Duration};

const SPEC: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-lifecycle"
location = "westeurope"
flow = "standard"

[vault]
name = "lifecycle-kv"

[key.create]
name = "aci-cmk"

[key.create.lifecycle]
rotate_after = "P90D"        # Key Vault makes a new version 90 days after each one
expires_after = "P1Y"        # and each version lives a year
follow = "latest"            # follow_latest re-creates the groups on the newest
retire_previous = true       # then disables the versions they left

[container_group]
name = "follows"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
env = { GREETING = "hello from a group that follows its key" }
secure_env = { DB_PASSWORD = "never printed" }
"#;

/// Prints a fact and remembers whether it held.
struct Facts(Vec<(String, bool)>);

impl Facts {
    fn check(&mut self, fact: impl Into<String>, holds: bool) {
        let fact = fact.into();
        println!("  [{}] {fact}", if holds { "ok" } else { "FAILED" });
        self.0.push((fact, holds));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
    let connection = Connection::emulator(&profile)?;
    // The orchestrator reads the emulator's clock, so moving it moves "now" for both.
    let admin = emulator.admin().clone();
    let orchestrator = Orchestrator::new(
        Backends::connect(&connection).await?,
        OrchestratorOptions::default().with_clock(Clock::from_fn(move || admin.now())),
    );
    let b = orchestrator.backends();
    let mut facts = Facts(Vec::new());

    let spec = DeploymentSpec::from_toml_str(&SPEC.replace("{sub}", &profile.subscription_id))?;
    let own = spec.workload.container_group().ok_or("a group")?.clone();
    let mut left_behind = own.clone();
    left_behind.name = "left-behind".parse()?;

    println!("== apply (and a second group on the same key, which will not follow)");
    let report = orchestrator.apply(&spec).await?;
    println!("{report}");
    orchestrator
        .apply_many(
            &spec,
            std::slice::from_ref(&left_behind),
            Default::default(),
        )
        .await?;
    let url = report.vault_uri.clone().ok_or("a vault URI")?;
    let first = report.key_id.clone().ok_or("a key")?;
    let policy = b
        .keys
        .get_rotation_policy(&url, spec.key.name(), None)
        .await?;
    facts.check(
        format!(
            "the rotation policy rotates after {} and versions expire after {}",
            policy
                .rotation_trigger()
                .map(|t| t.period().to_string())
                .unwrap_or_default(),
            policy
                .expiry_time
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        policy.rotation_trigger().is_some() && policy.expiry_time.is_some(),
    );
    let again = orchestrator.apply(&spec).await?;
    facts.check(
        format!("re-applying writes nothing ({} writes)", again.writes()),
        again.writes() == 0,
    );

    println!("\n== 91 days later");
    let seen = emulator
        .admin()
        .events(0)
        .last()
        .and_then(|e| e["sequence"].as_u64())
        .unwrap_or(0);
    emulator
        .admin()
        .advance(Duration::from_secs(91 * 24 * 3600))?;
    let versions = b
        .keys
        .list_key_versions(&url, spec.key.name(), None)
        .await?;
    facts.check(
        format!(
            "the policy created a second version ({} versions)",
            versions.len()
        ),
        versions.len() == 2,
    );
    let created: Vec<_> = emulator
        .admin()
        .events(seen)
        .into_iter()
        .filter(|e| e["eventType"] == "Microsoft.KeyVault.KeyNewVersionCreated")
        .collect();
    facts.check(
        format!(
            "Key Vault announced it: {} {}",
            created
                .first()
                .map(|e| e["eventType"].to_string())
                .unwrap_or_default(),
            created
                .first()
                .map(|e| e["data"]["Version"].to_string())
                .unwrap_or_default()
        ),
        created.len() == 1,
    );

    println!("\n== follow the newest version");
    let plan = orchestrator
        .plan_follow_latest(&spec, &FollowOptions::default())
        .await?;
    for g in &plan.groups {
        println!("  plan: {} {} — {}", g.name, g.action, g.detail);
    }
    let followed = orchestrator
        .follow_latest(&spec, FollowOptions::default())
        .await?;
    for g in &followed.groups {
        println!(
            "  {}: {} -> {} in {} ms ({:?})",
            g.name,
            g.from.as_deref().unwrap_or("-"),
            g.to.as_deref().unwrap_or("-"),
            g.duration.as_millis(),
            g.outcome
        );
    }
    let target = followed
        .target
        .version()
        .cloned()
        .ok_or("a target version")?;
    facts.check(
        format!(
            "the group moved from {} to {target}",
            first.version().map(|v| v.as_str()).unwrap_or("?")
        ),
        followed.moved() == 1 && Some(&target) != first.version(),
    );
    let group = b
        .container_groups
        .get(&spec.resource_group, &own.name, None)
        .await?;
    let on = group
        .properties
        .encryption_properties
        .as_ref()
        .map(|e| e.key_version.clone())
        .unwrap_or_default();
    facts.check(
        format!("Azure reports the group on {on}"),
        on == target.as_str(),
    );
    let logs = read_logs(&orchestrator, &spec, &own.name).await;
    facts.check(
        "its logs read through the new version",
        logs.as_deref().is_ok_and(|l| !l.is_empty()),
    );

    println!("\n== retire the previous version");
    facts.check(
        format!(
            "the version left is disabled, not deleted: retired {:?}",
            followed
                .retired
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
        ),
        followed.retired.len() == 1 && first.version() == followed.retired.first(),
    );
    let stranded: Vec<_> = followed
        .stranded
        .iter()
        .map(|s| s.container_group_id.as_str())
        .collect();
    facts.check(
        format!("the report names the group left on it: {stranded:?}"),
        stranded.len() == 1 && stranded[0].ends_with("/left-behind"),
    );
    let shredded = read_logs(&orchestrator, &spec, &left_behind.name).await;
    facts.check(
        format!(
            "that group can no longer read its data (crypto-shredded): {}",
            shredded
                .as_ref()
                .err()
                .map(|e| e.lines().next().unwrap_or("").to_owned())
                .unwrap_or_default()
        ),
        shredded.is_err(),
    );

    emulator.shutdown().await;
    let failed = facts.0.iter().filter(|(_, holds)| !holds).count();
    if failed > 0 {
        return Err(format!("{failed} fact(s) did not hold").into());
    }
    println!(
        "\nDone: the key rotated on schedule, the group followed it, the old version retired."
    );
    Ok(())
}

/// The first container's logs, read (by the emulator) through the group's key version.
async fn read_logs(
    orchestrator: &Orchestrator,
    spec: &DeploymentSpec,
    group: &ContainerGroupName,
) -> Result<String, String> {
    let container = spec
        .workload
        .container_group()
        .map(|g| g.containers[0].name.clone())
        .ok_or("a container")?;
    orchestrator
        .backends()
        .container_groups
        .logs(
            &spec.resource_group,
            group,
            &container,
            LogOptions::default(),
            None,
        )
        .await
        .map_err(|e| e.to_string())
}
