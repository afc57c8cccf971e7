//! Running a deployment: each resource of the template, in dependency order, goes through
//! the ARM routes in process (the router hands itself in as a [`ResourceRouter`]), with the
//! deployer's claims, so the same validation and CMK rules apply as to a direct request.

use super::records::{Deployment, DeploymentOperation, active_conflict, key, settle_ms};
use super::render::{deployment_id, deployment_json, status_name};
use super::request::{correlation_id, prepare, template_hash, unknown_type_error};
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::lro;
use crate::arm::lro::Operation;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use crate::reply::Reply;
use aci_cmk_arm_template::Engine;
use futures::FutureExt;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;

pub const DEPLOYMENT_FAILED: &str = "At least one resource deployment operation failed. Please list deployment operations for details.";

/// `PUT …/deployments/{name}`: validates the request, records the deployment `Running` with an
/// operation to poll, answers 201/200 at once and runs the template in the background (as ARM
/// does), independent of the request: a client that hangs up does not stop it.
pub async fn put(
    ctx: &Ctx,
    claims: &Claims,
    routes: &'static dyn ResourceRouter,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult {
    let (req, engine) = prepare(ctx, sub, rg, name)?;
    let k = key(sub, rg, name);
    let id = deployment_id(sub, rg, name);
    let start = ctx.shared.clock.now_ms();
    let mut record = Deployment {
        id: id.clone(),
        subscription: sub.to_owned(),
        resource_group: rg.to_owned(),
        name: name.to_owned(),
        mode: req.mode.clone(),
        correlation_id: correlation_id(ctx),
        start_ms: start,
        done_at_ms: i64::MAX,
        state: "Running".to_owned(),
        cancel_requested: false,
        template_hash: template_hash(&req.template_raw),
        parameters: Value::Object(engine.parameters_json()),
        outputs: None,
        providers: engine.providers_json(),
        dependencies: engine.dependencies_json(),
        output_resources: Vec::new(),
        error: None,
        operations: Vec::new(),
        lro_id: String::new(),
        tags: req.tags.clone(),
    };
    let (existed, op) =
        ctx.shared
            .store
            .try_write(|st| -> Result<(bool, Operation), ArmError> {
                let existed = match st.table::<Deployment>().get(&k) {
                    Some(d) if d.visible_state(ctx.shared.clock.now_ms()) == "Running" => {
                        return Err(active_conflict(d, "edit or replace"));
                    }
                    Some(_) => true,
                    None => false,
                };
                let op = lro::start_open(st, sub, &id, start);
                record.lro_id = op.id.clone();
                st.table_mut::<Deployment>()
                    .insert(k.clone(), record.clone());
                Ok((existed, op))
            })??;

    let run = Run {
        ctx: Ctx::internal(
            ctx.shared.clone(),
            Method::PUT,
            ctx.host.clone(),
            ctx.path.clone(),
            Vec::new(),
            None,
            ctx.peer,
        ),
        claims: claims.clone(),
        routes,
        key: k,
        lro_id: op.id.clone(),
    };
    ctx.shared.background.spawn(run.execute(engine));

    let mut body = deployment_json(&record, ctx.shared.clock.now_ms());
    body["properties"]["provisioningState"] = json!("Accepted");
    let mut r = reply::json(
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        body,
    );
    lro::add_polling_headers(&mut r, &ctx.shared.config, &op);
    reply::set_header(
        &mut r,
        "x-ms-retry-after-ms",
        &settle_ms(&ctx.shared).max(1).to_string(),
    );
    Ok(r)
}

/// A deployment running in the background: its own request context (no connection behind
/// it), the deployer's claims, the ARM routes, and the records it settles.
struct Run {
    ctx: Ctx,
    claims: Claims,
    routes: &'static dyn ResourceRouter,
    key: String,
    lro_id: String,
}

