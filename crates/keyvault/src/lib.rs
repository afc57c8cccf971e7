//! # aci_cmk_keyvault
//!
//! Azure Key Vault for customer-managed keys, in two traits:
//!
//! - [`KeyVaultManagement`]: vaults over Azure Resource Manager (`Microsoft.KeyVault`,
//!   api-version [`MANAGEMENT_API_VERSION`]): name check, create or update (waiting for
//!   provisioning), get, list (the subscription's), patch, delete, deleted vaults (get, list, recover, purge), access
//!   policies (add, replace, remove) and the firewall. Implemented by
//!   [`KeyVaultManagementClient`] on `aci_cmk_core`'s pipeline.
//! - [`KeyVaultKeys`]: keys over the data plane (api-version [`KEYS_API_VERSION`]): create
//!   (with `nbf` / `exp`), get, list versions, update attributes, delete, wrap and unwrap, and
//!   the key lifecycle: rotate, get and set the rotation policy
//!   ([`rotation_policy::KeyRotationPolicy`], whose ISO 8601 durations and Key Vault's rules
//!   are checked on the client side before anything is sent). Implemented by
//!   [`KeyVaultKeysClient`] over the official `azure_security_keyvault_keys::KeyClient`, which
//!   brings Key Vault's challenge-based authentication.
//!
//! Both are object-safe: callers hold `Arc<dyn KeyVaultManagement>` and `Arc<dyn KeyVaultKeys>`,
//! and tests substitute their own implementations. Every method takes
//! `Option<`[`CallOptions`](aci_cmk_core::CallOptions)`<'_>>` last: a client request id, extra
//! headers and a recorder of the request ids the service answered (`None`: the defaults).
//!
//! Two Azure pitfalls are handled by construction: `enablePurgeProtection` is never sent as
//! `false` (Azure rejects it even on create; it is omitted instead), and access policies of an
//! existing vault are changed through `accessPolicies/{add|replace|remove}` or a `PATCH`, never
//! by re-`PUT`ting the vault (which would drop the policies others added).
//!
//! ```no_run
//! use aci_cmk_core::{
//!     CloudEndpoints, ServiceClientOptions,
//!     credentials::CredentialBuilder,
//!     key_id::VaultUrl,
//!     transport::{HttpTransport, TransportOptions},
//! };
//! use aci_cmk_keyvault::{
//!     KeyVaultKeys, KeyVaultKeysClient, KeyVaultManagement, KeyVaultManagementClient,
//!     keys::{CreateKeyOptions, KeyOperation, KeySize, RsaKeyType},
//!     models::{AccessPolicyEntry, KeyPermission, Sku, VaultCreateParameters, VaultProperties},
//! };
//! use std::sync::Arc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = CloudEndpoints::azure_public();
//! let transport = HttpTransport::new(TransportOptions::default())?;
//! let credential = CredentialBuilder::new(cloud.clone(), transport.clone()).developer_tools()?;
//! let options = ServiceClientOptions::with_transport(&transport);
//!
//! let vaults: Arc<dyn KeyVaultManagement> = Arc::new(KeyVaultManagementClient::new(
//!     &cloud,
//!     credential.clone(),
//!     "00000000-0000-0000-0000-000000000001".parse()?,
//!     Some(options.clone()),
//! ));
//! let tenant = "00000000-0000-0000-0000-0000000000aa".parse()?;
//! let me = "00000000-0000-0000-0000-0000000000bb".parse()?;
//! let vault = vaults
//!     .create_or_update(
//!         &"rg-cmk".parse()?,
//!         &"contoso-cmk".parse()?,
//!         &VaultCreateParameters::new(
//!             "westeurope".parse()?,
//!             VaultProperties::new(tenant, Sku::standard())
//!                 .with_soft_delete(90)
//!                 .with_purge_protection()
//!                 .with_access_policy(AccessPolicyEntry::for_keys(
//!                     "00000000-0000-0000-0000-0000000000aa".parse()?,
//!                     me,
//!                     [KeyPermission::Create, KeyPermission::Get, KeyPermission::WrapKey],
//!                 )),
//!         ),
//!         None,
//!     )
//!     .await?;
//!
//! let keys: Arc<dyn KeyVaultKeys> =
//!     Arc::new(KeyVaultKeysClient::new(&cloud, credential, Some(options)));
//! let vault_url: VaultUrl = vault.properties.vault_uri.ok_or("no vault uri")?;
//! let key = keys
//!     .create_key(
//!         &vault_url,
//!         &"aci-cmk".parse()?,
//!         CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048)
//!             .with_key_ops([KeyOperation::WrapKey, KeyOperation::UnwrapKey]),
//!         None,
//!     )
//!     .await?;
//! println!("ACI keyVersion: {}", key.version);
//! # Ok(())
//! # }
//! ```
//!
//! Purge protection can only be switched on; this crate omits the field unless it is `true`:
//!
//! ```
//! use aci_cmk_keyvault::models::{Sku, VaultProperties};
//!
//! let tenant = "00000000-0000-0000-0000-0000000000aa".parse()?;
//! let mut properties = VaultProperties::new(tenant, Sku::standard());
//! properties.enable_purge_protection = Some(false);
//! let json = serde_json::to_value(&properties)?;
//! assert!(json.get("enablePurgeProtection").is_none());
//! assert_eq!(json["sku"], serde_json::json!({"family": "A", "name": "standard"}));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod keys;
pub mod management;
pub mod models;
pub mod rotation_policy;

pub use error::{Error, Result};
pub use keys::{KEYS_API_VERSION, KeyVaultKeys, KeyVaultKeysClient};
pub use management::{KeyVaultManagement, KeyVaultManagementClient, MANAGEMENT_API_VERSION};
