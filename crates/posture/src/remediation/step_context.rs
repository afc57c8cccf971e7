//! [`StepCx`]: what a running step holds — the backends, whether it is a dry run, the time,
//! its call options (client request id `aci-cmk/{run}/remediate/{step}`, a recorder of the
//! ids the services answered) — and [`StepCx::write`], the one door every write goes through:
//! recorded as an action, and in a dry run never sent.

use super::error::StepError;
use aci_cmk_core::{CallOptions, ResponseRecorder};
use aci_cmk_encrypted_deployment::Backends;
use std::future::Future;
use time::OffsetDateTime;

/// A running step.
pub(crate) struct StepCx<'a> {
    /// The clients.
    pub backends: &'a Backends,
    /// Whether writes are only recorded.
    pub dry_run: bool,
    /// The time the step judges by.
    pub now: OffsetDateTime,
    /// The run's id.
    pub run: &'a str,
    /// The part of its client request id after the run: `remediate/{step}`.
    pub part: String,
    /// What it wrote (or would write).
    pub actions: Vec<String>,
    /// The ids of its responses.
    pub recorder: ResponseRecorder,
}

impl<'a> StepCx<'a> {
    /// The context of step `id` of `run`.
    pub fn new(
        backends: &'a Backends,
        run: &'a str,
        id: &str,
        dry_run: bool,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            backends,
            dry_run,
            now,
            run,
            part: format!("remediate/{id}"),
            actions: Vec::new(),
            recorder: ResponseRecorder::new(),
        }
    }

    /// The client request id of the step's requests.
    pub fn client_request_id(&self) -> String {
        format!("aci-cmk/{}/{}", self.run, self.part)
    }

    /// The options of one of the step's calls.
    pub fn call(&self) -> Option<CallOptions<'static>> {
        Some(
            CallOptions::default()
                .with_client_request_id(self.client_request_id())
                .with_recorder(self.recorder.clone()),
        )
    }

    /// Records `what` and, unless this is a dry run, sends `write` (`None` in a dry run).
    pub async fn write<T, E>(
        &mut self,
        what: impl Into<String>,
        write: impl Future<Output = Result<T, E>>,
        error: impl FnOnce(E) -> StepError,
    ) -> Result<Option<T>, StepError> {
        self.actions.push(what.into());
        if self.dry_run {
            return Ok(None);
        }
        write.await.map(Some).map_err(error)
    }
}
