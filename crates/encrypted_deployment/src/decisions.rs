//! One decision per step: what the step does, given the spec and the survey. `plan` shows these
//! decisions and `apply` carries them out; neither decides anything of its own (the
//! architecture invariant "plan shows exactly what apply does").
//!
//! Where the survey could not see something (the keys of a vault the deployer cannot read yet,
//! the keys of a soft-deleted vault), the decision says what apply does if a read during the
//! step finds it already there ([`Decided::if_found`]); that read is the only thing apply learns
//! that the plan could not.

use crate::{
    desired,
    graph::{self, ALL_STEPS},
    plan::{Plan, PlannedStep},
    progress::{StepAction, StepId},
    spec::{ContainerGroupSpec, DeploymentSpec, KeySpec, VaultAuthorization, Workload},
    survey::{KeyFound, PolicyFound, Survey, VaultFound},
};
use aci_cmk_aci::{deployments::Deployment, models::ContainerGroup};
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyVersion, PrincipalId, TenantId},
};
use aci_cmk_identity::{
    managed_identities::UserAssignedIdentity,
    role_assignments::{RoleAssignment, RoleDefinitionId},
};
use aci_cmk_keyvault::rotation_policy::KeyRotationPolicy;
use aci_cmk_keyvault::{
    keys::{CreateKeyOptions, KeyProperties},
    models::{KeyPermission, Sku, Vault, VaultCreateParameters, VaultPatch},
};
use time::OffsetDateTime;

/// A step's decision: what it does (`what`), the action a plan shows, why, and the action it
/// takes instead when a read during the step finds the thing already there.
#[derive(Clone, Debug)]
pub(crate) struct Decided<T> {
    pub what: T,
    pub action: StepAction,
    pub detail: String,
    pub if_found: Option<StepAction>,
}

impl<T> Decided<T> {
    fn new(what: T, action: StepAction, detail: impl Into<String>) -> Self {
        Self {
            what,
            action,
            detail: detail.into(),
            if_found: None,
        }
    }

    fn unless_found(mut self, action: StepAction) -> Self {
        self.if_found = Some(action);
        self
    }
}

/// The resource group step.
#[derive(Clone, Debug)]
pub(crate) enum ResourceGroupDecision {
    Keep,
    Create,
}

/// The ACI first-party service principal step.
#[derive(Clone, Debug)]
pub(crate) enum ServicePrincipalDecision {
    Keep(PrincipalId),
    /// Create it (or take the one a concurrent run created).
    Create,
}

/// The vault step.
#[derive(Clone, Debug)]
pub(crate) enum VaultDecision {
    Keep(Box<Vault>),
    Update(Box<VaultPatch>),
    Recover {
        location: aci_cmk_core::names::Location,
        sku: Sku,
    },
    Create(Box<VaultCreateParameters>),
}

/// The deployer-access and encryption-access steps.
#[derive(Clone, Debug)]
pub(crate) enum AccessDecision {
    Granted,
    AssignRole(RoleDefinitionId),
    /// Add an access policy with `permissions`; when `unless_granted` (a vault being
    /// recovered, whose policies come back with it), only if the recovered vault lacks them.
    AddPolicy {
        permissions: Vec<KeyPermission>,
        unless_granted: bool,
    },
}

/// The key step.
#[derive(Clone, Debug)]
pub(crate) enum KeyDecision {
    Use(Box<KeyProperties>),
    Create(CreateKeyOptions),
    /// Read it now that the deployer may (at `version`, or the latest); when absent, create it
    /// with `create`, or fail when the spec names an existing key.
    Read {
        version: Option<KeyVersion>,
        create: Option<CreateKeyOptions>,
    },
}

/// The key-lifecycle step: the rotation policy to set and, for a version found without one,
/// the expiry to give it.
#[derive(Clone, Debug)]
pub(crate) struct KeyLifecycleDecision {
    /// The policy to set (`None`: the vault holds it already).
    pub policy: Option<KeyRotationPolicy>,
    /// Whether the version the key step hands on may need an expiry
    /// ([`desired::version_expiry`] decides, on that version).
    pub expiry_of_version: bool,
}

