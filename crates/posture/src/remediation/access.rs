//! The access steps: grant a principal `get` and `unwrapKey` on a key — an access policy of
//! exactly those two permissions, or Key Vault Crypto Service Encryption User on the key
//! itself, as the vault authorizes — and create the ACI first-party service principal, then
//! grant it so on the keys its groups use. Nothing is ever taken away, and no one else is
//! granted anything.

use super::{error::StepError, plan::GrantKind, step_context::StepCx};
use crate::{
    checks::grants::{includes, policy_permissions},
    findings::evidence::KeyRef,
};
use aci_cmk_core::names::{KeyName, PrincipalId};
use aci_cmk_encrypted_deployment::ENCRYPTION_KEY_PERMISSIONS;
use aci_cmk_identity::{
    ACI_FIRST_PARTY_APP_ID,
    role_assignments::{PrincipalType, RoleDefinitionId},
};
use aci_cmk_keyvault::models::{AccessPolicyEntry, AccessPolicyUpdateKind, Vault};
use std::collections::BTreeMap;

/// The role a grant assigns on an RBAC vault.
pub(crate) const UNWRAP_ROLE: RoleDefinitionId =
    RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER;

/// How `vault` authorizes.
pub(crate) fn kind_of(vault: &Vault) -> GrantKind {
    if vault.properties.enable_rbac_authorization == Some(true) {
        GrantKind::RoleAssignment
    } else {
        GrantKind::AccessPolicy
    }
}

