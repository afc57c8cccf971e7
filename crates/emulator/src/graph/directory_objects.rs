//! `POST /v1.0/directoryObjects/getByIds` (`{"ids": [...], "types": [...]}`): the directory
//! objects named by a list of ids, as the Azure CLI resolves the principals of role assignments.
//!
//! Each object found is rendered as its own GET renders it, plus its `@odata.type`
//! (`#microsoft.graph.servicePrincipal` — managed identities' principals and the ACI first-party
//! one included — or `#microsoft.graph.application`); ids not found are left out, a repeated id
//! is answered once, in the order asked. `types` (case-insensitive; any type deriving from
//! `directoryObject`, which is the default) chooses the kinds searched: the directory holds no
//! users, groups or devices, so those find nothing. At most [`MAX_IDS`] ids; a body that is not
//! `{"ids": [string…], "types"?: [string…]}`, an id that is not a GUID or an unknown type is a
//! 400 in Graph's error shape.

use std::collections::HashSet;

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::directory;
use super::errors::gerr;
use super::render::{app_json, context, sp_json};
use crate::context::Ctx;
use crate::reply::{self, Reply};

/// The most ids one request may name (Graph's limit).
pub const MAX_IDS: usize = 1000;

/// The types deriving from `directoryObject` that `types` may name (lowercase).
const KNOWN_TYPES: &[&str] = &[
    "directoryobject",
    "user",
    "group",
    "serviceprincipal",
    "application",
    "device",
    "orgcontact",
    "contract",
    "directoryrole",
    "directoryroletemplate",
    "directoryobjectpartnerreference",
    "administrativeunit",
    "organization",
    "endpoint",
    "extensionproperty",
];

/// Which of the emulated kinds of object a request searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kinds {
    /// Service principals (applications' and managed identities').
    service_principals: bool,
    /// Applications of the tenant.
    applications: bool,
}

/// A well-formed request: its ids (lowercased, each once, in order) and the kinds searched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lookup {
    ids: Vec<String>,
    kinds: Kinds,
}

/// Why a body is refused: Graph's error code and message (always a 400).
type Refusal = (&'static str, String);

/// Reads a property that must be an array of strings (`None` when absent or null).
fn strings(body: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Refusal> {
    let invalid = || {
        (
            "BadRequest",
            format!("Invalid value for property '{name}': an array of strings is expected."),
        )
    };
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid()),
    }
}

/// The kinds a `types` list searches (every kind without one).
fn kinds(types: Option<Vec<String>>) -> Result<Kinds, Refusal> {
    let Some(types) = types else {
        return Ok(Kinds {
            service_principals: true,
            applications: true,
        });
    };
    let mut kinds = Kinds {
        service_principals: false,
        applications: false,
    };
    for t in &types {
        let lc = t.trim().to_ascii_lowercase();
        let lc = lc.strip_prefix("microsoft.graph.").unwrap_or(&lc);
        if !KNOWN_TYPES.contains(&lc) {
            return Err((
                "Request_BadRequest",
                format!("Invalid value '{t}' in 'types': it is not a type of directory object."),
            ));
        }
        match lc {
            "directoryobject" => {
                kinds.service_principals = true;
                kinds.applications = true;
            }
            "serviceprincipal" => kinds.service_principals = true,
            "application" => kinds.applications = true,
            _ => {}
        }
    }
    Ok(kinds)
}

/// Parses a getByIds body.
fn parse(body: &Value) -> Result<Lookup, Refusal> {
    let Some(obj) = body.as_object() else {
        return Err((
            "BadRequest",
            "The request body must be a JSON object.".to_owned(),
        ));
    };
    let ids = strings(obj, "ids")?.ok_or_else(|| {
        (
            "Request_BadRequest",
            "A value is required for property 'ids' of the request.".to_owned(),
        )
    })?;
    if ids.len() > MAX_IDS {
        return Err((
            "Request_BadRequest",
            format!(
                "Too many ids: at most {MAX_IDS} may be requested at once, {} were given.",
                ids.len()
            ),
        ));
    }
    let kinds = kinds(strings(obj, "types")?)?;
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for id in ids {
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err((
                "Request_BadRequest",
                format!("Invalid object identifier '{id}'."),
            ));
        }
        let lc = id.to_ascii_lowercase();
        if seen.insert(lc.clone()) {
            unique.push(lc);
        }
    }
    Ok(Lookup { ids: unique, kinds })
}

