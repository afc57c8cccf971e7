//! The declarative description of an encrypted deployment, readable from JSON or TOML.
//!
//! ```
//! use aci_cmk_encrypted_deployment::spec::{DeploymentSpec, Flow};
//!
//! let spec = DeploymentSpec::from_toml_str(r#"
//!     subscription_id = "00000000-0000-0000-0000-000000000001"
//!     resource_group = "rg-cmk"
//!     location = "eastus"
//!
//!     [vault]
//!     name = "contoso-cmk"
//!
//!     [key.create]
//!     name = "aci-cmk"
//!
//!     [flow.network_protected]
//!     identity_name = "aci-cmk-id"
//!
//!     [container_group]
//!     name = "hello"
//!
//!     [[container_group.containers]]
//!     name = "app"
//!     image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
//!     env = { GREETING = "hi" }
//!     secure_env = { TOKEN = "s3cret" }
//! "#)?;
//! assert!(matches!(spec.flow, Flow::NetworkProtected { .. }));
//! assert!(spec.vault.purge_protection, "purge protection is on by default");
//! assert!(!format!("{spec:?}").contains("s3cret"), "secure values never print");
//! # Ok::<(), aci_cmk_encrypted_deployment::spec::SpecError>(())
//! ```

use aci_cmk_aci::{
    DeploymentName,
    models::{
        Container, ContainerGroup, ContainerPort, IpAddress, IpAddressType, OsType, Protocol,
        RestartPolicy,
    },
};
use aci_cmk_core::{
    key_id::KeyId,
    names::{
        ContainerGroupName, ContainerName, IdentityName, KeyName, Location, ResourceGroupName,
        SubscriptionId, VaultName,
    },
    secret::SecretString,
};
use aci_cmk_keyvault::{
    keys::{KeySize, RsaKeyType},
    rotation_policy::{Iso8601Duration, KeyRotationPolicy},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{collections::BTreeMap, path::Path};
use time::OffsetDateTime;

/// Everything an encrypted deployment consists of.
///
/// In a spec file the workload is a top-level `container_group` or `template` table (exactly
/// one of them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SpecFile", into = "SpecFile")]
#[non_exhaustive]
pub struct DeploymentSpec {
    /// The subscription to deploy into.
    pub subscription_id: SubscriptionId,
    /// The resource group, created when missing.
    pub resource_group: ResourceGroupName,
    /// The region of the group and of everything in it.
    pub location: Location,
    /// Tags for the resource group and every resource created.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The vault holding the key.
    pub vault: VaultSpec,
    /// The key: created, or an existing one.
    pub key: KeySpec,
    /// How ACI reaches the key.
    pub flow: Flow,
    /// What runs on the key: a container group, or an ARM template of them.
    pub workload: Workload,
    /// Things `apply` refuses unless allowed here.
    pub allow: Allowances,
}

/// What a deployment runs on the key.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Workload {
    /// A container group deployed directly.
    ContainerGroup(Box<ContainerGroupSpec>),
    /// An ARM template; encryption is injected into its container groups.
    Template(Box<TemplateSpec>),
}

impl Workload {
    /// The container group, when the workload is one.
    pub fn container_group(&self) -> Option<&ContainerGroupSpec> {
        match self {
            Workload::ContainerGroup(g) => Some(g),
            Workload::Template(_) => None,
        }
    }

    /// The template, when the workload is one.
    pub fn template(&self) -> Option<&TemplateSpec> {
        match self {
            Workload::Template(t) => Some(t),
            Workload::ContainerGroup(_) => None,
        }
    }
}

/// A spec as its file spells it: the workload as one of two optional tables.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    subscription_id: SubscriptionId,
    resource_group: ResourceGroupName,
    location: Location,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    vault: VaultSpec,
    key: KeySpec,
    flow: Flow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_group: Option<ContainerGroupSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<TemplateSpec>,
    #[serde(default)]
    allow: Allowances,
}

