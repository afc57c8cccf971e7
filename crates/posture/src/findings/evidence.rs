//! What each finding saw, as typed data a remediation can act on: the group, vault, key,
//! version, principal, identity and role names involved, and the values read. Never a secret:
//! an environment variable is named, its value never kept.

use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyName, KeyVersion, PrincipalId, ResourceGroupName, VaultName},
    resource_id::ResourceId,
};
use aci_cmk_keyvault::models::{NetworkRuleAction, NetworkRuleBypass, PublicNetworkAccess};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A container group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupRef {
    /// Its resource id.
    pub id: ResourceId,
    /// Its resource group.
    pub resource_group: ResourceGroupName,
    /// Its name.
    pub name: String,
}

impl GroupRef {
    /// The group `id` (its resource group and name come from the id).
    pub fn new(id: ResourceId) -> Option<Self> {
        let resource_group = id.resource_group_name()?.clone();
        let name = id.name().to_owned();
        Some(Self {
            id,
            resource_group,
            name,
        })
    }
}

/// A vault of the subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VaultRef {
    /// Its resource id.
    pub id: ResourceId,
    /// Its name.
    pub name: VaultName,
    /// Its data-plane URL.
    pub url: Option<VaultUrl>,
}

impl VaultRef {
    /// The vault `id` named `name` at `url`.
    pub fn new(id: ResourceId, name: VaultName, url: Option<VaultUrl>) -> Self {
        Self { id, name, url }
    }

    /// Its resource group.
    pub fn resource_group(&self) -> Option<&ResourceGroupName> {
        self.id.resource_group_name()
    }
}

/// A key, at a version where one is meant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyRef {
    /// The vault's data-plane URL.
    pub vault_url: VaultUrl,
    /// The vault's resource id, when the vault is one of the subscription's.
    pub vault_id: Option<ResourceId>,
    /// The key name.
    pub name: KeyName,
    /// The version.
    pub version: Option<KeyVersion>,
}

impl KeyRef {
    /// Key `name` of the vault at `vault_url`, at `version`.
    pub fn new(
        vault_url: VaultUrl,
        vault_id: Option<ResourceId>,
        name: KeyName,
        version: Option<KeyVersion>,
    ) -> Self {
        Self {
            vault_url,
            vault_id,
            name,
            version,
        }
    }

    /// The vault name.
    pub fn vault_name(&self) -> &VaultName {
        self.vault_url.vault_name()
    }

    /// The key's resource id (`{vault id}/keys/{name}`) where the vault is known, else its
    /// versionless key URL.
    pub fn resource(&self) -> String {
        match &self.vault_id {
            Some(vault) => format!("{vault}/keys/{}", self.name),
            None => self.vault_url.key_id(&self.name, None).to_string(),
        }
    }
}

/// Why a key version is unusable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unusable {
    /// The version is disabled.
    Disabled,
    /// Its `exp` has passed.
    Expired {
        /// When it expired.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Its `nbf` is ahead.
    NotYetValid {
        /// When it becomes valid.
        #[serde(with = "time::serde::rfc3339")]
        from: OffsetDateTime,
    },
    /// Its permitted operations leave out `unwrapKey`.
    UnwrapNotPermitted {
        /// The operations it permits.
        key_ops: Vec<String>,
    },
    /// The vault has no such version.
    VersionMissing,
    /// The vault has no such key (deleted, or never created).
    KeyMissing,
}

/// Who unwraps a group's data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnwrapPrincipal {
    /// The ACI first-party service principal (the standard flow).
    AciFirstParty {
        /// Its object id in the tenant.
        object_id: PrincipalId,
    },
    /// The group's encryption identity (the network-protected flow).
    UserAssigned {
        /// The identity's resource id.
        identity: ResourceId,
        /// Its principal (object) id.
        principal_id: PrincipalId,
    },
}

impl UnwrapPrincipal {
    /// The principal's object id.
    pub fn object_id(&self) -> &PrincipalId {
        match self {
            UnwrapPrincipal::AciFirstParty { object_id } => object_id,
            UnwrapPrincipal::UserAssigned { principal_id, .. } => principal_id,
        }
    }
}

/// A role assignment, named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoleRef {
    /// The role definition's GUID.
    pub role_definition_id: String,
    /// The role's display name, when its definition was read.
    pub role_name: Option<String>,
    /// The scope the role is assigned at.
    pub scope: String,
    /// The assignment's id.
    pub assignment_id: String,
}

/// What a vault's authorization lacks for a principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingGrant {
    /// An access-policy vault: the key permissions the principal's policies lack.
    AccessPolicy {
        /// The missing permissions (`get`, `unwrapKey`).
        missing: Vec<String>,
        /// The permissions its policies hold.
        held: Vec<String>,
    },
    /// An RBAC vault: the data actions no role of the principal's allows.
    Rbac {
        /// The missing data actions.
        missing: Vec<String>,
        /// The roles the principal holds on the key, the vault or above.
        roles: Vec<RoleRef>,
    },
}

