//! The api-versions of the Key Vault keys data plane, read 2026-12-02 from the version folders
//! of Azure/azure-rest-api-specs `specification/keyvault/data-plane/Microsoft.KeyVault/{stable,preview}`
//! (whose `readme.md` tags and `info.version` give the versions: the preview folders `7.0` and
//! `7.1` are the api-versions `7.0-preview` and `7.1-preview`) and the newer
//! `specification/keyvault/data-plane/Keys/{stable,preview}`: every folder that holds a
//! `keys.json` (or, for 2015-06-01, 2016-10-01 and 7.0, the single `keyvault.json` that
//! defines the keys).
//!
//! The list is sorted in byte order, so the date-named versions (2015-06-01, 2016-10-01,
//! 2025-06-01-preview …) come before the `7.x` ones.

/// Data-plane api-versions, sorted (byte order), each once.
pub const KEYS: &[&str] = &[
    "2015-06-01",
    "2016-10-01",
    "2025-06-01-preview",
    "2025-07-01",
    "2025-07-01-preview",
    "2026-01-01-preview",
    "2026-03-01-preview",
    "2026-04-01",
    "2026-05-01-preview",
    "2026-07-01-preview",
    "7.0",
    "7.0-preview",
    "7.1",
    "7.1-preview",
    "7.2",
    "7.2-preview",
    "7.3",
    "7.3-preview",
    "7.4",
    "7.4-preview.1",
    "7.5",
    "7.5-preview.1",
    "7.6",
    "7.6-preview.1",
    "7.6-preview.2",
];

/// The newest stable version, which Key Vault's refusal of an unknown version recommends.
pub const LATEST_STABLE: &str = "2026-04-01";

#[cfg(test)]
mod tests {
    use super::{KEYS, LATEST_STABLE};
    use crate::arm::api_versions::{assert_sorted_unique, is_date_version};

    fn is_numbered(v: &str) -> bool {
        let (number, suffix) = v.split_once('-').unwrap_or((v, ""));
        number.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }) && (suffix.is_empty() || suffix == "preview" || suffix.starts_with("preview."))
    }

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert_sorted_unique("KEYS", KEYS);
        for v in KEYS {
            assert!(is_date_version(v) || is_numbered(v), "'{v}'");
        }
    }

    #[test]
    fn the_latest_stable_version_is_the_newest_dated_one_without_a_suffix() {
        let newest = KEYS
            .iter()
            .copied()
            .filter(|v| is_date_version(v) && v.len() == 10)
            .max();
        assert_eq!(newest, Some(LATEST_STABLE));
    }
}
