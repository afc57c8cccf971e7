//! The audit and the remediation against the embedded emulator: a messy subscription built with
//! the SDK's own clients (`aci_cmk_posture::seed`), every finding kind found on it and none on
//! its clean resources ([`subscription`]), the boundaries ([`boundaries`]), one read per
//! distinct vault and key however many groups ([`requests`]), the SARIF log's shape
//! ([`sarif`]); each remediation kind from finding to no finding ([`remediation`]), the dry run
//! and the disruptive steps' gate ([`remediation_gates`]), and what a remediation never does
//! ([`never_weakens`]).

mod boundaries;
mod never_weakens;
mod remediation;
mod remediation_gates;
mod requests;
mod sarif;
mod subscription;

use aci_cmk_core::{
    cloud::EmulatorProfile,
    lro::LroOptions,
    names::{PrincipalId, TenantId},
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator, TimingProfile};
use aci_cmk_encrypted_deployment::{Backends, Connection};
use aci_cmk_posture::{AuditOptions, Clock, seed::Builder};
use std::time::Duration;

/// An emulator (instant timing) and the SDK's backends connected to it.
pub struct Env {
    /// The emulator.
    pub emulator: RunningEmulator,
    /// The real clients, connected to it.
    pub backends: Backends,
    /// The tenant.
    pub tenant: TenantId,
    /// The deployer's object id.
    pub deployer: PrincipalId,
}

impl Env {
    /// Starts an emulator on a free port and connects the SDK to it.
    pub async fn start() -> Self {
        let emulator = Emulator::start(EmulatorOptions {
            timing: TimingProfile::Instant,
            ..EmulatorOptions::default()
        })
        .await
        .expect("emulator starts");
        let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())
            .expect("ready line parses");
        let mut connection = Connection::emulator(&profile).expect("connects");
        connection.options.lro = LroOptions::default()
            .with_default_poll_interval(Duration::from_millis(10))
            .with_max_wait(Duration::from_secs(30));
        let backends = Backends::connect(&connection).await.expect("backends");
        Self {
            tenant: backends.deployer.tenant_id.clone(),
            deployer: backends.deployer.object_id.clone(),
            emulator,
            backends,
        }
    }

    /// A seed builder over the SDK's clients, at the emulator's time.
    pub fn builder(&self) -> Builder<'_> {
        Builder::new(&self.backends, self.emulator.admin().now()).expect("a builder")
    }

    /// Audit options reading the emulator's clock, the deployer allowed to unwrap (it holds
    /// Key Vault Crypto Officer on the RBAC vaults it manages).
    pub fn options(&self) -> AuditOptions {
        let admin = self.emulator.admin().clone();
        AuditOptions::default()
            .with_clock(Clock::from_fn(move || admin.now()))
            .with_allowed_unwrap_principal(self.deployer.clone())
    }
}