/// The managed identity step.
#[derive(Clone, Debug)]
pub(crate) enum IdentityDecision {
    Keep(Box<UserAssignedIdentity>),
    Create,
}

/// The firewall step. The rules sent are computed from the vault the vault step hands on, so
/// rules someone else added are kept (a recovered vault's too).
#[derive(Clone, Debug)]
pub(crate) enum FirewallDecision {
    Matches,
    /// Set the rules; when `unless_matching` (a vault being recovered, whose rules come back
    /// with it), only if the recovered vault's differ.
    Set {
        unless_matching: bool,
    },
}

/// The container-group step.
#[derive(Clone, Debug)]
pub(crate) enum WorkloadDecision {
    /// A container group: `action` from [`desired::group_step`]. When the key version was not
    /// known, the step decides again with [`decide_group`] once the key step has read it.
    Group { action: StepAction, key_known: bool },
    /// The template's deployment with the current key exists.
    TemplateDeployed(Box<Deployment>),
    /// Deploy the template with encryption injected.
    DeployTemplate,
}

/// Which key version a container group will be encrypted with, as far as the decision knows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyVersionKnown<'a> {
    /// This version.
    Version(&'a KeyVersion),
    /// A version the key step creates in this run (no existing group can be on it).
    New,
    /// Not known before the key step reads it.
    Unread,
}

/// Every step's decision, for one spec and survey.
#[derive(Clone, Debug)]
pub(crate) struct Decisions {
    pub resource_group: Decided<ResourceGroupDecision>,
    pub service_principal: Decided<ServicePrincipalDecision>,
    pub vault: Decided<VaultDecision>,
    pub deployer_access: Decided<AccessDecision>,
    pub key: Decided<KeyDecision>,
    pub key_lifecycle: Decided<KeyLifecycleDecision>,
    pub identity: Decided<IdentityDecision>,
    pub encryption_access: Decided<AccessDecision>,
    pub firewall: Decided<FirewallDecision>,
    pub workload: Decided<WorkloadDecision>,
    /// What preflight warns of (set by the orchestrator from `preflight::warnings`); nothing
    /// that stops the run.
    pub warnings: Vec<String>,
}

impl Decisions {
    /// Decides every step of `spec` from `survey`; `deployer` and `tenant` are who runs it.
    pub(crate) fn take(
        spec: &DeploymentSpec,
        survey: &Survey,
        deployer: &PrincipalId,
        tenant: &TenantId,
        now: OffsetDateTime,
    ) -> Self {
        let key = decide_key(spec, survey, now);
        let known = match &key.what {
            KeyDecision::Use(k) => KeyVersionKnown::Version(&k.version),
            KeyDecision::Create(_) => KeyVersionKnown::New,
            KeyDecision::Read { .. } => KeyVersionKnown::Unread,
        };
        let workload = decide_workload(spec, survey, known);
        Self {
            resource_group: decide_resource_group(spec, survey),
            service_principal: decide_service_principal(survey),
            vault: decide_vault(spec, survey, tenant),
            deployer_access: decide_deployer_access(spec, survey, deployer),
            identity: decide_identity(survey),
            encryption_access: decide_encryption_access(spec, survey),
            firewall: decide_firewall(spec, survey),
            key_lifecycle: decide_key_lifecycle(spec, survey, now),
            warnings: Vec::new(),
            key,
            workload,
        }
    }

    /// The action, detail and found-instead action of `step`.
    fn summary(&self, step: StepId) -> (StepAction, &str, Option<StepAction>) {
        fn of<T>(d: &Decided<T>) -> (StepAction, &str, Option<StepAction>) {
            (d.action, &d.detail, d.if_found)
        }
        match step {
            StepId::ResourceGroup => of(&self.resource_group),
            StepId::ServicePrincipal => of(&self.service_principal),
            StepId::Vault => of(&self.vault),
            StepId::DeployerAccess => of(&self.deployer_access),
            StepId::Key => of(&self.key),
            StepId::KeyLifecycle => of(&self.key_lifecycle),
            StepId::Identity => of(&self.identity),
            StepId::EncryptionAccess => of(&self.encryption_access),
            StepId::Firewall => of(&self.firewall),
            StepId::ContainerGroup => of(&self.workload),
        }
    }

