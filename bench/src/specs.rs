//! The specs the benchmarks deploy (as the cross-crate tests' flows), with `{sub}` for the
//! subscription.

use aci_cmk_encrypted_deployment::spec::DeploymentSpec;

/// The standard flow: the ACI first-party service principal.
pub const STANDARD: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-bench-std"
location = "westeurope"
flow = "standard"

[vault]
name = "bench-std-vault"

[key.create]
name = "aci-cmk"

[container_group]
name = "hello-std"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
env = { GREETING = "hello" }
secure_env = { API_TOKEN = "bench-secure-value" }
"#;

/// The network-protected flow: a user-assigned identity behind the vault firewall.
pub const PROTECTED: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-bench-np"
location = "westeurope"

[vault]
name = "bench-np-vault"
ip_rules = ["127.0.0.1"]

[key.create]
name = "aci-cmk"

[flow.network_protected]
identity_name = "aci-cmk-id"

[container_group]
name = "hello-np"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
"#;

/// `text` for subscription `sub`, with the container group named `group` when given.
pub fn spec(text: &str, sub: &str, group: Option<&str>) -> Result<DeploymentSpec, String> {
    let mut text = text.replace("{sub}", sub);
    if let Some(name) = group {
        text = text
            .replace("name = \"hello-std\"", &format!("name = \"{name}\""))
            .replace("name = \"hello-np\"", &format!("name = \"{name}\""));
    }
    DeploymentSpec::from_toml_str(&text).map_err(|e| format!("bench spec: {e}"))
}
