//! Parameter declarations: their types ([`ParamType`]), the checks a value must pass
//! (`allowedValues`, `minValue`, `maxValue`, `minLength`, `maxLength`) and the values a
//! deployment provides (`{"name": {"value": …}}`).
//!
//! A message about a secure parameter's value never quotes it.

use serde_json::{Map, Value};

use crate::error::TemplateError;
use crate::json::{get_ci, quote, type_name};
use crate::limits::{Budget, MAX_PARAMETERS};

/// A parameter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string`.
    String,
    /// `securestring`.
    SecureString,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `object`.
    Object,
    /// `secureobject`.
    SecureObject,
    /// `array`.
    Array,
}

impl ParamType {
    /// Parses a template's type name (case-insensitively).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "securestring" => Self::SecureString,
            "int" => Self::Int,
            "bool" => Self::Bool,
            "object" => Self::Object,
            "secureobject" => Self::SecureObject,
            "array" => Self::Array,
            _ => return None,
        })
    }

    /// The name ARM returns (`String`, `SecureString`, `Int`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::SecureString => "SecureString",
            Self::Int => "Int",
            Self::Bool => "Bool",
            Self::Object => "Object",
            Self::SecureObject => "SecureObject",
            Self::Array => "Array",
        }
    }

    /// Whether values of this type are never returned.
    pub fn is_secure(self) -> bool {
        matches!(self, Self::SecureString | Self::SecureObject)
    }

    /// Whether `v` is a value of this type.
    pub(crate) fn accepts(self, v: &Value) -> bool {
        match self {
            Self::String | Self::SecureString => v.is_string(),
            Self::Int => v.is_i64(),
            Self::Bool => v.is_boolean(),
            Self::Object | Self::SecureObject => v.is_object(),
            Self::Array => v.is_array(),
        }
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct ParamSpec {
    pub(crate) name: String,
    pub(crate) ty: ParamType,
    pub(crate) default: Option<Value>,
    allowed: Option<Vec<Value>>,
    min_value: Option<i64>,
    max_value: Option<i64>,
    min_length: Option<i64>,
    max_length: Option<i64>,
}

fn opt_i64(o: &Map<String, Value>, key: &str, what: &str) -> Result<Option<i64>, TemplateError> {
    match get_ci(o, key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            TemplateError::invalid(format!("The '{key}' of {what} must be an integer."))
        }),
    }
}

/// The template's parameter declarations.
pub(crate) fn parse_specs(template: &Map<String, Value>) -> Result<Vec<ParamSpec>, TemplateError> {
    let raw = match get_ci(template, "parameters") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(TemplateError::invalid(
                "The template 'parameters' must be an object.",
            ));
        }
    };
    if raw.len() > MAX_PARAMETERS {
        return Err(TemplateError::invalid(format!(
            "The template has {} parameters; the limit is {MAX_PARAMETERS}.",
            raw.len()
        )));
    }
    let mut specs = Vec::new();
    for (name, def) in raw {
        let what = format!("template parameter '{name}'");
        let Value::Object(d) = def else {
            return Err(TemplateError::invalid(format!(
                "The {what} must be an object."
            )));
        };
        let ty = match get_ci(d, "type") {
            Some(Value::String(t)) => ParamType::parse(t).ok_or_else(|| {
                TemplateError::invalid(format!(
                    "The {what} has the type '{}', which is not valid. Valid types are 'string, securestring, int, bool, object, secureobject, array'.",
                    crate::json::clip(t)
                ))
            })?,
            _ => return Err(TemplateError::invalid(format!("The {what} is missing its 'type'."))),
        };
        let allowed = match get_ci(d, "allowedValues") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => {
                return Err(TemplateError::invalid(format!(
                    "The 'allowedValues' of {what} must be an array."
                )));
            }
        };
        specs.push(ParamSpec {
            name: name.clone(),
            ty,
            default: get_ci(d, "defaultValue").cloned(),
            allowed,
            min_value: opt_i64(d, "minValue", &what)?,
            max_value: opt_i64(d, "maxValue", &what)?,
            min_length: opt_i64(d, "minLength", &what)?,
            max_length: opt_i64(d, "maxLength", &what)?,
        });
    }
    Ok(specs)
}

