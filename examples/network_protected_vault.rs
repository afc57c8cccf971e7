//! Flow 2 — a network-protected vault: a user-assigned identity gets `get` + `unwrapKey`, the
//! vault firewall denies public networks but lets trusted Azure services through, and the group
//! names the identity (api-version 2022-09-01 or later).
//!
//! ```sh
//! cargo run --example network_protected_vault -- --emulator
//! cargo run --example network_protected_vault -- --subscription <id> --vault <name> --allow-ip <your IP>
//! ```
//!
//! Against Azure it uses `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` when set, or
//! the signed-in Azure CLI (or Azure Developer CLI) user.

use aci_cmk_core::names::{IdentityName, Location, ResourceGroupName, SubscriptionId, VaultName};
use aci_cmk_encrypted_deployment::{
    Backends, DestroyOptions, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
};
use aci_cmk_examples::{StepProgress, connect_to_azure, start_emulator_and_connect};
use clap::Parser;
use serde_json::json;
use std::error::Error;

/// Deploys a container group encrypted with a customer-managed key in a vault behind its
/// firewall, which a user-assigned identity reads.
#[derive(Debug, Parser)]
struct Args {
    /// Run against an emulator started in this process instead of Azure.
    #[arg(long)]
    emulator: bool,
    /// The subscription (Azure only).
    #[arg(
        long,
        env = "AZURE_SUBSCRIPTION_ID",
        required_unless_present = "emulator"
    )]
    subscription: Option<SubscriptionId>,
    /// The resource group, created if missing.
    #[arg(long, env = "ACI_CMK_RESOURCE_GROUP", default_value = "rg-aci-cmk")]
    resource_group: ResourceGroupName,
    /// The region.
    #[arg(long, env = "ACI_CMK_LOCATION", default_value = "westeurope")]
    location: Location,
    /// The vault name (globally unique on Azure).
    #[arg(long, env = "ACI_CMK_VAULT")]
    vault: Option<VaultName>,
    /// The user-assigned identity that reads the key.
    #[arg(long, env = "ACI_CMK_IDENTITY", default_value = "aci-cmk-identity")]
    identity: IdentityName,
    /// Addresses let through the vault firewall, e.g. your public IP.
    #[arg(long = "allow-ip")]
    allow_ip: Vec<String>,
    /// Also delete what was deployed at the end (the vault stays soft-deleted).
    #[arg(long)]
    destroy: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let (connection, emulator) = if args.emulator {
        let (emulator, connection) = start_emulator_and_connect().await?;
        (connection, Some(emulator))
    } else {
        let subscription = args
            .subscription
            .ok_or("--subscription is required without --emulator")?;
        (connect_to_azure(subscription)?, None)
    };

    // Vault names are global: without --vault, one derived from the subscription.
    let vault = match args.vault {
        Some(vault) => vault,
        None => format!("acicmk-np-{}", &connection.subscription_id.as_str()[..8]).parse()?,
    };
    // The emulator sees this machine as 127.0.0.1; on Azure, pass your public address with
    // --allow-ip to keep managing the key from here once the firewall is on.
    let ip_rules = if emulator.is_some() && args.allow_ip.is_empty() {
        vec!["127.0.0.1".to_owned()]
    } else {
        args.allow_ip
    };
    let spec = DeploymentSpec::from_json_str(
        &json!({
            "subscription_id": connection.subscription_id,
            "resource_group": args.resource_group,
            "location": args.location,
            "flow": {"network_protected": {"identity_name": args.identity}},
            "vault": {"name": vault, "ip_rules": ip_rules},
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

    let orchestrator = Orchestrator::new(
        Backends::connect(&connection).await?,
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
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(())
}
