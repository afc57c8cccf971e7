//! [`remediation_plan`]: an audit's findings turned into steps, each in place or disruptive,
//! each naming the findings it fixes; and the findings no step fixes, with why. Decided from
//! the report alone: nothing is read.
//!
//! One step per thing acted on — a vault's protection, a vault's firewall, a principal's grant
//! on a key, a key's lifecycle, a group's re-creation — however many findings it fixes: a
//! group on a stale version whose encryption identity is not listed is re-created once, onto
//! the newest version and listing it.

use super::options::{CmkTarget, RemediationOptions};
use crate::{
    AuditReport, FindingKind,
    checks::key_hygiene::rotates_after_days,
    findings::{
        Finding,
        evidence::{
            Evidence, FirewallBlock, GroupRef, IdentityProblem, KeyRef, MissingGrant, Unusable,
            UnwrapPrincipal, VaultAbsence, VaultRef,
        },
    },
};
use aci_cmk_core::{
    names::{KeyVersion, Location, ResourceGroupName, VaultName},
    resource_id::ResourceId,
};
use aci_cmk_keyvault::{keys::KeySize, rotation_policy::KeyRotationPolicy};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, sync::Arc};
use time::OffsetDateTime;

/// Whether a step leaves what it touches running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disruption {
    /// Changes settings, grants or keys; nothing restarts.
    InPlace,
    /// Re-creates a container group (it restarts, its IP address may change), or deploys what
    /// such re-creations need.
    Disruptive,
}

impl fmt::Display for Disruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disruption::InPlace => "in place",
            Disruption::Disruptive => "disruptive",
        })
    }
}

/// A finding, as a step or the plan names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindingRef {
    /// Its kind.
    pub kind: FindingKind,
    /// Its fingerprint (stable across audits).
    pub fingerprint: String,
    /// The resource it is about.
    pub resource_id: String,
}

impl FindingRef {
    fn of(f: &Finding) -> Self {
        Self {
            kind: f.kind,
            fingerprint: f.fingerprint.clone(),
            resource_id: f.resource_id.clone(),
        }
    }
}

/// How a principal is granted `get` and `unwrapKey`: as the vault authorizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// An access policy with key permissions `get` and `unwrapKey` (added, merged into the
    /// principal's own).
    AccessPolicy,
    /// Key Vault Crypto Service Encryption User on the key (its data actions: read, wrap,
    /// unwrap).
    RoleAssignment,
}

/// Which version a re-created group moves onto: the newest usable version of its key when the
/// step runs (a key step of the same run may have created it), one that does not expire within
/// `beyond_days` when given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionTarget {
    /// The newest usable version the audit saw, if any.
    pub audited_newest: Option<KeyVersion>,
    /// The version must not expire within this many days.
    pub beyond_days: Option<u32>,
}

/// What a group's re-creation changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupChanges {
    /// Onto another version of its key.
    pub key_version: Option<VersionTarget>,
    /// Under a customer-managed key: the options' target.
    pub under_cmk: bool,
    /// List its encryption identity in its identity block.
    pub list_identity: Option<ResourceId>,
    /// Reach its key through a new user-assigned identity (created, granted `get` and
    /// `unwrapKey`): the vault's firewall lets only trusted services through.
    pub new_identity: Option<String>,
    /// From the spec given for it (its containers and secure values), not from what Azure
    /// returns.
    pub from_spec: bool,
}

