//! Benchmarks 1 and 2, against an in-process emulator adding a fixed latency L to every
//! request: `apply` of each flow from empty state timed against its longest chain of dependent
//! requests, and the standard flow as a script would do it (one call after another, each with a
//! new connection and a new token).

use crate::{
    Result, chain,
    report::{Bench, Cmp, ms, r3},
    specs,
};
use aci_cmk_core::cloud::EmulatorProfile;
use aci_cmk_emulator::{Emulator, EmulatorOptions, FaultConfig, RunningEmulator, TimingProfile};
use aci_cmk_encrypted_deployment::{
    Backends, Connection, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
};
use aci_cmk_keyvault::{
    keys::{CreateKeyOptions, KeySize, RsaKeyType},
    models::{
        AccessPolicyEntry, AccessPolicyUpdateKind, KeyPermission, NetworkRuleSet, Sku,
        VaultCreateParameters, VaultProperties,
    },
};
use serde_json::{Value, json};
use std::{collections::BTreeSet, time::Instant};
use time::OffsetDateTime;

/// What one timed run left in the emulator's log.
struct Run {
    wall_ms: f64,
    reqs: Vec<chain::Req>,
}

impl Run {
    fn tokens(&self) -> usize {
        self.reqs.iter().filter(|r| r.service == "token").count()
    }

    /// Services whose requests carry a bearer token: one audience each.
    fn audiences(&self) -> BTreeSet<String> {
        self.reqs
            .iter()
            .filter(|r| matches!(r.service.as_str(), "arm" | "graph" | "keyvault"))
            .map(|r| r.service.clone())
            .collect()
    }
}

/// An emulator adding `latency_ms` to every request of every service, under the `instant`
/// timing profile (every resource answers its terminal state: the benchmark measures the
/// client's gaps, not a profile's intermediate states, as the child emulator of the other
/// benchmarks), its signing key ready.
async fn emulator(latency_ms: u64) -> Result<(RunningEmulator, EmulatorProfile)> {
    let emulator = Emulator::start(EmulatorOptions {
        timing: TimingProfile::Instant,
        ..EmulatorOptions::default()
    })
    .await?;
    let faults: FaultConfig = serde_json::from_value(json!({
        "aci_provisioning_ms": 0,
        "rules": [{"action": {"type": "latency", "fixed_ms": latency_ms}}]
    }))?;
    emulator.admin().set_faults(faults)?;
    // The token signing key is generated in the background: not part of the client's time.
    emulator.admin().tokens_ready().await?;
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
    emulator.admin().clear_requests();
    Ok((emulator, profile))
}

/// Times `body` and collects the requests it made.
async fn timed<F, Fut>(emulator: &RunningEmulator, body: F) -> Result<Run>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    emulator.admin().clear_requests();
    let t0 = OffsetDateTime::now_utc();
    let started = Instant::now();
    body().await?;
    let wall_ms = ms(started.elapsed());
    let reqs = chain::requests(&emulator.admin().requests(), t0)?;
    Ok(Run { wall_ms, reqs })
}