impl Run {
    /// Deploys the template and records the outcome; a panic in the engine or a provider fails
    /// the deployment instead of leaving it `Running`.
    async fn execute(self, engine: Engine) {
        let outcome = AssertUnwindSafe(self.deploy(engine)).catch_unwind().await;
        let outcome = outcome.unwrap_or_else(|_| Outcome::failed(json!({
            "code": "InternalServerError",
            "message": "The deployment failed with an internal error of the emulator (see its log).",
        })));
        self.settle(outcome);
    }

    async fn deploy(&self, mut engine: Engine) -> Outcome {
        let (ctx, claims, routes) = (&self.ctx, &self.claims, self.routes);
        read_externals(ctx, claims, routes, &mut engine).await;
        let (operations, output_resources, failed, canceled) =
            run(ctx, claims, routes, &self.key, &mut engine).await;
        let mut outcome = if canceled {
            Outcome::canceled()
        } else if !failed.is_empty() {
            let details: Vec<Value> = failed
                .iter()
                .map(|e| json!({"code": e["code"], "message": e["message"]}))
                .collect();
            Outcome::failed(
                json!({"code": "DeploymentFailed", "message": DEPLOYMENT_FAILED, "details": details}),
            )
        } else {
            match engine.outputs() {
                Ok(o) => Outcome {
                    state: "Succeeded",
                    error: None,
                    outputs: Some(Value::Object(o)),
                    operations: Vec::new(),
                    output_resources: Vec::new(),
                },
                Err(e) => Outcome::failed(
                    json!({"code": "DeploymentOutputEvaluationFailed", "message": "Unable to evaluate template outputs. Please see error details and deployment operations.", "details": [{"code": e.code, "message": e.message}]}),
                ),
            }
        };
        outcome.operations = operations;
        outcome.output_resources = output_resources;
        outcome
    }

    /// Writes the terminal state (visible after the timing profile's settle time, so pollers see the
    /// operation run) and finishes the operation. A cancel that arrived meanwhile wins; a
    /// deployment deleted meanwhile (its resource group) is left alone.
    fn settle(&self, outcome: Outcome) {
        let shared = &self.ctx.shared;
        let written = shared.store.write(|st| {
            let now = shared.clock.now_ms();
            let done = now + settle_ms(shared);
            let Some(d) = st.table_mut::<Deployment>().get_mut(&self.key) else {
                return;
            };
            let outcome = if d.cancel_requested {
                Outcome {
                    operations: outcome.operations,
                    output_resources: outcome.output_resources,
                    ..Outcome::canceled()
                }
            } else {
                outcome
            };
            d.state = outcome.state.to_owned();
            d.error = outcome.error.clone();
            d.outputs = outcome.outputs;
            d.done_at_ms = done;
            d.operations = outcome.operations;
            d.output_resources = outcome.output_resources;
            lro::finish(st, &self.lro_id, outcome.state, outcome.error, done);
        });
        if let Err(e) = written {
            tracing::error!(error = %e, deployment = %self.key, "recording the deployment's outcome failed");
        }
    }
}

/// How a deployment ended.
struct Outcome {
    state: &'static str,
    error: Option<Value>,
    outputs: Option<Value>,
    operations: Vec<DeploymentOperation>,
    output_resources: Vec<String>,
}

impl Outcome {
    fn failed(error: Value) -> Self {
        Self {
            state: "Failed",
            error: Some(error),
            outputs: None,
            operations: Vec::new(),
            output_resources: Vec::new(),
        }
    }

    fn canceled() -> Self {
        Self {
            state: "Canceled",
            error: None,
            outputs: None,
            operations: Vec::new(),
            output_resources: Vec::new(),
        }
    }
}

pub type RunResult = (Vec<DeploymentOperation>, Vec<String>, Vec<Value>, bool);