/// The values a deployment provides, `{"name": {"value": …}}`, keyed by the declared names.
pub(crate) fn read_provided(
    specs: &[ParamSpec],
    parameters: &Map<String, Value>,
) -> Result<Map<String, Value>, TemplateError> {
    let mut provided = Map::new();
    for (k, v) in parameters {
        let Some(spec) = specs.iter().find(|s| s.name.eq_ignore_ascii_case(k)) else {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            return Err(TemplateError::invalid(format!(
                "The template parameters '{}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '{}'.",
                crate::json::clip(k),
                names.join(", ")
            )));
        };
        let Value::Object(o) = v else {
            return Err(TemplateError::invalid(format!(
                "The value of deployment parameter '{k}' must be an object with a 'value' property."
            )));
        };
        if get_ci(o, "reference").is_some() {
            return Err(TemplateError::invalid(format!(
                "The deployment parameter '{k}' uses a Key Vault reference, which the emulator does not resolve: pass the value directly."
            )));
        }
        match get_ci(o, "value") {
            Some(val) => {
                provided.insert(spec.name.clone(), val.clone());
            }
            None => {
                return Err(TemplateError::invalid(format!(
                    "The value of deployment parameter '{k}' must be an object with a 'value' property."
                )));
            }
        }
    }
    Ok(provided)
}

/// Checks a parameter's value against its declaration. `secure`: the value is secret (a
/// secure type, or derived from a secure parameter), so the message does not quote it.
pub(crate) fn check_param(
    spec: &ParamSpec,
    v: &Value,
    secure: bool,
    budget: &Budget,
) -> Result<(), String> {
    let n = &spec.name;
    if !spec.ty.accepts(v) {
        return Err(format!(
            "The provided value for the template parameter '{n}' is not valid. Expected a value of type '{}', but received a value of type '{}'.",
            spec.ty.as_str(),
            type_name(v)
        ));
    }
    if let Some(allowed) = &spec.allowed {
        let items = match v {
            Value::Array(items) => items.len(),
            _ => 1,
        };
        budget
            .charge((items as u64).saturating_mul(1 + allowed.len() as u64 / 16))
            .map_err(|e| e.message)?;
        let ok = match v {
            Value::Array(items) => items.iter().all(|i| allowed.contains(i)),
            _ => allowed.contains(v),
        };
        if !ok {
            let list: Vec<String> = allowed.iter().map(quote).collect();
            let shown = if secure {
                String::new()
            } else {
                format!(" '{}'", quote(v))
            };
            return Err(format!(
                "The provided value{shown} for the template parameter '{n}' is not valid. The value is not part of the allowed value(s): '{}'.",
                crate::json::clip(&list.join(","))
            ));
        }
    }
    // Numbers and lengths of a secret are not quoted either.
    let show = |x: i64| {
        if secure {
            String::new()
        } else {
            format!(" {x}")
        }
    };
    if let Some(i) = v.as_i64() {
        if let Some(min) = spec.min_value
            && i < min
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid:{} is less than the minimum value {min}.",
                if secure { " it".to_owned() } else { show(i) }
            ));
        }
        if let Some(max) = spec.max_value
            && i > max
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid:{} is greater than the maximum value {max}.",
                if secure { " it".to_owned() } else { show(i) }
            ));
        }
    }
    let len = match v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        _ => None,
    };
    if let Some(len) = len.map(|l| i64::try_from(l).unwrap_or(i64::MAX)) {
        if let Some(min) = spec.min_length
            && len < min
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: its length{} is less than the minimum length {min}.",
                show(len)
            ));
        }
        if let Some(max) = spec.max_length
            && len > max
        {
            return Err(format!(
                "The provided value for the template parameter '{n}' is not valid: its length{} is greater than the maximum length {max}.",
                show(len)
            ));
        }
    }
    Ok(())
}
