//! Shared harness of the cross-crate tests: an embedded emulator and the SDK connected to it.

use aci_cmk_core::cloud::EmulatorProfile;
use aci_cmk_core::lro::LroOptions;
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator, TimingProfile};
use aci_cmk_encrypted_deployment::{
    Backends, Connection, Orchestrator, OrchestratorOptions, spec::DeploymentSpec,
};
use std::time::Duration;

/// An emulator and an orchestrator over real clients connected to it.
pub struct Harness {
    /// The emulator.
    pub emulator: RunningEmulator,
    /// Moves the emulator's clock while the harness lives (see [`Harness::start_driven`]).
    clock_driver: Option<tokio::task::JoinHandle<()>>,
    /// The SDK's connection to it.
    pub connection: Connection,
    /// The orchestrator.
    pub orchestrator: Orchestrator,
}

impl Harness {
    /// Starts an emulator on a free port and connects the SDK to it.
    pub async fn start() -> Self {
        Self::start_with(OrchestratorOptions::default()).await
    }

    /// [`start`](Self::start) with orchestrator options.
    pub async fn start_with(options: OrchestratorOptions) -> Self {
        Self::start_with_emulator_options(EmulatorOptions::default(), options).await
    }

    /// [`start`](Self::start) with emulator options (a known client secret, a state
    /// directory, ...) and orchestrator options.
    pub async fn start_with_emulator_options(
        emulator_options: EmulatorOptions,
        options: OrchestratorOptions,
    ) -> Self {
        Self::build(emulator_options, options, None).await
    }

    /// An emulator under `timing` whose clock moves with the SDK's requests, and an SDK that
    /// polls every 20 ms: each time a request arrives at or leaves the emulator, its clock moves
    /// 10 ms × `speedup` (so, poll by poll, emulator time runs about `speedup` times faster than
    /// the SDK's own waits). The states and durations of live Azure (`TimingProfile::Azure`)
    /// pass in a fraction of their time, and a slow machine makes no difference: the clock
    /// moves by requests, never by the wall clock.
    pub async fn start_driven(
        timing: TimingProfile,
        speedup: u32,
        options: OrchestratorOptions,
    ) -> Self {
        let emulator_options = EmulatorOptions {
            timing,
            ..Default::default()
        };
        let mut h = Self::build(
            emulator_options,
            options,
            Some(
                LroOptions::default()
                    .with_default_poll_interval(Duration::from_millis(20))
                    .with_max_poll_interval(Duration::from_millis(20)),
            ),
        )
        .await;
        let admin = h.emulator.admin().clone();
        let step = Duration::from_millis(10) * speedup;
        let mut requests = admin.watch_in_flight();
        h.clock_driver = Some(tokio::spawn(async move {
            // Every change of the set of requests in flight (one arriving, one answered) is
            // the emulator seeing the SDK act: move its clock. The sender lives as long as the
            // emulator; the loop ends with it.
            while requests.changed().await.is_ok() {
                if admin.advance(step).is_err() {
                    return;
                }
            }
        }));
        h
    }

    async fn build(
        emulator_options: EmulatorOptions,
        options: OrchestratorOptions,
        lro: Option<LroOptions>,
    ) -> Self {
        let emulator = Emulator::start(emulator_options)
            .await
            .expect("the emulator starts");
        let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())
            .expect("a ready line");
        let mut connection = Connection::emulator(&profile).expect("the SDK connects");
        if let Some(lro) = lro {
            connection.options.lro = lro;
        }
        let backends = Backends::connect(&connection).await.expect("backends");
        let orchestrator = Orchestrator::new(backends, options);
        Self {
            emulator,
            clock_driver: None,
            connection,
            orchestrator,
        }
    }

    /// The emulator's subscription.
    pub fn subscription(&self) -> &str {
        &self.emulator.info().subscription_id
    }

    /// A spec from TOML, with `{sub}` replaced by the emulator's subscription.
    pub fn spec(&self, toml: &str) -> DeploymentSpec {
        DeploymentSpec::from_toml_str(&toml.replace("{sub}", self.subscription()))
            .expect("a valid spec")
    }

    /// The number of requests that changed state (not GET/HEAD, not tokens) since the log was
    /// last cleared.
    pub fn writes(&self) -> Vec<String> {
        self.emulator
            .admin()
            .requests()
            .into_iter()
            .filter(|e| {
                e.service != "token"
                    && e.service != "msi"
                    && e.method != "GET"
                    && e.method != "HEAD"
            })
            .map(|e| format!("{} {} {}", e.method, e.host, e.path))
            .collect()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.emulator.admin().clear_requests();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(d) = self.clock_driver.take() {
            d.abort();
        }
    }
}

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
