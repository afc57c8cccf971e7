//! [`Timing`]: how long the services make clients wait — long-running operations, intermediate
//! provisioning states, directory and Key Vault propagation — chosen as a [`TimingProfile`] at
//! start, with the fault configuration able to override the propagation delay and the
//! container-group provisioning time. Every duration runs on the emulator's clock, so a test
//! moves through a two-minute delete in one call.

use std::sync::atomic::{AtomicU64, Ordering};

/// How long the services make clients wait.
///
/// - `Instant`: every operation is finished when it is answered; no propagation delay.
/// - `Fast` (the default): every intermediate state, polling header and propagation refusal
///   Azure shows, each lasting only long enough for a client to see it once or twice, so every
///   client's polling and retry paths run in every test.
/// - `Azure`: the states and order of live Azure, with durations of the magnitude its
///   recordings show (a container-group start takes about 20 s, a role assignment for a new
///   identity is refused for a couple of minutes).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TimingProfile {
    /// Finished at once.
    Instant,
    /// Every state, briefly.
    #[default]
    Fast,
    /// As live Azure.
    Azure,
}

/// A timing profile that is not `instant`, `fast` or `azure`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timing profile '{0}': use instant, fast or azure")]
pub struct UnknownTimingProfile(String);

impl std::str::FromStr for TimingProfile {
    type Err = UnknownTimingProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "instant" => Ok(Self::Instant),
            "fast" => Ok(Self::Fast),
            "azure" => Ok(Self::Azure),
            _ => Err(UnknownTimingProfile(s.chars().take(32).collect())),
        }
    }
}

impl std::fmt::Display for TimingProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Instant => "instant",
            Self::Fast => "fast",
            Self::Azure => "azure",
        })
    }
}

/// The durations of a profile, in milliseconds of the emulator's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Durations {
    /// A new container group stays `Pending` / `Creating`.
    pub aci_create_ms: u64,
    /// A started container group stays `Pending`.
    pub aci_start_ms: u64,
    /// A restarted container group stays `Updating`.
    pub aci_restart_ms: u64,
    /// A new vault stays `RegisteringDns`.
    pub vault_dns_ms: u64,
    /// A deleted resource group's delete operation runs.
    pub resource_group_delete_ms: u64,
    /// A purge of a deleted vault runs (`NotStarted` until done).
    pub vault_purge_ms: u64,
    /// A new principal is unknown to role assignments (without `principalType`) and to Key
    /// Vault authorization.
    pub principal_replication_ms: u64,
    /// A deleted key is not yet listed under `deletedkeys`.
    pub deleted_key_visible_ms: u64,
    /// A finished deployment still shows `Running`.
    pub deployment_settle_ms: u64,
}

impl TimingProfile {
    /// The profile's durations.
    pub fn durations(self) -> Durations {
        match self {
            Self::Instant => Durations {
                aci_create_ms: 0,
                aci_start_ms: 0,
                aci_restart_ms: 0,
                vault_dns_ms: 0,
                resource_group_delete_ms: 0,
                vault_purge_ms: 0,
                principal_replication_ms: 0,
                deleted_key_visible_ms: 0,
                deployment_settle_ms: 0,
            },
            Self::Fast => Durations {
                aci_create_ms: 150,
                aci_start_ms: 150,
                aci_restart_ms: 150,
                vault_dns_ms: 150,
                resource_group_delete_ms: 150,
                vault_purge_ms: 150,
                principal_replication_ms: 150,
                deleted_key_visible_ms: 150,
                deployment_settle_ms: 150,
            },
            // Magnitudes from the Azure SDKs' recordings of live runs (see the crate README).
            Self::Azure => Durations {
                aci_create_ms: 30_000,
                aci_start_ms: 19_000,
                aci_restart_ms: 15_000,
                vault_dns_ms: 10_000,
                resource_group_delete_ms: 60_000,
                vault_purge_ms: 60_000,
                principal_replication_ms: 120_000,
                deleted_key_visible_ms: 24_000,
                deployment_settle_ms: 2_000,
            },
        }
    }
}

/// `u64::MAX` in an override slot: no override.
const UNSET: u64 = u64::MAX;

/// The services' waiting times: the profile's, with the fault configuration's overrides.
#[derive(Debug)]
pub struct Timing {
    profile: TimingProfile,
    replication_override_ms: AtomicU64,
    aci_provisioning_override_ms: AtomicU64,
}

impl Default for Timing {
    fn default() -> Self {
        Self::new(TimingProfile::default())
    }
}

impl Timing {
    /// The waiting times of `profile`, without overrides.
    pub fn new(profile: TimingProfile) -> Self {
        Self {
            profile,
            replication_override_ms: AtomicU64::new(UNSET),
            aci_provisioning_override_ms: AtomicU64::new(UNSET),
        }
    }

    /// The profile's durations, with the overrides applied.
    pub fn durations(&self) -> Durations {
        let mut d = self.profile.durations();
        let replication = self.replication_override_ms.load(Ordering::Relaxed);
        if replication != UNSET {
            d.principal_replication_ms = replication;
        }
        let aci = self.aci_provisioning_override_ms.load(Ordering::Relaxed);
        if aci != UNSET {
            d.aci_create_ms = aci;
        }
        d
    }

    /// Sets the overrides of the fault configuration (`None`: the profile's value).
    pub fn set_overrides(
        &self,
        replication_delay_ms: Option<u64>,
        aci_provisioning_ms: Option<u64>,
    ) {
        let slot = |ms: Option<u64>| ms.map_or(UNSET, |ms| ms.min(UNSET - 1));
        self.replication_override_ms
            .store(slot(replication_delay_ms), Ordering::Relaxed);
        self.aci_provisioning_override_ms
            .store(slot(aci_provisioning_ms), Ordering::Relaxed);
    }

    /// A principal created less than this many milliseconds ago is unknown to Key Vault
    /// authorization and to role-assignment principal checks.
    pub fn replication_delay_ms(&self) -> u64 {
        self.durations().principal_replication_ms
    }

    /// How long a new container group stays `Pending`, in milliseconds.
    pub fn aci_provisioning_ms(&self) -> i64 {
        i64::try_from(self.durations().aci_create_ms).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_print() {
        for p in [
            TimingProfile::Instant,
            TimingProfile::Fast,
            TimingProfile::Azure,
        ] {
            assert_eq!(p.to_string().parse::<TimingProfile>(), Ok(p));
        }
        assert_eq!("AZURE".parse::<TimingProfile>(), Ok(TimingProfile::Azure));
        assert!("slow".parse::<TimingProfile>().is_err());
    }

    #[test]
    fn overrides_replace_the_profiles_values_until_cleared() {
        let t = Timing::new(TimingProfile::Azure);
        assert_eq!(t.replication_delay_ms(), 120_000);
        t.set_overrides(Some(0), Some(5));
        assert_eq!(t.replication_delay_ms(), 0);
        assert_eq!(t.aci_provisioning_ms(), 5);
        t.set_overrides(None, None);
        assert_eq!(t.durations(), TimingProfile::Azure.durations());
    }
}
