//! The customer-managed-key rules, and key access as ACI does it.
//!
//! Without `encryptionProperties.identity`, the service acts as the ACI first-party service
//! principal: it must exist in the tenant and hold `get` and `unwrapKey` on the vault; it is not
//! a trusted service at the firewall. With an identity, that user-assigned identity must hold
//! them, and the call passes a firewall whose bypass is `AzureServices`. The service fetches the
//! public key with `get` and wraps the data key locally, and unwraps through the vault.

use super::body::{EncryptionSpec, GroupSpec};
use super::errors::{self, AciError, bad};
use super::sealing::DataKey;
use crate::context::Shared;
use crate::graph::directory;
use crate::keyvault_data::access::Caller;
use crate::keyvault_data::api as data;
use crate::store::Tables;

/// The algorithm the service wraps data keys with.
pub const WRAP_ALG: &str = "RSA-OAEP-256";

fn api_at_least(api: &str, min: &str) -> bool {
    api.get(..10).unwrap_or(api) >= min
}

/// Where the customer key lives and who reaches it.
#[derive(Debug, Clone)]
pub struct KeyAccess {
    /// The vault name.
    pub vault: String,
    /// The key name.
    pub key: String,
    /// The key version.
    pub version: String,
    /// Who acts.
    pub caller: Caller,
    /// For messages: "the ACI first-party service principal" or "identity …".
    pub principal_desc: String,
}

/// The vault name in `vault_base_url`, if it is one of this emulator's vaults
/// (`https://{vault}.vault.localhost:{port}`, any trailing slash).
pub fn vault_of(state: &Shared, vault_base_url: &str) -> Option<String> {
    let url = url::Url::parse(vault_base_url).ok()?;
    if url.scheme() != "https" || !(url.path() == "/" || url.path().is_empty()) {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let suffix = ".vault.localhost";
    let name = host.strip_suffix(suffix)?;
    let port_ok = url.port() == Some(state.config.port);
    (port_ok && !name.is_empty() && !name.contains('.')).then(|| name.to_owned())
}

/// The static rules, checked on the request itself (before any key access).
pub fn check_rules(spec: &GroupSpec, api_version: &str) -> Result<(), AciError> {
    let Some(enc) = &spec.encryption else {
        return Ok(());
    };
    if !api_at_least(api_version, "2019-12-01") {
        return Err(bad(
            errors::ENCRYPTION_NOT_SUPPORTED,
            format!(
                "encryptionProperties needs api-version 2019-12-01 or later; the request used {api_version}."
            ),
        ));
    }
    if enc.identity.is_some() && !api_at_least(api_version, "2022-09-01") {
        return Err(bad(
            errors::ENCRYPTION_IDENTITY_NOT_SUPPORTED,
            format!(
                "encryptionProperties.identity needs api-version 2022-09-01 or later; the request used {api_version}."
            ),
        ));
    }
    // A missing sku is Standard, as Azure defaults it; only another sku is refused.
    if spec.sku.as_deref().unwrap_or("Standard") != "Standard" {
        return Err(bad(
            errors::ENCRYPTION_NEEDS_STANDARD_SKU,
            format!(
                "A customer-managed key needs properties.sku 'Standard'; the request has '{}'.",
                spec.sku.as_deref().unwrap_or_default()
            ),
        ));
    }
    if let Some(identity) = &enc.identity {
        let listed = spec.identity.as_ref().is_some_and(|i| {
            i.has_user_assigned()
                && i.user_assigned
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(identity))
        });
        if !listed {
            return Err(bad(
                errors::ENCRYPTION_IDENTITY_NOT_ASSIGNED,
                format!(
                    "encryptionProperties.identity '{identity}' must also be one of the group's identity.userAssignedIdentities (identity type UserAssigned)."
                ),
            ));
        }
    }
    if enc.key_version.len() != 32 || !enc.key_version.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            errors::KEY_NOT_FOUND,
            format!(
                "encryptionProperties.keyVersion '{}' is not a key version: give the 32-character version of the key.",
                enc.key_version
            ),
        ));
    }
    Ok(())
}

