//! [`Timing`]: how long the services make clients wait (directory replication, container-group
//! provisioning), set through the admin API's fault configuration and read by the services.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// How long a new container group stays `Pending` by default, in milliseconds.
pub const DEFAULT_ACI_PROVISIONING_MS: i64 = 150;

/// The services' waiting times.
#[derive(Debug)]
pub struct Timing {
    replication_delay_ms: AtomicU64,
    aci_provisioning_ms: AtomicI64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            replication_delay_ms: AtomicU64::new(0),
            aci_provisioning_ms: AtomicI64::new(DEFAULT_ACI_PROVISIONING_MS),
        }
    }
}

impl Timing {
    /// Sets both values (`aci_provisioning_ms: None` = the default).
    pub fn set(&self, replication_delay_ms: u64, aci_provisioning_ms: Option<u64>) {
        self.replication_delay_ms
            .store(replication_delay_ms, Ordering::Relaxed);
        let ms = aci_provisioning_ms.map_or(DEFAULT_ACI_PROVISIONING_MS, |ms| {
            i64::try_from(ms).unwrap_or(i64::MAX)
        });
        self.aci_provisioning_ms.store(ms, Ordering::Relaxed);
    }

    /// A principal created less than this many milliseconds ago is unknown to Key Vault
    /// authorization and to role-assignment principal checks.
    pub fn replication_delay_ms(&self) -> u64 {
        self.replication_delay_ms.load(Ordering::Relaxed)
    }

    /// How long a new container group stays `Pending`, in milliseconds.
    pub fn aci_provisioning_ms(&self) -> i64 {
        self.aci_provisioning_ms.load(Ordering::Relaxed)
    }
}
