//! [`Connection`]: everything needed to talk to one Azure, real or emulated: its endpoints, one
//! shared transport, one credential (so one token per audience), the subscription, and the
//! options every client built over it takes.

use crate::{
    CloudEndpoints, Error, ServiceClientOptions, TokenCredential,
    cloud::EmulatorProfile,
    credentials::CredentialBuilder,
    lro::LroOptions,
    names::SubscriptionId,
    transport::{HttpTransport, TransportOptions},
};
use std::{sync::Arc, time::Duration};

/// A cloud, a credential and a subscription, sharing one transport.
///
/// Every client of the SDK is built from its parts: `(&connection.cloud,
/// connection.credential.clone(), Some(connection.options.clone()))`.
///
/// ```no_run
/// use aci_cmk_core::{
///     CloudEndpoints, Connection,
///     credentials::CredentialBuilder,
///     transport::{HttpTransport, TransportOptions},
/// };
///
/// let cloud = CloudEndpoints::azure_public();
/// let transport = HttpTransport::new(TransportOptions::default())?; // one per process
/// let credential = CredentialBuilder::new(cloud.clone(), transport.clone()).developer_tools()?;
/// let subscription = "00000000-0000-0000-0000-000000000000".parse()?;
/// let connection = Connection::new(cloud, credential, transport, subscription);
/// # let _ = connection;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Against the local emulator, [`Connection::emulator`] reads all of it from the emulator's
/// ready line.
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
    /// trusted (and no other: every emulator host carries a certificate of its CA), its deployer principal's client secret, its subscription. Long-running
    /// operations are polled as fast as the emulator asks (it sends `x-ms-retry-after-ms`).
    pub fn emulator(profile: &EmulatorProfile) -> Result<Self, Error> {
        let cloud = profile.cloud_endpoints()?;
        let transport = HttpTransport::new(
            TransportOptions::default().with_only_root_ca_pem(profile.ca_cert_pem()?),
        )?;
        let credential = CredentialBuilder::new(cloud.clone(), transport.clone()).client_secret(
            &profile.tenant_id,
            &profile.client_id,
            profile.client_secret.clone(),
        )?;
        let subscription_id = profile
            .subscription_id
            .parse()
            .map_err(|e| Error::Configuration(format!("the emulator's subscription id: {e}")))?;
        let mut connection = Self::new(cloud, credential, transport, subscription_id);
        connection.options.lro =
            LroOptions::default().with_default_poll_interval(Duration::from_millis(200));
        Ok(connection)
    }
}