/// Answers `POST /v1.0/directoryObjects/getByIds` (the caller is already authenticated).
pub fn get_by_ids(ctx: &Ctx) -> Reply {
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(m) => return gerr(ctx, StatusCode::BAD_REQUEST, "BadRequest", m),
    };
    let lookup = match parse(&body) {
        Ok(l) => l,
        Err((code, message)) => return gerr(ctx, StatusCode::BAD_REQUEST, code, message),
    };
    let value: Vec<Value> = ctx.shared.store.read(|st| {
        lookup
            .ids
            .iter()
            .filter_map(|id| {
                let sp = lookup
                    .kinds
                    .service_principals
                    .then(|| directory::principal(st, id))
                    .flatten()
                    .map(|p| (sp_json(ctx, p), "#microsoft.graph.servicePrincipal"));
                let found = sp.or_else(|| {
                    lookup
                        .kinds
                        .applications
                        .then(|| directory::application(st, id))
                        .flatten()
                        .map(|a| (app_json(a), "#microsoft.graph.application"))
                });
                found.map(|(mut v, odata_type)| {
                    v["@odata.type"] = json!(odata_type);
                    v
                })
            })
            .collect()
    });
    reply::json(
        StatusCode::OK,
        json!({"@odata.context": context(ctx, "directoryObjects"), "value": value}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "5d6059b6-368d-45f8-91e1-8e07d485f1d0";

    #[test]
    fn bodies_parse_into_ids_and_kinds() {
        let all = Kinds {
            service_principals: true,
            applications: true,
        };
        let l = parse(&json!({"ids": [ID, ID.to_uppercase()]})).expect("parses");
        assert_eq!(l.ids, [ID], "ids are compared case-insensitively");
        assert_eq!(l.kinds, all);
        let l = parse(&json!({"ids": [ID], "types": ["User", "microsoft.graph.servicePrincipal"]}))
            .expect("parses");
        assert!(l.kinds.service_principals && !l.kinds.applications);
        let l = parse(&json!({"ids": [], "types": ["group", "device"]})).expect("parses");
        assert!(!l.kinds.service_principals && !l.kinds.applications);
        let l = parse(&json!({"ids": [ID], "types": null})).expect("parses");
        assert_eq!(l.kinds, all);
    }

    #[test]
    fn bad_bodies_are_refused_with_graphs_codes() {
        let max: Vec<String> = (0..MAX_IDS).map(|_| ID.to_owned()).collect();
        assert!(parse(&json!({ "ids": max })).is_ok());
        let over: Vec<String> = (0..=MAX_IDS).map(|_| ID.to_owned()).collect();
        let cases = [
            (json!({ "ids": over }), "Request_BadRequest"),
            (json!({}), "Request_BadRequest"),
            (
                json!({"ids": [ID], "types": ["robot"]}),
                "Request_BadRequest",
            ),
            (json!({"ids": ["x"]}), "Request_BadRequest"),
            (json!({"ids": ID}), "BadRequest"),
            (json!({"ids": [ID, 1]}), "BadRequest"),
            (json!({"ids": [ID], "types": [true]}), "BadRequest"),
            (json!({"ids": [ID], "types": {}}), "BadRequest"),
            (json!("ids"), "BadRequest"),
        ];
        for (body, code) in cases {
            let (got, message) = parse(&body).expect_err("refused");
            assert_eq!(got, code, "{body}");
            assert!(!message.is_empty());
        }
    }
}
