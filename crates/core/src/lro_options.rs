//! [`LroOptions`]: how long-running operations are polled. Every client's options carry them
//! ([`ServiceClientOptions::lro`](crate::ServiceClientOptions::lro)), the pipeline holds them
//! and [`lro`](crate::lro) reads them while it polls. They stand apart from both so that the
//! poller can build on the pipeline without the pipeline importing the poller; users name
//! them `lro::LroOptions`.

use std::time::Duration;

/// How long-running operations are polled.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LroOptions {
    /// The longest an operation may take before [`Error::Timeout`](crate::Error::Timeout).
    pub max_wait: Duration,
    /// The wait between polls when the service gives no `Retry-After`.
    pub default_poll_interval: Duration,
    /// The longest wait between polls, whatever `Retry-After` says.
    pub max_poll_interval: Duration,
}

impl Default for LroOptions {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_secs(30 * 60),
            default_poll_interval: Duration::from_secs(5),
            max_poll_interval: Duration::from_secs(60),
        }
    }
}

impl LroOptions {
    /// Sets the total wait bound.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Sets the poll interval used when the service gives none.
    pub fn with_default_poll_interval(mut self, interval: Duration) -> Self {
        self.default_poll_interval = interval;
        self
    }

    /// Sets the longest wait between polls, whatever `Retry-After` says (a test that drives an
    /// emulator's clock faster than real time polls more often than the service asks).
    pub fn with_max_poll_interval(mut self, interval: Duration) -> Self {
        self.max_poll_interval = interval;
        self
    }
}
