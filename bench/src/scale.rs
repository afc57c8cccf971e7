//! Benchmark: the emulator holding many resources — 10,000 container groups and 1,000 vaults
//! by default, in a state directory. Idle RSS once they are in; a group GET's p99 and a list
//! page's with all of them against an emulator holding 10 groups, measured in turn; the
//! subscription-wide group list, paged to the end (every group seen exactly once, each page's
//! latency); and a restart on the state directory.
//! Seeding goes through the emulator's ARM API, concurrently, and is not what is measured.

use crate::{
    Result,
    child::{ChildEmulator, proc_status_kb},
    load::{self, LoadSettings},
    report::{Bench, Cmp, ms, r3},
};
use futures::StreamExt;
use serde_json::{Value, json};
use std::{collections::BTreeSet, path::Path, time::Instant};

/// Settings of the scale benchmark.
#[derive(Clone, Copy, Debug)]
pub struct ScaleSettings {
    /// Container groups.
    pub groups: usize,
    /// Vaults.
    pub vaults: usize,
    /// The GET load's clients and seconds.
    pub load: LoadSettings,
}

const ACI_API: &str = "2023-05-01";
const KV_API: &str = "2023-07-01";
/// Groups per resource group.
const PER_RG: usize = 100;
/// The page size (`$top`) of the list read to its end after seeding, as a client paging
/// through a large subscription asks.
const PAGE: usize = 100;
/// The page size the latency comparison reads: the 10-group subscription's whole list is one
/// page of 10, so pages of 10 compare like with like.
const SMALL_PAGE: usize = 10;
/// Rounds of the 10-group and all-group measurements, in turn.
const ROUNDS: usize = 3;

fn group_path(sub: &str, i: usize) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-scale-{:03}/providers/Microsoft.ContainerInstance/containerGroups/g-{i:05}",
        i / PER_RG
    )
}

