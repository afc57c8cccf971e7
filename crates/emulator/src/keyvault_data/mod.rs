//! The Key Vault keys data plane on `https://{vault}.vault.localhost:{port}`: keys and versions,
//! deleted keys, cryptographic operations with real RSA, rotation policies, and authorization
//! by access policy or RBAC behind the vault's firewall.
//!
//! [`records`] holds the key records; [`access`] decides who may do what; [`crypto`] does the
//! RSA work; [`api`] is what other emulated services call in process; [`handlers`] routes the
//! HTTP requests to [`keys`], [`deleted`], [`operations`] and [`rotation`] (policies validated by
//! [`rotation_policy`]), which read bodies
//! with [`body`] and answer with [`render`]. [`api_versions`] lists the api-versions of the
//! specs.

pub mod access;
pub mod api;
pub mod api_versions;
pub mod body;
pub mod crypto;
pub mod deleted;
pub mod handlers;
pub mod keys;
pub mod lifecycle;
pub mod operations;
pub mod records;
pub mod render;
pub mod rotation;
pub mod rotation_policy;

#[cfg(test)]
mod tests;
