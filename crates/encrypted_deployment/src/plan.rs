//! `plan`: the ordered steps `apply` would take from the current state, with no writes. The
//! plan is the steps' decisions (the private `decisions` module), which `apply` then carries out.

use crate::progress::{StepAction, StepId};
use serde::Serialize;
use std::fmt;

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlannedStep {
    /// Which step.
    pub step: StepId,
    /// What it would do; `None` when it does not belong to the spec's flow.
    pub action: Option<StepAction>,
    /// Why, in a few words.
    pub detail: String,
    /// What it does instead when a read during the step finds the thing already there (the
    /// survey could not read it: a key in a vault the deployer cannot read yet, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_found: Option<StepAction>,
    /// The steps it waits for.
    pub needs: Vec<StepId>,
}

/// The steps `apply` would take, in step order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The steps.
    pub steps: Vec<PlannedStep>,
}

impl Plan {
    /// Whether applying would write nothing.
    pub fn is_converged(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.action.is_none_or(|a| !a.writes()))
    }

    /// Whether `done` is what the plan says `step` does: its action, or the action it takes
    /// when a read during the step finds the thing already there.
    pub fn admits(&self, step: StepId, done: StepAction) -> bool {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .is_some_and(|s| s.action == Some(done) || s.if_found == Some(done))
    }

    /// The planned action of `step`.
    pub fn action(&self, step: StepId) -> Option<StepAction> {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .and_then(|s| s.action)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            let action = s.action.map_or("-".to_owned(), |a| a.to_string());
            let instead = s
                .if_found
                .map(|a| format!(" (or {a} if found)"))
                .unwrap_or_default();
            writeln!(
                f,
                "{:<24} {:<9} {}{instead}",
                s.step.title(),
                action,
                s.detail
            )?;
        }
        Ok(())
    }
}
