//! Resources after expansion: [`Resource`], how a `dependsOn` or `reference()` target names
//! one ([`resolve`], [`Lookup`]), resource ids ([`build_id`]) and the deployment order
//! ([`order`]: dependencies first, template order among the ready, cycles reported).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::TemplateError;
use crate::secure::Secure;

/// One resource instance of the template, after `copy` expansion.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Label for messages: `resources[1] 'kv'` (with the copy index when in a loop).
    pub label: String,
    /// Symbolic name (languageVersion 2.0).
    pub symbolic: Option<String>,
    /// Copy loop name and index.
    pub copy: Option<(String, i64)>,
    /// The template's resource object (template keys included, `copy` removed), shared by
    /// the instances of a copy loop.
    pub(crate) raw: Arc<Map<String, Value>>,
    /// Resource type as written (`Microsoft.KeyVault/vaults/accessPolicies`).
    pub resource_type: String,
    /// The type the request is routed as (differs for `…/providers/…` types).
    pub effective_type: String,
    /// Full name (`vault/add`).
    pub name: String,
    /// apiVersion.
    pub api_version: String,
    /// ARM id.
    pub id: String,
    /// False when the `condition` is false: the resource is not deployed.
    pub enabled: bool,
    /// `existing: true`: only read, not deployed.
    pub existing: bool,
    /// Indexes (into [`crate::Engine::resources`]) of the resources this one depends on.
    pub depends_on: Vec<usize>,
    /// Location when it can be evaluated before deployment.
    pub location: Option<String>,
    /// The secure parameters its type, name or scope derive from.
    pub(crate) secure: Secure,
}

impl Resource {
    /// The name as a message shows it.
    pub(crate) fn shown_name(&self) -> String {
        self.secure.show(&self.name)
    }

    /// The id as a message shows it.
    pub(crate) fn shown_id(&self) -> String {
        self.secure.show(&self.id)
    }
}

/// Template-only keys of a resource (not sent to the resource provider).
pub(crate) const TEMPLATE_KEYS: &[&str] = &[
    "type",
    "apiversion",
    "name",
    "dependson",
    "condition",
    "copy",
    "comments",
    "scope",
    "resources",
    "metadata",
    "existing",
    "import",
];

/// Normalises an ARM id for comparison.
pub fn norm_id(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// Template resources a `dependsOn` / `reference()` target names: a symbolic name, a copy
/// loop name, a resource id, `Type/name` or a plain name (the first kind that matches).
pub(crate) fn resolve(resources: &[Resource], target: &str) -> Vec<usize> {
    let t = norm_id(target);
    let by = |f: &dyn Fn(&Resource) -> bool| -> Vec<usize> {
        resources
            .iter()
            .enumerate()
            .filter(|(_, r)| f(r))
            .map(|(i, _)| i)
            .collect()
    };
    let found = by(&|r| {
        r.symbolic
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(target))
    });
    if !found.is_empty() {
        return found;
    }
    let found = by(&|r| {
        r.copy
            .as_ref()
            .is_some_and(|(n, _)| n.eq_ignore_ascii_case(target))
    });
    if !found.is_empty() {
        return found;
    }
    if target.starts_with('/') {
        return by(&|r| norm_id(&r.id) == t);
    }
    let found = by(&|r| format!("{}/{}", r.resource_type, r.name).to_ascii_lowercase() == t);
    if !found.is_empty() {
        return found;
    }
    by(&|r| r.name.eq_ignore_ascii_case(target))
}

/// [`resolve`] with the resources indexed once: the same answers, each in constant time.
pub(crate) struct Lookup {
    symbolic: HashMap<String, Vec<usize>>,
    copy: HashMap<String, Vec<usize>>,
    id: HashMap<String, Vec<usize>>,
    type_name: HashMap<String, Vec<usize>>,
    name: HashMap<String, Vec<usize>>,
}

