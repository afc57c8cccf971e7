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
//!
//! An operation reports `InProgress` while it runs, unless its provider speaks another
//! vocabulary ([`Operation::running_status`]: ACI's `Pending` and `Updating`, served on the
//! provider's own status URL); the `Location` URL answers the same for either.

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
    /// What the status reports while the operation runs, for a provider with its own
    /// vocabulary (ACI: `Pending`, `Updating`; a vault purge: `NotStarted`, which its
    /// `Location` 202 carries as `{"status": …}`); `None`: ARM's `InProgress` and an empty 202.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_status: Option<String>,
}

impl Record for Operation {
    const TABLE: &'static str = "operations";
}

impl Operation {
    /// Whether the operation has reached its final status at `now_ms`.
    pub fn is_done(&self, now_ms: i64) -> bool {
        now_ms >= self.done_at_ms
    }

    /// Status at `now_ms`: the running status (`InProgress`, or the provider's own word) until
    /// `done_at_ms`, then the final status.
    pub fn status(&self, now_ms: i64) -> &str {
        if self.is_done(now_ms) {
            &self.final_status
        } else {
            self.running_status.as_deref().unwrap_or("InProgress")
        }
    }

    /// The operation reporting `status` while it runs instead of `InProgress`.
    pub fn reporting_while_running(mut self, status: &str) -> Self {
        self.running_status = Some(status.to_owned());
        self
    }
}

/// Stores `op` (new, or changed by its provider).
pub fn save(st: &mut Tables, op: &Operation) {
    st.table_mut::<Operation>()
        .insert(op.id.clone(), op.clone());
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
        running_status: None,
    };
    save(st, &op);
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
    save(st, &op);
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
        running_status: None,
    };
    save(st, &op);
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

/// `Retry-After` of the first answer of an operation that takes `after_ms`, as ARM sends it for
/// a resource-group delete: whole seconds from 1 to 15, never 0. (Polls answer 1.)
pub fn retry_after_secs(after_ms: i64) -> i64 {
    (after_ms.saturating_add(999) / 1000).clamp(1, 15)
}

/// `202 Accepted` with the operation's `Location`, `Retry-After: 1` and `x-ms-retry-after-ms`
/// (`after_ms`, at most a second): the answer of a request whose result is polled at its
/// `Location`.
pub fn accepted(cfg: &Config, op: &Operation, after_ms: i64) -> Reply {
    let mut r = reply::empty(StatusCode::ACCEPTED);
    reply::set_header(&mut r, "location", &result_url(cfg, op));
    reply::set_header(&mut r, "retry-after", "1");
    reply::set_header(
        &mut r,
        "x-ms-retry-after-ms",
        &after_ms.clamp(1, 1000).to_string(),
    );
    r
}

/// Records an operation that runs `after_ms`, reports `running_status` while it runs (its
/// `Location` 202 says `{"status": …}`) and answers 200 with `result` (or without a body, for
/// `Value::Null`) once done: a resource-group delete, a vault purge.
pub fn start_reported(
    st: &mut Tables,
    subscription: &str,
    resource_id: &str,
    after_ms: i64,
    running_status: Option<&str>,
    result: Value,
    now: i64,
) -> Operation {
    let op = start_with_result(st, subscription, resource_id, after_ms, result, now);
    let op = match running_status {
        Some(s) => op.reporting_while_running(s),
        None => op,
    };
    save(st, &op);
    op
}

/// Adds `Azure-AsyncOperation`, `Location` and `Retry-After: 1` to a 201/202 response.
pub fn add_polling_headers(r: &mut Reply, cfg: &Config, op: &Operation) {
    reply::set_header(r, "azure-asyncoperation", &status_url(cfg, op));
    reply::set_header(r, "location", &result_url(cfg, op));
    reply::set_header(r, "retry-after", "1");
}

/// 404 `OperationNotFound` for the operation `id`.
pub fn not_found(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "OperationNotFound",
        format!("The operation '{id}' could not be found."),
    )
}

/// `Retry-After: 1` (never 0), and `x-ms-retry-after-ms` with the time left (at most a second),
/// so clients that read it poll when the operation is done rather than a whole second later.
pub fn set_poll_delay(r: &mut Reply, op: &Operation, now_ms: i64) {
    reply::set_header(r, "retry-after", "1");
    // An operation whose end is not known yet (`done_at_ms` = i64::MAX) is polled each second.
    let left = op.done_at_ms.saturating_sub(now_ms).clamp(1, 1000);
    reply::set_header(r, "x-ms-retry-after-ms", &left.to_string());
}

/// Serves `operationStatuses/{id}` and `operationResults/{id}`.
pub fn handle(ctx: &Ctx, kind: &str, id: &str) -> ArmResult {
    if ctx.method != Method::GET {
        return Err(crate::arm::error::method_not_allowed(ctx));
    }
    let op = ctx
        .shared
        .store
        .read(|st| st.table::<Operation>().get(id).cloned())
        .ok_or_else(|| not_found(id))?;
    let now_ms = ctx.shared.clock.now_ms();
    let done = op.is_done(now_ms);
    let status = op.status(now_ms).to_owned();
    if kind == "operationstatuses" {
        let mut body = json!({
            "id": format!("/subscriptions/{}/providers/Microsoft.Resources/operationStatuses/{}", op.subscription, op.id),
            "name": op.id,
            "status": status,
            "startTime": rfc3339_secs(op.start_ms / 1000),
        });
        if done {
            body["endTime"] = json!(rfc3339_secs(op.done_at_ms / 1000));
            if let Some(e) = &op.error {
                body["error"] = e.clone();
            }
        }
        let mut r = reply::json(StatusCode::OK, body);
        if !done {
            set_poll_delay(&mut r, &op, now_ms);
        }
        return Ok(r);
    }
    if !done {
        let mut r = match &op.running_status {
            Some(s) => reply::json(StatusCode::ACCEPTED, json!({"status": s})),
            None => reply::empty(StatusCode::ACCEPTED),
        };
        reply::set_header(&mut r, "location", &result_url(&ctx.shared.config, &op));
        set_poll_delay(&mut r, &op, now_ms);
        return Ok(r);
    }
    match status.as_str() {
        "Succeeded" => Ok(match &op.result {
            Some(Value::Null) => reply::empty(StatusCode::OK),
            Some(result) => reply::json(StatusCode::OK, result.clone()),
            None => reply::empty(StatusCode::NO_CONTENT),
        }),
        _ => {
            let e = op.error.clone().unwrap_or_else(
                || json!({"code": "OperationFailed", "message": "The operation failed."}),
            );
            let code = e["code"].as_str().unwrap_or("OperationFailed").to_owned();
            let mut r = reply::json(StatusCode::BAD_REQUEST, json!({ "error": e }));
            reply::set_header(&mut r, "x-ms-error-code", &code);
            Ok(r)
        }
    }
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Operation>();
}
