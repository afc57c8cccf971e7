//! Deployment and resource functions: `parameters`, `variables`, `resourceGroup`,
//! `subscription`, `deployment`, `tenant`, `copyIndex`, `reference` and the resource id family
//! (`resourceId`, `subscriptionResourceId`, `tenantResourceId`, `extensionResourceId`).

use serde_json::{Value, json};

use super::args::{arity, as_int, as_str, fail, strings};
use crate::env::Env;
use crate::error::EvalError;
use crate::secure::Val;

/// `parameters` and `variables`, whose values carry the secure parameters they derive from;
/// `None` for any other function.
pub(super) fn lookup(
    f: &str,
    lname: &str,
    a: &[Value],
    env: &dyn Env,
) -> Option<Result<Val, EvalError>> {
    let is_param = match lname {
        "parameters" => true,
        "variables" => false,
        _ => return None,
    };
    Some(arity(f, a, 1, 1).and_then(|()| {
        let name = as_str(f, &a[0], 0)?;
        if is_param {
            env.parameter(name)
        } else {
            env.variable(name)
        }
    }))
}

/// The other deployment functions; `None` when `lname` is not one.
pub(super) fn call(
    f: &str,
    lname: &str,
    a: &[Value],
    env: &dyn Env,
) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "resourcegroup" => arity(f, a, 0, 0).map(|()| env.resource_group()),
        "subscription" => arity(f, a, 0, 0).map(|()| env.subscription()),
        "deployment" => arity(f, a, 0, 0).map(|()| env.deployment()),
        "tenant" => arity(f, a, 0, 0).map(|()| env.tenant()),
        "copyindex" => copy_index(f, a, env),
        "resourceid" => resource_id(f, a, env),
        "subscriptionresourceid" => arity(f, a, 2, usize::MAX).and_then(|()| {
            let s = strings(f, a)?;
            let (sub_id, ti) = if s[0].contains('/') {
                (str_field(&env.subscription(), "subscriptionId"), 0)
            } else {
                (s[0].to_owned(), 1)
            };
            let ty = s.get(ti).copied().unwrap_or_default();
            let tail = provider_path(f, ty, &s[(ti + 1).min(s.len())..])?;
            Ok(json!(format!("/subscriptions/{sub_id}{tail}")))
        }),
        "tenantresourceid" => arity(f, a, 2, usize::MAX).and_then(|()| {
            let s = strings(f, a)?;
            provider_path(f, s[0], &s[1..]).map(Value::String)
        }),
        "extensionresourceid" => arity(f, a, 3, usize::MAX).and_then(|()| {
            let s = strings(f, a)?;
            let tail = provider_path(f, s[1], &s[2..])?;
            Ok(json!(format!("{}{tail}", s[0].trim_end_matches('/'))))
        }),
        "reference" => arity(f, a, 1, 3).and_then(|()| {
            let target = as_str(f, &a[0], 0)?;
            let api = a.get(1).map(|v| as_str(f, v, 1)).transpose()?;
            let full = match a.get(2) {
                None => false,
                Some(v) => as_str(f, v, 2)?.eq_ignore_ascii_case("full"),
            };
            env.reference(target, api, full)
        }),
        _ => return None,
    })
}

/// `copyIndex(loopName?, offset?)`.
fn copy_index(f: &str, a: &[Value], env: &dyn Env) -> Result<Value, EvalError> {
    arity(f, a, 0, 2)?;
    let (loop_name, offset) = match a {
        [] => (None, 0),
        [Value::String(s)] => (Some(s.as_str()), 0),
        [o] => (None, as_int(f, o, 0)?),
        [l, o] => (Some(as_str(f, l, 0)?), as_int(f, o, 1)?),
        _ => (None, 0),
    };
    let i = env.copy_index(loop_name)?;
    i.checked_add(offset).map(|v| json!(v)).ok_or_else(|| {
        fail(
            f,
            format_args!("overflowed: the index {i} plus the offset {offset} is out of range."),
        )
    })
}

/// `resourceId(subscriptionId?, resourceGroupName?, type, name1, name2…)`.
fn resource_id(f: &str, a: &[Value], env: &dyn Env) -> Result<Value, EvalError> {
    arity(f, a, 2, usize::MAX)?;
    let s = strings(f, a)?;
    let ti = s.iter().position(|x| x.contains('/')).ok_or_else(|| {
        EvalError::plain(
            "The template function 'resourceId': no argument is a resource type ('Namespace/type').",
        )
    })?;
    let (sub_id, rg_name) = match ti {
        0 => (
            str_field(&env.subscription(), "subscriptionId"),
            str_field(&env.resource_group(), "name"),
        ),
        1 => (
            str_field(&env.subscription(), "subscriptionId"),
            s[0].to_owned(),
        ),
        2 => (s[0].to_owned(), s[1].to_owned()),
        _ => {
            return Err(EvalError::plain(
                "The template function 'resourceId' takes at most a subscription id and a resource group name before the resource type.",
            ));
        }
    };
    let tail = provider_path(f, s[ti], &s[ti + 1..])?;
    Ok(json!(format!(
        "/subscriptions/{sub_id}/resourceGroups/{rg_name}{tail}"
    )))
}

/// The `resourceId()` family: builds `/providers/{ns}/{t1}/{n1}/{t2}/{n2}…`.
fn provider_path(f: &str, ty: &str, names: &[&str]) -> Result<String, EvalError> {
    let segs: Vec<&str> = ty.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return Err(EvalError::msg(format!(
            "The template function '{f}': '{}' is not a fully qualified resource type ('Namespace/type').",
            crate::json::clip(ty)
        )));
    }
    let names: Vec<&str> = names
        .iter()
        .flat_map(|n| n.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() != segs.len() - 1 {
        return Err(EvalError::msg(format!(
            "The template function '{f}' was given {} resource name segment(s) for the type '{}', which needs {}.",
            names.len(),
            crate::json::clip(ty),
            segs.len() - 1
        )));
    }
    let mut out = format!("/providers/{}", segs[0]);
    for (t, n) in segs[1..].iter().zip(names) {
        out.push('/');
        out.push_str(t);
        out.push('/');
        out.push_str(n);
    }
    Ok(out)
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
