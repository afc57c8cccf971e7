//! Tests of the rotation-policy model: durations, the wire form, and every validation rule on
//! both sides of its edge.

#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;
use time::macros::datetime;

fn d(text: &str) -> Iso8601Duration {
    text.parse()
        .unwrap_or_else(|e| panic!("{text} is a duration: {e}"))
}

#[test]
fn durations_parse_as_key_vault_counts_them() {
    let day = 86_400;
    for (text, secs) in [
        ("P90D", 90 * day),
        ("P1Y", 365 * day),
        ("P3M", 90 * day),
        ("P2W", 14 * day),
        ("PT48H", 2 * day),
        ("PT1M", 60),
        ("P1M", 30 * day),
        ("P1Y10D", 375 * day),
        (
            "P1Y2M3W4DT5H6M7S",
            365 * day + 60 * day + 21 * day + 4 * day + 5 * 3600 + 6 * 60 + 7,
        ),
        ("P0D", 0),
    ] {
        assert_eq!(
            d(text).to_duration(),
            time::Duration::seconds(secs),
            "{text}"
        );
        assert_eq!(d(text).to_string(), text, "round trip of {text}");
        assert_eq!(d(&d(text).to_string()), d(text));
    }
    assert_eq!(d("PT0.5S").to_duration(), time::Duration::milliseconds(500));
    assert_eq!(d("P1.5D").to_duration(), time::Duration::hours(36));
    assert_eq!(d("PT1,25H").to_duration(), time::Duration::minutes(75));
    // Lowercase is read (the CLI sends what users type) and kept uppercased.
    assert_eq!(d("p3dt12h").as_str(), "P3DT12H");
    assert_eq!(d("p3dt12h").to_duration(), time::Duration::hours(84));
}

#[test]
fn the_constructors_write_the_short_form() {
    assert_eq!(Iso8601Duration::days(90), d("P90D"));
    assert_eq!(Iso8601Duration::weeks(2).as_str(), "P2W");
    assert_eq!(
        Iso8601Duration::months(3).to_duration(),
        time::Duration::days(90)
    );
    assert_eq!(
        Iso8601Duration::years(1).to_duration(),
        time::Duration::days(365)
    );
    assert_eq!(Iso8601Duration::hours(48).as_str(), "PT48H");
    assert_eq!(
        Iso8601Duration::years(u32::MAX).to_duration(),
        time::Duration::days(365 * i64::from(u32::MAX))
    );
}

#[test]
fn junk_is_refused_with_a_typed_error() {
    for junk in [
        "",
        "P",
        "PT",
        "T1H",
        "90D",
        "P90",
        "PD",
        "P1H",
        "PT1D",
        "P1DT",
        "P1D1Y",
        "P1D1D",
        "PT1S1M",
        "P-1D",
        "P+1D",
        "P1.5Y2D",
        "P1..5D",
        "P.5D",
        "P1.D",
        "P1 D",
        " P1D",
        "P1DX",
        "P1DTT1H",
        "P1e3D",
        "P٣D",
        "P99999999999999999999999999999999999999999D",
        "P999999999999999Y",
    ] {
        let err = junk.parse::<Iso8601Duration>().unwrap_err();
        assert!(
            matches!(err, RotationPolicyError::InvalidDuration { .. }),
            "{junk:?}: {err:?}"
        );
        assert!(serde_json::from_value::<Iso8601Duration>(json!(junk)).is_err());
    }
    let long = "P".to_owned() + &"1".repeat(500);
    match long.parse::<Iso8601Duration>().unwrap_err() {
        RotationPolicyError::InvalidDuration { input, .. } => assert_eq!(input.len(), 64),
        other => panic!("{other:?}"),
    }
    assert!(serde_json::from_value::<Iso8601Duration>(json!(90)).is_err());
}

#[test]
fn action_types_are_read_case_insensitively() {
    for (text, kind) in [
        ("Rotate", LifetimeActionType::Rotate),
        ("rotate", LifetimeActionType::Rotate),
        ("ROTATE", LifetimeActionType::Rotate),
        ("notify", LifetimeActionType::Notify),
        ("NoTiFy", LifetimeActionType::Notify),
    ] {
        assert_eq!(
            serde_json::from_value::<LifetimeActionType>(json!(text)).unwrap(),
            kind
        );
        assert_eq!(text.parse::<LifetimeActionType>().unwrap(), kind);
    }
    assert_eq!(
        serde_json::to_value(LifetimeActionType::Notify).unwrap(),
        json!("Notify")
    );
    assert_eq!(
        "Delete".parse::<LifetimeActionType>().unwrap_err(),
        RotationPolicyError::UnknownActionType("Delete".into())
    );
}