    /// The plan: every step with its decision (none for a step outside the spec's flow) and
    /// the steps it waits for.
    pub(crate) fn plan(&self, spec: &DeploymentSpec) -> Plan {
        let steps = ALL_STEPS
            .into_iter()
            .map(|step| {
                let (action, detail, if_found) = if graph::applies(step, spec) {
                    let (action, detail, if_found) = self.summary(step);
                    (Some(action), detail.to_owned(), if_found)
                } else if step == StepId::KeyLifecycle {
                    (None, "the spec's key has no lifecycle".to_owned(), None)
                } else {
                    (None, "not part of this flow".to_owned(), None)
                };
                PlannedStep {
                    step,
                    action,
                    detail,
                    if_found,
                    needs: graph::needs(step, spec),
                }
            })
            .collect();
        Plan {
            steps,
            warnings: self.warnings.clone(),
        }
    }
}

fn decide_resource_group(spec: &DeploymentSpec, survey: &Survey) -> Decided<ResourceGroupDecision> {
    match &survey.resource_group {
        Some(_) => Decided::new(
            ResourceGroupDecision::Keep,
            StepAction::InPlace,
            format!("{} exists", spec.resource_group),
        ),
        None => Decided::new(
            ResourceGroupDecision::Create,
            StepAction::Create,
            format!("create {} in {}", spec.resource_group, spec.location),
        ),
    }
}

fn decide_service_principal(survey: &Survey) -> Decided<ServicePrincipalDecision> {
    match &survey.service_principal {
        Some(sp) => Decided::new(
            ServicePrincipalDecision::Keep(sp.id.clone()),
            StepAction::InPlace,
            format!("object id {}", sp.id),
        ),
        None => Decided::new(
            ServicePrincipalDecision::Create,
            StepAction::Create,
            "create the ACI first-party service principal",
        )
        .unless_found(StepAction::InPlace),
    }
}

fn decide_vault(
    spec: &DeploymentSpec,
    survey: &Survey,
    tenant: &TenantId,
) -> Decided<VaultDecision> {
    let create = || Box::new(desired::vault_create_parameters(spec, tenant));
    match &survey.vault {
        VaultFound::Live(v) => match desired::vault_patch(spec, v) {
            Some(patch) => Decided::new(
                VaultDecision::Update(Box::new(patch)),
                StepAction::Update,
                "turn on soft delete and purge protection",
            ),
            None => Decided::new(
                VaultDecision::Keep(v.clone()),
                StepAction::InPlace,
                format!("{} exists", spec.vault.name),
            ),
        },
        VaultFound::SoftDeleted(deleted) => Decided::new(
            VaultDecision::Recover {
                location: deleted
                    .properties
                    .location
                    .clone()
                    .unwrap_or_else(|| spec.location.clone()),
                sku: create().properties.sku,
            },
            StepAction::Recover,
            format!("recover soft-deleted {}", spec.vault.name),
        ),
        VaultFound::Absent => Decided::new(
            VaultDecision::Create(create()),
            StepAction::Create,
            format!("create {} with purge protection", spec.vault.name),
        ),
        VaultFound::TakenElsewhere(why) => {
            Decided::new(VaultDecision::Create(create()), StepAction::Create, why)
        }
    }
}

/// Whether one of `roles` is one of `wanted`. Roles are surveyed only at a live vault.
fn has_role(survey: &Survey, roles: &[RoleAssignment], wanted: &[RoleDefinitionId]) -> bool {
    matches!(survey.vault, VaultFound::Live(_))
        && roles
            .iter()
            .any(|r| r.role().is_some_and(|role| wanted.contains(&role)))
}

