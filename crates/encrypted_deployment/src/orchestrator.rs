//! The [`Orchestrator`]: `plan`, `apply`, `rotate` and `destroy` over a set of backends.

use crate::{
    apply::Exec,
    backends::Backends,
    clock::Clock,
    decisions::Decisions,
    error::{Error, Result},
    plan::Plan,
    preflight,
    progress::{self, ProgressEvent, ProgressSink},
    propagation::PropagationRetry,
    report::ApplyReport,
    run_id::RunId,
    spec::DeploymentSpec,
    survey::Survey,
};
use std::sync::Arc;

/// Settings of an [`Orchestrator`].
#[derive(Clone)]
#[non_exhaustive]
pub struct OrchestratorOptions {
    /// How long to wait out Entra ID replication and RBAC propagation.
    pub propagation: PropagationRetry,
    /// Where progress events go.
    pub progress: Arc<dyn ProgressSink>,
    /// Where "now" comes from (key expiry, validity, the expiry of new versions).
    clock: Clock,
}

impl Default for OrchestratorOptions {
    fn default() -> Self {
        Self {
            propagation: PropagationRetry::default(),
            progress: progress::ignore(),
            clock: Clock::system(),
        }
    }
}

impl std::fmt::Debug for OrchestratorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrchestratorOptions")
            .field("propagation", &self.propagation)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl OrchestratorOptions {
    /// Sends progress events to `sink`.
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = sink;
        self
    }

    /// Reads the time from `clock` instead of the system clock (a test against the emulator
    /// passes the emulator's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Waits out propagation as `retry` says.
    pub fn with_propagation(mut self, retry: PropagationRetry) -> Self {
        self.propagation = retry;
        self
    }
}

/// Plans and applies encrypted deployments over a set of [`Backends`].
#[derive(Clone, Debug)]
pub struct Orchestrator {
    pub(crate) backends: Backends,
    pub(crate) options: OrchestratorOptions,
}

impl Orchestrator {
    /// An orchestrator over `backends`.
    pub fn new(backends: Backends, options: OrchestratorOptions) -> Self {
        Self { backends, options }
    }

    /// The backends.
    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    /// Now, by the options' clock.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.options.clock.now()
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        self.options.progress.event(&event);
    }

    /// Reads the current state and returns the steps `apply` would take, each marked
    /// create / update / recover / recreate / in place. Writes nothing. Preflight problems are
    /// returned as [`Error::Preflight`].
    pub async fn plan(&self, spec: &DeploymentSpec) -> Result<Plan> {
        spec.check()?;
        let survey = Survey::take(&self.backends, spec, &RunId::new()).await?;
        let decisions = self.decide(spec, &survey)?;
        Ok(decisions.plan(spec))
    }

    /// Every step's decision, once preflight has found no rule broken.
    fn decide(&self, spec: &DeploymentSpec, survey: &Survey) -> Result<Decisions> {
        let deployer = &self.backends.deployer;
        let now = self.now();
        let mut decisions =
            Decisions::take(spec, survey, &deployer.object_id, &deployer.tenant_id, now);
        decisions.warnings = preflight::warnings(spec, survey, now);
        let issues = preflight::check(spec, survey, &decisions);
        if !issues.is_empty() {
            return Err(Error::Preflight(issues));
        }
        Ok(decisions)
    }

    /// Brings Azure to what `spec` describes: preflight first (nothing is written if a rule is
    /// broken), then the steps, concurrently where independent. Re-running on a converged state
    /// writes nothing.
    ///
    /// Every request of a step carries the client request id `aci-cmk/{run}/{step}` (the reads
    /// before the steps `aci-cmk/{run}/survey`), and the report gives, per step, the request and
    /// correlation ids of its writes. Dropping the returned future (a CLI's Ctrl-C, a timeout)
    /// abandons the requests in flight at once and sends no more; whatever was written stays,
    /// and applying again converges from there.
    pub async fn apply(&self, spec: &DeploymentSpec) -> Result<ApplyReport> {
        self.apply_run(spec, &RunId::new()).await
    }

    /// [`apply`](Self::apply) as part of `run`.
    pub(crate) async fn apply_run(
        &self,
        spec: &DeploymentSpec,
        run: &RunId,
    ) -> Result<ApplyReport> {
        let started = std::time::Instant::now();
        spec.check()?;
        let survey = Survey::take(&self.backends, spec, run).await?;
        let decisions = self.decide(spec, &survey)?;
        // The report's duration covers the reads before the steps too.
        Exec::new(self, spec, &survey, &decisions, run)
            .run(started)
            .await
    }
}
