//! Key Vault data-plane authorization, as Azure does it: network (public network access,
//! firewall with the trusted-services bypass), then access policies or RBAC role assignments.
//! The vault's creator has no data-plane access unless granted.

use std::net::IpAddr;

use http::StatusCode;

use crate::keyvault_management::records::{Vault, cidr_contains};
use crate::store::Tables;

/// Who calls Key Vault, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Object id of the principal (`oid`).
    pub object_id: String,
    /// Application (client) id (`appid`).
    pub app_id: String,
    /// Tenant of the caller's token.
    pub tenant_id: String,
    /// The client address seen by the vault (`None` for in-process callers without one).
    pub client_ip: Option<IpAddr>,
    /// The request comes from a trusted Azure service acting with a user-assigned identity
    /// (e.g. ACI fetching its CMK with `encryptionProperties.identity`). Only in-process callers
    /// can set this; it lets the request through the firewall when `bypass` is `AzureServices`.
    pub trusted_service: bool,
}

impl Caller {
    fn describe(&self) -> String {
        format!(
            "appid={};oid={};iss=https://sts.windows.net/{}/",
            self.app_id, self.object_id, self.tenant_id
        )
    }
}

/// A data-plane key operation, with its access-policy permission and RBAC data action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyOp {
    /// Create a key (or a new version).
    Create,
    /// Read a key.
    Get,
    /// List keys or versions.
    List,
    /// Update attributes.
    Update,
    /// Delete (soft).
    Delete,
    /// Read a deleted key.
    GetDeleted,
    /// List deleted keys.
    ListDeleted,
    /// Recover a deleted key.
    Recover,
    /// Purge a deleted key.
    Purge,
    /// Wrap.
    WrapKey,
    /// Unwrap.
    UnwrapKey,
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// Rotate.
    Rotate,
    /// Read the rotation policy.
    GetRotationPolicy,
    /// Write the rotation policy.
    SetRotationPolicy,
}

impl KeyOp {
    /// Access-policy permission name.
    pub fn permission(self) -> &'static str {
        match self {
            KeyOp::Create => "create",
            KeyOp::Get | KeyOp::GetDeleted => "get",
            KeyOp::List | KeyOp::ListDeleted => "list",
            KeyOp::Update => "update",
            KeyOp::Delete => "delete",
            KeyOp::Recover => "recover",
            KeyOp::Purge => "purge",
            KeyOp::WrapKey => "wrapKey",
            KeyOp::UnwrapKey => "unwrapKey",
            KeyOp::Encrypt => "encrypt",
            KeyOp::Decrypt => "decrypt",
            KeyOp::Rotate => "rotate",
            KeyOp::GetRotationPolicy => "getrotationpolicy",
            KeyOp::SetRotationPolicy => "setrotationpolicy",
        }
    }

    /// RBAC data action.
    pub fn data_action(self) -> &'static str {
        match self {
            KeyOp::Create => "Microsoft.KeyVault/vaults/keys/create/action",
            KeyOp::Get | KeyOp::List | KeyOp::GetDeleted | KeyOp::ListDeleted => {
                "Microsoft.KeyVault/vaults/keys/read"
            }
            KeyOp::Update => "Microsoft.KeyVault/vaults/keys/update/action",
            KeyOp::Delete => "Microsoft.KeyVault/vaults/keys/delete",
            KeyOp::Recover => "Microsoft.KeyVault/vaults/keys/recover/action",
            KeyOp::Purge => "Microsoft.KeyVault/vaults/keys/purge/action",
            KeyOp::WrapKey => "Microsoft.KeyVault/vaults/keys/wrap/action",
            KeyOp::UnwrapKey => "Microsoft.KeyVault/vaults/keys/unwrap/action",
            KeyOp::Encrypt => "Microsoft.KeyVault/vaults/keys/encrypt/action",
            KeyOp::Decrypt => "Microsoft.KeyVault/vaults/keys/decrypt/action",
            KeyOp::Rotate => "Microsoft.KeyVault/vaults/keys/rotate/action",
            KeyOp::GetRotationPolicy => "Microsoft.KeyVault/vaults/keyrotationpolicies/read",
            KeyOp::SetRotationPolicy => "Microsoft.KeyVault/vaults/keyrotationpolicies/write",
        }
    }
}

