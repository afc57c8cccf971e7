//! The `KeyVaultKeys` trait (Key Vault data plane) and its implementation over the official
//! [`azure_security_keyvault_keys::KeyClient`].
//!
//! The official client brings Key Vault's challenge-based authentication (the first request
//! goes without a body, the `WWW-Authenticate` challenge names the token scope). This module
//! pins its api-version, gives it the shared transport and retry settings, adds
//! [`NonIdempotentGuard`] so that a `POST /keys/{name}/create` or `/rotate` is never sent
//! twice, and maps its models to this crate's typed ones (rotation policies to
//! [`KeyRotationPolicy`], validated before they are sent).

use crate::rotation_policy::KeyRotationPolicy;
use crate::{Error, Result};
use aci_cmk_core::wire_enum;
use aci_cmk_core::{
    CallOptions, CloudEndpoints, ServiceClientOptions, TokenCredential,
    call_options::CallOptionsPolicy,
    key_id::{KeyId, VaultUrl},
    names::{KeyName, KeyVersion},
    retry::{Idempotent, NonIdempotentGuard},
};
use azure_core::{
    credentials::SecretBytes,
    http::{ClientMethodOptions, RequestContent, pager::PagerOptions, policies::Policy},
};
use azure_security_keyvault_keys::{
    KeyClient, KeyClientOptions,
    models::{
        self as kv, CreateKeyParameters, KeyClientCreateKeyOptions, KeyClientDeleteKeyOptions,
        KeyClientGetKeyOptions, KeyClientGetKeyRotationPolicyOptions,
        KeyClientListKeyPropertiesVersionsOptions, KeyClientRotateKeyOptions,
        KeyClientUnwrapKeyOptions, KeyClientUpdateKeyPropertiesOptions,
        KeyClientUpdateKeyRotationPolicyOptions, KeyClientWrapKeyOptions, KeyOperationParameters,
        UpdateKeyPropertiesParameters,
    },
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, HashMap},
    fmt::Debug,
    sync::{Arc, Mutex, PoisonError},
};
use time::OffsetDateTime;

/// The Key Vault data-plane api-version every key call is pinned to.
pub const KEYS_API_VERSION: &str = "2025-07-01";

wire_enum! {
    /// A key type (`kty`) as Key Vault reports it.
    pub enum KeyType {
        /// A software-protected RSA key.
        Rsa => "RSA",
        /// An HSM-protected RSA key (premium vaults).
        RsaHsm => "RSA-HSM",
        /// A software-protected elliptic-curve key.
        Ec => "EC",
        /// An HSM-protected elliptic-curve key.
        EcHsm => "EC-HSM",
        /// A symmetric key (Managed HSM).
        Oct => "oct",
        /// An HSM-protected symmetric key (Managed HSM).
        OctHsm => "oct-HSM",
    }
}

/// The type of a key to create: the RSA types, the only ones a customer-managed key for ACI
/// can use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RsaKeyType {
    /// A software-protected RSA key (`RSA`).
    #[default]
    #[serde(rename = "RSA")]
    Rsa,
    /// An HSM-protected RSA key (`RSA-HSM`); needs a premium vault.
    #[serde(rename = "RSA-HSM")]
    RsaHsm,
}

impl RsaKeyType {
    /// The `kty` value.
    pub fn as_str(self) -> &'static str {
        match self {
            RsaKeyType::Rsa => "RSA",
            RsaKeyType::RsaHsm => "RSA-HSM",
        }
    }

    fn to_official(self) -> kv::KeyType {
        match self {
            RsaKeyType::Rsa => kv::KeyType::Rsa,
            RsaKeyType::RsaHsm => kv::KeyType::RsaHsm,
        }
    }
}

impl From<RsaKeyType> for KeyType {
    fn from(value: RsaKeyType) -> Self {
        match value {
            RsaKeyType::Rsa => KeyType::Rsa,
            RsaKeyType::RsaHsm => KeyType::RsaHsm,
        }
    }
}

/// An RSA key size (`key_size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u32", try_from = "u32")]
pub enum KeySize {
    /// 2048 bits.
    #[default]
    Rsa2048,
    /// 3072 bits.
    Rsa3072,
    /// 4096 bits.
    Rsa4096,
}

impl KeySize {
    /// The size in bits.
    pub fn bits(self) -> u32 {
        match self {
            KeySize::Rsa2048 => 2048,
            KeySize::Rsa3072 => 3072,
            KeySize::Rsa4096 => 4096,
        }
    }
}

impl From<KeySize> for u32 {
    fn from(value: KeySize) -> Self {
        value.bits()
    }
}

impl TryFrom<u32> for KeySize {
    type Error = String;

    fn try_from(bits: u32) -> std::result::Result<Self, Self::Error> {
        match bits {
            2048 => Ok(KeySize::Rsa2048),
            3072 => Ok(KeySize::Rsa3072),
            4096 => Ok(KeySize::Rsa4096),
            other => Err(format!(
                "an RSA key size is 2048, 3072 or 4096 bits, not {other}"
            )),
        }
    }
}

