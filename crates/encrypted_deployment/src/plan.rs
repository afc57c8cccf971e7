//! `plan`: the ordered steps `apply` would take from the current state, with no writes.

use crate::{
    desired,
    progress::{StepAction, StepId},
    spec::{DeploymentSpec, Flow, VaultAuthorization},
    survey::{KeyFound, Survey, VaultFound},
};
use aci_cmk_identity::role_assignments::RoleDefinitionId;
use serde::Serialize;
use std::fmt;

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlannedStep {
    /// Which step.
    pub step: StepId,
    /// What it would do; `None` when it does not belong to the spec's flow.
    pub action: Option<StepAction>,
    /// Why, in a few words.
    pub detail: String,
    /// The steps it waits for.
    pub needs: Vec<StepId>,
}

/// The steps `apply` would take, in step order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The steps.
    pub steps: Vec<PlannedStep>,
}

impl Plan {
    /// Whether applying would write nothing.
    pub fn is_converged(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.action.is_none_or(|a| !a.writes()))
    }

    /// The planned action of `step`.
    pub fn action(&self, step: StepId) -> Option<StepAction> {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .and_then(|s| s.action)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            let action = s.action.map_or("-".to_owned(), |a| a.to_string());
            writeln!(f, "{:<24} {:<9} {}", s.step.title(), action, s.detail)?;
        }
        Ok(())
    }
}

/// The steps each step waits for, in `flow`.
pub(crate) fn needs(step: StepId, flow: &Flow) -> Vec<StepId> {
    use StepId::*;
    let protected = matches!(flow, Flow::NetworkProtected { .. });
    match step {
        ResourceGroup | ServicePrincipal => vec![],
        Vault | Identity => vec![ResourceGroup],
        DeployerAccess => vec![Vault],
        Key => vec![Vault, DeployerAccess],
        EncryptionAccess => vec![
            Vault,
            if protected {
                Identity
            } else {
                ServicePrincipal
            },
        ],
        Firewall => vec![Vault, Key],
        ContainerGroup => {
            let mut n = vec![Key, EncryptionAccess];
            if protected {
                n.extend([Identity, Firewall]);
            }
            n
        }
    }
}

/// Whether `step` belongs to `flow`.
pub(crate) fn applies(step: StepId, flow: &Flow) -> bool {
    let protected = matches!(flow, Flow::NetworkProtected { .. });
    match step {
        StepId::ServicePrincipal => !protected,
        StepId::Identity | StepId::Firewall => protected,
        _ => true,
    }
}

/// All steps, in order.
pub(crate) const ALL_STEPS: [StepId; 9] = [
    StepId::ResourceGroup,
    StepId::ServicePrincipal,
    StepId::Vault,
    StepId::DeployerAccess,
    StepId::Key,
    StepId::Identity,
    StepId::EncryptionAccess,
    StepId::Firewall,
    StepId::ContainerGroup,
];

