//! Benchmark 4: the emulator binary. Requests/s and latency of a container-group GET and of
//! Key Vault `unwrapkey` under concurrent clients on loopback, raw RSA-2048 private-key
//! operations/s with aws-lc-rs (the emulator's crypto library) on every core, start-up time and
//! idle RSS.

use crate::{
    Result,
    child::{ChildEmulator, cpu_seconds, machine_cpu_seconds, proc_status_kb},
    report::{Bench, Cmp, ms, r3},
    specs,
};
use aci_cmk_core::transport::{HttpTransport, TransportOptions};
use aci_cmk_encrypted_deployment::{Backends, Connection, Orchestrator, OrchestratorOptions};
use aci_cmk_keyvault::{
    keys::WrapAlgorithm,
    models::{AccessPolicyEntry, AccessPolicyUpdateKind, KeyPermission},
};
use aws_lc_rs::{
    encoding::AsDer,
    rsa::{
        KeyPair, KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey,
        OaepPublicEncryptingKey, PrivateDecryptingKey,
    },
};
use base64::Engine as _;
use serde_json::json;
use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

/// Settings of the load benchmarks.
#[derive(Clone, Copy, Debug)]
pub struct LoadSettings {
    /// Concurrent clients, each its own connection.
    pub clients: usize,
    /// Measured time of each load.
    pub secs: f64,
}

