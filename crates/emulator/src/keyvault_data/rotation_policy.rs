//! [`RotationPolicy`]: a key's rotation policy as Key Vault validates it (`PUT
//! /keys/{name}/rotationpolicy`): `lifetimeActions` an array of `{trigger, action}`, each
//! trigger exactly one of `timeAfterCreate` / `timeBeforeExpiry` (ISO 8601 durations, at least 7
//! days), each action `Rotate` or `Notify` (case-insensitive; at most one of each;
//! `timeAfterCreate` only with `Rotate`), and `attributes.expiryTime` at least 28 days, which a
//! `timeBeforeExpiry` trigger needs and a `timeAfterCreate` trigger must fall 7 days before.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::access::KvError;
use crate::clock::parse_iso8601_duration;

/// The shortest trigger period, and the least time between a rotation and the expiry.
const MIN_TRIGGER: Duration = Duration::from_secs(7 * 86_400);
/// When Key Vault's default Notify action fires: 30 days before expiry.
const DEFAULT_NOTIFY: Duration = Duration::from_secs(30 * 86_400);
/// The shortest `expiryTime`.
const MIN_EXPIRY: Duration = Duration::from_secs(28 * 86_400);

/// What a lifetime action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionType {
    /// Creates a new key version.
    Rotate,
    /// Raises a near-expiry event.
    Notify,
}

impl ActionType {
    fn as_str(self) -> &'static str {
        match self {
            ActionType::Rotate => "Rotate",
            ActionType::Notify => "Notify",
        }
    }
}

/// When a lifetime action fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// This long after the version was created (the duration as given, and its length).
    AfterCreate(String, Duration),
    /// This long before the version expires.
    BeforeExpiry(String, Duration),
}

/// One lifetime action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeAction {
    /// When it fires.
    pub trigger: Trigger,
    /// What it does.
    pub action: ActionType,
}

/// A validated rotation policy (the read-only `id`, `created` and `updated` are not part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPolicy {
    /// The lifetime actions, as given.
    pub lifetime_actions: Vec<LifetimeAction>,
    /// `attributes.expiryTime`: how long each new version lives (as given, and its length).
    pub expiry_time: Option<(String, Duration)>,
}

fn bad(message: impl Into<String>) -> KvError {
    KvError::BadParameter(message.into())
}

/// Reads a duration field (`null` is absent, as the Azure CLI sends it).
fn duration(
    o: &Map<String, Value>,
    field: &str,
    at: &str,
) -> Result<Option<(String, Duration)>, KvError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_iso8601_duration(s)
            .map(|d| Some((s.clone(), d)))
            .map_err(|_| {
                bad(format!(
                    "{at}.{field} '{}' is not an ISO 8601 duration (such as P90D).",
                    s.chars().take(64).collect::<String>()
                ))
            }),
        Some(_) => Err(bad(format!(
            "{at}.{field} must be an ISO 8601 duration string."
        ))),
    }
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, KvError> {
    v.as_object()
        .ok_or_else(|| bad(format!("{at} must be an object.")))
}

fn lifetime_action(v: &Value, at: &str) -> Result<LifetimeAction, KvError> {
    let o = object(v, at)?;
    let trigger = object(
        o.get("trigger").unwrap_or(&Value::Null),
        &format!("{at}.trigger"),
    )?;
    let action = object(
        o.get("action").unwrap_or(&Value::Null),
        &format!("{at}.action"),
    )?;
    let action = match action.get("type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("rotate") => ActionType::Rotate,
        Some(t) if t.eq_ignore_ascii_case("notify") => ActionType::Notify,
        _ => {
            return Err(bad(format!(
                "{at}.action.type must be 'Rotate' or 'Notify'."
            )));
        }
    };
    let at_t = format!("{at}.trigger");
    let after = duration(trigger, "timeAfterCreate", &at_t)?;
    let before = duration(trigger, "timeBeforeExpiry", &at_t)?;
    let trigger = match (after, before) {
        (Some((s, d)), None) => Trigger::AfterCreate(s, d),
        (None, Some((s, d))) => Trigger::BeforeExpiry(s, d),
        _ => {
            return Err(bad(format!(
                "{at_t} must have exactly one of timeAfterCreate and timeBeforeExpiry."
            )));
        }
    };
    let period = match &trigger {
        Trigger::AfterCreate(_, d) | Trigger::BeforeExpiry(_, d) => *d,
    };
    if period < MIN_TRIGGER {
        return Err(bad(format!(
            "{at_t}: a trigger period must be at least 7 days (P7D)."
        )));
    }
    if matches!(trigger, Trigger::AfterCreate(..)) && action == ActionType::Notify {
        return Err(bad(format!(
            "{at}: timeAfterCreate can only trigger a Rotate action; a Notify action takes timeBeforeExpiry."
        )));
    }
    Ok(LifetimeAction { trigger, action })
}

