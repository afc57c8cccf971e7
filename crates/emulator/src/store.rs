//! The shared state store: typed in-memory tables, optionally backed by redb.
//!
//! Every service module keeps its records in a [`Table`] of [`State`]. A write goes through
//! [`Store::write`]: the closure mutates the tables, every touched row is marked dirty, and
//! before the closure's result is handed back (and so before the HTTP response is sent) the
//! dirty rows are written to redb in **one** write transaction. A crash therefore never loses an
//! acknowledged write. Without a state directory the store is purely in memory.
//!
//! To add a table (issue 4: container groups, deployments), add a line to the `tables!`
//! invocation below and implement [`Record`] for the row type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::EmulatorError;

/// A row type kept in a [`Table`].
pub trait Record: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// The row as it appears in the admin dump. Override to redact secrets and key material.
    fn dump(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// One table of rows keyed by a string, remembering which rows changed since the last commit.
#[derive(Debug, Clone)]
pub struct Table<T> {
    name: &'static str,
    rows: BTreeMap<String, T>,
    dirty: BTreeSet<String>,
}

impl<T: Record> Table<T> {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            rows: BTreeMap::new(),
            dirty: BTreeSet::new(),
        }
    }

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

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Rows changed since the last commit: key and new bytes (`None` = deleted).
type DirtyRows = Vec<(String, Option<Vec<u8>>)>;

/// Object-safe view of a table used by the persistence layer.
trait AnyTable {
    fn name(&self) -> &'static str;
    fn take_dirty(&mut self) -> Result<DirtyRows, serde_json::Error>;
    fn load(&mut self, key: &str, bytes: &[u8]) -> Result<(), serde_json::Error>;
    fn clear_all(&mut self);
    fn dump(&self) -> serde_json::Value;
}

impl<T: Record> AnyTable for Table<T> {
    fn name(&self) -> &'static str {
        self.name
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
}

