//! The id of one run (`apply`, `rotate`, `destroy`, `apply_many`) and the client request ids
//! derived from it: `aci-cmk/{run}/{part}`, the part being a step (`vault`, `key`, …) or
//! `survey`, so that every request a step sends carries an id that names the run and the step,
//! and Azure support can find the step's requests from it.

use aci_cmk_core::{CallOptions, ResponseRecorder};
use std::fmt;

/// The prefix of every client request id the orchestrator sends.
pub(crate) const PREFIX: &str = "aci-cmk";

/// One run's id: 12 lowercase hex digits, new for every run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunId(String);

impl RunId {
    /// A new, random run id.
    pub(crate) fn new() -> Self {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        Self(hex[..12].to_owned())
    }

    /// The run `id` names, when it is 12 lowercase hex digits (another run's id, such as a
    /// posture remediation's, whose requests this run's carry).
    pub(crate) fn named(id: &str) -> Option<Self> {
        (id.len() == 12
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(id.to_owned()))
    }

    /// The client request id of `part` of this run: `aci-cmk/{run}/{part}`.
    pub(crate) fn client_request_id(&self, part: &str) -> String {
        format!("{PREFIX}/{}/{part}", self.0)
    }

    /// Call options sending [`client_request_id`](Self::client_request_id) of `part`, with
    /// `recorder` if given.
    pub(crate) fn options(
        &self,
        part: &str,
        recorder: Option<&ResponseRecorder>,
    ) -> Option<CallOptions<'static>> {
        let options = CallOptions::default().with_client_request_id(self.client_request_id(part));
        Some(match recorder {
            Some(recorder) => options.with_recorder(recorder.clone()),
            None => options,
        })
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_short_hex_and_name_the_part() {
        let run = RunId::new();
        let id = run.to_string();
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(run, RunId::new());
        assert_eq!(
            run.client_request_id("vault"),
            format!("aci-cmk/{run}/vault")
        );
        let options = run.options("key", None).unwrap_or_default();
        assert_eq!(
            options.client_request_id,
            Some(format!("aci-cmk/{run}/key"))
        );
    }
}