#[test]
fn the_policy_reads_and_writes_key_vaults_form() {
    let wire = json!({
        "id": "https://contoso-cmk.vault.azure.net/keys/aci-cmk/rotationpolicy",
        "lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D", "timeAfterCreate": null}, "action": {"type": "Notify"}}
        ],
        "attributes": {"expiryTime": "P1Y", "created": 1_700_000_000, "updated": 1_700_000_100}
    });
    let policy: KeyRotationPolicy = serde_json::from_value(wire).unwrap();
    assert_eq!(
        policy.lifetime_actions,
        vec![
            LifetimeAction::rotate_after(d("P90D")),
            LifetimeAction::notify_before_expiry(d("P30D")),
        ]
    );
    assert_eq!(policy.expiry_time, Some(d("P1Y")));
    assert_eq!(policy.created, Some(datetime!(2023-11-14 22:13:20 UTC)));
    assert_eq!(
        policy.updated.map(OffsetDateTime::unix_timestamp),
        Some(1_700_000_100)
    );
    assert_eq!(
        policy.rotation_trigger(),
        Some(&LifetimeTrigger::AfterCreate(d("P90D")))
    );
    assert_eq!(
        serde_json::to_value(&policy).unwrap(),
        json!({
            "id": "https://contoso-cmk.vault.azure.net/keys/aci-cmk/rotationpolicy",
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}
            ],
            "attributes": {"expiryTime": "P1Y", "created": 1_700_000_000, "updated": 1_700_000_100}
        })
    );
    let back: KeyRotationPolicy =
        serde_json::from_value(serde_json::to_value(&policy).unwrap()).unwrap();
    assert_eq!(back, policy);

    // Key Vault's default policy, and the forms of "nothing".
    let default: KeyRotationPolicy = serde_json::from_value(json!({
        "id": "https://contoso-cmk.vault.azure.net/keys/aci-cmk/rotationpolicy",
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
        "attributes": {}
    }))
    .unwrap();
    assert_eq!(default.rotation_trigger(), None);
    assert_eq!(default.expiry_time, None);
    assert_eq!(default.created, None);
    for empty in [
        json!({}),
        json!({"lifetimeActions": null, "attributes": null}),
    ] {
        let policy: KeyRotationPolicy = serde_json::from_value(empty).unwrap();
        assert_eq!(policy, KeyRotationPolicy::new());
    }
    assert_eq!(
        serde_json::to_value(KeyRotationPolicy::new()).unwrap(),
        json!({"lifetimeActions": [], "attributes": {}})
    );
}

#[test]
fn malformed_wire_policies_are_refused() {
    for bad in [
        json!({"lifetimeActions": [{"trigger": {}, "action": {"type": "Rotate"}}]}),
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D", "timeBeforeExpiry": "P30D"}, "action": {"type": "Rotate"}}]}),
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Delete"}}]}),
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "90 days"}, "action": {"type": "Rotate"}}]}),
        json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}}]}),
        json!({"lifetimeActions": {}}),
        json!({"attributes": {"expiryTime": "one year"}}),
    ] {
        assert!(
            serde_json::from_value::<KeyRotationPolicy>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn the_request_body_leaves_out_the_read_only_fields() {
    let mut policy = KeyRotationPolicy::rotate_after(d("P90D"))
        .with_expiry(d("P1Y"))
        .with_notify_before_expiry(d("P30D"));
    policy.id = Some("https://contoso-cmk.vault.azure.net/keys/k/rotationpolicy".into());
    policy.created = Some(datetime!(2026-01-01 0:00 UTC));
    policy.updated = Some(datetime!(2026-01-02 0:00 UTC));
    assert_eq!(
        serde_json::to_value(policy.to_official()).unwrap(),
        json!({
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}
            ],
            "attributes": {"expiryTime": "P1Y"}
        })
    );
    assert_eq!(
        serde_json::to_value(KeyRotationPolicy::new().to_official()).unwrap(),
        json!({"lifetimeActions": [], "attributes": {}})
    );
}

