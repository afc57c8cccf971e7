//! Azure Key Vault: the management plane (Microsoft.KeyVault vaults, under ARM), the keys data
//! plane (served on `{vault}.vault.localhost:{port}`), its authorization (access policies, RBAC,
//! firewall) and the RSA cryptography behind it.

pub mod access;
pub mod crypto;
pub mod data;
pub mod mgmt;