impl Lookup {
    /// Indexes `resources`.
    pub(crate) fn new(resources: &[Resource]) -> Self {
        let mut l = Self {
            symbolic: HashMap::new(),
            copy: HashMap::new(),
            id: HashMap::new(),
            type_name: HashMap::new(),
            name: HashMap::new(),
        };
        for (i, r) in resources.iter().enumerate() {
            if let Some(s) = &r.symbolic {
                l.symbolic
                    .entry(s.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
            if let Some((n, _)) = &r.copy {
                l.copy.entry(n.to_ascii_lowercase()).or_default().push(i);
            }
            l.id.entry(norm_id(&r.id)).or_default().push(i);
            l.type_name
                .entry(format!("{}/{}", r.resource_type, r.name).to_ascii_lowercase())
                .or_default()
                .push(i);
            l.name
                .entry(r.name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
        l
    }

    /// What [`resolve`] answers for `target`.
    pub(crate) fn find(&self, target: &str) -> Vec<usize> {
        let lower = target.to_ascii_lowercase();
        let get = |m: &HashMap<String, Vec<usize>>, k: &str| m.get(k).cloned();
        if let Some(v) = get(&self.symbolic, &lower) {
            return v;
        }
        if let Some(v) = get(&self.copy, &lower) {
            return v;
        }
        let t = norm_id(target);
        if target.starts_with('/') {
            return get(&self.id, &t).unwrap_or_default();
        }
        if let Some(v) = get(&self.type_name, &t) {
            return v;
        }
        get(&self.name, &lower).unwrap_or_default()
    }
}

/// Joins a child's type and name onto its parent's.
pub(crate) fn child_type_and_name(
    parent_type: &str,
    parent_name: &str,
    ty: &str,
    name: &str,
) -> (String, String) {
    // A nested child's type is either a full type or a segment appended to the parent's.
    let full_type = if ty.contains('/') {
        ty.to_owned()
    } else {
        format!("{parent_type}/{ty}")
    };
    let needed = full_type.split('/').count() - 1;
    let full_name = if name.split('/').count() < needed {
        format!("{parent_name}/{name}")
    } else {
        name.to_owned()
    };
    (full_type, full_name)
}

/// Builds the id of a resource of `ty` named `name` under `prefix` (a scope id), and the type
/// its request is routed as. `secure`: what the type and name derive from (for messages).
pub(crate) fn build_id(
    prefix: &str,
    ty: &str,
    name: &str,
    label: &str,
    secure: &Secure,
) -> Result<(String, String), TemplateError> {
    let tsegs: Vec<&str> = ty.split('/').filter(|s| !s.is_empty()).collect();
    let nsegs: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    if tsegs.len() < 2 {
        return Err(TemplateError::invalid(format!(
            "The template resource {label} has the invalid type {}: expected 'Namespace/type'.",
            secure.show(ty)
        )));
    }
    if nsegs.len() != tsegs.len() - 1 {
        return Err(TemplateError::invalid(format!(
            "The template resource {} for type {} at {label} has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name.",
            secure.show(name),
            secure.show(ty)
        )));
    }
    let mut id = format!("{}/providers/{}", prefix.trim_end_matches('/'), tsegs[0]);
    for (t, n) in tsegs[1..].iter().zip(&nsegs) {
        id.push('/');
        id.push_str(t);
        id.push('/');
        id.push_str(n);
    }
    // `Ns/type/providers/Other.Ns/type2`: the request goes to the extension's provider.
    let effective = match tsegs
        .iter()
        .rposition(|t| t.eq_ignore_ascii_case("providers"))
    {
        Some(p) if p >= 2 => {
            let ns = nsegs.get(p - 1).copied().unwrap_or_default();
            let mut e = ns.to_owned();
            for t in &tsegs[p + 1..] {
                e.push('/');
                e.push_str(t);
            }
            e
        }
        _ => tsegs.join("/"),
    };
    Ok((id, effective))
}

/// The deployment order: every resource after its dependencies, and among the resources
/// ready at any point the first in template order. A cycle is an error naming it.
pub(crate) fn order(resources: &[Resource]) -> Result<Vec<usize>, TemplateError> {
    let n = resources.len();
    let mut waiting: Vec<usize> = resources.iter().map(|r| r.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in resources.iter().enumerate() {
        for d in &r.depends_on {
            if let Some(list) = dependents.get_mut(*d) {
                list.push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|i| waiting[*i] == 0).map(Reverse).collect();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        done[i] = true;
        out.push(i);
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    if out.len() < n {
        let cycle = find_cycle(resources, &done);
        return Err(TemplateError::invalid(format!(
            "Circular dependency detected on resource: {}.",
            cycle.join(" -> ")
        )));
    }
    Ok(out)
}

/// A dependency cycle among the resources not `done`, as quoted names.
fn find_cycle(resources: &[Resource], done: &[bool]) -> Vec<String> {
    // Walk from any unfinished resource along unfinished dependencies until one repeats.
    let Some(mut cur) = (0..done.len()).find(|i| !done[*i]) else {
        return Vec::new();
    };
    let mut path: Vec<usize> = Vec::new();
    let mut on_path = vec![false; done.len()];
    loop {
        if on_path[cur] {
            let p = path.iter().position(|x| *x == cur).unwrap_or(0);
            let mut c: Vec<String> = path[p..]
                .iter()
                .map(|i| resources[*i].shown_name())
                .collect();
            c.push(resources[cur].shown_name());
            return c;
        }
        path.push(cur);
        on_path[cur] = true;
        match resources[cur].depends_on.iter().find(|d| !done[**d]) {
            Some(d) => cur = *d,
            None => return Vec::new(),
        }
    }
}
