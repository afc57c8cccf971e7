//! `aci-cmk plan SPEC [--detailed-exitcode]`: the steps `apply` would take, each create /
//! update / recover / recreate / in place, with no writes.

use super::session::Session;
use crate::{
    args::PlanArgs, error::CliError, exit::Exit, output::Outcome, progress_view::ProgressView,
};
use aci_cmk_encrypted_deployment::plan::Plan;
use serde_json::json;
use std::sync::Arc;

/// Plans the spec.
pub async fn run(args: PlanArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let session = Session::open(&args.spec, &args.connect, view).await?;
    let plan = {
        let _busy = view.busy("reading the current state");
        session.orchestrator.plan(&session.spec).await
    };
    session.close().await;
    let plan = plan?;
    let exit = if args.detailed_exitcode && !plan.is_converged() {
        Exit::Changes
    } else {
        Exit::Ok
    };
    Ok(Outcome {
        exit,
        result: json!({
            "converged": plan.is_converged(),
            "changes": changes(&plan),
            "steps": plan.steps,
        }),
        text: format!("{plan}\n{}", summary(&plan)),
        printed: false,
    })
}

/// How many steps would write.
fn changes(plan: &Plan) -> usize {
    plan.steps
        .iter()
        .filter(|s| s.action.is_some_and(|a| a.writes()))
        .count()
}

/// One sentence: what apply would do.
fn summary(plan: &Plan) -> String {
    if plan.is_converged() {
        return "No changes: Azure is as the spec says.".to_owned();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for action in plan
        .steps
        .iter()
        .filter_map(|s| s.action)
        .filter(|a| a.writes())
    {
        let name = action.to_string();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
    let n = changes(plan);
    format!(
        "Plan: {n} {} would write ({}); `aci-cmk apply` carries {} out.",
        if n == 1 { "step" } else { "steps" },
        parts.join(", "),
        if n == 1 { "it" } else { "them" }
    )
}