/// What is wrong with a group's encryption identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdentityProblem {
    /// The identity no longer exists.
    Deleted,
    /// It is not one of the group's `identity.userAssignedIdentities`.
    NotListed,
}

/// Why the firewall keeps ACI from a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FirewallBlock {
    /// The firewall denies by default and does not let trusted services through.
    DenyWithoutBypass,
    /// Public network access is disabled and trusted services are not let through.
    PublicAccessDisabledWithoutBypass,
    /// The group reaches the key as the ACI first-party principal, which is not a trusted
    /// service: a denying firewall or disabled public access stops it whatever the bypass.
    FirstPartyNotTrusted,
}

/// A vault's network settings, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkSettings {
    /// `networkAcls.defaultAction` (absent: no firewall, Azure's `Allow`).
    pub default_action: Option<NetworkRuleAction>,
    /// `networkAcls.bypass` (absent: Azure's `AzureServices`).
    pub bypass: Option<NetworkRuleBypass>,
    /// `publicNetworkAccess` (absent: Azure's `Enabled`).
    pub public_network_access: Option<PublicNetworkAccess>,
    /// How many IP rules the firewall has.
    pub ip_rules: usize,
    /// How many virtual-network rules.
    pub virtual_network_rules: usize,
}

/// What became of a vault a group names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VaultAbsence {
    /// Soft-deleted: recoverable until its scheduled purge date.
    SoftDeleted {
        /// The vault's id before deletion (it names the resource group to recover into).
        vault_id: Option<ResourceId>,
        /// Its region (recovering and purging need it).
        location: Option<String>,
        /// When it was deleted.
        #[serde(with = "time::serde::rfc3339::option")]
        deleted: Option<OffsetDateTime>,
        /// When Azure purges it.
        #[serde(with = "time::serde::rfc3339::option")]
        scheduled_purge: Option<OffsetDateTime>,
        /// Whether purge protection is on.
        purge_protection: Option<bool>,
    },
    /// Not among the subscription's vaults nor its soft-deleted ones, and its data plane does
    /// not answer for the key: purged, or never there.
    Gone,
}

/// A principal that can unwrap with a vault's keys, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnwrapGrant {
    /// The principal's object id.
    pub principal_id: PrincipalId,
    /// The access policy granting it (`unwrapKey` or `all`), if any.
    pub access_policy: bool,
    /// The roles granting it, if any.
    pub roles: Vec<RoleRef>,
}