/// Deploys the resources in order. Returns the operations, the deployed ids, the errors of
/// failed resources, and whether a cancel stopped it.
pub async fn run(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    key: &str,
    engine: &mut Engine,
) -> RunResult {
    let mut ops = Vec::new();
    let mut deployed = Vec::new();
    let mut errors = Vec::new();
    let mut failed_idx: Vec<usize> = Vec::new();
    let order: Vec<usize> = engine.order().to_vec();
    for i in order {
        let canceled = ctx.shared.store.read(|st| {
            st.table::<Deployment>()
                .get(key)
                .is_some_and(|d| d.cancel_requested)
        });
        if canceled {
            return (ops, deployed, errors, true);
        }
        let r = engine.resources[i].clone();
        if !r.enabled {
            continue;
        }
        // Dependents of a failed resource are not attempted.
        if r.depends_on.iter().any(|d| failed_idx.contains(d)) {
            failed_idx.push(i);
            continue;
        }
        let started = ctx.shared.clock.now_ms();
        let outcome = deploy_one(ctx, claims, routes, engine, i).await;
        let (state, status_code, error) = match outcome {
            Ok((status, value)) => {
                engine.record(i, value);
                deployed.push(r.id.clone());
                ("Succeeded", status, None)
            }
            Err((status, e)) => {
                failed_idx.push(i);
                errors.push(e.clone());
                ("Failed", status, Some(e))
            }
        };
        let finished = ctx.shared.clock.now_ms();
        ops.push(DeploymentOperation {
            operation_id: uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase(),
            provisioning_operation: if r.existing { "Read" } else { "Create" }.to_owned(),
            state: state.to_owned(),
            timestamp_ms: finished,
            duration_ms: finished - started,
            status_code,
            error,
            target_id: r.id.clone(),
            target_name: r.name.clone(),
            target_type: r.resource_type.clone(),
        });
    }
    (ops, deployed, errors, false)
}

/// Deploys one resource: `Ok((statusCode, resource))` or `Err((statusCode, error))`.
pub async fn deploy_one(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    engine: &Engine,
    i: usize,
) -> Result<(String, Value), (String, Value)> {
    let r = &engine.resources[i];
    if let Some(e) = unknown_type_error(r) {
        return Err(("BadRequest".to_owned(), e));
    }
    if r.existing {
        let g = get_resource(ctx, claims, routes, r).await;
        return if g.status.is_success() {
            Ok((status_name(g.status), g.body))
        } else {
            Err((status_name(g.status), provider_error(&g)))
        };
    }
    let body = match engine.body(i) {
        Ok(b) => b,
        Err(e) => {
            return Err((
                "BadRequest".to_owned(),
                json!({"code": e.code, "message": e.message}),
            ));
        }
    };
    let resp = sub_request(
        ctx,
        claims,
        routes,
        Method::PUT,
        &r.id,
        &r.api_version,
        Some(&body),
    )
    .await;
    if !resp.status.is_success() {
        return Err((status_name(resp.status), provider_error(&resp)));
    }
    // A long-running PUT: follow its operation in-process until it is terminal.
    if let Some(op_id) = resp
        .headers
        .get("azure-asyncoperation")
        .and_then(|v| v.to_str().ok())
        .and_then(|u| u.split('?').next())
        .and_then(|u| u.rsplit('/').next())
        .map(str::to_owned)
    {
        loop {
            let op = ctx
                .shared
                .store
                .read(|st| st.table::<Operation>().get(&op_id).cloned());
            let Some(op) = op else { break };
            let now = ctx.shared.clock.now_ms();
            if now < op.done_at_ms {
                // Short naps, so a move of the emulator's clock is seen at once.
                let wait = (op.done_at_ms - now).clamp(1, 100);
                tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
                continue;
            }
            if op.final_status != "Succeeded" {
                let e = op.error.clone().unwrap_or_else(|| {
                    json!({"code": "ResourceDeploymentFailure", "message": format!(
                        "The resource operation completed with terminal provisioning state '{}'.", op.final_status)})
                });
                return Err(("Conflict".to_owned(), e));
            }
            break;
        }
    }
    // The resource as a GET shows it now (for reference()); some sub-resources have no GET. A
    // resource answered synchronously but still provisioning (a vault registering its DNS
    // name) is waited for, as ARM waits for a terminal provisioningState before dependents.
    let mut g = get_resource(ctx, claims, routes, r).await;
    while g.status == StatusCode::OK && still_provisioning(&g.body) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        g = get_resource(ctx, claims, routes, r).await;
    }
    if g.status == StatusCode::OK
        && provisioning_state(&g.body).is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
    {
        return Err((
            "Conflict".to_owned(),
            json!({"code": "ResourceDeploymentFailure", "message": "The resource operation completed with terminal provisioning state 'Failed'."}),
        ));
    }
    let value = if g.status == StatusCode::OK {
        g.body
    } else {
        resp.body
    };
    Ok((status_name(resp.status), value))
}

