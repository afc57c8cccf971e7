//! Reading what exists, concurrently and without writing: the ground `plan`, preflight and
//! `apply` stand on.

use crate::{
    backends::Backends,
    error::{BackendError, Error, Result},
    run_id::RunId,
    spec::{DeploymentSpec, Flow, KeySpec},
};
use aci_cmk_aci::{ResourceGroup, deployments::Deployment, models::ContainerGroup};
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyVersion, PrincipalId},
};
use aci_cmk_identity::{
    ACI_FIRST_PARTY_APP_ID, directory::ServicePrincipal, managed_identities::UserAssignedIdentity,
    role_assignments::RoleAssignment,
};
use aci_cmk_keyvault::{
    keys::KeyProperties,
    models::{DeletedVault, Vault},
    rotation_policy::KeyRotationPolicy,
};
use std::sync::Arc;

/// What the survey found of the vault.
#[derive(Clone, Debug)]
pub(crate) enum VaultFound {
    /// A live vault in the spec's resource group.
    Live(Box<Vault>),
    /// A soft-deleted vault of this name in this subscription.
    SoftDeleted(Box<DeletedVault>),
    /// No vault: the name is free.
    Absent,
    /// The name is held by a vault this deployment cannot use.
    TakenElsewhere(String),
}

/// What the survey found of the key.
#[derive(Clone, Debug)]
pub(crate) enum KeyFound {
    /// The key (latest version, or the spec's version; behind a firewall that shuts out the
    /// deployer, the version the existing group uses, with nothing else known).
    Found(Box<KeyProperties>),
    /// No such key.
    Absent,
    /// It could not be read (no vault yet, no access yet, firewall).
    Unknown(String),
}

/// What the survey found of the key's rotation policy (read only when the spec keeps one).
#[derive(Clone, Debug)]
pub(crate) enum PolicyFound {
    /// The vault's policy for the key (Key Vault's default when none was set).
    Found(Box<KeyRotationPolicy>),
    /// Not read: the spec keeps no policy, the key is not there yet, or the read was refused.
    Unknown,
}

/// The current state of everything a spec touches.
#[derive(Clone, Debug)]
pub(crate) struct Survey {
    pub resource_group: Option<ResourceGroup>,
    pub vault: VaultFound,
    pub service_principal: Option<ServicePrincipal>,
    pub identity: Option<UserAssignedIdentity>,
    pub key: KeyFound,
    pub rotation_policy: PolicyFound,
    pub group: Option<ContainerGroup>,
    /// Role assignments at the vault of the deployer and of the encryption principal (RBAC
    /// vaults only).
    pub deployer_roles: Vec<RoleAssignment>,
    pub encryption_roles: Vec<RoleAssignment>,
    /// The succeeded deployment of the spec's template with the current key (template mode).
    pub deployment: Option<Deployment>,
}

/// The part of a run's client request ids the survey's reads carry.
const SURVEY: &str = "survey";

/// The ACI first-party application's id.
pub(crate) fn aci_app_id() -> aci_cmk_core::names::AppId {
    ACI_FIRST_PARTY_APP_ID
        .parse()
        .unwrap_or_else(|_| unreachable!("the ACI first-party app id is a GUID"))
}

fn read_error(what: &'static str) -> impl FnOnce(BackendError) -> Error {
    move |e| Error::Read {
        what,
        source: Arc::new(e),
    }
}

