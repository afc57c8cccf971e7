//! Fault injection, configured through the admin API and driven by a seeded RNG so that a
//! failing run replays exactly (for the same sequence of requests).
//!
//! A [`FaultConfig`] holds a seed, a list of [`FaultRule`]s and a directory replication delay.
//! For each request, rules are evaluated in order; each matching rule draws from the RNG to
//! decide whether it fires. Latency rules add up; the first firing throttle/error/drop rule
//! decides the outcome.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::context::is_write;
use crate::router::Service;

fn one() -> f64 {
    1.0
}

fn one_u64() -> u64 {
    1
}

/// What a rule does when it fires.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultAction {
    /// Adds `fixed_ms` plus a uniform random `0..=jitter_ms`.
    Latency {
        /// Fixed delay.
        fixed_ms: u64,
        /// Maximum random extra delay.
        #[serde(default)]
        jitter_ms: u64,
    },
    /// Answers 429 with `Retry-After`.
    Throttle {
        /// Seconds in `Retry-After`.
        #[serde(default = "one_u64")]
        retry_after_secs: u64,
    },
    /// Token bucket per subscription (for ARM writes with `writes_only`): 429 when empty.
    TokenBucket {
        /// Bucket size.
        capacity: u32,
        /// Tokens added per second.
        refill_per_sec: f64,
        /// Seconds in `Retry-After` (with [`BucketPacing::WholeSeconds`], the least sent).
        #[serde(default = "one_u64")]
        retry_after_secs: u64,
        /// How a refused caller is told when to come back.
        #[serde(default)]
        pacing: BucketPacing,
    },
    /// Answers with this 5xx status.
    Error {
        /// HTTP status (e.g. 500, 503).
        status: u16,
    },
    /// Closes the connection without a response.
    Drop,
}

/// How a token bucket tells a refused caller when to come back.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BucketPacing {
    /// `Retry-After: retry_after_secs` and `x-ms-retry-after-ms`: the milliseconds until the
    /// bucket holds a token for this caller (callers refused earlier come back first, one refill
    /// interval apart).
    #[default]
    PerCaller,
    /// As Azure Resource Manager paces: `Retry-After` alone, the whole seconds until the bucket
    /// holds a token again (rounded up, at least `retry_after_secs`), the same for every caller
    /// refused at that moment.
    WholeSeconds,
}

/// A fault rule, scoped by service and route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    /// `arm`, `graph`, `keyvault`, `token`, `msi`; absent = every service.
    #[serde(default)]
    pub service: Option<String>,
    /// HTTP method; absent = any.
    #[serde(default)]
    pub method: Option<String>,
    /// Case-insensitive substring of the path; absent = any.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests that change state (not GET/HEAD).
    #[serde(default)]
    pub writes_only: bool,
    /// Probability that a matching request is affected (0..=1). Ignored by token buckets.
    #[serde(default = "one")]
    pub rate: f64,
    /// Stop firing after this many hits.
    #[serde(default)]
    pub max_hits: Option<u64>,
    /// What happens.
    pub action: FaultAction,
}

/// The whole fault configuration.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct FaultConfig {
    /// RNG seed.
    #[serde(default)]
    pub seed: u64,
    /// Rules, evaluated in order.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// A principal created less than this many milliseconds ago is unknown to Key Vault
    /// authorization and to role-assignment principal checks (`None`: the timing profile's;
    /// `0`: no delay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_delay_ms: Option<u64>,
    /// How long a new container group stays `Pending` (`None`: the timing profile's; 0
    /// answers the PUT with the terminal state at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aci_provisioning_ms: Option<u64>,
}

/// Bounds of a fault configuration: beyond them a setting would stall every matching request
/// (a refill rate near zero, a latency of hours) or overflow the time arithmetic.
pub mod bounds {
    /// Longest injected latency (fixed plus jitter), in milliseconds: one minute.
    pub const MAX_LATENCY_MS: u64 = 60_000;
    /// Longest `Retry-After`, in seconds: one hour.
    pub const MAX_RETRY_AFTER_SECS: u64 = 3_600;
    /// Slowest token-bucket refill, tokens per second (one token every 1,000 s).
    pub const MIN_REFILL_PER_SEC: f64 = 0.001;
    /// Fastest token-bucket refill, tokens per second.
    pub const MAX_REFILL_PER_SEC: f64 = 1_000_000.0;
    /// Longest replication delay or provisioning time, in milliseconds: one day.
    pub const MAX_DELAY_MS: u64 = 86_400_000;
}

