//! The Key Vault management-plane models (`Microsoft.KeyVault`, api-version
//! [`MANAGEMENT_API_VERSION`](crate::MANAGEMENT_API_VERSION)), with the wire's camelCase names.
//!
//! Responses may carry fields these types do not name; they are ignored. Read-only fields
//! (`vaultUri`, `provisioningState`) are decoded but never sent.

use aci_cmk_core::wire_enum;
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{AppId, Location, PrincipalId, TenantId, VaultName},
    resource_id::ResourceId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// `enablePurgeProtection` is sent only when it is `true`: Azure rejects `false` with a 400,
/// even on create (purge protection cannot be turned off, so "off" is expressed by omission).
fn purge_protection_not_true(value: &Option<bool>) -> bool {
    *value != Some(true)
}

wire_enum! {
    /// The pricing tier of a vault (`sku.name`; the service compares it case-sensitively, and
    /// this crate sends it lowercase).
    pub enum SkuName {
        /// Software-protected keys.
        Standard => "standard",
        /// Adds HSM-protected keys (`RSA-HSM`).
        Premium => "premium",
    }
}

/// A vault's SKU: family `A` and a [`SkuName`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sku {
    /// Always `A`.
    pub family: String,
    /// `standard` or `premium`.
    pub name: SkuName,
}

impl Sku {
    /// The standard SKU (`{"family":"A","name":"standard"}`).
    pub fn standard() -> Self {
        Self::new(SkuName::Standard)
    }

    /// The premium SKU, needed for `RSA-HSM` keys.
    pub fn premium() -> Self {
        Self::new(SkuName::Premium)
    }

    /// Family `A` with `name`.
    pub fn new(name: SkuName) -> Self {
        Self {
            family: "A".to_owned(),
            name,
        }
    }
}

impl Default for Sku {
    fn default() -> Self {
        Self::standard()
    }
}

wire_enum! {
    /// A key permission of an access policy, spelled exactly as the wire has it.
    pub enum KeyPermission {
        /// Read a key's public part and attributes.
        Get => "get",
        /// List keys and versions.
        List => "list",
        /// Create a key.
        Create => "create",
        /// Update a key's attributes.
        Update => "update",
        /// Import a key.
        Import => "import",
        /// Delete a key.
        Delete => "delete",
        /// Recover a soft-deleted key.
        Recover => "recover",
        /// Back a key up.
        Backup => "backup",
        /// Restore a key backup.
        Restore => "restore",
        /// Decrypt with a key.
        Decrypt => "decrypt",
        /// Encrypt with a key.
        Encrypt => "encrypt",
        /// Unwrap a key with a key (what ACI needs for a customer-managed key).
        UnwrapKey => "unwrapKey",
        /// Wrap a key with a key.
        WrapKey => "wrapKey",
        /// Verify a signature.
        Verify => "verify",
        /// Sign with a key.
        Sign => "sign",
        /// Purge a soft-deleted key.
        Purge => "purge",
        /// Release an exportable key.
        Release => "release",
        /// Rotate a key.
        Rotate => "rotate",
        /// Read a key's rotation policy.
        GetRotationPolicy => "getrotationpolicy",
        /// Set a key's rotation policy.
        SetRotationPolicy => "setrotationpolicy",
        /// Every key permission.
        All => "all",
    }
}

/// What an access policy lets a principal do. Secret, certificate and storage permissions are
/// kept as the service's strings (this SDK only manages keys).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// Key permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyPermission>,
    /// Secret permissions (`get`, `list`, `set`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Certificate permissions (`get`, `list`, `create`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    /// Storage account permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<String>,
}

impl Permissions {
    /// Key permissions only.
    pub fn keys(keys: impl IntoIterator<Item = KeyPermission>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            ..Self::default()
        }
    }
}

/// One access policy: a principal of a tenant and its permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicyEntry {
    /// The tenant of the principal (the vault's tenant).
    pub tenant_id: TenantId,
    /// The principal's object id: a service principal's Graph `id` or a managed identity's
    /// `principalId`.
    pub object_id: PrincipalId,
    /// For a compound identity only: the application the principal acts through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<AppId>,
    /// What the principal may do.
    pub permissions: Permissions,
}