/// Start-up time and idle RSS of the emulator binary, in memory and with a state directory.
pub async fn startup(bin: &Path, repeats: usize) -> Result<Bench> {
    let mut bench = Bench::new("emulator_startup");
    let mut memory = Vec::new();
    for _ in 0..repeats.max(1) {
        memory.push(start_once(bin, None).await?);
    }
    let dir = std::env::temp_dir().join(format!("aci-cmk-bench-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The first start in an empty directory generates the CA, TLS and signing keys; the next
    // ones load them.
    let fresh = start_once(bin, Some(&dir)).await?;
    let mut restart = Vec::new();
    for _ in 0..repeats.max(1) {
        restart.push(start_once(bin, Some(&dir)).await?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |v: &mut Vec<(f64, u64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v[v.len() / 2]
    };
    let (m_ms, m_rss) = median(&mut memory);
    let (r_ms, r_rss) = median(&mut restart);
    let mib = |kb: u64| kb as f64 / 1024.0;
    bench.shown(
        "in_memory_startup_ms",
        r3(m_ms),
        format!(
            "{m_ms:.1} ms spawn → ready line (median of {})",
            memory.len()
        ),
    );
    bench.shown(
        "in_memory_idle_rss_kb",
        m_rss,
        format!("{:.1} MiB", mib(m_rss)),
    );
    bench.shown(
        "state_dir_first_startup_ms",
        r3(fresh.0),
        format!(
            "{:.1} ms (empty directory: generates and stores CA, TLS and signing keys)",
            fresh.0
        ),
    );
    bench.shown(
        "state_dir_first_idle_rss_kb",
        fresh.1,
        format!("{:.1} MiB", mib(fresh.1)),
    );
    bench.shown(
        "state_dir_restart_startup_ms",
        r3(r_ms),
        format!("{r_ms:.1} ms (existing state, median of {})", restart.len()),
    );
    bench.shown(
        "state_dir_restart_idle_rss_kb",
        r_rss,
        format!("{:.1} MiB", mib(r_rss)),
    );
    bench.metric(
        "all_in_memory",
        memory
            .iter()
            .map(|(t, r)| json!({"startup_ms": r3(*t), "idle_rss_kb": r}))
            .collect::<Vec<_>>(),
    );
    bench.metric(
        "all_state_dir_restarts",
        restart
            .iter()
            .map(|(t, r)| json!({"startup_ms": r3(*t), "idle_rss_kb": r}))
            .collect::<Vec<_>>(),
    );
    bench.note("idle RSS is VmRSS of the child 1 s after its ready line (the in-memory emulator generates its token signing key in the background after the ready line)");
    Ok(bench)
}

async fn start_once(bin: &Path, dir: Option<&Path>) -> Result<(f64, u64)> {
    let child = ChildEmulator::spawn(bin, dir).await?;
    let startup = ms(child.startup);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = proc_status_kb(&child.pid().to_string(), "VmRSS").unwrap_or(0);
    child.stop().await;
    Ok((startup, rss))
}

/// A bearer token for `audience` from the emulator's token endpoint (client credentials).
pub(crate) async fn token(child: &ChildEmulator, audience: &str) -> Result<String> {
    let p = &child.profile;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &p.client_id)
        .append_pair("client_secret", p.client_secret.expose_secret())
        .append_pair(
            "scope",
            &format!("{}/.default", audience.trim_end_matches('/')),
        )
        .finish();
    let response = child
        .http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            p.authority_host.trim_end_matches('/'),
            p.tenant_id
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let value: serde_json::Value = response.json().await?;
    value["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("token endpoint answered {status}").into())
}

/// One load (or several, merged): what the clients measured.
pub(crate) struct Load {
    pub(crate) requests: usize,
    pub(crate) errors: usize,
    secs: f64,
    /// Latency of each successful request, in milliseconds, sorted.
    latencies_ms: Vec<f64>,
    server_cpu_secs: f64,
    client_cpu_secs: f64,
    /// CPU seconds the whole machine was busy (every process).
    machine_busy_secs: f64,
}

impl Load {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs
    }

    /// The emulator's CPU per request, in seconds.
    fn server_cpu_per_request(&self) -> f64 {
        self.server_cpu_secs / self.requests as f64
    }

    /// The latency below which a fraction `p` of the requests finished, in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        let l = &self.latencies_ms;
        if l.is_empty() {
            f64::NAN
        } else {
            l[((l.len() as f64 * p) as usize).min(l.len() - 1)]
        }
    }

    pub(crate) fn p50_ms(&self) -> f64 {
        self.percentile_ms(0.50)
    }

    pub(crate) fn p99_ms(&self) -> f64 {
        self.percentile_ms(0.99)
    }

    /// Loads run one after another, as one: their requests, time and CPU added up.
    pub(crate) fn merged(loads: Vec<Load>) -> Load {
        let mut all = Load {
            requests: 0,
            errors: 0,
            secs: 0.0,
            latencies_ms: Vec::new(),
            server_cpu_secs: 0.0,
            client_cpu_secs: 0.0,
            machine_busy_secs: 0.0,
        };
        for l in loads {
            all.requests += l.requests;
            all.errors += l.errors;
            all.secs += l.secs;
            all.latencies_ms.extend(l.latencies_ms);
            all.server_cpu_secs += l.server_cpu_secs;
            all.client_cpu_secs += l.client_cpu_secs;
            all.machine_busy_secs += l.machine_busy_secs;
        }
        all.latencies_ms.sort_by(f64::total_cmp);
        all
    }
}

/// `clients` tasks, each with its own HTTP client (its own connection: HTTP/2 over TLS), each
/// sending `make` requests one after another for `secs` after a short warm-up.
pub(crate) async fn load<F>(
    child: &ChildEmulator,
    s: LoadSettings,
    ca: &str,
    make: F,
) -> Result<Load>
where
    F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let warmup = Duration::from_millis(500);
    let measure = Duration::from_secs_f64(s.secs);
    let pid = child.pid().to_string();
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let until = measure_from + measure;
    let mut tasks = Vec::new();
    let cpu = tokio::spawn({
        let pid = pid.clone();
        async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let before = (
                cpu_seconds(&pid),
                cpu_seconds("self"),
                machine_cpu_seconds().map(|m| m.0),
            );
            tokio::time::sleep_until(until.into()).await;
            let after = (
                cpu_seconds(&pid),
                cpu_seconds("self"),
                machine_cpu_seconds().map(|m| m.0),
            );
            let d = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => b - a,
                _ => f64::NAN,
            };
            (
                d(before.0, after.0),
                d(before.1, after.1),
                d(before.2, after.2),
            )
        }
    });
    for _ in 0..s.clients.max(1) {
        let http = HttpTransport::new(TransportOptions::default().with_extra_root_ca_pem(ca))?
            .reqwest_client()
            .clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let ok = match make(&http).send().await {
                    Ok(r) => {
                        let ok = r.status().is_success();
                        ok && r.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                if sent >= measure_from {
                    if ok {
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    let (server_cpu_secs, client_cpu_secs, machine_busy_secs) = cpu.await?;
    latencies.sort_by(f64::total_cmp);
    Ok(Load {
        requests: latencies.len(),
        errors,
        secs: measure.as_secs_f64(),
        latencies_ms: latencies,
        server_cpu_secs,
        client_cpu_secs,
        machine_busy_secs,
    })
}

/// RSA-2048 RSA-OAEP-256 decryptions per second on `threads` threads for `secs`: with the key
/// parsed once (`parse_each = false`: the raw private-key operation) or parsed from PKCS#8 for
/// every operation (what an emulator without its parsed-key cache would pay per request).
/// The CPU time is this process's (nothing else runs in it meanwhile).
fn raw_rsa(threads: usize, secs: f64, parse_each: bool) -> Result<RawRsa> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| "RSA key encoding failed")?
        .as_ref()
        .to_vec();
    let private = PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| "PKCS#8")?;
    let public = OaepPublicEncryptingKey::new(private.public_key()).map_err(|_| "public key")?;
    let mut ciphertext = vec![0u8; public.ciphertext_size()];
    let n = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut ciphertext, None)
        .map_err(|_| "encrypt")?
        .len();
    ciphertext.truncate(n);
    let pkcs8 = Arc::new(pkcs8);
    let ciphertext = Arc::new(ciphertext);
    let cpu_before = cpu_seconds("self");
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (pkcs8, ciphertext) = (pkcs8.clone(), ciphertext.clone());
            std::thread::spawn(move || -> std::result::Result<u64, String> {
                let decrypt = |key: PrivateDecryptingKey| -> std::result::Result<(), String> {
                    let k = OaepPrivateDecryptingKey::new(key).map_err(|_| "key")?;
                    let mut out = vec![0u8; k.min_output_size()];
                    k.decrypt(&OAEP_SHA256_MGF1SHA256, &ciphertext, &mut out, None)
                        .map_err(|_| "decrypt")?;
                    Ok(())
                };
                let parsed = PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| "PKCS#8")?;
                let oaep = OaepPrivateDecryptingKey::new(parsed).map_err(|_| "key")?;
                let mut out = vec![0u8; oaep.min_output_size()];
                let mut count = 0u64;
                while Instant::now() < until {
                    if parse_each {
                        decrypt(PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| "PKCS#8")?)?;
                    } else {
                        oaep.decrypt(&OAEP_SHA256_MGF1SHA256, &ciphertext, &mut out, None)
                            .map_err(|_| "decrypt")?;
                    }
                    count += 1;
                }
                Ok(count)
            })
        })
        .collect();
    let mut total = 0u64;
    for h in handles {
        total += h.join().map_err(|_| "an RSA thread panicked")??;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = match (cpu_before, cpu_seconds("self")) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    Ok(RawRsa {
        ops: total,
        secs,
        cpu_secs,
    })
}

