//! Microsoft.Resources/deployments at resource-group scope: template deployments.
//!
//! - `PUT …/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}` runs the
//!   template ([`crate::template`]) inside the request: each resource goes through the same
//!   ARM routing as a direct request (the private `arm::route`, with the caller's claims), so the same
//!   validation and CMK rules apply; a long-running sub-PUT is followed in-process through its
//!   [`super::lro`] operation. The answer is 201 `Accepted` with `Azure-AsyncOperation` and
//!   `Location`; the deployment (and its operation) shows `Running` for
//!   [`COMPLETION_DELAY_MS`], then its terminal state.
//! - `GET`/`HEAD`/`DELETE` the deployment, list (`$filter=provisioningState eq 'X'`, `$top`),
//!   `POST …/validate`, `POST …/cancel`, and the deployment operations
//!   (`GET /subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations[/{id}]`,
//!   also under `providers/Microsoft.Resources`).
//!
//! Bodies are parsed leniently (JSON5: comments, trailing commas, bare keys), as the Azure CLI
//! sends them. Secure parameter values are never stored.

use crate::arm::lro::Operation;
use crate::arm::resources::{ResourceGroup, Subscription};
use futures::future::BoxFuture;
use std::collections::BTreeMap;

use crate::reply::Reply;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::lro;
use crate::arm::request::check_api_version;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use crate::store::{Record, Tables};
use crate::template::{self, Engine, Scope, TemplateError};

/// api-versions accepted for deployments.
pub const API_VERSIONS: &[&str] = &[
    "2019-10-01",
    "2020-06-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
];

/// How long a finished deployment still shows `Running` (so pollers see the LRO shape).
pub const COMPLETION_DELAY_MS: i64 = 150;

/// Resource types a template may deploy (lowercase), all routed through ARM.
const KNOWN_TYPES: &[&str] = &[
    "microsoft.keyvault/vaults",
    "microsoft.keyvault/vaults/accesspolicies",
    "microsoft.managedidentity/userassignedidentities",
    "microsoft.authorization/roleassignments",
    "microsoft.containerinstance/containergroups",
];

/// Namespaces the emulator serves.
const KNOWN_NAMESPACES: &[&str] = &[
    "microsoft.keyvault",
    "microsoft.managedidentity",
    "microsoft.authorization",
    "microsoft.containerinstance",
    "microsoft.resources",
];

const DEPLOYMENT_FAILED: &str = "At least one resource deployment operation failed. Please list deployment operations for details.";

/// One resource operation of a deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentOperation {
    /// Operation id (16 hex digits).
    pub operation_id: String,
    /// `Create` (or `Read` for `existing` resources).
    pub provisioning_operation: String,
    /// `Succeeded` or `Failed`.
    pub state: String,
    /// When it finished (unix ms).
    pub timestamp_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// HTTP status name of the provider's answer (`OK`, `Created`, `BadRequest`, …).
    pub status_code: String,
    /// The resource provider's error (`{code, message, details?}`).
    #[serde(default)]
    pub error: Option<Value>,
    /// Target resource id.
    pub target_id: String,
    /// Target resource name.
    pub target_name: String,
    /// Target resource type.
    pub target_type: String,
}

/// A deployment record (no template and no secure parameter value is kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// ARM id.
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group (as created).
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// `Incremental`.
    pub mode: String,
    /// Correlation id of the PUT.
    pub correlation_id: String,
    /// Start (unix ms).
    pub start_ms: i64,
    /// When the terminal state becomes visible (unix ms).
    pub done_at_ms: i64,
    /// `Running` while the engine works, then `Succeeded`, `Failed` or `Canceled`.
    pub state: String,
    /// A cancel arrived while the engine was working.
    #[serde(default)]
    pub cancel_requested: bool,
    /// Template hash.
    pub template_hash: String,
    /// Parameters as returned (`{name: {type, value?}}`; secure values omitted).
    pub parameters: Value,
    /// Outputs (when succeeded).
    #[serde(default)]
    pub outputs: Option<Value>,
    /// `providers[]`.
    pub providers: Value,
    /// `dependencies[]`.
    pub dependencies: Value,
    /// Ids of the deployed resources.
    pub output_resources: Vec<String>,
    /// Deployment error.
    #[serde(default)]
    pub error: Option<Value>,
    /// Resource operations.
    pub operations: Vec<DeploymentOperation>,
    /// The LRO operation id of the last PUT.
    pub lro_id: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Record for Deployment {
    const TABLE: &'static str = "deployments";
}