/// What a finding saw: typed per kind.
// A report holds a handful of these; boxing the larger variants would only make them harder
// to match on.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// [`GroupWithoutCmk`](crate::FindingKind::GroupWithoutCmk).
    GroupWithoutCmk {
        /// The group.
        group: GroupRef,
        /// Its sku (`Standard` is the only one with a customer-managed key).
        sku: Option<String>,
    },
    /// [`KeyVersionUnusable`](crate::FindingKind::KeyVersionUnusable).
    KeyVersionUnusable {
        /// The group.
        group: GroupRef,
        /// The key version it pins.
        key: KeyRef,
        /// Why it is unusable.
        reasons: Vec<Unusable>,
        /// The newest usable version of the key, if there is one (what a re-created group
        /// could use).
        newest_usable: Option<KeyVersion>,
    },
    /// [`KeyVersionExpiresSoon`](crate::FindingKind::KeyVersionExpiresSoon).
    KeyVersionExpiresSoon {
        /// The group.
        group: GroupRef,
        /// The key version it pins.
        key: KeyRef,
        /// When the version expires.
        #[serde(with = "time::serde::rfc3339")]
        expires: OffsetDateTime,
        /// Whole days from the audit to the expiry.
        days_left: i64,
        /// The warning window, in days.
        within_days: u32,
    },
    /// [`StaleKeyVersion`](crate::FindingKind::StaleKeyVersion).
    StaleKeyVersion {
        /// The group.
        group: GroupRef,
        /// The key version it pins.
        key: KeyRef,
        /// The newest usable version.
        newest_usable: KeyVersion,
        /// Whether a deployment spec pins the group's version by choice.
        pinned_by_spec: bool,
    },
    /// [`UnwrapPermissionMissing`](crate::FindingKind::UnwrapPermissionMissing).
    UnwrapPermissionMissing {
        /// The group.
        group: GroupRef,
        /// Its vault.
        vault: VaultRef,
        /// The key.
        key: KeyRef,
        /// Who unwraps.
        principal: UnwrapPrincipal,
        /// What that principal lacks.
        missing: MissingGrant,
    },
    /// [`AciServicePrincipalMissing`](crate::FindingKind::AciServicePrincipalMissing).
    AciServicePrincipalMissing {
        /// The ACI first-party application id.
        app_id: String,
        /// The groups that reach their key as it (standard flow).
        groups: Vec<ResourceId>,
        /// The keys those groups use, each once (no version): where a created principal needs
        /// `get` and `unwrapKey`.
        keys: Vec<KeyRef>,
    },
    /// [`EncryptionIdentityBroken`](crate::FindingKind::EncryptionIdentityBroken).
    EncryptionIdentityBroken {
        /// The group.
        group: GroupRef,
        /// The identity its encryption names.
        identity: ResourceId,
        /// What is wrong with it.
        problem: IdentityProblem,
    },
    /// [`FirewallBlocksAci`](crate::FindingKind::FirewallBlocksAci).
    FirewallBlocksAci {
        /// The group.
        group: GroupRef,
        /// Its vault.
        vault: VaultRef,
        /// The vault's network settings.
        network: NetworkSettings,
        /// Why ACI is kept out.
        reason: FirewallBlock,
    },
    /// [`TrustedServicesCaveat`](crate::FindingKind::TrustedServicesCaveat).
    TrustedServicesCaveat {
        /// The vault.
        vault: VaultRef,
        /// Its network settings.
        network: NetworkSettings,
        /// The groups that rely on the bypass.
        groups: Vec<ResourceId>,
    },
    /// [`VaultOpenToAllNetworks`](crate::FindingKind::VaultOpenToAllNetworks).
    VaultOpenToAllNetworks {
        /// The vault.
        vault: VaultRef,
        /// Its network settings.
        network: NetworkSettings,
    },
    /// [`VaultWithoutPurgeProtection`](crate::FindingKind::VaultWithoutPurgeProtection).
    VaultWithoutPurgeProtection {
        /// The vault.
        vault: VaultRef,
        /// `enablePurgeProtection` as read.
        enable_purge_protection: Option<bool>,
    },
    /// [`VaultWithoutSoftDelete`](crate::FindingKind::VaultWithoutSoftDelete).
    VaultWithoutSoftDelete {
        /// The vault.
        vault: VaultRef,
    },
    /// [`KeyWithoutExpiration`](crate::FindingKind::KeyWithoutExpiration).
    KeyWithoutExpiration {
        /// The key at its current version.
        key: KeyRef,
    },
    /// [`RsaKeyTooSmall`](crate::FindingKind::RsaKeyTooSmall).
    RsaKeyTooSmall {
        /// The key at its current version.
        key: KeyRef,
        /// Its size in bits.
        bits: u32,
        /// The configured minimum.
        minimum_bits: u32,
        /// The groups on the key (whatever their version): a larger version helps them only
        /// once they are re-created on it.
        groups: Vec<GroupRef>,
    },
    /// [`RotationPolicyMissingOrLate`](crate::FindingKind::RotationPolicyMissingOrLate).
    RotationPolicyMissingOrLate {
        /// The key.
        key: KeyRef,
        /// Days after a version's creation that the policy rotates it (`None`: it never
        /// does).
        rotates_after_days: Option<i64>,
        /// The configured maximum.
        maximum_days: u32,
    },
    /// [`VaultInAccessPolicyMode`](crate::FindingKind::VaultInAccessPolicyMode).
    VaultInAccessPolicyMode {
        /// The vault.
        vault: VaultRef,
        /// How many access policies it has.
        access_policies: usize,
    },
    /// [`VaultMissing`](crate::FindingKind::VaultMissing).
    VaultMissing {
        /// The group.
        group: GroupRef,
        /// The vault URL its encryption names.
        vault_url: VaultUrl,
        /// What became of it.
        absence: VaultAbsence,
    },
    /// [`PlainSecretEnvironmentValue`](crate::FindingKind::PlainSecretEnvironmentValue).
    PlainSecretEnvironmentValue {
        /// The group.
        group: GroupRef,
        /// The container.
        container: String,
        /// The variable's name (never its value).
        variable: String,
    },
    /// [`ExcessUnwrapPrincipals`](crate::FindingKind::ExcessUnwrapPrincipals).
    ExcessUnwrapPrincipals {
        /// The vault.
        vault: VaultRef,
        /// The principals its groups unwrap as, and those allowed by the options.
        needed: Vec<PrincipalId>,
        /// The others that can unwrap.
        extra: Vec<UnwrapGrant>,
    },
}

impl Evidence {
    /// The part of the evidence that names *which* problem this is, not how it looks today:
    /// what goes into the fingerprint beside the kind and the resource (a key version, a
    /// container and variable; never a time or a count, which change from run to run).
    pub fn stable_part(&self) -> String {
        let key = |k: &KeyRef| {
            format!(
                "{}/{}/{}",
                k.vault_name(),
                k.name,
                k.version.as_ref().map(|v| v.as_str()).unwrap_or("")
            )
            .to_ascii_lowercase()
        };
        match self {
            Evidence::KeyVersionUnusable { key: k, .. }
            | Evidence::KeyVersionExpiresSoon { key: k, .. }
            | Evidence::StaleKeyVersion { key: k, .. } => key(k),
            Evidence::UnwrapPermissionMissing {
                key: k, principal, ..
            } => format!("{}|{}", key(k), principal.object_id()),
            Evidence::EncryptionIdentityBroken { identity, .. } => {
                identity.as_str().to_ascii_lowercase()
            }
            Evidence::VaultMissing { vault_url, .. } => vault_url.as_str().to_owned(),
            Evidence::PlainSecretEnvironmentValue {
                container,
                variable,
                ..
            } => format!("{container}/{variable}"),
            _ => String::new(),
        }
    }
}
