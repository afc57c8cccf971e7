//! Benchmark 3: `apply_many` of N container groups on one vault and key, against the emulator
//! binary with an ARM write token bucket.

use crate::{
    Result,
    child::{ChildEmulator, cpu_seconds, proc_status_kb, reset_peak_rss},
    report::{Bench, Cmp, ms, r3},
    specs,
};
use aci_cmk_emulator::BucketPacing;
use aci_cmk_encrypted_deployment::{
    Backends, Connection, FleetOptions, Orchestrator, OrchestratorOptions, spec::KeySpec,
};
use aci_cmk_keyvault::models::{AccessPolicyEntry, AccessPolicyUpdateKind, KeyPermission};
use serde_json::json;
use std::{collections::BTreeSet, path::Path};

/// Settings of the fleet benchmark.
#[derive(Clone, Copy, Debug)]
pub struct FleetSettings {
    /// Container groups.
    pub n: usize,
    /// Groups deploying at once.
    pub concurrency: usize,
    /// Bucket refill per second (R).
    pub rate: f64,
    /// Bucket capacity (C).
    pub capacity: u32,
    /// How the bucket tells a refused caller when to come back.
    pub pacing: BucketPacing,
}

/// A pacing's name in the fault configuration (`per_caller`, `whole_seconds`).
pub fn pacing_name(pacing: BucketPacing) -> String {
    serde_json::to_value(pacing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Parses a pacing by its name in the fault configuration.
pub fn parse_pacing(name: &str) -> std::result::Result<BucketPacing, String> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| format!("unknown pacing {name:?} (per_caller, whole_seconds)"))
}

impl FleetSettings {
    /// The benchmark's name in the results.
    fn name(&self) -> String {
        match self.pacing {
            BucketPacing::PerCaller => "fleet".to_owned(),
            other => format!(
                "fleet_{}_c{}_r{}",
                pacing_name(other),
                self.capacity,
                self.rate
            ),
        }
    }
}

