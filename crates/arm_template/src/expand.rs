//! From the template's `resources` to [`Resource`]s: nested children flattened, `copy`
//! loops expanded, types, names, scopes, ids and conditions evaluated ([`expand`]), then
//! dependencies resolved — `dependsOn`, the implicit ones of `reference()`, of nested
//! children and of extension scopes — and the deployment order computed ([`link`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::TemplateError;
use crate::eval::{eval_in, eval_value_in, parse_string};
use crate::expr::Expr;
use crate::host::RunHost;
use crate::json::{get_ci, type_name};
use crate::limits::{
    Budget, MAX_COPY_COUNT, MAX_EXPANDED_BYTES, MAX_RESOURCES, PARSE_BYTES_PER_STEP, measure_up_to,
};
use crate::resources::{Lookup, Resource, build_id, child_type_and_name, norm_id, order, resolve};
use crate::secure::{Secure, Val};
use crate::variables::Inputs;

/// A flattened template resource before copy expansion.
pub(crate) struct Decl {
    label: String,
    symbolic: Option<String>,
    raw: Map<String, Value>,
    /// `raw` without `copy`, as its instances hold it.
    body: Arc<Map<String, Value>>,
    /// The size of `raw`, in the units of the limits.
    bytes: usize,
    /// Parent (type, name expression evaluated later) for nested children.
    parent: Option<(String, String)>,
    parent_index: Option<usize>,
}

/// The raw string of a required template string property (may be an expression).
fn raw_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    label: &str,
) -> Result<&'a str, TemplateError> {
    match get_ci(o, key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(TemplateError::invalid(format!(
            "The template resource {label} is missing the required property '{key}'."
        ))),
        Some(_) => Err(TemplateError::invalid(format!(
            "The property '{key}' of template resource {label} must be a string."
        ))),
    }
}

/// Flattens the template's resources (nested `resources` become declarations of their own,
/// after their parent). Recursion follows the template's nesting, which the text parser
/// bounds.
pub(crate) fn flatten(
    list: Vec<(Option<String>, Value)>,
    prefix: &str,
    parent: Option<(&Map<String, Value>, usize)>,
    out: &mut Vec<Decl>,
) -> Result<(), TemplateError> {
    for (i, (symbolic, v)) in list.into_iter().enumerate() {
        let label = match &symbolic {
            Some(s) => format!("'{}'", crate::json::clip(s)),
            None => format!("{prefix}[{i}]"),
        };
        let Value::Object(mut raw) = v else {
            return Err(TemplateError::invalid(format!(
                "The template resource {label} must be a JSON object."
            )));
        };
        let children = raw.remove("resources");
        let idx = out.len();
        let parent_info = match parent {
            Some((p, _)) => Some((
                raw_str(p, "type", &label)?.to_owned(),
                raw_str(p, "name", &label)?.to_owned(),
            )),
            None => None,
        };
        if out.len() >= MAX_RESOURCES {
            return Err(too_many());
        }
        let raw_value = Value::Object(raw);
        let bytes = measure_up_to(&raw_value, MAX_EXPANDED_BYTES).map_err(|_| too_large())?;
        let Value::Object(raw) = raw_value else {
            return Err(too_large());
        };
        let mut body = raw.clone();
        body.remove("copy");
        out.push(Decl {
            label: label.clone(),
            symbolic,
            raw: raw.clone(),
            body: Arc::new(body),
            bytes,
            parent: parent_info,
            parent_index: parent.map(|(_, pi)| pi),
        });
        match children {
            None | Some(Value::Null) => {}
            Some(Value::Array(c)) => {
                if get_ci(&raw, "copy").is_some() && !c.is_empty() {
                    return Err(TemplateError::invalid(format!(
                        "The template resource {label} has a copy loop and nested child resources; the emulator does not support that combination: declare the children at the top level."
                    )));
                }
                let kids = c.into_iter().map(|x| (None, x)).collect();
                flatten(kids, &format!("{label}.resources"), Some((&raw, idx)), out)?;
            }
            Some(_) => {
                return Err(TemplateError::invalid(format!(
                    "The 'resources' of template resource {label} must be an array."
                )));
            }
        }
    }
    Ok(())
}

fn too_large() -> TemplateError {
    TemplateError::invalid(format!(
        "The template's resources, copy loops expanded, are larger than {MAX_EXPANDED_BYTES} bytes, the limit of a template."
    ))
}