wire_enum! {
    /// An operation a key may be used for (`key_ops`).
    pub enum KeyOperation {
        /// Encrypt.
        Encrypt => "encrypt",
        /// Decrypt.
        Decrypt => "decrypt",
        /// Sign.
        Sign => "sign",
        /// Verify a signature.
        Verify => "verify",
        /// Wrap another key.
        WrapKey => "wrapKey",
        /// Unwrap another key (what ACI does with a customer-managed key).
        UnwrapKey => "unwrapKey",
        /// Import.
        Import => "import",
        /// Export the private part (exportable keys only).
        Export => "export",
    }
}

impl KeyOperation {
    fn to_official(&self) -> kv::KeyOperation {
        match self.as_str().parse() {
            Ok(op) => op,
            Err(never) => match never {},
        }
    }
}

/// A key-wrapping algorithm (`alg`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WrapAlgorithm {
    /// RSA-OAEP with SHA-1 (`RSA-OAEP`): kept for compatibility, not recommended.
    #[serde(rename = "RSA-OAEP")]
    RsaOaep,
    /// RSA-OAEP with SHA-256 (`RSA-OAEP-256`): recommended.
    #[default]
    #[serde(rename = "RSA-OAEP-256")]
    RsaOaep256,
}

impl WrapAlgorithm {
    /// The `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            WrapAlgorithm::RsaOaep => "RSA-OAEP",
            WrapAlgorithm::RsaOaep256 => "RSA-OAEP-256",
        }
    }

    fn to_official(self) -> kv::EncryptionAlgorithm {
        match self {
            WrapAlgorithm::RsaOaep => kv::EncryptionAlgorithm::RsaOaep,
            WrapAlgorithm::RsaOaep256 => kv::EncryptionAlgorithm::RsaOaep256,
        }
    }
}

/// How to create a key: an RSA type and size, permitted operations, attributes and tags.
///
/// ```
/// use aci_cmk_keyvault::keys::{CreateKeyOptions, KeyOperation, KeySize, RsaKeyType};
///
/// let options = CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072)
///     .with_key_ops([KeyOperation::WrapKey, KeyOperation::UnwrapKey])
///     .with_tag("purpose", "aci");
/// assert_eq!(options.size.bits(), 3072);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateKeyOptions {
    /// `RSA` or `RSA-HSM`.
    pub kty: RsaKeyType,
    /// 2048, 3072 or 4096 bits.
    pub size: KeySize,
    /// The operations the key may be used for; empty leaves Key Vault's default (all that
    /// the key type supports).
    pub key_ops: Vec<KeyOperation>,
    /// Whether the key is usable; `None` is Key Vault's default (enabled).
    pub enabled: Option<bool>,
    /// Not usable before this time.
    pub not_before: Option<OffsetDateTime>,
    /// Not usable after this time.
    pub expires: Option<OffsetDateTime>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl CreateKeyOptions {
    /// A key of `kty` and `size` with Key Vault's defaults for the rest.
    pub fn new(kty: RsaKeyType, size: KeySize) -> Self {
        Self {
            kty,
            size,
            ..Self::default()
        }
    }

    /// Restricts the key's operations.
    pub fn with_key_ops(mut self, ops: impl IntoIterator<Item = KeyOperation>) -> Self {
        self.key_ops = ops.into_iter().collect();
        self
    }

    /// Sets whether the key is enabled.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets the expiry time.
    pub fn with_expires(mut self, expires: OffsetDateTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Sets the not-before time.
    pub fn with_not_before(mut self, not_before: OffsetDateTime) -> Self {
        self.not_before = Some(not_before);
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }
}

/// Attributes to change on a key version; fields left `None` keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateKeyOptions {
    /// Enable (`true`) or disable (`false`) the key.
    pub enabled: Option<bool>,
    /// New not-before time.
    pub not_before: Option<OffsetDateTime>,
    /// New expiry time.
    pub expires: Option<OffsetDateTime>,
    /// New permitted operations.
    pub key_ops: Option<Vec<KeyOperation>>,
    /// New tags, replacing the old ones.
    pub tags: Option<BTreeMap<String, String>>,
}

impl UpdateKeyOptions {
    /// Enable the key.
    pub fn enable() -> Self {
        Self {
            enabled: Some(true),
            ..Self::default()
        }
    }

    /// Disable the key: wrap and unwrap fail from then on.
    pub fn disable() -> Self {
        Self {
            enabled: Some(false),
            ..Self::default()
        }
    }

