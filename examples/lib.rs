//! What the flow examples share: connecting to the local emulator started in this process
//! ([`start_emulator_and_connect`]) or to Azure ([`connect_to_azure`]), and a progress display
//! of the orchestrator's steps ([`StepProgress`]). Each example shows its own flow.

use aci_cmk_core::{
    CloudEndpoints, Connection,
    cloud::EmulatorProfile,
    credentials::CredentialBuilder,
    names::SubscriptionId,
    transport::{HttpTransport, TransportOptions},
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use aci_cmk_encrypted_deployment::progress::{ProgressEvent, ProgressSink, StepId};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::{
    collections::BTreeMap,
    error::Error,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Starts the local Azure emulator in this process and connects to it as its deployer, from
/// its ready line. The emulator runs until it is shut down or dropped.
pub async fn start_emulator_and_connect() -> Result<(RunningEmulator, Connection), Box<dyn Error>> {
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
    let connection = Connection::emulator(&profile)?;
    Ok((emulator, connection))
}

/// Connects to `subscription` in Azure's public cloud as the environment's service principal
/// (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), or else as the signed-in
/// Azure CLI / Azure Developer CLI user.
pub fn connect_to_azure(subscription: SubscriptionId) -> Result<Connection, Box<dyn Error>> {
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
    Ok(Connection::new(cloud, credential, transport, subscription))
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