/// What a step does.
// A plan holds a few dozen of these; boxing the larger variants would only make them harder
// to match on.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
#[non_exhaustive]
pub enum StepAction {
    /// Recover a soft-deleted vault (`createMode: recover`): its keys, access policies and
    /// settings come back.
    RecoverVault {
        /// The vault.
        vault: VaultName,
        /// Its resource group (from its id before deletion).
        resource_group: ResourceGroupName,
        /// Its region.
        location: Location,
    },
    /// Turn on soft delete and purge protection (both irreversible; never turned off).
    ProtectVault {
        /// The vault.
        vault: VaultRef,
        /// Turn on soft delete.
        soft_delete: bool,
        /// Turn on purge protection.
        purge_protection: bool,
    },
    /// Let trusted Azure services through the firewall (`bypass: AzureServices`), keeping its
    /// default action, public network access and every rule.
    AllowTrustedServices {
        /// The vault.
        vault: VaultRef,
    },
    /// Create the ACI first-party service principal, then grant it `get` and `unwrapKey` on
    /// each key its groups use.
    CreateAciServicePrincipal {
        /// The keys.
        keys: Vec<KeyRef>,
    },
    /// Grant a principal `get` and `unwrapKey` on a key, and nothing more.
    GrantUnwrap {
        /// The vault.
        vault: VaultRef,
        /// The key (no version).
        key: KeyRef,
        /// Who.
        principal: UnwrapPrincipal,
        /// How.
        by: GrantKind,
    },
    /// A key's lifecycle: a new version (larger, or because the groups' versions expire
    /// soon), the current version's expiry, the rotation policy.
    KeyLifecycle {
        /// The key (no version).
        key: KeyRef,
        /// Create a new version of at least this many bits (the current size when `None`).
        new_version: Option<NewVersion>,
        /// Give the current version an expiry (the lifecycle's).
        expire_current: bool,
        /// Set this rotation policy.
        rotation_policy: Option<KeyRotationPolicy>,
    },
    /// Deploy the options' target ([`CmkTarget::Deploy`]) through the orchestrator, once, for
    /// the groups moving under a customer-managed key.
    DeployCmkTarget,
    /// Delete a container group and create it again, changed.
    RecreateGroup {
        /// The group.
        group: GroupRef,
        /// What changes.
        changes: GroupChanges,
    },
}

/// A new key version a key step creates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewVersion {
    /// At least this many bits (`None`: the current version's size).
    pub min_bits: Option<u32>,
    /// Only if no usable version outlives this many days from now (`None`: always).
    pub unless_usable_beyond_days: Option<u32>,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlannedStep {
    /// Its id, unique in the plan: `protect-vault/kv-1`, `recreate/rg/g1`, …
    pub id: String,
    /// In place or disruptive.
    pub disruption: Disruption,
    /// What it does.
    #[serde(flatten)]
    pub action: StepAction,
    /// What it does, in one line.
    pub summary: String,
    /// The findings it fixes.
    pub fixes: Vec<FindingRef>,
    /// Steps that must have succeeded before it runs.
    pub needs: Vec<String>,
}

/// Why a finding has no step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why", content = "detail")]
#[non_exhaustive]
pub enum Unfixed {
    /// No automatic fix exists: someone must decide or supply something.
    NoAutomaticFix(String),
    /// A fix exists once the options give what it needs.
    NeedsInput(String),
    /// Nothing needs doing (information, or a choice made on purpose).
    NothingToDo(String),
}

impl fmt::Display for Unfixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unfixed::NoAutomaticFix(d) => write!(f, "no automatic fix: {d}"),
            Unfixed::NeedsInput(d) => write!(f, "needs {d}"),
            Unfixed::NothingToDo(d) => write!(f, "nothing to do: {d}"),
        }
    }
}

/// A finding no step fixes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unplanned {
    /// The finding.
    pub finding: FindingRef,
    /// Why no step fixes it.
    pub why: Unfixed,
}

/// The steps that fix an audit's findings, and the findings left, with why.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemediationPlan {
    /// The audit's run id.
    pub audit_run_id: String,
    /// The time the audit judged by.
    #[serde(with = "time::serde::rfc3339")]
    pub audited_at: OffsetDateTime,
    /// The steps, in the order they run: in place first (vaults, principals, grants, keys),
    /// then the disruptive ones.
    pub steps: Vec<PlannedStep>,
    /// The findings no step fixes.
    pub unplanned: Vec<Unplanned>,
    /// The options the plan was made with (its target and group specs, which may hold secure
    /// values: never serialised).
    #[serde(skip)]
    pub(crate) options: Arc<RemediationOptions>,
}

impl RemediationPlan {
    /// The step `id`.
    pub fn step(&self, id: &str) -> Option<&PlannedStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The steps fixing findings of `kind`.
    pub fn fixing(&self, kind: FindingKind) -> impl Iterator<Item = &PlannedStep> {
        self.steps
            .iter()
            .filter(move |s| s.fixes.iter().any(|f| f.kind == kind))
    }

    /// The kinds some step fixes.
    pub fn remediable_kinds(&self) -> std::collections::BTreeSet<FindingKind> {
        self.steps
            .iter()
            .flat_map(|s| s.fixes.iter().map(|f| f.kind))
            .collect()
    }

    /// Whether nothing is left to do automatically.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as pretty JSON (never a secret: the options are not part of it).
    pub fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string_pretty(self).map_err(crate::Error::Serialize)
    }
}