impl Deployment {
    /// The state a client sees now.
    pub fn visible_state(&self, now_ms: i64) -> &str {
        if self.state == "Running" || now_ms < self.done_at_ms {
            "Running"
        } else {
            &self.state
        }
    }
}

/// Table key of a deployment.
pub fn key(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "{}/{}/{}",
        sub.to_ascii_lowercase(),
        rg.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

/// Deletes the deployments of a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    st.table_mut::<Deployment>().retain(|_, d| {
        !(d.subscription.eq_ignore_ascii_case(sub) && d.resource_group.eq_ignore_ascii_case(rg))
    });
}

fn ms_rfc3339(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => crate::config::rfc3339(t),
        Err(_) => crate::config::rfc3339_secs(ms / 1000),
    }
}

/// ISO 8601 duration (`PT1M2.345S`).
pub fn iso_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    let mut out = "PT".to_owned();
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if frac > 0 {
        let f = format!("{frac:03}");
        out.push_str(&format!("{s}.{}S", f.trim_end_matches('0')));
    } else if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

fn deployment_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}"
    )
}

fn operation_json(d: &Deployment, op: &DeploymentOperation) -> Value {
    let mut status = json!({"status": op.state});
    if let Some(e) = &op.error {
        status["error"] = e.clone();
    }
    json!({
        "id": format!("{}/operations/{}", d.id, op.operation_id),
        "operationId": op.operation_id,
        "properties": {
            "provisioningOperation": op.provisioning_operation,
            "provisioningState": op.state,
            "timestamp": ms_rfc3339(op.timestamp_ms),
            "duration": iso_duration(op.duration_ms),
            "trackingId": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, op.operation_id.as_bytes()).to_string(),
            "serviceRequestId": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, op.operation_id.as_bytes()).to_string(),
            "statusCode": op.status_code,
            "statusMessage": status,
            "targetResource": {
                "id": op.target_id,
                "resourceName": op.target_name,
                "resourceType": op.target_type,
            },
        }
    })
}

/// The DeploymentExtended JSON.
pub fn deployment_json(d: &Deployment, now_ms: i64) -> Value {
    let state = d.visible_state(now_ms).to_owned();
    let now = now_ms;
    let (timestamp, duration) = if state == "Running" {
        (now, now - d.start_ms)
    } else {
        (d.done_at_ms, d.done_at_ms - d.start_ms)
    };
    let mut props = json!({
        "templateHash": d.template_hash,
        "parameters": d.parameters,
        "mode": d.mode,
        "provisioningState": state,
        "timestamp": ms_rfc3339(timestamp),
        "duration": iso_duration(duration),
        "correlationId": d.correlation_id,
        "providers": d.providers,
        "dependencies": d.dependencies,
    });
    if state != "Running" {
        props["outputResources"] = Value::Array(
            d.output_resources
                .iter()
                .map(|id| json!({ "id": id }))
                .collect(),
        );
        if state == "Succeeded" {
            props["outputs"] = d.outputs.clone().unwrap_or_else(|| json!({}));
        }
        if let Some(e) = &d.error {
            props["error"] = e.clone();
        }
    }
    let mut v = json!({
        "id": d.id,
        "name": d.name,
        "type": "Microsoft.Resources/deployments",
        "properties": props,
    });
    if !d.tags.is_empty() {
        v["tags"] = json!(d.tags);
    }
    v
}

fn not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "DeploymentNotFound",
        format!("Deployment '{name}' could not be found in resource group '{rg}'."),
    )
}

fn template_error(e: TemplateError) -> ArmError {
    ArmError::bad(&e.code, e.message)
}

fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.chars().count())
        && n.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

