//! [`Frontend`]: what the server keeps beside the services — fault injection, the request log,
//! the requests in flight and the live connections that a dropped-connection fault closes.

use std::sync::Arc;

use super::faults::Faults;
use super::in_flight::InFlight;
use super::request_log::RequestLog;
use super::tls::Connections;
use crate::context::Shared;

/// The services' shared parts plus the server's own.
pub struct Frontend {
    /// What every service shares.
    pub shared: Arc<Shared>,
    /// Fault injection.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// The requests being handled now.
    pub in_flight: InFlight,
    /// Live connections (for dropped-connection faults).
    pub connections: Arc<Connections>,
    /// The bearer token every admin request must carry, when set.
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for Frontend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frontend")
            .field("shared", &self.shared)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}
