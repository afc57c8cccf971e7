//! The data plane's in-process API, for the emulated services that use a vault's keys as
//! Azure does (ACI wraps and unwraps its data key): the same authorization and usability
//! checks as an HTTP request, with the caller's identity given in process.

use super::access::{Caller, ForbiddenReason, KeyOp, KvError, authorize};
use super::crypto::{self, WrapAlg};
use super::records::{B64URL, KeyRecord, KeyVersion, key_id};
use crate::context::{Ctx, Shared};
use crate::keyvault_management::records::Vault;
use crate::store::Tables;
use base64::Engine;

pub fn key_not_found(name: &str) -> KvError {
    KvError::KeyNotFound(format!(
        "A key with (name/id) {name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    ))
}

pub fn check_usable(k: &KeyVersion, op: KeyOp, name: &str, now: i64) -> Result<(), KvError> {
    let perm = op.permission();
    if !k.enabled {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyDisabled,
            message: format!("Operation {perm} is not allowed on a disabled key."),
        });
    }
    if k.exp.is_some_and(|e| e <= now) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyExpired,
            message: format!("Operation {perm} is not allowed on an expired key."),
        });
    }
    if k.nbf.is_some_and(|n| n > now) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::KeyNotYetValid,
            message: format!("Operation {perm} is not allowed on a key that is not yet valid."),
        });
    }
    if !k.key_ops.iter().any(|o| o.eq_ignore_ascii_case(perm)) {
        return Err(KvError::Forbidden {
            reason: ForbiddenReason::OperationNotAllowed,
            message: format!(
                "Operation is not allowed.\r\nOperation: \"{perm}\"\r\nKey: {name}/{}",
                k.version
            ),
        });
    }
    Ok(())
}

pub fn live_vault(st: &Tables, vault: &str) -> Result<Vault, KvError> {
    st.table::<Vault>()
        .get(&vault.to_ascii_lowercase())
        .filter(|v| v.deleted.is_none())
        .cloned()
        .ok_or_else(|| KvError::VaultNotFound(format!("The vault '{vault}' does not exist.")))
}

/// The private key (PKCS#8 DER) and versioned `kid` of `key` at `version`, after authorizing
/// `caller` for `authorize_as` and checking the version is usable for `use_for`.
#[allow(clippy::too_many_arguments)]
pub fn authorized_key(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    authorize_as: KeyOp,
    use_for: KeyOp,
    base: &str,
) -> Result<(Vec<u8>, String), KvError> {
    let delay = state.timing.replication_delay_ms();
    let now_ms = state.clock.now_ms();
    state.store.read(|st| {
        let v = live_vault(st, vault)?;
        authorize(st, &v, caller, authorize_as, Some(key), delay, now_ms)?;
        let rec = st
            .table::<KeyRecord>()
            .get(&key_id(vault, key))
            .filter(|r| r.deleted.is_none())
            .ok_or_else(|| key_not_found(key))?;
        let k = rec
            .version(version)
            .ok_or_else(|| key_not_found(&format!("{key}/{version}")))?;
        check_usable(k, use_for, &rec.name, now_ms / 1000)?;
        let der = B64URL
            .decode(&k.pkcs8)
            .map_err(|_| KvError::Internal("stored key is corrupt".to_owned()))?;
        Ok((der, format!("{base}/keys/{}/{}", rec.name, k.version)))
    })
}

/// Wraps (encrypts with the public half) or unwraps `value` with `pkcs8`.
pub fn run_crypto(pkcs8: &[u8], op: KeyOp, alg: &str, value: &[u8]) -> Result<Vec<u8>, KvError> {
    let alg = WrapAlg::parse(alg).ok_or_else(|| {
        KvError::BadParameter(format!("Invalid algorithm '{alg}'. Supported values for RSA keys: RSA-OAEP, RSA-OAEP-256, RSA1_5."))
    })?;
    match op {
        KeyOp::WrapKey | KeyOp::Encrypt => crypto::wrap(pkcs8, alg, value),
        _ => crypto::unwrap(pkcs8, alg, value),
    }
    .map_err(KvError::BadParameter)
}

/// Runs wrap/unwrap/encrypt/decrypt for a caller after full authorization.
#[allow(clippy::too_many_arguments)]
pub fn crypto_op(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    op: KeyOp,
    alg: &str,
    value: &[u8],
    base: &str,
) -> Result<(String, Vec<u8>), KvError> {
    let (pkcs8, kid) = authorized_key(state, caller, vault, key, version, op, op, base)?;
    Ok((kid, run_crypto(&pkcs8, op, alg, value)?))
}

/// In-process unwrap (for emulated Azure services such as ACI): authorizes `caller` exactly as
/// the data plane would (tenant, public network access, firewall with the trusted-services
/// bypass, access policy or RBAC, replication delay, key state) and unwraps `wrapped`.
#[allow(clippy::too_many_arguments)]
pub fn authorize_and_unwrap(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    alg: &str,
    wrapped: &[u8],
) -> Result<Vec<u8>, KvError> {
    let base = state.config.vault_base_url(vault);
    crypto_op(
        state,
        caller,
        vault,
        key,
        version,
        KeyOp::UnwrapKey,
        alg,
        wrapped,
        &base,
    )
    .map(|(_, v)| v)
}

/// In-process "fetch the public key and wrap locally", as ACI does with a customer-managed key:
/// authorizes `keys/get` only (not `wrapKey`), checks the key version is usable, and encrypts
/// `plaintext` with its public half. Returns the versioned key id and the wrapped bytes.
pub fn get_public_key_and_wrap(
    state: &Shared,
    caller: &Caller,
    vault: &str,
    key: &str,
    version: &str,
    alg: &str,
    plaintext: &[u8],
) -> Result<(String, Vec<u8>), KvError> {
    let base = state.config.vault_base_url(vault);
    let (pkcs8, kid) = authorized_key(
        state,
        caller,
        vault,
        key,
        version,
        KeyOp::Get,
        KeyOp::WrapKey,
        &base,
    )?;
    Ok((kid, run_crypto(&pkcs8, KeyOp::WrapKey, alg, plaintext)?))
}

/// The live vault `vault`, once `caller` is authorized for `op` (on `key`, when given) as of
/// this request: the first step of every data-plane operation.
pub fn authorized_vault(
    ctx: &Ctx,
    st: &Tables,
    vault: &str,
    caller: &Caller,
    op: KeyOp,
    key: Option<&str>,
) -> Result<Vault, KvError> {
    let v = live_vault(st, vault)?;
    authorize(
        st,
        &v,
        caller,
        op,
        key,
        ctx.shared.timing.replication_delay_ms(),
        ctx.shared.clock.now_ms(),
    )?;
    Ok(v)
}