/// Routes `…/resourcegroups/{rg}/providers/Microsoft.Resources/{tail}` (deployments).
pub async fn handle(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
    routes: &dyn ResourceRouter,
) -> ArmResult {
    let Some(rg_in) = rg else {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "Deployments are emulated at resource-group scope only.",
        ));
    };
    check_api_version(ctx, "Microsoft.Resources/deployments", API_VERSIONS)?;
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let m = &ctx.method;
    match tail {
        ["deployments"] if m == Method::GET => list(ctx, sub, &rg),
        ["deployments", _] => {
            let name = &orig[1];
            match ctx.method {
                Method::GET => {
                    let d = get(ctx, sub, &rg, name)?;
                    Ok(reply::json(
                        StatusCode::OK,
                        &deployment_json(&d, ctx.shared.clock.now_ms()),
                    ))
                }
                Method::HEAD => Ok(reply::empty(if get(ctx, sub, &rg, name).is_ok() {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::NOT_FOUND
                })),
                Method::PUT => put(ctx, claims, routes, sub, &rg, name).await,
                Method::DELETE => delete(ctx, sub, &rg, name),
                _ => Err(crate::arm::resources::method_not_allowed(ctx)),
            }
        }
        ["deployments", _, "validate"] if m == Method::POST => validate(ctx, sub, &rg, &orig[1]),
        ["deployments", _, "cancel"] if m == Method::POST => cancel(ctx, sub, &rg, &orig[1]),
        ["deployments", _, "operations"] => operations(ctx, sub, &rg, &orig[1], None),
        ["deployments", _, "operations", _] => operations(ctx, sub, &rg, &orig[1], Some(&orig[3])),
        ["deployments", _, "whatif" | "exporttemplate"] => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "'{}' is not emulated for deployments.",
                orig.get(2).map(String::as_str).unwrap_or_default()
            ),
        )),
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The path '{}' is not emulated for namespace 'Microsoft.Resources'.",
                ctx.path
            ),
        )),
    }
}

/// `GET /subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations[/{id}]` (the
/// route without `providers/`).
pub fn operations_route(ctx: &Ctx, sub: &str, rg: &str, name: &str, op: Option<&str>) -> ArmResult {
    check_api_version(ctx, "Microsoft.Resources/deployments", API_VERSIONS)?;
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg))
        .unwrap_or_else(|| rg.to_owned());
    operations(ctx, sub, &rg, name, op)
}

fn get(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<Deployment, ArmError> {
    let k = key(sub, rg, name);
    ctx.shared
        .store
        .read(|st| st.table::<Deployment>().get(&k).cloned())
        .ok_or_else(|| not_found(rg, name))
}

fn list(ctx: &Ctx, sub: &str, rg: &str) -> ArmResult {
    let filter = match ctx.q("$filter") {
        None => None,
        Some(f) => {
            let (k, v) = f.split_once(" eq ").ok_or_else(|| {
                ArmError::bad(
                    "InvalidFilter",
                    format!(
                        "The $filter '{f}' is not supported: use provisioningState eq 'Tables'."
                    ),
                )
            })?;
            if !k.trim().eq_ignore_ascii_case("provisioningState") {
                return Err(ArmError::bad(
                    "InvalidFilter",
                    format!(
                        "The $filter '{f}' is not supported: use provisioningState eq 'Tables'."
                    ),
                ));
            }
            Some(v.trim().trim_matches('\'').to_owned())
        }
    };
    let top = match ctx.q("$top") {
        None => usize::MAX,
        Some(t) => t.parse::<usize>().map_err(|_| {
            ArmError::bad(
                "InvalidTop",
                format!("The $top value '{t}' is not a number."),
            )
        })?,
    };
    let mut items: Vec<Deployment> = ctx.shared.store.read(|st| {
        st.table::<Deployment>()
            .values()
            .filter(|d| {
                d.subscription.eq_ignore_ascii_case(sub)
                    && d.resource_group.eq_ignore_ascii_case(rg)
            })
            .filter(|d| {
                filter.as_ref().is_none_or(|s| {
                    d.visible_state(ctx.shared.clock.now_ms())
                        .eq_ignore_ascii_case(s)
                })
            })
            .cloned()
            .collect()
    });
    // Newest first, as ARM lists them.
    items.sort_by_key(|d| std::cmp::Reverse(d.start_ms));
    let now_ms = ctx.shared.clock.now_ms();
    let values: Vec<Value> = items
        .iter()
        .take(top)
        .map(|d| deployment_json(d, now_ms))
        .collect();
    Ok(reply::json(StatusCode::OK, &json!({ "value": values })))
}

fn operations(ctx: &Ctx, sub: &str, rg: &str, name: &str, op: Option<&str>) -> ArmResult {
    if ctx.method != Method::GET {
        return Err(crate::arm::resources::method_not_allowed(ctx));
    }
    let d = get(ctx, sub, rg, name)?;
    if let Some(id) = op {
        let o = d
            .operations
            .iter()
            .find(|o| o.operation_id.eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "DeploymentOperationNotFound",
                    format!(
                        "Deployment operation '{id}' could not be found in deployment '{name}'."
                    ),
                )
            })?;
        return Ok(reply::json(StatusCode::OK, &operation_json(&d, o)));
    }
    let top = ctx
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let items: Vec<Value> = d
        .operations
        .iter()
        .take(top)
        .map(|o| operation_json(&d, o))
        .collect();
    Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
}

