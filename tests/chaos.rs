//! `cargo xtask chaos --runs N --seed S`: apply random flows on random fault schedules, kill the
//! orchestrator at a random point, run it again, and check that every run converges to the same
//! end state — one vault, one key version, one container group on it, the identity only in the
//! network-protected flow, no duplicate access policies or role assignments.
//!
//! `--timing azure` (or `instant`) runs the emulator under that timing profile with its clock
//! driven 100 times faster than real time.
//!
//! Each run is decided by its seed (`seed + run index`): a failing run replays with
//! `--seed <its seed> --runs 1`.

use aci_cmk_emulator::{FaultConfig, TimingProfile};
use aci_cmk_encrypted_deployment::{OrchestratorOptions, propagation::PropagationRetry};
use aci_cmk_integration_tests::Harness;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::Value;
use std::{collections::HashSet, process::ExitCode, time::Duration};

/// What one run drew.
#[derive(Debug)]
struct Scenario {
    protected: bool,
    rbac: bool,
    faults: serde_json::Value,
    kill_after: Duration,
}

fn draw(seed: u64) -> Scenario {
    let mut rng = StdRng::seed_from_u64(seed);
    let protected = rng.random_bool(0.5);
    let rbac = rng.random_bool(0.5);
    let mut rules = vec![
        serde_json::json!({"action": {"type": "latency", "fixed_ms": 0, "jitter_ms": rng.random_range(0..20)}}),
    ];
    if rng.random_bool(0.7) {
        rules.push(serde_json::json!({"rate": rng.random_range(0.0..0.2), "action": {"type": "throttle", "retry_after_secs": 1}}));
    }
    if rng.random_bool(0.7) {
        let status = if rng.random_bool(0.5) { 500 } else { 503 };
        rules.push(serde_json::json!({"rate": rng.random_range(0.0..0.12), "action": {"type": "error", "status": status}}));
    }
    if rng.random_bool(0.5) {
        rules.push(
            serde_json::json!({"rate": rng.random_range(0.0..0.05), "action": {"type": "drop"}}),
        );
    }
    let faults = serde_json::json!({
        "seed": seed,
        "rules": rules,
        "replication_delay_ms": if rng.random_bool(0.5) { rng.random_range(0..1500) } else { 0 },
        "aci_provisioning_ms": rng.random_range(0..200),
    });
    Scenario {
        protected,
        rbac,
        faults,
        kill_after: Duration::from_millis(rng.random_range(0..1500)),
    }
}

fn spec_text(s: &Scenario) -> String {
    let flow = if s.protected {
        "flow = { network_protected = { identity_name = \"chaos-id\" } }"
    } else {
        "flow = \"standard\""
    };
    let auth = if s.rbac {
        "authorization = \"rbac\""
    } else {
        ""
    };
    let ip = if s.protected {
        "ip_rules = [\"127.0.0.1\"]"
    } else {
        ""
    };
    format!(
        r#"
subscription_id = "{{sub}}"
resource_group = "rg-chaos"
location = "westeurope"
{flow}

[vault]
name = "chaos-vault"
{auth}
{ip}

[key.create]
name = "aci-cmk"

[container_group]
name = "chaos-group"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
secure_env = {{ TOKEN = "chaos" }}
"#
    )
}

/// Runs one scenario; `Err` says what did not converge.
async fn run(seed: u64, verbose: bool, timing: TimingProfile) -> Result<(), String> {
    let mut scenario = draw(seed);
    if timing != TimingProfile::Fast {
        // The profile's own durations decide replication and provisioning.
        if let Some(f) = scenario.faults.as_object_mut() {
            f.remove("replication_delay_ms");
            f.remove("aci_provisioning_ms");
        }
    }
    if verbose {
        eprintln!("seed {seed}: {scenario:?}");
    }
    let options = OrchestratorOptions::default().with_propagation(PropagationRetry::new(
        Duration::from_millis(50),
        Duration::from_millis(500),
        Duration::from_secs(30),
    ));
    let h = if timing == TimingProfile::Fast {
        Harness::start_with(options).await
    } else {
        // The emulator's clock runs 100 times faster than real time, so Azure's minutes pass
        // in seconds.
        Harness::start_driven(timing, 100, options).await
    };
    let faults: FaultConfig =
        serde_json::from_value(scenario.faults.clone()).map_err(|e| e.to_string())?;
    h.emulator
        .admin()
        .set_faults(faults)
        .map_err(|e| e.to_string())?;
    let spec = h.spec(&spec_text(&scenario));

    // Killed at a random point: the future is dropped mid-flight, requests and all.
    let _ = tokio::time::timeout(scenario.kill_after, h.orchestrator.apply(&spec)).await;

    // Run again, faults still on, until it converges (a fault may exhaust a step's retries).
    let mut last = String::new();
    let mut converged = false;
    for _ in 0..6 {
        match h.orchestrator.apply(&spec).await {
            Ok(_) => {
                converged = true;
                break;
            }
            Err(e) => last = e.to_string(),
        }
    }
    if !converged {
        return Err(format!("no convergence under faults: {last}"));
    }
    // Without faults, a converged state needs no writes.
    h.emulator
        .admin()
        .set_faults(FaultConfig::default())
        .map_err(|e| e.to_string())?;
    let again = h
        .orchestrator
        .apply(&spec)
        .await
        .map_err(|e| format!("clean re-apply: {e}"))?;
    if again.writes() != 0 {
        return Err(format!(
            "a clean re-apply wrote {} times:\n{again}",
            again.writes()
        ));
    }
    check_end_state(&h, scenario.protected)
}

