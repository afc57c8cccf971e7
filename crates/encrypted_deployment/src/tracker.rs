//! What a step's calls share: the step's client request id and response recorder, and the
//! retries that wait out propagation (counted and announced).

use crate::{
    Orchestrator, error::BackendError, progress::ProgressEvent, progress::StepId,
    propagation::is_propagation_error, run_id::RunId,
};
use aci_cmk_core::{CallOptions, ResponseRecorder};
use std::{
    future::Future,
    sync::atomic::{AtomicU32, Ordering},
    time::Instant,
};

/// Handed to a step's body: counts and announces propagation retries, and gives every call of
/// the step its options (the step's client request id, the step's recorder).
pub(crate) struct Tracker<'a> {
    step: StepId,
    /// The end of the step's client request ids: `aci-cmk/{run}/{part}`.
    part: String,
    orchestrator: &'a Orchestrator,
    retries: AtomicU32,
    run: &'a RunId,
    recorder: ResponseRecorder,
}

impl<'a> Tracker<'a> {
    /// A tracker for `step` in `run`, whose requests end their client request ids with `part`.
    pub(crate) fn new(
        orchestrator: &'a Orchestrator,
        run: &'a RunId,
        step: StepId,
        part: impl Into<String>,
    ) -> Self {
        Self {
            step,
            part: part.into(),
            orchestrator,
            retries: AtomicU32::new(0),
            run,
            recorder: ResponseRecorder::new(),
        }
    }

    /// The options of a call made by this step: `aci-cmk/{run}/{part}` and the step's recorder.
    pub(crate) fn options(&self) -> Option<CallOptions<'static>> {
        self.run.options(&self.part, Some(&self.recorder))
    }

    /// The client request id the step's requests carry.
    pub(crate) fn client_request_id(&self) -> String {
        self.run.client_request_id(&self.part)
    }

    /// The ids of the step's writes so far.
    pub(crate) fn write_ids(&self) -> Vec<aci_cmk_core::ResponseIds> {
        self.recorder.writes()
    }

    /// How many times a call was retried for propagation.
    pub(crate) fn retries(&self) -> u32 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The backends.
    pub(crate) fn backends(&self) -> &'a crate::Backends {
        &self.orchestrator.backends
    }

    /// Runs `call`, retrying while the error says a principal or role assignment has not
    /// propagated yet, with bounded backoff.
    pub(crate) async fn until_propagated<T, F, Fut>(
        &self,
        mut call: F,
    ) -> std::result::Result<T, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, BackendError>>,
    {
        let policy = &self.orchestrator.options.propagation;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if e.core().is_some_and(is_propagation_error) => {
                    attempt += 1;
                    let delay = policy.delay(attempt);
                    if started.elapsed() + delay > policy.max_total {
                        return Err(e);
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.orchestrator.emit(ProgressEvent::Retried {
                        step: self.step,
                        attempt,
                        reason: e.to_string(),
                    });
                    tracing::info!(step = %self.step, attempt, error = %e, "waiting for propagation");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }
}