#[test]
fn the_builders_compose() {
    let policy = KeyRotationPolicy::rotate_before_expiry(d("P30D"))
        .with_expiry(d("P90D"))
        .with_notify_before_expiry(d("P10D"))
        .with_notify_before_expiry(d("P14D"));
    assert_eq!(
        policy.lifetime_actions,
        vec![
            LifetimeAction::rotate_before_expiry(d("P30D")),
            LifetimeAction::notify_before_expiry(d("P14D")),
        ],
        "a second notify replaces the first"
    );
    assert_eq!(policy.validate(), Ok(()));
    assert_eq!(
        KeyRotationPolicy::new().validate(),
        Ok(()),
        "no actions is valid"
    );
}

/// Every rule, each edge on both sides.
#[test]
fn validation_applies_key_vaults_rules() {
    use LifetimeActionType::{Notify, Rotate};
    type P = KeyRotationPolicy;
    let cases: Vec<(&str, P, Result<(), RotationPolicyError>)> = vec![
        ("rotate after 7 days", P::rotate_after(d("P7D")), Ok(())),
        (
            "rotate after 6 days",
            P::rotate_after(d("P6D")),
            Err(RotationPolicyError::TriggerTooShort {
                action: Rotate,
                period: d("P6D"),
            }),
        ),
        (
            "rotate after a second short of 7 days",
            P::rotate_after(d("P6DT23H59M59S")),
            Err(RotationPolicyError::TriggerTooShort {
                action: Rotate,
                period: d("P6DT23H59M59S"),
            }),
        ),
        (
            "rotate after 168 hours",
            P::rotate_after(d("PT168H")),
            Ok(()),
        ),
        ("rotate after one week", P::rotate_after(d("P1W")), Ok(())),
        (
            "notify 6 days before expiry",
            P::new().with_notify_before_expiry(d("P6D")),
            Err(RotationPolicyError::TriggerTooShort {
                action: Notify,
                period: d("P6D"),
            }),
        ),
        (
            "notify 7 days before expiry",
            P::new().with_notify_before_expiry(d("P7D")),
            Ok(()),
        ),
        (
            "notify after create",
            P::new().with_action(LifetimeAction::new(
                LifetimeTrigger::AfterCreate(d("P30D")),
                Notify,
            )),
            Err(RotationPolicyError::NotifyAfterCreate),
        ),
        (
            "two rotates",
            P::rotate_after(d("P90D")).with_action(LifetimeAction::rotate_before_expiry(d("P30D"))),
            Err(RotationPolicyError::DuplicateAction(Rotate)),
        ),
        (
            "two notifies",
            P::new()
                .with_action(LifetimeAction::notify_before_expiry(d("P30D")))
                .with_action(LifetimeAction::notify_before_expiry(d("P10D"))),
            Err(RotationPolicyError::DuplicateAction(Notify)),
        ),
        (
            "one of each",
            P::rotate_after(d("P90D")).with_notify_before_expiry(d("P30D")),
            Ok(()),
        ),
        ("expiry of 28 days", P::new().with_expiry(d("P28D")), Ok(())),
        ("expiry of 4 weeks", P::new().with_expiry(d("P4W")), Ok(())),
        (
            "expiry of 27 days",
            P::new().with_expiry(d("P27D")),
            Err(RotationPolicyError::ExpiryTooShort(d("P27D"))),
        ),
        (
            "expiry a second short of 28 days",
            P::new().with_expiry(d("P27DT23H59M59S")),
            Err(RotationPolicyError::ExpiryTooShort(d("P27DT23H59M59S"))),
        ),
        (
            "expiry of a month (30 days)",
            P::new().with_expiry(d("P1M")),
            Ok(()),
        ),
        (
            "rotate 7 days before a 90-day expiry (after 83 days)",
            P::rotate_after(d("P83D")).with_expiry(d("P90D")),
            Ok(()),
        ),
        (
            "rotate 6 days before a 90-day expiry",
            P::rotate_after(d("P84D")).with_expiry(d("P90D")),
            Err(RotationPolicyError::TooCloseToExpiry {
                action: Rotate,
                after_create: d("P84D"),
                expiry_time: d("P90D"),
            }),
        ),
        (
            "rotate after the expiry",
            P::rotate_after(d("P1Y")).with_expiry(d("P90D")),
            Err(RotationPolicyError::TooCloseToExpiry {
                action: Rotate,
                after_create: d("P1Y"),
                expiry_time: d("P90D"),
            }),
        ),
        (
            "rotate 83 days before a 90-day expiry (7 days after creation)",
            P::rotate_before_expiry(d("P83D")).with_expiry(d("P90D")),
            Ok(()),
        ),
        (
            "rotate 84 days before a 90-day expiry",
            P::rotate_before_expiry(d("P84D")).with_expiry(d("P90D")),
            Err(RotationPolicyError::TooCloseToCreation {
                action: Rotate,
                before_expiry: d("P84D"),
                expiry_time: d("P90D"),
            }),
        ),
        (
            "notify 84 days before a 90-day expiry",
            P::new()
                .with_expiry(d("P90D"))
                .with_notify_before_expiry(d("P84D")),
            Err(RotationPolicyError::TooCloseToCreation {
                action: Notify,
                before_expiry: d("P84D"),
                expiry_time: d("P90D"),
            }),
        ),
        (
            "rotate before expiry without an expiry time",
            P::rotate_before_expiry(d("P30D")),
            Ok(()),
        ),
        (
            "the wire reference's example",
            P::rotate_after(d("P90D"))
                .with_expiry(d("P1Y"))
                .with_notify_before_expiry(d("P30D")),
            Ok(()),
        ),
    ];
    for (what, policy, expected) in cases {
        assert_eq!(policy.validate(), expected, "{what}");
        if let Err(e) = expected {
            let message = e.to_string();
            assert!(
                message.chars().next().is_some_and(|c| !c.is_uppercase())
                    || message.starts_with('"'),
                "{what}: {message}"
            );
        }
    }
}