fn active_conflict(d: &Deployment, verb: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "DeploymentActive",
        format!(
            "Unable to {verb} deployment '{}': the deployment from '{}' is still active. Wait for it to finish or cancel it.",
            d.name,
            ms_rfc3339(d.start_ms)
        ),
    )
}

fn delete(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let k = key(sub, rg, name);
    let id = deployment_id(sub, rg, name);
    let op = ctx
        .shared
        .store
        .write(|st| -> Result<Option<lro::Operation>, ArmError> {
            let Some(d) = st.table::<Deployment>().get(&k) else {
                return Ok(None);
            };
            if d.visible_state(ctx.shared.clock.now_ms()) == "Running" {
                return Err(active_conflict(d, "delete"));
            }
            st.table_mut::<Deployment>().remove(&k);
            Ok(Some(lro::start(
                st,
                sub,
                &id,
                COMPLETION_DELAY_MS,
                "Succeeded",
                None,
                ctx.shared.clock.now_ms(),
            )))
        })??;
    let Some(op) = op else {
        return Ok(reply::empty(StatusCode::NO_CONTENT));
    };
    let mut r = reply::empty(StatusCode::ACCEPTED);
    reply::set_header(
        &mut r,
        "location",
        &lro::result_url(&ctx.shared.config, &op),
    );
    reply::set_header(&mut r, "retry-after", "1");
    reply::set_header(
        &mut r,
        "x-ms-retry-after-ms",
        &COMPLETION_DELAY_MS.to_string(),
    );
    Ok(r)
}

fn cancel(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let k = key(sub, rg, name);
    ctx.shared.store.write(|st| -> Result<(), ArmError> {
        let d = st.table_mut::<Deployment>().get_mut(&k).ok_or_else(|| not_found(rg, name))?;
        if d.visible_state(ctx.shared.clock.now_ms()) != "Running" {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "DeploymentCannotBeCanceled",
                format!(
                    "The deployment '{name}' cannot be canceled: its provisioning state is '{}'. Only an Accepted or Running deployment can be canceled.",
                    d.visible_state(ctx.shared.clock.now_ms())
                ),
            ));
        }
        if d.state == "Running" {
            // The engine is still working: it stops before its next resource.
            d.cancel_requested = true;
            return Ok(());
        }
        d.state = "Canceled".to_owned();
        d.done_at_ms = ctx.shared.clock.now_ms();
        d.outputs = None;
        d.error = None;
        let lro_id = d.lro_id.clone();
        lro::finish(st, &lro_id, "Canceled", None, ctx.shared.clock.now_ms());
        Ok(())
    })??;
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

// ----- request bodies -----

/// A parsed deployment request.
struct Request {
    mode: String,
    template: Map<String, Value>,
    template_raw: Value,
    parameters: Map<String, Value>,
    tags: BTreeMap<String, String>,
}

/// Parses JSON strictly, falling back to JSON5 (comments, trailing commas, bare keys).
fn lenient_json(body: &[u8]) -> Result<Value, ArmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request body is empty.",
        ));
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        ArmError::bad(
            "InvalidRequestContent",
            "The request content is not valid UTF-8.",
        )
    })?;
    json5::from_str::<Value>(text)
        .map(normalize_numbers)
        .map_err(|e| {
            ArmError::bad(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: {e}"),
            )
        })
}

/// JSON5 numbers arrive as floats: integral ones become integers again.
fn normalize_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.as_i64().is_none() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                json!(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize_numbers).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, normalize_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

