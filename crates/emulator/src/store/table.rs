//! One table of records: [`Record`] (what a row is), [`Table`] (rows by key, with each row's value
//! before the write in progress touched it) and [`AnyTable`], the object-safe view the store
//! persists and rolls back.

use std::any::Any;
use std::collections::BTreeMap;

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

/// One table of rows keyed by a string. Every row touched since the last commit keeps its value
/// from before (`None`: it did not exist), so the write can be committed (those rows persisted)
/// or rolled back (those values restored).
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: BTreeMap<String, T>,
    before: BTreeMap<String, Option<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            before: BTreeMap::new(),
        }
    }
}

impl<T: Record> Table<T> {
    /// Remembers `key`'s value before its first change in this write.
    fn touch(&mut self, key: &str) {
        if !self.before.contains_key(key) {
            self.before
                .insert(key.to_owned(), self.rows.get(key).cloned());
        }
    }

    /// Returns the row stored under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.rows.get(key)
    }

    /// Returns the row stored under `key` for modification (the row is persisted on commit).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        if !self.rows.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.rows.get_mut(key)
    }

    /// Inserts or replaces a row.
    pub fn insert(&mut self, key: impl Into<String>, value: T) -> Option<T> {
        let key = key.into();
        self.touch(&key);
        self.rows.insert(key, value)
    }

    /// Removes a row.
    pub fn remove(&mut self, key: &str) -> Option<T> {
        if !self.rows.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.rows.remove(key)
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
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.values()
    }

    /// Iterates over `(key, row)` in key order from the first key after `after` (all rows for
    /// `None`), without visiting the rows before it.
    pub fn after(&self, after: Option<&str>) -> impl Iterator<Item = (&String, &T)> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, |k| Bound::Excluded(k.to_owned()));
        self.rows.range((from, Bound::Unbounded))
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
    /// The rows touched since the last commit, as they are now.
    fn pending(&self) -> Result<DirtyRows, serde_json::Error>;
    /// Whether a row was touched since the last commit.
    fn has_pending(&self) -> bool;
    /// Forgets the values from before: the touched rows are committed.
    fn settle(&mut self);
    /// Restores every row touched since the last commit to its value from before.
    fn roll_back(&mut self);
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

    fn pending(&self) -> Result<DirtyRows, serde_json::Error> {
        let mut out = Vec::with_capacity(self.before.len());
        for k in self.before.keys() {
            let bytes = match self.rows.get(k) {
                Some(v) => Some(serde_json::to_vec(v)?),
                None => None,
            };
            out.push((k.clone(), bytes));
        }
        Ok(out)
    }

    fn has_pending(&self) -> bool {
        !self.before.is_empty()
    }

    fn settle(&mut self) {
        self.before.clear();
    }

    fn roll_back(&mut self) {
        for (k, old) in std::mem::take(&mut self.before) {
            match old {
                Some(v) => self.rows.insert(k, v),
                None => self.rows.remove(&k),
            };
        }
    }

    fn load(&mut self, key: &str, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let v: T = serde_json::from_slice(bytes)?;
        self.rows.insert(key.to_owned(), v);
        Ok(())
    }

    fn clear_all(&mut self) {
        for (k, v) in std::mem::take(&mut self.rows) {
            self.before.entry(k).or_insert(Some(v));
        }
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
