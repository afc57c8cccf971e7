//! Key rotation policies (`GET` / `PUT /keys/{name}/rotationpolicy`): [`KeyRotationPolicy`],
//! its [`LifetimeAction`]s and their ISO 8601 [`Iso8601Duration`]s, checked on the client side
//! by [`KeyRotationPolicy::validate`] with Key Vault's rules, so that a policy the vault would
//! refuse is refused before any request ([`RotationPolicyError`]).
//!
//! Key Vault's rules: at most one `Rotate` and one `Notify` action; `timeAfterCreate` only with
//! `Rotate`; every trigger at least 7 days (`P7D`); `expiryTime`, which each new version gets,
//! at least 28 days (`P28D`); with an `expiryTime`, a `timeAfterCreate` falls at least 7 days
//! before the expiry and a `timeBeforeExpiry` at least 7 days after the creation. Durations
//! count a year as 365 days and a month as 30, as Key Vault does.
//!
//! ```
//! use aci_cmk_keyvault::rotation_policy::{Iso8601Duration, KeyRotationPolicy, RotationPolicyError};
//! use time::macros::datetime;
//!
//! // Rotate every 90 days; each new version lives a year; notify 30 days before it expires.
//! let policy = KeyRotationPolicy::rotate_after("P90D".parse()?)
//!     .with_expiry(Iso8601Duration::years(1))
//!     .with_notify_before_expiry(Iso8601Duration::days(30));
//! policy.validate()?;
//! assert_eq!(
//!     policy.next_rotation(datetime!(2026-01-01 0:00 UTC), None),
//!     Some(datetime!(2026-04-01 0:00 UTC)),
//! );
//! assert_eq!(
//!     policy.new_version_expires(datetime!(2026-01-01 0:00 UTC)),
//!     Some(datetime!(2027-01-01 0:00 UTC)),
//! );
//!
//! // Key Vault refuses a policy whose versions would live less than 28 days: so does validate.
//! let short = KeyRotationPolicy::rotate_after(Iso8601Duration::days(7))
//!     .with_expiry(Iso8601Duration::days(14));
//! assert!(matches!(short.validate(), Err(RotationPolicyError::ExpiryTooShort(_))));
//! assert!("90 days".parse::<Iso8601Duration>().is_err());
//! # Ok::<(), RotationPolicyError>(())
//! ```

use azure_security_keyvault_keys::models as kv;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{fmt, str::FromStr};
use time::OffsetDateTime;

/// Seconds in a day.
const DAY: u64 = 86_400;
/// The shortest trigger period, and the least time between a trigger and the creation or the
/// expiry of a version.
const MIN_TRIGGER_SECS: u64 = 7 * DAY;
/// The shortest `expiryTime`.
const MIN_EXPIRY_SECS: u64 = 28 * DAY;

/// Why a rotation policy, or a part of it, is not one Key Vault accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RotationPolicyError {
    /// The text is not an ISO 8601 duration such as `P90D`, `P1Y6M` or `PT48H`.
    #[error("{input:?} is not an ISO 8601 duration such as P90D: {reason}")]
    InvalidDuration {
        /// The text (at most its first 64 characters).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The action type is neither `Rotate` nor `Notify`.
    #[error("{0:?} is not a lifetime action type (Rotate or Notify)")]
    UnknownActionType(String),
    /// A policy has more than one action of a type.
    #[error("a rotation policy holds at most one {0} action")]
    DuplicateAction(LifetimeActionType),
    /// A `Notify` action has a `timeAfterCreate` trigger (only `Rotate` takes one).
    #[error(
        "timeAfterCreate can only trigger a Rotate action; a Notify action takes timeBeforeExpiry"
    )]
    NotifyAfterCreate,
    /// A trigger period is shorter than 7 days.
    #[error("the {action} trigger {period} is shorter than 7 days (P7D)")]
    TriggerTooShort {
        /// The action it triggers.
        action: LifetimeActionType,
        /// The period.
        period: Iso8601Duration,
    },
    /// `expiryTime` is shorter than 28 days.
    #[error("expiryTime {0} is shorter than 28 days (P28D)")]
    ExpiryTooShort(Iso8601Duration),
    /// A `timeAfterCreate` trigger falls less than 7 days before the expiry.
    #[error(
        "the {action} action {after_create} after creation falls less than 7 days before the expiry (expiryTime {expiry_time})"
    )]
    TooCloseToExpiry {
        /// The action.
        action: LifetimeActionType,
        /// Its `timeAfterCreate`.
        after_create: Iso8601Duration,
        /// The policy's `expiryTime`.
        expiry_time: Iso8601Duration,
    },
    /// A `timeBeforeExpiry` trigger falls less than 7 days after the creation.
    #[error(
        "the {action} action {before_expiry} before expiry falls less than 7 days after creation (expiryTime {expiry_time})"
    )]
    TooCloseToCreation {
        /// The action.
        action: LifetimeActionType,
        /// Its `timeBeforeExpiry`.
        before_expiry: Iso8601Duration,
        /// The policy's `expiryTime`.
        expiry_time: Iso8601Duration,
    },
}