fn parse_request(ctx: &Ctx) -> Result<Request, ArmError> {
    let body = lenient_json(&ctx.body)?;
    let Value::Object(body) = body else {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: a JSON object is expected.",
        ));
    };
    let props = match template::eval::get_ci(&body, "properties") {
        Some(Value::Object(p)) => p,
        _ => {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties' is required.",
            ));
        }
    };
    let mode = match template::eval::get_ci(props, "mode") {
        Some(Value::String(m)) if m.eq_ignore_ascii_case("incremental") => "Incremental".to_owned(),
        Some(Value::String(m)) if m.eq_ignore_ascii_case("complete") => {
            return Err(ArmError::bad(
                "DeploymentModeNotSupported",
                "The deployment mode 'Complete' is not supported by the emulator: it would delete every resource of the group that the template does not declare. Deploy with mode 'Incremental'.",
            ));
        }
        Some(Value::String(m)) => {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                format!(
                    "The deployment mode '{m}' is not valid. Valid values are 'Incremental' and 'Complete'."
                ),
            ));
        }
        _ => {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties.mode' is required ('Incremental').",
            ));
        }
    };
    for link in ["templateLink", "parametersLink"] {
        if template::eval::get_ci(props, link).is_some_and(|v| !v.is_null()) {
            return Err(ArmError::bad(
                "InvalidTemplate",
                format!(
                    "'properties.{link}' is not emulated: the emulator does not download templates or parameter files. Send the template inline in 'properties.template' and the values in 'properties.parameters'."
                ),
            ));
        }
    }
    let template_raw = match template::eval::get_ci(props, "template") {
        Some(t) if !t.is_null() => t.clone(),
        _ => {
            return Err(ArmError::bad(
                "InvalidDeployment",
                "The deployment must have a template: set 'properties.template' (template links are not emulated).",
            ));
        }
    };
    let template = template::parse_template(&template_raw).map_err(template_error)?;
    let parameters = match template::eval::get_ci(props, "parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => {
            // A whole parameter file (`{"$schema", "contentVersion", "parameters"}`) is
            // accepted too.
            match (p.get("$schema"), template::eval::get_ci(p, "parameters")) {
                (Some(_), Some(Value::Object(inner))) => inner.clone(),
                _ => p.clone(),
            }
        }
        Some(Value::String(s)) => match json5::from_str::<Value>(s).map(normalize_numbers) {
            Ok(Value::Object(p)) => p,
            _ => {
                return Err(ArmError::bad(
                    "InvalidRequestContent",
                    "'properties.parameters' is not a valid JSON object.",
                ));
            }
        },
        Some(_) => {
            return Err(ArmError::bad(
                "InvalidRequestContent",
                "'properties.parameters' must be an object.",
            ));
        }
    };
    let tags = crate::arm::request::opt_tags(&body)?.unwrap_or_default();
    Ok(Request {
        mode,
        template,
        template_raw,
        parameters,
        tags,
    })
}

fn scope_for(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<Scope, ArmError> {
    let key = crate::arm::resources::rg_key(sub, rg);
    let (group, sub_name) = ctx.shared.store.read(|st| {
        (
            st.table::<ResourceGroup>().get(&key).cloned(),
            st.table::<Subscription>()
                .get(&sub.to_ascii_lowercase())
                .map(|s| s.display_name.clone()),
        )
    });
    let group = group.ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        )
    })?;
    Ok(Scope {
        subscription_id: sub.to_owned(),
        subscription_name: sub_name.unwrap_or_default(),
        tenant_id: ctx.shared.config.tenant().to_owned(),
        resource_group: group.name,
        location: group.location,
        tags: group.tags,
        deployment_name: name.to_owned(),
    })
}

fn template_hash(t: &Value) -> String {
    let bytes = serde_json::to_vec(t).unwrap_or_default();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d.as_ref()[..8]);
    u64::from_be_bytes(b).to_string()
}