impl fmt::Display for RemediationPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Remediation of audit {} ({} steps, {} findings left):",
            self.audit_run_id,
            self.steps.len(),
            self.unplanned.len()
        )?;
        for s in &self.steps {
            writeln!(
                f,
                "  [{}] {} — {} (fixes {})",
                s.disruption,
                s.id,
                s.summary,
                s.fixes.len()
            )?;
        }
        for u in &self.unplanned {
            writeln!(
                f,
                "  left: {} {} — {}",
                u.finding.kind, u.finding.resource_id, u.why
            )?;
        }
        Ok(())
    }
}

/// A group's step being gathered.
#[derive(Default)]
struct GroupWork {
    group: Option<GroupRef>,
    changes: GroupChanges,
    fixes: Vec<FindingRef>,
    key: Option<KeyRef>,
    vault: Option<VaultName>,
}

/// A key's step being gathered.
struct KeyWork {
    key: KeyRef,
    new_version: Option<NewVersion>,
    expire_current: bool,
    rotation_policy: Option<KeyRotationPolicy>,
    fixes: Vec<FindingRef>,
}

/// A step gathered per resource: its action, the findings it fixes.
struct Gathered<T> {
    what: T,
    fixes: Vec<FindingRef>,
}

#[derive(Default)]
struct Planner {
    recover: BTreeMap<String, Gathered<(VaultName, ResourceGroupName, Location)>>,
    protect: BTreeMap<String, Gathered<(VaultRef, bool, bool)>>,
    bypass: BTreeMap<String, Gathered<VaultRef>>,
    service_principal: Option<Gathered<Vec<KeyRef>>>,
    grants: BTreeMap<String, Gathered<(VaultRef, KeyRef, UnwrapPrincipal, GrantKind)>>,
    keys: BTreeMap<String, KeyWork>,
    groups: BTreeMap<String, GroupWork>,
    unplanned: Vec<Unplanned>,
    /// Groups whose deployment spec pins their version: never moved for a key's sake.
    pinned: std::collections::BTreeSet<String>,
    /// Groups that cannot be re-created (their identity or vault is gone), with why.
    blocked: BTreeMap<String, String>,
    /// Groups on a version that cannot be used and no usable one to move onto: fixed only if a
    /// key step makes one.
    stranded: BTreeMap<String, (FindingRef, KeyRef, String)>,
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn versionless(key: &KeyRef) -> KeyRef {
    let mut key = key.clone();
    key.version = None;
    key
}

fn key_id_of(key: &KeyRef) -> String {
    lower(&format!("{}/{}", key.vault_name(), key.name))
}

impl Planner {
    fn left(&mut self, f: &Finding, why: Unfixed) {
        self.unplanned.push(Unplanned {
            finding: FindingRef::of(f),
            why,
        });
    }

    fn group(&mut self, group: &GroupRef) -> &mut GroupWork {
        let work = self.groups.entry(lower(group.id.as_str())).or_default();
        work.group.get_or_insert_with(|| group.clone());
        work
    }

    fn group_fix(&mut self, f: &Finding, group: &GroupRef, key: Option<&KeyRef>) -> &mut GroupWork {
        let work = self.group(group);
        work.fixes.push(FindingRef::of(f));
        if let Some(key) = key {
            work.vault.get_or_insert_with(|| key.vault_name().clone());
            work.key.get_or_insert_with(|| versionless(key));
        }
        work
    }

    fn key(&mut self, key: &KeyRef) -> &mut KeyWork {
        self.keys.entry(key_id_of(key)).or_insert_with(|| KeyWork {
            key: versionless(key),
            new_version: None,
            expire_current: false,
            rotation_policy: None,
            fixes: Vec::new(),
        })
    }

    fn bypass(&mut self, vault: &VaultRef, fix: Option<&Finding>) {
        let entry = self
            .bypass
            .entry(lower(vault.name.as_str()))
            .or_insert_with(|| Gathered {
                what: vault.clone(),
                fixes: Vec::new(),
            });
        if let Some(f) = fix {
            entry.fixes.push(FindingRef::of(f));
        }
    }

    fn protect(&mut self, vault: &VaultRef, f: &Finding, soft_delete: bool, purge: bool) {
        let entry = self
            .protect
            .entry(lower(vault.name.as_str()))
            .or_insert_with(|| Gathered {
                what: (vault.clone(), false, false),
                fixes: Vec::new(),
            });
        entry.what.1 |= soft_delete;
        entry.what.2 |= purge;
        entry.fixes.push(FindingRef::of(f));
    }