/// An ISO 8601 duration as Key Vault reads it (`P90D`, `P1Y6M`, `P2W`, `PT48H`,
/// `P1DT12H`): a year counts 365 days, a month 30, a week 7.
///
/// Parsing is case-insensitive and keeps the text (uppercased): [`Display`](fmt::Display)
/// gives back exactly what was parsed, and serde reads and writes that string. Designators come
/// in the order `Y M W D T H M S`, each at most once; only the last number may have a fraction.
///
/// ```
/// use aci_cmk_keyvault::rotation_policy::Iso8601Duration;
///
/// let d: Iso8601Duration = "P1Y10D".parse()?;
/// assert_eq!(d.to_string(), "P1Y10D");
/// assert_eq!(d.to_duration(), time::Duration::days(375));
/// assert_eq!(Iso8601Duration::days(90).as_str(), "P90D");
/// for junk in ["", "P", "PT", "90D", "P1D1Y", "P1.5Y2D", "P-1D", "P1H", "P1DT"] {
///     assert!(junk.parse::<Iso8601Duration>().is_err(), "{junk}");
/// }
/// # Ok::<(), aci_cmk_keyvault::rotation_policy::RotationPolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Iso8601Duration {
    text: String,
    secs: u64,
    nanos: u32,
}

impl Iso8601Duration {
    fn whole(number: u32, designator: char, date: bool, secs_per_unit: u64) -> Self {
        let prefix = if date { "P" } else { "PT" };
        Self {
            text: format!("{prefix}{number}{designator}"),
            secs: u64::from(number) * secs_per_unit,
            nanos: 0,
        }
    }

    /// `P{n}D`.
    pub fn days(n: u32) -> Self {
        Self::whole(n, 'D', true, DAY)
    }

    /// `P{n}W` (7 days each).
    pub fn weeks(n: u32) -> Self {
        Self::whole(n, 'W', true, 7 * DAY)
    }

    /// `P{n}M` (30 days each).
    pub fn months(n: u32) -> Self {
        Self::whole(n, 'M', true, 30 * DAY)
    }

    /// `P{n}Y` (365 days each).
    pub fn years(n: u32) -> Self {
        Self::whole(n, 'Y', true, 365 * DAY)
    }

    /// `PT{n}H`.
    pub fn hours(n: u32) -> Self {
        Self::whole(n, 'H', false, 3_600)
    }

    /// The text, e.g. `P90D`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How long it is, with Key Vault's year (365 days) and month (30 days).
    pub fn to_duration(&self) -> time::Duration {
        // Parsing bounds the seconds to `i64`; the constructors cannot exceed it.
        let secs = i64::try_from(self.secs).unwrap_or(i64::MAX);
        time::Duration::new(secs, i32::try_from(self.nanos).unwrap_or(0))
    }

    /// Whether it is at least `secs` long.
    fn at_least(&self, secs: u64) -> bool {
        self.secs >= secs
    }

    /// Whether `self` + `extra` seconds is longer than `other`.
    fn plus_exceeds(&self, extra: u64, other: &Self) -> bool {
        (u128::from(self.secs.saturating_add(extra)) << 32) + u128::from(self.nanos)
            > (u128::from(other.secs) << 32) + u128::from(other.nanos)
    }
}