impl AccessPolicyEntry {
    /// A policy granting `object_id` of `tenant_id` the given key permissions.
    pub fn for_keys(
        tenant_id: TenantId,
        object_id: PrincipalId,
        keys: impl IntoIterator<Item = KeyPermission>,
    ) -> Self {
        Self {
            tenant_id,
            object_id,
            application_id: None,
            permissions: Permissions::keys(keys),
        }
    }
}

wire_enum! {
    /// What the firewall does with a request no rule matches (`networkAcls.defaultAction`).
    pub enum NetworkRuleAction {
        /// Let it through.
        Allow => "Allow",
        /// Refuse it (`ForbiddenByFirewall`).
        Deny => "Deny",
    }
}

wire_enum! {
    /// Which traffic bypasses the firewall (`networkAcls.bypass`).
    pub enum NetworkRuleBypass {
        /// Trusted Azure services.
        AzureServices => "AzureServices",
        /// Nothing.
        None => "None",
    }
}

/// An IP rule of the vault firewall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpRule {
    /// An IPv4 address (`203.0.113.7`) or CIDR range (`203.0.113.0/24`); Azure returns a
    /// single address as `/32`.
    pub value: String,
}

impl IpRule {
    /// A rule for `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
        }
    }
}

/// A virtual-network rule of the vault firewall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkRule {
    /// The subnet's resource id (Azure returns it lowercased).
    pub id: String,
    /// Accept the rule even if the subnet has no `Microsoft.KeyVault` service endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_vnet_service_endpoint: Option<bool>,
}

/// The vault firewall (`properties.networkAcls`).
///
/// `ipRules` and `virtualNetworkRules` are always sent, so that an empty list clears them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRuleSet {
    /// Which traffic bypasses the rules; Azure's default is `AzureServices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass: Option<NetworkRuleBypass>,
    /// What happens to a request no rule matches; Azure's default is `Allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_action: Option<NetworkRuleAction>,
    /// Addresses and ranges let through.
    #[serde(default)]
    pub ip_rules: Vec<IpRule>,
    /// Subnets let through.
    #[serde(default)]
    pub virtual_network_rules: Vec<VirtualNetworkRule>,
}

impl NetworkRuleSet {
    /// Deny by default, let trusted Azure services through, and allow `ip_rules`: the
    /// firewalled-vault setup of the managed-identity flow.
    pub fn deny_except_azure_services(ip_rules: impl IntoIterator<Item = IpRule>) -> Self {
        Self {
            bypass: Some(NetworkRuleBypass::AzureServices),
            default_action: Some(NetworkRuleAction::Deny),
            ip_rules: ip_rules.into_iter().collect(),
            virtual_network_rules: Vec::new(),
        }
    }

    /// Allow every network.
    pub fn allow_all() -> Self {
        Self {
            bypass: Some(NetworkRuleBypass::AzureServices),
            default_action: Some(NetworkRuleAction::Allow),
            ..Self::default()
        }
    }
}

wire_enum! {
    /// Whether the vault accepts traffic from public networks (`publicNetworkAccess`).
    /// `Disabled` overrides the firewall rules: only private endpoints and trusted services
    /// get through.
    pub enum PublicNetworkAccess {
        /// Public traffic is subject to the firewall.
        Enabled => "Enabled",
        /// No public traffic.
        Disabled => "Disabled",
    }
}

wire_enum! {
    /// How a vault `PUT` treats an existing soft-deleted vault of the same name (`createMode`).
    pub enum CreateMode {
        /// Create a new vault (fails with a conflict if a soft-deleted one holds the name).
        Default => "default",
        /// Recover the soft-deleted vault of this name.
        Recover => "recover",
    }
}