impl TryFrom<SpecFile> for DeploymentSpec {
    type Error = SpecError;

    fn try_from(file: SpecFile) -> Result<Self, SpecError> {
        let workload = match (file.container_group, file.template) {
            (Some(_), Some(_)) => {
                return Err(SpecError::Inconsistent(
                    "give either container_group or template, not both".into(),
                ));
            }
            (None, None) => {
                return Err(SpecError::Inconsistent(
                    "give a container_group or a template to deploy".into(),
                ));
            }
            (Some(group), None) => Workload::ContainerGroup(Box::new(group)),
            (None, Some(template)) => Workload::Template(Box::new(template)),
        };
        Ok(Self {
            subscription_id: file.subscription_id,
            resource_group: file.resource_group,
            location: file.location,
            tags: file.tags,
            vault: file.vault,
            key: file.key,
            flow: file.flow,
            workload,
            allow: file.allow,
        })
    }
}

impl From<DeploymentSpec> for SpecFile {
    fn from(spec: DeploymentSpec) -> Self {
        let (container_group, template) = match spec.workload {
            Workload::ContainerGroup(g) => (Some(*g), None),
            Workload::Template(t) => (None, Some(*t)),
        };
        Self {
            subscription_id: spec.subscription_id,
            resource_group: spec.resource_group,
            location: spec.location,
            tags: spec.tags,
            vault: spec.vault,
            key: spec.key,
            flow: spec.flow,
            container_group,
            template,
            allow: spec.allow,
        }
    }
}

/// The vault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VaultSpec {
    /// Its name, globally unique.
    pub name: VaultName,
    /// `standard` (default) or `premium` (needed for `RSA-HSM` keys).
    #[serde(default)]
    pub sku: VaultSku,
    /// How long a deleted vault (and key) stays recoverable: 7 to 90 days (default 90).
    #[serde(default = "default_retention_days")]
    pub soft_delete_retention_days: u32,
    /// Purge protection (default on): a deleted vault or key cannot be purged before its
    /// retention ends, so a customer-managed key cannot be destroyed by mistake.
    #[serde(default = "default_true")]
    pub purge_protection: bool,
    /// Access policies (default) or Azure RBAC.
    #[serde(default)]
    pub authorization: VaultAuthorization,
    /// Addresses or CIDR ranges let through the firewall of a network-protected vault (for
    /// example the deploying machine's, to manage keys from it afterwards).
    #[serde(default)]
    pub ip_rules: Vec<String>,
}

fn default_retention_days() -> u32 {
    90
}

fn default_true() -> bool {
    true
}

/// The pricing tier of the vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VaultSku {
    /// Software-protected keys.
    #[default]
    Standard,
    /// HSM-protected keys as well.
    Premium,
}

/// How the vault authorizes data-plane access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VaultAuthorization {
    /// Vault access policies.
    #[default]
    AccessPolicies,
    /// Azure role assignments (`enableRbacAuthorization`).
    Rbac,
}

/// The key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum KeySpec {
    /// A key this deployment owns: created when missing; its latest version is used.
    Create {
        /// The key name.
        name: KeyName,
        /// RSA size in bits: 2048 (default), 3072 or 4096.
        #[serde(default)]
        size: KeySize,
        /// `RSA` (default) or `RSA-HSM` (premium vaults).
        #[serde(default)]
        kty: RsaKeyType,
        /// Rotation, expiry and which version the groups use.
        #[serde(default, skip_serializing_if = "KeyLifecycle::is_default")]
        lifecycle: KeyLifecycle,
    },
    /// An existing key of the vault: its latest version, or the version in the id.
    Existing {
        /// The key id, with or without a version.
        id: Box<KeyId>,
        /// Rotation, expiry and which version the groups use.
        #[serde(default, skip_serializing_if = "KeyLifecycle::is_default")]
        lifecycle: KeyLifecycle,
    },
}

