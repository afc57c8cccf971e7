//! Microsoft Graph (v1.0) subset: service principals and applications.
//!
//! - `GET /graph/v1.0/servicePrincipals/{id}`, `GET /graph/v1.0/servicePrincipals(appId='…')`
//! - `GET /graph/v1.0/servicePrincipals?$filter=appId eq '…'` (also
//!   `servicePrincipalNames/any(c:c eq '…')`, `displayName eq '…'`, `id eq '…'`)
//! - `POST /graph/v1.0/servicePrincipals` `{"appId":"…","accountEnabled":true}`
//! - `GET /graph/v1.0/applications?$filter=appId eq '…'`, `GET /graph/v1.0/applications/{id}`
//! - `POST /graph/v1.0/directoryObjects/getByIds` (served by [`directory_objects`])
//! - `GET /graph/v1.0/me` → 400 for application tokens

use crate::reply::Reply;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::directory_objects;
use super::errors::{auth_error, gerr, not_found};
use super::render::{app_json, context, select, sp_json};
use crate::context::Ctx;
use crate::entra::bearer::authenticate;
use crate::graph::directory::{self, Application, MICROSOFT_TENANT, Principal, PrincipalKind};
use crate::reply;

/// Extracts `X` from `name(appId='X')`.
fn key_segment<'a>(seg: &'a str, entity: &str) -> Option<&'a str> {
    let lc = seg.to_ascii_lowercase();
    let prefix = format!("{}(appid=", entity.to_ascii_lowercase());
    if lc.starts_with(&prefix) && seg.ends_with(')') {
        let inner = &seg[prefix.len()..seg.len() - 1];
        Some(inner.trim_matches('\''))
    } else {
        None
    }
}

enum Filter {
    AppId(String),
    Spn(String),
    DisplayName(String),
    Id(String),
}

fn parse_filter(f: &str) -> Option<Filter> {
    let f = f.trim();
    let quoted = |s: &str| -> Option<String> {
        let s = s.trim();
        s.strip_prefix('\'')?
            .strip_suffix('\'')
            .map(|v| v.replace("''", "'"))
    };
    let lc = f.to_ascii_lowercase();
    if lc.starts_with("serviceprincipalnames/any(") && f.ends_with(')') {
        let inner = &f["servicePrincipalNames/any(".len()..f.len() - 1];
        let (_, cond) = inner.split_once(':')?;
        let (_, val) = cond.split_once(" eq ")?;
        return quoted(val).map(Filter::Spn);
    }
    let (field, val) = f.split_once(" eq ")?;
    let val = quoted(val)?;
    match field.trim().to_ascii_lowercase().as_str() {
        "appid" => Some(Filter::AppId(val)),
        "displayname" => Some(Filter::DisplayName(val)),
        "id" => Some(Filter::Id(val)),
        _ => None,
    }
}

/// Handles a Graph request.
pub async fn handle(ctx: &Ctx) -> Reply {
    let claims = match authenticate(ctx, &ctx.shared.config.graph_audiences()) {
        Ok(c) => c,
        Err(e) => return auth_error(ctx, &e),
    };
    let version = ctx.seg_lc(1);
    if version != "v1.0" && version != "beta" {
        return gerr(
            ctx,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Invalid version: {version}"),
        );
    }
    let rest: Vec<&str> = ctx
        .segs
        .get(2..)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    let first = rest
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match (&ctx.method, rest.len()) {
        (&Method::GET, 1) if first == "me" => gerr(
            ctx,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ),
        (&Method::GET, 1) if first == "organization" => reply::json(
            StatusCode::OK,
            json!({"@odata.context": context(ctx, "organization"), "value": [{"id": ctx.shared.config.tenant(), "displayName": "aci-cmk emulator tenant"}]}),
        ),
        (&Method::GET, 1) if first == "serviceprincipals" => list_sps(ctx),
        (&Method::POST, 1) if first == "serviceprincipals" => create_sp(ctx, &claims.oid).await,
        (&Method::GET, 2) if first == "serviceprincipals" => {
            let id = rest[1].to_ascii_lowercase();
            match ctx
                .shared
                .store
                .read(|st| directory::principal(st, &id).cloned())
            {
                Some(p) => {
                    let mut v = select(ctx, sp_json(ctx, &p));
                    v["@odata.context"] = json!(context(ctx, "servicePrincipals/$entity"));
                    reply::json(StatusCode::OK, v)
                }
                None => not_found(ctx, rest[1]),
            }
        }
        (&Method::GET, 1) if key_segment(rest[0], "servicePrincipals").is_some() => {
            let app_id = key_segment(rest[0], "servicePrincipals").unwrap_or_default();
            match ctx
                .shared
                .store
                .read(|st| directory::principal_by_app_id(st, app_id).cloned())
            {
                Some(p) => {
                    let mut v = select(ctx, sp_json(ctx, &p));
                    v["@odata.context"] = json!(context(ctx, "servicePrincipals/$entity"));
                    reply::json(StatusCode::OK, v)
                }
                None => not_found(ctx, &format!("servicePrincipals(appId='{app_id}')")),
            }
        }
        (&Method::GET, 1) if first == "applications" => list_apps(ctx),
        (&Method::POST, 2)
            if first == "directoryobjects"
                && matches!(
                    rest[1].to_ascii_lowercase().as_str(),
                    "getbyids" | "microsoft.graph.getbyids"
                ) =>
        {
            directory_objects::get_by_ids(ctx)
        }
        (&Method::GET, 2) if first == "applications" => {
            let app = ctx
                .shared
                .store
                .read(|st| directory::application(st, rest[1]).cloned());
            match app {
                Some(a) => reply::json(StatusCode::OK, select(ctx, app_json(&a))),
                None => not_found(ctx, rest[1]),
            }
        }
        (&Method::GET, 1) if key_segment(rest[0], "applications").is_some() => {
            let app_id = key_segment(rest[0], "applications")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let app = ctx.shared.store.read(|st| {
                st.table::<Application>()
                    .get(&app_id)
                    .filter(|a| !a.first_party)
                    .cloned()
            });
            match app {
                Some(a) => reply::json(StatusCode::OK, select(ctx, app_json(&a))),
                None => not_found(ctx, &format!("applications(appId='{app_id}')")),
            }
        }
        _ => gerr(
            ctx,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                rest.first().copied().unwrap_or("")
            ),
        ),
    }
}

