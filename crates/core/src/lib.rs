//! # aci_cmk_core
//!
//! The foundation of the aci-cmk SDK: cloud endpoints, credentials, the shared HTTP transport,
//! the request pipeline (bearer tokens, retries, long-running operations), errors, and typed
//! names and ids for everything the clients touch.
//!
//! Every client crate (`aci_cmk_keyvault`, `aci_cmk_identity`, `aci_cmk_aci`) is built from
//! the same three things: a [`CloudEndpoints`], an `Arc<dyn TokenCredential>`, and
//! [`ServiceClientOptions`] carrying `azure_core`'s `ClientOptions`. A [`Connection`] holds
//! all three (and the subscription) for one Azure, real or the local emulator. Every client
//! trait method takes [`CallOptions`] last: a client request id, extra headers and a
//! [`ResponseRecorder`] that collects the request and correlation ids of what the service
//! answered. Every client fails with the one [`ClientError`].
//!
//! ```
//! use aci_cmk_core::{
//!     CloudEndpoints, ServiceClientOptions,
//!     names::VaultName,
//!     transport::{HttpTransport, TransportOptions},
//! };
//!
//! // One transport per process: every client and credential shares its connection pool.
//! let transport = HttpTransport::new(TransportOptions::default())?;
//! let options = ServiceClientOptions::with_transport(&transport);
//! let cloud = CloudEndpoints::azure_public();
//!
//! // Names are checked before any request is made.
//! let vault: VaultName = "contoso-cmk".parse()?;
//! assert_eq!(cloud.vault_url(vault.as_str()).as_str(), "https://contoso-cmk.vault.azure.net/");
//! assert!("9vault".parse::<VaultName>().is_err());
//! # let _ = options;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod call_options;
pub mod client_error;
pub mod cloud;
pub mod connection;
pub mod credentials;
pub mod error;
pub mod key_id;
pub mod loopback;
pub mod lro;
mod lro_options;
pub mod names;
pub mod pipeline;
pub mod resource_id;
pub mod response_ids;
pub mod retry;
pub mod secret;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod transport;
mod wire_enum;

#[doc(hidden)]
pub use serde as __serde;

pub use azure_core::credentials::TokenCredential;
pub use call_options::CallOptions;
pub use client_error::ClientError;
pub use cloud::CloudEndpoints;
pub use connection::Connection;
pub use error::{Error, Result, ServiceError};
pub use pipeline::{ServiceClientOptions, ServicePipeline};
pub use response_ids::{ResponseIds, ResponseRecorder};
