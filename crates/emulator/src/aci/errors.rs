//! The errors of the Container Instances provider. Azure documents no codes for broken
//! customer-managed-key rules, so these are the emulator's own, stable and listed in the crate
//! README; each message says what to change.

use http::StatusCode;

use crate::arm::error::ArmError;
use crate::keyvault_data::access::{ForbiddenReason, KvError};

/// The provider's error: an ARM error.
pub type AciError = ArmError;

/// 400 with `code`.
pub fn bad(code: &str, message: impl Into<String>) -> AciError {
    ArmError::bad(code, message)
}

/// `encryptionProperties` on an api-version before 2019-12-01.
pub const ENCRYPTION_NOT_SUPPORTED: &str = "EncryptionPropertiesNotSupportedInApiVersion";
/// `encryptionProperties.identity` on an api-version before 2022-09-01.
pub const ENCRYPTION_IDENTITY_NOT_SUPPORTED: &str = "EncryptionIdentityNotSupportedInApiVersion";
/// Encryption with a sku other than Standard.
pub const ENCRYPTION_NEEDS_STANDARD_SKU: &str = "EncryptionRequiresStandardSku";
/// `encryptionProperties.identity` not among the group's user-assigned identities.
pub const ENCRYPTION_IDENTITY_NOT_ASSIGNED: &str = "EncryptionIdentityNotAssigned";
/// `vaultBaseUrl` names no vault of this emulator.
pub const KEY_VAULT_NOT_FOUND: &str = "KeyVaultNotFound";
/// The key or key version does not exist.
pub const KEY_NOT_FOUND: &str = "KeyVaultKeyNotFound";
/// The key is disabled, expired or not yet valid.
pub const KEY_NOT_USABLE: &str = "KeyVaultKeyNotUsable";
/// The ACI first-party service principal does not exist in the tenant.
pub const ACI_PRINCIPAL_NOT_FOUND: &str = "AciServicePrincipalNotFound";
/// The acting principal lacks `get` or `unwrapKey` (access policy or RBAC).
pub const KEY_VAULT_ACCESS_DENIED: &str = "KeyVaultAccessDenied";
/// The vault firewall (or disabled public access) refused the service.
pub const KEY_VAULT_FIREWALL: &str = "KeyVaultFirewallDenied";
/// A PUT tried to change the encryption properties of an existing group.
pub const ENCRYPTION_IMMUTABLE: &str = "EncryptionPropertiesCannotBeChanged";
/// A user-assigned identity named by the group does not exist.
pub const IDENTITY_NOT_FOUND: &str = "UserAssignedIdentityNotFound";
/// A PATCH names a location other than the group's. ACI's own code for it is in no recording;
/// this is ARM's code for a resource addressed in a location other than its own.
pub const LOCATION_MISMATCH: &str = "InvalidResourceLocation";

/// Turns a Key Vault refusal met while acting as `principal` into the provider's error.
pub fn from_key_vault(e: &KvError, principal: &str, vault: &str, key: &str) -> AciError {
    match e {
        KvError::Forbidden { reason, message } => match reason {
            ForbiddenReason::Firewall | ForbiddenReason::PublicNetworkDisabled => bad(
                KEY_VAULT_FIREWALL,
                format!(
                    "Key vault '{vault}' refused {} at its firewall. The ACI first-party service principal cannot pass a vault firewall: use a user-assigned identity in encryptionProperties.identity (api-version 2022-09-01 or later) and set the vault's networkAcls.bypass to AzureServices. Key Vault said: {message}",
                    mid_sentence(principal)
                ),
            ),
            ForbiddenReason::KeyDisabled
            | ForbiddenReason::KeyExpired
            | ForbiddenReason::KeyNotYetValid => bad(
                KEY_NOT_USABLE,
                format!(
                    "Key '{key}' in vault '{vault}' cannot be used: {}. Enable it or choose a valid key version.",
                    message.trim_end_matches('.')
                ),
            ),
            _ => ArmError::new(
                StatusCode::BAD_REQUEST,
                KEY_VAULT_ACCESS_DENIED,
                format!(
                    "{principal} has no 'get' and 'unwrapKey' access to key '{key}' in vault '{vault}'. Grant both key permissions with an access policy (or the 'Key Vault Crypto Service Encryption User' role on an RBAC vault); a principal created moments ago may still be replicating. Key Vault said: {message}"
                ),
            ),
        },
        KvError::KeyNotFound(m) => bad(
            KEY_NOT_FOUND,
            format!("Key '{key}' was not found in vault '{vault}': {m}"),
        ),
        KvError::VaultNotFound(_) => bad(
            KEY_VAULT_NOT_FOUND,
            format!("Key vault '{vault}' does not exist (or is soft-deleted)."),
        ),
        other => bad(
            "KeyVaultError",
            format!("Key vault '{vault}' refused the request: {other}"),
        ),
    }
}

/// A principal's description as it reads inside a sentence ("the ACI first-party …").
fn mid_sentence(principal: &str) -> String {
    let mut chars = principal.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A request property the emulator does not emulate (refused rather than dropped).
pub const PROPERTY_NOT_EMULATED: &str = "PropertyNotEmulated";

/// 400 [`PROPERTY_NOT_EMULATED`] naming the property at `path`.
pub fn not_emulated(path: &str) -> AciError {
    bad(
        PROPERTY_NOT_EMULATED,
        format!(
            "'{path}' is not emulated: the emulator refuses it rather than ignore it, so that a test passing here does not fail on Azure. Remove it to test against the emulator."
        ),
    )
}
