//! Benchmark 5: the posture audit of N container groups over V vaults (one key each), against
//! the emulator binary adding a fixed latency L to every request once the subscription is
//! seeded: the requests it makes (list pages plus a constant per distinct vault and key, never
//! per group), its wall time over the longest chain of dependent requests × L, and the
//! client's peak memory.
//!
//! The seed (not measured) uses the SDK's clients through `aci_cmk_posture::seed`, concurrently:
//! half the vaults authorize with access policies and hold the ACI first-party principal's
//! grant (standard-flow groups), half with Azure RBAC behind a firewall, each with an
//! identity holding Key Vault Crypto Service Encryption User (network-protected groups).

use crate::{
    Result, chain,
    child::{ChildEmulator, proc_status_kb, reset_peak_rss},
    report::{Bench, Cmp, ms, r3},
};
use aci_cmk_encrypted_deployment::{Backends, Connection};
use aci_cmk_identity::role_assignments::RoleDefinitionId;
use aci_cmk_posture::{
    AuditOptions, AuditScope, Auditor,
    seed::{Builder, VaultSetup},
};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::{path::Path, time::Instant};
use time::OffsetDateTime;

/// Settings of the audit benchmark.
#[derive(Clone, Copy, Debug)]
pub struct AuditSettings {
    /// Container groups.
    pub groups: usize,
    /// Vaults (one key each; the groups spread evenly over them).
    pub vaults: usize,
    /// Latency L added to every request of the measured audit, in milliseconds.
    pub latency_ms: u64,
    /// Seeding calls at once.
    pub seed_concurrency: usize,
}

/// The requests beyond the list pages that each distinct vault and key may cost at most: a
/// key's current version, versions and rotation policy; an RBAC vault's role assignments; the
/// identity its groups reach it as.
const PER_VAULT_AND_KEY: f64 = 3.0;

/// Seeds `s.vaults` vaults with one key each and `s.groups` groups over them.
async fn seed(backends: &Backends, s: AuditSettings) -> Result<()> {
    let m = Builder::new(backends, OffsetDateTime::now_utc())?;
    let rg = m.rg("rg-audit-bench").await?;
    let aci = m.aci_principal().await?;
    let vaults: Vec<_> = futures::stream::iter((0..s.vaults).map(|i| {
        let (m, rg, aci) = (&m, &rg, &aci);
        async move {
            let rbac = i % 2 == 1;
            let vault = m
                .vault(
                    rg,
                    &format!("kv-bench-{i:03}"),
                    VaultSetup::new(rbac, true, rbac),
                )
                .await?;
            let key = m.clean_key(&vault, "cmk").await?;
            let identity = if rbac {
                let identity = m.identity(rg, &format!("id-bench-{i:03}")).await?;
                m.role(
                    &vault.id,
                    RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                    &identity.principal_id,
                )
                .await?;
                Some(identity)
            } else {
                m.grant(&vault, aci).await?;
                None
            };
            Ok::<_, aci_cmk_posture::seed::SeedError>((key, identity))
        }
    }))
    .buffer_unordered(s.seed_concurrency.max(1))
    .try_collect()
    .await?;
    futures::stream::iter((0..s.groups).map(|g| {
        let (m, rg, vaults) = (&m, &rg, &vaults);
        async move {
            let (key, identity) = &vaults[g % vaults.len()];
            m.group(
                rg,
                &format!("g-bench-{g:04}"),
                Some(key),
                identity.as_ref(),
                &[],
            )
            .await
            .map(|_| ())
        }
    }))
    .buffer_unordered(s.seed_concurrency.max(1))
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}

