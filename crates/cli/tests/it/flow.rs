//! The operator's whole day against the embedded emulator, whose state in `.aci-cmk/` of the
//! working directory carries over from one command to the next: init → plan (changes) →
//! apply → plan (none) → status → audit → remediate → rotate → rotate --follow-latest → destroy, in text and JSON, and nothing secret in
//! any output.

use crate::support::{Run, WorkDir, assert_no_secret};
use serde_json::Value;

/// The spec's secure environment value.
const SECURE: &str = "s3cret-db-password-never-printed";

#[test]
fn init_plan_apply_plan_status_rotate_destroy_against_the_embedded_emulator() {
    let dir = WorkDir::new("flow");
    let mut runs: Vec<Run> = Vec::new();
    let emulated = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["spec.toml", "--emulator"]);
        dir.run(&all)
    };

    let init = dir
        .run(&[
            "init",
            "spec.toml",
            "--emulator",
            "--flow",
            "network-protected",
            "--output",
            "json",
        ])
        .exits(0);
    let result = &init.document()["result"];
    assert_eq!(result["subscription_from"], "emulator", "{init}");
    assert_eq!(result["flow"], "network_protected", "{init}");
    runs.push(init);
    assert!(
        dir.path(".aci-cmk/emulator/port").is_file(),
        "the port is remembered"
    );
    let spec = std::fs::read_to_string(dir.path("spec.toml")).expect("init wrote the spec");
    let with_secret = spec.replace(
        r#"# secure_env = { DB_PASSWORD = "..." }"#,
        &format!(r#"secure_env = {{ DB_PASSWORD = "{SECURE}" }}"#),
    );
    assert_ne!(spec, with_secret, "the spec has a secure_env line to fill");
    std::fs::write(dir.path("spec.toml"), with_secret).expect("spec written");

    // Nothing exists yet: plan shows changes, and says so with exit 2.
    let plan = emulated(&["plan", "--detailed-exitcode"]).exits(2);
    assert!(
        plan.stdout.contains("container group          create"),
        "{plan}"
    );
    let plan_json = emulated(&["plan", "--detailed-exitcode", "--output", "json"]).exits(2);
    let document = plan_json.document();
    assert_eq!(document["exit_code"], 2);
    assert_eq!(document["result"]["converged"], false);
    assert!(
        document["result"]["changes"].as_u64() > Some(0),
        "{plan_json}"
    );
    runs.extend([plan, plan_json]);

    // Apply: a report on stdout, one plain line per event on stderr (not a terminal).
    let apply = emulated(&["apply"]).exits(0);
    assert!(apply.stdout.contains("writes"), "{apply}");
    assert!(apply.stderr.contains("container group: started"), "{apply}");
    assert!(
        apply.stderr.contains("container group: create ("),
        "{apply}"
    );
    // Applying again writes nothing; --stream prints JSON lines, the document last.
    let again = emulated(&["apply", "--stream"]).exits(0);
    let lines: Vec<Value> = again
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{again}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["progress"]["event"] == "started"),
        "{again}"
    );
    let last = lines.last().expect("a document");
    assert_eq!(last["result"]["writes"], 0, "{again}");
    runs.extend([apply, again]);

    // The state carried over: no changes, exit 0.
    let plan = emulated(&["plan", "--detailed-exitcode"]).exits(0);
    assert!(plan.stdout.contains("No changes"), "{plan}");
    let plan_json = emulated(&["plan", "--detailed-exitcode", "--output", "json"]).exits(0);
    assert_eq!(plan_json.document()["result"]["converged"], true);
    runs.extend([plan, plan_json]);

    // Status, as Azure reports it: the group on the key's version, through the identity.
    let status = emulated(&["status", "--output", "json"]).exits(0);
    let result = status.document()["result"].clone();
    let version = result["key"]["details"]["version"]
        .as_str()
        .expect("a key version")
        .to_owned();
    let group = &result["container_groups"][0];
    assert_eq!(group["provisioning_state"], "Succeeded", "{status}");
    assert_eq!(
        group["encryption"]["keyVersion"],
        version.as_str(),
        "{status}"
    );
    assert!(
        group["encryption"]["identity"]
            .as_str()
            .is_some_and(|i| i.ends_with("/aci-cmk-id")),
        "{status}"
    );
    assert_eq!(result["identity"]["state"], "present", "{status}");
    let status_text = emulated(&["status"]).exits(0);
    assert!(
        status_text
            .stdout
            .contains(&format!("keys/aci-cmk/{version} via identity")),
        "{status_text}"
    );
    runs.extend([status, status_text]);

    // Audit: SARIF to a file; an info finding (the vault's access-policy mode) fails only a
    // --fail-on info gate, with exit 2.
    let audit = dir
        .run(&[
            "audit",
            "--emulator",
            "--format",
            "sarif",
            "--out",
            "out/audit.sarif",
        ])
        .exits(0);
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path("out/audit.sarif")).expect("the SARIF file"),
    )
    .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0", "{audit}");
    assert!(
        sarif["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("sarif")),
        "{sarif}"
    );
    runs.push(audit);
    let gate = dir
        .run(&[
            "audit",
            "--emulator",
            "--fail-on",
            "info",
            "--output",
            "json",
        ])
        .exits(2);
    assert_eq!(gate.document()["result"]["passes"], false, "{gate}");
    runs.push(gate);
    // Remediate: a dry run writes nothing; applied in place, nothing at or above low is left.
    let dry = dir
        .run(&["remediate", "--emulator", "--output", "json"])
        .exits(0);
    assert!(dry.stdout.contains("would"), "{dry}");
    runs.push(dry);
    let still = dir
        .run(&[
            "audit",
            "--emulator",
            "--fail-on",
            "low",
            "--output",
            "json",
        ])
        .exits(2);
    runs.push(still);
    // Applied: the ACI principal is created; the key's expiry needs `keys update`, which a
    // deployer of a spec without a lifecycle lacks, so that step fails, saying so (exit 1).
    let fixed = dir.run(&["remediate", "--emulator", "--apply"]).exits(1);
    assert!(fixed.stdout.contains("keys update permission"), "{fixed}");
    runs.push(fixed);
    let after = dir
        .run(&["audit", "--emulator", "--output", "json"])
        .exits(0);
    let document = after.document();
    let kinds: Vec<&str> = document["result"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(
        !kinds.contains(&"aci-service-principal-missing"),
        "the principal was created: {kinds:?}"
    );
    assert!(kinds.contains(&"key-without-expiration"), "{kinds:?}");
    runs.push(after);

    // Rotate: a new version, the group re-created on it.
    let rotate = emulated(&["rotate", "--output", "json"]).exits(0);
    let result = &rotate.document()["result"];
    let rotated = result["groups"][0]["key_version"]
        .as_str()
        .expect("a version")
        .to_owned();
    assert_ne!(rotated, version, "{rotate}");
    assert!(
        result["current"]
            .as_str()
            .is_some_and(|k| k.ends_with(&rotated)),
        "{rotate}"
    );
    runs.push(rotate);
    let status = emulated(&["status", "--output", "json"]).exits(0);
    assert_eq!(
        status.document()["result"]["container_groups"][0]["encryption"]["keyVersion"],
        rotated.as_str()
    );
    runs.push(status);

    // Follow: already on the newest usable version, nothing moves.
    let follow = emulated(&["rotate", "--follow-latest", "--output", "json"]).exits(0);
    let result = &follow.document()["result"];
    assert!(
        result["target"]
            .as_str()
            .is_some_and(|k| k.ends_with(&rotated)),
        "{follow}"
    );
    assert_eq!(
        result["groups"][0]["outcome"], "already_current",
        "{follow}"
    );
    runs.push(follow);
    // Back onto the first version: the spec pins its key (no `follow = "latest"`), so the
    // group is not re-created and the command says why, exiting 1.
    let pinned = emulated(&["rotate", "--follow-latest", "--version", &version]).exits(1);
    assert!(pinned.stdout.contains("follow = \"latest\""), "{pinned}");
    runs.push(pinned);

    // Destroy: the group and identity go, the vault stays soft-deleted (purge protection).
    let destroy = emulated(&["destroy", "--purge", "--output", "json"]).exits(0);
    let result = &destroy.document()["result"];
    let removed: Vec<&str> = result["removed"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        removed.contains(&"container group aci-cmk-hello"),
        "{destroy}"
    );
    assert!(
        removed.iter().any(|r| r.ends_with("(soft-deleted)")),
        "{destroy}"
    );
    assert!(
        !removed.iter().any(|r| r.ends_with("(purged)")),
        "purge protection holds: {destroy}"
    );
    runs.push(destroy);
    let status = emulated(&["status"]).exits(0);
    assert!(status.stdout.contains("(soft deleted)"), "{status}");
    runs.push(status);
    runs.push(emulated(&["plan", "--detailed-exitcode"]).exits(2));

    // Nothing secret in any output: the secure value, nor the emulator's client secret.
    let client_secret = emulator_client_secret(&dir);
    assert_no_secret(&runs, &[SECURE, &client_secret]);
}

/// The deployer's client secret the embedded emulator keeps in the working directory's
/// state, read by starting it here once the commands are done with it.
fn emulator_client_secret(dir: &WorkDir) -> String {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let emulator = aci_cmk_emulator::Emulator::start(aci_cmk_emulator::EmulatorOptions {
            state_dir: Some(dir.path(".aci-cmk/emulator")),
            ..Default::default()
        })
        .await
        .expect("the state opens");
        let secret = emulator.info().client_secret.clone();
        emulator.shutdown().await;
        assert!(secret.len() >= 16, "a real secret");
        secret
    })
}
