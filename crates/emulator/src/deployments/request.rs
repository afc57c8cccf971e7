//! Reading a deployment request: the body (JSON, or JSON5 as the Azure CLI sends it), the
//! template and parameters, the scope the template sees, and names.

use crate::arm::error::ArmError;
use crate::arm::resources::{ResourceGroup, Subscription};
use crate::context::Ctx;
use aci_cmk_arm_template::{self as template, Scope, TemplateError};
use http::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Resource types a template may deploy (lowercase), all routed through ARM.
pub const KNOWN_TYPES: &[&str] = &[
    "microsoft.keyvault/vaults",
    "microsoft.keyvault/vaults/accesspolicies",
    "microsoft.managedidentity/userassignedidentities",
    "microsoft.authorization/roleassignments",
    "microsoft.containerinstance/containergroups",
];

/// Namespaces the emulator serves.
pub const KNOWN_NAMESPACES: &[&str] = &[
    "microsoft.keyvault",
    "microsoft.managedidentity",
    "microsoft.authorization",
    "microsoft.containerinstance",
    "microsoft.resources",
];

/// A deployment request of `PUT …/deployments/{name}` or `POST …/whatIf` checked (its name,
/// body, template and parameters) and its template prepared at the scope it sees: the one
/// reading both operations share.
pub fn prepare(
    ctx: &Ctx,
    sub: &str,
    rg: &str,
    name: &str,
) -> Result<(Request, template::Engine), ArmError> {
    if !valid_name(name) {
        return Err(invalid_name(name));
    }
    let req = parse_request(ctx)?;
    let scope = scope_for(ctx, sub, rg, name)?;
    let engine =
        template::Engine::prepare(&req.template, &req.parameters, scope).map_err(template_error)?;
    Ok((req, engine))
}

pub fn template_error(e: TemplateError) -> ArmError {
    ArmError::bad(&e.code, e.message)
}

pub fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.chars().count())
        && n.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

/// A parsed deployment request.
pub struct Request {
    /// `Incremental` (the only mode emulated).
    pub mode: String,
    /// The template, parsed.
    pub template: Map<String, Value>,
    /// The template as sent (for its hash).
    pub template_raw: Value,
    /// Parameter values by name.
    pub parameters: Map<String, Value>,
    /// The deployment's tags.
    pub tags: BTreeMap<String, String>,
}

/// Parses JSON strictly, falling back to JSON5 (comments, trailing commas, bare keys).
pub fn lenient_json(body: &[u8]) -> Result<Value, ArmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request body is empty.",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        ArmError::bad(
            "InvalidRequestContent",
            "The request content is not valid UTF-8.",
        )
    })?;
    // Depth-bounded: a body nested too deeply is refused before any recursive parser sees it.
    template::parse_json_text(text).map_err(|e| {
        ArmError::bad(
            "InvalidRequestContent",
            format!(
                "The request content was invalid and could not be deserialized: {}",
                e.message
            ),
        )
    })
}

pub fn parse_request(ctx: &Ctx) -> Result<Request, ArmError> {
    let body = match ctx.in_process_body() {
        Some(v) => v.clone(),
        None => lenient_json(&ctx.body)?,
    };
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
        Some(Value::String(s)) => match template::parse_json_text(s) {
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

pub fn scope_for(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<Scope, ArmError> {
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
        deployed_at: ctx.shared.clock.now(),
    })
}

pub fn template_hash(t: &Value) -> String {
    let bytes = serde_json::to_vec(t).unwrap_or_default();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d.as_ref()[..8]);
    u64::from_be_bytes(b).to_string()
}

pub fn unknown_type_error(r: &template::Resource) -> Option<Value> {
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

pub fn invalid_name(name: &str) -> ArmError {
    ArmError::bad(
        "InvalidDeploymentName",
        format!(
            "The deployment name '{name}' is invalid. It must be 1-64 characters of alphanumerics, underscores, parentheses, hyphens and periods."
        ),
    )
}

pub fn correlation_id(ctx: &Ctx) -> String {
    ctx.header("x-ms-correlation-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.request_id.clone())
}
