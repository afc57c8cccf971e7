//! The request log served by the admin API: no tokens, secrets, query strings or bodies.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Entries kept (oldest dropped first).
pub const MAX_ENTRIES: usize = 10_000;

/// One logged request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    /// RFC 3339 time the response was produced.
    pub time: String,
    /// `arm`, `graph`, `keyvault`, `token` or `msi`.
    pub service: String,
    /// HTTP method.
    pub method: String,
    /// Host as addressed.
    pub host: String,
    /// Path without the query string.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Object id of the authenticated caller, when there was one.
    pub caller_oid: Option<String>,
    /// Time spent, in milliseconds.
    pub duration_ms: f64,
    /// The injected fault, if any.
    pub fault: Option<String>,
}

/// Bounded in-memory request log.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LogEntry>>,
}

impl RequestLog {
    /// Appends an entry.
    pub fn push(&self, e: LogEntry) {
        let mut g = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_ENTRIES {
            g.pop_front();
        }
        g.push_back(e);
    }

    /// A copy of every entry, oldest first.
    pub fn snapshot(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