/// Why Key Vault refused an operation with 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForbiddenReason {
    /// Access policy lacks the permission (`ForbiddenByPolicy`).
    Policy,
    /// No role assignment grants the data action (`ForbiddenByRbac`).
    Rbac,
    /// Firewall refused the client address (`ForbiddenByFirewall`).
    Firewall,
    /// Public network access is disabled (`ForbiddenByConnection`).
    PublicNetworkDisabled,
    /// The key is disabled (`KeyDisabled`).
    KeyDisabled,
    /// The key has expired (`KeyExpired`).
    KeyExpired,
    /// The key is not yet valid (`KeyNotYetValid`).
    KeyNotYetValid,
    /// The key's `key_ops` do not allow the operation (no inner code, as Azure).
    OperationNotAllowed,
    /// Purge refused under purge protection (`PurgeProtectionEnabled`).
    PurgeProtected,
}

impl ForbiddenReason {
    /// The `innererror.code`.
    pub fn inner_code(self) -> Option<&'static str> {
        match self {
            ForbiddenReason::Policy => Some("ForbiddenByPolicy"),
            ForbiddenReason::Rbac => Some("ForbiddenByRbac"),
            ForbiddenReason::Firewall => Some("ForbiddenByFirewall"),
            ForbiddenReason::PublicNetworkDisabled => Some("ForbiddenByConnection"),
            ForbiddenReason::KeyDisabled => Some("KeyDisabled"),
            ForbiddenReason::KeyExpired => Some("KeyExpired"),
            ForbiddenReason::KeyNotYetValid => Some("KeyNotYetValid"),
            ForbiddenReason::OperationNotAllowed => None,
            ForbiddenReason::PurgeProtected => Some("PurgeProtectionEnabled"),
        }
    }
}

/// A Key Vault data-plane error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// 401 `Unauthorized`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `Forbidden` with a reason.
    #[error("{message}")]
    Forbidden {
        /// Why.
        reason: ForbiddenReason,
        /// Message.
        message: String,
    },
    /// 404 `KeyNotFound`.
    #[error("{0}")]
    KeyNotFound(String),
    /// 404 for a vault that does not exist.
    #[error("{0}")]
    VaultNotFound(String),
    /// 400 `BadParameter`.
    #[error("{0}")]
    BadParameter(String),
    /// 409 `Conflict` with inner `ObjectIsDeletedButRecoverable`.
    #[error("{0}")]
    DeletedButRecoverable(String),
    /// 500.
    #[error("{0}")]
    Internal(String),
}

impl KvError {
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            KvError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            KvError::Forbidden { .. } => StatusCode::FORBIDDEN,
            KvError::KeyNotFound(_) | KvError::VaultNotFound(_) => StatusCode::NOT_FOUND,
            KvError::BadParameter(_) => StatusCode::BAD_REQUEST,
            KvError::DeletedButRecoverable(_) => StatusCode::CONFLICT,
            KvError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            KvError::Unauthorized(_) => "Unauthorized",
            KvError::Forbidden { .. } => "Forbidden",
            KvError::KeyNotFound(_) => "KeyNotFound",
            KvError::VaultNotFound(_) => "VaultNotFound",
            KvError::BadParameter(_) => "BadParameter",
            KvError::DeletedButRecoverable(_) => "Conflict",
            KvError::Internal(_) => "InternalServerError",
        }
    }

    /// `error.innererror.code`.
    pub fn inner_code(&self) -> Option<&'static str> {
        match self {
            KvError::Forbidden { reason, .. } => reason.inner_code(),
            KvError::DeletedButRecoverable(_) => Some("ObjectIsDeletedButRecoverable"),
            _ => None,
        }
    }

    /// The error as a data-plane response.
    pub fn into_reply(self) -> crate::reply::Reply {
        crate::reply::kv_error(
            self.status(),
            self.code(),
            self.to_string(),
            self.inner_code(),
        )
    }
}

