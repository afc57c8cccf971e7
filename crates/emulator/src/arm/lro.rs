//! Long-running operations for providers whose work is not finished when they answer (container
//! groups, deployments). An operation is stored in the state with the time at which
//! it reaches its final status; polling URLs answer as ARM does:
//!
//! - `GET /subscriptions/{sub}/providers/Microsoft.Resources/operationStatuses/{id}`
//!   (the `Azure-AsyncOperation` URL): `{"id","name","status","startTime","endTime"?,"error"?}`.
//! - `GET /subscriptions/{sub}/providers/Microsoft.Resources/operationResults/{id}`
//!   (the `Location` URL): 202 with `Retry-After: 1` while running, 204 on success, the error
//!   envelope on failure.
//!
//! A provider answers its PUT/DELETE with 201/202 and [`add_polling_headers`], which always
//! sends `Retry-After: 1` (never 0, never absent).

use crate::reply::Reply;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm::error::{ArmError, ArmResult};
use crate::config::{Config, rfc3339_secs};
use crate::context::Ctx;
use crate::reply;
use crate::store::{Record, Tables};

/// api-version written into polling URLs.
pub const POLL_API_VERSION: &str = "2021-04-01";

/// A long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// Operation id (a GUID).
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// ARM id of the resource the operation works on.
    pub resource_id: String,
    /// Start (unix ms).
    pub start_ms: i64,
    /// When the operation reaches `final_status` (unix ms).
    pub done_at_ms: i64,
    /// `Succeeded`, `Failed` or `Canceled`.
    pub final_status: String,
    /// Error envelope body (`{"code","message",...}`) for a failed operation.
    #[serde(default)]
    pub error: Option<Value>,
    /// What the `Location` URL answers (200) once the operation succeeded, for an operation
    /// that has a result (a what-if); without one it answers 204.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// What the `Location` URL's 202 says while the operation runs (`{"status": "NotStarted"}`
    /// for a vault purge); without it the 202 has no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_status: Option<String>,
}

impl Record for Operation {
    const TABLE: &'static str = "operations";
}

impl Operation {
    /// Status at `now_ms`: `InProgress` until `done_at_ms`, then the final status.
    pub fn status(&self, now_ms: i64) -> &str {
        if now_ms >= self.done_at_ms {
            &self.final_status
        } else {
            "InProgress"
        }
    }
}

/// Records an operation that finishes `after_ms` from now with `final_status` (and `error`).
pub fn start(
    st: &mut Tables,
    subscription: &str,
    resource_id: &str,
    after_ms: i64,
    final_status: &str,
    error: Option<Value>,
    now: i64,
) -> Operation {
    let op = Operation {
        id: uuid::Uuid::new_v4().to_string(),
        subscription: subscription.to_owned(),
        resource_id: resource_id.to_owned(),
        start_ms: now,
        done_at_ms: now + after_ms.max(0),
        final_status: final_status.to_owned(),
        error,
        result: None,
        pending_status: None,
    };
    st.table_mut::<Operation>()
        .insert(op.id.clone(), op.clone());
    op
}

/// Records an operation that succeeds `after_ms` from now with `result`, which its `Location`
/// URL then answers.
pub fn start_with_result(
    st: &mut Tables,
    subscription: &str,
    resource_id: &str,
    after_ms: i64,
    result: Value,
    now: i64,
) -> Operation {
    let mut op = start(
        st,
        subscription,
        resource_id,
        after_ms,
        "Succeeded",
        None,
        now,
    );
    op.result = Some(result);
    st.table_mut::<Operation>()
        .insert(op.id.clone(), op.clone());
    op
}

/// Records an operation whose end is not known yet: `InProgress` until [`finish`] settles it.
pub fn start_open(st: &mut Tables, subscription: &str, resource_id: &str, now: i64) -> Operation {
    let op = Operation {
        id: uuid::Uuid::new_v4().to_string(),
        subscription: subscription.to_owned(),
        resource_id: resource_id.to_owned(),
        start_ms: now,
        done_at_ms: i64::MAX,
        final_status: "InProgress".to_owned(),
        error: None,
        result: None,
        pending_status: None,
    };
    st.table_mut::<Operation>()
        .insert(op.id.clone(), op.clone());
    op
}

/// Changes an operation's outcome (e.g. a provider learns it failed), finishing it at `now_ms`
/// (or earlier, if it was due earlier).
pub fn finish(st: &mut Tables, id: &str, final_status: &str, error: Option<Value>, now_ms: i64) {
    if let Some(op) = st.table_mut::<Operation>().get_mut(id) {
        op.final_status = final_status.to_owned();
        op.error = error;
        op.done_at_ms = op.done_at_ms.min(now_ms);
    }
}

/// The `Azure-AsyncOperation` URL of an operation.
pub fn status_url(cfg: &Config, op: &Operation) -> String {
    format!(
        "{}/subscriptions/{}/providers/Microsoft.Resources/operationStatuses/{}?api-version={POLL_API_VERSION}",
        cfg.base(),
        op.subscription,
        op.id
    )
}

/// The `Location` URL of an operation.
pub fn result_url(cfg: &Config, op: &Operation) -> String {
    format!(
        "{}/subscriptions/{}/providers/Microsoft.Resources/operationResults/{}?api-version={POLL_API_VERSION}",
        cfg.base(),
        op.subscription,
        op.id
    )
}

