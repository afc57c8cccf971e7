//! Azure Container Instances (`Microsoft.ContainerInstance`): container groups whose data at
//! rest is encrypted with a customer-managed key, as ACI does it.
//!
//! [`records`] holds the groups; [`body`] reads and validates a group as Azure does, with
//! [`json`] (typed field reads), [`containers`], [`volumes`], [`network`] and [`passthrough`]
//! (properties stored and echoed, and those refused as not emulated), into [`settings`]
//! (stored properties that know their sealed parts); [`cmk`] reaches the key as ACI does (the
//! first-party service principal or the encryption identity, through the vault's access rules
//! and firewall); [`sealing`] is the AES-256-GCM under the data key and [`at_rest`] what is
//! sealed with it; [`render`] answers; [`errors`] holds ACI's error codes; [`api_versions`]
//! lists the api-versions of the specs; [`operations`] are ACI's long-running operations and
//! their status route; [`handlers`] serves the routes.

pub mod api_versions;
pub mod at_rest;
pub mod body;
pub mod cmk;
pub mod containers;
pub mod data_key_cache;
pub mod errors;
pub mod handlers;
pub mod json;
pub mod network;
pub mod operations;
pub mod passthrough;
pub mod records;
pub mod render;
pub mod sealing;
pub mod settings;
pub mod volumes;
