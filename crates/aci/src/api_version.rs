//! Container Instances api-versions, and which one a request needs.
//!
//! `encryptionProperties` exists from 2019-12-01; `encryptionProperties.identity` from
//! 2022-09-01. A client pinned to an older version than a body needs is refused before any
//! request ([`crate::Error::ApiVersionTooOld`]).

use std::{cmp::Ordering, fmt, str::FromStr};

/// An ARM api-version: a date, optionally with a `-preview` suffix. Ordered by date; a preview
/// sorts before the stable version of the same date.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    text: String,
    date: (u16, u8, u8),
    preview: bool,
}

impl ApiVersion {
    /// The first version with `encryptionProperties`.
    pub const MIN_FOR_ENCRYPTION: &'static str = "2019-12-01";
    /// The first version with `encryptionProperties.identity`.
    pub const MIN_FOR_ENCRYPTION_IDENTITY: &'static str = "2022-09-01";
    /// The version our client uses unless pinned: the one the Python SDK sends, which has every
    /// field this SDK uses.
    pub const DEFAULT: &'static str = "2023-05-01";

    /// The string form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn known(s: &'static str) -> Self {
        s.parse()
            .unwrap_or_else(|_| unreachable!("built-in api-version {s} parses"))
    }

    /// The default version.
    pub fn default_version() -> Self {
        Self::known(Self::DEFAULT)
    }

    /// The first version with `encryptionProperties`.
    pub fn min_for_encryption() -> Self {
        Self::known(Self::MIN_FOR_ENCRYPTION)
    }

    /// The first version with `encryptionProperties.identity`.
    pub fn min_for_encryption_identity() -> Self {
        Self::known(Self::MIN_FOR_ENCRYPTION_IDENTITY)
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self::default_version()
    }
}

/// Why a string is not an api-version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("api-version {0:?} is not of the form YYYY-MM-DD or YYYY-MM-DD-preview")]
pub struct ApiVersionError(pub String);

impl FromStr for ApiVersion {
    type Err = ApiVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ApiVersionError(s.to_owned());
        let (date, preview) = match s.split_once("-preview") {
            Some((date, "")) => (date, true),
            Some(_) => return Err(err()),
            None => (s, false),
        };
        let mut parts = date.split('-');
        let mut next = |len: usize| {
            parts
                .next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(err)
        };
        let (year, month, day) = (next(4)?, next(2)?, next(2)?);
        if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(err());
        }
        Ok(Self {
            text: s.to_owned(),
            date: (year, month as u8, day as u8),
            preview,
        })
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // Stable after preview of the same date.
        (self.date, !self.preview).cmp(&(other.date, !other.preview))
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v = |s: &str| s.parse::<ApiVersion>().expect(s);
        assert!(v("2019-12-01") < v("2022-09-01"));
        assert!(v("2022-10-01-preview") > v("2022-09-01"));
        assert!(v("2023-05-01-preview") < v("2023-05-01"));
        assert_eq!(v("2025-09-01").as_str(), "2025-09-01");
        for bad in [
            "",
            "2019-12",
            "2019-13-01",
            "19-12-01",
            "2019-12-01-beta",
            "2019-12-01-preview-x",
            "2019-1-01",
        ] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad}");
        }
    }
}