/// PUTs every `(path, api-version, body)` with `concurrency` in flight; the number that failed.
async fn put_all(
    child: &ChildEmulator,
    token: &str,
    items: Vec<(String, &'static str, Value)>,
    concurrency: usize,
) -> usize {
    let base = child.profile.arm_endpoint.trim_end_matches('/').to_owned();
    futures::stream::iter(items)
        .map(|(path, api, body)| {
            let url = format!("{base}{path}?api-version={api}");
            let request = child.http.put(url).bearer_auth(token).json(&body);
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        })
        .buffer_unordered(concurrency)
        .filter(|ok| std::future::ready(!ok))
        .count()
        .await
}

fn plain_group() -> Value {
    json!({"location": "westeurope", "properties": {"osType": "Linux", "restartPolicy": "Never",
        "containers": [{"name": "app", "properties": {"image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
            "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}}}]}})
}

/// Creates groups `from..to` (and their resource groups).
async fn seed_groups(child: &ChildEmulator, token: &str, from: usize, to: usize) -> Result<()> {
    let sub = &child.profile.subscription_id;
    let rgs: BTreeSet<usize> = (from..to).map(|i| i / PER_RG).collect();
    let rg_items = rgs
        .into_iter()
        .map(|r| {
            (
                format!("/subscriptions/{sub}/resourcegroups/rg-scale-{r:03}"),
                "2021-04-01",
                json!({"location": "westeurope"}),
            )
        })
        .collect();
    let failed = put_all(child, token, rg_items, 16).await;
    let items = (from..to)
        .map(|i| (group_path(sub, i), ACI_API, plain_group()))
        .collect();
    let failed = failed + put_all(child, token, items, 32).await;
    if failed > 0 {
        return Err(format!("{failed} seeding PUTs failed").into());
    }
    Ok(())
}

/// Creates `n` vaults in a resource group of their own.
async fn seed_vaults(child: &ChildEmulator, token: &str, n: usize) -> Result<()> {
    let p = &child.profile;
    let sub = &p.subscription_id;
    let mut items = vec![(
        format!("/subscriptions/{sub}/resourcegroups/rg-scale-vaults"),
        "2021-04-01",
        json!({"location": "westeurope"}),
    )];
    let failed = put_all(child, token, std::mem::take(&mut items), 1).await;
    let items = (0..n)
        .map(|i| {
            (
                format!("/subscriptions/{sub}/resourceGroups/rg-scale-vaults/providers/Microsoft.KeyVault/vaults/scale-kv-{i:04}"),
                KV_API,
                json!({"location": "westeurope", "properties": {"tenantId": p.tenant_id,
                    "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}}),
            )
        })
        .collect();
    let failed = failed + put_all(child, token, items, 32).await;
    if failed > 0 {
        return Err(format!("{failed} vault PUTs failed").into());
    }
    Ok(())
}

/// A GET of one group under load: its p99.
async fn get_p99(child: &ChildEmulator, token: &str, s: LoadSettings) -> Result<load::Load> {
    let p = &child.profile;
    let url = format!(
        "{}{}?api-version={ACI_API}",
        p.arm_endpoint.trim_end_matches('/'),
        group_path(&p.subscription_id, 0)
    );
    let auth = format!("Bearer {token}");
    load::load(child, s, &p.ca_cert_pem()?, move |c| {
        c.get(&url).header("authorization", &auth)
    })
    .await
}

/// The subscription's groups, paged `top` at a time to the end: their names, and each page's
/// latency (ms).
async fn list_all(
    child: &ChildEmulator,
    token: &str,
    top: usize,
) -> Result<(Vec<String>, Vec<f64>)> {
    let p = &child.profile;
    let mut next = Some(format!(
        "{}/subscriptions/{}/providers/Microsoft.ContainerInstance/containerGroups?api-version={ACI_API}&$top={top}",
        p.arm_endpoint.trim_end_matches('/'),
        p.subscription_id
    ));
    let (mut names, mut pages) = (Vec::new(), Vec::new());
    while let Some(url) = next.take() {
        let started = Instant::now();
        let page: Value = child
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        pages.push(ms(started.elapsed()));
        for g in page["value"].as_array().into_iter().flatten() {
            names.push(g["name"].as_str().unwrap_or_default().to_owned());
        }
        next = page["nextLink"].as_str().map(str::to_owned);
        if pages.len() > 100_000 {
            return Err("the list never ends".into());
        }
    }
    Ok((names, pages))
}

fn p99(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * 0.99) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

/// Runs the benchmark.
pub async fn scale(bin: &Path, s: ScaleSettings) -> Result<Bench> {
    let mut bench = Bench::new("emulator_scale");
    let dir = std::env::temp_dir().join(format!("aci-cmk-bench-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = ChildEmulator::spawn(bin, Some(&dir)).await?;
    child
        .set_faults(&json!({"aci_provisioning_ms": 0, "rules": []}))
        .await?;
    let token = load::token(&child, &child.profile.arm_audience).await?;

    // The 10-group figures come from a second emulator holding 10 groups, running beside
    // this one: the host's speed drifts between seconds, so the two are measured in turn,
    // round after round, not minutes apart.
    let small_child = ChildEmulator::spawn(bin, None).await?;
    small_child
        .set_faults(&json!({"aci_provisioning_ms": 0, "rules": []}))
        .await?;
    let small_token = load::token(&small_child, &small_child.profile.arm_audience).await?;
    let small = 10.min(s.groups);
    seed_groups(&small_child, &small_token, 0, small).await?;

    let seeding = Instant::now();
    seed_groups(&child, &token, 0, s.groups).await?;
    seed_vaults(&child, &token, s.vaults).await?;
    bench.metric("seeding_s", r3(seeding.elapsed().as_secs_f64()));
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let rss_kb = proc_status_kb(&child.pid().to_string(), "VmRSS").unwrap_or(0);
    let (names, pages) = list_all(&child, &token, PAGE).await?;

    let round = LoadSettings {
        secs: (s.load.secs / ROUNDS as f64).max(0.2),
        ..s.load
    };
    let (mut gets_small, mut gets_large) = (Vec::new(), Vec::new());
    let (mut pages_small, mut pages_large) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        gets_small.push(get_p99(&small_child, &small_token, round).await?);
        gets_large.push(get_p99(&child, &token, round).await?);
        // The small list is one page: read it as many times as the large list has pages.
        let (_, large) = list_all(&child, &token, SMALL_PAGE).await?;
        for _ in 0..large.len().div_ceil(small.div_ceil(SMALL_PAGE).max(1)) {
            let (_, one) = list_all(&small_child, &small_token, SMALL_PAGE).await?;
            pages_small.extend(one);
        }
        pages_large.extend(large);
    }
    small_child.stop().await;
    child.stop().await;
    let get_small = load::Load::merged(gets_small);
    let get_large = load::Load::merged(gets_large);

    // A restart on the state directory loads everything.
    let restarted = ChildEmulator::spawn(bin, Some(&dir)).await?;
    let restart_ms = ms(restarted.startup);
    let token = load::token(&restarted, &restarted.profile.arm_audience).await?;
    let (after_restart, _) = list_all(&restarted, &token, PAGE).await?;
    restarted.stop().await;
    let _ = std::fs::remove_dir_all(&dir);

    let distinct: BTreeSet<&String> = names.iter().collect();
    bench.metric("groups", s.groups);
    bench.metric("vaults", s.vaults);
    bench.metric("get_p99_ms_10_groups", r3(get_small.p99_ms()));
    bench.metric("get_p99_ms_all_groups", r3(get_large.p99_ms()));
    bench.metric("get_errors", get_small.errors + get_large.errors);
    bench.metric("list_pages_of_100", pages.len());
    bench.metric("list_page_of_100_p99_ms", r3(p99(pages)));
    bench.metric(
        "list_page_of_10_p99_ms_10_groups",
        r3(p99(pages_small.clone())),
    );
    bench.metric(
        "list_page_of_10_p99_ms_all_groups",
        r3(p99(pages_large.clone())),
    );
    bench.target(
        "idle RSS with all of them (MiB)",
        r3(rss_kb as f64 / 1024.0),
        Cmp::AtMost,
        150.0,
    );
    bench.target(
        "group GET p99: all ÷ 10 groups",
        r3(get_large.p99_ms() / get_small.p99_ms()),
        Cmp::AtMost,
        1.2,
    );
    bench.target(
        "list page (10 groups) p99: all ÷ 10 groups",
        r3(p99(pages_large) / p99(pages_small)),
        Cmp::AtMost,
        1.2,
    );
    bench.target(
        "groups listed once each ÷ groups",
        r3(distinct.len() as f64 / s.groups as f64),
        Cmp::AtLeast,
        1.0,
    );
    bench.target(
        "duplicates in the list",
        (names.len() - distinct.len()) as f64,
        Cmp::AtMost,
        0.0,
    );
    bench.target(
        "restart on the state directory (ms)",
        r3(restart_ms),
        Cmp::AtMost,
        1000.0,
    );
    bench.target(
        "groups listed after the restart ÷ groups",
        r3(after_restart.len() as f64 / s.groups as f64),
        Cmp::AtLeast,
        1.0,
    );
    Ok(bench)
}
