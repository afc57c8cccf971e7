//! The api-versions of `Microsoft.ManagedIdentity/userAssignedIdentities`, read 2026-12-02
//! from the version folders of Azure/azure-rest-api-specs
//! `specification/msi/resource-manager/Microsoft.ManagedIdentity/{stable,preview}` and the newer
//! `…/Microsoft.ManagedIdentity/ManagedIdentity/{stable,preview}` with their `readme.md` tags:
//! every folder holds a `ManagedIdentity.json` that defines user-assigned identities.

/// User-assigned identity api-versions, sorted (byte order), each once.
pub const USER_ASSIGNED_IDENTITIES: &[&str] = &[
    "2015-08-31-preview",
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
    "2026-04-30",
    "2026-05-31",
];

#[cfg(test)]
mod tests {
    use crate::arm::api_versions::{assert_sorted_unique, is_date_version};

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert_sorted_unique("USER_ASSIGNED_IDENTITIES", super::USER_ASSIGNED_IDENTITIES);
        assert!(
            super::USER_ASSIGNED_IDENTITIES
                .iter()
                .all(|v| is_date_version(v))
        );
    }
}
