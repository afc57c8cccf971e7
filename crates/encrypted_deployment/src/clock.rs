//! [`Clock`]: where the SDK reads "now" — when a key version is expired, not yet valid or about
//! to expire, and when a new version should expire. The system clock by default; a test
//! against the emulator passes the emulator's, so moving that clock moves the orchestrator's
//! (and the posture audit's, which takes the same type).
//!
//! ```
//! use aci_cmk_encrypted_deployment::clock::Clock;
//! use time::macros::datetime;
//!
//! let clock = Clock::fixed(datetime!(2030-01-01 0:00 UTC));
//! assert_eq!(clock.now(), datetime!(2030-01-01 0:00 UTC));
//! assert!(Clock::system().now() > datetime!(2020-01-01 0:00 UTC));
//! ```

use std::{fmt, sync::Arc};
use time::OffsetDateTime;

/// Where the time is read; cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    /// Always `at`.
    pub fn fixed(at: OffsetDateTime) -> Self {
        Self(Arc::new(move || at))
    }

    /// Whatever `now` answers (for example an emulator's `Admin::now`).
    pub fn from_fn(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}
