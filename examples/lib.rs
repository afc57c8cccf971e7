//! What the examples share: the command line (real Azure or `--emulator`), the connection it
//! describes, and a progress display of the orchestrator's steps.

use aci_cmk_core::{
    CloudEndpoints,
    cloud::EmulatorProfile,
    credentials::CredentialBuilder,
    names::{IdentityName, Location, ResourceGroupName, SubscriptionId, VaultName},
    transport::{HttpTransport, TransportOptions},
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use aci_cmk_encrypted_deployment::{
    Backends, Connection,
    progress::{ProgressEvent, ProgressSink, StepId},
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::{
    collections::BTreeMap,
    error::Error,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The command line of the flow examples.
#[derive(Debug, clap::Parser)]
#[command(about)]
pub struct Args {
    /// Run against an in-process emulator instead of Azure.
    #[arg(long)]
    pub emulator: bool,
    /// The subscription (Azure only).
    #[arg(
        long,
        env = "AZURE_SUBSCRIPTION_ID",
        required_unless_present = "emulator"
    )]
    pub subscription: Option<SubscriptionId>,
    /// The resource group, created if missing.
    #[arg(long, env = "ACI_CMK_RESOURCE_GROUP", default_value = "rg-aci-cmk")]
    pub resource_group: ResourceGroupName,
    /// The region.
    #[arg(long, env = "ACI_CMK_LOCATION", default_value = "westeurope")]
    pub location: Location,
    /// The vault name (globally unique on Azure).
    #[arg(long, env = "ACI_CMK_VAULT")]
    pub vault: Option<VaultName>,
    /// The user-assigned identity (network-protected flow).
    #[arg(long, env = "ACI_CMK_IDENTITY", default_value = "aci-cmk-identity")]
    pub identity: IdentityName,
    /// Addresses let through the vault firewall (network-protected flow), e.g. your public IP.
    #[arg(long = "allow-ip")]
    pub allow_ip: Vec<String>,
    /// Also delete what was deployed at the end (the vault stays soft-deleted).
    #[arg(long)]
    pub destroy: bool,
}

/// Where the examples deploy: a connection, and the emulator behind it if any.
pub struct Target {
    /// The connection the orchestrator uses.
    pub connection: Connection,
    /// The subscription.
    pub subscription: SubscriptionId,
    /// The in-process emulator, with `--emulator`.
    pub emulator: Option<RunningEmulator>,
}

impl Target {
    /// Connects as the arguments say: the emulator, or Azure with the environment's service
    /// principal (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`) or else the
    /// signed-in Azure CLI / Azure Developer CLI user.
    pub async fn connect(args: &Args) -> Result<Self, Box<dyn Error>> {
        if args.emulator {
            let emulator = Emulator::start(EmulatorOptions::default()).await?;
            let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
            let connection = Connection::emulator(&profile)?;
            let subscription = connection.subscription_id.clone();
            return Ok(Self {
                connection,
                subscription,
                emulator: Some(emulator),
            });
        }
        let subscription = args
            .subscription
            .clone()
            .ok_or("--subscription is required without --emulator")?;
        let cloud = CloudEndpoints::azure_public();
        let transport = HttpTransport::new(TransportOptions::default())?;
        let builder = CredentialBuilder::new(cloud.clone(), transport.clone());
        let credential = match (
            std::env::var("AZURE_TENANT_ID"),
            std::env::var("AZURE_CLIENT_ID"),
            std::env::var("AZURE_CLIENT_SECRET"),
        ) {
            (Ok(tenant), Ok(client), Ok(secret)) => {
                builder.client_secret(&tenant, &client, secret.into())?
            }
            _ => builder.developer_tools()?,
        };
        let connection = Connection::new(cloud, credential, transport, subscription.clone());
        Ok(Self {
            connection,
            subscription,
            emulator: None,
        })
    }

    /// The vault name: the argument, or one derived from the subscription (vault names are
    /// global, so a fixed default would collide).
    pub fn vault_name(&self, args: &Args, prefix: &str) -> Result<VaultName, Box<dyn Error>> {
        match &args.vault {
            Some(v) => Ok(v.clone()),
            None => Ok(format!("{prefix}-{}", &self.subscription.as_str()[..8]).parse()?),
        }
    }
}

/// A progress display: one spinner per step, ticked off with its outcome and time.
pub struct StepProgress {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<StepId, ProgressBar>>,
}

impl StepProgress {
    /// A display on stderr.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            multi: MultiProgress::new(),
            bars: Mutex::new(BTreeMap::new()),
        })
    }

    fn bar(&self, step: StepId) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.entry(step)
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:<24} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(step.title());
                bar.enable_steady_tick(Duration::from_millis(100));
                bar
            })
            .clone()
    }
}

impl ProgressSink for StepProgress {
    fn event(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::Started { step } => self.bar(*step).set_message("running"),
            ProgressEvent::Done {
                step,
                action,
                duration,
            } => self
                .bar(*step)
                .finish_with_message(format!("{action} ({} ms)", duration.as_millis())),
            ProgressEvent::Retried { step, attempt, .. } => self
                .bar(*step)
                .set_message(format!("waiting for propagation (attempt {attempt})")),
            ProgressEvent::Skipped { step, reason } => self
                .bar(*step)
                .finish_with_message(format!("skipped: {reason}")),
            ProgressEvent::Failed { step, error } => {
                let first = error.lines().next().unwrap_or_default().to_owned();
                self.bar(*step)
                    .abandon_with_message(format!("FAILED: {first}"))
            }
            _ => {}
        }
    }
}

/// Which flow an example runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The ACI first-party service principal, an open vault.
    Standard,
    /// A user-assigned identity, the vault firewall on, trusted services through.
    NetworkProtected,
}

/// Runs `flow` as the arguments say: plan, apply with a progress display, print the report
/// (and destroy with `--destroy`).
pub async fn run_flow(flow: Flow) -> Result<(), Box<dyn Error>> {
    use aci_cmk_encrypted_deployment::{
        DestroyOptions, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
    };
    use clap::Parser;

    let args = Args::parse();
    let target = Target::connect(&args).await?;
    let (flow_json, vault) = match flow {
        Flow::Standard => (
            serde_json::json!("standard"),
            serde_json::json!({"name": target.vault_name(&args, "acicmk-std")?.as_str()}),
        ),
        Flow::NetworkProtected => {
            // The emulator sees this machine as 127.0.0.1; on Azure, pass your public address
            // with --allow-ip to keep managing the key from here once the firewall is on.
            let allow_ip = if target.emulator.is_some() && args.allow_ip.is_empty() {
                vec!["127.0.0.1".to_owned()]
            } else {
                args.allow_ip.clone()
            };
            (
                serde_json::json!({"network_protected": {"identity_name": args.identity.as_str()}}),
                serde_json::json!({"name": target.vault_name(&args, "acicmk-np")?.as_str(), "ip_rules": allow_ip}),
            )
        }
    };
    let spec = DeploymentSpec::from_json_str(
        &serde_json::json!({
            "subscription_id": target.subscription.as_str(),
            "resource_group": args.resource_group.as_str(),
            "location": args.location.as_str(),
            "flow": flow_json,
            "vault": vault,
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
    let backends = Backends::connect(&target.connection).await?;
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
