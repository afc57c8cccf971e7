//! Key lifecycle on the emulator's clock: a key's rotation policy is run (each Rotate action
//! that has fallen due creates a new version, dated when it was due and living the policy's
//! `expiryTime`), and the events Key Vault publishes are emitted (`KeyNewVersionCreated`,
//! `KeyNearExpiry` at the Notify action's time — 30 days before expiry by default — and
//! `KeyExpired`). Due work is found when the clock moves and when a vault's keys are touched,
//! so moving the clock by 200 days under a P90D policy creates exactly two versions.

use base64::Engine;
use serde_json::{Value, json};

use super::crypto;
use super::records::{B64URL, KeyRecord, KeyVersion};
use super::rotation_policy::{ActionType, RotationPolicy, Trigger};
use crate::config::Config;
use crate::events;
use crate::keyvault_management::records::Vault;
use crate::store::Tables;

/// The most versions one run creates for one key (a policy of 7 days over a century would
/// otherwise create thousands of RSA keys at once).
const MAX_ROTATIONS_PER_RUN: usize = 64;

/// Default Notify: 30 days before expiry.
const DEFAULT_NOTIFY_SECS: i64 = 30 * 86_400;

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

/// When the next rotation of a key whose newest version is `latest` falls due under `policy`.
fn rotation_due(policy: &RotationPolicy, latest: &KeyVersion) -> Option<i64> {
    policy
        .lifetime_actions
        .iter()
        .filter(|a| a.action == ActionType::Rotate)
        .find_map(|a| match &a.trigger {
            Trigger::AfterCreate(_, d) => Some(latest.created.saturating_add(secs(*d))),
            Trigger::BeforeExpiry(_, d) => latest.exp.map(|e| e.saturating_sub(secs(*d))),
        })
}

/// How long before expiry `KeyNearExpiry` is published.
fn notify_before(policy: Option<&RotationPolicy>) -> i64 {
    policy
        .and_then(|p| {
            p.lifetime_actions
                .iter()
                .filter(|a| a.action == ActionType::Notify)
                .find_map(|a| match &a.trigger {
                    Trigger::BeforeExpiry(_, d) => Some(secs(*d)),
                    Trigger::AfterCreate(..) => None,
                })
        })
        .unwrap_or(DEFAULT_NOTIFY_SECS)
}

/// The `data` of a key event.
pub fn key_event_data(cfg: &Config, rec: &KeyRecord, k: &KeyVersion) -> Value {
    json!({
        "Id": format!("{}/keys/{}/{}", cfg.vault_base_url(&rec.vault), rec.name, k.version),
        "VaultName": rec.vault,
        "ObjectType": "Key",
        "ObjectName": rec.name,
        "Version": k.version,
        "NBF": k.nbf,
        "EXP": k.exp,
    })
}

/// The resource id of a key's vault (the events' topic).
fn topic(st: &Tables, vault: &str) -> String {
    st.table::<Vault>()
        .get(vault)
        .map(Vault::id)
        .unwrap_or_else(|| format!("/providers/Microsoft.KeyVault/vaults/{vault}"))
}

/// A new version like `like`, created at `at`, living `lifetime` seconds.
fn new_version(like: &KeyVersion, at: i64, lifetime: Option<i64>) -> Option<KeyVersion> {
    let bits = (B64URL.decode(&like.n).map(|n| n.len()).unwrap_or(256) * 8) as u32;
    let generated = crypto::generate_rsa(bits).ok()?;
    Some(KeyVersion {
        version: uuid::Uuid::new_v4().simple().to_string(),
        kty: like.kty.clone(),
        key_ops: like.key_ops.clone(),
        enabled: true,
        nbf: None,
        exp: lifetime.map(|l| at.saturating_add(l)),
        created: at,
        updated: at,
        tags: like.tags.clone(),
        n: B64URL.encode(&generated.n),
        e: B64URL.encode(&generated.e),
        pkcs8: B64URL.encode(&generated.pkcs8),
        near_expiry_published: false,
        expired_published: false,
    })
}

