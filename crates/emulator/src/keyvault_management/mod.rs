//! Key Vault management (`Microsoft.KeyVault`): vaults with soft delete and purge protection,
//! deleted vaults, purge, name availability, access-policy updates and network rules.
//!
//! [`records`] holds the vault records and is all another service uses (the data plane's
//! authorization reads a vault's policies and firewall); [`body`] reads request bodies,
//! [`render`] answers, [`retention`] soft-deletes and purges on the emulator's clock,
//! [`managed_hsm`] answers the managed-HSM paths (not emulated: empty lists), [`api_versions`]
//! lists the api-versions of the specs, and [`handlers`] serves the routes.

pub mod api_versions;
pub mod body;
pub mod handlers;
pub mod managed_hsm;
pub mod records;
pub mod render;
pub mod retention;

#[cfg(test)]
mod tests;