#[test]
fn the_next_rotation_follows_the_trigger() {
    let created = datetime!(2026-01-01 0:00 UTC);
    let expires = datetime!(2026-12-01 0:00 UTC);
    let after = KeyRotationPolicy::rotate_after(d("P90D")).with_expiry(d("P1Y"));
    assert_eq!(
        after.next_rotation(created, None),
        Some(datetime!(2026-04-01 0:00 UTC))
    );
    assert_eq!(
        after.next_rotation(created, Some(expires)),
        Some(datetime!(2026-04-01 0:00 UTC)),
        "timeAfterCreate ignores the expiry"
    );
    assert_eq!(
        after.new_version_expires(created),
        Some(datetime!(2027-01-01 0:00 UTC))
    );

    let before = KeyRotationPolicy::rotate_before_expiry(d("P30D"));
    assert_eq!(
        before.next_rotation(created, Some(expires)),
        Some(datetime!(2026-11-01 0:00 UTC))
    );
    assert_eq!(
        before.next_rotation(created, None),
        None,
        "no expiry, no rotation"
    );
    assert_eq!(before.new_version_expires(created), None);

    let notify_only = KeyRotationPolicy::new().with_notify_before_expiry(d("P30D"));
    assert_eq!(notify_only.next_rotation(created, Some(expires)), None);
    assert_eq!(notify_only.rotation_trigger(), None);

    // Far outside the calendar: no answer rather than a panic.
    let huge = KeyRotationPolicy::rotate_after(Iso8601Duration::years(u32::MAX));
    assert_eq!(huge.next_rotation(created, None), None);
}

/// Every string of up to five characters over the duration alphabet: parsing never panics,
/// and whatever parses prints back to itself (uppercased) and parses to the same value.
#[test]
fn every_short_string_parses_or_is_refused_and_round_trips() {
    const ALPHABET: &[char] = &[
        'P', 'p', 'T', 'Y', 'M', 'W', 'D', 'H', 'S', '0', '9', '.', ',', 'x',
    ];
    let mut text = String::new();
    let mut accepted = 0;
    let mut stack = vec![0usize];
    fn visit(text: &str, accepted: &mut usize) {
        if let Ok(parsed) = text.parse::<Iso8601Duration>() {
            *accepted += 1;
            assert_eq!(parsed.to_string(), text.to_ascii_uppercase());
            assert_eq!(parsed.to_string().parse::<Iso8601Duration>(), Ok(parsed));
        }
    }
    // An iterative depth-first walk over all strings of length 0..=5.
    visit(&text, &mut accepted);
    while let Some(next) = stack.pop() {
        if next < ALPHABET.len() && text.chars().count() < 5 {
            stack.push(next + 1);
            text.push(ALPHABET[next]);
            visit(&text, &mut accepted);
            stack.push(0);
        } else if text.pop().is_none() {
            break;
        }
    }
    assert!(accepted > 100, "{accepted} accepted");
}