/// Benchmark 1 for one flow: `repeats` runs, each on a fresh emulator from empty state.
pub async fn critical_path(
    flow: &str,
    text: &str,
    latency_ms: u64,
    repeats: usize,
) -> Result<(Bench, f64)> {
    let mut bench = Bench::new(&format!("critical_path_{flow}"));
    let l = latency_ms as f64;
    let mut runs = Vec::new();
    for _ in 0..repeats.max(1) {
        let (emulator, profile) = emulator(latency_ms).await?;
        let spec = specs::spec(text, &profile.subscription_id, None)?;
        let run = timed(&emulator, || async {
            let connection = Connection::emulator(&profile)?;
            let backends = Backends::connect(&connection).await?;
            let orchestrator = Orchestrator::new(backends, OrchestratorOptions::default());
            let report = orchestrator.apply(&spec).await?;
            if report.container_group_ids.is_empty() {
                return Err("apply deployed no container group".into());
            }
            Ok(())
        })
        .await?;
        emulator.shutdown().await;
        let chain = chain::longest_chain(&run.reqs);
        let ratio = run.wall_ms / (chain.members.len() as f64 * l);
        runs.push((ratio, run, chain));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let all: Vec<Value> = runs
        .iter()
        .map(|(ratio, run, chain)| {
            json!({"ratio": r3(*ratio), "wall_ms": r3(run.wall_ms), "chain": chain.members.len(), "requests": run.reqs.len()})
        })
        .collect();
    let (ratio, run, chain) = &runs[runs.len() / 2];
    let breakdown = chain::breakdown(&run.reqs, chain, run.wall_ms, l);
    let audiences = run.audiences();
    bench.metric("latency_ms", latency_ms);
    bench.metric("repeats", runs.len());
    bench.shown(
        "wall_ms (median run)",
        r3(run.wall_ms),
        format!("{:.1} ms", run.wall_ms),
    );
    bench.shown(
        "chain_length",
        chain.members.len(),
        format!(
            "{} requests (lower bound {} ms)",
            chain.members.len(),
            chain.members.len() as f64 * l
        ),
    );
    bench.shown("requests", run.reqs.len(), run.reqs.len().to_string());
    bench.shown(
        "token_requests",
        run.tokens(),
        format!(
            "{} for {} audiences ({})",
            run.tokens(),
            audiences.len(),
            audiences.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    );
    bench.metric("audiences", audiences.iter().cloned().collect::<Vec<_>>());
    let per_service = run.reqs.iter().fold(
        std::collections::BTreeMap::<String, usize>::new(),
        |mut m, r| {
            *m.entry(r.service.clone()).or_default() += 1;
            m
        },
    );
    bench.metric("requests_per_service", json!(per_service));
    bench.metric(
        "requests_log",
        run.reqs
            .iter()
            .map(|r| {
                json!({"start_ms": r3(r.start), "duration_ms": r3(r.duration()), "service": r.service, "request": r.what, "status": r.status})
            })
            .collect::<Vec<_>>(),
    );
    bench.shown(
        "client_gaps_on_chain_ms",
        breakdown["client_gaps_total_ms"].clone(),
        format!(
            "{} ms (server work beyond L on the chain: {} ms)",
            breakdown["client_gaps_total_ms"], breakdown["server_work_beyond_latency_ms"]
        ),
    );
    let beyond = breakdown["server_work_beyond_latency_ms"]
        .as_f64()
        .unwrap_or(0.0);
    let client_ratio = (run.wall_ms - beyond) / (chain.members.len() as f64 * l);
    bench.shown(
        "ratio_without_server_work",
        r3(client_ratio),
        format!(
            "{client_ratio:.3} = (wall − server work beyond L on the chain) / (chain × L): the client's share"
        ),
    );
    bench.metric("breakdown", breakdown.clone());
    bench.metric("runs", all);
    let met = bench.target("wall / (chain × L)", r3(*ratio), Cmp::AtMost, 1.05);
    bench.target(
        "token requests − audiences",
        run.tokens() as f64 - audiences.len() as f64,
        Cmp::Equal,
        0.0,
    );
    bench.note(format!(
        "largest gaps on the chain: {}",
        chain::largest_gaps(&breakdown, 4)
    ));
    if !met {
        if let Some(slow) = breakdown["chain"].as_array().and_then(|c| {
            c.iter().max_by(|a, b| {
                a["duration_ms"]
                    .as_f64()
                    .unwrap_or(0.0)
                    .total_cmp(&b["duration_ms"].as_f64().unwrap_or(0.0))
            })
        }) {
            bench.note(format!(
                "the slowest request on the chain: {} took {} ms at the server (L = {latency_ms} ms)",
                slow["request"].as_str().unwrap_or("?"),
                slow["duration_ms"]
            ));
        }
        bench.note(format!(
            "missed: of {:.1} ms wall, {} ms is server time on the chain ({} ms of it work beyond L) and {} ms client gaps",
            run.wall_ms,
            breakdown["server_time_on_chain_ms"],
            breakdown["server_work_beyond_latency_ms"],
            breakdown["client_gaps_total_ms"]
        ));
    }
    Ok((bench, run.wall_ms))
}

/// Benchmark 2: the standard flow as a script: each call after the previous one, each with a new
/// connection (new transport, new credential: a new TLS connection and a new token) and the
/// backend traits called directly, in the order of the seed.
pub async fn baseline(latency_ms: u64, apply_wall_ms: f64) -> Result<Bench> {
    let mut bench = Bench::new("baseline_script_standard");
    let (emulator, profile) = emulator(latency_ms).await?;
    let spec = specs::spec(specs::STANDARD, &profile.subscription_id, None)?;
    let mut steps: Vec<(&'static str, f64)> = Vec::new();
    let run = timed(&emulator, || script(&profile, &spec, &mut steps)).await?;
    emulator.shutdown().await;
    let speedup = run.wall_ms / apply_wall_ms;
    bench.metric("latency_ms", latency_ms);
    bench.shown("wall_ms", r3(run.wall_ms), format!("{:.1} ms", run.wall_ms));
    bench.shown("requests", run.reqs.len(), run.reqs.len().to_string());
    bench.shown("token_requests", run.tokens(), run.tokens().to_string());
    bench.metric(
        "steps_ms",
        steps
            .iter()
            .map(|(s, t)| json!({"step": s, "ms": r3(*t)}))
            .collect::<Vec<_>>(),
    );
    bench.metric("apply_wall_ms", r3(apply_wall_ms));
    bench.shown(
        "speedup_of_apply",
        r3(speedup),
        format!(
            "{:.2}× (apply {:.1} ms vs script {:.1} ms)",
            speedup, apply_wall_ms, run.wall_ms
        ),
    );
    Ok(bench)
}

/// A fresh connection and backends, as a script's next command would have.
async fn fresh(profile: &EmulatorProfile) -> Result<Backends> {
    Ok(Backends::connect(&Connection::emulator(profile)?).await?)
}

async fn script(
    profile: &EmulatorProfile,
    spec: &DeploymentSpec,
    steps: &mut Vec<(&'static str, f64)>,
) -> Result<()> {
    let group = spec
        .workload
        .container_group()
        .ok_or("the spec has a container group")?;
    let key_name = spec.key.name();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, steps: &mut Vec<(&'static str, f64)>| {
        steps.push((name, ms(clock.elapsed())));
        clock = Instant::now();
    };

    let b = fresh(profile).await?;
    b.resource_groups
        .create_or_update(&spec.resource_group, &spec.location, &spec.tags, None)
        .await?;
    lap("resource group", steps);

    let b = fresh(profile).await?;
    let app_id = aci_cmk_identity::ACI_FIRST_PARTY_APP_ID.parse()?;
    let sp = b.directory.ensure_service_principal(&app_id, None).await?;
    lap("ACI service principal", steps);

    let b = fresh(profile).await?;
    let tenant = b.deployer.tenant_id.clone();
    let properties = VaultProperties::new(tenant.clone(), Sku::standard())
        .with_soft_delete(90)
        .with_purge_protection()
        .with_network_acls(NetworkRuleSet::allow_all());
    let vault = b
        .vaults
        .create_or_update(
            &spec.resource_group,
            &spec.vault.name,
            &VaultCreateParameters::new(spec.location.clone(), properties),
            None,
        )
        .await?;
    let url = vault.properties.vault_uri.clone().ok_or("no vaultUri")?;
    lap("vault", steps);

    let b = fresh(profile).await?;
    b.vaults
        .update_access_policy(
            &spec.resource_group,
            &spec.vault.name,
            AccessPolicyUpdateKind::Add,
            &[AccessPolicyEntry::for_keys(
                tenant.clone(),
                b.deployer.object_id.clone(),
                [KeyPermission::Get, KeyPermission::Create],
            )],
            None,
        )
        .await?;
    lap("deployer access policy", steps);

    let b = fresh(profile).await?;
    let key = b
        .keys
        .create_key(
            &url,
            key_name,
            CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048),
            None,
        )
        .await?;
    lap("key", steps);

    let b = fresh(profile).await?;
    b.vaults
        .update_access_policy(
            &spec.resource_group,
            &spec.vault.name,
            AccessPolicyUpdateKind::Add,
            &[AccessPolicyEntry::for_keys(
                tenant,
                sp.service_principal.id.clone(),
                [KeyPermission::Get, KeyPermission::UnwrapKey],
            )],
            None,
        )
        .await?;
    lap("ACI access policy", steps);

    let b = fresh(profile).await?;
    let mut body = group.to_container_group(&spec.location, &spec.tags);
    body.properties.encryption_properties = Some(aci_cmk_aci::models::EncryptionProperties::new(
        &url,
        key_name,
        &key.version,
    ));
    let created = b
        .container_groups
        .create_or_update(&spec.resource_group, &group.name, &body, None)
        .await?;
    if created.provisioning_state() != Some("Succeeded") {
        return Err(format!(
            "the script's container group is {:?}",
            created.provisioning_state()
        )
        .into());
    }
    lap("container group", steps);
    Ok(())
}