/// The access a principal needs: granted already, or a role (RBAC vault) or an access policy
/// to add. `granted` says whether the survey saw it granted; `recovering`, whether the vault
/// comes back from soft delete with access policies the survey could not see.
fn access(
    spec: &DeploymentSpec,
    granted: bool,
    recovering: bool,
    role: RoleDefinitionId,
    permissions: Vec<KeyPermission>,
    texts: [&str; 3],
) -> Decided<AccessDecision> {
    let [granted_text, role_text, policy_text] = texts;
    if granted {
        Decided::new(AccessDecision::Granted, StepAction::InPlace, granted_text)
    } else if spec.vault.authorization == VaultAuthorization::Rbac {
        Decided::new(
            AccessDecision::AssignRole(role),
            StepAction::Create,
            role_text,
        )
    } else if recovering {
        Decided::new(
            AccessDecision::AddPolicy {
                permissions,
                unless_granted: true,
            },
            StepAction::Update,
            format!("{policy_text}, unless the recovered vault grants it"),
        )
        .unless_found(StepAction::InPlace)
    } else {
        Decided::new(
            AccessDecision::AddPolicy {
                permissions,
                unless_granted: false,
            },
            StepAction::Update,
            policy_text,
        )
    }
}

/// Whether the vault comes back from soft delete in this run.
fn recovering(survey: &Survey) -> bool {
    matches!(survey.vault, VaultFound::SoftDeleted(_))
}

fn decide_deployer_access(
    spec: &DeploymentSpec,
    survey: &Survey,
    deployer: &PrincipalId,
) -> Decided<AccessDecision> {
    let granted = match &survey.vault {
        VaultFound::Live(_) if spec.vault.authorization == VaultAuthorization::Rbac => has_role(
            survey,
            &survey.deployer_roles,
            &[
                RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                RoleDefinitionId::KEY_VAULT_ADMINISTRATOR,
            ],
        ),
        VaultFound::Live(v) => {
            desired::policy_grants(v, deployer, &desired::deployer_key_permissions(spec))
        }
        _ => false,
    };
    access(
        spec,
        granted,
        recovering(survey),
        RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
        desired::deployer_key_permissions(spec),
        [
            "the deployer can create and read keys",
            "assign Key Vault Crypto Officer to the deployer",
            "access policy: the deployer's key permissions",
        ],
    )
}

fn decide_encryption_access(spec: &DeploymentSpec, survey: &Survey) -> Decided<AccessDecision> {
    let principal = survey.encryption_principal();
    let granted = match (&survey.vault, &principal) {
        (VaultFound::Live(_), Some(_)) if spec.vault.authorization == VaultAuthorization::Rbac => {
            has_role(
                survey,
                &survey.encryption_roles,
                &[RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER],
            )
        }
        (VaultFound::Live(v), Some(p)) => {
            desired::policy_grants(v, p, &desired::ENCRYPTION_KEY_PERMISSIONS)
        }
        _ => false,
    };
    // A principal this run creates cannot be in the recovered vault's policies.
    access(
        spec,
        granted,
        recovering(survey) && principal.is_some(),
        RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        desired::ENCRYPTION_KEY_PERMISSIONS.to_vec(),
        [
            "ACI's principal can get and unwrap the key",
            "assign Key Vault Crypto Service Encryption User",
            "access policy: keys get, unwrapKey",
        ],
    )
}

