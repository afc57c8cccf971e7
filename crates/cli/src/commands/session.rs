//! [`Session`]: a spec read, Azure connected and an orchestrator over it, for the commands
//! that work on a spec (`plan`, `apply`, `rotate`, `destroy`, `status`).

use crate::{
    args::{ConnectArgs, SpecArg},
    connect::{self, Connected},
    error::{CliError, chain},
    progress_view::ProgressView,
    spec_errors,
};
use aci_cmk_encrypted_deployment::{
    Backends, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
};
use std::sync::Arc;

/// A spec and an orchestrator connected to where it deploys.
#[derive(Debug)]
pub struct Session {
    /// The spec, with the subscription the connection decided on.
    pub spec: DeploymentSpec,
    /// The orchestrator, drawing its progress on the view.
    pub orchestrator: Orchestrator,
    connected: Connected,
}

impl Session {
    /// Reads the spec (refused before anything connects), connects, and signs in.
    pub async fn open(
        spec: &SpecArg,
        connect: &ConnectArgs,
        view: &Arc<ProgressView>,
    ) -> Result<Self, CliError> {
        let mut spec = spec_errors::load(&spec.spec)?;
        let _busy = view.busy("connecting");
        let connected = connect::connect(connect, Some(&spec.subscription_id)).await?;
        spec.subscription_id = connected.connection.subscription_id.clone();
        let backends = match Backends::connect(&connected.connection).await {
            Ok(backends) => backends,
            Err(e) => {
                let error = connect::connect_error(&connected.target, &chain(&e));
                connected.close().await;
                return Err(error);
            }
        };
        let mut options = OrchestratorOptions::default().with_progress(view.clone());
        if let Some(clock) = &connected.clock {
            options = options.with_clock(clock.clone());
        }
        Ok(Self {
            spec,
            orchestrator: Orchestrator::new(backends, options),
            connected,
        })
    }

    /// Stops the embedded emulator, if any.
    pub async fn close(self) {
        self.connected.close().await;
    }
}
