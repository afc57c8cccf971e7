//! Integration tests: drive the emulator over HTTPS with plain requests built from the wire
//! reference (and, in `sdk`, with the official Azure SDK clients).

mod aci;
mod aci_echoes;
mod aci_fixtures;
mod aci_lifecycle;
mod aci_settings;
mod admin;
mod api_versions;
mod arm;
mod auth;
mod authorization;
mod binary;
mod clock;
mod common;
mod connections;
mod deployments;
mod graph;
mod keyvault;
mod lifecycle;
mod lists;
mod misc;
mod persistence;
mod robustness;
mod rollback;
mod sdk;
mod tidy;
mod timing;
mod transport;