macro_rules! tables {
    ($($(#[$doc:meta])* $field:ident : $ty:ty),* $(,)?) => {
        /// Every table of the emulator's state.
        #[derive(Debug, Clone)]
        pub struct State {
            $($(#[$doc])* pub $field: Table<$ty>,)*
        }

        impl State {
            fn empty() -> Self {
                Self { $($field: Table::new(stringify!($field)),)* }
            }

            fn tables_mut(&mut self) -> Vec<&mut dyn AnyTable> {
                vec![$(&mut self.$field as &mut dyn AnyTable),*]
            }

            fn tables(&self) -> Vec<&dyn AnyTable> {
                vec![$(&self.$field as &dyn AnyTable),*]
            }
        }
    };
}

tables! {
    /// Emulator settings that must survive a restart (tenant, subscription, deployer, …).
    meta: crate::config::PersistedConfig,
    /// Applications registered in the tenant (and known first-party applications), by appId.
    applications: crate::directory::Application,
    /// Service principals (including managed identities' principals), by object id.
    principals: crate::directory::Principal,
    /// Subscriptions, by lowercase id.
    subscriptions: crate::arm::resources::Subscription,
    /// Resource groups, by `{subscription}/{lowercase name}`.
    resource_groups: crate::arm::resources::ResourceGroup,
    /// Key vaults (live and soft-deleted), by lowercase vault name.
    vaults: crate::keyvault::mgmt::Vault,
    /// Keys with all their versions, by `{vault}/{key}` lowercase.
    keys: crate::keyvault::data::KeyRecord,
    /// User-assigned managed identities, by lowercase ARM id.
    identities: crate::arm::identity::UserAssignedIdentity,
    /// Role assignments, by lowercase ARM id.
    role_assignments: crate::arm::authorization::RoleAssignment,
    /// Long-running operations, by id.
    operations: crate::arm::lro::Operation,
    /// Template deployments, by `{subscription}/{group}/{name}` lowercase.
    deployments: crate::arm::deployments::Deployment,
    /// Container groups, by lowercase ARM id (secrets sealed under each group's data key).
    container_groups: crate::aci::ContainerGroupRecord,
    /// The emulator's service-managed key for groups without a customer-managed key.
    aci_service_key: crate::aci::ServiceKey,
}

impl State {
    /// Serialises every table for the admin dump (secrets redacted).
    pub fn dump(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .tables()
            .into_iter()
            .map(|t| (t.name().to_owned(), t.dump()))
            .collect();
        serde_json::Value::Object(map)
    }
}

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The redb database failed.
    #[error("state database error: {0}")]
    Db(String),
    /// A row could not be (de)serialised.
    #[error("state serialisation error: {0}")]
    Serde(#[from] serde_json::Error),
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The state store shared by every service: a mutex around [`State`] plus an optional redb file.
pub struct Store {
    state: Mutex<State>,
    db: Option<redb::Database>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("persistent", &self.db.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An in-memory store.
    pub fn in_memory() -> Self {
        Self {
            state: Mutex::new(State::empty()),
            db: None,
        }
    }

    /// Opens (or creates) `state.redb` in `dir` and loads every table.
    pub fn open(dir: &Path) -> Result<Self, EmulatorError> {
        let path = dir.join("state.redb");
        let db = redb::Database::create(&path)
            .map_err(|e| EmulatorError::Store(format!("open {}: {e}", path.display())))?;
        crate::tls::restrict_permissions(&path)?;
        let mut state = State::empty();
        {
            let rtx = db
                .begin_read()
                .map_err(|e| EmulatorError::Store(e.to_string()))?;
            for table in state.tables_mut() {
                let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new(table.name());
                let t = match rtx.open_table(def) {
                    Ok(t) => t,
                    Err(redb::TableError::TableDoesNotExist(_)) => continue,
                    Err(e) => return Err(EmulatorError::Store(e.to_string())),
                };
                let iter = t.iter().map_err(|e| EmulatorError::Store(e.to_string()))?;
                for row in iter {
                    let (k, v) = row.map_err(|e| EmulatorError::Store(e.to_string()))?;
                    table.load(k.value(), v.value()).map_err(|e| {
                        EmulatorError::Store(format!("table {}: {e}", table.name()))
                    })?;
                }
            }
        }
        Ok(Self {
            state: Mutex::new(state),
            db: Some(db),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a torn row behind (rows are replaced
        // whole), so a poisoned mutex is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a read-only closure against the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let guard = self.lock();
        f(&guard)
    }

    /// Runs a mutating closure and commits every row it touched in one transaction.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R, StoreError> {
        let mut guard = self.lock();
        let out = f(&mut guard);
        self.commit(&mut guard)?;
        Ok(out)
    }

    /// Clears every table, then runs `seed`, all in one transaction.
    pub fn reset(&self, seed: impl FnOnce(&mut State)) -> Result<(), StoreError> {
        let mut guard = self.lock();
        for t in guard.tables_mut() {
            t.clear_all();
        }
        seed(&mut guard);
        self.commit(&mut guard)
    }

    fn commit(&self, state: &mut State) -> Result<(), StoreError> {
        let mut changes = Vec::new();
        for t in state.tables_mut() {
            let dirty = t.take_dirty()?;
            if !dirty.is_empty() {
                changes.push((t.name(), dirty));
            }
        }
        let Some(db) = &self.db else {
            return Ok(());
        };
        if changes.is_empty() {
            return Ok(());
        }
        let tx = db.begin_write().map_err(db_err)?;
        for (name, rows) in changes {
            let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new(name);
            let mut table = tx.open_table(def).map_err(db_err)?;
            for (k, v) in rows {
                match v {
                    Some(bytes) => {
                        table.insert(k.as_str(), bytes.as_slice()).map_err(db_err)?;
                    }
                    None => {
                        table.remove(k.as_str()).map_err(db_err)?;
                    }
                }
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(())
    }
}