impl FaultConfig {
    /// Checks every field against the bounds (a latency of at most a minute, a refill from
    /// 0.001 to 1,000,000 tokens a second, `Retry-After` at most an hour, delays at most a
    /// day, rates from 0 to 1, 5xx errors); the error names the field at fault.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let field = |i: usize, name: &str| format!("rules[{i}].{name}");
        if self
            .replication_delay_ms
            .is_some_and(|ms| ms > bounds::MAX_DELAY_MS)
        {
            return Err((
                "replication_delay_ms".to_owned(),
                format!("at most {} (a day)", bounds::MAX_DELAY_MS),
            ));
        }
        if self
            .aci_provisioning_ms
            .is_some_and(|ms| ms > bounds::MAX_DELAY_MS)
        {
            return Err((
                "aci_provisioning_ms".to_owned(),
                format!("at most {} (a day)", bounds::MAX_DELAY_MS),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if !(rule.rate.is_finite() && (0.0..=1.0).contains(&rule.rate)) {
                return Err((field(i, "rate"), "a probability from 0 to 1".to_owned()));
            }
            match &rule.action {
                FaultAction::Latency {
                    fixed_ms,
                    jitter_ms,
                } => {
                    if fixed_ms.saturating_add(*jitter_ms) > bounds::MAX_LATENCY_MS {
                        return Err((
                            field(i, "action.fixed_ms"),
                            format!(
                                "fixed_ms + jitter_ms at most {} (a minute)",
                                bounds::MAX_LATENCY_MS
                            ),
                        ));
                    }
                }
                FaultAction::Throttle { retry_after_secs } => {
                    if *retry_after_secs > bounds::MAX_RETRY_AFTER_SECS {
                        return Err((
                            field(i, "action.retry_after_secs"),
                            format!("at most {} (an hour)", bounds::MAX_RETRY_AFTER_SECS),
                        ));
                    }
                }
                FaultAction::TokenBucket {
                    capacity,
                    refill_per_sec,
                    retry_after_secs,
                    ..
                } => {
                    if *capacity == 0 {
                        return Err((field(i, "action.capacity"), "at least 1".to_owned()));
                    }
                    if !(refill_per_sec.is_finite()
                        && (bounds::MIN_REFILL_PER_SEC..=bounds::MAX_REFILL_PER_SEC)
                            .contains(refill_per_sec))
                    {
                        return Err((
                            field(i, "action.refill_per_sec"),
                            format!(
                                "from {} to {} tokens a second",
                                bounds::MIN_REFILL_PER_SEC,
                                bounds::MAX_REFILL_PER_SEC
                            ),
                        ));
                    }
                    if *retry_after_secs > bounds::MAX_RETRY_AFTER_SECS {
                        return Err((
                            field(i, "action.retry_after_secs"),
                            format!("at most {} (an hour)", bounds::MAX_RETRY_AFTER_SECS),
                        ));
                    }
                }
                FaultAction::Error { status } => {
                    if !(500..=599).contains(status) {
                        return Err((field(i, "action.status"), "a 5xx status".to_owned()));
                    }
                }
                FaultAction::Drop => {}
            }
        }
        Ok(())
    }
}

/// The decided effect on one request.
#[derive(Debug, Default)]
pub struct Decision {
    /// Delay before answering.
    pub delay: Duration,
    /// Replacement response, if any.
    pub outcome: Option<Outcome>,
}

/// A replacement response.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// 429 with Retry-After.
    Throttle {
        /// Seconds.
        retry_after_secs: u64,
        /// For a token bucket: milliseconds until it holds a token for this caller (the callers
        /// refused before it come back first, one refill interval apart), also sent as
        /// `x-ms-retry-after-ms` (whole-second `Retry-After` alone would make a client wait up
        /// to a second for a token that comes back in a few milliseconds).
        retry_after_ms: Option<u64>,
    },
    /// A 5xx.
    Error {
        /// Status.
        status: u16,
    },
    /// Drop the connection.
    Drop,
}

impl Outcome {
    /// Short description for the request log.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Throttle {
                retry_after_secs,
                retry_after_ms: None,
            } => format!("throttle(retry_after={retry_after_secs})"),
            Outcome::Throttle {
                retry_after_secs,
                retry_after_ms: Some(ms),
            } => format!("throttle(retry_after={retry_after_secs},retry_after_ms={ms})"),
            Outcome::Error { status } => format!("error({status})"),
            Outcome::Drop => "drop".to_owned(),
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
    /// When the next refused caller may come back: callers already told a time each get their
    /// own token, one refill interval apart, instead of all coming back for the same one.
    next_slot: Option<Instant>,
}

struct Inner {
    config: FaultConfig,
    rng: StdRng,
    hits: Vec<u64>,
    buckets: HashMap<(usize, String), Bucket>,
}

