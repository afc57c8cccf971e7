//! The api-versions of `Microsoft.ContainerInstance/containerGroups`, read 2026-12-02 from the
//! version folders of Azure/azure-rest-api-specs
//! `specification/containerinstance/resource-manager/Microsoft.ContainerInstance/{stable,preview}`
//! and the newer `…/Microsoft.ContainerInstance/ContainerInstance/{stable,preview}` with their
//! `readme.md` tags: every folder holds a `containerInstance.json` that defines container
//! groups. Versions before 2019-12-01 are served too: the encryption rules ([`super::cmk`])
//! refuse a customer-managed key in them with a clear error, as ACI does.

/// Container-group api-versions, sorted (byte order), each once.
pub const CONTAINER_GROUPS: &[&str] = &[
    "2017-08-01-preview",
    "2017-10-01-preview",
    "2017-12-01-preview",
    "2018-02-01-preview",
    "2018-04-01",
    "2018-06-01",
    "2018-09-01",
    "2018-10-01",
    "2019-12-01",
    "2020-11-01",
    "2021-03-01",
    "2021-07-01",
    "2021-09-01",
    "2021-10-01",
    "2022-09-01",
    "2022-10-01-preview",
    "2023-02-01-preview",
    "2023-05-01",
    "2024-05-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-11-01-preview",
    "2025-09-01",
    "2026-05-01",
    "2026-06-01-preview",
];

#[cfg(test)]
mod tests {
    use crate::arm::api_versions::{assert_sorted_unique, is_date_version};

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert_sorted_unique("CONTAINER_GROUPS", super::CONTAINER_GROUPS);
        assert!(super::CONTAINER_GROUPS.iter().all(|v| is_date_version(v)));
    }
}
