//! Adds customer-managed-key encryption to the container groups of an ARM template file and
//! prints the result, with the list of changes on stderr.
//!
//! ```sh
//! cargo run --example patch_template -- template.json \
//!     --vault-url https://contoso-cmk.vault.azure.net --key-name aci-cmk \
//!     --key-version 0123456789abcdef0123456789abcdef \
//!     [--identity /subscriptions/…/userAssignedIdentities/aci-cmk-id]
//! ```
//!
//! Values may also be template expressions, e.g. `--key-version "[parameters('keyVersion')]"`.

use aci_cmk_encrypted_deployment::template::{TemplateEncryption, inject_encryption};
use clap::Parser;
use std::{error::Error, path::PathBuf};

/// Adds encryption with a customer-managed key to an ARM template's container groups.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The template file (JSON; comments and trailing commas are fine).
    template: PathBuf,
    /// The vault's base URL.
    #[arg(long)]
    vault_url: String,
    /// The key name.
    #[arg(long)]
    key_name: String,
    /// The key version.
    #[arg(long)]
    key_version: String,
    /// The user-assigned identity ACI reaches the key with (network-protected flow).
    #[arg(long)]
    identity: Option<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.template)?;
    let template: serde_json::Value = json5::from_str(&text)?;
    let mut encryption =
        TemplateEncryption::standard(args.vault_url, args.key_name, args.key_version);
    if let Some(identity) = args.identity {
        encryption = encryption.with_identity(identity);
    }
    let (patched, changes) = inject_encryption(&template, &encryption)?;
    for change in &changes {
        eprintln!("{change}");
    }
    println!("{}", serde_json::to_string_pretty(&patched)?);
    Ok(())
}
