//! Microsoft.Authorization: role assignments at any scope (used for RBAC-mode vaults) and the
//! built-in role definitions the emulator knows (the Key Vault roles plus Owner, Contributor,
//! Reader and User Access Administrator).
//!
//! [`roles`] holds the role definitions, [`records`] the assignments and the RBAC decision;
//! [`definitions`] serves the role-definition routes, [`handlers`] the others; [`api_versions`]
//! lists the api-versions of the specs for each type.

pub mod api_versions;
pub mod definitions;
pub mod handlers;
pub mod records;
pub mod roles;