    fn finding(&mut self, f: &Finding, options: &RemediationOptions) {
        match &f.evidence {
            Evidence::GroupWithoutCmk { group, sku } => {
                if sku.as_deref().is_some_and(|s| s != "Standard") {
                    return self.left(
                        f,
                        Unfixed::NoAutomaticFix(format!(
                            "a customer-managed key needs the Standard sku; the group's is {}",
                            sku.as_deref().unwrap_or("?")
                        )),
                    );
                }
                if options.cmk_target.is_none() {
                    return self.left(
                        f,
                        Unfixed::NeedsInput(
                            "a target vault and key to move the group under (RemediationOptions::cmk_target)".into(),
                        ),
                    );
                }
                self.group_fix(f, group, None).changes.under_cmk = true;
            }
            Evidence::KeyVersionUnusable {
                group,
                key,
                reasons,
                newest_usable,
            } => {
                if reasons.contains(&Unusable::KeyMissing) {
                    return self.left(
                        f,
                        Unfixed::NoAutomaticFix(
                            "the key is gone (deleted or purged): recover it if it is soft-deleted, else the group's data is lost and the group must be re-created on another key by hand".into(),
                        ),
                    );
                }
                if newest_usable.is_none() {
                    let why = format!(
                        "no version of key {}/{} is usable: a disabled or expired version is not re-enabled or extended automatically (it may have been retired on purpose)",
                        key.vault_name(),
                        key.name
                    );
                    self.stranded.insert(
                        lower(group.id.as_str()),
                        (FindingRef::of(f), versionless(key), why),
                    );
                    return;
                }
                let work = self.group_fix(f, group, Some(key));
                let target = work.changes.key_version.get_or_insert_with(Default::default);
                target.audited_newest = newest_usable.clone();
            }
            Evidence::KeyVersionExpiresSoon {
                group,
                key,
                within_days,
                ..
            } => {
                let work = self.group_fix(f, group, Some(key));
                let target = work.changes.key_version.get_or_insert_with(Default::default);
                target.beyond_days = Some(target.beyond_days.unwrap_or(0).max(*within_days));
                let window = *within_days;
                let step = self.key(key);
                let new = step.new_version.get_or_insert(NewVersion {
                    min_bits: None,
                    unless_usable_beyond_days: Some(window),
                });
                if let Some(days) = &mut new.unless_usable_beyond_days {
                    *days = (*days).max(window);
                }
            }
            Evidence::StaleKeyVersion {
                group,
                key,
                newest_usable,
                pinned_by_spec,
            } => {
                if *pinned_by_spec {
                    self.pinned.insert(lower(group.id.as_str()));
                    return self.left(
                        f,
                        Unfixed::NothingToDo(format!(
                            "its deployment spec pins version {}",
                            key.version.as_ref().map(|v| v.as_str()).unwrap_or("?")
                        )),
                    );
                }
                let work = self.group_fix(f, group, Some(key));
                let target = work.changes.key_version.get_or_insert_with(Default::default);
                target.audited_newest = Some(newest_usable.clone());
            }
            Evidence::UnwrapPermissionMissing {
                vault,
                key,
                principal,
                missing,
                ..
            } => {
                let by = match missing {
                    MissingGrant::AccessPolicy { .. } => GrantKind::AccessPolicy,
                    MissingGrant::Rbac { .. } => GrantKind::RoleAssignment,
                };
                let id = lower(&format!(
                    "{}/{}/{}",
                    vault.name,
                    key.name,
                    principal.object_id()
                ));
                self.grants
                    .entry(id)
                    .or_insert_with(|| Gathered {
                        what: (vault.clone(), versionless(key), principal.clone(), by),
                        fixes: Vec::new(),
                    })
                    .fixes
                    .push(FindingRef::of(f));
            }
            Evidence::AciServicePrincipalMissing { keys, .. } => {
                if !options.may_create_aci_service_principal {
                    return self.left(
                        f,
                        Unfixed::NoAutomaticFix(format!(
                            "the tenant does not let the caller create service principals: an administrator must create it (az ad sp create --id {}) and grant it get and unwrapKey",
                            aci_cmk_identity::ACI_FIRST_PARTY_APP_ID
                        )),
                    );
                }
                let step = self.service_principal.get_or_insert_with(|| Gathered {
                    what: Vec::new(),
                    fixes: Vec::new(),
                });
                for k in keys {
                    let k = versionless(k);
                    if !step.what.contains(&k) {
                        step.what.push(k);
                    }
                }
                step.fixes.push(FindingRef::of(f));
            }
            Evidence::EncryptionIdentityBroken {
                group,
                identity,
                problem,
            } => match problem {
                IdentityProblem::Deleted => {
                    self.blocked.insert(
                        lower(group.id.as_str()),
                        format!("its encryption identity {} is deleted", identity.name()),
                    );
                    self.left(
                        f,
                        Unfixed::NoAutomaticFix(
                            "a deleted identity cannot be brought back (one made again has another principal id, and the group's data key is out of reach meanwhile): re-create the group with a new identity granted get and unwrapKey".into(),
                        ),
                    )
                }
                IdentityProblem::NotListed => {
                    self.group_fix(f, group, None).changes.list_identity = Some(identity.clone());
                }
            },
            Evidence::FirewallBlocksAci {
                group,
                vault,
                network,
                reason,
            } => match reason {
                FirewallBlock::DenyWithoutBypass
                | FirewallBlock::PublicAccessDisabledWithoutBypass => self.bypass(vault, Some(f)),
                FirewallBlock::FirstPartyNotTrusted => {
                    let name = format!("{}{}", group.name, options.identity_suffix);
                    let work = self.group_fix(f, group, None);
                    work.changes.new_identity = Some(name);
                    work.vault.get_or_insert_with(|| vault.name.clone());
                    let lets_trusted_through = network
                        .bypass
                        .as_ref()
                        .is_none_or(|b| *b == aci_cmk_keyvault::models::NetworkRuleBypass::AzureServices);
                    if !lets_trusted_through {
                        self.bypass(vault, None);
                    }
                }
            },
            Evidence::TrustedServicesCaveat { .. } => self.left(
                f,
                Unfixed::NothingToDo(
                    "information: re-check the groups after any change to the vault's firewall"
                        .into(),
                ),
            ),
            Evidence::VaultOpenToAllNetworks { .. } => self.left(
                f,
                Unfixed::NoAutomaticFix(
                    "closing a vault to networks can cut off consumers the audit does not see, and the standard-flow groups on it: deny by default with the AzureServices bypass once they can pass".into(),
                ),
            ),
            Evidence::VaultWithoutPurgeProtection { vault, .. } => {
                self.protect(vault, f, false, true)
            }
            Evidence::VaultWithoutSoftDelete { vault } => self.protect(vault, f, true, false),
            Evidence::KeyWithoutExpiration { key } => {
                if options.lifecycle.expires_after.is_none() {
                    return self.left(
                        f,
                        Unfixed::NeedsInput(
                            "a lifetime for key versions (RemediationOptions::lifecycle.expires_after)".into(),
                        ),
                    );
                }
                let step = self.key(key);
                step.expire_current = true;
                step.fixes.push(FindingRef::of(f));
            }
            Evidence::RsaKeyTooSmall {
                key,
                minimum_bits,
                groups,
                ..
            } => {
                let Some(size) = [KeySize::Rsa2048, KeySize::Rsa3072, KeySize::Rsa4096]
                    .into_iter()
                    .find(|s| s.bits() >= *minimum_bits)
                else {
                    return self.left(
                        f,
                        Unfixed::NoAutomaticFix(format!(
                            "Key Vault makes RSA keys of at most 4096 bits; the minimum is {minimum_bits}"
                        )),
                    );
                };
                let step = self.key(key);
                let new = step.new_version.get_or_insert_with(Default::default);
                new.min_bits = Some(new.min_bits.unwrap_or(0).max(size.bits()));
                new.unless_usable_beyond_days = None;
                step.fixes.push(FindingRef::of(f));
                // The groups on the key move onto the larger version.
                for g in groups {
                    let work = self.group(g);
                    work.key.get_or_insert_with(|| versionless(key));
                    work.vault.get_or_insert_with(|| key.vault_name().clone());
                    work.changes.key_version.get_or_insert_with(Default::default);
                }
            }
            Evidence::RotationPolicyMissingOrLate {
                key, maximum_days, ..
            } => {
                let policy = options.lifecycle.rotation_policy();
                let days = policy.as_ref().and_then(|p| rotates_after_days(p, None));
                match (policy, days) {
                    (Some(policy), Some(d)) if d <= i64::from(*maximum_days) => {
                        let step = self.key(key);
                        step.rotation_policy = Some(policy);
                        step.fixes.push(FindingRef::of(f));
                    }
                    _ => self.left(
                        f,
                        Unfixed::NeedsInput(format!(
                            "a lifecycle that rotates within {maximum_days} days of creation (RemediationOptions::lifecycle)"
                        )),
                    ),
                }
            }
            Evidence::VaultInAccessPolicyMode { .. } => self.left(
                f,
                Unfixed::NoAutomaticFix(
                    "moving a vault to Azure RBAC changes who may do what on it: grant its principals roles first, then switch".into(),
                ),
            ),
            Evidence::VaultMissing {
                vault_url, absence, ..
            } => match absence {
                VaultAbsence::SoftDeleted {
                    vault_id: Some(id),
                    location: Some(location),
                    ..
                } => match (id.resource_group_name(), location.parse::<Location>()) {
                    (Some(rg), Ok(location)) => {
                        let name = vault_url.vault_name().clone();
                        self.recover
                            .entry(lower(name.as_str()))
                            .or_insert_with(|| Gathered {
                                what: (name, rg.clone(), location),
                                fixes: Vec::new(),
                            })
                            .fixes
                            .push(FindingRef::of(f));
                    }
                    _ => self.left(
                        f,
                        Unfixed::NoAutomaticFix(
                            "the deleted vault's resource group or region is not known".into(),
                        ),
                    ),
                },
                VaultAbsence::SoftDeleted { .. } => self.left(
                    f,
                    Unfixed::NoAutomaticFix(
                        "the deleted vault's resource group or region is not known".into(),
                    ),
                ),
                VaultAbsence::Gone => {
                    if let Evidence::VaultMissing { group, .. } = &f.evidence {
                        self.blocked.insert(
                            lower(group.id.as_str()),
                            format!("its vault {} is gone", vault_url.vault_name()),
                        );
                    }
                    self.left(
                    f,
                    Unfixed::NoAutomaticFix(
                        "the vault was purged (or never was the subscription's): its keys, and the data of the groups encrypted under them, are gone; re-create the groups on another key by hand".into(),
                    ),
                )
                }
            },
            Evidence::PlainSecretEnvironmentValue {
                group,
                container,
                variable,
            } => {
                let secured = options.group_spec(&group.id).is_some_and(|spec| {
                    spec.containers.iter().any(|c| {
                        c.name.as_str() == container
                            && c.secure_env.contains_key(variable)
                            && !c.env.contains_key(variable)
                    })
                });
                if secured {
                    self.group_fix(f, group, None).changes.from_spec = true;
                } else {
                    self.left(
                        f,
                        Unfixed::NoAutomaticFix(format!(
                            "{variable} has been readable by anyone who can read the group: rotate the secret, then re-create the group with it as a secureValue (a spec for the group in RemediationOptions::group_specs does it)"
                        )),
                    );
                }
            }
            Evidence::ExcessUnwrapPrincipals { .. } => self.left(
                f,
                Unfixed::NoAutomaticFix(
                    "taking access away could break a consumer the audit does not see (a remediation only ever grants get and unwrapKey to a principal that needs them): remove it by hand, or allow the principal in the audit's options".into(),
                ),
            ),
            // A kind of a later release.
            #[allow(unreachable_patterns)]
            _ => self.left(
                f,
                Unfixed::NoAutomaticFix("this release has no remediation for it".into()),
            ),
        }
    }

