//! The [`Inventory`]: everything an audit read, each distinct vault, key, identity and role
//! read once however many groups name it ([`read`] takes it), and the gaps — what could not be
//! read, and why. The checks judge it without reading anything more.

pub(crate) mod groups;
pub(crate) mod read;

use crate::report::Gap;
use aci_cmk_identity::{
    directory::ServicePrincipal, managed_identities::UserAssignedIdentity,
    role_assignments::RoleAssignment, role_assignments::RoleDefinitionId,
    role_definitions::RoleDefinition,
};
use aci_cmk_keyvault::{
    keys::KeyProperties,
    models::{DeletedVault, Vault},
    rotation_policy::KeyRotationPolicy,
};
use groups::GroupRecord;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A vault a group names, as found.
#[derive(Clone, Debug)]
pub(crate) enum VaultState {
    /// One of the subscription's vaults, and (RBAC vaults) the role assignments at, above and
    /// below it (`None`: not RBAC, or not readable — a gap says so).
    Live {
        /// The vault.
        vault: Box<Vault>,
        /// Its role assignments.
        assignments: Option<Vec<RoleAssignment>>,
    },
    /// Soft-deleted.
    SoftDeleted(Box<DeletedVault>),
    /// Not in the subscription, but its data plane answered for a key: another
    /// subscription's vault, whose settings the audit cannot read.
    Elsewhere,
    /// Not in the subscription, not soft-deleted, and its data plane does not answer.
    Gone,
}

/// A key, as read: each part `None` when it could not be read (a gap says why).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyState {
    /// The vault has no such key.
    pub missing: bool,
    /// The current version, with its key material's public part.
    pub latest: Option<KeyProperties>,
    /// Every version (attributes only).
    pub versions: Option<Vec<KeyProperties>>,
    /// The versions groups pin, read one by one (those that are not the current one), by
    /// lowercase version.
    pub pinned: BTreeMap<String, KeyProperties>,
    /// The rotation policy.
    pub rotation_policy: Option<KeyRotationPolicy>,
}

impl KeyState {
    /// What is known of `version`: its own read, the current version's, or its list entry.
    pub fn version(&self, version: &str) -> Option<&KeyProperties> {
        let version = version.to_ascii_lowercase();
        self.pinned
            .get(&version)
            .or_else(|| {
                self.latest
                    .as_ref()
                    .filter(|l| l.version.as_str().eq_ignore_ascii_case(&version))
            })
            .or_else(|| {
                self.versions.as_ref().and_then(|all| {
                    all.iter()
                        .find(|v| v.version.as_str().eq_ignore_ascii_case(&version))
                })
            })
    }
}

/// A user-assigned identity a group's encryption names.
#[derive(Clone, Debug)]
pub(crate) enum IdentityState {
    /// It exists.
    Found(Box<UserAssignedIdentity>),
    /// It does not.
    Deleted,
}

/// Everything the audit read.
#[derive(Clone, Debug)]
pub(crate) struct Inventory {
    /// The audit's time.
    pub now: OffsetDateTime,
    /// The groups in scope.
    pub groups: Vec<GroupRecord>,
    /// The vaults the groups name, by lowercase name (absent: not determined — a gap).
    pub vaults: BTreeMap<String, VaultState>,
    /// The keys the groups name, by lowercase (vault, key).
    pub keys: BTreeMap<(String, String), KeyState>,
    /// The encryption identities the groups name, by lowercase id.
    pub identities: BTreeMap<String, IdentityState>,
    /// The ACI first-party service principal (`Some(None)`: missing; `None`: not read).
    pub aci_principal: Option<Option<ServicePrincipal>>,
    /// The role definitions the vaults' assignments name.
    pub role_definitions: BTreeMap<String, RoleDefinition>,
    /// What could not be read.
    pub gaps: Vec<Gap>,
}

impl Inventory {
    /// The definition of `role`, if it was read.
    pub fn role(&self, role: Option<RoleDefinitionId>) -> Option<&RoleDefinition> {
        self.role_definitions.get(&role?.to_string())
    }
}