fn unknown_type_error(r: &template::Resource) -> Option<Value> {
    let t = r.effective_type.to_ascii_lowercase();
    if KNOWN_TYPES.contains(&t.as_str()) {
        return None;
    }
    let ns = t.split('/').next().unwrap_or_default();
    if t == "microsoft.resources/deployments" {
        return Some(json!({"code": "InvalidResourceType", "message": format!(
            "Nested deployments ('{}') are not emulated: declare the resources in the outer template.", r.name)}));
    }
    if KNOWN_NAMESPACES.contains(&ns) {
        Some(json!({"code": "InvalidResourceType", "message": format!(
            "The resource type '{}' could not be found in the namespace '{}' for api version '{}'. The emulator deploys Microsoft.KeyVault/vaults, Microsoft.KeyVault/vaults/accessPolicies, Microsoft.ManagedIdentity/userAssignedIdentities, Microsoft.Authorization/roleAssignments and Microsoft.ContainerInstance/containerGroups.",
            r.effective_type.split_once('/').map_or("", |x| x.1), r.effective_type.split('/').next().unwrap_or_default(), r.api_version)}))
    } else {
        Some(
            json!({"code": "NoRegisteredProviderFound", "message": format!(
            "No registered resource provider found for location '{}' and API version '{}' for type '{}'. The emulator does not serve this resource provider.",
            r.location.clone().unwrap_or_default(), r.api_version, r.effective_type)}),
        )
    }
}

fn validate(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    if !valid_name(name) {
        return Err(invalid_name(name));
    }
    let req = parse_request(ctx)?;
    let scope = scope_for(ctx, sub, rg, name)?;
    let engine = Engine::prepare(&req.template, &req.parameters, scope).map_err(template_error)?;
    engine.validate_bodies().map_err(template_error)?;
    let details: Vec<Value> = engine
        .resources
        .iter()
        .filter(|r| r.enabled)
        .filter_map(unknown_type_error)
        .collect();
    if !details.is_empty() {
        let mut r = reply::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": {
                "code": "InvalidTemplateDeployment",
                "message": format!("The template deployment '{name}' is not valid according to the validation procedure. See inner errors for details."),
                "details": details,
            }}),
        );
        reply::set_header(&mut r, "x-ms-error-code", "InvalidTemplateDeployment");
        return Ok(r);
    }
    let now = ctx.shared.clock.now_ms();
    let validated: Vec<Value> = engine
        .resources
        .iter()
        .filter(|r| r.enabled)
        .map(|r| json!({"id": r.id}))
        .collect();
    let body = json!({
        "id": deployment_id(sub, rg, name),
        "name": name,
        "type": "Microsoft.Resources/deployments",
        "properties": {
            "templateHash": template_hash(&req.template_raw),
            "parameters": engine.parameters_json(),
            "mode": req.mode,
            "provisioningState": "Succeeded",
            "timestamp": ms_rfc3339(now),
            "duration": "PT0S",
            "correlationId": correlation_id(ctx),
            "providers": engine.providers_json(),
            "dependencies": engine.dependencies_json(),
            "validatedResources": validated,
        }
    });
    Ok(reply::json(StatusCode::OK, &body))
}

fn invalid_name(name: &str) -> ArmError {
    ArmError::bad(
        "InvalidDeploymentName",
        format!(
            "The deployment name '{name}' is invalid. It must be 1-64 characters of alphanumerics, underscores, parentheses, hyphens and periods."
        ),
    )
}