/// A vault's properties, as sent on create and returned on read.
///
/// Build one with [`VaultProperties::new`] and the `with_*` methods; every optional setting
/// left `None` is omitted from the request, so Azure's default applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VaultProperties {
    /// The tenant whose principals the vault authenticates.
    pub tenant_id: TenantId,
    /// The SKU.
    pub sku: Sku,
    /// The access policies. A `PUT` **replaces** the vault's list with this one: to change the
    /// policies of an existing vault use
    /// [`update_access_policy`](crate::KeyVaultManagement::update_access_policy) instead.
    /// `None` omits the field (only valid with `createMode: recover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_policies: Option<Vec<AccessPolicyEntry>>,
    /// The data-plane URL (read-only).
    #[serde(default, skip_serializing)]
    pub vault_uri: Option<VaultUrl>,
    /// Whether VMs may read certificates stored as secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_deployment: Option<bool>,
    /// Whether Azure Disk Encryption may read secrets and unwrap keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_disk_encryption: Option<bool>,
    /// Whether ARM template deployments may read secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_template_deployment: Option<bool>,
    /// Soft delete (Azure's default: on; it cannot be turned off once on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_soft_delete: Option<bool>,
    /// Days a deleted vault or key stays recoverable: 7–90 (Azure's default: 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_delete_retention_in_days: Option<u32>,
    /// Purge protection. Irreversible; sent only when `Some(true)` (Azure rejects `false`).
    #[serde(default, skip_serializing_if = "purge_protection_not_true")]
    pub enable_purge_protection: Option<bool>,
    /// Authorize data-plane calls by Azure RBAC instead of access policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_rbac_authorization: Option<bool>,
    /// The firewall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<NetworkRuleSet>,
    /// Whether public networks may reach the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<PublicNetworkAccess>,
    /// `default`, or `recover` to bring back a soft-deleted vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_mode: Option<CreateMode>,
    /// `Succeeded`, or `RegisteringDns` while the vault's DNS name is set up (read-only).
    #[serde(default, skip_serializing)]
    pub provisioning_state: Option<String>,
}

impl VaultProperties {
    /// Properties of a vault in `tenant_id` with `sku` and no access policy (an empty list);
    /// everything else is left to Azure's defaults.
    pub fn new(tenant_id: TenantId, sku: Sku) -> Self {
        Self {
            tenant_id,
            sku,
            access_policies: Some(Vec::new()),
            vault_uri: None,
            enabled_for_deployment: None,
            enabled_for_disk_encryption: None,
            enabled_for_template_deployment: None,
            enable_soft_delete: None,
            soft_delete_retention_in_days: None,
            enable_purge_protection: None,
            enable_rbac_authorization: None,
            network_acls: None,
            public_network_access: None,
            create_mode: None,
            provisioning_state: None,
        }
    }

    /// Adds an access policy.
    pub fn with_access_policy(mut self, entry: AccessPolicyEntry) -> Self {
        self.access_policies
            .get_or_insert_with(Vec::new)
            .push(entry);
        self
    }

    /// Turns soft delete on, keeping deleted objects for `retention_days` (7–90).
    pub fn with_soft_delete(mut self, retention_days: u32) -> Self {
        self.enable_soft_delete = Some(true);
        self.soft_delete_retention_in_days = Some(retention_days);
        self
    }

    /// Turns purge protection on (irreversible). Without this call the field is omitted.
    pub fn with_purge_protection(mut self) -> Self {
        self.enable_purge_protection = Some(true);
        self
    }

    /// Chooses Azure RBAC (`true`) or access policies (`false`) for data-plane authorization.
    pub fn with_rbac_authorization(mut self, enabled: bool) -> Self {
        self.enable_rbac_authorization = Some(enabled);
        self
    }

    /// Sets the firewall.
    pub fn with_network_acls(mut self, rules: NetworkRuleSet) -> Self {
        self.network_acls = Some(rules);
        self
    }

    /// Sets public network access.
    pub fn with_public_network_access(mut self, access: PublicNetworkAccess) -> Self {
        self.public_network_access = Some(access);
        self
    }

    /// Sets the create mode.
    pub fn with_create_mode(mut self, mode: CreateMode) -> Self {
        self.create_mode = Some(mode);
        self
    }
}

/// The body of a vault `PUT`: location, tags and properties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultCreateParameters {
    /// The region.
    pub location: Location,
    /// Tags (a `PUT` replaces them).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The vault's settings.
    pub properties: VaultProperties,
}

impl VaultCreateParameters {
    /// A vault in `location` with `properties` and no tags.
    pub fn new(location: Location, properties: VaultProperties) -> Self {
        Self {
            location,
            tags: BTreeMap::new(),
            properties,
        }
    }

    /// Adds a tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }
}

/// A vault as ARM returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    /// The vault's resource id.
    pub id: ResourceId,
    /// The vault name.
    pub name: VaultName,
    /// `Microsoft.KeyVault/vaults`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The region.
    pub location: Location,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The settings.
    pub properties: VaultProperties,
}