fn too_many() -> TemplateError {
    TemplateError::invalid(format!(
        "The template has more than {MAX_RESOURCES} resources (copy loops included); the limit is {MAX_RESOURCES}."
    ))
}

/// Evaluation before deployment: `reference()` of a template resource is deferred.
struct Static<'a> {
    inputs: &'a Inputs,
    budget: &'a Budget,
    /// Nothing is deployed yet.
    none: HashMap<String, Value>,
}

impl<'a> Static<'a> {
    fn new(inputs: &'a Inputs, budget: &'a Budget) -> Self {
        Self {
            inputs,
            budget,
            none: HashMap::new(),
        }
    }

    fn host<'b>(&'b self, resources: &'b [Resource], copy: Option<(String, i64)>) -> RunHost<'b> {
        RunHost {
            inputs: self.inputs,
            resources,
            deployed: &self.none,
            external: &self.none,
            copy,
            static_only: true,
            budget: self.budget,
        }
    }

    fn eval(
        &self,
        resources: &[Resource],
        v: &Value,
        copy: Option<(String, i64)>,
        what: &str,
        path: &str,
    ) -> Result<Val, TemplateError> {
        eval_value_in(v, &self.host(resources, copy), path).map_err(|e| TemplateError::at(what, &e))
    }

    fn string(
        &self,
        resources: &[Resource],
        raw: &str,
        copy: Option<(String, i64)>,
        what: &str,
        path: &str,
        secure: &mut Secure,
    ) -> Result<String, TemplateError> {
        let v = self.eval(resources, &Value::String(raw.to_owned()), copy, what, path)?;
        secure.extend(&v.secure);
        match v.value {
            Value::String(s) => Ok(s),
            other => Err(TemplateError::invalid(format!(
                "The '{path}' of {what} must evaluate to a string, not '{}'.",
                type_name(&other)
            ))),
        }
    }
}

/// Expands copy loops and computes names, types and ids.
pub(crate) fn expand(
    inputs: &Inputs,
    decls: &[Decl],
    budget: &Budget,
) -> Result<Vec<Resource>, TemplateError> {
    let st = Static::new(inputs, budget);
    let mut resources: Vec<Resource> = Vec::new();
    let mut expanded_bytes = 0usize;
    // Index of the first instance of each declaration (for nested children's parents).
    let mut first_of: Vec<usize> = Vec::new();
    for d in decls {
        first_of.push(resources.len());
        let what = format!("template resource {}", d.label);
        let (copy_name, count) = match get_ci(&d.raw, "copy") {
            None | Some(Value::Null) => (None, 1),
            Some(Value::Object(c)) => {
                let name = match get_ci(c, "name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => {
                        return Err(TemplateError::invalid(format!(
                            "The copy loop of {what} needs a 'name'."
                        )));
                    }
                };
                let count = st.eval(
                    &resources,
                    get_ci(c, "count").unwrap_or(&Value::Null),
                    None,
                    &what,
                    "copy.count",
                )?;
                let count = count
                    .value
                    .as_i64()
                    .filter(|n| (0..=MAX_COPY_COUNT).contains(n))
                    .ok_or_else(|| {
                        TemplateError::invalid(format!(
                            "The copy count of {what} must be an integer from 0 to {MAX_COPY_COUNT}."
                        ))
                    })?;
                (Some(name), count)
            }
            Some(_) => {
                return Err(TemplateError::invalid(format!(
                    "The 'copy' of {what} must be an object."
                )));
            }
        };
        if i64::try_from(resources.len())
            .ok()
            .and_then(|n| n.checked_add(count))
            .is_none_or(|n| n > MAX_RESOURCES as i64)
        {
            return Err(too_many());
        }
        expanded_bytes = expanded_bytes.saturating_add(
            d.bytes
                .saturating_mul(usize::try_from(count).unwrap_or(usize::MAX)),
        );
        if expanded_bytes > MAX_EXPANDED_BYTES {
            return Err(too_large());
        }
        for i in 0..count {
            let r = instance(&st, &resources, d, copy_name.clone().map(|n| (n, i)))?;
            resources.push(r);
        }
    }
    // Nested children depend on their parent's (first) instance.
    let mut cursor = 0;
    for (di, d) in decls.iter().enumerate() {
        let n = first_of.get(di + 1).copied().unwrap_or(resources.len()) - first_of[di];
        if let Some(pi) = d.parent_index {
            let parent_idx = first_of[pi];
            for r in &mut resources[cursor..cursor + n] {
                r.depends_on.push(parent_idx);
            }
        }
        cursor += n;
    }
    Ok(resources)
}

