//! Where Azure is, as the connection flags say: the emulator embedded in this process
//! (`--emulator`, [`embedded`]), a running emulator's ready line (`--emulator-url FILE|-`), or
//! Azure itself (`--cloud`, `--auth`, [`azure`]). Each ends as core's `Connection`.
//!
//! The subscription: `--subscription` / `ACI_CMK_SUBSCRIPTION`, else the emulator's (with an
//! emulator), else the spec's.

pub mod azure;
pub mod embedded;

use crate::{args::ConnectArgs, error::CliError};
use aci_cmk_core::{
    Connection,
    cloud::EmulatorProfile,
    credentials::CredentialBuilder,
    names::SubscriptionId,
    transport::{HttpTransport, TransportOptions},
};
use aci_cmk_emulator::RunningEmulator;
use aci_cmk_encrypted_deployment::clock::Clock;
use std::io::BufRead;

/// A connection, and the emulator it runs on when that lives in this process.
pub struct Connected {
    /// The connection every client is built over.
    pub connection: Connection,
    /// The embedded emulator, kept running until [`close`](Self::close).
    pub emulator: Option<RunningEmulator>,
    /// Where "now" comes from: the embedded emulator's clock, else the system's.
    pub clock: Option<Clock>,
    /// What was connected to, for messages.
    pub target: String,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("target", &self.target)
            .field("subscription_id", &self.connection.subscription_id)
            .finish_non_exhaustive()
    }
}

impl Connected {
    /// Stops the embedded emulator, letting its requests in flight finish.
    pub async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// Connects as `args` say; `spec_subscription` is the last choice of subscription.
pub async fn connect(
    args: &ConnectArgs,
    spec_subscription: Option<&SubscriptionId>,
) -> Result<Connected, CliError> {
    if args.emulator {
        let emulator = embedded::start(&args.emulator_state, args.emulator_timing).await?;
        let target = format!("the embedded emulator ({})", args.emulator_state.display());
        let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())
            .map_err(|e| connect_error(&target, &e))?;
        let mut connection =
            Connection::emulator(&profile).map_err(|e| connect_error(&target, &e))?;
        if let Some(subscription) = &args.subscription {
            connection.subscription_id = subscription.clone();
        }
        let admin = emulator.admin().clone();
        let clock = Clock::from_fn(move || admin.now());
        return Ok(Connected {
            connection,
            emulator: Some(emulator),
            clock: Some(clock),
            target,
        });
    }
    if let Some(source) = &args.emulator_url {
        let target = if source == "-" {
            "the emulator whose ready line is on stdin".to_owned()
        } else {
            format!("the emulator of {source}")
        };
        let line = ready_line(source).map_err(|m| connect_error(&target, &m))?;
        let profile =
            EmulatorProfile::from_ready_line(&line).map_err(|e| connect_error(&target, &e))?;
        let mut connection =
            Connection::emulator(&profile).map_err(|e| connect_error(&target, &e))?;
        if let Some(subscription) = &args.subscription {
            connection.subscription_id = subscription.clone();
        }
        return Ok(Connected {
            connection,
            emulator: None,
            clock: None,
            target,
        });
    }
    let cloud = azure::endpoints(args.cloud);
    let chosen = azure::choose(
        args.auth,
        args.managed_identity_client_id.as_deref(),
        &|name| std::env::var(name).ok(),
    )
    .map_err(|m| connect_error(&format!("Azure ({})", cloud.name), &m))?;
    let target = format!("Azure ({}) as {chosen}", cloud.name);
    tracing::info!(credential = %chosen, cloud = %cloud.name, "connecting to Azure");
    let subscription = args
        .subscription
        .clone()
        .or_else(|| spec_subscription.cloned())
        .ok_or_else(|| {
            connect_error(
                &target,
                &"no subscription: pass --subscription, set ACI_CMK_SUBSCRIPTION or the spec's subscription_id",
            )
        })?;
    let transport =
        HttpTransport::new(TransportOptions::default()).map_err(|e| connect_error(&target, &e))?;
    let builder = CredentialBuilder::new(cloud.clone(), transport.clone());
    let credential = azure::build(&chosen, &builder).map_err(|e| connect_error(&target, &e))?;
    Ok(Connected {
        connection: Connection::new(cloud, credential, transport, subscription),
        emulator: None,
        clock: None,
        target,
    })
}

/// The ready line in the file `source`, or on stdin for `-`: its first line that is a JSON
/// object. Stdin is read only up to that line, so an emulator piped in may keep running.
fn ready_line(source: &str) -> Result<String, String> {
    let is_ready = |line: &str| line.trim_start().starts_with('{');
    let missing = || "no ready line (a JSON object on one line) found".to_owned();
    if source == "-" {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.lock().read_line(&mut line) {
                Ok(0) => return Err(missing()),
                Ok(_) if is_ready(&line) => return Ok(line.trim().to_owned()),
                Ok(_) => {}
                Err(e) => return Err(format!("cannot read stdin: {e}")),
            }
        }
    }
    let text = std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))?;
    text.lines()
        .find(|l| is_ready(l))
        .map(|l| l.trim().to_owned())
        .ok_or_else(missing)
}

/// A [`CliError::Connect`] to `target`.
pub fn connect_error(target: &str, error: &dyn std::fmt::Display) -> CliError {
    CliError::Connect {
        target: target.to_owned(),
        message: error.to_string(),
    }
}