    /// Sets the expiry time.
    pub fn with_expires(mut self, expires: OffsetDateTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Sets the not-before time.
    pub fn with_not_before(mut self, not_before: OffsetDateTime) -> Self {
        self.not_before = Some(not_before);
        self
    }

    /// Sets the permitted operations.
    pub fn with_key_ops(mut self, ops: impl IntoIterator<Item = KeyOperation>) -> Self {
        self.key_ops = Some(ops.into_iter().collect());
        self
    }
}

/// A key version: its id and attributes and, where Key Vault returned it, the public key.
///
/// Listing versions returns no key material: `kty`, `key_ops`, `n` and `e` are then empty.
/// The private key never leaves Key Vault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyProperties {
    /// The versioned key id, `https://{vault}.{suffix}/keys/{name}/{version}`.
    pub kid: KeyId,
    /// The version (the last segment of `kid`: what ACI's `keyVersion` takes).
    pub version: KeyVersion,
    /// The key type.
    pub kty: Option<KeyType>,
    /// The permitted operations.
    pub key_ops: Vec<KeyOperation>,
    /// The RSA modulus (public).
    pub n: Option<Vec<u8>>,
    /// The RSA public exponent.
    pub e: Option<Vec<u8>>,
    /// Whether the key is enabled.
    pub enabled: Option<bool>,
    /// Not usable before.
    pub not_before: Option<OffsetDateTime>,
    /// Not usable after.
    pub expires: Option<OffsetDateTime>,
    /// When the version was created.
    pub created: Option<OffsetDateTime>,
    /// When it was last updated.
    pub updated: Option<OffsetDateTime>,
    /// The deletion recovery level, e.g. `Recoverable+Purgeable` or `Recoverable` (purge
    /// protection on).
    pub recovery_level: Option<String>,
    /// Whether the key backs a certificate.
    pub managed: Option<bool>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl KeyProperties {
    /// The properties of version `kid` (a versioned key id) with nothing else known; set the
    /// other fields as needed. For implementations of [`KeyVaultKeys`] other than
    /// [`KeyVaultKeysClient`] (mocks, recordings), which cannot build this type otherwise.
    /// `None` when `kid` has no version.
    pub fn new(kid: KeyId) -> Option<Self> {
        let version = kid.version()?.clone();
        Some(Self {
            kid,
            version,
            kty: None,
            key_ops: Vec::new(),
            n: None,
            e: None,
            enabled: None,
            not_before: None,
            expires: None,
            created: None,
            updated: None,
            recovery_level: None,
            managed: None,
            tags: BTreeMap::new(),
        })
    }
}

/// A deleted key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletedKeyInfo {
    /// The latest version as it was when deleted.
    pub properties: KeyProperties,
    /// `{vault}/deletedkeys/{name}`, where a soft-deleted key can be recovered or purged.
    pub recovery_id: Option<String>,
    /// When it was deleted.
    pub deleted_date: Option<OffsetDateTime>,
    /// When Key Vault purges it.
    pub scheduled_purge_date: Option<OffsetDateTime>,
}

impl DeletedKeyInfo {
    /// A deleted key whose latest version was `properties`; dates and recovery id unknown.
    pub fn new(properties: KeyProperties) -> Self {
        Self {
            properties,
            recovery_id: None,
            deleted_date: None,
            scheduled_purge_date: None,
        }
    }
}

/// A key wrapped by a Key Vault key. The wrapped bytes are not secret; the key that unwraps
/// them stays in the vault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WrappedKey {
    /// The versioned id of the wrapping key: unwrap with this exact version.
    pub kid: KeyId,
    /// The algorithm used.
    pub algorithm: WrapAlgorithm,
    /// The wrapped key.
    pub encrypted_key: Vec<u8>,
}

impl WrappedKey {
    /// `encrypted_key`, wrapped by key version `kid` with `algorithm`.
    pub fn new(kid: KeyId, algorithm: WrapAlgorithm, encrypted_key: Vec<u8>) -> Self {
        Self {
            kid,
            algorithm,
            encrypted_key,
        }
    }
}

/// Keys in Key Vault's data plane: create, read, list versions, update, delete, wrap, unwrap,
/// and their lifecycle: rotate, and read or set the rotation policy.
///
/// Every method takes [`CallOptions`] last (`None` for the defaults): a client request id,
/// extra headers, and a recorder of the request ids of every response.
#[async_trait::async_trait]
pub trait KeyVaultKeys: Send + Sync + Debug {
    /// Creates a key, or a new version of an existing key (`POST /keys/{name}/create`). Never
    /// retried once the request may have reached the vault, so a lost response cannot create
    /// two versions.
    async fn create_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        key_options: CreateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties>;

    /// Reads a key at `version`, or its latest version (`GET /keys/{name}/{version}`).
    async fn get_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties>;

