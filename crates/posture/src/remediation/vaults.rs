//! The vault steps: recover a soft-deleted vault, turn on soft delete and purge protection
//! (the orchestrator's [`vault_protection_patch`]), let trusted services through a firewall.
//! Each reads the vault first and writes only what is missing; none turns anything off.

use super::{error::StepError, step_context::StepCx};
use crate::findings::evidence::VaultRef;
use aci_cmk_core::names::{Location, ResourceGroupName, VaultName};
use aci_cmk_encrypted_deployment::vault_protection_patch;
use aci_cmk_keyvault::models::{NetworkRuleBypass, NetworkRuleSet, Sku, Vault};

/// Reads the live vault `vault` refers to.
pub(crate) async fn read(cx: &StepCx<'_>, vault: &VaultRef) -> Result<Vault, StepError> {
    let rg = vault.resource_group().ok_or_else(|| {
        StepError::Changed(format!("vault id {} names no resource group", vault.id))
    })?;
    cx.backends
        .vaults
        .get(rg, &vault.name, cx.call())
        .await
        .map_err(StepError::client(format!("read vault {}", vault.name)))
}

/// Recovers soft-deleted vault `name` into `resource_group` unless it is live again.
pub(crate) async fn recover(
    cx: &mut StepCx<'_>,
    name: &VaultName,
    resource_group: &ResourceGroupName,
    location: &Location,
) -> Result<(), StepError> {
    let b = cx.backends;
    match b.vaults.get(resource_group, name, cx.call()).await {
        Ok(_) => return Ok(()),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(StepError::client(format!("read vault {name}"))(e)),
    }
    match b.vaults.get_deleted(location, name, cx.call()).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {
            return Err(StepError::Changed(format!(
                "vault {name} is neither live nor soft-deleted any more (purged?)"
            )));
        }
        Err(e) => return Err(StepError::client(format!("read deleted vault {name}"))(e)),
    }
    let tenant = b.deployer.tenant_id.clone();
    let options = cx.call();
    cx.write(
        format!("recover vault {name} into {resource_group} ({location}) with createMode recover"),
        async move {
            b.vaults
                .recover(
                    resource_group,
                    name,
                    location,
                    &tenant,
                    &Sku::standard(),
                    options,
                )
                .await
        },
        StepError::client(format!("recover vault {name}")),
    )
    .await?;
    Ok(())
}

/// Turns on soft delete where it is off and, with `purge_protection`, purge protection.
pub(crate) async fn protect(
    cx: &mut StepCx<'_>,
    vault: &VaultRef,
    purge_protection: bool,
) -> Result<(), StepError> {
    let current = read(cx, vault).await?;
    // Soft delete is turned on wherever it is off (purge protection stands on it).
    let Some(patch) = vault_protection_patch(&current, purge_protection) else {
        return Ok(());
    };
    let props = patch.properties.as_ref();
    let mut what = Vec::new();
    if props.is_some_and(|p| p.enable_soft_delete == Some(true)) {
        what.push("enableSoftDelete");
    }
    if props.is_some_and(|p| p.enable_purge_protection == Some(true)) {
        what.push("enablePurgeProtection");
    }
    let b = cx.backends;
    let rg = vault.resource_group().cloned().ok_or_else(|| {
        StepError::Changed(format!("vault id {} names no resource group", vault.id))
    })?;
    let options = cx.call();
    cx.write(
        format!("PATCH vault {}: {} true", vault.name, what.join(", ")),
        async move { b.vaults.update(&rg, &vault.name, &patch, options).await },
        StepError::client(format!("turn on the protection of vault {}", vault.name)),
    )
    .await?;
    Ok(())
}

/// The firewall with trusted services let through, everything else kept: `None` when they
/// pass already (no firewall, or Azure's default bypass).
pub(crate) fn with_trusted_services(vault: &Vault) -> Option<NetworkRuleSet> {
    let acls = vault.properties.network_acls.as_ref()?;
    if acls
        .bypass
        .as_ref()
        .is_none_or(|b| *b == NetworkRuleBypass::AzureServices)
    {
        return None;
    }
    let mut rules = acls.clone();
    rules.bypass = Some(NetworkRuleBypass::AzureServices);
    Some(rules)
}

/// Sets the firewall's bypass to `AzureServices`, keeping its default action and rules.
pub(crate) async fn allow_trusted_services(
    cx: &mut StepCx<'_>,
    vault: &VaultRef,
) -> Result<(), StepError> {
    let current = read(cx, vault).await?;
    let Some(rules) = with_trusted_services(&current) else {
        return Ok(());
    };
    let b = cx.backends;
    let rg = vault.resource_group().cloned().ok_or_else(|| {
        StepError::Changed(format!("vault id {} names no resource group", vault.id))
    })?;
    let options = cx.call();
    cx.write(
        format!(
            "set the firewall of vault {} to bypass AzureServices (default action {}, {} IP and {} network rules kept)",
            vault.name,
            rules
                .default_action
                .as_ref()
                .map(|a| a.as_str())
                .unwrap_or("Allow"),
            rules.ip_rules.len(),
            rules.virtual_network_rules.len()
        ),
        async move {
            b.vaults
                .update_network_rules(&rg, &vault.name, &rules, options)
                .await
        },
        StepError::client(format!("let trusted services through vault {}", vault.name)),
    )
    .await?;
    Ok(())
}
