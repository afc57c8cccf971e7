//! What a template would change on a resource that exists (for what-if): the desired body is
//! compared with the resource as its GET shows it, member by member, and each difference
//! becomes a `delta` entry as ARM's what-if reports it (`{path, propertyChangeType, before,
//! after, children}`). Members the resource shows but the template does not set (read-only or
//! defaulted ones, such as `provisioningState`) are not changes.

use serde_json::{Map, Value, json};

/// How a resource would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// The resource does not exist and would be created.
    Create,
    /// The resource exists and would change.
    Modify,
    /// The resource exists and would stay as it is.
    NoChange,
    /// The resource is in the resource group but not in the template (incremental mode keeps
    /// it).
    Ignore,
    /// What-if cannot tell (a type the emulator does not serve, or no GET for it).
    Unsupported,
}

impl ChangeType {
    /// ARM's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Create => "Create",
            ChangeType::Modify => "Modify",
            ChangeType::NoChange => "NoChange",
            ChangeType::Ignore => "Ignore",
            ChangeType::Unsupported => "Unsupported",
        }
    }
}

fn get_ci<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Whether two scalars are the same value as ARM compares them: numbers by value, resource ids
/// and locations without regard to case (and locations to spaces).
fn same_scalar(path: &str, desired: &Value, current: &Value) -> bool {
    match (desired, current) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => {
            let squash = |s: &str| s.replace(' ', "").to_ascii_lowercase();
            if path.eq_ignore_ascii_case("location") {
                squash(a) == squash(b)
            } else if a.starts_with("/subscriptions/") {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        }
        _ => desired == current,
    }
}

/// The differences between what the template sets (`desired`) and what the resource has
/// (`current`) at `path`.
pub fn delta(path: &str, desired: &Value, current: &Value) -> Vec<Value> {
    match (desired, current) {
        (Value::Object(d), Value::Object(c)) => {
            let mut out = Vec::new();
            for (k, dv) in d {
                let p = join(path, k);
                match get_ci(c, k) {
                    None | Some(Value::Null) if !dv.is_null() => {
                        out.push(json!({"path": p, "propertyChangeType": "Create", "after": dv}));
                    }
                    None | Some(Value::Null) => {}
                    Some(cv) => out.extend(delta(&p, dv, cv)),
                }
            }
            out
        }
        (Value::Array(d), Value::Array(c)) => {
            let mut children = Vec::new();
            for i in 0..d.len().max(c.len()) {
                let p = i.to_string();
                match (d.get(i), c.get(i)) {
                    (Some(dv), Some(cv)) => {
                        let inner = delta("", dv, cv);
                        if inner.is_empty() {
                            continue;
                        }
                        if dv.is_object() || dv.is_array() {
                            children.push(json!({"path": p, "propertyChangeType": "Modify", "children": inner}));
                        } else {
                            children.push(json!({"path": p, "propertyChangeType": "Modify", "before": cv, "after": dv}));
                        }
                    }
                    (Some(dv), None) => {
                        children
                            .push(json!({"path": p, "propertyChangeType": "Create", "after": dv}));
                    }
                    (None, Some(cv)) => {
                        children
                            .push(json!({"path": p, "propertyChangeType": "Delete", "before": cv}));
                    }
                    (None, None) => {}
                }
            }
            if children.is_empty() {
                Vec::new()
            } else {
                vec![json!({"path": path, "propertyChangeType": "Array", "children": children})]
            }
        }
        (d, c) if same_scalar(path, d, c) => Vec::new(),
        (d, c) => {
            vec![json!({"path": path, "propertyChangeType": "Modify", "before": c, "after": d})]
        }
    }
}

/// `NoChange` when the resource already has everything the template sets, else `Modify`.
pub fn change_of(delta: &[Value]) -> ChangeType {
    if delta.is_empty() {
        ChangeType::NoChange
    } else {
        ChangeType::Modify
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_the_template_does_not_set_are_not_changes() {
        let desired =
            json!({"location": "West Europe", "properties": {"sku": {"name": "standard"}}});
        let current = json!({"location": "westeurope", "properties": {"sku": {"name": "standard", "family": "A"}, "provisioningState": "Succeeded"}});
        assert!(delta("", &desired, &current).is_empty());
    }

    #[test]
    fn a_changed_value_and_a_new_member_are_reported_by_path() {
        let desired = json!({"properties": {"sku": {"name": "premium"}, "enablePurgeProtection": true}, "tags": {"a": "1"}});
        let current = json!({"properties": {"sku": {"name": "standard"}}, "tags": {}});
        let d = delta("", &desired, &current);
        assert_eq!(
            d,
            vec![
                json!({"path": "properties.enablePurgeProtection", "propertyChangeType": "Create", "after": true}),
                json!({"path": "properties.sku.name", "propertyChangeType": "Modify", "before": "standard", "after": "premium"}),
                json!({"path": "tags.a", "propertyChangeType": "Create", "after": "1"}),
            ]
        );
        assert_eq!(change_of(&d), ChangeType::Modify);
    }

    #[test]
    fn arrays_change_element_by_element() {
        let desired = json!({"p": [{"name": "a", "v": 1}, {"name": "b"}]});
        let current = json!({"p": [{"name": "a", "v": 2, "extra": true}]});
        let d = delta("", &desired, &current);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["propertyChangeType"], "Array");
        assert_eq!(d[0]["children"][0]["children"][0]["path"], "v");
        assert_eq!(d[0]["children"][1]["propertyChangeType"], "Create");
        assert_eq!(
            change_of(&delta("", &json!({"p": [1]}), &json!({"p": [1.0]}))),
            ChangeType::NoChange
        );
    }
}
