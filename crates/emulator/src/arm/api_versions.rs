//! The api-versions of the Microsoft.Resources types the emulator serves, one list per swagger
//! file, each the version folders of Azure/azure-rest-api-specs that hold that file (read
//! 2026-12-02 from `specification/resources/resource-manager/Microsoft.Resources/`: the
//! folders `stable/*` and `preview/*`, and the newer per-service folders `resources/`,
//! `deployments/` and `subscriptions/`, with their `readme.md` tags).
//!
//! A folder counts when it holds the file whose paths the emulator serves and the file's
//! `info.version` is the folder's name. Left out: `stable/2015-01-01` (its `resources.json`
//! defines only `/providers/Microsoft.Resources/operations`), `stable/2018-07-01` (a
//! `resources.json` whose `info.version` says 2018-05-01), `stable/2024-08-01` (data
//! boundaries only) and `preview/2025-08-01-preview` (the batch API only).
//!
//! Every list is sorted (byte order) and holds each version once; [`assert_sorted_unique`]
//! checks it in the tests of each service's list.

/// Versions of `resources.json`: resource groups (`…/resourcegroups[/{rg}]`), providers
/// (`…/providers[/{ns}[/register]]`) and the generic resource list (`…/resources`), which
/// every one of these files defines. `preview/2021-03-01-preview`, `preview/2021-04-01-preview`
/// and `stable/2022-01-01` are in the old layout only and in no readme tag, but hold a full
/// `resources.json` of their version.
pub const RESOURCES: &[&str] = &[
    "2015-11-01",
    "2016-02-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-03-01-preview",
    "2021-04-01",
    "2021-04-01-preview",
    "2022-01-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];

/// Resource groups: the versions of `resources.json`.
pub const RESOURCE_GROUPS: &[&str] = RESOURCES;

/// Providers (`GET …/providers[/{ns}]`, `POST …/register`): the versions of `resources.json`.
pub const PROVIDERS: &[&str] = RESOURCES;

/// The generic resource list (`…/resources`): the versions of `resources.json`.
pub const GENERIC_RESOURCES: &[&str] = RESOURCES;

/// Template deployments (`…/providers/Microsoft.Resources/deployments…` and the older
/// `…/resourcegroups/{rg}/deployments/{name}/operations`): every version of `resources.json`
/// (which defined deployments until they moved to their own file) and of `deployments.json`
/// (`stable/2015-11-01` … `stable/2025-04-01`, and `deployments/stable/2026-09-01`).
pub const DEPLOYMENTS: &[&str] = &[
    "2015-11-01",
    "2016-02-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-03-01-preview",
    "2021-04-01",
    "2021-04-01-preview",
    "2022-01-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
    "2026-09-01",
];

/// The first version whose spec defines `…/deployments/{name}/whatIf` (2019-07-01: its
/// `resources.json` and examples are the first with what-if at resource-group scope); what-if
/// accepts the [`DEPLOYMENTS`] versions from this one on ([`what_if`]).
pub const WHAT_IF_SINCE: &str = "2019-07-01";

/// The versions of [`DEPLOYMENTS`] that define what-if (those from [`WHAT_IF_SINCE`] on).
pub fn what_if() -> Vec<&'static str> {
    DEPLOYMENTS
        .iter()
        .copied()
        .filter(|v| *v >= WHAT_IF_SINCE)
        .collect()
}

/// Versions of `subscriptions.json`: subscriptions (`/subscriptions[/{sub}]`), tenants
/// (`/tenants`) and locations (`/subscriptions/{sub}/locations`), which every one of these
/// files defines. `preview/2021-04-01-preview` and `stable/2022-01-01` are in the old layout
/// only and in no readme tag, but hold a full `subscriptions.json` of their version.
pub const SUBSCRIPTIONS: &[&str] = &[
    "2015-11-01",
    "2016-06-01",
    "2018-06-01",
    "2019-06-01",
    "2019-11-01",
    "2020-01-01",
    "2021-01-01",
    "2021-04-01-preview",
    "2022-01-01",
    "2022-12-01",
];

/// Whether `v` looks like an ARM api-version: `YYYY-MM-DD`, optionally followed by a `-`
/// suffix such as `-preview` (used by the tests of every service's list).
#[cfg(test)]
pub fn is_date_version(v: &str) -> bool {
    let (date, suffix) = v.split_at(v.len().min(10));
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && (suffix.is_empty()
            || (suffix.starts_with('-')
                && suffix.len() > 1
                && suffix[1..]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.')))
}

/// Panics unless `list` is sorted in byte order and holds each version once (used by the
/// tests of every service's list).
#[cfg(test)]
pub fn assert_sorted_unique(name: &str, list: &[&str]) {
    assert!(!list.is_empty(), "{name} is empty");
    for w in list.windows(2) {
        assert!(
            w[0] < w[1],
            "{name}: '{}' must come before '{}', once",
            w[0],
            w[1]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_sorted_unique_and_well_formed() {
        for (name, list) in [
            ("RESOURCES", RESOURCES),
            ("DEPLOYMENTS", DEPLOYMENTS),
            ("SUBSCRIPTIONS", SUBSCRIPTIONS),
        ] {
            assert_sorted_unique(name, list);
            for v in list {
                assert!(is_date_version(v), "{name}: '{v}'");
            }
        }
        assert_sorted_unique("what_if()", &what_if());
    }

    #[test]
    fn deployments_cover_every_resources_version_and_what_if_starts_in_2019() {
        for v in RESOURCES {
            assert!(DEPLOYMENTS.contains(v), "{v}");
        }
        let w = what_if();
        assert_eq!(w.first(), Some(&WHAT_IF_SINCE));
        assert_eq!(w.last(), DEPLOYMENTS.last());
        assert!(!w.contains(&"2019-05-10"));
    }

    #[test]
    fn date_versions_are_recognised() {
        for good in [
            "2016-02-01",
            "2021-04-01-preview",
            "2024-11-01-privatepreview",
        ] {
            assert!(is_date_version(good), "{good}");
        }
        for bad in [
            "",
            "2016-2-01",
            "7.5",
            "2016-02-01-",
            "2016-02-01preview",
            "x016-02-01",
        ] {
            assert!(!is_date_version(bad), "{bad}");
        }
    }
}