impl fmt::Display for Iso8601Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Iso8601Duration {
    type Err = RotationPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| RotationPolicyError::InvalidDuration {
            input: s.chars().take(64).collect(),
            reason,
        };
        let text = s.to_ascii_uppercase();
        let rest = text
            .strip_prefix('P')
            .ok_or_else(|| bad("it does not start with P"))?;
        let (date, time) = match rest.split_once('T') {
            Some((date, time)) => {
                if time.is_empty() {
                    return Err(bad("a T is not followed by hours, minutes or seconds"));
                }
                (date, Some(time))
            }
            None => (rest, None),
        };
        const DATE: [(char, u64); 4] = [
            ('Y', 365 * DAY),
            ('M', 30 * DAY),
            ('W', 7 * DAY),
            ('D', DAY),
        ];
        const TIME: [(char, u64); 3] = [('H', 3_600), ('M', 60), ('S', 1)];
        let mut components: Vec<(&str, u64)> = Vec::new();
        for (part, units) in [(date, &DATE[..]), (time.unwrap_or(""), &TIME[..])] {
            let mut next_unit = 0;
            let mut number_start = 0;
            for (i, c) in part.char_indices() {
                if c.is_ascii_digit() || c == '.' || c == ',' {
                    continue;
                }
                let Some(offset) = units[next_unit..].iter().position(|(d, _)| *d == c) else {
                    return Err(bad(if units.iter().any(|(d, _)| *d == c) {
                        "its designators are out of order or repeated"
                    } else {
                        "it has a character that is not a number or a designator of its part"
                    }));
                };
                let number = &part[number_start..i];
                if number.is_empty() {
                    return Err(bad("a designator has no number"));
                }
                components.push((number, units[next_unit + offset].1));
                next_unit += offset + 1;
                number_start = i + c.len_utf8();
            }
            if number_start != part.len() {
                return Err(bad("a number has no designator"));
            }
        }
        if components.is_empty() {
            return Err(bad("it has no number"));
        }
        let last = components.len() - 1;
        let mut nanos_total: u128 = 0;
        for (i, (number, unit)) in components.iter().enumerate() {
            let (whole, fraction) = match number.split_once(['.', ',']) {
                Some((whole, fraction)) => (whole, Some(fraction)),
                None => (*number, None),
            };
            if fraction.is_some() && i != last {
                return Err(bad("only its last number may have a fraction"));
            }
            if whole.is_empty() || fraction.is_some_and(|f| f.is_empty() || f.contains(['.', ',']))
            {
                return Err(bad("a number is malformed"));
            }
            let whole: u128 = whole.parse().map_err(|_| bad("a number is too large"))?;
            nanos_total = whole
                .checked_mul(u128::from(*unit) * 1_000_000_000)
                .and_then(|n| n.checked_add(nanos_total))
                .ok_or_else(|| bad("it is too long"))?;
            if let Some(fraction) = fraction {
                // Nine digits of the fraction are a nanosecond's precision.
                let digits: String = fraction.chars().take(9).collect();
                let scale = 10u128.pow(u32::try_from(digits.len()).unwrap_or(9));
                let value: u128 = digits.parse().map_err(|_| bad("a number is malformed"))?;
                nanos_total = nanos_total
                    .checked_add(value * u128::from(*unit) * 1_000_000_000 / scale)
                    .ok_or_else(|| bad("it is too long"))?;
            }
        }
        let secs = u64::try_from(nanos_total / 1_000_000_000)
            .ok()
            .filter(|s| i64::try_from(*s).is_ok())
            .ok_or_else(|| bad("it is too long"))?;
        let nanos = u32::try_from(nanos_total % 1_000_000_000).unwrap_or(0);
        Ok(Self { text, secs, nanos })
    }
}

impl Serialize for Iso8601Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Iso8601Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a lifetime action does. On the wire `{"type": "Rotate"}`, read case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LifetimeActionType {
    /// Create a new key version.
    Rotate,
    /// Publish a `Microsoft.KeyVault.KeyNearExpiry` event (Event Grid).
    Notify,
}

impl LifetimeActionType {
    /// `Rotate` or `Notify`.
    pub fn as_str(self) -> &'static str {
        match self {
            LifetimeActionType::Rotate => "Rotate",
            LifetimeActionType::Notify => "Notify",
        }
    }

    fn to_official(self) -> kv::KeyRotationPolicyAction {
        match self {
            LifetimeActionType::Rotate => kv::KeyRotationPolicyAction::Rotate,
            LifetimeActionType::Notify => kv::KeyRotationPolicyAction::Notify,
        }
    }
}

impl fmt::Display for LifetimeActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LifetimeActionType {
    type Err = RotationPolicyError;

