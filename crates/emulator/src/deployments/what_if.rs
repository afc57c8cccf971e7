//! `POST …/deployments/{name}/whatIf`: what deploying a template would change, without
//! changing anything. The template is prepared as for a deployment; each resource it declares
//! is read through the ARM routes in process (as the deployer), and compared with the body the
//! template would send ([`super::delta`]): `Create` when it does not exist, `NoChange` or
//! `Modify` (with its `delta`) when it does, `Unsupported` when it cannot be read; the
//! resource group's other resources are `Ignore` (incremental mode keeps them). Members that
//! derive from a secure parameter are in no preview. The answer is ARM's: 202 with a `Location`
//! whose operation result (200) is `{"status": "Succeeded", "properties": {"changes": [...]}}`.

use std::collections::HashSet;

use aci_cmk_arm_template::norm_id;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::delta::{ChangeType, change_of, delta};
use super::records::settle_ms;
use super::render::deployment_id;
use super::request::{prepare, template_error, unknown_type_error};
use super::run::{ResourceRouter, SubResponse, get_resource, read_externals, sub_request};
use crate::arm::error::ArmResult;
use crate::arm::lro;
use crate::context::Ctx;
use crate::entra::tokens::Claims;

/// api-version of the generic resource list what-if reads the resource group with.
const RESOURCES_API: &str = "2021-04-01";

/// Whether a 404 means "this resource does not exist" rather than "this type is not served".
fn not_found_resource(r: &SubResponse) -> bool {
    r.status == StatusCode::NOT_FOUND
        && !matches!(
            r.body["error"]["code"].as_str(),
            Some("InvalidResourceType" | "InvalidResourceNamespace" | "NoRegisteredProviderFound")
        )
}

/// One entry of `changes`.
fn change(resource_id: &str, kind: ChangeType) -> Value {
    json!({"resourceId": resource_id, "changeType": kind.as_str()})
}

/// The desired resource as the preview shows it: the evaluated body with its identity.
fn after(r: &aci_cmk_arm_template::Resource, body: &Value) -> Value {
    let mut after = body.clone();
    if let Some(o) = after.as_object_mut() {
        o.insert("id".to_owned(), json!(r.id));
        o.insert(
            "name".to_owned(),
            json!(r.name.rsplit('/').next().unwrap_or(&r.name)),
        );
        o.insert("type".to_owned(), json!(r.resource_type));
        o.insert("apiVersion".to_owned(), json!(r.api_version));
    }
    after
}

/// Serves `whatIf`.
pub async fn what_if(
    ctx: &Ctx,
    claims: &Claims,
    routes: &dyn ResourceRouter,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult {
    let (_, mut engine) = prepare(ctx, sub, rg, name)?;
    read_externals(ctx, claims, routes, &mut engine).await;

    let mut changes = Vec::new();
    let mut declared = HashSet::new();
    let order: Vec<usize> = engine.order().to_vec();
    for i in order {
        let r = engine.resources[i].clone();
        if !r.enabled || r.existing {
            continue;
        }
        declared.insert(norm_id(&r.id));
        if let Some(e) = unknown_type_error(&r) {
            let mut c = change(&r.id, ChangeType::Unsupported);
            c["unsupportedReason"] = e["message"].clone();
            changes.push(c);
            continue;
        }
        let desired = engine.public_body(i).map_err(template_error)?;
        let current = get_resource(ctx, claims, routes, &r).await;
        let entry = if current.status == StatusCode::OK {
            let d = delta("", &desired.body, &current.body);
            let mut c = change(&r.id, change_of(&d));
            c["before"] = current.body.clone();
            c["after"] = after(&r, &desired.body);
            if !d.is_empty() {
                c["delta"] = Value::Array(d);
            }
            // Dependents evaluate reference() of it as it is now.
            engine.record(i, current.body);
            c
        } else if not_found_resource(&current) {
            let mut c = change(&r.id, ChangeType::Create);
            c["after"] = after(&r, &desired.body);
            c
        } else {
            let mut c = change(&r.id, ChangeType::Unsupported);
            c["unsupportedReason"] = json!(format!(
                "The resource could not be read ({}): {}",
                current.status.as_u16(),
                current.body["error"]["message"]
                    .as_str()
                    .unwrap_or("no message")
            ));
            c
        };
        changes.push(entry);
    }

    // The resource group's other resources: incremental mode leaves them alone.
    let listed = sub_request(
        ctx,
        claims,
        routes,
        Method::GET,
        &format!("/subscriptions/{sub}/resourceGroups/{rg}/resources"),
        RESOURCES_API,
        None,
    )
    .await;
    if let Some(items) = listed.body["value"].as_array() {
        for id in items.iter().filter_map(|i| i["id"].as_str()) {
            if !declared.contains(&norm_id(id)) {
                changes.push(change(id, ChangeType::Ignore));
            }
        }
    }

    let result = json!({"status": "Succeeded", "properties": {"changes": changes}});
    let now = ctx.shared.clock.now_ms();
    let op = ctx.shared.store.write(|st| {
        lro::start_with_result(
            st,
            sub,
            &deployment_id(sub, rg, name),
            settle_ms(&ctx.shared),
            result,
            now,
        )
    })?;
    Ok(lro::accepted(
        &ctx.shared.config,
        &op,
        settle_ms(&ctx.shared),
    ))
}