fn list_sps(ctx: &Ctx) -> Reply {
    let filter = match ctx.q("$filter") {
        Some(f) => match parse_filter(f) {
            Some(f) => Some(f),
            None => {
                return gerr(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    format!("Unsupported or invalid query filter clause specified: {f}"),
                );
            }
        },
        None => None,
    };
    let top = ctx
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(100);
    let items: Vec<Value> = ctx.shared.store.read(|st| {
        st.table::<Principal>()
            .values()
            .filter(|p| match &filter {
                None => true,
                Some(Filter::AppId(a)) => p.app_id.eq_ignore_ascii_case(a),
                Some(Filter::Spn(s)) => p
                    .service_principal_names
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(s)),
                Some(Filter::DisplayName(d)) => p.display_name == *d,
                Some(Filter::Id(i)) => p.object_id.eq_ignore_ascii_case(i),
            })
            .take(top)
            .map(|p| select(ctx, sp_json(ctx, p)))
            .collect()
    });
    reply::json(
        StatusCode::OK,
        json!({"@odata.context": context(ctx, "servicePrincipals"), "value": items}),
    )
}

fn list_apps(ctx: &Ctx) -> Reply {
    let filter = match ctx.q("$filter") {
        Some(f) => match parse_filter(f) {
            Some(f @ (Filter::AppId(_) | Filter::DisplayName(_) | Filter::Id(_))) => Some(f),
            _ => {
                return gerr(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    format!("Unsupported or invalid query filter clause specified: {f}"),
                );
            }
        },
        None => None,
    };
    let items: Vec<Value> = ctx.shared.store.read(|st| {
        st.table::<Application>()
            .values()
            .filter(|a| !a.first_party)
            .filter(|a| match &filter {
                None => true,
                Some(Filter::AppId(x)) => a.app_id.eq_ignore_ascii_case(x),
                Some(Filter::DisplayName(d)) => a.display_name == *d,
                Some(Filter::Id(i)) => a.object_id.eq_ignore_ascii_case(i),
                Some(Filter::Spn(_)) => false,
            })
            .map(|a| select(ctx, app_json(a)))
            .collect()
    });
    reply::json(
        StatusCode::OK,
        json!({"@odata.context": context(ctx, "applications"), "value": items}),
    )
}

async fn create_sp(ctx: &Ctx, _caller: &str) -> Reply {
    let body = match ctx.json_body() {
        Ok(b) => b,
        Err(m) => return gerr(ctx, StatusCode::BAD_REQUEST, "BadRequest", m),
    };
    let Some(obj) = body.as_object() else {
        return gerr(
            ctx,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request body must be a JSON object.",
        );
    };
    let app_id = match obj.get("appId") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(_) => {
            return gerr(
                ctx,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid value for property 'appId': a string is expected.",
            );
        }
        None => {
            return gerr(
                ctx,
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "A value is required for property 'appId' of resource 'ServicePrincipal'.",
            );
        }
    };
    let account_enabled = match obj.get("accountEnabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return gerr(
                ctx,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid value for property 'accountEnabled': a boolean is expected.",
            );
        }
    };
    let tenant = ctx.shared.config.tenant().to_owned();
    let res = ctx.shared.store.try_write(|st| {
        let Some(app) = st.table::<Application>().get(&app_id).cloned() else {
            return Err((StatusCode::BAD_REQUEST, "Request_BadRequest", format!("The appId '{app_id}' of the service principal does not reference a valid application object.")));
        };
        if directory::principal_by_app_id(st, &app_id).is_some() {
            return Err((StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue", format!("The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use.")));
        }
        let p = Principal {
            object_id: uuid::Uuid::new_v4().to_string(),
            app_id: app.app_id.clone(),
            display_name: app.display_name.clone(),
            kind: PrincipalKind::Application,
            account_enabled,
            app_owner_organization_id: if app.first_party { MICROSOFT_TENANT.to_owned() } else { tenant.clone() },
            service_principal_names: vec![app.app_id.clone()],
            alternative_names: vec![],
            created_ms: ctx.shared.clock.now_ms(),
        };
        st.table_mut::<Principal>().insert(p.object_id.clone(), p.clone());
        Ok(p)
    });
    match res {
        Ok(Ok(p)) => {
            let mut v = sp_json(ctx, &p);
            v["@odata.context"] = json!(context(ctx, "servicePrincipals/$entity"));
            let mut r = reply::json(StatusCode::CREATED, v);
            let loc = format!(
                "{}/v1.0/servicePrincipals/{}",
                ctx.shared.config.graph_endpoint(),
                p.object_id
            );
            reply::set_header(&mut r, "location", &loc);
            r
        }
        Ok(Err((s, c, m))) => gerr(ctx, s, c, m),
        Err(e) => gerr(
            ctx,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            e.to_string(),
        ),
    }
}
