//! The key step: a new version where the current one is too small or the groups' versions
//! expire soon with no usable version to move onto, the current version's expiry, the
//! rotation policy — the orchestrator's key-lifecycle decisions (`KeyLifecycle`'s expiries,
//! [`rotation_policy_matches`]) on a key found by the audit. Nothing is disabled or deleted.

use super::{error::StepError, plan::NewVersion, step_context::StepCx};
use crate::{
    checks::{key_hygiene::modulus_bits, key_version::newest_usable_until},
    findings::evidence::KeyRef,
    inventory::KeyState,
};
use aci_cmk_encrypted_deployment::{rotation_policy_matches, spec::KeyLifecycle};
use aci_cmk_keyvault::{
    keys::{CreateKeyOptions, KeyProperties, KeySize, KeyType, RsaKeyType, UpdateKeyOptions},
    rotation_policy::{KeyRotationPolicy, LifetimeTrigger},
};
use time::Duration;

/// What a key step is asked to do.
pub(crate) struct KeyWork<'a> {
    pub key: &'a KeyRef,
    pub new_version: Option<&'a NewVersion>,
    pub expire_current: bool,
    pub rotation_policy: Option<&'a KeyRotationPolicy>,
    pub lifecycle: &'a KeyLifecycle,
}

/// The smallest size Key Vault makes of at least `bits`.
fn size_of_at_least(bits: u32) -> Option<KeySize> {
    [KeySize::Rsa2048, KeySize::Rsa3072, KeySize::Rsa4096]
        .into_iter()
        .find(|s| s.bits() >= bits)
}

/// Whether a version of `versions` is usable and outlives `days` from `now` (the audit's
/// judgement of the version a group can move onto).
fn usable_beyond(versions: Vec<KeyProperties>, now: time::OffsetDateTime, days: u32) -> bool {
    let state = KeyState {
        versions: Some(versions),
        ..KeyState::default()
    };
    newest_usable_until(&state, now, Some(now + Duration::days(i64::from(days)))).is_some()
}

/// Carries out a key step.
pub(crate) async fn key_lifecycle(cx: &mut StepCx<'_>, work: KeyWork<'_>) -> Result<(), StepError> {
    let b = cx.backends;
    let vault = work.key.vault_url.clone();
    let name = work.key.name.clone();
    let label = format!("{}/{}", work.key.vault_name(), name);
    let current = b
        .keys
        .get_key(&vault, &name, None, cx.call())
        .await
        .map_err(StepError::client(format!("read key {label}")))?;
    let mut created_new = false;
    if let Some(new) = work.new_version {
        let bits_now = current.n.as_deref().map(modulus_bits).unwrap_or(0);
        let wanted = new.min_bits.unwrap_or(bits_now).max(bits_now.min(4096));
        let needed = match (new.min_bits, new.unless_usable_beyond_days) {
            (Some(min), _) => bits_now < min,
            (None, Some(days)) => {
                let versions = b
                    .keys
                    .list_key_versions(&vault, &name, cx.call())
                    .await
                    .map_err(StepError::client(format!(
                        "list the versions of key {label}"
                    )))?;
                !usable_beyond(versions, cx.now, days)
            }
            (None, None) => true,
        };
        if needed {
            let kty = match current.kty {
                Some(KeyType::Rsa) => RsaKeyType::Rsa,
                Some(KeyType::RsaHsm) => RsaKeyType::RsaHsm,
                other => {
                    return Err(StepError::Changed(format!(
                        "key {label} is {other:?}, not an RSA key: no version of it is created"
                    )));
                }
            };
            let size = size_of_at_least(wanted).ok_or_else(|| {
                StepError::Changed(format!("no RSA key size of at least {wanted} bits"))
            })?;
            let mut options = CreateKeyOptions::new(kty, size);
            let expires = work.lifecycle.new_version_expires(cx.now);
            if let Some(at) = expires {
                options = options.with_expires(at);
            }
            let call = cx.call();
            let (v, n) = (vault.clone(), name.clone());
            cx.write(
                format!(
                    "create a version of key {label}: {} {} bits{}",
                    kty.as_str(),
                    size.bits(),
                    expires
                        .map(|e| format!(", expiring {e}"))
                        .unwrap_or_default()
                ),
                async move { b.keys.create_key(&v, &n, options, call).await },
                StepError::client(format!("create a version of key {label}")),
            )
            .await?;
            created_new = true;
        }
    }
    // A version this step creates has its expiry already.
    if work.expire_current
        && !created_new
        && let Some(at) = work.lifecycle.version_expiry(&current, cx.now)
    {
        let call = cx.call();
        let (v, n, version) = (vault.clone(), name.clone(), current.version.clone());
        cx.write(
            format!("set the expiry of key {label} version {version} to {at}"),
            async move {
                b.keys
                    .update_key_attributes(
                        &v,
                        &n,
                        Some(&version),
                        UpdateKeyOptions::default().with_expires(at),
                        call,
                    )
                    .await
            },
            StepError::client(format!("set the expiry of key {label}")),
        )
        .await?;
    }
    if let Some(policy) = work.rotation_policy {
        let held = b
            .keys
            .get_rotation_policy(&vault, &name, cx.call())
            .await
            .map_err(StepError::client(format!(
                "read the rotation policy of key {label}"
            )))?;
        if !rotation_policy_matches(&held, policy) {
            let call = cx.call();
            let (v, n, p) = (vault.clone(), name.clone(), policy.clone());
            let trigger = match policy.rotation_trigger() {
                Some(LifetimeTrigger::AfterCreate(d)) => format!("rotate {d} after creation"),
                Some(LifetimeTrigger::BeforeExpiry(d)) => format!("rotate {d} before expiry"),
                _ => "no rotation".into(),
            };
            cx.write(
                format!(
                    "set the rotation policy of key {label}: {trigger}, versions expire after {}",
                    policy
                        .expiry_time
                        .as_ref()
                        .map(|e| e.as_str())
                        .unwrap_or("never")
                ),
                async move { b.keys.set_rotation_policy(&v, &n, &p, call).await },
                StepError::client(format!("set the rotation policy of key {label}")),
            )
            .await?;
        }
    }
    Ok(())
}