    /// Case-insensitive, as Key Vault compares it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("rotate") {
            Ok(LifetimeActionType::Rotate)
        } else if s.eq_ignore_ascii_case("notify") {
            Ok(LifetimeActionType::Notify)
        } else {
            Err(RotationPolicyError::UnknownActionType(
                s.chars().take(64).collect(),
            ))
        }
    }
}

impl Serialize for LifetimeActionType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LifetimeActionType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// When a lifetime action fires, relative to a key version's creation or expiry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "WireTrigger", into = "WireTrigger")]
#[non_exhaustive]
pub enum LifetimeTrigger {
    /// This long after the version was created (`timeAfterCreate`; `Rotate` only).
    AfterCreate(Iso8601Duration),
    /// This long before the version expires (`timeBeforeExpiry`).
    BeforeExpiry(Iso8601Duration),
}

impl LifetimeTrigger {
    /// The period.
    pub fn period(&self) -> &Iso8601Duration {
        match self {
            LifetimeTrigger::AfterCreate(d) | LifetimeTrigger::BeforeExpiry(d) => d,
        }
    }
}

/// A trigger on the wire: exactly one of the two fields (`null` counts as absent).
#[derive(Serialize, Deserialize)]
struct WireTrigger {
    #[serde(
        rename = "timeAfterCreate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    time_after_create: Option<Iso8601Duration>,
    #[serde(
        rename = "timeBeforeExpiry",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    time_before_expiry: Option<Iso8601Duration>,
}

impl TryFrom<WireTrigger> for LifetimeTrigger {
    type Error = &'static str;

    fn try_from(wire: WireTrigger) -> Result<Self, Self::Error> {
        match (wire.time_after_create, wire.time_before_expiry) {
            (Some(d), None) => Ok(LifetimeTrigger::AfterCreate(d)),
            (None, Some(d)) => Ok(LifetimeTrigger::BeforeExpiry(d)),
            _ => Err("a trigger has exactly one of timeAfterCreate and timeBeforeExpiry"),
        }
    }
}

impl From<LifetimeTrigger> for WireTrigger {
    fn from(trigger: LifetimeTrigger) -> Self {
        match trigger {
            LifetimeTrigger::AfterCreate(d) => WireTrigger {
                time_after_create: Some(d),
                time_before_expiry: None,
            },
            LifetimeTrigger::BeforeExpiry(d) => WireTrigger {
                time_after_create: None,
                time_before_expiry: Some(d),
            },
        }
    }
}

/// One action of a policy and its trigger. On the wire
/// `{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "WireAction", into = "WireAction")]
#[non_exhaustive]
pub struct LifetimeAction {
    /// When it fires.
    pub trigger: LifetimeTrigger,
    /// What it does.
    pub action: LifetimeActionType,
}

impl LifetimeAction {
    /// `action` when `trigger` fires.
    pub fn new(trigger: LifetimeTrigger, action: LifetimeActionType) -> Self {
        Self { trigger, action }
    }

    /// Rotate `period` after each version is created.
    pub fn rotate_after(period: Iso8601Duration) -> Self {
        Self::new(
            LifetimeTrigger::AfterCreate(period),
            LifetimeActionType::Rotate,
        )
    }

    /// Rotate `period` before each version expires.
    pub fn rotate_before_expiry(period: Iso8601Duration) -> Self {
        Self::new(
            LifetimeTrigger::BeforeExpiry(period),
            LifetimeActionType::Rotate,
        )
    }

    /// Notify `period` before each version expires.
    pub fn notify_before_expiry(period: Iso8601Duration) -> Self {
        Self::new(
            LifetimeTrigger::BeforeExpiry(period),
            LifetimeActionType::Notify,
        )
    }
}

#[derive(Serialize, Deserialize)]
struct WireActionType {
    #[serde(rename = "type")]
    kind: LifetimeActionType,
}

#[derive(Serialize, Deserialize)]
struct WireAction {
    trigger: LifetimeTrigger,
    action: WireActionType,
}

impl From<WireAction> for LifetimeAction {
    fn from(wire: WireAction) -> Self {
        Self::new(wire.trigger, wire.action.kind)
    }
}

impl From<LifetimeAction> for WireAction {
    fn from(action: LifetimeAction) -> Self {
        WireAction {
            trigger: action.trigger,
            action: WireActionType {
                kind: action.action,
            },
        }
    }
}

