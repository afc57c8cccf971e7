//! The deployment routes: get, head, list, delete, cancel, validate and the deployment
//! operations; a PUT is handed to [`super::run`].

use super::records::{
    Deployment, DeploymentOperation, active_conflict, get, key, not_found, settle_ms,
};
use super::render::{deployment_id, deployment_json, operation_json};
use super::request::{
    correlation_id, invalid_name, parse_request, scope_for, template_error, template_hash,
    unknown_type_error, valid_name,
};
use super::run::{ResourceRouter, put};
use crate::arm::api_versions;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::lro;
use crate::arm::paging::{descending_key, list_reply};
use crate::arm::request::check_api_version;
use crate::context::Ctx;
use crate::entra::tokens::Claims;
use crate::reply;
use aci_cmk_arm_template::Engine;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// ARM's resource type of deployments (as api-version errors name it).
const DEPLOYMENTS_TYPE: &str = "Microsoft.Resources/deployments";

/// Routes `…/resourcegroups/{rg}/providers/Microsoft.Resources/{tail}` (deployments).
pub async fn handle(
    ctx: &Ctx,
    claims: &Claims,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
    routes: &'static dyn ResourceRouter,
) -> ArmResult {
    let Some(rg_in) = rg else {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "Deployments are emulated at resource-group scope only.",
        ));
    };
    check_api_version(ctx, DEPLOYMENTS_TYPE, api_versions::DEPLOYMENTS)?;
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
                        deployment_json(&d, ctx.shared.clock.now_ms()),
                    ))
                }
                Method::HEAD => Ok(reply::empty(if get(ctx, sub, &rg, name).is_ok() {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::NOT_FOUND
                })),
                Method::PUT => put(ctx, claims, routes, sub, &rg, name).await,
                Method::DELETE => delete(ctx, sub, &rg, name),
                _ => Err(crate::arm::error::method_not_allowed(ctx)),
            }
        }
        ["deployments", _, "validate"] if m == Method::POST => validate(ctx, sub, &rg, &orig[1]),
        ["deployments", _, "cancel"] if m == Method::POST => cancel(ctx, sub, &rg, &orig[1]),
        ["deployments", _, "operations"] => operations(ctx, sub, &rg, &orig[1], None),
        ["deployments", _, "operations", _] => operations(ctx, sub, &rg, &orig[1], Some(&orig[3])),
        ["deployments", _, "whatif"] if m == Method::POST => {
            // What-if came with 2019-07-01: older versions do not define it.
            check_api_version(ctx, DEPLOYMENTS_TYPE, &api_versions::what_if())?;
            super::what_if::what_if(ctx, claims, routes, sub, &rg, &orig[1]).await
        }
        ["deployments", _, "exporttemplate"] => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "'exportTemplate' is not emulated for deployments.",
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
    check_api_version(ctx, DEPLOYMENTS_TYPE, api_versions::DEPLOYMENTS)?;
    let rg = ctx
        .shared
        .store
        .read(|st| crate::arm::resources::group_name(st, sub, rg))
        .unwrap_or_else(|| rg.to_owned());
    operations(ctx, sub, &rg, name, op)
}

pub fn list(ctx: &Ctx, sub: &str, rg: &str) -> ArmResult {
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
    let items: Vec<Deployment> = ctx.shared.store.read(|st| {
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
    let now_ms = ctx.shared.clock.now_ms();
    list_reply(
        ctx,
        items,
        |d| descending_key(d.start_ms, &d.name),
        |d| deployment_json(d, now_ms),
    )
}

pub fn operations(ctx: &Ctx, sub: &str, rg: &str, name: &str, op: Option<&str>) -> ArmResult {
    if ctx.method != Method::GET {
        return Err(crate::arm::error::method_not_allowed(ctx));
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
        return Ok(reply::json(StatusCode::OK, operation_json(&d, o)));
    }
    // In the order the engine ran them.
    let ops: Vec<(usize, &DeploymentOperation)> = d.operations.iter().enumerate().collect();
    list_reply(
        ctx,
        ops,
        |(i, _)| format!("{i:08}"),
        |(_, o)| operation_json(&d, o),
    )
}

pub fn delete(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let k = key(sub, rg, name);
    let id = deployment_id(sub, rg, name);
    let op = ctx
        .shared
        .store
        .try_write(|st| -> Result<Option<lro::Operation>, ArmError> {
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
                settle_ms(&ctx.shared),
                "Succeeded",
                None,
                ctx.shared.clock.now_ms(),
            )))
        })??;
    let Some(op) = op else {
        return Ok(reply::empty(StatusCode::NO_CONTENT));
    };
    Ok(lro::accepted(
        &ctx.shared.config,
        &op,
        settle_ms(&ctx.shared),
    ))
}

pub fn cancel(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let k = key(sub, rg, name);
    ctx.shared.store.try_write(|st| -> Result<(), ArmError> {
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

pub fn validate(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
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
            json!({"error": {
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
            "timestamp": crate::config::rfc3339_ms(now),
            "duration": "PT0S",
            "correlationId": correlation_id(ctx),
            "providers": engine.providers_json(),
            "dependencies": engine.dependencies_json(),
            "validatedResources": validated,
        }
    });
    Ok(reply::json(StatusCode::OK, body))
}

// ----- running a deployment -----