impl Survey {
    /// Reads everything `spec` touches; every read sends `aci-cmk/{run}/survey` as its client
    /// request id.
    pub(crate) async fn take(
        backends: &Backends,
        spec: &DeploymentSpec,
        run: &RunId,
    ) -> Result<Self> {
        let options = || run.options(SURVEY, None);
        let rg = async {
            backends
                .resource_groups
                .get(&spec.resource_group, options())
                .await
                .map_err(|e| read_error("resource group")(e.into()))
        };
        let vault = survey_vault(backends, spec, run);
        let service_principal = async {
            match spec.flow {
                Flow::Standard => backends
                    .directory
                    .get_service_principal_by_app_id(&aci_app_id(), options())
                    .await
                    .map_err(|e| read_error("ACI service principal")(e.into())),
                Flow::NetworkProtected { .. } => Ok(None),
            }
        };
        let identity = async {
            match &spec.flow {
                Flow::NetworkProtected { identity_name } => {
                    match backends
                        .identities
                        .get(&spec.resource_group, identity_name, options())
                        .await
                    {
                        Ok(identity) => Ok(Some(identity)),
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(read_error("managed identity")(e.into())),
                    }
                }
                Flow::Standard => Ok(None),
            }
        };
        let group = async {
            let Some(group) = spec.workload.container_group() else {
                return Ok(None);
            };
            match backends
                .container_groups
                .get(&spec.resource_group, &group.name, options())
                .await
            {
                Ok(g) => Ok(Some(g)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(read_error("container group")(e.into())),
            }
        };
        let (rg, vault, service_principal, identity, group) =
            futures::try_join!(rg, vault, service_principal, identity, group)?;

        let mut survey = Survey {
            resource_group: rg,
            vault,
            service_principal,
            identity,
            key: KeyFound::Unknown("the vault does not exist yet".into()),
            rotation_policy: PolicyFound::Unknown,
            group,
            deployer_roles: Vec::new(),
            encryption_roles: Vec::new(),
            deployment: None,
        };
        if let VaultFound::Live(vault) = &survey.vault {
            let key = survey_key(backends, spec, vault, survey.group.as_ref(), run);
            let principal = survey.encryption_principal();
            let roles = survey_roles(backends, vault, &principal, run);
            let (key, (deployer_roles, encryption_roles)) = futures::join!(key, roles);
            survey.key = key;
            survey.rotation_policy =
                survey_rotation_policy(backends, spec, vault, &survey.key, run).await;
            survey.deployer_roles = deployer_roles?;
            survey.encryption_roles = encryption_roles?;
        }
        survey.deployment = survey_deployment(backends, spec, &survey, run).await?;
        Ok(survey)
    }

    /// Whoever ACI acts as, if it exists already.
    pub(crate) fn encryption_principal(&self) -> Option<PrincipalId> {
        self.service_principal
            .as_ref()
            .map(|sp| sp.id.clone())
            .or_else(|| self.identity.as_ref().map(|i| i.principal_id.clone()))
    }

    /// The vault's data-plane URL, if the vault is live.
    pub(crate) fn vault_url(&self) -> Option<VaultUrl> {
        match &self.vault {
            VaultFound::Live(v) => v.properties.vault_uri.clone(),
            _ => None,
        }
    }
}

async fn survey_vault(
    backends: &Backends,
    spec: &DeploymentSpec,
    run: &RunId,
) -> Result<VaultFound> {
    let options = || run.options(SURVEY, None);
    let name = &spec.vault.name;
    match backends
        .vaults
        .get(&spec.resource_group, name, options())
        .await
    {
        Ok(vault) => return Ok(VaultFound::Live(Box::new(vault))),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(read_error("vault")(e.into())),
    }
    match backends
        .vaults
        .get_deleted(&spec.location, name, options())
        .await
    {
        Ok(deleted) => {
            let ours = deleted
                .properties
                .vault_id
                .as_ref()
                .and_then(|id| id.resource_group_name())
                .is_none_or(|rg| rg == &spec.resource_group);
            return Ok(if ours {
                VaultFound::SoftDeleted(Box::new(deleted))
            } else {
                VaultFound::TakenElsewhere(format!(
                    "a soft-deleted vault named {name} from another resource group holds the name: recover it there, purge it, or choose another name"
                ))
            });
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(read_error("deleted vault")(e.into())),
    }
    let availability = backends
        .vaults
        .check_name_availability(name, options())
        .await
        .map_err(|e| read_error("vault name availability")(e.into()))?;
    Ok(if availability.name_available {
        VaultFound::Absent
    } else {
        VaultFound::TakenElsewhere(format!(
            "the vault name {name} is taken{}: choose another name",
            availability
                .message
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ))
    })
}

async fn survey_key(
    backends: &Backends,
    spec: &DeploymentSpec,
    vault: &Vault,
    group: Option<&ContainerGroup>,
    run: &RunId,
) -> KeyFound {
    let options = || run.options(SURVEY, None);
    let Some(url) = &vault.properties.vault_uri else {
        return KeyFound::Unknown("the vault has no URI yet".into());
    };
    let version = match &spec.key {
        KeySpec::Existing { id, .. } => id.version().cloned(),
        KeySpec::Create { .. } => None,
    };
    match backends
        .keys
        .get_key(url, spec.key.name(), version.as_ref(), options())
        .await
    {
        Ok(key) => KeyFound::Found(Box::new(key)),
        Err(e) if e.is_not_found() => KeyFound::Absent,
        // The firewall of a network-protected vault shuts out a deployer whose address is not
        // among the ip rules: the group says which version it was created on.
        Err(e) if e.is_forbidden_by_firewall() => key_of_group(url, spec, version.as_ref(), group)
            .map_or_else(
                || KeyFound::Unknown(e.to_string()),
                |k| KeyFound::Found(Box::new(k)),
            ),
        Err(e) => KeyFound::Unknown(e.to_string()),
    }
}

/// The key version an existing group is encrypted with, when it is the spec's key (and
/// version, if the spec names one).
fn key_of_group(
    url: &VaultUrl,
    spec: &DeploymentSpec,
    version: Option<&KeyVersion>,
    group: Option<&ContainerGroup>,
) -> Option<KeyProperties> {
    let encryption = group?.properties.encryption_properties.as_ref()?;
    let in_group: KeyVersion = encryption.key_version.parse().ok()?;
    let same_vault = encryption
        .vault_base_url
        .trim_end_matches('/')
        .eq_ignore_ascii_case(url.as_str());
    let same_key = encryption
        .key_name
        .eq_ignore_ascii_case(spec.key.name().as_str());
    if !same_vault || !same_key || version.is_some_and(|v| v != &in_group) {
        return None;
    }
    KeyProperties::new(url.key_id(spec.key.name(), Some(&in_group)))
}

/// The key's rotation policy, when the spec keeps one and the key is there to read it from.
async fn survey_rotation_policy(
    backends: &Backends,
    spec: &DeploymentSpec,
    vault: &Vault,
    key: &KeyFound,
    run: &RunId,
) -> PolicyFound {
    let (Some(url), KeyFound::Found(_), Some(_)) = (
        &vault.properties.vault_uri,
        key,
        spec.key.lifecycle().rotation_policy(),
    ) else {
        return PolicyFound::Unknown;
    };
    match backends
        .keys
        .get_rotation_policy(url, spec.key.name(), run.options(SURVEY, None))
        .await
    {
        Ok(policy) => PolicyFound::Found(Box::new(policy)),
        // Refused (the deployer may not read policies yet) or failed: the step sets it.
        Err(_) => PolicyFound::Unknown,
    }
}

type Roles = Result<Vec<RoleAssignment>>;

async fn survey_roles(
    backends: &Backends,
    vault: &Vault,
    encryption_principal: &Option<PrincipalId>,
    run: &RunId,
) -> (Roles, Roles) {
    let options = || run.options(SURVEY, None);
    if vault.properties.enable_rbac_authorization != Some(true) {
        return (Ok(Vec::new()), Ok(Vec::new()));
    }
    let list = |principal: PrincipalId| async move {
        backends
            .role_assignments
            .list_for_principal(&vault.id, &principal, options())
            .await
            .map_err(|e| read_error("role assignments")(e.into()))
    };
    let deployer = list(backends.deployer.object_id.clone());
    let encryption = async {
        match encryption_principal {
            Some(p) => list(p.clone()).await,
            None => Ok(Vec::new()),
        }
    };
    futures::join!(deployer, encryption)
}

async fn survey_deployment(
    backends: &Backends,
    spec: &DeploymentSpec,
    survey: &Survey,
    run: &RunId,
) -> Result<Option<Deployment>> {
    let options = || run.options(SURVEY, None);
    let (Some(vault), KeyFound::Found(key)) = (survey.vault_url(), &survey.key) else {
        return Ok(None);
    };
    let identity = crate::desired::identity_id(spec);
    let encryption = crate::desired::encryption(&vault, spec, &key.version, identity.as_ref());
    let Ok(Some((name, _))) = crate::desired::patched_template(spec, &encryption) else {
        return Ok(None);
    };
    match backends
        .deployments
        .get(&spec.resource_group, &name, options())
        .await
    {
        Ok(d) if d.properties.provisioning_state.as_deref() == Some("Succeeded") => Ok(Some(d)),
        Ok(_) => Ok(None),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(read_error("deployment")(e.into())),
    }
}
