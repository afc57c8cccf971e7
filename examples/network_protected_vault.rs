//! Flow 2 — a network-protected vault: a user-assigned identity, the firewall on, trusted services through.
//!
//! ```sh
//! cargo run --example network_protected_vault -- --emulator
//! cargo run --example network_protected_vault -- --subscription <id> --resource-group rg-cmk --vault <name>
//! ```
//!
//! Against Azure it uses `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` when set, or
//! the signed-in Azure CLI (or Azure Developer CLI) user.

use aci_cmk_encrypted_deployment::{
    DestroyOptions, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
};
use aci_cmk_examples::{Args, StepProgress, Target};
use clap::Parser;
use std::error::Error;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let target = Target::connect(&args).await?;
    // The emulator sees this machine as 127.0.0.1; on Azure, pass your public address with --allow-ip
    // to keep managing the key from here once the firewall is on.
    let allow_ip = if target.emulator.is_some() && args.allow_ip.is_empty() {
        vec!["127.0.0.1".to_owned()]
    } else {
        args.allow_ip.clone()
    };
    let spec = DeploymentSpec::from_json_str(
        &serde_json::json!({
            "subscription_id": target.subscription.as_str(),
            "resource_group": args.resource_group.as_str(),
            "location": args.location.as_str(),
            "flow": {"network_protected": {"identity_name": args.identity.as_str()}},
            "vault": {"name": target.vault_name(&args, "acicmk-np")?.as_str(), "ip_rules": allow_ip},
            "key": {"create": {"name": "aci-cmk", "size": 3072}},
            "container_group": {
                "name": "hello-cmk",
                "public_ports": [80],
                "containers": [{
                    "name": "app",
                    "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                    "ports": [80],
                    "env": {"GREETING": "hello from a CMK-encrypted group"},
                    "secure_env": {"DB_PASSWORD": "example-only-secret"}
                }]
            }
        })
        .to_string(),
    )?;
    let backends = target.connection.backends().await?;
    let orchestrator = Orchestrator::new(
        backends,
        OrchestratorOptions::default().with_progress(StepProgress::new()),
    );
    println!("{}", orchestrator.plan(&spec).await?);
    let report = orchestrator.apply(&spec).await?;
    println!("\n{report}\n");
    println!("{}", serde_json::to_string_pretty(&report)?);
    if args.destroy {
        let destroyed = orchestrator
            .destroy(&spec, DestroyOptions::default())
            .await?;
        println!(
            "\ndestroyed: {:?}\nnotes: {:?}",
            destroyed.removed, destroyed.notes
        );
    }
    if let Some(emulator) = target.emulator {
        emulator.shutdown().await;
    }
    Ok(())
}
