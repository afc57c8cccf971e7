//! Items 8 and 9: a vault firewall that keeps ACI from a group's key (and, as info, the
//! trusted-services caveat of every vault whose groups rely on the bypass); a vault open to
//! all networks.

use super::{Ctx, vault_ref};
use crate::{
    FindingKind,
    findings::{
        Finding,
        evidence::{Evidence, FirewallBlock, NetworkSettings},
    },
};
use aci_cmk_keyvault::models::{NetworkRuleAction, NetworkRuleBypass, PublicNetworkAccess, Vault};

/// A vault's network settings.
pub(crate) fn settings(vault: &Vault) -> NetworkSettings {
    let acls = vault.properties.network_acls.as_ref();
    NetworkSettings {
        default_action: acls.and_then(|a| a.default_action.clone()),
        bypass: acls.and_then(|a| a.bypass.clone()),
        public_network_access: vault.properties.public_network_access.clone(),
        ip_rules: acls.map(|a| a.ip_rules.len()).unwrap_or(0),
        virtual_network_rules: acls.map(|a| a.virtual_network_rules.len()).unwrap_or(0),
    }
}

impl NetworkSettings {
    fn public_disabled(&self) -> bool {
        self.public_network_access == Some(PublicNetworkAccess::Disabled)
    }

    fn denies(&self) -> bool {
        self.default_action == Some(NetworkRuleAction::Deny)
    }

    /// Whether trusted services pass (Azure's default bypass is `AzureServices`).
    fn bypasses(&self) -> bool {
        self.bypass
            .as_ref()
            .is_none_or(|b| *b == NetworkRuleBypass::AzureServices)
    }
}

/// Findings of kinds 8 (and its caveat) and 9.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vault, groups) in ctx.live_vaults() {
        let network = settings(vault);
        let restricted = network.denies() || network.public_disabled();
        let mut relying = Vec::new();
        for (g, gk) in &groups {
            let reason = match (restricted, gk.identity.is_some(), network.bypasses()) {
                (false, _, _) => None,
                (true, false, _) => Some(FirewallBlock::FirstPartyNotTrusted),
                (true, true, true) => {
                    relying.push(g.group.id.clone());
                    None
                }
                (true, true, false) if network.public_disabled() => {
                    Some(FirewallBlock::PublicAccessDisabledWithoutBypass)
                }
                (true, true, false) => Some(FirewallBlock::DenyWithoutBypass),
            };
            let Some(reason) = reason else { continue };
            let (why, fix) = match reason {
                FirewallBlock::FirstPartyNotTrusted => (
                    "it reaches the key as the ACI first-party service principal, which is not a trusted service",
                    "re-create the group with a user-assigned encryption identity (the network-protected flow; disruptive)",
                ),
                FirewallBlock::DenyWithoutBypass => (
                    "the firewall denies by default and does not let trusted services through",
                    "set the vault's networkAcls.bypass to AzureServices",
                ),
                FirewallBlock::PublicAccessDisabledWithoutBypass => (
                    "public network access is disabled and trusted services are not let through",
                    "set the vault's networkAcls.bypass to AzureServices",
                ),
            };
            let kind = FindingKind::FirewallBlocksAci;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                g.group.id.as_str(),
                format!(
                    "ACI cannot reach key {}/{} of container group {}: {why}",
                    vault.name, gk.key, g.group.name
                ),
                fix,
                Evidence::FirewallBlocksAci {
                    group: g.group.clone(),
                    vault: vault_ref(vault),
                    network: network.clone(),
                    reason,
                },
            ));
        }
        if !relying.is_empty() {
            let kind = FindingKind::TrustedServicesCaveat;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                vault.id.as_str(),
                format!(
                    "{} container group(s) reach vault {} through its trusted-services bypass, which Key Vault's documentation does not list ACI for",
                    relying.len(),
                    vault.name
                ),
                "none needed; re-check the groups after any change to the vault's firewall",
                Evidence::TrustedServicesCaveat {
                    vault: vault_ref(vault),
                    network: network.clone(),
                    groups: relying,
                },
            ));
        }
        if !network.public_disabled() && !network.denies() {
            let kind = FindingKind::VaultOpenToAllNetworks;
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                vault.id.as_str(),
                format!("vault {} accepts requests from all networks", vault.name),
                "deny by default with networkAcls.bypass AzureServices, and move standard-flow groups to an encryption identity",
                Evidence::VaultOpenToAllNetworks {
                    vault: vault_ref(vault),
                    network,
                },
            ));
        }
    }
}