/// The fault engine.
pub struct Faults {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                config: FaultConfig::default(),
                rng: StdRng::seed_from_u64(0),
                hits: Vec::new(),
                buckets: HashMap::new(),
            }),
        }
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the configuration and re-seeds the RNG.
    pub fn set(&self, config: FaultConfig) {
        let mut g = self.lock();
        g.rng = StdRng::seed_from_u64(config.seed);
        g.hits = vec![0; config.rules.len()];
        g.buckets.clear();
        g.config = config;
    }

    /// The current configuration.
    pub fn get(&self) -> FaultConfig {
        self.lock().config.clone()
    }

    /// Decides what happens to a request.
    pub fn decide(
        &self,
        service: Service,
        method: &http::Method,
        path: &str,
        subscription: Option<&str>,
    ) -> Decision {
        let mut g = self.lock();
        let mut d = Decision::default();
        if g.config.rules.is_empty() {
            return d;
        }
        let path_lc = path.to_ascii_lowercase();
        let write = is_write(method);
        let Inner {
            config,
            rng,
            hits,
            buckets,
        } = &mut *g;
        // When the bucket that refused the request holds a token again: milliseconds for this
        // caller's slot, or whole seconds for everyone.
        let mut refill_ms: Option<u64> = None;
        let mut refill_secs: Option<u64> = None;
        for (i, rule) in config.rules.iter().enumerate() {
            if let Some(s) = &rule.service
                && !s.eq_ignore_ascii_case(service.as_str())
                && s != "*"
            {
                continue;
            }
            if let Some(m) = &rule.method
                && !m.eq_ignore_ascii_case(method.as_str())
            {
                continue;
            }
            if let Some(p) = &rule.path_contains
                && !path_lc.contains(&p.to_ascii_lowercase())
            {
                continue;
            }
            if rule.writes_only && !write {
                continue;
            }
            if let Some(max) = rule.max_hits
                && hits.get(i).copied().unwrap_or(0) >= max
            {
                continue;
            }
            let fires = match &rule.action {
                FaultAction::TokenBucket {
                    capacity,
                    refill_per_sec,
                    pacing,
                    ..
                } => {
                    let key = (i, subscription.unwrap_or("-").to_owned());
                    let now = Instant::now();
                    let b = buckets.entry(key).or_insert(Bucket {
                        tokens: f64::from(*capacity),
                        last: now,
                        next_slot: None,
                    });
                    let elapsed = now.duration_since(b.last).as_secs_f64();
                    b.tokens = (b.tokens + elapsed * refill_per_sec).min(f64::from(*capacity));
                    b.last = now;
                    if b.tokens >= 1.0 {
                        b.tokens -= 1.0;
                        false
                    } else if *pacing == BucketPacing::WholeSeconds {
                        let wait = (1.0 - b.tokens) / refill_per_sec;
                        refill_secs = Some(wait.ceil().max(1.0) as u64);
                        true
                    } else {
                        if *refill_per_sec > 0.0 {
                            let interval = Duration::from_secs_f64(1.0 / refill_per_sec);
                            let mut slot =
                                now + Duration::from_secs_f64((1.0 - b.tokens) / refill_per_sec);
                            if let Some(next) = b.next_slot
                                && next > slot
                            {
                                slot = next;
                            }
                            b.next_slot = Some(slot + interval);
                            let wait = (slot - now).as_secs_f64() * 1000.0;
                            refill_ms = Some((wait.ceil() as u64).max(1));
                        }
                        true
                    }
                }
                _ => {
                    let draw: f64 = rng.random();
                    draw < rule.rate
                }
            };
            if !fires {
                continue;
            }
            if let Some(h) = hits.get_mut(i) {
                *h += 1;
            }
            match &rule.action {
                FaultAction::Latency {
                    fixed_ms,
                    jitter_ms,
                } => {
                    let jitter = if *jitter_ms > 0 {
                        rng.random_range(0..=*jitter_ms)
                    } else {
                        0
                    };
                    d.delay += Duration::from_millis(fixed_ms + jitter);
                }
                FaultAction::Throttle { retry_after_secs } => {
                    if d.outcome.is_none() {
                        d.outcome = Some(Outcome::Throttle {
                            retry_after_secs: (*retry_after_secs).max(1),
                            retry_after_ms: None,
                        });
                    }
                }
                FaultAction::TokenBucket {
                    retry_after_secs, ..
                } => {
                    if d.outcome.is_none() {
                        d.outcome = Some(Outcome::Throttle {
                            retry_after_secs: (*retry_after_secs)
                                .max(refill_secs.unwrap_or(1))
                                .max(1),
                            retry_after_ms: refill_ms,
                        });
                    }
                }
                FaultAction::Error { status } => {
                    if d.outcome.is_none() {
                        d.outcome = Some(Outcome::Error { status: *status });
                    }
                }
                FaultAction::Drop => {
                    if d.outcome.is_none() {
                        d.outcome = Some(Outcome::Drop);
                    }
                }
            }
        }
        d
    }
}