/// RSA operations run outside the emulator (or several runs, merged).
#[derive(Clone, Copy)]
struct RawRsa {
    ops: u64,
    secs: f64,
    cpu_secs: f64,
}

impl RawRsa {
    fn per_sec(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    /// CPU seconds per operation.
    fn cpu_per_op(&self) -> f64 {
        self.cpu_secs / self.ops as f64
    }

    fn merged(runs: &[RawRsa]) -> RawRsa {
        runs.iter().fold(
            RawRsa {
                ops: 0,
                secs: 0.0,
                cpu_secs: 0.0,
            },
            |a, r| RawRsa {
                ops: a.ops + r.ops,
                secs: a.secs + r.secs,
                cpu_secs: a.cpu_secs + r.cpu_secs,
            },
        )
    }
}

/// Rounds of the unwrapKey measurement. The machine's speed drifts between seconds (a shared
/// host: raw RSA measured 0.43 to 0.67 ms of CPU per operation a few seconds apart), so raw
/// RSA and unwrapKey are measured back to back in each round, then the key GET, never one long
/// run of each apart: a ratio of CPU times is only a ratio when both ran on the same machine.
/// Raw RSA runs on one thread and on one thread per core; the cheaper per operation is the
/// reference.
const UNWRAP_ROUNDS: usize = 6;

/// Throughput of a container-group GET and of unwrapkey, and raw RSA, on the emulator binary.
pub async fn throughput(bin: &Path, s: LoadSettings) -> Result<(Bench, Bench)> {
    let child = ChildEmulator::spawn(bin, None).await?;
    child
        .set_faults(&json!({"aci_provisioning_ms": 0, "rules": []}))
        .await?;
    let p = child.profile.clone();
    let ca = p.ca_cert_pem()?;

    // Set up through the SDK: the standard flow, then unwrap rights for the deployer and one
    // data key wrapped by the vault key.
    let spec = specs::spec(specs::STANDARD, &p.subscription_id, None)?;
    let connection = Connection::emulator(&p)?;
    let orchestrator = Orchestrator::new(
        Backends::connect(&connection).await?,
        OrchestratorOptions::default(),
    );
    let report = orchestrator.apply(&spec).await?;
    let b = orchestrator.backends();
    let vault = b
        .vaults
        .get(&spec.resource_group, &spec.vault.name, None)
        .await?;
    b.vaults
        .update_access_policy(
            &spec.resource_group,
            &spec.vault.name,
            AccessPolicyUpdateKind::Add,
            &[AccessPolicyEntry::for_keys(
                vault.properties.tenant_id.clone(),
                b.deployer.object_id.clone(),
                [
                    KeyPermission::Get,
                    KeyPermission::WrapKey,
                    KeyPermission::UnwrapKey,
                ],
            )],
            None,
        )
        .await?;
    let key = report.key_id.clone().ok_or("no key id")?;
    let version = key.version().cloned().ok_or("no key version")?;
    let url = report.vault_uri.clone().ok_or("no vault URI")?;
    let wrapped = b
        .keys
        .wrap_key(
            &url,
            spec.key.name(),
            Some(&version),
            WrapAlgorithm::RsaOaep256,
            &azure_core::credentials::SecretBytes::new(vec![7u8; 32]),
            None,
        )
        .await?;

    let arm_token = token(&child, &p.arm_audience).await?;
    let kv_token = token(&child, &p.keyvault_audience).await?;
    let group = spec
        .workload
        .container_group()
        .ok_or("the spec has a group")?;
    let get_url = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerInstance/containerGroups/{}?api-version={}",
        p.arm_endpoint.trim_end_matches('/'),
        p.subscription_id,
        spec.resource_group,
        group.name,
        aci_cmk_aci::api_version::ApiVersion::DEFAULT
    );
    let key_version_url = format!(
        "{}/keys/{}/{}",
        url.as_str().trim_end_matches('/'),
        spec.key.name(),
        version
    );
    let key_url = format!("{key_version_url}?api-version=7.4");
    let unwrap_url = format!("{key_version_url}/unwrapkey?api-version=7.4");
    let unwrap_body = json!({
        "alg": "RSA-OAEP-256",
        "value": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&wrapped.encrypted_key),
    })
    .to_string();

    let get = {
        let (u, t) = (get_url.clone(), format!("Bearer {arm_token}"));
        load(&child, s, &ca, move |c| {
            c.get(&u).header("authorization", &t)
        })
        .await?
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let round = LoadSettings {
        secs: (s.secs / 3.0).max(0.2),
        ..s
    };
    let (mut raws, mut key_gets, mut unwraps) = (Vec::new(), Vec::new(), Vec::new());
    let mut raws_one = Vec::new();
    for _ in 0..UNWRAP_ROUNDS {
        raws_one.push(
            tokio::task::spawn_blocking(move || raw_rsa(1, round.secs.min(1.0) / 2.0, false))
                .await??,
        );
        raws.push(
            tokio::task::spawn_blocking(move || raw_rsa(threads, round.secs.min(1.0) / 2.0, false))
                .await??,
        );
        let (u, t, body) = (
            unwrap_url.clone(),
            format!("Bearer {kv_token}"),
            unwrap_body.clone(),
        );
        unwraps.push(
            load(&child, round, &ca, move |c| {
                c.post(&u)
                    .header("authorization", &t)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await?,
        );
        // The same vault, key version and token without the RSA operation: what the
        // transport (TLS, HTTP/2), the token check, the access check and a JSON answer cost.
        let (u, t) = (key_url.clone(), format!("Bearer {kv_token}"));
        key_gets.push(
            load(&child, round, &ca, move |c| {
                c.get(&u).header("authorization", &t)
            })
            .await?,
        );
    }
    // The key GET again with one client: every request alone, none sharing a wake-up, a cache
    // fill or a read with another. What the HTTP path costs when nothing batches it, as
    // between RSA operations.
    let key_get_alone = {
        let (u, t) = (key_url.clone(), format!("Bearer {kv_token}"));
        let one = LoadSettings {
            clients: 1,
            ..round
        };
        load(&child, one, &ca, move |c| {
            c.get(&u).header("authorization", &t)
        })
        .await?
    };
    child.stop().await;
    // The reference is the cheaper raw figure of the round: one thread alone, or one per core
    // (on a shared host two busy vCPUs can slow each other down).
    let cpu_ratio_by_round: Vec<f64> = raws
        .iter()
        .zip(&raws_one)
        .zip(&unwraps)
        .map(|((r, one), u)| r3(r.cpu_per_op().min(one.cpu_per_op()) / u.server_cpu_per_request()))
        .collect();
    let raw_runs = RawRsa::merged(&raws);
    let raw_one = RawRsa::merged(&raws_one);
    let raw = raw_runs.per_sec();
    let raw_cpu = raw_runs.cpu_per_op().min(raw_one.cpu_per_op());
    let key_get = Load::merged(key_gets);
    let unwrap = Load::merged(unwraps);
    let parsed = tokio::task::spawn_blocking(move || raw_rsa(threads, 1.0, true)).await??;
    let (parsed_each, parsed_cpu) = (parsed.per_sec(), parsed.cpu_per_op());

    let mut g = Bench::new("emulator_get_container_group");
    describe(&mut g, &get, s);
    g.note("a GET of a CMK-encrypted group decrypts its secure values with the group's data key, kept unwrapped in memory while nothing that could revoke it changed (any store write, a move of the clock, the key version's nbf/exp): the RSA unwrap through the vault is paid once, not per read");
    g.target("GET p99 (ms)", r3(get.p99_ms()), Cmp::AtMost, 2.0);
    g.shown(
        "get_over_raw_rsa",
        r3(get.rps() / raw),
        format!("{:.3} of raw RSA ops/s", get.rps() / raw),
    );

    let mut u = Bench::new("emulator_unwrapkey_rsa2048");
    describe(&mut u, &unwrap, s);
    u.shown(
        "raw_rsa2048_oaep256_decrypt_per_sec",
        r3(raw),
        format!(
            "{raw:.0} ops/s on {threads} threads, key parsed once ({:.3} ms CPU per op; {:.3} ms on one thread alone)",
            raw_runs.cpu_per_op() * 1000.0,
            raw_one.cpu_per_op() * 1000.0
        ),
    );
    u.metric("raw_cpu_ms_per_op", r3(raw_cpu * 1000.0));
    u.metric(
        "raw_cpu_ms_per_op_one_thread",
        r3(raw_one.cpu_per_op() * 1000.0),
    );
    u.shown(
        "raw_rsa2048_parse_and_decrypt_per_sec",
        r3(parsed_each),
        format!(
            "{parsed_each:.0} ops/s, PKCS#8 parsed per op, for comparison ({:.3} ms CPU per op)",
            parsed_cpu * 1000.0
        ),
    );
    u.metric("parse_and_decrypt_cpu_ms_per_op", r3(parsed_cpu * 1000.0));
    u.metric("threads", threads);
    let ratio = unwrap.rps() / raw;
    let server_per_req = unwrap.server_cpu_per_request();
    let client_per_req = unwrap.client_cpu_secs / unwrap.requests as f64;
    let cpu_ratio = raw_cpu / server_per_req;
    u.shown(
        "unwrapkey_per_emulator_cpu_sec_over_raw",
        r3(cpu_ratio),
        format!(
            "{cpu_ratio:.3}: raw RSA CPU per op ÷ emulator CPU per unwrapKey (insensitive to other load); \
             {UNWRAP_ROUNDS} rounds of raw RSA and unwrapKey back to back, by round {cpu_ratio_by_round:?}"
        ),
    );
    u.metric("cpu_ratio_by_round", cpu_ratio_by_round.clone());
    u.shown(
        "unwrapkey_per_sec_over_raw",
        r3(ratio),
        format!("{ratio:.3} of raw RSA ops/s (wall: the load clients share the cores)"),
    );
    // CPU per request by phase: the transport, token and access check and a JSON answer (a
    // key GET on the same connection setup and token), the RSA operation (raw), and the rest
    // (the body's JSON and base64, the decryption context, the scheduling of a request that
    // holds a worker for the RSA operation).
    let transport = key_get.server_cpu_per_request() * 1000.0;
    let rest = server_per_req * 1000.0 - transport - raw_cpu * 1000.0;
    u.shown(
        "cpu_ms_by_phase",
        json!({
            "transport_token_access_json": r3(transport),
            "rsa_private_key_operation": r3(raw_cpu * 1000.0),
            "rest": r3(rest),
        }),
        format!(
            "transport + token + access + JSON {transport:.3} ms (a key GET), RSA {:.3} ms, rest {rest:.3} ms",
            raw_cpu * 1000.0
        ),
    );
    let alone = key_get_alone.server_cpu_per_request() * 1000.0;
    u.shown(
        "key_get_one_client_cpu_ms",
        r3(alone),
        format!("{alone:.3} ms of emulator CPU per key GET with one client (against {transport:.3} ms with {})", s.clients),
    );
    u.metric("key_get_latency_p99_ms", r3(key_get.p99_ms()));
    let met = u.target(
        "raw RSA CPU ÷ emulator CPU per unwrapKey",
        r3(cpu_ratio),
        Cmp::AtLeast,
        0.8,
    );
    if !met {
        let elapsed = unwrap.secs;
        let others = unwrap.machine_busy_secs - unwrap.server_cpu_secs - unwrap.client_cpu_secs;
        u.note(format!(
            "missed: per unwrapKey the emulator spends {:.3} ms of CPU against {:.3} ms for the raw RSA operation ({:.3} ms if it parsed the key each time). \
             Measured while tuning (issue 16, two vCPUs): an unwrapKey with its RSA call removed cost what a key GET costs (0.066-0.081 ms), so \
             the rest is the same HTTP path run between RSA operations: each request alone and its code and data cold (the RSA window tables fill the first-level cache), \
             as this run's key GET with one client ({alone:.3} ms) shows. Tried while tuning: the RSA operation on tokio's blocking pool, on a bounded pool of 1 or {threads} threads (no gain with {} clients, 0.93 ms per unwrapKey with 1-2), mimalloc (no gain, twice the idle RSS); one request worker per two cores (ADR 006) took the ratio from 0.66-0.70 to 0.78-0.85, the round-to-round spread of this host. \
             The load clients spend {:.3} ms per request on the same {threads} cores. During the load the machine was busy {:.2} of {threads} cores: emulator {:.2}, clients {:.2}, other processes {:.2}",
            server_per_req * 1000.0,
            raw_cpu * 1000.0,
            parsed_cpu * 1000.0,
            s.clients,
            client_per_req * 1000.0,
            unwrap.machine_busy_secs / elapsed,
            unwrap.server_cpu_secs / elapsed,
            unwrap.client_cpu_secs / elapsed,
            others / elapsed,
        ));
    }
    Ok((g, u))
}

fn describe(bench: &mut Bench, l: &Load, s: LoadSettings) {
    bench.shown(
        "clients",
        s.clients,
        format!(
            "{} tasks, each its own HTTP client and connection (HTTP/2 over TLS, loopback)",
            s.clients
        ),
    );
    bench.shown(
        "requests_per_sec",
        r3(l.rps()),
        format!(
            "{:.0}/s ({} in {:.1} s, {} errors)",
            l.rps(),
            l.requests,
            l.secs,
            l.errors
        ),
    );
    bench.metric("requests", l.requests);
    bench.metric("errors", l.errors);
    bench.shown(
        "latency_p50_ms",
        r3(l.p50_ms()),
        format!("p50 {:.2} ms, p99 {:.2} ms", l.p50_ms(), l.p99_ms()),
    );
    bench.metric("latency_p99_ms", r3(l.p99_ms()));
    bench.shown(
        "emulator_cpu_ms_per_request",
        r3(l.server_cpu_per_request() * 1000.0),
        format!(
            "{:.3} ms (client {:.3} ms)",
            l.server_cpu_per_request() * 1000.0,
            l.client_cpu_secs / l.requests as f64 * 1000.0
        ),
    );
    bench.metric("machine_busy_cores", r3(l.machine_busy_secs / l.secs));
    bench.metric(
        "client_cpu_ms_per_request",
        r3(l.client_cpu_secs / l.requests as f64 * 1000.0),
    );
}
