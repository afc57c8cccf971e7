//! The shared state store: the tables every service registers, behind one mutex, optionally
//! backed by redb.
//!
//! Each service keeps its records in a [`Table`] it registers with [`Schema::table`]. A write
//! is a transaction: [`Store::try_write`]'s closure mutates the tables, each table remembers the
//! rows it touched and their values from before, and then
//! - the closure returned `Ok`: before its result is handed back (and so before the HTTP
//!   response is sent) the touched rows are written to redb in **one** write transaction, so a
//!   crash never loses an acknowledged write;
//! - the closure returned `Err` (a refused request), panicked, or redb failed: every touched row
//!   gets its value from before, in memory and so on disk — a refused request changes nothing.
//!
//! [`Store::write`] is the same for a closure that cannot refuse. Without a state directory the
//! store is purely in memory. The store knows no service: the router's schema lists the tables.

mod table;
mod tables;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::EmulatorError;

pub use self::table::Record;
pub use self::tables::{Schema, Tables};

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

impl From<StoreError> for EmulatorError {
    fn from(e: StoreError) -> Self {
        EmulatorError::Store(e.to_string())
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The state store shared by every service: a mutex around [`Tables`] plus an optional redb file.
pub struct Store {
    state: Mutex<Tables>,
    db: Option<redb::Database>,
    /// Bumped by every commit that changed a row: what a cache of derived values (an
    /// unwrapped data key) checks to know that nothing it depends on changed.
    generation: std::sync::atomic::AtomicU64,
    /// The same number, published after each such commit for those who wait on a write
    /// ([`Store::watch_writes`]); the atomic stays the cheap read of the hot path.
    writes: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("persistent", &self.db.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An in-memory store with the tables of `schema`.
    pub fn in_memory(schema: &Schema) -> Self {
        Self {
            state: Mutex::new(schema.build()),
            db: None,
            generation: std::sync::atomic::AtomicU64::new(0),
            writes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Opens (or creates) `state.redb` in `dir` and loads every table of `schema`.
    pub fn open(dir: &Path, schema: &Schema) -> Result<Self, EmulatorError> {
        let path = dir.join("state.redb");
        let db = redb::Database::create(&path)
            .map_err(|e| EmulatorError::Store(format!("open {}: {e}", path.display())))?;
        crate::files::restrict_permissions(&path)?;
        let mut state = schema.build();
        {
            let rtx = db
                .begin_read()
                .map_err(|e| EmulatorError::Store(e.to_string()))?;
            for table in state.all_mut() {
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
            generation: std::sync::atomic::AtomicU64::new(0),
            writes: tokio::sync::watch::Sender::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a torn row behind (rows are replaced
        // whole), so a poisoned mutex is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a read-only closure against the state.
    pub fn read<R>(&self, f: impl FnOnce(&Tables) -> R) -> R {
        let guard = self.lock();
        f(&guard)
    }

    /// Runs a mutating closure that cannot refuse and commits every row it touched in one
    /// transaction (a closure that returns a `Result` goes through [`Store::try_write`]).
    pub fn write<R>(&self, f: impl FnOnce(&mut Tables) -> R) -> Result<R, StoreError> {
        debug_assert!(
            !std::any::type_name::<R>().starts_with("core::result::Result<"),
            "a write whose closure can refuse goes through try_write, which rolls a refusal back"
        );
        let mut guard = self.lock();
        let out = run_or_roll_back(&mut guard, f);
        self.commit(&mut guard)?;
        Ok(out)
    }

    /// Runs a mutating closure: on `Ok` every row it touched is committed in one transaction, on
    /// `Err` every row it touched gets its value from before (nothing of a refused request is
    /// kept, in memory or on disk).
    pub fn try_write<T, E>(
        &self,
        f: impl FnOnce(&mut Tables) -> Result<T, E>,
    ) -> Result<Result<T, E>, StoreError> {
        let mut guard = self.lock();
        let out = run_or_roll_back(&mut guard, f);
        if out.is_err() {
            guard.roll_back();
            return Ok(out);
        }
        self.commit(&mut guard)?;
        Ok(out)
    }

    /// Clears every table, then runs `seed`, all in one transaction.
    pub fn reset(&self, seed: impl FnOnce(&mut Tables)) -> Result<(), StoreError> {
        let mut guard = self.lock();
        for t in guard.all_mut() {
            t.clear_all();
        }
        seed(&mut guard);
        self.commit(&mut guard)
    }

    /// Persists the touched rows; when that fails they are rolled back, so memory and disk
    /// agree.
    fn commit(&self, state: &mut Tables) -> Result<(), StoreError> {
        let changed = state.has_pending();
        let written = self.persist(state);
        match &written {
            Ok(()) => {
                state.settle();
                if changed {
                    let generation = self
                        .generation
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                        + 1;
                    // Still under the state lock, so the published numbers only grow.
                    self.writes.send_replace(generation);
                }
            }
            Err(_) => state.roll_back(),
        }
        written
    }

    /// The number of committed writes that changed something (read it before deriving a value
    /// from the state; the value is current while the number has not moved).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Follows [`Store::generation`]: the receiver sees the number of committed writes that
    /// changed something, and is woken after each one (its rows are visible by then).
    pub fn watch_writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.writes.subscribe()
    }

    fn persist(&self, state: &Tables) -> Result<(), StoreError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        let changes = state.pending()?;
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

/// Runs `f`; if it panics, the rows it touched get their values from before and the panic goes
/// on (so a panicking handler leaves nothing half-written behind).
fn run_or_roll_back<R>(state: &mut Tables, f: impl FnOnce(&mut Tables) -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *state))) {
        Ok(out) => out,
        Err(panic) => {
            state.roll_back();
            std::panic::resume_unwind(panic)
        }
    }
}

#[cfg(test)]
mod tests;
