//! The [`RemediationReport`]: per step, what it did (or, in a dry run, would do) and how it
//! ended — done, already as wanted, skipped (why) or failed — and the findings no step fixes.
//! Never a secret: steps describe what they write by names and ids, never by values.

use super::{
    error::StepError,
    plan::{Disruption, FindingRef, Unplanned},
};
use aci_cmk_core::ResponseIds;
use serde::Serialize;
use std::{fmt, time::Duration};

/// Why a step was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
#[non_exhaustive]
pub enum SkipReason {
    /// A disruptive step, and the options do not allow them.
    DisruptiveNotAllowed,
    /// A step it needs did not succeed (its id).
    NeededStepDidNotSucceed(String),
    /// It refused: doing it would lose something (see the detail).
    Refused(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::DisruptiveNotAllowed => f.write_str("disruptive steps are not allowed"),
            SkipReason::NeededStepDidNotSucceed(id) => {
                write!(f, "needs {id}, which did not succeed")
            }
            SkipReason::Refused(why) => f.write_str(why),
        }
    }
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum Outcome {
    /// It wrote what its `actions` say.
    Done,
    /// What it acts on was already as wanted: nothing written.
    AlreadyDone,
    /// A dry run: it would write what its `actions` say, and wrote nothing.
    WouldDo,
    /// It did not run, or refused.
    Skipped {
        /// Why.
        #[serde(flatten)]
        reason: SkipReason,
    },
    /// A call failed; what its `actions` list before the failure was written.
    Failed {
        /// The error, with its causes.
        error: String,
    },
}

impl Outcome {
    /// Whether the step left what it acts on as wanted (done, or already so).
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::AlreadyDone)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done => f.write_str("done"),
            Outcome::AlreadyDone => f.write_str("already done"),
            Outcome::WouldDo => f.write_str("would do (dry run)"),
            Outcome::Skipped { reason } => write!(f, "skipped: {reason}"),
            Outcome::Failed { error } => write!(f, "failed: {error}"),
        }
    }
}

/// What one step did.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct StepReport {
    /// The step's id.
    pub id: String,
    /// In place or disruptive.
    pub disruption: Disruption,
    /// The step's summary.
    pub summary: String,
    /// The findings it fixes.
    pub fixes: Vec<FindingRef>,
    /// What it wrote (in a dry run: would write), in order, by names and ids.
    pub actions: Vec<String>,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The client request id its requests carried: `aci-cmk/{run}/remediate/{step}`.
    pub client_request_id: String,
    /// What the services answered to its writes (request and correlation ids).
    pub write_ids: Vec<ResponseIds>,
    /// How long it took.
    #[serde(serialize_with = "ms")]
    pub duration: Duration,
    /// The error, typed, when it failed or refused.
    #[serde(skip)]
    pub error: Option<StepError>,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What a remediation did.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct RemediationReport {
    /// The run's id.
    pub run_id: String,
    /// The audit the plan came from.
    pub audit_run_id: String,
    /// Whether it was a dry run (nothing written).
    pub dry_run: bool,
    /// Whether disruptive steps were allowed.
    pub allow_disruptive: bool,
    /// Every step of the plan, in the plan's order.
    pub steps: Vec<StepReport>,
    /// The findings no step fixes, with why.
    pub unplanned: Vec<Unplanned>,
}

impl RemediationReport {
    /// The step `id`.
    pub fn step(&self, id: &str) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The steps that failed.
    pub fn failed(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }

    /// The steps that wrote something.
    pub fn done(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| s.outcome == Outcome::Done)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string_pretty(self).map_err(crate::Error::Serialize)
    }
}

impl fmt::Display for RemediationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match (self.dry_run, self.allow_disruptive) {
            (true, _) => "dry run",
            (false, false) => "in place only",
            (false, true) => "in place and disruptive",
        };
        writeln!(
            f,
            "Remediation {} of audit {} ({mode}):",
            self.run_id, self.audit_run_id
        )?;
        for s in &self.steps {
            writeln!(f, "  [{}] {} — {}", s.disruption, s.id, s.outcome)?;
            for a in &s.actions {
                writeln!(f, "      {a}")?;
            }
        }
        if !self.unplanned.is_empty() {
            writeln!(f, "  Left ({}):", self.unplanned.len())?;
            for u in &self.unplanned {
                writeln!(
                    f,
                    "    {} {} — {}",
                    u.finding.kind, u.finding.resource_id, u.why
                )?;
            }
        }
        let count = |p: fn(&Outcome) -> bool| self.steps.iter().filter(|s| p(&s.outcome)).count();
        writeln!(
            f,
            "  {} done, {} already done, {} would do, {} skipped, {} failed",
            count(|o| *o == Outcome::Done),
            count(|o| *o == Outcome::AlreadyDone),
            count(|o| *o == Outcome::WouldDo),
            count(|o| matches!(o, Outcome::Skipped { .. })),
            count(|o| matches!(o, Outcome::Failed { .. })),
        )
    }
}
