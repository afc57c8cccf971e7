//! Benchmark: a fresh emulator's first apply. The emulator binary starts from empty state
//! (under the `instant` timing profile, as the other child benchmarks), and each flow's first
//! `apply` is timed from the ready line, with each step's share, so the work a fresh process
//! does inside the first requests (an RSA key generated on demand, a signing key, caches) shows.

use crate::{
    Result,
    child::{ChildEmulator, cpu_seconds},
    report::{Bench, Cmp, ms, r3},
    specs,
};
use aci_cmk_encrypted_deployment::{Backends, Connection, Orchestrator, OrchestratorOptions};
use serde_json::json;
use std::{path::Path, time::Instant};

/// Runs the benchmark: one fresh emulator per flow.
pub async fn fresh_apply(bin: &Path) -> Result<Bench> {
    let mut bench = Bench::new("fresh_emulator_first_apply");
    for (flow, text) in [
        ("standard", specs::STANDARD),
        ("network_protected", specs::PROTECTED),
    ] {
        let emulator = ChildEmulator::spawn(bin, None).await?;
        let startup = emulator.startup;
        let spec = specs::spec(text, &emulator.profile.subscription_id, None)?;
        let connection = Connection::emulator(&emulator.profile)?;
        let orchestrator = Orchestrator::new(
            Backends::connect(&connection).await?,
            OrchestratorOptions::default(),
        );
        let cpu_before = cpu_seconds("self");
        let started = Instant::now();
        let report = orchestrator.apply(&spec).await;
        let wall = ms(started.elapsed());
        // The emulator is another process: this is the client's CPU alone (10 ms ticks).
        if let (Some(a), Some(b)) = (cpu_before, cpu_seconds("self")) {
            bench.metric(&format!("{flow}_client_cpu_ms"), r3((b - a) * 1000.0));
        }
        emulator.stop().await;
        let report = report?;
        let steps: serde_json::Map<String, serde_json::Value> = report
            .steps
            .iter()
            .filter(|s| !s.duration.is_zero())
            .map(|s| (s.step.as_str().to_owned(), json!(r3(ms(s.duration)))))
            .collect();
        bench.metric(&format!("{flow}_startup_ms"), r3(ms(startup)));
        bench.metric(&format!("{flow}_steps_ms"), steps);
        bench.target(
            &format!("{flow}: first apply on a fresh emulator (ms)"),
            r3(wall),
            Cmp::AtMost,
            200.0,
        );
    }
    Ok(bench)
}