/// One instance of a declaration (one index of its copy loop).
fn instance(
    st: &Static<'_>,
    resources: &[Resource],
    d: &Decl,
    copy: Option<(String, i64)>,
) -> Result<Resource, TemplateError> {
    let label = match &copy {
        Some((_, i)) => format!("{} (copy index {i})", d.label),
        None => d.label.clone(),
    };
    let what = format!("template resource {label}");
    let mut secure = Secure::none();
    let ty = st.string(
        resources,
        raw_str(&d.raw, "type", &label)?,
        copy.clone(),
        &what,
        "type",
        &mut secure,
    )?;
    let name = st.string(
        resources,
        raw_str(&d.raw, "name", &label)?,
        copy.clone(),
        &what,
        "name",
        &mut secure,
    )?;
    let existing = matches!(get_ci(&d.raw, "existing"), Some(Value::Bool(true)));
    let api_version = match get_ci(&d.raw, "apiVersion") {
        Some(Value::String(s)) => {
            st.string(resources, s, copy.clone(), &what, "apiVersion", &mut secure)?
        }
        _ => {
            return Err(TemplateError::invalid(format!(
                "The template resource {label} is missing the required property 'apiVersion'."
            )));
        }
    };
    let (ty, name) = match &d.parent {
        Some((pt, pn)) => {
            let pt = st.string(resources, pt, None, &what, "type", &mut secure)?;
            let pn = st.string(resources, pn, None, &what, "name", &mut secure)?;
            child_type_and_name(&pt, &pn, &ty, &name)
        }
        None => (ty, name),
    };
    let group_id = st.inputs.scope.group_id();
    let prefix = match get_ci(&d.raw, "scope") {
        None | Some(Value::Null) => group_id,
        Some(s) => {
            let s = st.eval(resources, s, copy.clone(), &what, "scope")?;
            secure.extend(&s.secure);
            let text = s.value.as_str().unwrap_or_default().to_owned();
            if text.starts_with('/') {
                text
            } else if let Some(i) = resolve(resources, &text).first() {
                resources[*i].id.clone()
            } else if text.contains('/') {
                format!("{group_id}/providers/{text}")
            } else {
                return Err(TemplateError::invalid(format!(
                    "The scope {} of template resource {label} is not a resource id or a resource of the template.",
                    s.secure.show(&text)
                )));
            }
        }
    };
    let (id, effective_type) = build_id(&prefix, &ty, &name, &label, &secure)?;
    let enabled = match get_ci(&d.raw, "condition") {
        None | Some(Value::Null) => true,
        Some(c) => match st
            .eval(resources, c, copy.clone(), &what, "condition")?
            .value
        {
            Value::Bool(b) => b,
            other => {
                return Err(TemplateError::invalid(format!(
                    "The condition of template resource {label} must evaluate to a boolean, not '{}'.",
                    type_name(&other)
                )));
            }
        },
    };
    let location = get_ci(&d.raw, "location")
        .and_then(|l| st.eval(resources, l, copy.clone(), &what, "location").ok())
        .and_then(|v| v.value.as_str().map(str::to_owned));
    Ok(Resource {
        label,
        symbolic: d.symbolic.clone(),
        copy,
        raw: Arc::clone(&d.body),
        resource_type: ty,
        effective_type,
        name,
        api_version,
        id,
        enabled,
        existing,
        depends_on: Vec::new(),
        location,
        secure,
    })
}

/// Every string in a value (iterative).
fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => stack.extend(o.values().rev()),
            _ => {}
        }
    }
}

/// `reference()` targets in a resource or output, with the api-version when given. Parsing
/// is charged to the budget (a copy loop parses the same strings once per instance).
fn reference_targets(
    st: &Static<'_>,
    resources: &[Resource],
    values: &[&Value],
    copy: Option<(String, i64)>,
    what: &str,
) -> Result<Vec<(Val, Option<String>)>, TemplateError> {
    let mut out = Vec::new();
    let mut strings = Vec::new();
    for v in values {
        collect_strings(v, &mut strings);
    }
    let h = st.host(resources, copy);
    for s in strings {
        st.budget
            .charge(1 + (s.len() / PARSE_BYTES_PER_STEP) as u64)
            .map_err(|e| TemplateError::invalid(format!("{} ({what})", e.message)))?;
        let Ok(Some(e)) = parse_string(s) else {
            continue;
        };
        e.walk(&mut |node: &Expr| {
            if let Expr::Call { name, args, .. } = node
                && name.eq_ignore_ascii_case("reference")
                && let Some(first) = args.first()
                && let Ok(target) = eval_in(first, &h)
                && target.value.is_string()
            {
                let api = args
                    .get(1)
                    .and_then(|a| eval_in(a, &h).ok())
                    .and_then(|v| v.value.as_str().map(str::to_owned));
                out.push((target, api));
            }
        });
    }
    Ok(out)
}