fn decide_key(spec: &DeploymentSpec, survey: &Survey, now: OffsetDateTime) -> Decided<KeyDecision> {
    let create = desired::create_key_options(spec, now);
    let version = match &spec.key {
        KeySpec::Existing { id, .. } => id.version().cloned(),
        KeySpec::Create { .. } => None,
    };
    let name = spec.key.name();
    // A vault this run creates holds no key.
    let fresh_vault = matches!(
        survey.vault,
        VaultFound::Absent | VaultFound::TakenElsewhere(_)
    );
    match (&survey.key, create) {
        (KeyFound::Found(k), _) => Decided::new(
            KeyDecision::Use(k.clone()),
            StepAction::InPlace,
            format!("use {}", k.kid),
        ),
        (KeyFound::Absent, Some(options)) => Decided::new(
            KeyDecision::Create(options),
            StepAction::Create,
            format!("create key {name}"),
        ),
        (KeyFound::Unknown(_), Some(options)) if fresh_vault => Decided::new(
            KeyDecision::Create(options),
            StepAction::Create,
            format!("create key {name}"),
        ),
        (KeyFound::Unknown(why), Some(options)) => Decided::new(
            KeyDecision::Read {
                version,
                create: Some(options),
            },
            StepAction::Create,
            format!("create key {name} unless it exists ({why})"),
        )
        .unless_found(StepAction::InPlace),
        (KeyFound::Absent, None) => Decided::new(
            KeyDecision::Read {
                version,
                create: None,
            },
            StepAction::InPlace,
            format!("use {name}, which the vault does not hold"),
        ),
        (KeyFound::Unknown(why), None) => Decided::new(
            KeyDecision::Read {
                version,
                create: None,
            },
            StepAction::InPlace,
            format!("use {name} once it can be read ({why})"),
        ),
    }
}

fn decide_key_lifecycle(
    spec: &DeploymentSpec,
    survey: &Survey,
    now: OffsetDateTime,
) -> Decided<KeyLifecycleDecision> {
    let Some(want) = spec.key.lifecycle().rotation_policy() else {
        return Decided::new(
            KeyLifecycleDecision {
                policy: None,
                expiry_of_version: false,
            },
            StepAction::InPlace,
            "the spec's key has no lifecycle",
        );
    };
    let policy = match &survey.rotation_policy {
        PolicyFound::Found(current) if desired::rotation_policy_matches(current, &want) => None,
        _ => Some(want),
    };
    let summary = policy_summary(spec);
    match (&survey.key, policy) {
        // The version is known: decide its expiry now.
        (KeyFound::Found(key), policy) => {
            let expiry = desired::version_expiry(spec, key, now);
            let detail = match (&policy, &expiry) {
                (None, None) => format!("rotation policy {summary}; version expires"),
                (Some(_), None) => format!("set the rotation policy: {summary}"),
                (None, Some(at)) => format!("set the version's expiry to {at}"),
                (Some(_), Some(at)) => {
                    format!("set the rotation policy ({summary}) and the version's expiry to {at}")
                }
            };
            let action = if policy.is_some() || expiry.is_some() {
                StepAction::Update
            } else {
                StepAction::InPlace
            };
            Decided::new(
                KeyLifecycleDecision {
                    policy,
                    expiry_of_version: expiry.is_some(),
                },
                action,
                detail,
            )
        }
        // A key this run creates gets its expiry at creation; one the key step reads is
        // looked at then.
        (_, policy) => Decided::new(
            KeyLifecycleDecision {
                policy: policy.clone(),
                expiry_of_version: true,
            },
            StepAction::Update,
            format!("set the rotation policy ({summary}), and the version's expiry if it has none"),
        ),
    }
}

/// The spec's lifecycle in a few words: `rotate P90D after creation, expire P1Y`.
fn policy_summary(spec: &DeploymentSpec) -> String {
    let lifecycle = spec.key.lifecycle();
    let mut parts = Vec::new();
    if let Some(after) = &lifecycle.rotate_after {
        parts.push(format!("rotate {after} after creation"));
    }
    if let Some(before) = &lifecycle.rotate_before_expiry {
        parts.push(format!("rotate {before} before expiry"));
    }
    if let Some(expires) = &lifecycle.expires_after {
        parts.push(format!("expire {expires} after creation"));
    }
    parts.join(", ")
}

fn decide_identity(survey: &Survey) -> Decided<IdentityDecision> {
    match &survey.identity {
        Some(i) => Decided::new(
            IdentityDecision::Keep(Box::new(i.clone())),
            StepAction::InPlace,
            format!("principal id {}", i.principal_id),
        ),
        None => Decided::new(
            IdentityDecision::Create,
            StepAction::Create,
            "create the user-assigned identity",
        ),
    }
}