impl KeySpec {
    /// The key's name.
    pub fn name(&self) -> &KeyName {
        match self {
            KeySpec::Create { name, .. } => name,
            KeySpec::Existing { id, .. } => id.name(),
        }
    }

    /// The key's lifecycle.
    pub fn lifecycle(&self) -> &KeyLifecycle {
        match self {
            KeySpec::Create { lifecycle, .. } | KeySpec::Existing { lifecycle, .. } => lifecycle,
        }
    }
}

/// What happens to the key over time: Key Vault rotates it on a schedule and each version
/// expires; the container groups stay on the version they pin, or follow the newest.
///
/// ```toml
/// [key.create.lifecycle]
/// rotate_after = "P90D"     # or rotate_before_expiry = "P30D"
/// expires_after = "P1Y"
/// notify_before_expiry = "P30D"
/// follow = "latest"         # default "pinned"
/// retire_previous = true
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyLifecycle {
    /// Rotate this long after each version is created (`P90D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_after: Option<Iso8601Duration>,
    /// Rotate this long before each version expires (needs `expires_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_before_expiry: Option<Iso8601Duration>,
    /// Each version expires this long after it is created (`P1Y`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after: Option<Iso8601Duration>,
    /// How long before a version expires Key Vault notifies and preflight warns (default
    /// `P30D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_before_expiry: Option<Iso8601Duration>,
    /// Which version the container groups use.
    #[serde(default)]
    pub follow: Follow,
    /// Once every group has moved to the newest version, disable the versions they left
    /// (never delete them): a group still on one can no longer read its data.
    #[serde(default)]
    pub retire_previous: bool,
}

/// Which key version the container groups use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Follow {
    /// The version they were created on, until `rotate` moves them.
    #[default]
    Pinned,
    /// The newest usable version: `follow_latest` (and `watch`) re-create them on it.
    Latest,
}

impl KeyLifecycle {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// How long before expiry to notify and warn: the spec's, else 30 days.
    pub fn notify_before_expiry(&self) -> Iso8601Duration {
        self.notify_before_expiry
            .clone()
            .unwrap_or_else(|| Iso8601Duration::days(30))
    }

    /// The rotation policy the vault should hold for the key, or `None` when the spec manages
    /// neither rotation nor expiry (the vault's policy is then left as it is).
    pub fn rotation_policy(&self) -> Option<KeyRotationPolicy> {
        if self.rotate_after.is_none()
            && self.rotate_before_expiry.is_none()
            && self.expires_after.is_none()
        {
            return None;
        }
        let mut policy = match (&self.rotate_after, &self.rotate_before_expiry) {
            (Some(after), _) => KeyRotationPolicy::rotate_after(after.clone()),
            (None, Some(before)) => KeyRotationPolicy::rotate_before_expiry(before.clone()),
            (None, None) => KeyRotationPolicy::new(),
        };
        if let Some(expiry) = &self.expires_after {
            policy = policy
                .with_expiry(expiry.clone())
                .with_notify_before_expiry(self.notify_before_expiry());
        }
        Some(policy)
    }

    /// When a version created at `now` expires: `now` plus [`expires_after`](Self::expires_after)
    /// (`None` without one).
    pub fn new_version_expires(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        Some(now + self.expires_after.as_ref()?.to_duration())
    }

    /// The expiry an existing version without one should get: its creation plus
    /// [`expires_after`](Self::expires_after), but never sooner than the notice period from
    /// `now` (a version must not expire under the groups using it the moment the policy is
    /// set). `None` when the version already expires or no lifetime is set.
    pub fn version_expiry(
        &self,
        key: &aci_cmk_keyvault::keys::KeyProperties,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let lifetime = self.expires_after.as_ref()?;
        if key.expires.is_some() {
            return None;
        }
        let from_creation = key.created.unwrap_or(now) + lifetime.to_duration();
        let earliest = now + self.notify_before_expiry().to_duration();
        Some(from_creation.max(earliest))
    }