/// `Retry-After` for an operation with `left_ms` to go: whole seconds from 1 to 15 (ARM's
/// longest, as a resource-group delete sends it), never 0.
pub fn retry_after_secs(left_ms: i64) -> i64 {
    (left_ms.saturating_add(999) / 1000).clamp(1, 15)
}

/// `202 Accepted` with the operation's `Location`, `Retry-After` and `x-ms-retry-after-ms`
/// (`after_ms`): the answer of a request whose result is polled at its `Location`.
pub fn accepted(cfg: &Config, op: &Operation, after_ms: i64) -> Reply {
    let mut r = reply::empty(StatusCode::ACCEPTED);
    reply::set_header(&mut r, "location", &result_url(cfg, op));
    reply::set_header(
        &mut r,
        "retry-after",
        &retry_after_secs(after_ms).to_string(),
    );
    reply::set_header(&mut r, "x-ms-retry-after-ms", &after_ms.max(1).to_string());
    r
}

/// Records an operation that runs `after_ms` and whose `Location` says `pending_status` while
/// it runs and answers 200 with `result` (or without a body, for `Value::Null`) once done: a
/// resource-group delete, a vault purge.
pub fn start_reported(
    st: &mut Tables,
    subscription: &str,
    resource_id: &str,
    after_ms: i64,
    pending_status: Option<&str>,
    result: Value,
    now: i64,
) -> Operation {
    let mut op = start_with_result(st, subscription, resource_id, after_ms, result, now);
    op.pending_status = pending_status.map(str::to_owned);
    st.table_mut::<Operation>()
        .insert(op.id.clone(), op.clone());
    op
}

/// Adds `Azure-AsyncOperation`, `Location` and `Retry-After: 1` to a 201/202 response.
pub fn add_polling_headers(r: &mut Reply, cfg: &Config, op: &Operation) {
    reply::set_header(r, "azure-asyncoperation", &status_url(cfg, op));
    reply::set_header(r, "location", &result_url(cfg, op));
    reply::set_header(r, "retry-after", "1");
}

fn not_found(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "OperationNotFound",
        format!("The operation '{id}' could not be found."),
    )
}

/// `Retry-After: 1` (never 0), and `x-ms-retry-after-ms` with the time left (at most a second),
/// so clients that read it poll when the operation is done rather than a whole second later.
fn set_poll_delay(r: &mut Reply, op: &Operation, now_ms: i64) {
    // An operation whose end is not known yet (`done_at_ms` = i64::MAX) is polled each second.
    let left = if op.done_at_ms == i64::MAX {
        1000
    } else {
        op.done_at_ms.saturating_sub(now_ms).max(1)
    };
    reply::set_header(r, "retry-after", &retry_after_secs(left).to_string());
    reply::set_header(r, "x-ms-retry-after-ms", &left.to_string());
}

/// Serves `operationStatuses/{id}` and `operationResults/{id}`.
pub fn handle(ctx: &Ctx, kind: &str, id: &str) -> ArmResult {
    if ctx.method != Method::GET {
        return Err(crate::arm::resources::method_not_allowed(ctx));
    }
    let op = ctx
        .shared
        .store
        .read(|st| st.table::<Operation>().get(id).cloned())
        .ok_or_else(|| not_found(id))?;
    let now_ms = ctx.shared.clock.now_ms();
    let status = op.status(now_ms).to_owned();
    if kind == "operationstatuses" {
        let mut body = json!({
            "id": format!("/subscriptions/{}/providers/Microsoft.Resources/operationStatuses/{}", op.subscription, op.id),
            "name": op.id,
            "status": status,
            "startTime": rfc3339_secs(op.start_ms / 1000),
        });
        if status != "InProgress" {
            body["endTime"] = json!(rfc3339_secs(op.done_at_ms / 1000));
            if let Some(e) = &op.error {
                body["error"] = e.clone();
            }
        }
        let mut r = reply::json(StatusCode::OK, &body);
        if status == "InProgress" {
            set_poll_delay(&mut r, &op, now_ms);
        }
        return Ok(r);
    }
    match status.as_str() {
        "InProgress" => {
            let mut r = match &op.pending_status {
                Some(s) => reply::json(StatusCode::ACCEPTED, &json!({"status": s})),
                None => reply::empty(StatusCode::ACCEPTED),
            };
            reply::set_header(&mut r, "location", &result_url(&ctx.shared.config, &op));
            set_poll_delay(&mut r, &op, now_ms);
            Ok(r)
        }
        "Succeeded" => Ok(match &op.result {
            Some(Value::Null) => reply::empty(StatusCode::OK),
            Some(result) => reply::json(StatusCode::OK, result),
            None => reply::empty(StatusCode::NO_CONTENT),
        }),
        _ => {
            let e = op.error.clone().unwrap_or_else(
                || json!({"code": "OperationFailed", "message": "The operation failed."}),
            );
            let code = e["code"].as_str().unwrap_or("OperationFailed").to_owned();
            let mut r = reply::json(StatusCode::BAD_REQUEST, &json!({ "error": e }));
            reply::set_header(&mut r, "x-ms-error-code", &code);
            Ok(r)
        }
    }
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Operation>();
}
