//! Which versions of a key can be used: enabled, inside their not-before and expiry times, and
//! permitting `unwrapKey`. The one judgement of `follow_latest`, its plan, retirement and the
//! posture audit.

use aci_cmk_core::names::KeyVersion;
use aci_cmk_keyvault::keys::{KeyOperation, KeyProperties};
use serde::Serialize;
use std::fmt;
use time::OffsetDateTime;

/// Why a key version cannot be used (ACI could not unwrap its data key with it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum Unusable {
    /// The version is disabled.
    Disabled,
    /// The version expired.
    Expired {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The version is not valid yet.
    NotYetValid {
        /// From when it is.
        #[serde(with = "time::serde::rfc3339")]
        from: OffsetDateTime,
    },
    /// Its permitted operations leave out `unwrapKey`.
    UnwrapNotPermitted {
        /// The operations it permits.
        key_ops: Vec<String>,
    },
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::Disabled => f.write_str("disabled"),
            Unusable::Expired { at } => write!(f, "expired at {at}"),
            Unusable::NotYetValid { from } => write!(f, "not valid before {from}"),
            Unusable::UnwrapNotPermitted { key_ops } => {
                write!(f, "permitted only {} (no unwrapKey)", key_ops.join(", "))
            }
        }
    }
}

/// Every reason `key` cannot be used at `now` (empty: it can). Key Vault refuses a version
/// once `exp <= now` and until `nbf <= now`.
pub fn unusable_reasons(key: &KeyProperties, now: OffsetDateTime) -> Vec<Unusable> {
    let mut reasons = Vec::new();
    if key.enabled == Some(false) {
        reasons.push(Unusable::Disabled);
    }
    if let Some(at) = key.expires.filter(|at| *at <= now) {
        reasons.push(Unusable::Expired { at });
    }
    if let Some(from) = key.not_before.filter(|from| *from > now) {
        reasons.push(Unusable::NotYetValid { from });
    }
    if !key.key_ops.is_empty() && !key.key_ops.contains(&KeyOperation::UnwrapKey) {
        reasons.push(Unusable::UnwrapNotPermitted {
            key_ops: key.key_ops.iter().map(|o| o.as_str().to_owned()).collect(),
        });
    }
    reasons
}

/// Whether `key` can be used at `now`: the first reason it cannot, if any.
pub(crate) fn usability(key: &KeyProperties, now: OffsetDateTime) -> Result<(), Unusable> {
    match unusable_reasons(key, now).into_iter().next() {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// A version newer than the one chosen, passed over because it cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PassedOver {
    /// The version.
    pub version: KeyVersion,
    /// Why.
    pub why: Unusable,
}

/// The newest usable version of `versions` (by creation time) and the newer ones passed over;
/// `None` when no version can be used.
pub(crate) fn newest_usable(
    versions: &[KeyProperties],
    now: OffsetDateTime,
) -> (Option<&KeyProperties>, Vec<PassedOver>) {
    let mut by_age: Vec<&KeyProperties> = versions.iter().collect();
    by_age.sort_by_key(|k| std::cmp::Reverse(k.created));
    let mut passed = Vec::new();
    for key in by_age {
        match usability(key, now) {
            Ok(()) => return (Some(key), passed),
            Err(why) => passed.push(PassedOver {
                version: key.version.clone(),
                why,
            }),
        }
    }
    (None, passed)
}

/// Whether `key` expires within `window` of `now` (and has not expired yet).
pub(crate) fn expires_within(
    key: &KeyProperties,
    now: OffsetDateTime,
    window: time::Duration,
) -> Option<OffsetDateTime> {
    key.expires.filter(|at| *at > now && *at <= now + window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aci_cmk_core::key_id::KeyId;

    fn version(n: u8, created: i64) -> KeyProperties {
        let id: KeyId = format!("https://kv-1.vault.azure.net/keys/k/{:032x}", n)
            .parse()
            .expect("key id");
        let mut k = KeyProperties::new(id).expect("versioned");
        k.created = OffsetDateTime::from_unix_timestamp(created).ok();
        k
    }

    #[test]
    fn the_newest_usable_version_passes_over_disabled_expired_and_future_ones() {
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let old = version(1, 100);
        let mut disabled = version(2, 200);
        disabled.enabled = Some(false);
        let mut expired = version(3, 300);
        expired.expires = Some(now);
        let mut future = version(4, 400);
        future.not_before = Some(now + time::Duration::seconds(1));
        let all = [
            future.clone(),
            old.clone(),
            expired.clone(),
            disabled.clone(),
        ];
        let (chosen, passed) = newest_usable(&all, now);
        assert_eq!(chosen.map(|k| &k.version), Some(&old.version));
        let why: Vec<_> = passed.iter().map(|p| p.why.clone()).collect();
        assert_eq!(
            why,
            [
                Unusable::NotYetValid {
                    from: now + time::Duration::seconds(1)
                },
                Unusable::Expired { at: now },
                Unusable::Disabled
            ]
        );
        assert_eq!(newest_usable(&[disabled], now).0, None);
    }

    #[test]
    fn a_version_that_may_not_unwrap_is_passed_over() {
        use aci_cmk_keyvault::keys::KeyOperation;
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let old = version(1, 100);
        let mut wrap_only = version(2, 200);
        wrap_only.key_ops = vec![KeyOperation::WrapKey];
        let all = [old.clone(), wrap_only];
        let (chosen, passed) = newest_usable(&all, now);
        assert_eq!(chosen.map(|k| &k.version), Some(&old.version));
        assert_eq!(
            passed[0].why,
            Unusable::UnwrapNotPermitted {
                key_ops: vec!["wrapKey".into()]
            }
        );
    }

    #[test]
    fn expiry_within_the_window_counts_at_its_edge() {
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let window = time::Duration::days(30);
        let mut k = version(1, 100);
        k.expires = Some(now + window);
        assert_eq!(expires_within(&k, now, window), k.expires);
        k.expires = Some(now + window + time::Duration::seconds(1));
        assert_eq!(expires_within(&k, now, window), None);
        k.expires = Some(now);
        assert_eq!(expires_within(&k, now, window), None, "already expired");
    }
}