    /// Checks that the parts fit together and that the policy they make is one Key Vault
    /// takes.
    fn check(&self) -> Result<(), SpecError> {
        let bad = |m: String| Err(SpecError::Inconsistent(m));
        if self.rotate_after.is_some() && self.rotate_before_expiry.is_some() {
            return bad("key lifecycle: give rotate_after or rotate_before_expiry, not both (Key Vault rotates on one trigger)".into());
        }
        if self.rotate_before_expiry.is_some() && self.expires_after.is_none() {
            return bad("key lifecycle: rotate_before_expiry needs expires_after (a version without an expiry is never rotated before it)".into());
        }
        if let Some(policy) = self.rotation_policy()
            && let Err(e) = policy.validate()
        {
            return bad(format!("key lifecycle: {e}"));
        }
        Ok(())
    }
}

/// How ACI reaches the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Flow {
    /// The ACI first-party service principal, on a vault open to public networks.
    Standard,
    /// A user-assigned managed identity, on a vault whose firewall lets only trusted Azure
    /// services (and the spec's `ip_rules`) through.
    NetworkProtected {
        /// The identity's name (created in the resource group when missing).
        identity_name: IdentityName,
    },
}

/// A container group to deploy directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ContainerGroupSpec {
    /// The group name.
    pub name: ContainerGroupName,
    /// Its containers.
    pub containers: Vec<ContainerSpec>,
    /// `Always` (default), `OnFailure` or `Never`.
    #[serde(default = "default_restart_policy")]
    pub restart_policy: RestartPolicy,
    /// `Linux` (default) or `Windows`.
    #[serde(default)]
    pub os_type: OsType,
    /// Ports of a public IP address; none for a group without one.
    #[serde(default)]
    pub public_ports: Vec<u16>,
    /// A DNS name label for the public IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name_label: Option<String>,
}

fn default_restart_policy() -> RestartPolicy {
    RestartPolicy::Always
}

/// One container.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ContainerSpec {
    /// The container name.
    pub name: ContainerName,
    /// The image.
    pub image: String,
    /// CPU cores (default 1).
    #[serde(default = "default_cpu")]
    pub cpu: f64,
    /// Memory in GB (default 1.5).
    #[serde(default = "default_memory")]
    pub memory_gb: f64,
    /// The command, exec form.
    #[serde(default)]
    pub command: Vec<String>,
    /// TCP ports the container listens on.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Plain environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Secure environment variables (`secureValue`): never returned by Azure, never printed.
    #[serde(default)]
    pub secure_env: BTreeMap<String, SecretString>,
}

fn default_cpu() -> f64 {
    1.0
}

fn default_memory() -> f64 {
    1.5
}

impl ContainerGroupSpec {
    /// The container group body, without encryption: what `apply` adds it to.
    pub fn to_container_group(
        &self,
        location: &Location,
        tags: &BTreeMap<String, String>,
    ) -> ContainerGroup {
        let containers = self
            .containers
            .iter()
            .map(|c| {
                let mut container = Container::new(c.name.as_str(), &c.image, c.cpu, c.memory_gb)
                    .with_command(c.command.iter().cloned());
                for port in &c.ports {
                    container = container.with_port(*port);
                }
                for (name, value) in &c.env {
                    container = container.with_env(name, value);
                }
                for (name, value) in &c.secure_env {
                    container = container.with_secure_env(name, value.clone());
                }
                container
            })
            .collect();
        let mut group = ContainerGroup::new(location.as_str(), containers);
        group.tags = tags.clone();
        group.properties.os_type = self.os_type;
        group.properties.restart_policy = Some(self.restart_policy);
        if !self.public_ports.is_empty() {
            let mut ip = IpAddress::default();
            ip.kind = IpAddressType::Public;
            ip.ports = self
                .public_ports
                .iter()
                .map(|p| {
                    let mut port = ContainerPort::default();
                    port.port = *p;
                    port.protocol = Some(Protocol::Tcp);
                    port
                })
                .collect();
            ip.dns_name_label = self.dns_name_label.clone();
            group.properties.ip_address = Some(ip);
        }
        group
    }
}

