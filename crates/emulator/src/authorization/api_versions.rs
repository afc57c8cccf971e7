//! The api-versions of role assignments and role definitions, read 2026-12-02 from the version
//! folders of Azure/azure-rest-api-specs
//! `specification/authorization/resource-manager/Microsoft.Authorization/{stable,preview}` and
//! the newer `…/Microsoft.Authorization/Authorization/{stable,preview}` with their
//! `readme.md` tags. The two types come from different files, so their version sets differ:
//! a folder counts for role assignments when it holds `authorization-RoleAssignmentsCalls.json`
//! and for role definitions when it holds `authorization-RoleDefinitionsCalls.json`.

/// Role-assignment api-versions (`authorization-RoleAssignmentsCalls.json`), sorted (byte
/// order), each once. `preview/2022-01-01-preview` is in the old layout only and in no readme
/// tag read, but holds that file.
pub const ROLE_ASSIGNMENTS: &[&str] = &[
    "2015-07-01",
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];

/// Role-definition api-versions (`authorization-RoleDefinitionsCalls.json`), sorted (byte
/// order), each once; the newest readme tag (package-2025-12-01-preview) still takes role
/// definitions from 2022-05-01-preview.
pub const ROLE_DEFINITIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

#[cfg(test)]
mod tests {
    use crate::arm::api_versions::{assert_sorted_unique, is_date_version};

    #[test]
    fn the_lists_are_sorted_unique_and_well_formed() {
        for (name, list) in [
            ("ROLE_ASSIGNMENTS", super::ROLE_ASSIGNMENTS),
            ("ROLE_DEFINITIONS", super::ROLE_DEFINITIONS),
        ] {
            assert_sorted_unique(name, list);
            assert!(list.iter().all(|v| is_date_version(v)), "{name}");
        }
    }
}
