//! [`Frontend`]: what the server keeps beside the services — fault injection, the request log
//! and the live connections that a dropped-connection fault closes.

use std::sync::Arc;

use super::faults::Faults;
use super::request_log::RequestLog;
use super::tls::Connections;
use crate::context::Shared;

/// The services' shared parts plus the server's own.
#[derive(Debug)]
pub struct Frontend {
    /// What every service shares.
    pub shared: Arc<Shared>,
    /// Fault injection.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// Live connections (for dropped-connection faults).
    pub connections: Arc<Connections>,
}