/// An ARM template to deploy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TemplateSpec {
    /// The deployment name.
    pub deployment_name: DeploymentName,
    /// The template, inline. Read from `template_file` when loading a spec file.
    #[serde(default)]
    pub template: Value,
    /// A template file, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_file: Option<String>,
    /// The parameters, as `{"name": {"value": …}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// What `apply` refuses unless the spec allows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Allowances {
    /// Use an existing vault that lacks soft delete or purge protection.
    #[serde(default)]
    pub vault_without_purge_protection: bool,
    /// Delete and re-create an existing container group whose encryption differs (its
    /// encryption is fixed at creation).
    #[serde(default)]
    pub recreate_container_group: bool,
    /// Purge the vault on `destroy` (impossible while purge protection holds it).
    #[serde(default)]
    pub purge_on_destroy: bool,
}

/// Why a spec could not be read or is inconsistent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON is malformed or does not match the spec's shape.
    #[error("invalid spec JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The TOML is malformed or does not match the spec's shape.
    #[error("invalid spec TOML: {0}")]
    Toml(#[source] toml::de::Error),
    /// The spec's parts do not fit together.
    #[error("inconsistent spec: {0}")]
    Inconsistent(String),
}

impl DeploymentSpec {
    /// The same spec with another workload (a fleet's group, say).
    pub fn with_workload(mut self, workload: Workload) -> Self {
        self.workload = workload;
        self
    }

    /// Reads a spec from JSON.
    pub fn from_json_str(text: &str) -> Result<Self, SpecError> {
        let mut spec: Self = serde_json::from_str(text).map_err(SpecError::Json)?;
        spec.parse_template_text()?;
        spec.check()?;
        Ok(spec)
    }

    /// Reads a spec from TOML.
    pub fn from_toml_str(text: &str) -> Result<Self, SpecError> {
        let mut spec: Self = toml::from_str(text).map_err(SpecError::Toml)?;
        spec.parse_template_text()?;
        spec.check()?;
        Ok(spec)
    }

    /// A template given as text (as ARM also accepts it: a JSON string, comments and trailing
    /// commas allowed) becomes the JSON object it holds.
    fn parse_template_text(&mut self) -> Result<(), SpecError> {
        if let Workload::Template(template) = &mut self.workload
            && let Value::String(text) = &template.template
        {
            template.template = json5::from_str::<Value>(text).map_err(|e| {
                SpecError::Inconsistent(format!("the template text is not JSON: {e}"))
            })?;
        }
        Ok(())
    }

