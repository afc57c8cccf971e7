//! # aci_cmk_encrypted_deployment
//!
//! The orchestrator of the two flows that encrypt Azure Container Instances deployment data with
//! a customer-managed key.
//!
//! - [`template`]: adds encryption to the container groups of an existing ARM template.

pub mod template;
