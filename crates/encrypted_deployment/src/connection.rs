//! Everything needed to talk to one Azure (real or emulated): endpoints, one shared transport,
//! one credential (so one token per audience), and the subscription.

use crate::backends::Backends;
use aci_cmk_core::{
    CloudEndpoints, ServiceClientOptions, TokenCredential,
    cloud::EmulatorProfile,
    credentials::CredentialBuilder,
    lro::LroOptions,
    names::SubscriptionId,
    transport::{HttpTransport, TransportOptions},
};
use std::{sync::Arc, time::Duration};

/// A cloud, a credential and a subscription, sharing one transport.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Connection {
    /// The endpoints.
    pub cloud: CloudEndpoints,
    /// The credential every client shares.
    pub credential: Arc<dyn TokenCredential>,
    /// The transport every client and the credential share.
    pub transport: HttpTransport,
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The options every client gets.
    pub options: ServiceClientOptions,
}

impl Connection {
    /// A connection to `cloud` with `credential`, over `transport`.
    pub fn new(
        cloud: CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        transport: HttpTransport,
        subscription_id: SubscriptionId,
    ) -> Self {
        let options = ServiceClientOptions::with_transport(&transport);
        Self {
            cloud,
            credential,
            transport,
            subscription_id,
            options,
        }
    }

    /// A connection to the local emulator described by its ready line: its endpoints, its CA
    /// trusted, its deployer principal's client secret, its subscription. Long-running
    /// operations are polled as fast as the emulator asks (it sends `x-ms-retry-after-ms`).
    pub fn emulator(profile: &EmulatorProfile) -> Result<Self, aci_cmk_core::Error> {
        let cloud = profile.cloud_endpoints()?;
        let transport = HttpTransport::new(
            TransportOptions::default().with_extra_root_ca_pem(profile.ca_cert_pem()?),
        )?;
        let credential = CredentialBuilder::new(cloud.clone(), transport.clone()).client_secret(
            &profile.tenant_id,
            &profile.client_id,
            profile.client_secret.clone(),
        )?;
        let subscription_id = profile.subscription_id.parse().map_err(|e| {
            aci_cmk_core::Error::Configuration(format!("the emulator's subscription id: {e}"))
        })?;
        let mut connection = Self::new(cloud, credential, transport, subscription_id);
        connection.options.lro =
            LroOptions::default().with_default_poll_interval(Duration::from_millis(200));
        Ok(connection)
    }

    /// The real clients over this connection; the deployer is whoever the credential signs in as.
    pub async fn backends(&self) -> Result<Backends, aci_cmk_core::Error> {
        Backends::azure(
            &self.cloud,
            self.credential.clone(),
            &self.subscription_id,
            self.options.clone(),
        )
        .await
    }
}