fn provisioning_state(resource: &Value) -> Option<&str> {
    resource["properties"]["provisioningState"].as_str()
}

/// Whether a resource reports a provisioning state that is not terminal yet.
fn still_provisioning(resource: &Value) -> bool {
    provisioning_state(resource).is_some_and(|s| {
        !["Succeeded", "Failed", "Canceled"]
            .iter()
            .any(|t| s.eq_ignore_ascii_case(t))
    })
}

/// Reads the resources outside the template that its `reference()` calls name (as the
/// deployer), so the engine can evaluate them.
pub async fn read_externals(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    engine: &mut Engine,
) {
    let externals: Vec<(String, Option<String>)> = engine.external_references().to_vec();
    for (target, api) in externals {
        let Some(api) = api else { continue };
        let r = sub_request(ctx, claims, routes, Method::GET, &target, &api, None).await;
        if r.status == StatusCode::OK {
            engine.set_external(&target, r.body);
        }
    }
}

/// A template resource as its GET shows it now.
pub async fn get_resource(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    r: &aci_cmk_arm_template::Resource,
) -> SubResponse {
    sub_request(
        ctx,
        claims,
        routes,
        Method::GET,
        &r.id,
        &r.api_version,
        None,
    )
    .await
}

pub fn provider_error(r: &SubResponse) -> Value {
    match r.body.get("error") {
        Some(e) if e.is_object() => {
            let mut e = e.clone();
            if e.get("code").is_none() {
                e["code"] = json!(status_name(r.status));
            }
            e
        }
        _ => json!({"code": status_name(r.status), "message": format!(
            "The resource provider answered {} without an error body.", r.status.as_u16())}),
    }
}

/// An in-process ARM answer.
pub struct SubResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body (`null` when there is none).
    pub body: Value,
}

pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// The ARM routes, as the router offers them to a deployment: a deployment's resources are
/// routed from inside the router, so the router hands itself in rather than being imported.
pub trait ResourceRouter: Sync {
    /// Answers an authenticated ARM request (`lc`: its lowercased path segments).
    fn route<'a>(
        &'a self,
        ctx: &'a Ctx,
        claims: &'a Claims,
        lc: &'a [&'a str],
    ) -> BoxFuture<'a, Reply>;
}

/// Routes an ARM request inside the emulator, exactly as a direct request with the deployment
/// caller's claims (no fault injection, no request-log entry); the body goes in and comes back
/// as a value.
pub async fn sub_request(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    method: Method,
    path: &str,
    api: &str,
    body: Option<&Value>,
) -> SubResponse {
    let path: String = path
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/");
    let inner = Ctx::internal(
        ctx.shared.clone(),
        method,
        ctx.host.clone(),
        path,
        vec![("api-version".to_owned(), api.to_owned())],
        body.cloned(),
        ctx.peer,
    );
    let lc: Vec<String> = inner.segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lcs: Vec<&str> = lc.iter().map(String::as_str).collect();
    let reply = routes.route(&inner, claims, &lcs).await;
    SubResponse {
        status: reply.status,
        headers: reply.headers,
        body: reply.body.unwrap_or(Value::Null),
    }
}
