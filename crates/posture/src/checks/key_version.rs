//! Items 2, 3 and 4: the key version a group pins — unusable (disabled, expired, not yet
//! valid, refusing unwrap, gone), expiring within the warning window, or stale (a newer usable
//! version exists; info when a spec pins it by choice).

use super::Ctx;
use crate::{
    FindingKind, Severity,
    findings::{
        Finding,
        evidence::{Evidence, Unusable},
    },
    inventory::KeyState,
};
use aci_cmk_encrypted_deployment::key_versions::unusable_reasons;
use aci_cmk_keyvault::keys::KeyProperties;
use time::{Duration, OffsetDateTime};

/// Why `version` cannot be used at `now` (empty: it can): the orchestrator's judgement
/// (`key_versions::unusable_reasons`, the one `follow_latest` moves groups by), as evidence.
pub(crate) fn unusable(version: &KeyProperties, now: OffsetDateTime) -> Vec<Unusable> {
    use aci_cmk_encrypted_deployment::key_versions::Unusable as Judged;
    unusable_reasons(version, now)
        .into_iter()
        .filter_map(|why| match why {
            Judged::Disabled => Some(Unusable::Disabled),
            Judged::Expired { at } => Some(Unusable::Expired { at }),
            Judged::NotYetValid { from } => Some(Unusable::NotYetValid { from }),
            Judged::UnwrapNotPermitted { key_ops } => {
                Some(Unusable::UnwrapNotPermitted { key_ops })
            }
            // A reason this crate has no evidence for yet (the enum is non-exhaustive).
            _ => None,
        })
        .collect()
}

/// The order of versions: by creation time (Key Vault keeps seconds), the key's current
/// version last among those created in the same second.
fn age(key: &KeyState, v: &KeyProperties) -> (Option<OffsetDateTime>, bool) {
    let current = key
        .latest
        .as_ref()
        .is_some_and(|l| l.version.as_str().eq_ignore_ascii_case(v.version.as_str()));
    (v.created, current)
}

/// The newest version of `key` usable at `now`.
pub(crate) fn newest_usable(key: &KeyState, now: OffsetDateTime) -> Option<&KeyProperties> {
    newest_usable_until(key, now, None)
}

/// The newest version of `key` usable at `now` and, with `horizon`, still at `horizon` (it
/// does not expire before): what a group moved onto it can restart with.
pub(crate) fn newest_usable_until(
    key: &KeyState,
    now: OffsetDateTime,
    horizon: Option<OffsetDateTime>,
) -> Option<&KeyProperties> {
    let all = key.versions.as_ref()?;
    all.iter()
        .map(|v| key.version(v.version.as_str()).unwrap_or(v))
        .filter(|v| unusable(v, now).is_empty())
        .filter(|v| horizon.is_none_or(|h| v.expires.is_none_or(|e| e > h)))
        .max_by_key(|v| age(key, v))
}

/// Findings of kinds 2, 3 and 4 for every CMK group whose key was read.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let now = ctx.inventory.now;
    for (g, gk) in ctx.cmk_groups() {
        let Some(key) = ctx.inventory.keys.get(&gk.key_pair()) else {
            continue;
        };
        let key_ref = ctx.key_ref(gk);
        let name = &g.group.name;
        let newest = newest_usable(key, now);
        let version = key.version(gk.version.as_str());
        let reasons = if key.missing {
            vec![Unusable::KeyMissing]
        } else {
            match version {
                Some(v) => unusable(v, now),
                // The version list was read and has no such version.
                None if key.versions.is_some() => vec![Unusable::VersionMissing],
                None => continue,
            }
        };
        if !reasons.is_empty() {
            let kind = FindingKind::KeyVersionUnusable;
            let fix = match newest {
                Some(n) => format!(
                    "make version {} usable again (enable it, extend exp), or re-create the group on version {} (disruptive)",
                    gk.version, n.version
                ),
                None => format!(
                    "make version {} usable again (enable it, extend exp, recover the key); with no usable version left, its data stays unreadable",
                    gk.version
                ),
            };
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                g.group.id.as_str(),
                format!(
                    "container group {name} pins key {}/{} version {}, which is {}: the group cannot restart",
                    gk.vault_url.vault_name(),
                    gk.key,
                    gk.version,
                    describe(&reasons)
                ),
                fix,
                Evidence::KeyVersionUnusable {
                    group: g.group.clone(),
                    key: key_ref,
                    reasons,
                    newest_usable: newest.map(|n| n.version.clone()),
                },
            ));
            continue;
        }
        let Some(version) = version else { continue };
        let window = Duration::days(i64::from(ctx.options.expiry_warning_days));
        if let Some(expires) = version.expires.filter(|e| *e <= now + window) {
            let kind = FindingKind::KeyVersionExpiresSoon;
            let days_left = (expires - now).whole_days();
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                g.group.id.as_str(),
                format!(
                    "container group {name} pins key {}/{} version {}, which expires in {days_left} days: then the group cannot restart",
                    gk.vault_url.vault_name(),
                    gk.key,
                    gk.version
                ),
                format!(
                    "extend the expiry of version {}, or re-create the group on a newer version before then",
                    gk.version
                ),
                Evidence::KeyVersionExpiresSoon {
                    group: g.group.clone(),
                    key: key_ref.clone(),
                    expires,
                    days_left,
                    within_days: ctx.options.expiry_warning_days,
                },
            ));
        }
        let Some(newest) = newest.filter(|n| {
            !n.version.as_str().eq_ignore_ascii_case(gk.version.as_str())
                && age(key, n) > age(key, version)
        }) else {
            continue;
        };
        let pinned = ctx.scope.pins(
            &g.group.resource_group,
            &g.group.name,
            gk.vault_url.vault_name().as_str(),
            gk.key.as_str(),
            &gk.version,
        );
        let kind = FindingKind::StaleKeyVersion;
        let severity = if pinned {
            Severity::Info
        } else {
            kind.default_severity()
        };
        let why = if pinned {
            ", as its deployment spec pins it"
        } else {
            ""
        };
        out.push(Finding::new(
            kind,
            severity,
            g.group.id.as_str(),
            format!(
                "container group {name} is on version {} of key {}/{} while version {} is newer{why}",
                gk.version,
                gk.vault_url.vault_name(),
                gk.key,
                newest.version
            ),
            format!(
                "re-create the group on version {} (disruptive), or pin {} in its spec if that is the intent",
                newest.version, gk.version
            ),
            Evidence::StaleKeyVersion {
                group: g.group.clone(),
                key: key_ref,
                newest_usable: newest.version.clone(),
                pinned_by_spec: pinned,
            },
        ));
    }
}

fn describe(reasons: &[Unusable]) -> String {
    let parts: Vec<String> = reasons
        .iter()
        .map(|r| match r {
            Unusable::Disabled => "disabled".to_owned(),
            Unusable::Expired { at } => format!("expired ({at})"),
            Unusable::NotYetValid { from } => format!("not valid before {from}"),
            Unusable::UnwrapNotPermitted { .. } => "not permitted to unwrap".to_owned(),
            Unusable::VersionMissing => "not in the vault".to_owned(),
            Unusable::KeyMissing => "gone with its key".to_owned(),
        })
        .collect();
    parts.join(", ")
}
