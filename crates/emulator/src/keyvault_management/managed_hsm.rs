//! Managed HSMs, which the emulator does not emulate: their lists answer empty (so a plain
//! `az keyvault list` or `az keyvault list-deleted`, which also lists managed HSMs, works), a
//! read of one is 404, and anything else says plainly that managed HSMs are not emulated.

use http::{Method, StatusCode};
use serde_json::Value;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::list_reply;
use crate::context::Ctx;

/// `GET …/managedHSMs` (resource group or subscription) and `GET …/deletedManagedHSMs`: an
/// empty page (`$top` still checked).
pub fn empty_list(ctx: &Ctx) -> ArmResult {
    list_reply(ctx, Vec::<Value>::new(), |_| String::new(), Value::clone)
}

/// Any other managed-HSM path: 404 `ResourceNotFound` for a read (there are none), else 404
/// `InvalidResourceType` saying managed HSMs are not emulated.
pub fn not_emulated(ctx: &Ctx, name: Option<&str>) -> ArmResult {
    match (&ctx.method, name) {
        (&Method::GET | &Method::HEAD, Some(name)) => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/managedHSMs/{name}' was not found: managed HSMs are not emulated."
            ),
        )),
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "Managed HSMs are not emulated: the emulator serves Key Vault vaults only (lists of managed HSMs answer empty).",
        )),
    }
}
