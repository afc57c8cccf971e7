//! One table of records: [`Record`] (what a row is), [`Table`] (rows by key, with the set of rows
//! changed since the last commit) and [`AnyTable`], the object-safe view the store persists.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A row type kept in a [`Table`]. Each service declares its own records and registers their
/// tables with [`super::Schema::table`].
pub trait Record: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// The table's name: its key in the admin dump and its table in the state file.
    const TABLE: &'static str;

    /// The row as it appears in the admin dump. Override to redact secrets and key material.
    fn dump(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// One table of rows keyed by a string, remembering which rows changed since the last commit.
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: BTreeMap<String, T>,
    dirty: BTreeSet<String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            dirty: BTreeSet::new(),
        }
    }
}

impl<T: Record> Table<T> {
    /// Returns the row stored under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.rows.get(key)
    }

    /// Returns the row stored under `key` for modification (the row is persisted on commit).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let row = self.rows.get_mut(key)?;
        self.dirty.insert(key.to_owned());
        Some(row)
    }

    /// Inserts or replaces a row.
    pub fn insert(&mut self, key: impl Into<String>, value: T) -> Option<T> {
        let key = key.into();
        self.dirty.insert(key.clone());
        self.rows.insert(key, value)
    }

    /// Removes a row.
    pub fn remove(&mut self, key: &str) -> Option<T> {
        let old = self.rows.remove(key);
        if old.is_some() {
            self.dirty.insert(key.to_owned());
        }
        old
    }

    /// Whether a row exists under `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.rows.contains_key(key)
    }

    /// Iterates over `(key, row)` in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.rows.iter()
    }

    /// Iterates over rows in key order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    /// Keeps only the rows for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &T) -> bool) {
        let gone: Vec<String> = self
            .rows
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }
}

/// Rows changed since the last commit: key and new bytes (`None` = deleted).
pub(crate) type DirtyRows = Vec<(String, Option<Vec<u8>>)>;

/// Object-safe view of a table used by the persistence layer, the dump and the typed lookup.
pub(crate) trait AnyTable: Send {
    fn name(&self) -> &'static str;
    fn take_dirty(&mut self) -> Result<DirtyRows, serde_json::Error>;
    fn load(&mut self, key: &str, bytes: &[u8]) -> Result<(), serde_json::Error>;
    fn clear_all(&mut self);
    fn dump(&self) -> serde_json::Value;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Record> AnyTable for Table<T> {
    fn name(&self) -> &'static str {
        T::TABLE
    }

    fn take_dirty(&mut self) -> Result<DirtyRows, serde_json::Error> {
        let keys = std::mem::take(&mut self.dirty);
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let bytes = match self.rows.get(&k) {
                Some(v) => Some(serde_json::to_vec(v)?),
                None => None,
            };
            out.push((k, bytes));
        }
        Ok(out)
    }

    fn load(&mut self, key: &str, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let v: T = serde_json::from_slice(bytes)?;
        self.rows.insert(key.to_owned(), v);
        Ok(())
    }

    fn clear_all(&mut self) {
        let keys: Vec<String> = self.rows.keys().cloned().collect();
        self.rows.clear();
        self.dirty.extend(keys);
    }

    fn dump(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .rows
            .iter()
            .map(|(k, v)| (k.clone(), v.dump()))
            .collect();
        serde_json::Value::Object(map)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