    /// Lists every version of a key (`GET /keys/{name}/versions`, following `nextLink`).
    async fn list_key_versions(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<KeyProperties>>;

    /// Changes a key version's attributes (`PATCH /keys/{name}/{version}`; `None`: the latest).
    async fn update_key_attributes(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        update: UpdateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties>;

    /// Deletes a key with all its versions (`DELETE /keys/{name}`); with soft delete it stays
    /// recoverable until purged.
    async fn delete_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<DeletedKeyInfo>;

    /// Wraps `key` with a vault key (`POST /keys/{name}/{version}/wrapkey`; `None`: the latest
    /// version, reported in the result's `kid`).
    async fn wrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        algorithm: WrapAlgorithm,
        key: &SecretBytes,
        options: Option<CallOptions<'_>>,
    ) -> Result<WrappedKey>;

    /// Unwraps a key wrapped by [`wrap_key`](Self::wrap_key)
    /// (`POST /keys/{name}/{version}/unwrapkey`). The version is mandatory, so that a rotation
    /// cannot make the call pick another key.
    async fn unwrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: &KeyVersion,
        algorithm: WrapAlgorithm,
        encrypted_key: &[u8],
        options: Option<CallOptions<'_>>,
    ) -> Result<SecretBytes>;

    /// Creates a new version of a key now, as its rotation policy would
    /// (`POST /keys/{name}/rotate`; access-policy permission `rotate`, on RBAC vaults Key Vault
    /// Crypto Officer). The new version has the latest one's type, size and operations, and
    /// expires the policy's [`expiry_time`](KeyRotationPolicy::expiry_time) after its creation
    /// (no expiry without one). Never retried once the request may have reached the vault, so a
    /// lost response cannot create two versions.
    async fn rotate_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties>;

    /// Reads a key's rotation policy (`GET /keys/{name}/rotationpolicy`; permission
    /// `getrotationpolicy`). A key that never had one set answers Key Vault's default policy
    /// (one `Notify` action 30 days before expiry, no `expiryTime`, no `created`): never `None`,
    /// as Key Vault never answers "no policy". A missing key is not found (`KeyNotFound`).
    async fn get_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyRotationPolicy>;

    /// Sets a key's rotation policy (`PUT /keys/{name}/rotationpolicy`; permission
    /// `setrotationpolicy`), replacing the old one, and answers the policy as the vault stored
    /// it (a policy without a `Notify` action gets Key Vault's default one). A policy that
    /// fails [`KeyRotationPolicy::validate`] is refused before anything is sent
    /// ([`Error::InvalidArgument`]); its read-only `id`, `created` and `updated` are not sent.
    async fn set_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        policy: &KeyRotationPolicy,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyRotationPolicy>;
}

/// [`KeyVaultKeys`] over the official `azure_security_keyvault_keys::KeyClient`, one client per
/// vault, created on first use and kept.
pub struct KeyVaultKeysClient {
    credential: Arc<dyn TokenCredential>,
    options: KeyClientOptions,
    clients: Mutex<HashMap<VaultUrl, Arc<KeyClient>>>,
}

impl Debug for KeyVaultKeysClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vaults: Vec<String> = self
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .map(ToString::to_string)
            .collect();
        f.debug_struct("KeyVaultKeysClient")
            .field("api_version", &self.options.api_version)
            .field("vaults", &vaults)
            .finish_non_exhaustive()
    }
}

