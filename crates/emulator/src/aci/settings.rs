//! Properties the emulator stores and echoes without acting on them (volumes, registry
//! credentials, subnets, probes, init containers, …), as a JSON object that knows where its
//! sealed parts are: values shown once the group's data key opens them (plain environment
//! values, commands, probe commands and headers, config maps) and secrets never shown again
//! (passwords, storage and workspace keys, secret volume contents, secure values).
//!
//! A request is read into [`Settings`]; [`Settings::split`] takes the sealed parts out by JSON
//! pointer, so the clear part can be stored as it is and the others sealed; [`restore`] puts
//! opened parts back for an answer.

use serde_json::{Map, Value};

/// How a sealed part of [`Settings`] is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Sealed, and shown in answers when the data key opens it.
    Shown,
    /// Sealed, and never shown (Azure never returns it).
    Secret,
}

/// JSON properties, and the JSON pointers (relative to them) of their sealed parts.
///
/// Its `Debug` names the properties and the places of the sealed parts, never a value.
#[derive(Clone, Default)]
pub struct Settings {
    values: Map<String, Value>,
    sealed: Vec<(String, Part)>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("properties", &self.values.keys().collect::<Vec<_>>())
            .field("sealed", &self.sealed)
            .finish()
    }
}

/// [`Settings`] taken apart: the clear part, and the sealed parts by JSON pointer.
///
/// Its `Debug` names the pointers of the sealed parts, never their values.
#[derive(Clone, Default)]
pub struct Split {
    /// What is stored as it is.
    pub clear: Map<String, Value>,
    /// Pointer → value of the parts shown once opened.
    pub shown: Map<String, Value>,
    /// Pointer → value of the secrets.
    pub secret: Map<String, Value>,
}

impl std::fmt::Debug for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Split")
            .field("clear", &self.clear)
            .field("shown", &self.shown.keys().collect::<Vec<_>>())
            .field("secret", &self.secret.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Settings {
    /// Sets property `key` (replacing one of the same name).
    pub fn insert(&mut self, key: &str, value: Value) {
        self.values.insert(key.to_owned(), value);
    }

    /// Marks the value at `pointer` (see [`pointer`]) as sealed. A pointer that names nothing
    /// when the settings are split is ignored.
    pub fn seal(&mut self, pointer: String, part: Part) {
        self.sealed.push((pointer, part));
    }

    /// Takes the sealed parts out.
    pub fn split(self) -> Split {
        let mut root = Value::Object(self.values);
        let mut shown = Map::new();
        let mut secret = Map::new();
        for (p, part) in self.sealed {
            if let Some(v) = take(&mut root, &p) {
                match part {
                    Part::Shown => shown.insert(p, v),
                    Part::Secret => secret.insert(p, v),
                };
            }
        }
        let clear = match root {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Split {
            clear,
            shown,
            secret,
        }
    }
}

/// The JSON pointer of `segments` (each escaped: `~` → `~0`, `/` → `~1`).
pub fn pointer(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The parent pointer and the unescaped last segment of `p`.
fn parent_and_key(p: &str) -> Option<(&str, String)> {
    let (parent, last) = p.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn take(root: &mut Value, p: &str) -> Option<Value> {
    let (parent, key) = parent_and_key(p)?;
    root.pointer_mut(parent)?.as_object_mut()?.remove(&key)
}

/// Puts opened parts (pointer → value) back into `target`; a part whose place is gone is
/// left out.
pub fn restore(target: &mut Map<String, Value>, parts: Map<String, Value>) {
    let mut root = Value::Object(std::mem::take(target));
    for (p, v) in parts {
        if let Some((parent, key)) = parent_and_key(&p)
            && let Some(obj) = root.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            obj.insert(key, v);
        }
    }
    if let Value::Object(m) = root {
        *target = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_and_restore_by_pointer() {
        let mut s = Settings::default();
        s.insert(
            "volumes",
            json!([{"name": "v", "secret": {"a/b": "czE=", "c~d": "czI="}}]),
        );
        s.insert("probe", json!({"exec": {"command": ["x"]}, "period": 3}));
        s.seal(pointer(&["volumes", "0", "secret", "a/b"]), Part::Secret);
        s.seal(pointer(&["volumes", "0", "secret", "c~d"]), Part::Secret);
        s.seal(pointer(&["probe", "exec", "command"]), Part::Shown);
        s.seal(pointer(&["nothing", "here"]), Part::Secret);
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("czE=") && !debug.contains("\"x\""),
            "{debug}"
        );
        let split = s.split();
        assert_eq!(
            Value::Object(split.clear.clone()),
            json!({"volumes": [{"name": "v", "secret": {}}], "probe": {"exec": {}, "period": 3}})
        );
        assert_eq!(split.secret.len(), 2);
        assert!(!format!("{split:?}").contains("czE="));
        let mut back = split.clear.clone();
        restore(&mut back, split.shown);
        assert_eq!(
            back["probe"],
            json!({"exec": {"command": ["x"]}, "period": 3})
        );
        assert_eq!(back["volumes"][0]["secret"], json!({}));
    }
}