    /// Reads a spec file (`.toml`, else JSON), loading a `template_file` relative to it.
    pub fn from_file(path: &Path) -> Result<Self, SpecError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| SpecError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let text = read(path)?;
        let mut spec = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::from_toml_str(&text)?
        } else {
            Self::from_json_str(&text)?
        };
        if let Workload::Template(template) = &mut spec.workload
            && let Some(file) = &template.template_file
        {
            let file = path.parent().unwrap_or(Path::new(".")).join(file);
            let text = read(&file)?;
            template.template = json5::from_str::<Value>(&text).map_err(|e| {
                SpecError::Inconsistent(format!(
                    "template file {} is not JSON: {e}",
                    file.display()
                ))
            })?;
        }
        spec.check()?;
        Ok(spec)
    }

    /// Checks that the parts fit together (the rest is checked against Azure by preflight).
    pub fn check(&self) -> Result<(), SpecError> {
        let bad = |m: String| Err(SpecError::Inconsistent(m));
        match &self.workload {
            Workload::ContainerGroup(group) if group.containers.is_empty() => {
                return bad(format!("container group {} has no containers", group.name));
            }
            Workload::Template(template)
                if template.template.is_null() && template.template_file.is_none() =>
            {
                return bad("the template section needs template or template_file".into());
            }
            _ => {}
        }
        if !(7..=90).contains(&self.vault.soft_delete_retention_days) {
            return bad(format!(
                "vault.soft_delete_retention_days is {}, but must be 7 to 90",
                self.vault.soft_delete_retention_days
            ));
        }
        self.key.lifecycle().check()?;
        if let KeySpec::Existing { id, .. } = &self.key
            && id.vault_url().vault_name() != &self.vault.name
        {
            return bad(format!(
                "key.existing.id {} is not in vault {}",
                id, self.vault.name
            ));
        }
        if let KeySpec::Create {
            kty: RsaKeyType::RsaHsm,
            ..
        } = &self.key
            && self.vault.sku != VaultSku::Premium
        {
            return bad("RSA-HSM keys need vault.sku = \"premium\"".into());
        }
        if matches!(self.flow, Flow::Standard) && !self.vault.ip_rules.is_empty() {
            return bad("vault.ip_rules configure the firewall of the network_protected flow; the standard flow keeps the vault open".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(extra: &str) -> String {
        format!(
            r#"{{"subscription_id":"00000000-0000-0000-0000-000000000001","resource_group":"rg","location":"East US",
               "vault":{{"name":"kv-cmk-1"}},"key":{{"create":{{"name":"k"}}}},"flow":"standard"{extra}}}"#
        )
    }

    #[test]
    fn json_defaults() {
        let spec = DeploymentSpec::from_json_str(&json(
            r#","container_group":{"name":"cg","containers":[{"name":"c","image":"nginx"}]}"#,
        ))
        .expect("valid");
        assert_eq!(spec.location.as_str(), "eastus");
        assert_eq!(spec.vault.soft_delete_retention_days, 90);
        assert_eq!(spec.vault.authorization, VaultAuthorization::AccessPolicies);
        assert!(matches!(
            spec.key,
            KeySpec::Create {
                size: KeySize::Rsa2048,
                ..
            }
        ));
        let group = spec
            .workload
            .container_group()
            .expect("group")
            .to_container_group(&spec.location, &spec.tags);
        assert_eq!(
            group.properties.containers[0]
                .properties
                .resources
                .requests
                .cpu,
            1.0
        );
        assert_eq!(group.properties.restart_policy, Some(RestartPolicy::Always));
    }

    #[test]
    fn inconsistencies_are_reported() {
        let cases = [
            ("", "give a container_group or a template"),
            (
                r#","container_group":{"name":"cg","containers":[]}"#,
                "has no containers",
            ),
            (
                r#","container_group":{"name":"cg","containers":[{"name":"c","image":"i"}],"api_version":"2019-12-01"}"#,
                "unknown field",
            ),
        ];
        for (extra, expected) in cases {
            let err = DeploymentSpec::from_json_str(&json(extra)).expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
        let err =
            DeploymentSpec::from_json_str(&json(r#","unknown":1"#)).expect_err("unknown field");
        assert!(err.to_string().contains("unknown"), "{err}");
        let bad_name = json("").replace("kv-cmk-1", "kv--1");
        let err = DeploymentSpec::from_json_str(&bad_name).expect_err("bad vault name");
        assert!(err.to_string().contains("consecutive hyphens"), "{err}");
    }

    #[test]
    fn existing_key_must_be_in_the_vault() {
        let extra = r#","container_group":{"name":"cg","containers":[{"name":"c","image":"i"}]}"#;
        let text = json(extra).replace(
            r#"{"create":{"name":"k"}}"#,
            r#"{"existing":{"id":"https://other.vault.azure.net/keys/k"}}"#,
        );
        let err = DeploymentSpec::from_json_str(&text).expect_err("other vault");
        assert!(err.to_string().contains("not in vault"), "{err}");
    }
}