fn correlation_id(ctx: &Ctx) -> String {
    ctx.header("x-ms-correlation-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.request_id.clone())
}

// ----- running a deployment -----

async fn put(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult {
    if !valid_name(name) {
        return Err(invalid_name(name));
    }
    let req = parse_request(ctx)?;
    let scope = scope_for(ctx, sub, rg, name)?;
    let mut engine =
        Engine::prepare(&req.template, &req.parameters, scope).map_err(template_error)?;
    let k = key(sub, rg, name);
    let id = deployment_id(sub, rg, name);
    let start = ctx.shared.clock.now_ms();
    let record = Deployment {
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
    let existed = ctx.shared.store.write(|st| -> Result<bool, ArmError> {
        let existed = match st.table::<Deployment>().get(&k) {
            Some(d) if d.visible_state(ctx.shared.clock.now_ms()) == "Running" => {
                return Err(active_conflict(d, "edit or replace"));
            }
            Some(_) => true,
            None => false,
        };
        st.table_mut::<Deployment>().insert(k.clone(), record);
        Ok(existed)
    })??;

    // Resources outside the template that reference() reads.
    let externals: Vec<(String, Option<String>)> = engine.external_references().to_vec();
    for (target, api) in externals {
        let Some(api) = api else { continue };
        let r = sub_request(ctx, claims, routes, Method::GET, &target, &api, None).await;
        if r.status == StatusCode::OK {
            engine.set_external(&target, r.body);
        }
    }

    let (operations, output_resources, failed, canceled) =
        run(ctx, claims, routes, &k, &mut engine).await;
    let (state, error, outputs) = if canceled {
        ("Canceled", None, None)
    } else if !failed.is_empty() {
        let details: Vec<Value> = failed
            .iter()
            .map(|e| json!({"code": e["code"], "message": e["message"]}))
            .collect();
        (
            "Failed",
            Some(
                json!({"code": "DeploymentFailed", "message": DEPLOYMENT_FAILED, "details": details}),
            ),
            None,
        )
    } else {
        match engine.outputs() {
            Ok(o) => ("Succeeded", None, Some(Value::Object(o))),
            Err(e) => (
                "Failed",
                Some(
                    json!({"code": "DeploymentOutputEvaluationFailed", "message": "Unable to evaluate template outputs. Please see error details and deployment operations.", "details": [{"code": e.code, "message": e.message}]}),
                ),
                None,
            ),
        }
    };
    let done = ctx.shared.clock.now_ms() + COMPLETION_DELAY_MS;
    let (d, op) =
        ctx.shared
            .store
            .write(|st| -> Result<(Deployment, lro::Operation), ArmError> {
                let op = lro::start(
                    st,
                    sub,
                    &id,
                    COMPLETION_DELAY_MS,
                    state,
                    error.clone(),
                    ctx.shared.clock.now_ms(),
                );
                let d = st
                    .table_mut::<Deployment>()
                    .get_mut(&k)
                    .ok_or_else(|| not_found(rg, name))?;
                let canceled_late = d.cancel_requested;
                d.state = if canceled_late { "Canceled" } else { state }.to_owned();
                d.error = if canceled_late { None } else { error.clone() };
                d.outputs = if canceled_late { None } else { outputs.clone() };
                d.done_at_ms = done;
                d.operations = operations;
                d.output_resources = output_resources;
                d.lro_id = op.id.clone();
                let d = d.clone();
                if canceled_late {
                    lro::finish(st, &op.id, "Canceled", None, ctx.shared.clock.now_ms());
                }
                Ok((d, op))
            })??;
    let mut body = deployment_json(&d, ctx.shared.clock.now_ms());
    body["properties"]["provisioningState"] = json!("Accepted");
    let mut r = reply::json(
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        &body,
    );
    lro::add_polling_headers(&mut r, &ctx.shared.config, &op);
    let remaining = (d.done_at_ms - ctx.shared.clock.now_ms()).clamp(1, COMPLETION_DELAY_MS);
    reply::set_header(&mut r, "x-ms-retry-after-ms", &remaining.to_string());
    Ok(r)
}

type RunResult = (Vec<DeploymentOperation>, Vec<String>, Vec<Value>, bool);

/// Deploys the resources in order. Returns the operations, the deployed ids, the errors of
/// failed resources, and whether a cancel stopped it.
async fn run(
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

fn status_name(s: StatusCode) -> String {
    s.canonical_reason()
        .map(|r| r.replace([' ', '-'], ""))
        .unwrap_or_else(|| s.as_u16().to_string())
}

/// Deploys one resource: `Ok((statusCode, resource))` or `Err((statusCode, error))`.
async fn deploy_one(
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
        let g = sub_request(
            ctx,
            claims,
            routes,
            Method::GET,
            &r.id,
            &r.api_version,
            None,
        )
        .await;
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
                let wait = (op.done_at_ms - now).clamp(1, 60_000);
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
    // The resource as a GET shows it now (for reference()); some sub-resources have no GET.
    let g = sub_request(
        ctx,
        claims,
        routes,
        Method::GET,
        &r.id,
        &r.api_version,
        None,
    )
    .await;
    let value = if g.status == StatusCode::OK {
        g.body
    } else {
        resp.body
    };
    Ok((status_name(resp.status), value))
}

fn provider_error(r: &SubResponse) -> Value {
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
struct SubResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

fn encode_segment(s: &str) -> String {
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
async fn sub_request(
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

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Deployment>();
}
