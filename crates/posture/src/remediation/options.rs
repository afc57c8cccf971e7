//! What a remediation is told: [`RemediationOptions`] decide the plan (the key lifecycle to
//! set, where groups without a customer-managed key go, the specs that hold groups' secure
//! values), [`RemediateOptions`] how it is carried out (dry run by default, disruptive steps
//! only when allowed, how many at once, the clock).

use crate::Clock;
use aci_cmk_core::{key_id::KeyId, resource_id::ResourceId};
use aci_cmk_encrypted_deployment::spec::{ContainerGroupSpec, DeploymentSpec, KeyLifecycle};
use aci_cmk_keyvault::rotation_policy::Iso8601Duration;
use std::collections::BTreeMap;

/// Where a group without a customer-managed key is moved.
// One per set of options: the size of the key variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CmkTarget {
    /// An existing key, which the unwrapping principal can already read and unwrap with: at
    /// its version, or its current one. With `identity`, groups reach it as that user-assigned
    /// identity (listed in their identity block); without, as the ACI first-party principal.
    Key {
        /// The key.
        key: KeyId,
        /// The encryption identity.
        identity: Option<ResourceId>,
    },
    /// What the orchestrator's `apply` of this spec makes (its vault, key, grants, identity
    /// and its own workload), applied once before the first group moves: the groups move onto
    /// the key version and identity its report names.
    Deploy(Box<DeploymentSpec>),
}

/// How findings become steps.
///
/// ```
/// use aci_cmk_posture::remediation::RemediationOptions;
///
/// let options = RemediationOptions::default();
/// // Rotate within 60 days of creation, versions live a year.
/// assert_eq!(options.lifecycle.rotate_after.as_ref().map(|d| d.as_str()), Some("P60D"));
/// assert!(options.may_create_aci_service_principal);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RemediationOptions {
    /// The lifecycle a key step gives a key (its rotation policy, the expiry of a version
    /// without one, the expiry of a version it creates): by default rotate 60 days after
    /// creation, expire after a year, notify 30 days before.
    pub lifecycle: KeyLifecycle,
    /// Where groups without a customer-managed key move (`None`: they are left, the plan says
    /// a target is needed).
    pub cmk_target: Option<CmkTarget>,
    /// Whether the tenant lets the caller create the ACI first-party service principal
    /// (default true). When it does not, a missing principal has no automatic fix.
    pub may_create_aci_service_principal: bool,
    /// The suffix of the user-assigned identity created for a group that must reach its key
    /// through a firewall (`{group}{suffix}`, in the group's resource group; default `-cmk`).
    pub identity_suffix: String,
    /// Specs of groups, by resource id (lowercase): a group is re-created from its spec — its
    /// containers with their secure values — instead of from what Azure returns, which never
    /// includes a secure value.
    pub group_specs: BTreeMap<String, ContainerGroupSpec>,
}

impl Default for RemediationOptions {
    fn default() -> Self {
        let mut lifecycle = KeyLifecycle::default();
        lifecycle.rotate_after = Some(Iso8601Duration::days(60));
        lifecycle.expires_after = Some(Iso8601Duration::years(1));
        lifecycle.notify_before_expiry = Some(Iso8601Duration::days(30));
        Self {
            lifecycle,
            cmk_target: None,
            may_create_aci_service_principal: true,
            identity_suffix: "-cmk".to_owned(),
            group_specs: BTreeMap::new(),
        }
    }
}

impl RemediationOptions {
    /// Gives keys `lifecycle`.
    pub fn with_lifecycle(mut self, lifecycle: KeyLifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Moves groups without a customer-managed key to `target`.
    pub fn with_cmk_target(mut self, target: CmkTarget) -> Self {
        self.cmk_target = Some(target);
        self
    }

    /// Says whether the tenant lets the caller create the ACI first-party service principal.
    pub fn with_aci_service_principal_creation(mut self, allowed: bool) -> Self {
        self.may_create_aci_service_principal = allowed;
        self
    }

    /// Re-creates the group `id` from `spec` (which holds its secure values).
    pub fn with_group_spec(mut self, id: &ResourceId, spec: ContainerGroupSpec) -> Self {
        self.group_specs
            .insert(id.as_str().to_ascii_lowercase(), spec);
        self
    }

    /// The spec given for group `id`.
    pub(crate) fn group_spec(&self, id: &ResourceId) -> Option<&ContainerGroupSpec> {
        self.group_specs.get(&id.as_str().to_ascii_lowercase())
    }
}

/// How a plan is carried out.
///
/// ```
/// use aci_cmk_posture::remediation::RemediateOptions;
///
/// let dry = RemediateOptions::default();
/// assert!(dry.dry_run && !dry.allow_disruptive);
/// let apply = RemediateOptions::default().applying().with_disruptive(true).with_concurrency(2);
/// assert!(!apply.dry_run && apply.allow_disruptive);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RemediateOptions {
    /// Report what would be done and write nothing (the default). Steps still read what they
    /// decide on.
    pub dry_run: bool,
    /// Carry out the disruptive steps (re-creating groups: they restart, their IP address may
    /// change) too. Off by default.
    pub allow_disruptive: bool,
    /// How many disruptive steps run at once (at least one; default 4). In-place steps run one
    /// after another, in the plan's order.
    pub concurrency: usize,
    /// Where "now" comes from (the expiry a version gets, which versions are usable).
    pub clock: Clock,
}

impl Default for RemediateOptions {
    fn default() -> Self {
        Self {
            dry_run: true,
            allow_disruptive: false,
            concurrency: 4,
            clock: Clock::system(),
        }
    }
}

impl RemediateOptions {
    /// Writes (no dry run).
    pub fn applying(mut self) -> Self {
        self.dry_run = false;
        self
    }

    /// Carries out the disruptive steps too when `allowed`.
    pub fn with_disruptive(mut self, allowed: bool) -> Self {
        self.allow_disruptive = allowed;
        self
    }

    /// Runs `concurrency` disruptive steps at once (at least one).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Reads the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}
