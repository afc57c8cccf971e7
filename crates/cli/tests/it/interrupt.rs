//! Ctrl-C while a step's request is in flight: the call is abandoned, the finished steps are
//! reported, the exit code is 130, and running `apply` again converges. The test runs the
//! emulator itself (`--emulator-url`), so that it can hold the vault PUT until the
//! interruption and wait for the events the emulator reports instead of the wall clock.

use crate::support::{Run, WorkDir, command_in, interrupt};
use aci_cmk_emulator::{Emulator, EmulatorOptions, FaultConfig, InFlightRequest};
use std::{process::Stdio, time::Duration};
use tokio::sync::watch;

/// The longest the test waits for an event the emulator reports: far beyond what a busy
/// machine takes, so reaching it means the event never comes.
const HANG_GUARD: Duration = Duration::from_secs(300);

fn is_vault_put(request: &InFlightRequest) -> bool {
    request.method == "PUT"
        && request
            .path
            .contains("/providers/Microsoft.KeyVault/vaults/")
}

async fn in_flight_until(
    what: &str,
    in_flight: &mut watch::Receiver<Vec<InFlightRequest>>,
    done: impl FnMut(&Vec<InFlightRequest>) -> bool,
) {
    match tokio::time::timeout(HANG_GUARD, in_flight.wait_for(done)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => panic!("{what}: the emulator stopped"),
        Err(_) => panic!("{what}: not reported within {HANG_GUARD:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_reports_the_finished_steps_exits_130_and_a_rerun_converges() {
    let dir = WorkDir::new("interrupt");
    let emulator = Emulator::start(EmulatorOptions::default())
        .await
        .expect("the emulator starts");
    std::fs::write(dir.path("ready.json"), emulator.info().to_ready_line()).expect("ready line");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["spec.toml", "--emulator-url", "ready.json"]);
        tokio::task::block_in_place(|| dir.run(&all))
    };
    tokio::task::block_in_place(|| dir.run(&["init", "spec.toml", "--emulator-url", "ready.json"]))
        .exits(0);

    // The emulator holds every vault PUT for the longest latency it takes (a minute): apply
    // cannot get past the vault while the test interrupts it.
    let faults: FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{
            "service": "arm",
            "method": "PUT",
            "path_contains": "/providers/Microsoft.KeyVault/vaults/",
            "action": {"type": "latency", "fixed_ms": 60_000}
        }]
    }))
    .expect("a fault configuration");
    emulator.admin().set_faults(faults).expect("faults set");
    let mut in_flight = emulator.admin().watch_in_flight();
    let args = [
        "apply",
        "spec.toml",
        "--emulator-url",
        "ready.json",
        "--output",
        "json",
    ];
    let child = command_in(&dir.0, &args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts");
    in_flight_until("the vault PUT", &mut in_flight, |r| {
        r.iter().any(is_vault_put)
    })
    .await;

    // Ctrl-C.
    interrupt(child.id());
    let output = tokio::task::block_in_place(|| child.wait_with_output()).expect("apply ends");
    let interrupted = Run::new(&args, output).exits(130);
    let document = interrupted.document();
    let error = &document["error"];
    assert_eq!(document["exit_code"], 130, "{interrupted}");
    assert_eq!(error["kind"], "interrupted", "{interrupted}");
    let finished: Vec<&str> = error["finished"]
        .as_array()
        .expect("finished steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert!(finished.contains(&"resource_group"), "{interrupted}");
    assert!(!finished.contains(&"vault"), "{interrupted}");
    // The vault PUT is held; the ACI service principal's step may still be running too.
    let in_flight_steps = error["in_flight"].as_array().expect("steps in flight");
    assert!(in_flight_steps.contains(&"vault".into()), "{interrupted}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("running `aci-cmk apply` again converges"),
        "{interrupted}"
    );

    // The abandoned PUT goes without being handled; then apply again converges.
    in_flight_until("the abandoned vault PUT's end", &mut in_flight, |r| {
        !r.iter().any(is_vault_put)
    })
    .await;
    emulator
        .admin()
        .set_faults(FaultConfig::default())
        .expect("faults cleared");
    run(&["apply"]).exits(0);
    run(&["plan", "--detailed-exitcode"]).exits(0);
    emulator.shutdown().await;
}
