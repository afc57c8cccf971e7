//! `aci-cmk init [FILE] [--flow standard|network-protected] [--rbac]`: writes a commented
//! spec that `apply` accepts as it is.
//!
//! Every value is a working one except, against Azure, the subscription: without
//! `--subscription` it is a placeholder (the nil GUID) that `--subscription` /
//! `ACI_CMK_SUBSCRIPTION` replace at run time (a flag beats the spec). With `--emulator` (or
//! `--emulator-url`) nothing is left to fill: the subscription is the emulator's (the
//! embedded emulator's state is created for it), and a network-protected vault lets
//! `127.0.0.1` through its firewall, so that this machine can manage the key afterwards.
//! The vault name, which must be unique across Azure, ends in eight random hex digits.

use crate::{
    args::{FlowName, InitArgs},
    connect,
    error::CliError,
    output::Outcome,
};
use aci_cmk_encrypted_deployment::spec::DeploymentSpec;
use serde_json::json;
use std::{io::Write, path::Path};

/// What `init` fills in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choices {
    /// The flow.
    pub flow: FlowName,
    /// RBAC instead of access policies.
    pub rbac: bool,
    /// The region.
    pub location: String,
    /// The subscription, or `None` for the placeholder.
    pub subscription: Option<String>,
    /// Against an emulator.
    pub emulator: bool,
    /// The vault name.
    pub vault: String,
    /// The file name the comments refer to.
    pub file: String,
}

/// The nil GUID `init` writes when the subscription must come from the user.
pub const PLACEHOLDER_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// Writes the spec.
pub async fn run(args: InitArgs) -> Result<Outcome, CliError> {
    let to_stdout = args.file == Path::new("-");
    if !to_stdout && args.file.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} exists; pass --force to overwrite it",
            args.file.display()
        )));
    }
    let emulator = args.connect.emulator || args.connect.emulator_url.is_some();
    let (subscription, from) = if let Some(subscription) = &args.connect.subscription {
        (Some(subscription.to_string()), "flag")
    } else if emulator {
        let connected = connect::connect(&args.connect, None).await?;
        let subscription = connected.connection.subscription_id.to_string();
        connected.close().await;
        (Some(subscription), "emulator")
    } else {
        (None, "placeholder")
    };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let choices = Choices {
        flow: args.flow,
        rbac: args.rbac,
        location: args.location.clone(),
        subscription,
        emulator,
        vault: format!("aci-cmk-{}", &suffix[..8]),
        file: if to_stdout {
            "aci-cmk.toml".to_owned()
        } else {
            args.file.display().to_string()
        },
    };
    let text = render(&choices);
    // What init writes, apply reads: refuse to write a spec the spec reader refuses (a bad
    // --location, say).
    DeploymentSpec::from_toml_str(&text)
        .map_err(|e| CliError::Usage(format!("cannot write a valid spec: {e}")))?;
    let flow = match choices.flow {
        FlowName::Standard => "standard",
        FlowName::NetworkProtected => "network_protected",
    };
    let mut result = json!({
        "file": (!to_stdout).then(|| args.file.display().to_string()),
        "flow": flow,
        "authorization": if choices.rbac { "rbac" } else { "access_policies" },
        "subscription_id": choices.subscription.as_deref().unwrap_or(PLACEHOLDER_SUBSCRIPTION),
        "subscription_from": from,
        "vault": choices.vault,
    });
    if to_stdout {
        result["spec"] = text.clone().into();
        return Ok(Outcome::ok(result, text));
    }
    write_new(&args.file, &text, args.force)?;
    let next = if args.connect.emulator {
        format!("aci-cmk plan {} --emulator", choices.file)
    } else if choices.subscription.is_none() {
        format!(
            "set subscription_id (or pass --subscription), then aci-cmk plan {}",
            choices.file
        )
    } else {
        format!("aci-cmk plan {}", choices.file)
    };
    Ok(Outcome::ok(
        result,
        format!(
            "wrote {} ({flow} flow, vault {}); next: {next}",
            choices.file, choices.vault
        ),
    ))
}

fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        what: format!("write {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .create_new(!force)
        .truncate(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

/// A TOML string holding `value`.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

/// The spec's text.
pub fn render(c: &Choices) -> String {
    let (flow_name, flow_top, flow_table) = match c.flow {
        FlowName::Standard => (
            "standard",
            "\n# How ACI reaches the key: \"standard\" gives the ACI first-party service principal\n\
             # get + unwrapKey on a vault open to public networks (`aci-cmk init --flow\n\
             # network-protected` writes the other flow).\n\
             flow = \"standard\"\n",
            "",
        ),
        FlowName::NetworkProtected => (
            "network-protected",
            "",
            "\n# How ACI reaches the key: a user-assigned managed identity (created when missing)\n\
             # gets get + unwrapKey; the vault firewall denies public networks but lets trusted\n\
             # Azure services through.\n\
             [flow.network_protected]\n\
             identity_name = \"aci-cmk-id\"\n",
        ),
    };
    let subscription = match &c.subscription {
        Some(s) if c.emulator => format!(
            "# The emulator's subscription (with --emulator the emulator's is used anyway).\n\
             subscription_id = {}",
            quoted(s)
        ),
        Some(s) => format!(
            "# The subscription to deploy into.\nsubscription_id = {}",
            quoted(s)
        ),
        None => format!(
            "# REPLACE: the subscription to deploy into (`az account show --query id -o tsv`), or\n\
             # leave this placeholder and pass --subscription / ACI_CMK_SUBSCRIPTION, which win.\n\
             subscription_id = \"{PLACEHOLDER_SUBSCRIPTION}\""
        ),
    };
    let ip_rules = match (c.flow, c.emulator) {
        (FlowName::Standard, _) => "",
        (FlowName::NetworkProtected, true) => {
            "# Let through the firewall: the machine that manages the key (this one).\n\
             ip_rules = [\"127.0.0.1\"]\n"
        }
        (FlowName::NetworkProtected, false) => {
            "# Addresses or CIDR ranges let through the firewall, e.g. the machine that manages\n\
             # the key afterwards (apply creates the key before it closes the firewall).\n\
             # ip_rules = [\"203.0.113.7\"]\n"
        }
    };
    let authorization = if c.rbac { "rbac" } else { "access_policies" };
    let file = &c.file;
    let location = quoted(&c.location);
    let vault = quoted(&c.vault);
    format!(
        r#"# aci-cmk deployment spec ({flow_name} flow), written by `aci-cmk init`.
#
# It deploys a container group whose data (deployment metadata, environment variables,
# secure values, logs) Azure Container Instances encrypts with a customer-managed key
# held in this Key Vault.
#   aci-cmk plan {file}     what apply would do (writes nothing)
#   aci-cmk apply {file}    make it so; applying again changes nothing
#   aci-cmk status {file}   what is deployed, as Azure reports it
# Add --emulator to run against the local emulator instead of Azure.

{subscription}
# Created when missing; everything below lives in it.
resource_group = "rg-aci-cmk"
# The region of the resource group and of everything in it.
location = {location}
# Tags for the resource group and every resource created.
# tags = {{ owner = "platform-team" }}
{flow_top}{flow_table}
[vault]
# Unique across Azure: 3-24 letters, digits and hyphens, starting with a letter.
name = {vault}
# Who may use the key: vault access policies ("access_policies") or Azure RBAC ("rbac").
authorization = "{authorization}"
# "premium" for RSA-HSM keys.
# sku = "standard"
# How long a deleted vault and its key stay recoverable: 7 to 90 days.
# soft_delete_retention_days = 90
# Purge protection (on unless turned off): a deleted vault or key cannot be purged
# before its retention ends, so the key cannot be destroyed by mistake.
# purge_protection = true
{ip_rules}
[key.create]
# Created in the vault when missing; the container group uses its latest version.
name = "aci-cmk"
# RSA size: 2048, 3072 or 4096.
# size = 2048
# "RSA", or "RSA-HSM" in a premium vault.
# kty = "RSA"
# Rotation and expiry, run by Key Vault:
# [key.create.lifecycle]
# rotate_after = "P90D"
# expires_after = "P1Y"

[container_group]
name = "aci-cmk-hello"
# Ports of a public IP address; none for a group without one.
# public_ports = [80]

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
# cpu = 1.0
# memory_gb = 1.5
# ports = [80]
# env = {{ GREETING = "hello" }}
# Sent as secureValue: never returned by Azure, never printed by aci-cmk.
# secure_env = {{ DB_PASSWORD = "..." }}

# What apply and destroy refuse unless allowed here.
[allow]
# Delete and re-create the container group when its encryption must change (it is fixed
# at creation).
recreate_container_group = false
# Purge the vault on destroy (as `destroy --purge`); impossible while purge protection
# holds it.
purge_on_destroy = false
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aci_cmk_encrypted_deployment::spec::{Flow, VaultAuthorization};

    #[test]
    fn every_spec_init_writes_is_one_apply_reads() {
        for flow in [FlowName::Standard, FlowName::NetworkProtected] {
            for rbac in [false, true] {
                for (emulator, subscription) in [
                    (false, None),
                    (false, Some("00000000-0000-0000-0000-0000000000ab")),
                    (true, Some("00000000-0000-0000-0000-0000000000cd")),
                ] {
                    let choices = Choices {
                        flow,
                        rbac,
                        location: "West Europe".into(),
                        subscription: subscription.map(str::to_owned),
                        emulator,
                        vault: "aci-cmk-0123abcd".into(),
                        file: "spec.toml".into(),
                    };
                    let text = render(&choices);
                    let spec = DeploymentSpec::from_toml_str(&text)
                        .unwrap_or_else(|e| panic!("{choices:?}: {e}\n{text}"));
                    assert_eq!(
                        spec.subscription_id.to_string(),
                        subscription.unwrap_or(PLACEHOLDER_SUBSCRIPTION)
                    );
                    assert_eq!(spec.location.as_str(), "westeurope");
                    assert_eq!(
                        matches!(spec.flow, Flow::Standard),
                        flow == FlowName::Standard
                    );
                    assert_eq!(spec.vault.authorization == VaultAuthorization::Rbac, rbac);
                    let lets_this_machine_in = flow == FlowName::NetworkProtected && emulator;
                    assert_eq!(!spec.vault.ip_rules.is_empty(), lets_this_machine_in);
                    assert!(spec.vault.purge_protection);
                }
            }
        }
    }
}