/// Runs the audit benchmark.
pub async fn audit(bin: &Path, s: AuditSettings) -> Result<Bench> {
    let mut bench = Bench::new("posture_audit");
    let emulator = ChildEmulator::spawn(bin, None).await?;
    emulator
        .set_faults(&json!({"aci_provisioning_ms": 0}))
        .await?;
    let profile = emulator.profile.clone();
    let seeding = Instant::now();
    let seeded_by = Backends::connect(&Connection::emulator(&profile)?).await?;
    seed(&seeded_by, s).await?;
    let seed_ms = ms(seeding.elapsed());
    drop(seeded_by);

    emulator
        .set_faults(&json!({
            "aci_provisioning_ms": 0,
            "rules": [{"action": {"type": "latency", "fixed_ms": s.latency_ms}}]
        }))
        .await?;
    emulator.clear_requests().await?;
    let reset = reset_peak_rss();
    let rss_before = proc_status_kb("self", "VmRSS").unwrap_or(0);
    let t0 = OffsetDateTime::now_utc();
    let started = Instant::now();
    // As a user runs it: connect (tokens), then audit.
    let backends = Backends::connect(&Connection::emulator(&profile)?).await?;
    let options = AuditOptions::default();
    let concurrency = options.concurrency;
    let report = Auditor::new(backends, options)
        .audit(&AuditScope::subscription())
        .await?;
    let wall_ms = ms(started.elapsed());
    let hwm = proc_status_kb("self", "VmHWM").unwrap_or(0);
    let log = emulator.log().await?;
    emulator.stop().await;

    let reqs = chain::requests(&log, t0)?;
    let longest = chain::longest_chain(&reqs);
    let l = s.latency_ms as f64;
    let ratio = wall_ms / (longest.members.len() as f64 * l);
    let breakdown = chain::breakdown(&reqs, &longest, wall_ms, l);
    let is_list = |e: &aci_cmk_emulator::LogEntry| {
        let p = e.path.to_ascii_lowercase();
        e.method == "GET"
            && p.starts_with("/subscriptions/")
            && (p.ends_with("/providers/microsoft.containerinstance/containergroups")
                || p.ends_with("/providers/microsoft.keyvault/vaults"))
    };
    let pages = log.iter().filter(|e| is_list(e)).count();
    let tokens = log.iter().filter(|e| e.service == "token").count();
    let total = log.len();
    let distinct = report.inventory.vaults + report.inventory.keys;
    let per_distinct = (total - pages) as f64 / distinct.max(1) as f64;
    let per_service = log.iter().fold(
        std::collections::BTreeMap::<String, usize>::new(),
        |mut m, e| {
            *m.entry(e.service.clone()).or_default() += 1;
            m
        },
    );

    bench.metric("latency_ms", s.latency_ms);
    bench.metric("audit_concurrency", concurrency);
    bench.shown(
        "seeded",
        json!({"groups": s.groups, "vaults": s.vaults, "ms": r3(seed_ms)}),
        format!(
            "{} groups over {} vaults (one key each) in {:.1} s (not measured)",
            s.groups,
            s.vaults,
            seed_ms / 1000.0
        ),
    );
    bench.shown(
        "audited",
        json!({"groups": report.inventory.groups, "vaults": report.inventory.vaults, "keys": report.inventory.keys, "identities": report.inventory.identities, "findings": report.findings.len(), "gaps": report.gaps.len()}),
        format!(
            "{} groups, {} vaults, {} keys, {} identities: {} findings, {} gaps",
            report.inventory.groups,
            report.inventory.vaults,
            report.inventory.keys,
            report.inventory.identities,
            report.findings.len(),
            report.gaps.len()
        ),
    );
    bench.shown(
        "requests",
        total,
        format!(
            "{total} ({pages} list pages, {tokens} tokens; {per_distinct:.2} beyond the pages per distinct vault and key)"
        ),
    );
    bench.metric("requests_per_service", json!(per_service));
    bench.metric("calls_by_method", json!(report.calls));
    bench.metric("list_pages", pages);
    bench.metric("token_requests", tokens);
    bench.shown(
        "wall_ms",
        r3(wall_ms),
        format!("{wall_ms:.1} ms (connect and audit)"),
    );
    bench.shown(
        "chain_length",
        longest.members.len(),
        format!(
            "{} requests (lower bound {} ms)",
            longest.members.len(),
            longest.members.len() as f64 * l
        ),
    );
    bench.shown(
        "client_gaps_on_chain_ms",
        breakdown["client_gaps_total_ms"].clone(),
        format!(
            "{} ms (server work beyond L on the chain: {} ms)",
            breakdown["client_gaps_total_ms"], breakdown["server_work_beyond_latency_ms"]
        ),
    );
    bench.metric("breakdown", breakdown.clone());
    bench.shown(
        "client_peak_rss_kb",
        hwm,
        format!(
            "{:.1} MiB VmHWM (RSS before the audit {:.1} MiB{})",
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
    bench.target("wall / (chain × L)", r3(ratio), Cmp::AtMost, 1.2);
    bench.target(
        "(requests − list pages) / (distinct vaults + keys)",
        r3(per_distinct),
        Cmp::AtMost,
        PER_VAULT_AND_KEY,
    );
    bench.target(
        "groups audited",
        report.inventory.groups as f64,
        Cmp::Equal,
        s.groups as f64,
    );
    bench.target("gaps", report.gaps.len() as f64, Cmp::Equal, 0.0);
    bench.note(format!(
        "largest gaps on the chain: {}",
        chain::largest_gaps(&breakdown, 4)
    ));
    let challenges = log
        .iter()
        .filter(|e| e.service == "keyvault" && e.status == 401)
        .count();
    bench.metric("keyvault_challenges", challenges);
    bench.note(format!(
        "beyond the pages: per key its current version, versions and rotation policy; per vault one Key Vault authentication challenge (401, {challenges} in all: the key client's first request to a vault goes without a token), per RBAC vault its role assignments, per identity one read; once the ACI principal and each role definition"
    ));
    bench.note(format!(
        "the audit reads at most {concurrency} things at once (AuditOptions::concurrency), so the chain is about its reads / {concurrency} long: the bound is the client's, not the server's"
    ));
    Ok(bench)
}