impl KeyVaultKeysClient {
    /// A client for vaults of `cloud`, authenticating with `credential` (the token scope
    /// comes from each vault's authentication challenge, as in the official client).
    ///
    /// `options.client_options` (transport, retry, policies) is handed to every `KeyClient`,
    /// with [`CallOptionsPolicy`] added as a per-call policy (so each call's [`CallOptions`]
    /// apply) and [`NonIdempotentGuard`] as a per-try policy.
    pub fn new(
        cloud: &CloudEndpoints,
        credential: Arc<dyn TokenCredential>,
        options: Option<ServiceClientOptions>,
    ) -> Self {
        let _ = cloud; // The vault URLs carry the cloud's DNS suffix; nothing else is needed.
        let mut client_options = options.unwrap_or_default().client_options;
        client_options
            .per_call_policies
            .push(Arc::new(CallOptionsPolicy::default()) as Arc<dyn Policy>);
        client_options
            .per_try_policies
            .push(Arc::new(NonIdempotentGuard) as Arc<dyn Policy>);
        Self {
            credential,
            options: KeyClientOptions {
                api_version: KEYS_API_VERSION.to_owned(),
                client_options,
                verify_challenge_resource: Some(true),
            },
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The official client for `vault`, created on first use.
    fn client(&self, vault: &VaultUrl) -> Result<Arc<KeyClient>> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(vault) {
            return Ok(client.clone());
        }
        let client = KeyClient::new(
            &vault.with_trailing_slash(),
            self.credential.clone(),
            Some(self.options.clone()),
        )
        .map_err(|e| {
            aci_cmk_core::Error::Configuration(format!(
                "cannot build a key client for {vault}: {e}"
            ))
        })?;
        let client = Arc::new(client);
        clients.insert(vault.clone(), client.clone());
        Ok(client)
    }
}

/// The official client's method options for a call with `options`.
fn method_options(options: Option<CallOptions<'_>>) -> ClientMethodOptions<'_> {
    ClientMethodOptions {
        context: CallOptions::context_of(options),
    }
}

/// [`method_options`] whose context also marks the call safe to retry.
fn idempotent(options: Option<CallOptions<'_>>) -> ClientMethodOptions<'_> {
    ClientMethodOptions {
        context: CallOptions::context_of(options).with_value(Idempotent),
    }
}

fn service(error: azure_core::Error) -> Error {
    Error::Service(aci_cmk_core::Error::from_azure_core(error))
}

fn unexpected(operation: &str, message: impl Into<String>) -> Error {
    Error::UnexpectedResponse {
        operation: operation.to_owned(),
        message: message.into(),
    }
}

fn request<T>(operation: &str, body: T) -> Result<RequestContent<T>>
where
    RequestContent<T>: TryFrom<T, Error = azure_core::Error>,
{
    RequestContent::try_from(body).map_err(|e| {
        Error::InvalidArgument(format!("the {operation} request cannot be serialized: {e}"))
    })
}

fn attributes(
    enabled: Option<bool>,
    not_before: Option<OffsetDateTime>,
    expires: Option<OffsetDateTime>,
) -> Option<kv::KeyAttributes> {
    if enabled.is_none() && not_before.is_none() && expires.is_none() {
        return None;
    }
    Some(kv::KeyAttributes {
        enabled,
        not_before,
        expires,
        ..kv::KeyAttributes::default()
    })
}

fn tags_to_official(tags: BTreeMap<String, String>) -> HashMap<String, String> {
    tags.into_iter().collect()
}

/// The request body of a key creation.
pub(crate) fn create_parameters(options: CreateKeyOptions) -> CreateKeyParameters {
    CreateKeyParameters {
        kty: Some(options.kty.to_official()),
        key_size: Some(match options.size {
            KeySize::Rsa2048 => 2048,
            KeySize::Rsa3072 => 3072,
            KeySize::Rsa4096 => 4096,
        }),
        key_ops: (!options.key_ops.is_empty()).then(|| {
            options
                .key_ops
                .iter()
                .map(KeyOperation::to_official)
                .collect()
        }),
        key_attributes: attributes(options.enabled, options.not_before, options.expires),
        tags: (!options.tags.is_empty()).then(|| tags_to_official(options.tags)),
        ..CreateKeyParameters::default()
    }
}

/// The request body of an attribute update.
pub(crate) fn update_parameters(update: UpdateKeyOptions) -> UpdateKeyPropertiesParameters {
    UpdateKeyPropertiesParameters {
        key_attributes: attributes(update.enabled, update.not_before, update.expires),
        key_ops: update
            .key_ops
            .map(|ops| ops.iter().map(KeyOperation::to_official).collect()),
        tags: update.tags.map(tags_to_official),
        ..UpdateKeyPropertiesParameters::default()
    }
}

/// The parts of a key bundle (or list item) this crate maps.
pub(crate) struct KeyParts {
    pub(crate) kid: Option<String>,
    pub(crate) jwk: Option<kv::JsonWebKey>,
    pub(crate) attributes: Option<kv::KeyAttributes>,
    pub(crate) tags: Option<HashMap<String, String>>,
    pub(crate) managed: Option<bool>,
}

impl From<kv::Key> for KeyParts {
    fn from(key: kv::Key) -> Self {
        Self {
            kid: key.key.as_ref().and_then(|jwk| jwk.kid.clone()),
            jwk: key.key,
            attributes: key.attributes,
            tags: key.tags,
            managed: key.managed,
        }
    }
}

impl From<kv::KeyProperties> for KeyParts {
    fn from(key: kv::KeyProperties) -> Self {
        Self {
            kid: key.kid,
            jwk: None,
            attributes: key.attributes,
            tags: key.tags,
            managed: key.managed,
        }
    }
}

/// Maps a key bundle or list item to [`KeyProperties`]; the `kid` must be a versioned key id.
pub(crate) fn key_properties(operation: &str, parts: KeyParts) -> Result<KeyProperties> {
    let kid_text = parts
        .kid
        .ok_or_else(|| unexpected(operation, "the key has no kid"))?;
    let kid: KeyId = kid_text
        .parse()
        .map_err(|e| unexpected(operation, format!("kid {kid_text:?} is not a key id: {e}")))?;
    let version = kid
        .version()
        .cloned()
        .ok_or_else(|| unexpected(operation, format!("kid {kid_text:?} has no version")))?;
    let attributes = parts.attributes.unwrap_or_default();
    let (kty, key_ops, n, e) = match parts.jwk {
        Some(jwk) => (
            jwk.kty.map(|k| KeyType::parse(k.as_ref())),
            jwk.key_ops
                .unwrap_or_default()
                .iter()
                .map(|op| KeyOperation::parse(op))
                .collect(),
            jwk.n,
            jwk.e,
        ),
        None => (None, Vec::new(), None, None),
    };
    Ok(KeyProperties {
        kid,
        version,
        kty,
        key_ops,
        n,
        e,
        enabled: attributes.enabled,
        not_before: attributes.not_before,
        expires: attributes.expires,
        created: attributes.created,
        updated: attributes.updated,
        recovery_level: attributes.recovery_level.map(|level| level.to_string()),
        managed: parts.managed,
        tags: parts.tags.unwrap_or_default().into_iter().collect(),
    })
}

#[async_trait::async_trait]
impl KeyVaultKeys for KeyVaultKeysClient {
    async fn create_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        key_options: CreateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties> {
        let operation = format!("create key {name}");
        let client = self.client(vault)?;
        let body = request(&operation, create_parameters(key_options))?;
        let create = KeyClientCreateKeyOptions {
            method_options: method_options(options),
        };
        let key = client
            .create_key(name.as_str(), body, Some(create))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        key_properties(&operation, key.into())
    }

    async fn get_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties> {
        let operation = format!("get key {name}");
        let client = self.client(vault)?;
        let get = KeyClientGetKeyOptions {
            key_version: version.map(|v| v.as_str().to_owned()),
            method_options: method_options(options),
        };
        let key = client
            .get_key(name.as_str(), Some(get))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        key_properties(&operation, key.into())
    }

    async fn list_key_versions(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<Vec<KeyProperties>> {
        let operation = format!("list versions of key {name}");
        let client = self.client(vault)?;
        let list = KeyClientListKeyPropertiesVersionsOptions {
            method_options: PagerOptions {
                context: CallOptions::context_of(options),
                ..PagerOptions::default()
            },
            ..KeyClientListKeyPropertiesVersionsOptions::default()
        };
        let pager = client
            .list_key_properties_versions(name.as_str(), Some(list))
            .map_err(service)?;
        let items: Vec<kv::KeyProperties> = pager.try_collect().await.map_err(service)?;
        items
            .into_iter()
            .map(|item| key_properties(&operation, item.into()))
            .collect()
    }

    async fn update_key_attributes(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        update: UpdateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties> {
        let operation = format!("update key {name}");
        let client = self.client(vault)?;
        let body = request(&operation, update_parameters(update))?;
        // Setting attributes to given values twice has the effect of setting them once.
        let update = KeyClientUpdateKeyPropertiesOptions {
            key_version: version.map(|v| v.as_str().to_owned()),
            method_options: idempotent(options),
        };
        let key = client
            .update_key_properties(name.as_str(), body, Some(update))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        key_properties(&operation, key.into())
    }

    async fn delete_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<DeletedKeyInfo> {
        let operation = format!("delete key {name}");
        let client = self.client(vault)?;
        let delete = KeyClientDeleteKeyOptions {
            method_options: method_options(options),
        };
        let deleted = client
            .delete_key(name.as_str(), Some(delete))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        let parts = KeyParts {
            kid: deleted.key.as_ref().and_then(|jwk| jwk.kid.clone()),
            jwk: deleted.key,
            attributes: deleted.attributes,
            tags: deleted.tags,
            managed: deleted.managed,
        };
        Ok(DeletedKeyInfo {
            properties: key_properties(&operation, parts)?,
            recovery_id: deleted.recovery_id,
            deleted_date: deleted.deleted_date,
            scheduled_purge_date: deleted.scheduled_purge_date,
        })
    }

    async fn wrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        algorithm: WrapAlgorithm,
        key: &SecretBytes,
        options: Option<CallOptions<'_>>,
    ) -> Result<WrappedKey> {
        let operation = format!("wrap with key {name}");
        let client = self.client(vault)?;
        let body = request(
            &operation,
            KeyOperationParameters {
                algorithm: Some(algorithm.to_official()),
                value: Some(key.bytes().to_vec()),
                ..KeyOperationParameters::default()
            },
        )?;
        // Wrapping changes nothing in the vault: safe to retry.
        let wrap = KeyClientWrapKeyOptions {
            key_version: version.map(|v| v.as_str().to_owned()),
            method_options: idempotent(options),
        };
        let result = client
            .wrap_key(name.as_str(), body, Some(wrap))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        let kid_text = result
            .kid
            .ok_or_else(|| unexpected(&operation, "the result has no kid"))?;
        let kid: KeyId = kid_text.parse().map_err(|e| {
            unexpected(&operation, format!("kid {kid_text:?} is not a key id: {e}"))
        })?;
        if kid.version().is_none() {
            return Err(unexpected(
                &operation,
                format!("kid {kid_text:?} has no version"),
            ));
        }
        let encrypted_key = result
            .result
            .ok_or_else(|| unexpected(&operation, "the result has no value"))?;
        Ok(WrappedKey {
            kid,
            algorithm,
            encrypted_key,
        })
    }

    async fn unwrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: &KeyVersion,
        algorithm: WrapAlgorithm,
        encrypted_key: &[u8],
        options: Option<CallOptions<'_>>,
    ) -> Result<SecretBytes> {
        let operation = format!("unwrap with key {name}");
        let client = self.client(vault)?;
        let body = request(
            &operation,
            KeyOperationParameters {
                algorithm: Some(algorithm.to_official()),
                value: Some(encrypted_key.to_vec()),
                ..KeyOperationParameters::default()
            },
        )?;
        let unwrap = KeyClientUnwrapKeyOptions {
            method_options: idempotent(options),
        };
        let result = client
            .unwrap_key(name.as_str(), version.as_str(), body, Some(unwrap))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        let key = result
            .result
            .ok_or_else(|| unexpected(&operation, "the result has no value"))?;
        Ok(SecretBytes::new(key))
    }

    async fn rotate_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyProperties> {
        let operation = format!("rotate key {name}");
        let client = self.client(vault)?;
        // A POST that creates a version: not marked idempotent, so `NonIdempotentGuard` stops
        // any retry once the request may have reached the vault.
        let rotate = KeyClientRotateKeyOptions {
            method_options: method_options(options),
        };
        let key = client
            .rotate_key(name.as_str(), Some(rotate))
            .await
            .map_err(service)?
            .into_model()
            .map_err(service)?;
        key_properties(&operation, key.into())
    }

    async fn get_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyRotationPolicy> {
        let operation = format!("get the rotation policy of key {name}");
        let client = self.client(vault)?;
        let get = KeyClientGetKeyRotationPolicyOptions {
            method_options: method_options(options),
        };
        let response = client
            .get_key_rotation_policy(name.as_str(), Some(get))
            .await
            .map_err(service)?;
        rotation_policy(&operation, response.into_body().as_ref())
    }

    async fn set_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        policy: &KeyRotationPolicy,
        options: Option<CallOptions<'_>>,
    ) -> Result<KeyRotationPolicy> {
        let operation = format!("set the rotation policy of key {name}");
        policy.validate().map_err(|e| {
            Error::InvalidArgument(format!("the rotation policy of key {name}: {e}"))
        })?;
        let client = self.client(vault)?;
        let body = request(&operation, policy.to_official())?;
        // A PUT of the whole policy: sending it twice sets it once.
        let set = KeyClientUpdateKeyRotationPolicyOptions {
            method_options: method_options(options),
        };
        let response = client
            .update_key_rotation_policy(name.as_str(), body, Some(set))
            .await
            .map_err(service)?;
        rotation_policy(&operation, response.into_body().as_ref())
    }
}

/// Decodes a rotation policy with this crate's model, which reads the action types
/// case-insensitively as Key Vault compares them (the official model takes only `Rotate` and
/// `Notify`).
fn rotation_policy(operation: &str, body: &[u8]) -> Result<KeyRotationPolicy> {
    serde_json::from_slice(body).map_err(|e| {
        unexpected(
            operation,
            format!("the rotation policy cannot be read: {e}"),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const KID: &str =
        "https://contoso-cmk.vault.azure.net/keys/aci-cmk/78deebed173b48e48f55abf87ed4cf71";

    #[test]
    fn create_body_has_the_wire_names() {
        let options = CreateKeyOptions::new(RsaKeyType::RsaHsm, KeySize::Rsa3072)
            .with_key_ops([KeyOperation::WrapKey, KeyOperation::UnwrapKey])
            .with_enabled(true)
            .with_expires(OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap())
            .with_tag("purpose", "aci");
        let body = serde_json::to_value(create_parameters(options)).unwrap();
        assert_eq!(
            body,
            json!({
                "kty": "RSA-HSM",
                "key_size": 3072,
                "key_ops": ["wrapKey", "unwrapKey"],
                "attributes": {"enabled": true, "exp": 1_767_225_600},
                "tags": {"purpose": "aci"}
            })
        );
    }

    #[test]
    fn not_before_and_expires_go_as_unix_seconds() {
        let nbf = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let exp = OffsetDateTime::from_unix_timestamp(1_798_761_600).unwrap();
        let body = serde_json::to_value(create_parameters(
            CreateKeyOptions::default()
                .with_not_before(nbf)
                .with_expires(exp),
        ))
        .unwrap();
        assert_eq!(
            body["attributes"],
            json!({"nbf": 1_767_225_600, "exp": 1_798_761_600})
        );
        let body = serde_json::to_value(update_parameters(
            UpdateKeyOptions::default()
                .with_not_before(nbf)
                .with_expires(exp),
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({"attributes": {"nbf": 1_767_225_600, "exp": 1_798_761_600}})
        );
    }

    #[test]
    fn a_rotation_policy_body_that_is_not_json_is_unexpected() {
        let err = rotation_policy("get the rotation policy of key k", b"<html>").unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        let policy = rotation_policy(
            "get",
            br#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"ROTATE"}}]}"#,
        )
        .unwrap();
        assert!(policy.rotation_trigger().is_some());
    }

    #[test]
    fn create_body_leaves_out_what_is_not_set() {
        let body = serde_json::to_value(create_parameters(CreateKeyOptions::default())).unwrap();
        assert_eq!(body, json!({"kty": "RSA", "key_size": 2048}));
    }

    #[test]
    fn update_body_disables() {
        let body = serde_json::to_value(update_parameters(UpdateKeyOptions::disable())).unwrap();
        assert_eq!(body, json!({"attributes": {"enabled": false}}));
        let body = serde_json::to_value(update_parameters(
            UpdateKeyOptions::default().with_key_ops([KeyOperation::UnwrapKey]),
        ))
        .unwrap();
        assert_eq!(body, json!({"key_ops": ["unwrapKey"]}));
    }

    #[test]
    fn key_bundle_maps_to_key_properties() {
        let bundle: kv::Key = serde_json::from_value(json!({
            "key": {"kid": KID, "kty": "RSA", "key_ops": ["wrapKey", "unwrapKey"], "n": "AQAB", "e": "AQAB"},
            "attributes": {"enabled": true, "created": 1_493_942_451, "updated": 1_493_942_451,
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
            "tags": {"purpose": "aci"}
        }))
        .unwrap();
        let key = key_properties("get key", bundle.into()).unwrap();
        assert_eq!(key.kid.as_str(), KID);
        assert_eq!(key.version.as_str(), "78deebed173b48e48f55abf87ed4cf71");
        assert_eq!(key.kty, Some(KeyType::Rsa));
        assert_eq!(
            key.key_ops,
            vec![KeyOperation::WrapKey, KeyOperation::UnwrapKey]
        );
        assert_eq!(key.e.as_deref(), Some([1u8, 0, 1].as_slice()));
        assert_eq!(key.enabled, Some(true));
        assert_eq!(key.recovery_level.as_deref(), Some("Recoverable+Purgeable"));
        assert_eq!(key.created.map(|t| t.unix_timestamp()), Some(1_493_942_451));
        assert_eq!(key.tags.get("purpose").map(String::as_str), Some("aci"));
    }

    #[test]
    fn list_item_maps_without_key_material() {
        let item: kv::KeyProperties = serde_json::from_value(json!({
            "kid": KID, "attributes": {"enabled": false}
        }))
        .unwrap();
        let key = key_properties("list", item.into()).unwrap();
        assert_eq!(key.enabled, Some(false));
        assert!(key.n.is_none() && key.kty.is_none() && key.key_ops.is_empty());
    }

    #[test]
    fn a_kid_without_version_or_of_another_collection_is_unexpected() {
        for kid in [
            "https://contoso-cmk.vault.azure.net/keys/aci-cmk",
            "https://contoso-cmk.vault.azure.net/secrets/aci-cmk/78deebed173b48e48f55abf87ed4cf71",
        ] {
            let item: kv::KeyProperties = serde_json::from_value(json!({"kid": kid})).unwrap();
            let err = key_properties("get key", item.into()).unwrap_err();
            assert!(
                matches!(err, Error::UnexpectedResponse { .. }),
                "{kid}: {err:?}"
            );
        }
    }

    #[test]
    fn wire_names_of_the_enums() {
        assert_eq!(serde_json::to_value(KeySize::Rsa4096).unwrap(), json!(4096));
        assert!(serde_json::from_value::<KeySize>(json!(1024)).is_err());
        assert_eq!(
            serde_json::to_value(WrapAlgorithm::RsaOaep256).unwrap(),
            json!("RSA-OAEP-256")
        );
        assert_eq!(
            serde_json::to_value(WrapAlgorithm::RsaOaep).unwrap(),
            json!("RSA-OAEP")
        );
        assert_eq!(
            serde_json::to_value(RsaKeyType::RsaHsm).unwrap(),
            json!("RSA-HSM")
        );
        assert_eq!(KeyType::from(RsaKeyType::Rsa), KeyType::parse("rsa"));
        assert_eq!(
            WrapAlgorithm::RsaOaep256.to_official().as_ref(),
            "RSA-OAEP-256"
        );
    }

    #[test]
    fn a_content_encryption_key_never_prints() {
        let cek = SecretBytes::new(b"cek-canary-bytes".to_vec());
        let printed = format!("{cek:?} {cek}");
        assert!(!printed.contains("canary"));
        assert!(!printed.contains("99"), "{printed}"); // no byte values either
    }

    #[test]
    fn the_client_options_pin_the_api_version_and_guard_retries() {
        let client = KeyVaultKeysClient::new(
            &CloudEndpoints::azure_public(),
            aci_cmk_core::credentials::FixedTokenCredential::new(
                "token".into(),
                OffsetDateTime::now_utc(),
            ),
            None,
        );
        assert_eq!(client.options.api_version, KEYS_API_VERSION);
        assert_eq!(client.options.client_options.per_try_policies.len(), 1);
        assert_eq!(client.options.client_options.per_call_policies.len(), 1);
        let vault: VaultUrl = "https://contoso-cmk.vault.azure.net/".parse().unwrap();
        let first = client.client(&vault).unwrap();
        let second = client
            .client(&"https://CONTOSO-cmk.vault.azure.net".parse().unwrap())
            .unwrap();
        assert!(Arc::ptr_eq(&first, &second), "one client per vault");
        assert_eq!(
            first.endpoint().as_str(),
            "https://contoso-cmk.vault.azure.net/"
        );
        assert!(format!("{client:?}").contains("contoso-cmk"));
    }
}