/// Who acts on the key for `enc`, and where the key is.
pub fn key_access(
    state: &Shared,
    st: &Tables,
    enc: &EncryptionSpec,
) -> Result<KeyAccess, AciError> {
    let vault = vault_of(state, &enc.vault_base_url).ok_or_else(|| {
        bad(
            errors::KEY_VAULT_NOT_FOUND,
            format!(
                "encryptionProperties.vaultBaseUrl '{}' is not a vault of this emulator: use the vault's vaultUri (https://{{vault}}.{}).",
                enc.vault_base_url,
                state.config.keyvault_dns_suffix()
            ),
        )
    })?;
    let tenant = state.config.tenant().to_owned();
    let (caller, principal_desc) = match &enc.identity {
        None => {
            let sp = directory::principal_by_app_id(st, directory::ACI_APP_ID).ok_or_else(|| {
                bad(
                    errors::ACI_PRINCIPAL_NOT_FOUND,
                    format!(
                        "The '{}' service principal (appId {}) does not exist in tenant {tenant}: create it (az ad sp create --id {}) and grant it get and unwrapKey on the vault.",
                        directory::ACI_APP_NAME,
                        directory::ACI_APP_ID,
                        directory::ACI_APP_ID
                    ),
                )
            })?;
            (
                Caller {
                    object_id: sp.object_id.clone(),
                    app_id: directory::ACI_APP_ID.to_owned(),
                    tenant_id: tenant,
                    client_ip: None,
                    trusted_service: false,
                },
                format!(
                    "The ACI first-party service principal (object id {})",
                    sp.object_id
                ),
            )
        }
        Some(id) => {
            let identity = crate::managed_identity::find(st, id).ok_or_else(|| {
                bad(
                    errors::IDENTITY_NOT_FOUND,
                    format!("The user-assigned identity '{id}' does not exist."),
                )
            })?;
            (
                Caller {
                    object_id: identity.principal_id.clone(),
                    app_id: identity.client_id.clone(),
                    tenant_id: tenant,
                    client_ip: None,
                    trusted_service: true,
                },
                format!(
                    "Identity '{}' (principal id {})",
                    identity.name, identity.principal_id
                ),
            )
        }
    };
    Ok(KeyAccess {
        vault,
        key: enc.key_name.clone(),
        version: enc.key_version.clone(),
        caller,
        principal_desc,
    })
}

impl KeyAccess {
    fn kv_error(&self, e: &crate::keyvault_data::access::KvError) -> AciError {
        errors::from_key_vault(e, &self.principal_desc, &self.vault, &self.key)
    }

    /// Generates a data key and wraps it as ACI does (get the public key, wrap locally), then
    /// proves the unwrap works — so a group is only created when the service can read it back.
    pub fn new_data_key(&self, state: &Shared) -> Result<(DataKey, Vec<u8>), AciError> {
        let key = DataKey::generate().map_err(|m| bad("InternalServerError", m))?;
        let (_, wrapped) = data::get_public_key_and_wrap(
            state,
            &self.caller,
            &self.vault,
            &self.key,
            &self.version,
            WRAP_ALG,
            key.bytes(),
        )
        .map_err(|e| self.kv_error(&e))?;
        self.unwrap(state, &wrapped)?;
        Ok((key, wrapped))
    }

    /// Unwraps a data key through the vault, as the acting principal.
    pub fn unwrap(&self, state: &Shared, wrapped: &[u8]) -> Result<DataKey, AciError> {
        let bytes = data::authorize_and_unwrap(
            state,
            &self.caller,
            &self.vault,
            &self.key,
            &self.version,
            WRAP_ALG,
            wrapped,
        )
        .map_err(|e| self.kv_error(&e))?;
        DataKey::from_bytes(&bytes).map_err(|m| bad("InternalServerError", m))
    }
}
