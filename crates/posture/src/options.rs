//! [`AuditOptions`]: the thresholds the checks apply, the clock they read, how many reads run
//! at once, and who else may unwrap.

use aci_cmk_core::names::PrincipalId;

/// Where the audit reads the time ("expires within N days", "expired", "not yet valid"): the
/// orchestrator's clock type, so one clock serves both (the system's by default; a test
/// against the emulator passes the emulator's).
pub use aci_cmk_encrypted_deployment::clock::Clock;

/// The name parts that make an environment variable look like a secret, by default.
pub const DEFAULT_SECRET_MARKERS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "KEY",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CONNECTION_STRING",
    "CONNECTIONSTRING",
    "SAS",
];

/// How an audit reads and judges.
///
/// ```
/// use aci_cmk_posture::AuditOptions;
///
/// let options = AuditOptions::default()
///     .with_expiry_warning_days(14)
///     .with_min_rsa_key_bits(3072)
///     .with_concurrency(4);
/// assert_eq!(options.max_days_to_rotate, 90);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditOptions {
    /// Where "now" comes from (read once, when the audit starts).
    pub clock: Clock,
    /// A key version expiring within this many days is a finding (default 30). A version
    /// expiring exactly this many days from now is within.
    pub expiry_warning_days: u32,
    /// RSA keys smaller than this are a finding (default 2048; 3072 is recommended).
    pub min_rsa_key_bits: u32,
    /// A rotation policy rotating later than this many days after a version's creation is a
    /// finding (default 90, Azure Policy's default).
    pub max_days_to_rotate: u32,
    /// How many reads run at once (at least one; default 8).
    pub concurrency: usize,
    /// Principals that may hold `unwrapKey` on a CMK vault beside those its groups unwrap as
    /// (a break-glass identity, the deployer).
    pub allowed_unwrap_principals: Vec<PrincipalId>,
    /// The name parts that make an environment variable look like a secret (compared
    /// case-insensitively with the name's words; a marker of five letters or more also
    /// matches the end of a word, as in `DBPASSWORD`).
    pub secret_name_markers: Vec<String>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            expiry_warning_days: 30,
            min_rsa_key_bits: 2048,
            max_days_to_rotate: 90,
            concurrency: 8,
            allowed_unwrap_principals: Vec::new(),
            secret_name_markers: DEFAULT_SECRET_MARKERS
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
        }
    }
}

impl AuditOptions {
    /// Reads the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Warns of versions expiring within `days`.
    pub fn with_expiry_warning_days(mut self, days: u32) -> Self {
        self.expiry_warning_days = days;
        self
    }

    /// Requires RSA keys of at least `bits`.
    pub fn with_min_rsa_key_bits(mut self, bits: u32) -> Self {
        self.min_rsa_key_bits = bits;
        self
    }

    /// Requires rotation within `days` of a version's creation.
    pub fn with_max_days_to_rotate(mut self, days: u32) -> Self {
        self.max_days_to_rotate = days;
        self
    }

    /// Runs `concurrency` reads at once (at least one).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Lets `principal` hold `unwrapKey` without a finding.
    pub fn with_allowed_unwrap_principal(mut self, principal: PrincipalId) -> Self {
        self.allowed_unwrap_principals.push(principal);
        self
    }
}