/// Runs the fleet benchmark.
pub async fn fleet(bin: &Path, s: FleetSettings) -> Result<Bench> {
    let mut bench = Bench::new(&s.name());
    let emulator = ChildEmulator::spawn(bin, None).await?;
    emulator
        .set_faults(&json!({
            "aci_provisioning_ms": 0,
            "rules": [{"service": "arm", "writes_only": true, "action": {
                "type": "token_bucket", "capacity": s.capacity, "refill_per_sec": s.rate, "retry_after_secs": 1,
                "pacing": s.pacing}}]
        }))
        .await?;
    let profile = &emulator.profile;
    let specs = (0..s.n)
        .map(|i| {
            specs::spec(
                specs::STANDARD,
                &profile.subscription_id,
                Some(&format!("fleet-{i:04}")),
            )
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let first = specs.first().ok_or("N must be at least 1")?;

    let reset = reset_peak_rss();
    let rss_before = proc_status_kb("self", "VmRSS").unwrap_or(0);
    let connection = Connection::emulator(profile)?;
    let orchestrator = Orchestrator::new(
        Backends::connect(&connection).await?,
        OrchestratorOptions::default(),
    );
    emulator.clear_requests().await?;
    let cpu_before = cpu_seconds("self");
    let report = orchestrator
        .apply_many(
            first,
            &further_groups(&specs),
            FleetOptions::default().with_concurrency(s.concurrency),
        )
        .await?;
    let hwm = proc_status_kb("self", "VmHWM").unwrap_or(0);
    // The client's CPU per group (the emulator is another process).
    if let (Some(a), Some(b)) = (cpu_before, cpu_seconds("self")) {
        bench.metric(
            "client_cpu_ms_per_group",
            r3((b - a) * 1000.0 / s.n.max(1) as f64),
        );
    }

    let created = report.written();
    let failed = report.failed();
    let fleet_secs = (report.duration.saturating_sub(report.shared.duration)).as_secs_f64();
    let throughput = created as f64 / fleet_secs;
    let fraction = throughput / s.rate;
    // What the bucket could grant over the fleet phase: its capacity at the start and its
    // refill since (the shared steps' writes left it less than full, so this is an upper bound).
    let offered = f64::from(s.capacity) + s.rate * fleet_secs;
    let granted_over_offered = created as f64 / offered;

    // Duplicates: exactly N groups with N distinct names, and one key version.
    let b = orchestrator.backends();
    let groups = b
        .container_groups
        .list_by_resource_group(&first.resource_group, None)
        .await?;
    let names: BTreeSet<&str> = groups.iter().filter_map(|g| g.name.as_deref()).collect();
    let url = report.shared.vault_uri.clone().ok_or("no vault URI")?;
    let key_name = match &first.key {
        KeySpec::Create { name, .. } => name.clone(),
        other => other.name().clone(),
    };
    // Listing versions needs `list`, which the deployer was not given: grant it now, after
    // the measured run.
    let vault = b
        .vaults
        .get(&first.resource_group, &first.vault.name, None)
        .await?;
    b.vaults
        .update_access_policy(
            &first.resource_group,
            &first.vault.name,
            AccessPolicyUpdateKind::Add,
            &[AccessPolicyEntry::for_keys(
                vault.properties.tenant_id.clone(),
                b.deployer.object_id.clone(),
                [KeyPermission::List],
            )],
            None,
        )
        .await?;
    let versions = b.keys.list_key_versions(&url, &key_name, None).await?;
    let wanted: BTreeSet<String> = specs
        .iter()
        .filter_map(|s| s.workload.container_group().map(|g| g.name.to_string()))
        .collect();
    let strangers = names.iter().filter(|n| !wanted.contains(**n)).count();
    let missing = wanted
        .iter()
        .filter(|n| !names.contains(n.as_str()))
        .count();
    let duplicates = (groups.len() - names.len()) + strangers + versions.len().saturating_sub(1);

    // How the bucket answered the fleet's ARM requests.
    let arm = emulator.requests("arm").await?;
    let throttled = arm.iter().filter(|e| e["status"] == 429).count();
    let puts = arm
        .iter()
        .filter(|e| e["method"] == "PUT" && e["status"] != 429)
        .count();
    emulator.stop().await;

    bench.metric("n", s.n);
    bench.metric("bucket_refill_per_sec", s.rate);
    bench.metric("bucket_capacity", s.capacity);
    let pacing = pacing_name(s.pacing);
    bench.shown("pacing", pacing.as_str(), pacing.replace('_', " "));
    bench.shown(
        "groups_over_tokens_offered",
        r3(granted_over_offered),
        format!("{granted_over_offered:.3} of C + R × fleet phase ({offered:.0} tokens)"),
    );
    bench.shown(
        "concurrency",
        s.concurrency,
        format!("{} groups at once", s.concurrency),
    );
    bench.shown(
        "shared_steps_ms",
        r3(ms(report.shared.duration)),
        format!("{:.1} ms", ms(report.shared.duration)),
    );
    bench.shown(
        "fleet_phase_ms",
        r3(fleet_secs * 1000.0),
        format!("{:.1} ms for {created} groups", fleet_secs * 1000.0),
    );
    bench.metric("total_ms", r3(ms(report.duration)));
    bench.shown(
        "throughput_groups_per_sec",
        r3(throughput),
        format!("{throughput:.1} groups/s (R = {})", s.rate),
    );
    bench.metric("groups_created_after_shared", created);
    bench.shown(
        "arm_429_responses",
        throttled,
        format!("{throttled} (successful ARM PUTs: {puts})"),
    );
    bench.metric("arm_successful_puts", puts);
    bench.shown(
        "groups_listed",
        groups.len(),
        format!(
            "{} ({} distinct names), key versions {}",
            groups.len(),
            names.len(),
            versions.len()
        ),
    );
    bench.metric("distinct_group_names", names.len());
    bench.metric("missing_groups", missing);
    bench.metric("key_versions", versions.len());
    bench.shown(
        "client_peak_rss_kb",
        hwm,
        format!(
            "{:.1} MiB VmHWM (RSS before the fleet {:.1} MiB{})",
            hwm as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            if reset {
                ", peak reset before it"
            } else {
                ", peak NOT reset: covers the whole process"
            }
        ),
    );
    bench.metric("client_rss_before_kb", rss_before);
    bench.metric("peak_reset_before_fleet", reset);
    if s.pacing == BucketPacing::PerCaller {
        bench.target("throughput / R", r3(fraction), Cmp::AtLeast, 0.95);
    } else {
        bench.shown(
            "throughput_over_r",
            r3(fraction),
            format!("{fraction:.3} R"),
        );
        bench.target(
            "groups / tokens offered (C + R·t)",
            r3(granted_over_offered),
            Cmp::AtLeast,
            0.95,
        );
    }
    bench.target("failed groups", failed as f64, Cmp::Equal, 0.0);
    bench.target("duplicate resources", duplicates as f64, Cmp::Equal, 0.0);
    if failed > 0
        && let Some(g) = report.groups.iter().find(|g| g.error.is_some())
    {
        bench.note(format!(
            "first failure: {}: {}",
            g.name,
            g.error.as_deref().unwrap_or("")
        ));
    }
    Ok(bench)
}

/// The container groups of every spec after the first: what a fleet deploys beside the first
/// spec's own.
fn further_groups(
    specs: &[aci_cmk_encrypted_deployment::spec::DeploymentSpec],
) -> Vec<aci_cmk_encrypted_deployment::spec::ContainerGroupSpec> {
    specs
        .iter()
        .skip(1)
        .filter_map(|s| s.workload.container_group().cloned())
        .collect()
}