/// Grants `principal` (`None` in a dry run where it is not created yet: described only) `get`
/// and `unwrapKey` on key `key` of `vault`, by `by`, unless it holds them.
pub(crate) async fn grant_unwrap(
    cx: &mut StepCx<'_>,
    vault: &Vault,
    key: &KeyName,
    principal: Option<&PrincipalId>,
    who: &str,
    by: GrantKind,
) -> Result<(), StepError> {
    if kind_of(vault) != by {
        return Err(StepError::Changed(format!(
            "vault {} no longer authorizes as the audit found: audit again",
            vault.name
        )));
    }
    let b = cx.backends;
    match by {
        GrantKind::AccessPolicy => {
            if let Some(p) = principal {
                let held = policy_permissions(vault, p);
                if ENCRYPTION_KEY_PERMISSIONS
                    .iter()
                    .all(|wanted| includes(&held, wanted))
                {
                    return Ok(());
                }
            }
            let rg = vault.id.resource_group_name().cloned().ok_or_else(|| {
                StepError::Changed(format!("vault id {} names no resource group", vault.id))
            })?;
            let entry = principal.map(|p| {
                AccessPolicyEntry::for_keys(
                    vault.properties.tenant_id.clone(),
                    p.clone(),
                    ENCRYPTION_KEY_PERMISSIONS,
                )
            });
            let options = cx.call();
            let name = vault.name.clone();
            cx.write(
                format!(
                    "add an access policy to vault {}: {who} keys get, unwrapKey",
                    vault.name
                ),
                async move {
                    match entry {
                        Some(entry) => b
                            .vaults
                            .update_access_policy(
                                &rg,
                                &name,
                                AccessPolicyUpdateKind::Add,
                                &[entry],
                                options,
                            )
                            .await
                            .map(|_| ()),
                        None => Ok(()),
                    }
                },
                StepError::client(format!("add an access policy to vault {}", vault.name)),
            )
            .await?;
        }
        GrantKind::RoleAssignment => {
            let scope = vault.id.child("keys", key.as_str()).map_err(|e| {
                StepError::Changed(format!("key {key} of vault {} has no id: {e}", vault.name))
            })?;
            if let Some(p) = principal {
                let held = b
                    .role_assignments
                    .list_for_principal(&scope, p, cx.call())
                    .await
                    .map_err(StepError::client(format!(
                        "list the role assignments of {who} on key {}/{key}",
                        vault.name
                    )))?;
                if held.iter().any(|a| a.role() == Some(UNWRAP_ROLE)) {
                    return Ok(());
                }
            }
            let principal = principal.cloned();
            let options = cx.call();
            let scope_for_write = scope.clone();
            let retry = aci_cmk_encrypted_deployment::propagation::PropagationRetry::default();
            cx.write(
                format!(
                    "assign Key Vault Crypto Service Encryption User to {who} on key {}/{key}",
                    vault.name
                ),
                async move {
                    let Some(p) = principal else { return Ok(()) };
                    until_propagated(&retry, || {
                        b.role_assignments.create(
                            &scope_for_write,
                            UNWRAP_ROLE,
                            &p,
                            PrincipalType::ServicePrincipal,
                            options.clone(),
                        )
                    })
                    .await
                    .map(|_| ())
                },
                StepError::client(format!(
                    "assign a role to {who} on key {}/{key}",
                    vault.name
                )),
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs `call` again while its error means a principal or assignment has not propagated yet
/// (the orchestrator's rule, [`is_propagation_error`]), waiting as `retry` says.
///
/// [`is_propagation_error`]: aci_cmk_encrypted_deployment::propagation::is_propagation_error
pub(crate) async fn until_propagated<T, F, Fut>(
    retry: &aci_cmk_encrypted_deployment::propagation::PropagationRetry,
    mut call: F,
) -> Result<T, aci_cmk_core::ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, aci_cmk_core::ClientError>>,
{
    let started = std::time::Instant::now();
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e)
                if e.as_service().is_some_and(
                    aci_cmk_encrypted_deployment::propagation::is_propagation_error,
                ) =>
            {
                attempt += 1;
                let delay = retry.delay(attempt);
                if started.elapsed() + delay > retry.max_total {
                    return Err(e);
                }
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// Creates the ACI first-party service principal (unless it exists by now), then grants it
/// `get` and `unwrapKey` on each of `keys` as its vault authorizes. A vault that is not among
/// the subscription's (purged) is noted and passed over.
pub(crate) async fn create_aci_service_principal(
    cx: &mut StepCx<'_>,
    keys: &[KeyRef],
    notes: &mut Vec<String>,
) -> Result<(), StepError> {
    let b = cx.backends;
    let app = ACI_FIRST_PARTY_APP_ID
        .parse()
        .map_err(|e| StepError::Changed(format!("the ACI application id: {e}")))?;
    let found = b
        .directory
        .get_service_principal_by_app_id(&app, cx.call())
        .await
        .map_err(StepError::client(
            "read the ACI first-party service principal",
        ))?;
    let object_id = match found {
        Some(sp) => Some(sp.id),
        None => {
            let options = cx.call();
            let app_for_write = app.clone();
            let created = cx
                .write(
                    format!(
                        "create the service principal of the ACI first-party application {ACI_FIRST_PARTY_APP_ID}"
                    ),
                    async move {
                        b.directory
                            .ensure_service_principal(&app_for_write, options)
                            .await
                    },
                    |source| {
                        if source.is_forbidden() {
                            StepError::ServicePrincipalCreationForbidden {
                                source: Box::new(source),
                            }
                        } else {
                            StepError::Client {
                                what: "create the ACI first-party service principal".into(),
                                source: Box::new(source),
                            }
                        }
                    },
                )
                .await?;
            created.map(|c| c.service_principal.id)
        }
    };
    let vaults: BTreeMap<String, Vault> = b
        .vaults
        .list(cx.call())
        .await
        .map_err(StepError::client("list the subscription's vaults"))?
        .into_iter()
        .map(|v| (v.name.as_str().to_ascii_lowercase(), v))
        .collect();
    let who = match &object_id {
        Some(id) => format!("the ACI first-party service principal {id}"),
        None => "the ACI first-party service principal".to_owned(),
    };
    let mut policy_done: Vec<String> = Vec::new();
    for key in keys {
        let name = key.vault_name().as_str().to_ascii_lowercase();
        let Some(vault) = vaults.get(&name) else {
            notes.push(format!(
                "vault {} is not among the subscription's vaults: nothing granted there",
                key.vault_name()
            ));
            continue;
        };
        let by = kind_of(vault);
        // An access policy covers the whole vault: once per vault.
        if by == GrantKind::AccessPolicy {
            if policy_done.contains(&name) {
                continue;
            }
            policy_done.push(name);
        }
        grant_unwrap(cx, vault, &key.name, object_id.as_ref(), &who, by).await?;
    }
    Ok(())
}
