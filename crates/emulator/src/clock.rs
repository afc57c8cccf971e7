//! The emulator's one clock. Every time a service reads (token `nbf`/`exp`, key `nbf`/`exp`,
//! soft-delete retention and purge dates, long-running-operation progress, propagation delays,
//! rotation due dates) comes from here. It follows real time, shifted by an offset that only
//! grows: [`Clock::advance`] moves it forward, never back. Network faults (latency, throttling)
//! keep real time: they model the wire, not Azure's calendar.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

/// The largest single move of the clock: 100 years.
pub const MAX_ADVANCE: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// Why the clock could not be moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The jump is longer than [`MAX_ADVANCE`].
    #[error("the clock moves at most 100 years at a time")]
    TooFar,
    /// The duration is not an ISO 8601 duration the emulator reads.
    #[error("'{0}' is not an ISO 8601 duration such as P91D, PT12H or P1Y2M3DT4H5M6S")]
    BadDuration(String),
}

/// The emulator's clock: real time plus an offset that only grows.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// A clock `offset_ms` ahead of real time (as remembered in a state directory).
    pub fn with_offset_ms(offset_ms: i64) -> Self {
        Self {
            offset_ms: AtomicI64::new(offset_ms.max(0)),
        }
    }

    /// How far the clock is ahead of real time, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Emulator time now.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::milliseconds(self.offset_ms())
    }

    /// Emulator time now, in unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Emulator time now, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        (self.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// Emulator time now, RFC 3339.
    pub fn now_rfc3339(&self) -> String {
        crate::config::rfc3339(self.now())
    }

    /// Moves the clock forward by `by` and answers the new time.
    pub fn advance(&self, by: Duration) -> Result<OffsetDateTime, ClockError> {
        if by > MAX_ADVANCE {
            return Err(ClockError::TooFar);
        }
        let ms = i64::try_from(by.as_millis()).map_err(|_| ClockError::TooFar)?;
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        Ok(self.now())
    }
}

/// Parses an ISO 8601 duration (`P91D`, `PT12H`, `P1Y2M3DT4H5M6.5S`, `P2W`). Years count 365
/// days and months 30, as Key Vault reads rotation-policy durations.
pub fn parse_iso8601_duration(s: &str) -> Result<Duration, ClockError> {
    let bad = || ClockError::BadDuration(s.chars().take(64).collect());
    let rest = s.strip_prefix(['P', 'p']).ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let mut secs: f64 = 0.0;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    let mut any_time = false;
    for c in rest.chars() {
        match c {
            'T' | 't' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' => number.push(c),
            unit => {
                let n: f64 = number.parse().map_err(|_| bad())?;
                number.clear();
                let factor = match (in_time, unit.to_ascii_uppercase()) {
                    (false, 'Y') => 365.0 * 86_400.0,
                    (false, 'M') => 30.0 * 86_400.0,
                    (false, 'W') => 7.0 * 86_400.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return Err(bad()),
                };
                secs += n * factor;
                any = true;
                any_time |= in_time;
            }
        }
    }
    if !number.is_empty() || !any || (in_time && !any_time) || !secs.is_finite() {
        return Err(bad());
    }
    if secs > MAX_ADVANCE.as_secs_f64() {
        return Err(ClockError::TooFar);
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_key_vault_reads_them() {
        let day = 86_400;
        for (text, secs) in [
            ("P91D", 91 * day),
            ("PT12H", 12 * 3600),
            ("P1Y", 365 * day),
            ("P2W", 14 * day),
            ("P1M", 30 * day),
            ("PT1M", 60),
            ("P1DT1H1M1S", day + 3661),
            ("p3d", 3 * day),
        ] {
            assert_eq!(
                parse_iso8601_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(
            parse_iso8601_duration("PT0.5S"),
            Ok(Duration::from_millis(500))
        );
    }

    #[test]
    fn bad_durations_are_refused() {
        for text in [
            "", "P", "PT", "91D", "P-1D", "P1H", "PT1D", "P1", "P1.2.3D", "PXD", "P1DT",
        ] {
            assert!(
                matches!(
                    parse_iso8601_duration(text),
                    Err(ClockError::BadDuration(_))
                ),
                "{text}"
            );
        }
        assert_eq!(parse_iso8601_duration("P101Y"), Err(ClockError::TooFar));
    }

    #[test]
    fn the_clock_moves_forward_only_and_at_most_a_century() {
        let clock = Clock::default();
        let before = clock.now();
        let after = clock
            .advance(Duration::from_secs(91 * 86_400))
            .expect("advance");
        assert!(after - before >= time::Duration::days(91));
        assert_eq!(clock.offset_ms(), 91 * 86_400_000);
        assert_eq!(
            clock.advance(MAX_ADVANCE + Duration::from_secs(1)),
            Err(ClockError::TooFar)
        );
        assert_eq!(clock.offset_ms(), 91 * 86_400_000);
        assert_eq!(Clock::with_offset_ms(-5).offset_ms(), 0);
    }
}