fn decide_firewall(spec: &DeploymentSpec, survey: &Survey) -> Decided<FirewallDecision> {
    match &survey.vault {
        VaultFound::Live(v) if desired::firewall_matches(v, &desired::firewall(spec, Some(v))) => {
            Decided::new(
                FirewallDecision::Matches,
                StepAction::InPlace,
                "deny, bypass AzureServices",
            )
        }
        VaultFound::SoftDeleted(_) => Decided::new(
            FirewallDecision::Set {
                unless_matching: true,
            },
            StepAction::Update,
            "deny public networks, let trusted Azure services through, unless the recovered vault does",
        )
        .unless_found(StepAction::InPlace),
        _ => Decided::new(
            FirewallDecision::Set {
                unless_matching: false,
            },
            StepAction::Update,
            "deny public networks, let trusted Azure services through",
        ),
    }
}

fn decide_workload(
    spec: &DeploymentSpec,
    survey: &Survey,
    key: KeyVersionKnown<'_>,
) -> Decided<WorkloadDecision> {
    match &spec.workload {
        Workload::ContainerGroup(group_spec) => decide_group(
            spec,
            group_spec,
            survey.group.as_ref(),
            &vault_url_of(spec, survey),
            key,
        ),
        Workload::Template(_) => match &survey.deployment {
            Some(d) => Decided::new(
                WorkloadDecision::TemplateDeployed(Box::new(d.clone())),
                StepAction::InPlace,
                "template deployed with the current key version",
            ),
            None => Decided::new(
                WorkloadDecision::DeployTemplate,
                StepAction::Create,
                "deploy the template with encryption injected",
            ),
        },
    }
}

/// The vault URL the group will name: the live vault's, else the one the name gives in the
/// public cloud (only compared with an existing group's, which a new vault cannot match).
fn vault_url_of(spec: &DeploymentSpec, survey: &Survey) -> Option<VaultUrl> {
    survey
        .vault_url()
        .or_else(|| VaultUrl::new(&spec.vault.name, "vault.azure.net").ok())
}

/// What the container-group step does with `existing`, when the key version is `key`: the one
/// decision of every caller that deploys a group (apply, the fleet, rotate, follow-latest).
pub(crate) fn decide_group(
    spec: &DeploymentSpec,
    group_spec: &ContainerGroupSpec,
    existing: Option<&ContainerGroup>,
    vault: &Option<VaultUrl>,
    key: KeyVersionKnown<'_>,
) -> Decided<WorkloadDecision> {
    let group = |action, key_known, detail: String| {
        Decided::new(
            WorkloadDecision::Group { action, key_known },
            action,
            detail,
        )
    };
    match (key, existing, vault) {
        (KeyVersionKnown::Version(version), _, Some(vault)) => {
            let identity = desired::identity_id(spec);
            let encryption = desired::encryption(vault, spec, version, identity.as_ref());
            let want = desired::group(spec, group_spec, &encryption, identity.as_ref());
            let action = desired::group_step(existing, &want);
            let detail = match action {
                StepAction::Create => format!("create with key version {version}"),
                StepAction::InPlace => format!("encrypted with key version {version}"),
                StepAction::Recreate => {
                    format!("encryption changes to key version {version}: delete and re-create")
                }
                _ => "update the group".to_owned(),
            };
            group(action, true, detail)
        }
        (_, None, _) => group(
            StepAction::Create,
            true,
            "create with the key version the key step gives".to_owned(),
        ),
        (KeyVersionKnown::Unread, Some(_), _) => group(
            StepAction::Recreate,
            false,
            "re-create on the key version the key step reads, unless the group uses it".to_owned(),
        )
        .unless_found(StepAction::InPlace),
        (_, Some(_), _) => group(
            StepAction::Recreate,
            true,
            "encryption changes to a new key version: delete and re-create".to_owned(),
        ),
    }
}
