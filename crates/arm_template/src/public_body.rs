//! A resource body as a reader may see it, for a preview of a deployment (what-if): every
//! member whose value derives from a secure parameter is left out (so no preview shows a
//! secret), and so is every member that needs `reference()` of a resource the deployment has
//! not deployed yet (its value is not known before the deployment runs).

use serde_json::{Map, Value};

use crate::engine::Engine;
use crate::env::Env;
use crate::error::TemplateError;
use crate::eval::eval_string_in;
use crate::limits::Budget;
use crate::resources::TEMPLATE_KEYS;

/// A resource body for a preview.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicBody {
    /// The body, without the members left out.
    pub body: Value,
    /// Paths of the members left out because they derive from a secure parameter.
    pub secure: Vec<String>,
    /// Paths of the members left out because their value is known only once the deployment
    /// runs.
    pub deferred: Vec<String>,
}

/// What a member became.
enum Member {
    Shown(Value),
    Secure,
    Deferred,
}

struct Walk<'a> {
    env: &'a dyn Env,
    secure: Vec<String>,
    deferred: Vec<String>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Walk<'_> {
    fn value(&mut self, v: &Value, path: &str) -> Result<Member, TemplateError> {
        match v {
            Value::String(s) => match eval_string_in(s, self.env) {
                Ok(val) if !val.secure.is_empty() => Ok(Member::Secure),
                Ok(val) => Ok(Member::Shown(val.value)),
                Err(e) if e.deferred => Ok(Member::Deferred),
                Err(e) => Err(TemplateError::invalid(format!("{path}: {}", e.message))),
            },
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, x) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    match self.value(x, &p)? {
                        Member::Shown(v) => out.push(v),
                        // An element cannot be left out without shifting the others: the
                        // array as a whole is withheld.
                        Member::Secure => return Ok(Member::Secure),
                        Member::Deferred => return Ok(Member::Deferred),
                    }
                }
                Ok(Member::Shown(Value::Array(out)))
            }
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    let key = match eval_string_in(k, self.env) {
                        Ok(val) if val.secure.is_empty() => match val.value {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                        Ok(_) => {
                            self.secure.push(join(path, "<key>"));
                            continue;
                        }
                        Err(e) if e.deferred => {
                            self.deferred.push(join(path, k));
                            continue;
                        }
                        Err(e) => {
                            return Err(TemplateError::invalid(format!("{path}: {}", e.message)));
                        }
                    };
                    let p = join(path, &key);
                    match self.value(x, &p)? {
                        Member::Shown(v) => {
                            out.insert(key, v);
                        }
                        Member::Secure => self.secure.push(p),
                        Member::Deferred => self.deferred.push(p),
                    }
                }
                Ok(Member::Shown(Value::Object(out)))
            }
            other => Ok(Member::Shown(other.clone())),
        }
    }
}

impl Engine {
    /// The request body of resource `index` as a preview may show it: template keys removed,
    /// expressions evaluated, members that derive from a secure parameter or need a resource
    /// not deployed yet left out (and listed).
    pub fn public_body(&self, index: usize) -> Result<PublicBody, TemplateError> {
        let Some(r) = self.resources.get(index) else {
            return Err(TemplateError::invalid("No such resource."));
        };
        let budget = Budget::new();
        // Static: a reference() to a resource neither deployed nor recorded is deferred, not an
        // error.
        let host = self.host(r.copy.clone(), true, &budget);
        let mut walk = Walk {
            env: &host,
            secure: Vec::new(),
            deferred: Vec::new(),
        };
        let mut body = Map::new();
        for (k, v) in r.raw.iter() {
            if TEMPLATE_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                continue;
            }
            match walk.value(v, k)? {
                Member::Shown(v) => {
                    body.insert(k.clone(), v);
                }
                Member::Secure => walk.secure.push(k.clone()),
                Member::Deferred => walk.deferred.push(k.clone()),
            }
        }
        Ok(PublicBody {
            body: Value::Object(body),
            secure: walk.secure,
            deferred: walk.deferred,
        })
    }
}