    fn steps(mut self, options: &RemediationOptions) -> (Vec<PlannedStep>, Vec<Unplanned>) {
        let mut steps = Vec::new();
        let step = |id: String, disruption, action, summary: String, fixes, needs| PlannedStep {
            id,
            disruption,
            action,
            summary,
            fixes,
            needs,
        };
        let mut recovered: BTreeMap<String, String> = BTreeMap::new();
        for (name, g) in std::mem::take(&mut self.recover) {
            let (vault, rg, location) = g.what;
            let id = format!("recover-vault/{name}");
            recovered.insert(name, id.clone());
            steps.push(step(
                id,
                Disruption::InPlace,
                StepAction::RecoverVault {
                    vault: vault.clone(),
                    resource_group: rg,
                    location,
                },
                format!("recover soft-deleted vault {vault} with its keys and access policies"),
                g.fixes,
                Vec::new(),
            ));
        }
        let needs_vault = |vault: &VaultName| -> Vec<String> {
            recovered
                .get(&lower(vault.as_str()))
                .cloned()
                .into_iter()
                .collect()
        };
        for (name, g) in std::mem::take(&mut self.protect) {
            let (vault, soft_delete, purge_protection) = g.what;
            let what = match (soft_delete, purge_protection) {
                (true, true) => "soft delete and purge protection",
                (true, false) => "soft delete",
                _ => "purge protection",
            };
            steps.push(step(
                format!("protect-vault/{name}"),
                Disruption::InPlace,
                StepAction::ProtectVault {
                    vault: vault.clone(),
                    soft_delete,
                    purge_protection,
                },
                format!("turn on {what} on vault {} (irreversible)", vault.name),
                g.fixes,
                Vec::new(),
            ));
        }
        let mut bypass_steps: BTreeMap<String, String> = BTreeMap::new();
        for (name, g) in std::mem::take(&mut self.bypass) {
            let id = format!("allow-trusted-services/{name}");
            bypass_steps.insert(name, id.clone());
            steps.push(step(
                id,
                Disruption::InPlace,
                StepAction::AllowTrustedServices {
                    vault: g.what.clone(),
                },
                format!(
                    "let trusted Azure services through the firewall of vault {} (bypass AzureServices), keeping its rules",
                    g.what.name
                ),
                g.fixes,
                Vec::new(),
            ));
        }
        if let Some(g) = self.service_principal.take() {
            let mut needs: Vec<String> = g
                .what
                .iter()
                .flat_map(|k| needs_vault(k.vault_name()))
                .collect();
            needs.sort();
            needs.dedup();
            steps.push(step(
                "aci-service-principal".into(),
                Disruption::InPlace,
                StepAction::CreateAciServicePrincipal {
                    keys: g.what.clone(),
                },
                format!(
                    "create the ACI first-party service principal and grant it get and unwrapKey on {} key(s)",
                    g.what.len()
                ),
                g.fixes,
                needs,
            ));
        }
        for (id, g) in std::mem::take(&mut self.grants) {
            let (vault, key, principal, by) = g.what;
            let how = match by {
                GrantKind::AccessPolicy => "an access policy",
                GrantKind::RoleAssignment => "Key Vault Crypto Service Encryption User on the key",
            };
            let needs = needs_vault(&vault.name);
            steps.push(step(
                format!("grant/{id}"),
                Disruption::InPlace,
                StepAction::GrantUnwrap {
                    vault: vault.clone(),
                    key: key.clone(),
                    principal: principal.clone(),
                    by,
                },
                format!(
                    "grant {} get and unwrapKey on key {}/{} by {how}",
                    principal.object_id(),
                    vault.name,
                    key.name
                ),
                g.fixes,
                needs,
            ));
        }
        let mut key_steps: BTreeMap<String, String> = BTreeMap::new();
        for (id, k) in std::mem::take(&mut self.keys) {
            if k.fixes.is_empty() && k.new_version.is_none() {
                continue;
            }
            let mut parts = Vec::new();
            if let Some(n) = &k.new_version {
                parts.push(match (n.min_bits, n.unless_usable_beyond_days) {
                    (Some(bits), _) => format!("create a version of {bits} bits"),
                    (None, Some(days)) => {
                        format!("create a version unless one is usable beyond {days} days")
                    }
                    (None, None) => "create a version".to_owned(),
                });
            }
            if k.expire_current {
                parts.push("give the current version an expiry".to_owned());
            }
            if k.rotation_policy.is_some() {
                parts.push("set the rotation policy".to_owned());
            }
            let step_id = format!("key/{id}");
            if k.new_version.is_some() {
                key_steps.insert(id.clone(), step_id.clone());
            }
            let needs = needs_vault(k.key.vault_name());
            steps.push(step(
                step_id,
                Disruption::InPlace,
                StepAction::KeyLifecycle {
                    key: k.key.clone(),
                    new_version: k.new_version,
                    expire_current: k.expire_current,
                    rotation_policy: k.rotation_policy,
                },
                format!(
                    "key {}/{}: {}",
                    k.key.vault_name(),
                    k.key.name,
                    parts.join(", ")
                ),
                k.fixes,
                needs,
            ));
        }
        let groups = std::mem::take(&mut self.groups);
        let deploy_target = matches!(options.cmk_target, Some(CmkTarget::Deploy(_)))
            && groups.values().any(|g| g.changes.under_cmk);
        if deploy_target {
            steps.push(step(
                "cmk-target".into(),
                Disruption::Disruptive,
                StepAction::DeployCmkTarget,
                "deploy the target vault and key through the orchestrator, for the groups moving under a customer-managed key".into(),
                Vec::new(),
                Vec::new(),
            ));
        }
        let mut groups = groups;
        // A stranded group moves only onto a version a key step of this plan makes.
        for (id, (finding, key, why)) in std::mem::take(&mut self.stranded) {
            let creates = key_steps.contains_key(&key_id_of(&key));
            match groups.get_mut(&id) {
                Some(work) if creates && work.changes.key_version.is_some() => {
                    work.fixes.push(finding)
                }
                _ => self.unplanned.push(Unplanned {
                    finding,
                    why: Unfixed::NoAutomaticFix(why),
                }),
            }
        }
        for (id, mut g) in groups {
            let Some(group) = g.group.take() else {
                continue;
            };
            if let Some(why) = self.blocked.get(&id) {
                for finding in g.fixes {
                    self.unplanned.push(Unplanned {
                        finding,
                        why: Unfixed::NoAutomaticFix(format!(
                            "the group cannot be re-created as it is: {why}"
                        )),
                    });
                }
                continue;
            }
            // A pinned group is not moved for its key's sake alone.
            if self.pinned.contains(&id) && g.fixes.is_empty() {
                continue;
            }
            if g.fixes.is_empty() && g.changes == GroupChanges::default() {
                continue;
            }
            if options.group_spec(&group.id).is_some() {
                g.changes.from_spec = true;
            }
            let mut needs = Vec::new();
            if let Some(vault) = &g.vault {
                needs.extend(needs_vault(vault));
                if g.changes.new_identity.is_some()
                    && let Some(id) = bypass_steps.get(&lower(vault.as_str()))
                {
                    needs.push(id.clone());
                }
            }
            if let (Some(key), Some(_)) = (&g.key, &g.changes.key_version)
                && let Some(id) = key_steps.get(&key_id_of(key))
            {
                needs.push(id.clone());
            }
            if g.changes.under_cmk && deploy_target {
                needs.push("cmk-target".into());
            }
            let summary = group_summary(&group, &g.changes, g.key.as_ref());
            steps.push(step(
                format!(
                    "recreate/{}/{}",
                    lower(group.resource_group.as_str()),
                    lower(&group.name)
                ),
                Disruption::Disruptive,
                StepAction::RecreateGroup {
                    group,
                    changes: g.changes,
                },
                summary,
                g.fixes,
                needs,
            ));
        }
        (steps, self.unplanned)
    }
}

fn group_summary(group: &GroupRef, c: &GroupChanges, key: Option<&KeyRef>) -> String {
    let mut parts = Vec::new();
    if c.under_cmk {
        parts.push("under the target's customer-managed key".to_owned());
    }
    if let Some(t) = &c.key_version {
        let key = key
            .map(|k| format!(" of key {}/{}", k.vault_name(), k.name))
            .unwrap_or_default();
        let beyond = t
            .beyond_days
            .map(|d| format!(" not expiring within {d} days"))
            .unwrap_or_default();
        let seen = t
            .audited_newest
            .as_ref()
            .map(|v| format!(" ({v} at the audit)"))
            .unwrap_or_default();
        parts.push(format!("onto the newest usable version{key}{beyond}{seen}"));
    }
    if let Some(id) = &c.list_identity {
        parts.push(format!("listing its encryption identity {}", id.name()));
    }
    if let Some(name) = &c.new_identity {
        parts.push(format!(
            "reaching its key as a new user-assigned identity {name}"
        ));
    }
    if c.from_spec {
        parts.push("from the spec given for it".to_owned());
    }
    format!(
        "re-create container group {} {} (it restarts; its IP address may change)",
        group.name,
        parts.join(", ")
    )
}

/// The plan that fixes what `report` found, as `options` allow: one step per thing acted on,
/// naming the findings it fixes; the findings no step fixes, with why. Reads nothing.
///
/// Nothing in a plan weakens anything: no step disables a firewall (it only adds the
/// trusted-services bypass), grants more than `get` and `unwrapKey` or grants to a principal
/// that does not unwrap for a group, takes access away, or purges.
pub fn remediation_plan(report: &AuditReport, options: &RemediationOptions) -> RemediationPlan {
    let mut planner = Planner::default();
    for f in &report.findings {
        planner.finding(f, options);
    }
    let (steps, mut unplanned) = planner.steps(options);
    unplanned.sort_by(|a, b| a.finding.cmp(&b.finding));
    RemediationPlan {
        audit_run_id: report.run_id.clone(),
        audited_at: report.audited_at,
        steps,
        unplanned,
        options: Arc::new(options.clone()),
    }
}
