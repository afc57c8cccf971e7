//! Flow 2 — a network-protected vault: a user-assigned identity gets `get` + `unwrapKey`, the
//! vault firewall denies public networks but lets trusted Azure services through, and the group
//! names the identity (api-version 2022-09-01 or later).
//!
//! ```sh
//! cargo run --example network_protected_vault -- --emulator
//! cargo run --example network_protected_vault -- --subscription <id> --vault <name> --allow-ip <your IP>
//! ```
//!
//! Against Azure it uses `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` when set, or
//! the signed-in Azure CLI (or Azure Developer CLI) user.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    aci_cmk_examples::run_flow(aci_cmk_examples::Flow::NetworkProtected).await
}
