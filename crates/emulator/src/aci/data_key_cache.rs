//! [`DataKeyCache`]: the unwrapped data keys of container groups with a customer-managed key,
//! so a read does not unwrap through the vault (an RSA private-key operation) every time. An
//! entry is used only while nothing it depends on can have changed: the store's write
//! generation is the one it was filled at (any write — a key version disabled or deleted, an
//! access policy or role removed, the firewall, an identity, a move of the clock — makes every
//! entry stale), and the key version is inside its `nbf`/`exp` now. Crypto-shredding therefore
//! stays immediate.

use std::collections::HashMap;
use std::sync::Mutex;

use super::sealing::DataKey;

/// The most entries kept; beyond it the cache starts over (it is only a cache).
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    wrapped: String,
    key: DataKey,
    generation: u64,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
}

/// Unwrapped data keys by container group.
#[derive(Default)]
pub struct DataKeyCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for DataKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("DataKeyCache").field("entries", &n).finish()
    }
}

/// When an unwrapped data key may be used: the store generation it was derived at and the key
/// version's validity (unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    /// The store's write generation, read before the key was unwrapped.
    pub generation: u64,
    /// The key version's `nbf`.
    pub valid_from: Option<i64>,
    /// The key version's `exp`.
    pub valid_until: Option<i64>,
}

impl DataKeyCache {
    /// The data key of `group` (wrapped as `wrapped`), if it was unwrapped at `generation` and
    /// its key version is valid at `now`.
    pub fn get(&self, group: &str, wrapped: &str, generation: u64, now: i64) -> Option<DataKey> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(group)?;
        let valid = e.wrapped == wrapped
            && e.generation == generation
            && e.valid_from.is_none_or(|nbf| now >= nbf)
            && e.valid_until.is_none_or(|exp| now < exp);
        valid.then(|| e.key.duplicate())
    }

    /// Keeps `key` for `group`.
    pub fn put(&self, group: &str, wrapped: &str, key: &DataKey, validity: Validity) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            group.to_owned(),
            Entry {
                wrapped: wrapped.to_owned(),
                key: key.duplicate(),
                generation: validity.generation,
                valid_from: validity.valid_from,
                valid_until: validity.valid_until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validity(generation: u64, exp: Option<i64>) -> Validity {
        Validity {
            generation,
            valid_from: Some(100),
            valid_until: exp,
        }
    }

    #[test]
    fn an_entry_serves_only_its_generation_wrapping_and_validity() {
        let cache = DataKeyCache::default();
        let key = DataKey::generate().expect("key");
        cache.put("g1", "w1", &key, validity(7, Some(1_000)));
        let hit = cache.get("g1", "w1", 7, 500).expect("a hit");
        assert_eq!(hit.bytes(), key.bytes());
        assert!(cache.get("g1", "w1", 8, 500).is_none(), "a write since");
        assert!(cache.get("g1", "w2", 7, 500).is_none(), "re-wrapped");
        assert!(cache.get("g1", "w1", 7, 1_000).is_none(), "expired");
        assert!(cache.get("g1", "w1", 7, 99).is_none(), "not yet valid");
        assert!(cache.get("g2", "w1", 7, 500).is_none(), "another group");
        assert!(
            !format!("{cache:?}").contains("DataKey("),
            "no key in Debug"
        );
    }
}
