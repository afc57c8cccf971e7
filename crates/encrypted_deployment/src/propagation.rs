//! Waiting out Entra ID replication and RBAC propagation: a just-created identity or service
//! principal may be unknown for a while (`PrincipalNotFound`), and a fresh role assignment may
//! not be effective yet (`ForbiddenByRbac`). The dependent call is retried with bounded,
//! jittered exponential backoff on those errors only — never with fixed sleeps.

use std::time::Duration;

/// How long to wait out propagation.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PropagationRetry {
    /// The first wait.
    pub initial_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
    /// The longest total wait before giving up.
    pub max_total: Duration,
}

impl Default for PropagationRetry {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(15),
            max_total: Duration::from_secs(5 * 60),
        }
    }
}

impl PropagationRetry {
    /// Waits starting at `initial_delay`, at most `max_delay` each, `max_total` in all.
    pub fn new(initial_delay: Duration, max_delay: Duration, max_total: Duration) -> Self {
        Self {
            initial_delay,
            max_delay,
            max_total,
        }
    }

    /// The wait before attempt `attempt` (2 for the first retry): doubling from
    /// `initial_delay`, capped, with up to a quarter of jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(2).min(16);
        let base = self
            .initial_delay
            .saturating_mul(1 << exp)
            .min(self.max_delay);
        let jitter = base.mul_f64(rand::random::<f64>() * 0.25);
        base + jitter
    }
}

/// Whether an error means "not propagated yet": the principal is unknown
/// (`PrincipalNotFound`, Graph's `Request_ResourceNotFound`), RBAC has not caught up
/// (`ForbiddenByRbac`), or Container Instances could not reach the key with an access the run
/// has just granted (`KeyVaultAccessDenied`, the emulator's code; Azure documents none).
pub fn is_propagation_error(error: &aci_cmk_core::Error) -> bool {
    let codes: Vec<&str> = error
        .service_error()
        .map(|e| e.codes().collect())
        .unwrap_or_default();
    let has = |c: &str| codes.iter().any(|x| x.eq_ignore_ascii_case(c));
    matches!(error, aci_cmk_core::Error::ForbiddenByRbac(_)) && !has("AuthorizationFailed")
        || has("PrincipalNotFound")
        || has("Request_ResourceNotFound")
        || has("PrincipalNotReplicated")
        || has("KeyVaultAccessDenied")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let r = PropagationRetry::default();
        assert!(r.delay(2) >= Duration::from_millis(250));
        assert!(r.delay(3) >= Duration::from_millis(500));
        assert!(r.delay(30) <= Duration::from_secs(15) + Duration::from_secs(4));
    }
}
