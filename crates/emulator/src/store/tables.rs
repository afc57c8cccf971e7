//! [`Tables`]: every registered table, looked up by record type; [`Schema`]: the list of
//! tables each service registers at start-up.

use std::collections::BTreeMap;

use super::table::{AnyTable, DirtyRows, Record, Table};

/// The tables to create, as each service registers them (see the router's `schema`).
#[derive(Default)]
pub struct Schema {
    makers: Vec<fn() -> Box<dyn AnyTable>>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("tables", &self.makers.len())
            .finish()
    }
}

impl Schema {
    /// Registers the table of record type `T`.
    pub fn table<T: Record>(&mut self) -> &mut Self {
        self.makers
            .push(|| Box::new(Table::<T>::default()) as Box<dyn AnyTable>);
        self
    }

    pub(crate) fn build(&self) -> Tables {
        let tables = self
            .makers
            .iter()
            .map(|make| {
                let t = make();
                (t.name(), t)
            })
            .collect();
        Tables { tables }
    }
}

/// Every table of the emulator's state, by name; typed access by record type.
pub struct Tables {
    tables: BTreeMap<&'static str, Box<dyn AnyTable>>,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tables.keys()).finish()
    }
}

/// A table was used that no service registered: a bug in the router's schema, found by the
/// first test that touches the table.
fn unregistered(name: &str) -> String {
    format!("table `{name}` is not registered in the router's schema")
}

impl Tables {
    /// The table of record type `T`.
    pub fn table<T: Record>(&self) -> &Table<T> {
        self.tables
            .get(T::TABLE)
            .and_then(|t| t.as_any().downcast_ref::<Table<T>>())
            .unwrap_or_else(|| panic!("{}", unregistered(T::TABLE)))
    }

    /// The table of record type `T`, for modification.
    pub fn table_mut<T: Record>(&mut self) -> &mut Table<T> {
        self.tables
            .get_mut(T::TABLE)
            .and_then(|t| t.as_any_mut().downcast_mut::<Table<T>>())
            .unwrap_or_else(|| panic!("{}", unregistered(T::TABLE)))
    }

    pub(crate) fn all_mut(&mut self) -> impl Iterator<Item = &mut Box<dyn AnyTable>> {
        self.tables.values_mut()
    }

    /// Every touched row of every table, as it is now: `(table, rows)` for tables with changes.
    pub(crate) fn pending(&self) -> Result<Vec<(&'static str, DirtyRows)>, serde_json::Error> {
        let mut out = Vec::new();
        for (name, t) in &self.tables {
            let rows = t.pending()?;
            if !rows.is_empty() {
                out.push((*name, rows));
            }
        }
        Ok(out)
    }

    /// Whether any row was touched since the last commit.
    pub(crate) fn has_pending(&self) -> bool {
        self.tables.values().any(|t| t.has_pending())
    }

    /// Commits in memory: every table forgets its values from before.
    pub(crate) fn settle(&mut self) {
        self.tables.values_mut().for_each(|t| t.settle());
    }

    /// Every touched row of every table gets its value from before.
    pub(crate) fn roll_back(&mut self) {
        self.tables.values_mut().for_each(|t| t.roll_back());
    }

    /// Serialises every table for the admin dump (secrets redacted).
    pub fn dump(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .tables
            .iter()
            .map(|(name, t)| ((*name).to_owned(), t.dump()))
            .collect();
        serde_json::Value::Object(map)
    }
}