/// The properties of a vault `PATCH`: every field is optional and omitted when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultPatchProperties {
    /// The tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    /// The SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// The access policies. Prefer
    /// [`update_access_policy`](crate::KeyVaultManagement::update_access_policy): whether a
    /// `PATCH` merges or replaces this list is not documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_policies: Option<Vec<AccessPolicyEntry>>,
    /// See [`VaultProperties::enabled_for_deployment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_deployment: Option<bool>,
    /// See [`VaultProperties::enabled_for_disk_encryption`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_disk_encryption: Option<bool>,
    /// See [`VaultProperties::enabled_for_template_deployment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_for_template_deployment: Option<bool>,
    /// See [`VaultProperties::enable_soft_delete`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_soft_delete: Option<bool>,
    /// See [`VaultProperties::enable_rbac_authorization`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_rbac_authorization: Option<bool>,
    /// See [`VaultProperties::soft_delete_retention_in_days`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_delete_retention_in_days: Option<u32>,
    /// See [`VaultProperties::create_mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_mode: Option<CreateMode>,
    /// Purge protection: sent only when `Some(true)`.
    #[serde(default, skip_serializing_if = "purge_protection_not_true")]
    pub enable_purge_protection: Option<bool>,
    /// The firewall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<NetworkRuleSet>,
    /// Public network access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<PublicNetworkAccess>,
}

/// The body of a vault `PATCH`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultPatch {
    /// New tags, replacing the old ones; `None` leaves them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Properties to change; `None` leaves them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<VaultPatchProperties>,
}

impl VaultPatch {
    /// A patch changing only `properties`.
    pub fn properties(properties: VaultPatchProperties) -> Self {
        Self {
            tags: None,
            properties: Some(properties),
        }
    }
}

wire_enum! {
    /// How an access-policy update combines with the vault's list (the last path segment of
    /// `.../accessPolicies/{kind}`).
    pub enum AccessPolicyUpdateKind {
        /// Add the entries, merging permissions into an existing entry of the same principal.
        Add => "add",
        /// Replace the entries of the same principals.
        Replace => "replace",
        /// Remove the given permissions (or entries).
        Remove => "remove",
    }
}

/// The result of an access-policy update: the vault's access policies afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicyUpdateResult {
    /// `.../vaults/{vault}/accessPolicies/{kind}` (may be absent).
    #[serde(default)]
    pub id: Option<String>,
    /// The properties.
    pub properties: AccessPolicyList,
}

/// A list of access policies under `properties`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicyList {
    /// The access policies.
    #[serde(default)]
    pub access_policies: Vec<AccessPolicyEntry>,
}

/// A soft-deleted vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVault {
    /// `/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}`.
    #[serde(default)]
    pub id: Option<String>,
    /// The vault name.
    pub name: VaultName,
    /// `Microsoft.KeyVault/deletedVaults`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// Details.
    pub properties: DeletedVaultProperties,
}

/// What is known of a soft-deleted vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVaultProperties {
    /// The vault's resource id before deletion (it names the resource group to recover into).
    #[serde(default)]
    pub vault_id: Option<ResourceId>,
    /// The region: [`purge_deleted`](crate::KeyVaultManagement::purge_deleted) and
    /// [`get_deleted`](crate::KeyVaultManagement::get_deleted) need it.
    #[serde(default)]
    pub location: Option<Location>,
    /// When it was deleted.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deletion_date: Option<OffsetDateTime>,
    /// When Azure purges it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub scheduled_purge_date: Option<OffsetDateTime>,
    /// The vault's tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Whether purge protection is on (then it cannot be purged before the scheduled date).
    #[serde(default)]
    pub purge_protection_enabled: Option<bool>,
}

wire_enum! {
    /// Why a vault name is unavailable.
    pub enum NameUnavailableReason {
        /// The name is malformed.
        AccountNameInvalid => "AccountNameInvalid",
        /// Another vault (possibly in another subscription) has it.
        AlreadyExists => "AlreadyExists",
    }
}

/// The answer of `checkNameAvailability`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckNameAvailabilityResult {
    /// Whether the name can be used.
    pub name_available: bool,
    /// Why not, when it cannot.
    #[serde(default)]
    pub reason: Option<NameUnavailableReason>,
    /// The service's explanation.
    #[serde(default)]
    pub message: Option<String>,
}