/// A key's rotation policy: what Key Vault does over the life of each version, and how long
/// each new version lives.
///
/// Serialised in Key Vault's form (`{"id", "lifetimeActions", "attributes": {"expiryTime",
/// "created", "updated"}}`, times in unix seconds); `id`, `created` and `updated` are the
/// vault's (read-only: [`set_rotation_policy`](crate::KeyVaultKeys::set_rotation_policy) never
/// sends them).
///
/// A key that never had a policy set answers Key Vault's default: one `Notify` action 30 days
/// before expiry, no `expiryTime`. When a policy without a `Notify` action is set, the vault
/// adds that default one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WirePolicy", into = "WirePolicy")]
#[non_exhaustive]
pub struct KeyRotationPolicy {
    /// `https://{vault}/keys/{name}/rotationpolicy`, as the vault answers it.
    pub id: Option<String>,
    /// The actions, in order.
    pub lifetime_actions: Vec<LifetimeAction>,
    /// How long each new version lives (`attributes.expiryTime`): a version the policy (or
    /// [`rotate_key`](crate::KeyVaultKeys::rotate_key)) creates expires this long after its
    /// creation.
    pub expiry_time: Option<Iso8601Duration>,
    /// When the policy was first set, as the vault answers it.
    pub created: Option<OffsetDateTime>,
    /// When it was last set, as the vault answers it.
    pub updated: Option<OffsetDateTime>,
}

impl KeyRotationPolicy {
    /// A policy without actions or expiry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that rotates `period` after each version is created.
    pub fn rotate_after(period: Iso8601Duration) -> Self {
        Self::new().with_action(LifetimeAction::rotate_after(period))
    }

    /// A policy that rotates `period` before each version expires (a version without an
    /// expiry is never rotated by it).
    pub fn rotate_before_expiry(period: Iso8601Duration) -> Self {
        Self::new().with_action(LifetimeAction::rotate_before_expiry(period))
    }

    /// Sets how long each new version lives (`expiryTime`).
    pub fn with_expiry(mut self, expiry_time: Iso8601Duration) -> Self {
        self.expiry_time = Some(expiry_time);
        self
    }

    /// Notifies `period` before each version expires, in place of any other `Notify` action.
    pub fn with_notify_before_expiry(mut self, period: Iso8601Duration) -> Self {
        self.lifetime_actions
            .retain(|a| a.action != LifetimeActionType::Notify);
        self.lifetime_actions
            .push(LifetimeAction::notify_before_expiry(period));
        self
    }

    /// Appends `action` as it is ([`validate`](Self::validate) checks the whole).
    pub fn with_action(mut self, action: LifetimeAction) -> Self {
        self.lifetime_actions.push(action);
        self
    }

    /// The trigger of the `Rotate` action, if the policy rotates.
    pub fn rotation_trigger(&self) -> Option<&LifetimeTrigger> {
        self.lifetime_actions
            .iter()
            .find(|a| a.action == LifetimeActionType::Rotate)
            .map(|a| &a.trigger)
    }

