//! Flow 1 — a standard vault reached by the ACI first-party service principal.
//!
//! ```sh
//! cargo run --example standard_vault -- --emulator
//! cargo run --example standard_vault -- --subscription <id> --resource-group rg-cmk --vault <name>
//! ```
//!
//! Against Azure it uses `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` when set, or
//! the signed-in Azure CLI (or Azure Developer CLI) user.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    aci_cmk_examples::run_flow(aci_cmk_examples::Flow::Standard).await
}
