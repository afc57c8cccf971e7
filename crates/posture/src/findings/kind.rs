//! The kinds of finding: their stable ids, the issue item each answers, their help text and the
//! Azure Policy built-in each corresponds to, and how severe a finding is.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
///
/// ```
/// use aci_cmk_posture::Severity;
///
/// let fail_on: Severity = "high".parse()?;
/// assert!(Severity::Critical >= fail_on);
/// assert!(Severity::Medium < fail_on);
/// assert_eq!(Severity::Medium.sarif_level(), "warning");
/// # Ok::<(), aci_cmk_posture::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is at risk.
    Info,
    /// A weakness with no near consequence.
    Low,
    /// A weakness that makes an outage or a loss likelier.
    Medium,
    /// Something is exposed or one step from failing.
    High,
    /// A group cannot restart, or its data cannot be read: act now.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name: `info`, `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The SARIF result level: `error` (high, critical), `warning` (low, medium) or `note`
    /// (info).
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| crate::Error::UnknownSeverity(s.to_owned()))
    }
}

/// An Azure Policy built-in definition a finding corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyDefinition {
    /// The definition's GUID, e.g. `0aa61e00-0a01-4a3c-9945-e93cffedf0e6`.
    pub id: &'static str,
    /// Its display name, shortened.
    pub name: &'static str,
}

impl PolicyDefinition {
    /// The definition's resource id, as Azure Policy names built-ins.
    pub fn resource_id(&self) -> String {
        format!(
            "/providers/Microsoft.Authorization/policyDefinitions/{}",
            self.id
        )
    }
}

macro_rules! kinds {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $id:literal, item $item:literal, $severity:ident,
        policy $policy:expr,
        title $title:literal,
        help $help:literal;
    )*) => {
        /// What a finding is about; its [`id`](Self::id) is stable across releases (it names
        /// the SARIF rule and goes into every fingerprint).
        ///
        /// The kinds answer the items of the audit's issue (14) one for one, except that item 8
        /// (the firewall) has an info kind of its own for the documentation caveat, item 10
        /// (purge protection, soft delete) and item 11 (expiry, key size, rotation) have one kind
        /// per Azure Policy built-in: [`issue_item`](Self::issue_item) gives the item.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        #[non_exhaustive]
        pub enum FindingKind {
            $( $(#[$doc])* $variant, )*
        }

        impl FindingKind {
            /// Every kind, in the issue's order.
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$variant),*];

            /// The stable id, kebab-case (`group-without-cmk`): the SARIF rule id.
            pub fn id(self) -> &'static str {
                match self { $(FindingKind::$variant => $id,)* }
            }

            /// The item of the issue's list (1 to 15) this kind answers.
            pub fn issue_item(self) -> u8 {
                match self { $(FindingKind::$variant => $item,)* }
            }

            /// The severity a finding of this kind usually has (some findings are raised or
            /// lowered by what was found: see each kind).
            pub fn default_severity(self) -> Severity {
                match self { $(FindingKind::$variant => Severity::$severity,)* }
            }

            /// The Azure Policy built-in this kind corresponds to, where there is one.
            pub fn policy(self) -> Option<PolicyDefinition> {
                match self { $(FindingKind::$variant => $policy,)* }
            }

            /// A short title.
            pub fn title(self) -> &'static str {
                match self { $(FindingKind::$variant => $title,)* }
            }

            /// What the finding means and why it matters (the SARIF rule's help text).
            pub fn help(self) -> &'static str {
                match self { $(FindingKind::$variant => $help,)* }
            }
        }
    };
}

const fn policy(id: &'static str, name: &'static str) -> Option<PolicyDefinition> {
    Some(PolicyDefinition { id, name })
}

