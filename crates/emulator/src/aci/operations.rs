//! ACI's own long-running operations, as live Azure shows them: a container-group PUT, start
//! and restart answer with an `Azure-AsyncOperation` URL of the provider itself,
//! `{arm}/subscriptions/{sub}/providers/Microsoft.ContainerInstance/locations/{region}/operations/{id}`,
//! whose status is `Pending` (a PUT, a start) or `Updating` (a restart) until it is
//! `Succeeded` or `Failed`:
//! `{"id": "<group id>", "status", "startTime", "properties": {"events": []}, "error"?}`.
//!
//! The operations are `arm::lro` records that report their own vocabulary while running
//! ([`crate::arm::lro::Operation::running_status`]), so they persist with the rest of the state,
//! a deployment follows them like any other and a PUT's ARM `Location` URL answers for them too.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::network::region;
use super::records::RESOURCE_TYPE;
use crate::arm::error::ArmResult;
use crate::arm::lro::{self, Operation};
use crate::arm::request::check_api_version;
use crate::config::{Config, rfc3339_ms};
use crate::context::Ctx;
use crate::reply::{self, Reply};
use crate::store::Tables;

/// The api-version ACI writes into its operation URLs (as live Azure does).
pub const POLL_API_VERSION: &str = "2018-06-01";

/// The resource type of the operation-status route, for api-version errors.
const OPERATIONS_TYPE: &str = "Microsoft.ContainerInstance/locations/operations";

/// What a container group's operation reports while it runs: a PUT or a start is `Pending`, a
/// restart `Updating`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    /// A PUT or a start.
    Pending,
    /// A restart.
    Updating,
}

impl Running {
    /// The status word (also the group's `provisioningState` meanwhile).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Updating => "Updating",
        }
    }
}

/// Records an operation on the group `group_id` that ends `after_ms` from `now` with
/// `final_status` (and `error`), reporting `running` until then.
pub fn start(
    st: &mut Tables,
    subscription: &str,
    group_id: &str,
    after_ms: i64,
    running: Running,
    outcome: (&str, Option<Value>),
    now: i64,
) -> Operation {
    let (final_status, error) = outcome;
    let op = lro::start(
        st,
        subscription,
        group_id,
        after_ms,
        final_status,
        error,
        now,
    )
    .reporting_while_running(running.as_str());
    lro::save(st, &op);
    op
}

/// The operation's `Azure-AsyncOperation` URL, in the group's region (`location`).
pub fn status_url(cfg: &Config, op: &Operation, location: &str) -> String {
    format!(
        "{}/subscriptions/{}/providers/Microsoft.ContainerInstance/locations/{}/operations/{}?api-version={POLL_API_VERSION}",
        cfg.base(),
        op.subscription,
        region(location),
        op.id
    )
}

/// Adds `Azure-AsyncOperation` (ACI's own URL, in the group's region `location`),
/// `Retry-After: 1` and `x-ms-retry-after-ms` (the operation's whole duration, at least 1) to
/// the answer of a request whose work goes on.
pub fn add_polling_headers(r: &mut Reply, cfg: &Config, op: &Operation, location: &str) {
    reply::set_header(r, "azure-asyncoperation", &status_url(cfg, op, location));
    reply::set_header(r, "retry-after", "1");
    let after_ms = op.done_at_ms.saturating_sub(op.start_ms).max(1);
    reply::set_header(r, "x-ms-retry-after-ms", &after_ms.to_string());
}

/// Whether `op` is an operation of this provider (not a deployment's or another's).
fn is_aci(op: &Operation) -> bool {
    op.running_status.is_some()
        && op.resource_id.to_ascii_lowercase().contains(&format!(
            "/providers/{}/",
            RESOURCE_TYPE.to_ascii_lowercase()
        ))
}

/// `GET …/providers/Microsoft.ContainerInstance/locations/{location}/operations/{id}`: the
/// status of one of this provider's operations, with `Retry-After: 1` and
/// `x-ms-retry-after-ms` (the time left, 1 to 1000) while it runs. The location segment is not
/// checked against the group's: the id names the operation. The api-version is the one ACI
/// writes into the URL or one of the group's (`versions`).
pub fn handle(ctx: &Ctx, sub: &str, id: &str, versions: &[&str]) -> ArmResult {
    if !ctx
        .q("api-version")
        .is_some_and(|v| v.eq_ignore_ascii_case(POLL_API_VERSION))
    {
        check_api_version(ctx, OPERATIONS_TYPE, versions)?;
    }
    if ctx.method != Method::GET {
        return Err(crate::arm::error::method_not_allowed(ctx));
    }
    let op = ctx
        .shared
        .store
        .read(|st| st.table::<Operation>().get(id).cloned())
        .filter(|op| is_aci(op) && op.subscription.eq_ignore_ascii_case(sub))
        .ok_or_else(|| lro::not_found(id))?;
    let now_ms = ctx.shared.clock.now_ms();
    let mut body = json!({
        "id": op.resource_id,
        "status": op.status(now_ms),
        "startTime": rfc3339_ms(op.start_ms),
        "properties": {"events": []},
    });
    if !op.is_done(now_ms) {
        let mut r = reply::json(StatusCode::OK, body);
        lro::set_poll_delay(&mut r, &op, now_ms);
        return Ok(r);
    }
    if op.final_status != "Succeeded" {
        body["error"] = op.error.clone().unwrap_or_else(
            || json!({"code": "OperationFailed", "message": "The operation failed."}),
        );
    }
    Ok(reply::json(StatusCode::OK, body))
}