fn vault_desc(v: &Vault) -> String {
    format!(
        "{};location={}",
        v.name.to_ascii_lowercase(),
        crate::arm::request::norm_location(&v.location)
    )
}

/// Network checks: public network access and the firewall.
pub fn check_network(vault: &Vault, caller: &Caller) -> Result<(), KvError> {
    let acls = vault.props.network_acls.as_ref();
    let bypass = acls.map(|a| a.bypass.as_str()).unwrap_or("AzureServices");
    let trusted_ok = caller.trusted_service && bypass.eq_ignore_ascii_case("AzureServices");
    let addr = caller
        .client_ip
        .map(|i| i.to_string())
        .unwrap_or_else(|| "(none)".to_owned());
    if vault
        .props
        .public_network_access
        .eq_ignore_ascii_case("Disabled")
        && !trusted_ok
    {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::PublicNetworkDisabled,
            message: format!(
                "Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: {}\r\nVault: {}",
                caller.describe(),
                vault_desc(vault)
            ),
        });
    }
    if let Some(a) = acls
        && a.default_action.eq_ignore_ascii_case("Deny")
        && !trusted_ok
    {
        {
            let allowed = caller
                .client_ip
                .is_some_and(|ip| a.ip_rules.iter().any(|r| cidr_contains(r, ip)));
            if !allowed {
                return Err(KvError::Forbidden {
                    reason: ForbiddenReason::Firewall,
                    message: format!(
                        "Client address is not authorized and caller is not a trusted service.\r\nClient address: {addr}\r\nCaller: {}\r\nVault: {}",
                        caller.describe(),
                        vault_desc(vault)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Full authorization of `op` on `key` for `caller`: tenant, network, then policy or RBAC.
/// `replication_delay_ms`: principals younger than this are unknown (no grant applies).
pub fn authorize(
    st: &Tables,
    vault: &Vault,
    caller: &Caller,
    op: KeyOp,
    key: Option<&str>,
    replication_delay_ms: u64,
    now_ms: i64,
) -> Result<(), KvError> {
    if !caller
        .tenant_id
        .eq_ignore_ascii_case(&vault.props.tenant_id)
    {
        return Err(KvError::Unauthorized(format!(
            "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found https://sts.windows.net/{}/.",
            vault.props.tenant_id, caller.tenant_id
        )));
    }
    check_network(vault, caller)?;
    let known =
        crate::graph::directory::is_replicated(st, &caller.object_id, replication_delay_ms, now_ms);
    if vault.props.enable_rbac_authorization {
        let mut resource = vault.id();
        if let Some(k) = key {
            resource.push_str("/keys/");
            resource.push_str(k);
        }
        let ok = known
            && crate::authorization::records::rbac_allows(
                st,
                &caller.object_id,
                &resource,
                op.data_action(),
            );
        if !ok {
            return Err(KvError::Forbidden {
                reason: ForbiddenReason::Rbac,
                message: format!(
                    "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {}\r\nAction: '{}'\r\nResource: '{}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {}\r\n",
                    caller.describe(),
                    op.data_action(),
                    resource.to_ascii_lowercase(),
                    vault_desc(vault)
                ),
            });
        }
        return Ok(());
    }
    let perm = op.permission();
    let ok = known
        && vault.props.access_policies.iter().any(|p| {
            p.object_id.eq_ignore_ascii_case(&caller.object_id)
                && p.tenant_id.eq_ignore_ascii_case(&vault.props.tenant_id)
                && p.application_id.is_none()
                && p.permissions
                    .keys
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(perm) || k.eq_ignore_ascii_case("all"))
        });
    if ok {
        Ok(())
    } else {
        Err(KvError::Forbidden {
            reason: ForbiddenReason::Policy,
            message: format!(
                "The user, group or application '{}' does not have keys {perm} permission on key vault '{}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                caller.describe(),
                vault_desc(vault)
            ),
        })
    }
}