/// The rows of one table of the emulator's admin dump.
fn rows<'a>(dump: &'a Value, table: &str) -> Vec<&'a Value> {
    dump[table]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default()
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

/// The end state, read from the emulator's admin dump: one live vault without duplicate
/// access policies, one key with one version, the identity only in the network-protected flow,
/// one `Succeeded` group on that version, no duplicate role assignments.
fn check_end_state(h: &Harness, protected: bool) -> Result<(), String> {
    let dump = h.emulator.admin().dump();
    let vaults: Vec<&Value> = rows(&dump, "vaults")
        .into_iter()
        .filter(|v| v["deleted"].is_null())
        .collect();
    if vaults.len() != 1 {
        return Err(format!("{} live vaults", vaults.len()));
    }
    let mut policies = HashSet::new();
    for p in vaults[0]["props"]["access_policies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let oid = text(p, "object_id");
        if !policies.insert(oid.to_ascii_lowercase()) {
            return Err(format!("duplicate access policy for {oid}"));
        }
    }
    let keys = rows(&dump, "keys");
    let versions: usize = keys
        .iter()
        .map(|k| k["versions"].as_array().map_or(0, Vec::len))
        .sum();
    if keys.len() != 1 || versions != 1 {
        return Err(format!("{} keys with {versions} versions", keys.len()));
    }
    let version = text(&keys[0]["versions"][0], "version");
    let identities = rows(&dump, "identities").len();
    if identities != usize::from(protected) {
        return Err(format!("{identities} identities (orphans?)"));
    }
    let groups = rows(&dump, "container_groups");
    if groups.len() != 1 {
        return Err(format!("{} container groups", groups.len()));
    }
    let group = groups[0];
    let state = text(group, "provisioning_state");
    if state != "Succeeded" {
        return Err(format!("the group is {state}"));
    }
    let encryption = &group["encryption"];
    if !(text(encryption, "key_version").eq_ignore_ascii_case(version)
        && encryption["identity"].is_string() == protected)
    {
        return Err(format!(
            "the group's encryption is {encryption}, the key version {version}"
        ));
    }
    let mut assignments = HashSet::new();
    for a in rows(&dump, "role_assignments") {
        let key = (
            text(a, "scope").to_ascii_lowercase(),
            text(a, "role_definition").to_ascii_lowercase(),
            text(a, "principal_id").to_owned(),
        );
        if !assignments.insert(key) {
            return Err(format!("duplicate role assignment {}", text(a, "id")));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut runs = 20u64;
    let mut seed = 1u64;
    let mut verbose = false;
    let mut timing = TimingProfile::Fast;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--runs" => runs = value(args.next()).unwrap_or(runs),
            "--seed" => seed = value(args.next()).unwrap_or(seed),
            "--verbose" | "-v" => verbose = true,
            "--timing" => match args.next().map(|t| t.parse::<TimingProfile>()) {
                Some(Ok(t)) => timing = t,
                _ => {
                    eprintln!("usage: --timing instant|fast|azure");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!(
                    "usage: chaos [--runs N] [--seed S] [--timing instant|fast|azure] [--verbose]; unknown argument {other:?}"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for i in 0..runs {
        let s = seed.wrapping_add(i);
        if let Err(why) = run(s, verbose, timing).await {
            eprintln!("seed {s}: DID NOT CONVERGE: {why}");
            failures.push(s);
        }
    }
    let converged = runs - failures.len() as u64;
    println!(
        "chaos ({timing} timing): {runs} runs, {converged} converged, {} failed{} in {:.1?} (seeds {seed}..{})",
        failures.len(),
        if failures.is_empty() {
            String::new()
        } else {
            format!(" (seeds {failures:?})")
        },
        started.elapsed(),
        seed.wrapping_add(runs),
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