kinds! {
    /// 1. A container group without a customer-managed key.
    GroupWithoutCmk = "group-without-cmk", item 1, High,
        policy policy("0aa61e00-0a01-4a3c-9945-e93cffedf0e6", "Azure Container Instance container group should use customer-managed key for encryption"),
        title "container group without a customer-managed key",
        help "The group's data is encrypted with a Microsoft-managed key: it has no encryptionProperties (vaultBaseUrl, keyName, keyVersion). Encryption is fixed at creation, so bringing the group under a customer-managed key means re-creating it.";
    /// 2. The key version a group pins is disabled, expired, not yet valid, refuses unwrap, or
    /// is gone.
    KeyVersionUnusable = "key-version-unusable", item 2, Critical,
        policy None,
        title "the group's key version is unusable",
        help "ACI unwraps the group's data key with the exact key version in encryptionProperties.keyVersion. A disabled, expired (exp passed), not yet valid (nbf ahead), unwrap-less or deleted version makes the group unable to restart and its data unreadable until the version is usable again.";
    /// 3. The group's key version expires within the warning window.
    KeyVersionExpiresSoon = "key-version-expires-soon", item 3, Medium,
        policy None,
        title "the group's key version expires soon",
        help "When the pinned key version's exp passes, ACI can no longer unwrap the group's data key: the group cannot restart. Extend the version's expiry, or re-create the group on a newer version before then.";
    /// 4. A newer usable version of the group's key exists (info when a spec pins the version).
    StaleKeyVersion = "stale-key-version", item 4, Low,
        policy None,
        title "the group is on a stale key version",
        help "Rotation creates new key versions, but a group keeps the version it was created with (encryption cannot change after creation). A group left on an old version misses the rotation's protection and fails when that version expires. Info only when a deployment spec pins the version on purpose.";
    /// 5. The principal that unwraps lacks `get` or `unwrapKey`.
    UnwrapPermissionMissing = "unwrap-permission-missing", item 5, Critical,
        policy None,
        title "the unwrapping principal lacks get or unwrapKey",
        help "ACI reads the key (get, Microsoft.KeyVault/vaults/keys/read) and unwraps the data key (unwrapKey, Microsoft.KeyVault/vaults/keys/unwrap/action) as the ACI first-party service principal or as the group's encryption identity. Without both, the group cannot restart. On an RBAC vault the roles' data actions decide, not their names.";
    /// 6. The ACI first-party service principal is missing from the tenant.
    AciServicePrincipalMissing = "aci-service-principal-missing", item 6, Low,
        policy None,
        title "the ACI first-party service principal is missing",
        help "The standard flow (no encryption identity) needs the service principal of the 'Azure Container Instance Service' application (appId 6bb8e274-af5d-4df2-98a3-4fd78b4cafd9) in the tenant, holding get and unwrapKey on the vault. Critical when a group relies on it.";
    /// 7. The encryption identity is deleted, or not listed in the group's `identity` block.
    EncryptionIdentityBroken = "encryption-identity-broken", item 7, Critical,
        policy None,
        title "the encryption identity is deleted or not assigned",
        help "A group whose encryptionProperties.identity names a user-assigned identity reaches the key as that identity, which must exist and be one of the group's identity.userAssignedIdentities. A deleted identity cannot be brought back: its principal id is gone with it.";
    /// 8. The vault firewall keeps ACI from the key.
    FirewallBlocksAci = "firewall-blocks-aci", item 8, Critical,
        policy None,
        title "the vault firewall keeps ACI from the key",
        help "A vault whose firewall denies by default (networkAcls.defaultAction Deny) or whose publicNetworkAccess is Disabled lets ACI through only as a trusted service: with networkAcls.bypass AzureServices and an encryption identity. Without the bypass, or in the standard flow (the first-party principal is not a trusted service), ACI cannot reach the key.";
    /// 8 (info). The trusted-services caveat of a vault that relies on the bypass.
    TrustedServicesCaveat = "trusted-services-caveat", item 8, Info,
        policy None,
        title "ACI relies on a trusted-services bypass Key Vault does not document for it",
        help "Key Vault's list of trusted services (its documentation of 2024 and 2026) does not name Azure Container Instances, while ACI's own documentation relies on networkAcls.bypass AzureServices for a firewalled vault. Groups on this vault depend on that bypass: re-check them after any firewall change.";
    /// 9. The vault firewall is open to all networks.
    VaultOpenToAllNetworks = "vault-open-to-all-networks", item 9, Medium,
        policy policy("55615ac9-af46-4a59-874e-391cc3dfb490", "Azure Key Vault should have firewall enabled or public network access disabled"),
        title "the vault is open to all networks",
        help "The vault accepts data-plane requests from any network (networkAcls.defaultAction Allow, or no firewall, and public network access enabled). The network-protected flow denies by default and lets ACI through as a trusted service.";
    /// 10. The vault has no purge protection.
    VaultWithoutPurgeProtection = "vault-without-purge-protection", item 10, Medium,
        policy policy("0b60c0b2-2dc2-4e1c-b5c9-abbed971de53", "Key vaults should have deletion protection enabled"),
        title "the vault has no purge protection",
        help "Without purge protection a deleted vault or key can be purged before its retention ends, and with it every group's data encrypted under the key. Purge protection can be switched on (never off).";
    /// 10. The vault has soft delete off.
    VaultWithoutSoftDelete = "vault-without-soft-delete", item 10, High,
        policy policy("1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d", "Key vaults should have soft delete enabled"),
        title "the vault has soft delete off",
        help "Without soft delete a deleted vault or key is gone at once, and the data of every group encrypted under it with it.";
    /// 11. The key has no expiration date.
    KeyWithoutExpiration = "key-without-expiration", item 11, Low,
        policy policy("152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0", "Key Vault keys should have an expiration date"),
        title "the key has no expiration date",
        help "The key's current version has no exp: nothing bounds how long it is used. Set an expiry (and a rotation policy whose expiryTime gives each new version one).";
    /// 11. The RSA key is smaller than the configured minimum.
    RsaKeyTooSmall = "rsa-key-too-small", item 11, Medium,
        policy policy("82067dbb-e53b-4e06-b631-546d197452d9", "Keys using RSA cryptography should have a specified minimum key size"),
        title "the RSA key is smaller than the minimum size",
        help "The key's current version is an RSA key smaller than the configured minimum (2048 bits by default; 3072 recommended). A new version of a larger size is a rotation away; groups move to it when re-created.";
    /// 11. The key has no rotation policy, or one that rotates later than allowed.
    RotationPolicyMissingOrLate = "rotation-policy-missing-or-late", item 11, Low,
        policy policy("d8cf8476-a2ec-4916-896e-992351803c44", "Keys should have a rotation policy ensuring that their rotation is scheduled within the specified number of days after creation"),
        title "the key has no rotation policy, or rotates too late",
        help "The key's rotation policy has no Rotate action (Key Vault's default policy only notifies), or rotates more than the configured number of days (90 by default) after a version is created.";
    /// 12. The vault authorizes with access policies, not Azure RBAC.
    VaultInAccessPolicyMode = "vault-in-access-policy-mode", item 12, Info,
        policy policy("12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5", "Azure Key Vault should use RBAC permission model"),
        title "the vault uses access policies, not Azure RBAC",
        help "Access policies grant per vault and are changed by anyone with vault write access; Azure RBAC grants per key or vault through role assignments with their own audit trail.";
    /// 13. A group names a vault that is soft-deleted or gone.
    VaultMissing = "vault-missing", item 13, Critical,
        policy None,
        title "the group's vault is soft-deleted or gone",
        help "The vault named in encryptionProperties.vaultBaseUrl is not among the subscription's vaults: soft-deleted (recoverable until its scheduled purge date, with its keys and access policies) or gone (purged, or never in this subscription and not reachable). The group cannot restart.";
    /// 14. A plain environment value whose name looks like a secret.
    PlainSecretEnvironmentValue = "plain-secret-environment-value", item 14, High,
        policy None,
        title "a secret-looking environment variable has a plain value",
        help "A container's environment variable whose name looks like a secret (PASSWORD, SECRET, TOKEN, KEY, CONNECTION_STRING, ...) is set with value, which ARM returns to anyone who can read the group, instead of secureValue, which it never returns. The audit names the variable, never its value.";
    /// 15. More principals than the groups need hold `unwrapKey` on a CMK vault.
    ExcessUnwrapPrincipals = "excess-unwrap-principals", item 15, Info,
        policy None,
        title "more principals than needed can unwrap with the vault's keys",
        help "Principals other than the ones the vault's container groups unwrap as (the ACI first-party service principal, the encryption identities) and those the audit was told to allow hold unwrapKey (access policy) or an unwrap data action (role) on the vault: each can decrypt the groups' data keys.";
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_the_serde_names() {
        let mut ids: Vec<&str> = FindingKind::ALL.iter().map(|k| k.id()).collect();
        for kind in FindingKind::ALL {
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json, serde_json::json!(kind.id()), "{kind:?}");
            assert!(
                kind.id()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{kind:?}"
            );
            assert!(!kind.help().is_empty() && !kind.title().is_empty());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FindingKind::ALL.len());
    }

    #[test]
    fn every_issue_item_has_a_kind_and_the_issue_gives_the_policy_ids() {
        for item in 1..=15 {
            assert!(
                FindingKind::ALL.iter().any(|k| k.issue_item() == item),
                "item {item}"
            );
        }
        let policies: Vec<(&str, &str)> = FindingKind::ALL
            .iter()
            .filter_map(|k| k.policy().map(|p| (k.id(), p.id)))
            .collect();
        assert_eq!(
            policies,
            [
                ("group-without-cmk", "0aa61e00-0a01-4a3c-9945-e93cffedf0e6"),
                (
                    "vault-open-to-all-networks",
                    "55615ac9-af46-4a59-874e-391cc3dfb490"
                ),
                (
                    "vault-without-purge-protection",
                    "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53"
                ),
                (
                    "vault-without-soft-delete",
                    "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d"
                ),
                (
                    "key-without-expiration",
                    "152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0"
                ),
                ("rsa-key-too-small", "82067dbb-e53b-4e06-b631-546d197452d9"),
                (
                    "rotation-policy-missing-or-late",
                    "d8cf8476-a2ec-4916-896e-992351803c44"
                ),
                (
                    "vault-in-access-policy-mode",
                    "12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5"
                ),
            ]
        );
    }

    #[test]
    fn severities_order_parse_and_map_to_sarif_levels() {
        assert!(Severity::ALL.windows(2).all(|w| w[0] < w[1]));
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().ok(), Some(s));
            assert_eq!(s.as_str().to_uppercase().parse::<Severity>().ok(), Some(s));
        }
        assert!("severe".parse::<Severity>().is_err());
        let levels: Vec<&str> = Severity::ALL.iter().map(|s| s.sarif_level()).collect();
        assert_eq!(levels, ["note", "warning", "warning", "error", "error"]);
    }
}
