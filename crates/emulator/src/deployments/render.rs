//! Deployments and their operations as ARM answers them.

use super::records::{Deployment, DeploymentOperation};
use http::StatusCode;
use serde_json::{Value, json};

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

pub fn deployment_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}"
    )
}

pub fn operation_json(d: &Deployment, op: &DeploymentOperation) -> Value {
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
            "timestamp": crate::config::rfc3339_ms(op.timestamp_ms),
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
        "timestamp": crate::config::rfc3339_ms(timestamp),
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

pub fn status_name(s: StatusCode) -> String {
    s.canonical_reason()
        .map(|r| r.replace([' ', '-'], ""))
        .unwrap_or_else(|| s.as_u16().to_string())
}