impl RotationPolicy {
    /// Validates a `PUT …/rotationpolicy` body; read-only fields (`id`, `attributes.created`,
    /// `attributes.updated`) are ignored.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, KvError> {
        let actions = match body.get("lifetimeActions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(bad("lifetimeActions must be an array.")),
        };
        let lifetime_actions = actions
            .iter()
            .enumerate()
            .map(|(i, a)| lifetime_action(a, &format!("lifetimeActions[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        for kind in [ActionType::Rotate, ActionType::Notify] {
            if lifetime_actions.iter().filter(|a| a.action == kind).count() > 1 {
                return Err(bad(format!(
                    "lifetimeActions may hold at most one {} action.",
                    kind.as_str()
                )));
            }
        }
        let expiry_time = match body.get("attributes") {
            None | Some(Value::Null) => None,
            Some(a) => duration(object(a, "attributes")?, "expiryTime", "attributes")?,
        };
        if let Some((_, d)) = &expiry_time
            && *d < MIN_EXPIRY
        {
            return Err(bad(
                "attributes.expiryTime must be at least 28 days (P28D).",
            ));
        }
        for a in &lifetime_actions {
            match (&a.trigger, &expiry_time) {
                (Trigger::BeforeExpiry(_, before), Some((_, expiry)))
                    if *before + MIN_TRIGGER > *expiry =>
                {
                    return Err(bad(
                        "A timeBeforeExpiry trigger must leave at least 7 days after a version is created (expiryTime - timeBeforeExpiry >= P7D).",
                    ));
                }
                (Trigger::AfterCreate(_, after), Some((_, expiry)))
                    if *after + MIN_TRIGGER > *expiry =>
                {
                    return Err(bad(
                        "A timeAfterCreate trigger must fall at least 7 days before the expiry (timeAfterCreate <= expiryTime - P7D).",
                    ));
                }
                _ => {}
            }
        }
        Ok(Self {
            lifetime_actions,
            expiry_time,
        })
    }

    /// The policy as Key Vault stores it: a policy without a Notify action gets Key Vault's
    /// default one (30 days before expiry); one with its own Notify keeps only that.
    pub fn with_default_notify(mut self) -> Self {
        if !self
            .lifetime_actions
            .iter()
            .any(|a| a.action == ActionType::Notify)
        {
            self.lifetime_actions.push(LifetimeAction {
                trigger: Trigger::BeforeExpiry("P30D".to_owned(), DEFAULT_NOTIFY),
                action: ActionType::Notify,
            });
        }
        self
    }

    /// The policy as Key Vault answers it, with its `id` and `created`/`updated` (unix seconds).
    pub fn to_json(&self, id: &str, created: i64, updated: i64) -> Value {
        let actions: Vec<Value> = self
            .lifetime_actions
            .iter()
            .map(|a| {
                let trigger = match &a.trigger {
                    Trigger::AfterCreate(s, _) => json!({"timeAfterCreate": s}),
                    Trigger::BeforeExpiry(s, _) => json!({"timeBeforeExpiry": s}),
                };
                json!({"trigger": trigger, "action": {"type": a.action.as_str()}})
            })
            .collect();
        let mut attributes = json!({"created": created, "updated": updated});
        if let Some((s, _)) = &self.expiry_time {
            attributes["expiryTime"] = json!(s);
        }
        json!({"id": id, "lifetimeActions": actions, "attributes": attributes})
    }
}
