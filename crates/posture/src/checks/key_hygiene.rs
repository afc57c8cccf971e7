//! Item 11: a key (at its current version) without an expiration date, an RSA key smaller than
//! the minimum, no rotation policy or one that rotates too late.

use super::Ctx;
use crate::{
    FindingKind,
    findings::{
        Finding,
        evidence::{Evidence, GroupRef, KeyRef},
    },
    inventory::{KeyState, VaultState},
};
use aci_cmk_keyvault::{
    keys::{KeyProperties, KeyType},
    rotation_policy::{KeyRotationPolicy, LifetimeTrigger},
};
use std::collections::BTreeSet;

/// The size in bits of an RSA modulus.
pub(crate) fn modulus_bits(n: &[u8]) -> u32 {
    let Some(first) = n.iter().position(|b| *b != 0) else {
        return 0;
    };
    let bytes = u32::try_from(n.len() - first).unwrap_or(u32::MAX);
    bytes.saturating_mul(8) - n[first].leading_zeros()
}

/// Days after a version's creation that `policy` rotates it (`None`: never).
pub(crate) fn rotates_after_days(
    policy: &KeyRotationPolicy,
    latest: Option<&KeyProperties>,
) -> Option<i64> {
    match policy.rotation_trigger()? {
        LifetimeTrigger::AfterCreate(after) => Some(after.to_duration().whole_days()),
        LifetimeTrigger::BeforeExpiry(before) => {
            // A version lives the policy's expiryTime, or as its own exp says.
            let lifetime = match &policy.expiry_time {
                Some(expiry) => expiry.to_duration(),
                None => {
                    let latest = latest?;
                    latest.expires? - latest.created?
                }
            };
            Some((lifetime - before.to_duration()).whole_days())
        }
        // A trigger of a later api-version: not one this audit can date.
        _ => None,
    }
}

/// Findings of kind 11 for every distinct key the groups name (once per key).
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for (_, gk) in ctx.cmk_groups() {
        let pair = gk.key_pair();
        if !seen.insert(pair.clone()) {
            continue;
        }
        let Some(key) = ctx.inventory.keys.get(&pair) else {
            continue;
        };
        if key.missing {
            continue;
        }
        let vault_id = match ctx.inventory.vaults.get(&gk.vault()) {
            Some(VaultState::Live { vault, .. }) => Some(vault.id.clone()),
            _ => None,
        };
        let current = key.latest.as_ref();
        let key_ref = KeyRef::new(
            gk.vault_url.clone(),
            vault_id,
            gk.key.clone(),
            current.map(|c| c.version.clone()),
        );
        let groups: Vec<GroupRef> = ctx
            .cmk_groups()
            .filter(|(_, k)| k.key_pair() == pair)
            .map(|(g, _)| g.group.clone())
            .collect();
        hygiene(ctx, key, current, key_ref, groups, out);
    }
}

fn hygiene(
    ctx: &Ctx<'_>,
    key: &KeyState,
    current: Option<&KeyProperties>,
    key_ref: KeyRef,
    groups: Vec<GroupRef>,
    out: &mut Vec<Finding>,
) {
    let resource = key_ref.resource();
    let label = format!("{}/{}", key_ref.vault_name(), key_ref.name);
    if let Some(current) = current {
        if current.expires.is_none() {
            let kind = FindingKind::KeyWithoutExpiration;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                resource.clone(),
                format!(
                    "key {label} has no expiration date on its current version {}",
                    current.version
                ),
                "set an expiry on the key and a rotation policy with an expiryTime",
                Evidence::KeyWithoutExpiration {
                    key: key_ref.clone(),
                },
            ));
        }
        let rsa = matches!(current.kty, Some(KeyType::Rsa) | Some(KeyType::RsaHsm));
        let bits = current.n.as_deref().map(modulus_bits);
        if let (true, Some(bits)) = (rsa, bits)
            && bits < ctx.options.min_rsa_key_bits
        {
            let kind = FindingKind::RsaKeyTooSmall;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                resource.clone(),
                format!(
                    "key {label} is an RSA key of {bits} bits, below the minimum of {}",
                    ctx.options.min_rsa_key_bits
                ),
                format!(
                    "create a new version of at least {} bits and move the groups to it",
                    ctx.options.min_rsa_key_bits
                ),
                Evidence::RsaKeyTooSmall {
                    key: key_ref.clone(),
                    bits,
                    minimum_bits: ctx.options.min_rsa_key_bits,
                    groups,
                },
            ));
        }
    }
    if let Some(policy) = &key.rotation_policy {
        let days = rotates_after_days(policy, current);
        let maximum = i64::from(ctx.options.max_days_to_rotate);
        if days.is_none_or(|d| d > maximum) {
            let kind = FindingKind::RotationPolicyMissingOrLate;
            let what = match days {
                None => "has no rotation policy that rotates it".to_owned(),
                Some(d) => format!("rotates {d} days after a version's creation"),
            };
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                resource,
                format!("key {label} {what}; at most {maximum} days are allowed"),
                format!(
                    "set a rotation policy that rotates within {maximum} days of creation (a Rotate action with timeAfterCreate)"
                ),
                Evidence::RotationPolicyMissingOrLate {
                    key: key_ref,
                    rotates_after_days: days,
                    maximum_days: ctx.options.max_days_to_rotate,
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_sizes_count_significant_bits() {
        let mut n = vec![0x80u8];
        n.extend(std::iter::repeat_n(0u8, 255));
        assert_eq!(modulus_bits(&n), 2048);
        let mut with_zero = vec![0u8];
        with_zero.extend(&n);
        assert_eq!(modulus_bits(&with_zero), 2048);
        assert_eq!(modulus_bits(&n[..128]), 1024);
        assert_eq!(modulus_bits(&[0x01, 0x00]), 9);
        assert_eq!(modulus_bits(&[]), 0);
    }
}