    /// Checks the policy against Key Vault's rules (see the [module](self) docs); the first rule
    /// broken is the error.
    pub fn validate(&self) -> Result<(), RotationPolicyError> {
        for a in &self.lifetime_actions {
            if !a.trigger.period().at_least(MIN_TRIGGER_SECS) {
                return Err(RotationPolicyError::TriggerTooShort {
                    action: a.action,
                    period: a.trigger.period().clone(),
                });
            }
            if matches!(a.trigger, LifetimeTrigger::AfterCreate(_))
                && a.action == LifetimeActionType::Notify
            {
                return Err(RotationPolicyError::NotifyAfterCreate);
            }
        }
        for kind in [LifetimeActionType::Rotate, LifetimeActionType::Notify] {
            if self
                .lifetime_actions
                .iter()
                .filter(|a| a.action == kind)
                .count()
                > 1
            {
                return Err(RotationPolicyError::DuplicateAction(kind));
            }
        }
        let Some(expiry) = &self.expiry_time else {
            return Ok(());
        };
        if !expiry.at_least(MIN_EXPIRY_SECS) {
            return Err(RotationPolicyError::ExpiryTooShort(expiry.clone()));
        }
        for a in &self.lifetime_actions {
            match &a.trigger {
                LifetimeTrigger::AfterCreate(after)
                    if after.plus_exceeds(MIN_TRIGGER_SECS, expiry) =>
                {
                    return Err(RotationPolicyError::TooCloseToExpiry {
                        action: a.action,
                        after_create: after.clone(),
                        expiry_time: expiry.clone(),
                    });
                }
                LifetimeTrigger::BeforeExpiry(before)
                    if before.plus_exceeds(MIN_TRIGGER_SECS, expiry) =>
                {
                    return Err(RotationPolicyError::TooCloseToCreation {
                        action: a.action,
                        before_expiry: before.clone(),
                        expiry_time: expiry.clone(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// When the policy rotates a version created at `created` that expires at `expires`:
    /// `created` + `timeAfterCreate`, or `expires` − `timeBeforeExpiry`. `None` when the policy
    /// has no `Rotate` action, or rotates before an expiry the version does not have. The time
    /// may be past (Key Vault then rotates the next time it looks).
    pub fn next_rotation(
        &self,
        created: OffsetDateTime,
        expires: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        match self.rotation_trigger()? {
            LifetimeTrigger::AfterCreate(after) => created.checked_add(after.to_duration()),
            LifetimeTrigger::BeforeExpiry(before) => expires?.checked_sub(before.to_duration()),
        }
    }

    /// When a version the policy creates at `created` expires: `created` + `expiryTime`
    /// (`None` without an `expiryTime`: the version does not expire).
    pub fn new_version_expires(&self, created: OffsetDateTime) -> Option<OffsetDateTime> {
        created.checked_add(self.expiry_time.as_ref()?.to_duration())
    }

    /// The request body of `PUT …/rotationpolicy`, in the official client's model (which never
    /// serialises the read-only `id`, `created` and `updated`).
    pub(crate) fn to_official(&self) -> kv::KeyRotationPolicy {
        kv::KeyRotationPolicy {
            attributes: Some(kv::KeyRotationPolicyAttributes {
                expiry_time: self.expiry_time.as_ref().map(ToString::to_string),
                ..kv::KeyRotationPolicyAttributes::default()
            }),
            lifetime_actions: Some(
                self.lifetime_actions
                    .iter()
                    .map(|a| kv::LifetimeAction {
                        action: Some(kv::LifetimeActionType {
                            type_prop: Some(a.action.to_official()),
                        }),
                        trigger: Some(match &a.trigger {
                            LifetimeTrigger::AfterCreate(d) => kv::LifetimeActionTrigger {
                                time_after_create: Some(d.to_string()),
                                time_before_expiry: None,
                            },
                            LifetimeTrigger::BeforeExpiry(d) => kv::LifetimeActionTrigger {
                                time_after_create: None,
                                time_before_expiry: Some(d.to_string()),
                            },
                        }),
                    })
                    .collect(),
            ),
            ..kv::KeyRotationPolicy::default()
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct WireAttributes {
    #[serde(
        rename = "expiryTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    expiry_time: Option<Iso8601Duration>,
    #[serde(
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    created: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    updated: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct WirePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(
        rename = "lifetimeActions",
        default,
        deserialize_with = "null_as_empty"
    )]
    lifetime_actions: Vec<LifetimeAction>,
    #[serde(default, deserialize_with = "null_as_default")]
    attributes: WireAttributes,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LifetimeAction>, D::Error> {
    Ok(Option::deserialize(d)?.unwrap_or_default())
}

fn null_as_default<'de, D: Deserializer<'de>>(d: D) -> Result<WireAttributes, D::Error> {
    Ok(Option::deserialize(d)?.unwrap_or_default())
}

impl From<WirePolicy> for KeyRotationPolicy {
    fn from(wire: WirePolicy) -> Self {
        Self {
            id: wire.id,
            lifetime_actions: wire.lifetime_actions,
            expiry_time: wire.attributes.expiry_time,
            created: wire.attributes.created,
            updated: wire.attributes.updated,
        }
    }
}

impl From<KeyRotationPolicy> for WirePolicy {
    fn from(policy: KeyRotationPolicy) -> Self {
        WirePolicy {
            id: policy.id,
            lifetime_actions: policy.lifetime_actions,
            attributes: WireAttributes {
                expiry_time: policy.expiry_time,
                created: policy.created,
                updated: policy.updated,
            },
        }
    }
}

#[cfg(test)]
mod tests;