/// Runs every due rotation and publishes every due event, for the keys of `vault` (all vaults
/// with `None`), up to `now` (unix seconds).
pub fn run_due(st: &mut Tables, cfg: &Config, now: i64, vault: Option<&str>) {
    let ids: Vec<String> = st
        .table::<KeyRecord>()
        .iter()
        .filter(|(_, r)| r.deleted.is_none())
        .filter(|(_, r)| vault.is_none_or(|v| r.vault.eq_ignore_ascii_case(v)))
        .filter(|(_, r)| needs_work(r, now))
        .map(|(k, _)| k.clone())
        .collect();
    for id in ids {
        run_key(st, cfg, &id, now);
    }
}

/// Whether anything of `rec` is due at `now` (cheap: most keys have nothing to do).
fn needs_work(rec: &KeyRecord, now: i64) -> bool {
    let policy = policy_of(rec);
    let rotation = match (&policy, rec.latest()) {
        (Some(p), Some(l)) => rotation_due(p, l).is_some_and(|d| d <= now),
        _ => false,
    };
    let notify = notify_before(policy.as_ref());
    rotation
        || rec.versions.iter().any(|k| {
            k.exp.is_some_and(|e| {
                (!k.near_expiry_published && now >= e.saturating_sub(notify))
                    || (!k.expired_published && now >= e)
            })
        })
}

fn policy_of(rec: &KeyRecord) -> Option<RotationPolicy> {
    let stored = rec.rotation_policy.as_ref()?.as_object()?;
    RotationPolicy::parse(stored).ok()
}

fn run_key(st: &mut Tables, cfg: &Config, id: &str, now: i64) {
    let Some(mut rec) = st.table::<KeyRecord>().get(id).cloned() else {
        return;
    };
    let topic = topic(st, &rec.vault);
    let policy = policy_of(&rec);
    let mut published: Vec<(String, i64, Value)> = Vec::new();
    if let Some(p) = &policy {
        let lifetime = p.expiry_time.as_ref().map(|(_, d)| secs(*d));
        for _ in 0..MAX_ROTATIONS_PER_RUN {
            let Some(latest) = rec.latest().cloned() else {
                break;
            };
            let Some(due) = rotation_due(p, &latest).filter(|d| *d <= now) else {
                break;
            };
            let Some(v) = new_version(&latest, due, lifetime) else {
                tracing::error!(key = %rec.name, "a due rotation could not generate a key");
                break;
            };
            published.push((
                "Microsoft.KeyVault.KeyNewVersionCreated".to_owned(),
                due,
                key_event_data(cfg, &rec, &v),
            ));
            rec.versions.push(v);
        }
    }
    let notify = notify_before(policy.as_ref());
    let events_of = |rec: &KeyRecord, k: &KeyVersion| key_event_data(cfg, rec, k);
    let snapshot = rec.clone();
    for k in &mut rec.versions {
        let Some(exp) = k.exp else { continue };
        if !k.near_expiry_published && now >= exp.saturating_sub(notify) {
            k.near_expiry_published = true;
            published.push((
                "Microsoft.KeyVault.KeyNearExpiry".to_owned(),
                exp.saturating_sub(notify),
                events_of(&snapshot, k),
            ));
        }
        if !k.expired_published && now >= exp {
            k.expired_published = true;
            published.push((
                "Microsoft.KeyVault.KeyExpired".to_owned(),
                exp,
                events_of(&snapshot, k),
            ));
        }
    }
    // The feed is in the order things happened.
    published.sort_by_key(|(_, at, _)| *at);
    let name = rec.name.clone();
    st.table_mut::<KeyRecord>().insert(id.to_owned(), rec);
    for (event_type, at, data) in published {
        events::emit(st, &topic, &name, &event_type, at, data);
    }
}
