//! The one-command tour: `cargo run --example quickstart`.
//!
//! Starts the local Azure emulator in this process, runs both customer-managed-key flows end to
//! end with the SDK, prints each step with its timing, and then proves the encryption: the
//! emulator's state holds only ciphertext, the container logs read back through the key, and
//! they become unreadable while the key is disabled.

use aci_cmk_aci::LogOptions;
use aci_cmk_core::cloud::EmulatorProfile;
use aci_cmk_emulator::{Emulator, EmulatorOptions};
use aci_cmk_encrypted_deployment::{
    Backends, Connection, Orchestrator, OrchestratorOptions, progress::ProgressEvent,
    report::ApplyReport, spec::DeploymentSpec,
};
use aci_cmk_keyvault::{
    keys::UpdateKeyOptions,
    models::{AccessPolicyEntry, AccessPolicyUpdateKind, KeyPermission},
};
use std::{error::Error, sync::Arc};

const SECURE_VALUE: &str = "s3cret-db-password";

const STANDARD: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-quickstart-standard"
location = "westeurope"
flow = "standard"

[vault]
name = "qs-standard-kv"

[key.create]
name = "aci-cmk"

[container_group]
name = "hello-standard"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
ports = [80]
env = { GREETING = "hello from a CMK-encrypted group" }
secure_env = { DB_PASSWORD = "s3cret-db-password" }
"#;

const NETWORK_PROTECTED: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-quickstart-protected"
location = "westeurope"

[flow.network_protected]
identity_name = "aci-cmk-identity"

[vault]
name = "qs-protected-kv"
# The deploying machine, so it can still manage the key behind the firewall.
ip_rules = ["127.0.0.1"]

[key.create]
name = "aci-cmk"

[container_group]
name = "hello-protected"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
secure_env = { DB_PASSWORD = "s3cret-db-password" }
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    println!("Starting the local Azure emulator ...");
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
    println!(
        "  ARM {}  tenant {}  subscription {}\n",
        profile.arm_endpoint, profile.tenant_id, profile.subscription_id
    );

    let connection = Connection::emulator(&profile)?;
    let backends = Backends::connect(&connection).await?;
    let progress = Arc::new(|event: &ProgressEvent| match event {
        ProgressEvent::Retried { step, attempt, .. } => {
            println!("    {step}: waiting for propagation (attempt {attempt})")
        }
        ProgressEvent::Failed { step, error } => println!("    {step}: FAILED: {error}"),
        _ => {}
    });
    let orchestrator = Orchestrator::new(
        backends,
        OrchestratorOptions::default().with_progress(progress),
    );

    for (title, text) in [
        (
            "Flow 1: standard vault, ACI first-party service principal",
            STANDARD,
        ),
        (
            "Flow 2: network-protected vault, user-assigned identity, trusted services",
            NETWORK_PROTECTED,
        ),
    ] {
        println!("== {title}");
        let spec = DeploymentSpec::from_toml_str(&text.replace("{sub}", &profile.subscription_id))?;
        let plan = orchestrator.plan(&spec).await?;
        println!("-- plan\n{plan}");
        let report = orchestrator.apply(&spec).await?;
        println!("-- apply\n{report}\n");
        print_result(&report);
        prove_encryption(&orchestrator, &spec, &emulator).await?;
        let again = orchestrator.apply(&spec).await?;
        println!(
            "-- re-apply on the converged state: {} writes, {} ms\n",
            again.writes(),
            again.duration.as_millis()
        );
    }
    emulator.shutdown().await;
    println!("Done: both flows deployed and verified against the emulator.");
    Ok(())
}

fn print_result(report: &ApplyReport) {
    if let Some(key) = &report.key_id {
        println!("  key           {key}");
    }
    if let Some(sp) = &report.service_principal_id {
        println!("  ACI SP        {sp}");
    }
    if let Some(identity) = &report.identity {
        println!(
            "  identity      {} (principal {})",
            identity.id, identity.principal_id
        );
    }
    for id in &report.container_group_ids {
        println!("  group         {id}");
    }
    if let Some(e) = &report.encryption {
        println!(
            "  encryption    vaultBaseUrl={} keyName={} keyVersion={} identity={}",
            e.vault_base_url,
            e.key_name,
            e.key_version,
            e.identity
                .as_deref()
                .unwrap_or("(ACI first-party service principal)")
        );
    }
}

async fn prove_encryption(
    orchestrator: &Orchestrator,
    spec: &DeploymentSpec,
    emulator: &aci_cmk_emulator::RunningEmulator,
) -> Result<(), Box<dyn Error>> {
    let b = orchestrator.backends();
    let group = spec
        .workload
        .container_group()
        .ok_or("the spec has a container group")?;
    let container = group.containers[0].name.clone();
    let read_logs = || {
        b.container_groups.logs(
            &spec.resource_group,
            &group.name,
            &container,
            LogOptions::default(),
            None,
        )
    };

    // 1. At rest: nothing secret in the emulator's state.
    let dump = emulator.admin().dump().to_string();
    let sealed = !dump.contains(SECURE_VALUE) && !dump.contains("hello from a CMK-encrypted group");
    println!(
        "-- proof\n  state holds only ciphertext of env values and logs: {}",
        yes(sealed)
    );

    // 2. The logs read back through the key.
    let logs = read_logs().await?;
    println!("  logs read through the key:\n{}", indent(&logs));

    // 3. Crypto-shredding: disable the key, the logs become unreadable; enable, readable again.
    let vault = b
        .vaults
        .get(&spec.resource_group, &spec.vault.name, None)
        .await?;
    let url = vault
        .properties
        .vault_uri
        .clone()
        .ok_or("the vault has a URI")?;
    let admin = AccessPolicyEntry::for_keys(
        vault.properties.tenant_id.clone(),
        b.deployer.object_id.clone(),
        [KeyPermission::Get, KeyPermission::Update],
    );
    b.vaults
        .update_access_policy(
            &spec.resource_group,
            &spec.vault.name,
            AccessPolicyUpdateKind::Add,
            &[admin],
            None,
        )
        .await?;
    let key = b.keys.get_key(&url, spec.key.name(), None, None).await?;
    b.keys
        .update_key_attributes(
            &url,
            spec.key.name(),
            Some(&key.version),
            UpdateKeyOptions::disable(),
            None,
        )
        .await?;
    match read_logs().await {
        Ok(_) => println!("  key disabled -> logs still readable: {}", yes(false)),
        Err(e) => println!(
            "  key disabled -> logs unreadable: {}\n    ({})",
            yes(true),
            first_line(&e.to_string())
        ),
    }
    b.keys
        .update_key_attributes(
            &url,
            spec.key.name(),
            Some(&key.version),
            UpdateKeyOptions::enable(),
            None,
        )
        .await?;
    let back = read_logs().await.is_ok();
    println!("  key enabled again -> logs readable: {}", yes(back));
    Ok(())
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_line(text: &str) -> String {
    const MAX: usize = 200;
    let line = text.lines().next().unwrap_or(text);
    if line.len() <= MAX {
        return line.to_owned();
    }
    let cut = line[..MAX].rfind(' ').unwrap_or(MAX);
    format!("{}…", &line[..cut])
}
