//! The api-versions of Microsoft.KeyVault (vaults, deleted vaults, name availability, access
//! policies and the managed-HSM paths the emulator answers), read 2026-12-02 from the version
//! folders of Azure/azure-rest-api-specs
//! `specification/keyvault/resource-manager/Microsoft.KeyVault/{stable,preview}` and the newer
//! `…/Microsoft.KeyVault/KeyVault/{stable,preview}` with their `readme.md` tags: every folder
//! whose `keyvault.json` (or, from 2025-05-01 on, `openapi.json`) defines
//! `Microsoft.KeyVault/vaults`.
//!
//! Every file defines the vaults, but the oldest not every path (2015-06-01 has no deleted
//! vaults); the emulator accepts each version on every Microsoft.KeyVault path rather than
//! tell the paths apart version by version. 2023-08-01-preview, which the emulator used to
//! accept, has no folder in the specs and is refused.

/// Microsoft.KeyVault api-versions, sorted (byte order), each once.
pub const VAULTS: &[&str] = &[
    "2015-06-01",
    "2016-10-01",
    "2018-02-14",
    "2018-02-14-preview",
    "2019-09-01",
    "2020-04-01-preview",
    "2021-04-01-preview",
    "2021-06-01-preview",
    "2021-10-01",
    "2021-11-01-preview",
    "2022-02-01-preview",
    "2022-07-01",
    "2022-11-01",
    "2023-02-01",
    "2023-07-01",
    "2024-04-01-preview",
    "2024-11-01",
    "2024-12-01-preview",
    "2025-05-01",
    "2026-02-01",
    "2026-03-01-preview",
    "2026-04-01",
    "2026-04-01-preview",
    "2026-05-15",
];

#[cfg(test)]
mod tests {
    use crate::arm::api_versions::{assert_sorted_unique, is_date_version};

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert_sorted_unique("VAULTS", super::VAULTS);
        assert!(super::VAULTS.iter().all(|v| is_date_version(v)));
    }
}