/// What [`link`] finds: the order, and the resources outside the template `reference()`
/// reads.
pub(crate) struct Linked {
    pub(crate) order: Vec<usize>,
    pub(crate) external_refs: Vec<(String, Option<String>)>,
}

/// Resolves every resource's dependencies and orders the resources.
pub(crate) fn link(
    inputs: &Inputs,
    resources: &mut [Resource],
    outputs: &Map<String, Value>,
    budget: &Budget,
) -> Result<Linked, TemplateError> {
    let st = Static::new(inputs, budget);
    let lookup = Lookup::new(resources);
    let ids: Vec<String> = resources.iter().map(|r| norm_id(&r.id)).collect();
    let n = resources.len();
    let mut external = Vec::new();
    let mut all_deps = Vec::with_capacity(n);
    for (i, r) in resources.iter().enumerate() {
        let what = format!("template resource {}", r.label);
        let mut deps = r.depends_on.clone();
        if let Some(d) = get_ci(&r.raw, "dependsOn") {
            let d = st.eval(resources, d, r.copy.clone(), &what, "dependsOn")?;
            let Value::Array(items) = d.value else {
                return Err(TemplateError::invalid(format!(
                    "The 'dependsOn' of {what} must be an array."
                )));
            };
            for item in items {
                let Value::String(target) = item else {
                    return Err(TemplateError::invalid(format!(
                        "The 'dependsOn' entries of {what} must be strings."
                    )));
                };
                let found = lookup.find(&target);
                if found.is_empty() {
                    return Err(TemplateError::invalid(format!(
                        "The resource {} is not defined in the template (in the dependsOn of {what}).",
                        d.secure.show(&target)
                    )));
                }
                deps.extend(found);
            }
        }
        // Implicit dependencies: reference() of a template resource, and the scope.
        let body: Vec<&Value> = r
            .raw
            .iter()
            .filter(|(k, _)| {
                ![
                    "type",
                    "apiVersion",
                    "name",
                    "dependsOn",
                    "condition",
                    "copy",
                ]
                .contains(&k.as_str())
            })
            .map(|(_, v)| v)
            .collect();
        for (target, api) in reference_targets(&st, resources, &body, r.copy.clone(), &what)? {
            let text = target.value.as_str().unwrap_or_default();
            let found = lookup.find(text);
            if found.is_empty() {
                if text.starts_with('/') {
                    external.push((text.to_owned(), api));
                }
            } else {
                deps.extend(found);
            }
        }
        let scope_prefix = &ids[i];
        for (j, oid) in ids.iter().enumerate() {
            if j != i
                && scope_prefix.len() >= oid.len() + 11
                && scope_prefix.starts_with(oid.as_str())
                && scope_prefix[oid.len()..].starts_with("/providers/")
            {
                deps.push(j);
            }
        }
        deps.sort_unstable();
        deps.dedup();
        deps.retain(|d| *d != i);
        all_deps.push(deps);
    }
    for (r, deps) in resources.iter_mut().zip(all_deps) {
        r.depends_on = deps;
    }
    for o in outputs.values() {
        for (target, api) in reference_targets(&st, resources, &[o], None, "the outputs")? {
            let text = target.value.as_str().unwrap_or_default();
            if lookup.find(text).is_empty() && text.starts_with('/') {
                external.push((text.to_owned(), api));
            }
        }
    }
    external.sort();
    external.dedup();
    // Duplicate ids are an error, as in ARM.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(j) = seen.insert(id.as_str(), i) {
            return Err(TemplateError::invalid(format!(
                "The resource {} is defined multiple times in a template ({} and {}).",
                resources[i].shown_id(),
                resources[j].label,
                resources[i].label
            )));
        }
    }
    let order = order(resources)?;
    Ok(Linked {
        order,
        external_refs: external,
    })
}