/// Derives the plan from a survey.
pub(crate) fn derive(
    spec: &DeploymentSpec,
    survey: &Survey,
    deployer: &aci_cmk_core::names::PrincipalId,
) -> Plan {
    let live_vault = match &survey.vault {
        VaultFound::Live(v) => Some(v.as_ref()),
        _ => None,
    };
    let rbac = spec.vault.authorization == VaultAuthorization::Rbac;
    let has_role = |roles: &[aci_cmk_identity::role_assignments::RoleAssignment],
                    wanted: &[RoleDefinitionId]| {
        roles
            .iter()
            .any(|r| r.role().is_some_and(|role| wanted.contains(&role)))
    };
    let mut steps = Vec::new();
    for step in ALL_STEPS {
        let (action, detail) = if !applies(step, &spec.flow) {
            (None, "not part of this flow".to_owned())
        } else {
            let (action, detail) = match step {
                StepId::ResourceGroup => match &survey.resource_group {
                    Some(_) => (
                        StepAction::InPlace,
                        format!("{} exists", spec.resource_group),
                    ),
                    None => (
                        StepAction::Create,
                        format!("create {} in {}", spec.resource_group, spec.location),
                    ),
                },
                StepId::ServicePrincipal => match &survey.service_principal {
                    Some(sp) => (StepAction::InPlace, format!("object id {}", sp.id)),
                    None => (
                        StepAction::Create,
                        "create the ACI first-party service principal".into(),
                    ),
                },
                StepId::Vault => match &survey.vault {
                    VaultFound::Live(v) => match desired::vault_patch(spec, v) {
                        Some(_) => (StepAction::Update, "turn on purge protection".into()),
                        None => (StepAction::InPlace, format!("{} exists", spec.vault.name)),
                    },
                    VaultFound::SoftDeleted(_) => (
                        StepAction::Recover,
                        format!("recover soft-deleted {}", spec.vault.name),
                    ),
                    VaultFound::Absent => (
                        StepAction::Create,
                        format!("create {} with purge protection", spec.vault.name),
                    ),
                    VaultFound::TakenElsewhere(why) => (StepAction::Create, why.clone()),
                },
                StepId::DeployerAccess => {
                    let granted = live_vault.is_some_and(|v| {
                        if rbac {
                            has_role(
                                &survey.deployer_roles,
                                &[
                                    RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                                    RoleDefinitionId::KEY_VAULT_ADMINISTRATOR,
                                ],
                            )
                        } else {
                            desired::policy_grants(v, deployer, &desired::DEPLOYER_KEY_PERMISSIONS)
                        }
                    });
                    if granted {
                        (
                            StepAction::InPlace,
                            "the deployer can create and read keys".into(),
                        )
                    } else if rbac {
                        (
                            StepAction::Create,
                            "assign Key Vault Crypto Officer to the deployer".into(),
                        )
                    } else {
                        (
                            StepAction::Update,
                            "access policy: keys get, create for the deployer".into(),
                        )
                    }
                }
                StepId::Key => match &survey.key {
                    KeyFound::Found(k) => (StepAction::InPlace, format!("use {}", k.kid)),
                    KeyFound::Absent => (
                        StepAction::Create,
                        format!("create key {}", spec.key.name()),
                    ),
                    KeyFound::Unknown(why) => (
                        StepAction::Create,
                        format!("create key {} unless it exists ({why})", spec.key.name()),
                    ),
                },
                StepId::Identity => match &survey.identity {
                    Some(i) => (
                        StepAction::InPlace,
                        format!("principal id {}", i.principal_id),
                    ),
                    None => (
                        StepAction::Create,
                        "create the user-assigned identity".into(),
                    ),
                },
                StepId::EncryptionAccess => {
                    let principal = survey.encryption_principal();
                    let granted = match (live_vault, &principal) {
                        (Some(v), Some(p)) if rbac => {
                            let _ = (v, p);
                            has_role(
                                &survey.encryption_roles,
                                &[RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER],
                            )
                        }
                        (Some(v), Some(p)) => {
                            desired::policy_grants(v, p, &desired::ENCRYPTION_KEY_PERMISSIONS)
                        }
                        _ => false,
                    };
                    if granted {
                        (
                            StepAction::InPlace,
                            "ACI's principal can get and unwrap the key".into(),
                        )
                    } else if rbac {
                        (
                            StepAction::Create,
                            "assign Key Vault Crypto Service Encryption User".into(),
                        )
                    } else {
                        (
                            StepAction::Update,
                            "access policy: keys get, unwrapKey".into(),
                        )
                    }
                }
                StepId::Firewall => {
                    let want = desired::firewall(spec, live_vault);
                    if live_vault.is_some_and(|v| desired::firewall_matches(v, &want)) {
                        (StepAction::InPlace, "deny, bypass AzureServices".into())
                    } else {
                        (
                            StepAction::Update,
                            "deny public networks, let trusted Azure services through".into(),
                        )
                    }
                }
                StepId::ContainerGroup => group_action(spec, survey),
            };
            (Some(action), detail)
        };
        steps.push(PlannedStep {
            step,
            action,
            detail,
            needs: needs(step, &spec.flow),
        });
    }
    Plan { steps }
}

fn group_action(spec: &DeploymentSpec, survey: &Survey) -> (StepAction, String) {
    let (Some(vault), KeyFound::Found(key)) = (survey.vault_url(), &survey.key) else {
        return (StepAction::Create, "deploy once the key exists".into());
    };
    let identity = desired::identity_id(spec);
    let encryption = desired::encryption(&vault, spec, &key.version, identity.as_ref());
    if spec.template.is_some() {
        return match &survey.deployment {
            Some(_) => (
                StepAction::InPlace,
                format!("template deployed with key version {}", key.version),
            ),
            None => (
                StepAction::Create,
                "deploy the template with encryption injected".into(),
            ),
        };
    }
    let Some(want) = desired::group(spec, &encryption, identity.as_ref()) else {
        return (StepAction::Create, String::new());
    };
    let action = desired::group_step(survey.group.as_ref(), &want);
    let detail = match action {
        StepAction::Create => format!("create with key version {}", key.version),
        StepAction::InPlace => format!("encrypted with key version {}", key.version),
        StepAction::Recreate => "encryption changes: delete and re-create".into(),
        _ => "update the group".into(),
    };
    (action, detail)
}
