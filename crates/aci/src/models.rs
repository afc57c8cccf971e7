//! The container group as ARM sends and receives it (`Microsoft.ContainerInstance/containerGroups`).
//!
//! Field names are the wire's camelCase. Unknown response fields are ignored, so newer
//! api-versions decode. `secureValue` environment values are [`SecretString`]s: sent on the
//! wire, never printed, and never returned by Azure on a GET.

use aci_cmk_core::{
    key_id::VaultUrl, names::KeyName, names::KeyVersion, resource_id::ResourceId,
    secret::SecretString,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A container group: the unit ACI deploys, with its containers, network and encryption.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerGroup {
    /// The ARM resource id (response only).
    #[serde(default, skip_serializing)]
    pub id: Option<String>,
    /// The group name (response only).
    #[serde(default, skip_serializing)]
    pub name: Option<String>,
    /// The region, e.g. `eastus`.
    pub location: String,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Availability zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// The managed identities of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ContainerGroupIdentity>,
    /// Everything else.
    pub properties: ContainerGroupProperties,
}

impl ContainerGroup {
    /// A Linux group in `location` running `containers`, with the `Standard` sku and restart
    /// policy `Always`.
    pub fn new(location: impl Into<String>, containers: Vec<Container>) -> Self {
        Self {
            location: location.into(),
            properties: ContainerGroupProperties {
                containers,
                os_type: OsType::Linux,
                sku: Some(Sku::Standard),
                restart_policy: Some(RestartPolicy::Always),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The provisioning state ARM reports (`Pending`, `Succeeded`, `Failed`, ...).
    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties.provisioning_state.as_deref()
    }
}

/// The `properties` of a container group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerGroupProperties {
    /// The containers.
    pub containers: Vec<Container>,
    /// `Linux` or `Windows`.
    pub os_type: OsType,
    /// `Standard`, `Dedicated` or `Confidential`. Encryption with a customer-managed key needs
    /// `Standard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// `Always`, `OnFailure` or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// The group's IP address, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<IpAddress>,
    /// Encryption of the group's persisted data with a customer-managed key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_properties: Option<EncryptionProperties>,
    /// The provisioning state (response only).
    #[serde(default, skip_serializing)]
    pub provisioning_state: Option<String>,
    /// The instance view: state and events (response only).
    #[serde(default, skip_serializing)]
    pub instance_view: Option<InstanceView>,
    /// The properties of a response this model has no field for (`volumes`, `subnetIds`,
    /// `imageRegistryCredentials`, …), by name, as read; never sent. A body rebuilt from a
    /// response lacks them: check this before putting one back.
    #[serde(default, flatten, skip_serializing)]
    pub unmodelled: BTreeMap<String, serde_json::Value>,
}

/// One container of a group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Container {
    /// The container name: lowercase letters, digits and hyphens.
    pub name: String,
    /// Everything else.
    pub properties: ContainerProperties,
}

impl Container {
    /// A container running `image` with `cpu` cores and `memory_in_gb` GB requested.
    pub fn new(
        name: impl Into<String>,
        image: impl Into<String>,
        cpu: f64,
        memory_in_gb: f64,
    ) -> Self {
        Self {
            name: name.into(),
            properties: ContainerProperties {
                image: image.into(),
                resources: ResourceRequirements {
                    requests: ResourceRequests { cpu, memory_in_gb },
                    limits: None,
                },
                ..Default::default()
            },
        }
    }

    /// Adds a plain environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties
            .environment_variables
            .push(EnvironmentVariable::plain(name, value));
        self
    }

    /// Adds a secure environment variable (`secureValue`).
    pub fn with_secure_env(mut self, name: impl Into<String>, value: SecretString) -> Self {
        self.properties
            .environment_variables
            .push(EnvironmentVariable::secure(name, value));
        self
    }

    /// Sets the command (exec form).
    pub fn with_command<I: IntoIterator<Item = S>, S: Into<String>>(mut self, command: I) -> Self {
        self.properties.command = command.into_iter().map(Into::into).collect();
        self
    }

    /// Opens a TCP port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.properties.ports.push(ContainerPort {
            port,
            protocol: Some(Protocol::Tcp),
        });
        self
    }
}

/// The `properties` of a container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerProperties {
    /// The image, e.g. `mcr.microsoft.com/azuredocs/aci-helloworld:latest`.
    pub image: String,
    /// The command to run (exec form), replacing the image's entry point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The ports the container exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Environment variables, plain or secure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables: Vec<EnvironmentVariable>,
    /// CPU and memory.
    pub resources: ResourceRequirements,
    /// The container's instance view (response only).
    #[serde(default, skip_serializing)]
    pub instance_view: Option<serde_json::Value>,
    /// The properties of a response this model has no field for (`volumeMounts`,
    /// `livenessProbe`, …), by name, as read; never sent.
    #[serde(default, flatten, skip_serializing)]
    pub unmodelled: BTreeMap<String, serde_json::Value>,
}

/// CPU and memory requests, and optional limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceRequirements {
    /// What the container is guaranteed.
    pub requests: ResourceRequests,
    /// What the container may use at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceLimits>,
}

/// Requested CPU and memory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceRequests {
    /// CPU cores.
    pub cpu: f64,
    /// Memory in GB.
    #[serde(rename = "memoryInGB")]
    pub memory_in_gb: f64,
}

/// CPU and memory limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceLimits {
    /// CPU cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    /// Memory in GB.
    #[serde(
        default,
        rename = "memoryInGB",
        skip_serializing_if = "Option::is_none"
    )]
    pub memory_in_gb: Option<f64>,
}

/// A port a container exposes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerPort {
    /// The port number.
    pub port: u16,
    /// TCP (the default) or UDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

/// A port of the group's IP address.
pub type Port = ContainerPort;

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
}

/// An environment variable: a plain `value` or a `secureValue`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnvironmentVariable {
    /// The variable name.
    pub name: String,
    /// A plain value, returned by GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A secure value: sent on create, never returned by GET, never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_value: Option<SecretString>,
}

impl EnvironmentVariable {
    /// A plain variable.
    pub fn plain(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
            secure_value: None,
        }
    }

    /// A secure variable.
    pub fn secure(name: impl Into<String>, value: SecretString) -> Self {
        Self {
            name: name.into(),
            value: None,
            secure_value: Some(value),
        }
    }
}

/// The operating system of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OsType {
    /// Linux.
    #[default]
    Linux,
    /// Windows.
    Windows,
}

/// When ACI restarts a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Always restart.
    Always,
    /// Restart when the container exits with an error.
    OnFailure,
    /// Never restart.
    Never,
}

/// The group's sku.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Sku {
    /// Shared hosts. The only sku that supports a customer-managed key.
    Standard,
    /// Dedicated hosts.
    Dedicated,
    /// Confidential containers.
    Confidential,
}

/// The group's IP address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IpAddress {
    /// `Public` or `Private`.
    #[serde(rename = "type")]
    pub kind: IpAddressType,
    /// The ports open on the address.
    pub ports: Vec<Port>,
    /// The DNS name label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name_label: Option<String>,
    /// The address (response only).
    #[serde(default, skip_serializing)]
    pub ip: Option<String>,
    /// The fully qualified domain name (response only).
    #[serde(default, skip_serializing)]
    pub fqdn: Option<String>,
}

/// Whether the IP address is public.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IpAddressType {
    /// A public address.
    #[default]
    Public,
    /// An address in a virtual network.
    Private,
}

/// The managed identities of a group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerGroupIdentity {
    /// Which identities.
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// The user-assigned identities, by ARM resource id. Values are empty in requests and carry
    /// `principalId` and `clientId` in responses.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_assigned_identities: BTreeMap<String, UserAssignedIdentityRef>,
    /// The system-assigned identity's principal id (response only).
    #[serde(default, skip_serializing)]
    pub principal_id: Option<String>,
    /// The tenant of the system-assigned identity (response only).
    #[serde(default, skip_serializing)]
    pub tenant_id: Option<String>,
}

impl ContainerGroupIdentity {
    /// The given user-assigned identities.
    pub fn user_assigned<'a>(ids: impl IntoIterator<Item = &'a ResourceId>) -> Self {
        Self {
            kind: IdentityType::UserAssigned,
            user_assigned_identities: ids
                .into_iter()
                .map(|id| (id.to_string(), UserAssignedIdentityRef::default()))
                .collect(),
            ..Default::default()
        }
    }

    /// Whether `id` is among the user-assigned identities (ids compare case-insensitively).
    pub fn has_user_assigned(&self, id: &ResourceId) -> bool {
        self.kind.includes_user_assigned()
            && self
                .user_assigned_identities
                .keys()
                .any(|k| k.parse::<ResourceId>().is_ok_and(|k| &k == id))
    }
}

/// The kind of managed identity of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IdentityType {
    /// A system-assigned identity.
    SystemAssigned,
    /// User-assigned identities.
    UserAssigned,
    /// Both.
    #[serde(rename = "SystemAssigned, UserAssigned")]
    SystemAndUserAssigned,
    /// None.
    #[default]
    None,
}

impl IdentityType {
    /// Whether user-assigned identities are part of this kind.
    pub fn includes_user_assigned(self) -> bool {
        matches!(
            self,
            IdentityType::UserAssigned | IdentityType::SystemAndUserAssigned
        )
    }
}

/// A user-assigned identity of a group: empty in requests, ids in responses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserAssignedIdentityRef {
    /// The identity's principal (object) id (response only).
    #[serde(default, skip_serializing)]
    pub principal_id: Option<String>,
    /// The identity's client id (response only).
    #[serde(default, skip_serializing)]
    pub client_id: Option<String>,
}

/// Encryption of a group's persisted data with a customer-managed key in Key Vault.
///
/// Fixed at creation: Azure refuses to change it on an existing group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EncryptionProperties {
    /// The vault's base URL, e.g. `https://myvault.vault.azure.net` (Azure echoes it with a
    /// trailing slash).
    pub vault_base_url: String,
    /// The key name.
    pub key_name: String,
    /// The key version: a specific version, as ACI needs.
    pub key_version: String,
    /// The user-assigned identity ACI uses to reach the key (api-version 2022-09-01 or later).
    /// Without it ACI uses its first-party service principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

impl EncryptionProperties {
    /// Encryption with `key_name` at `key_version` in the vault at `vault`, reached by the ACI
    /// first-party service principal.
    pub fn new(vault: &VaultUrl, key_name: &KeyName, key_version: &KeyVersion) -> Self {
        Self {
            vault_base_url: vault.as_str().to_owned(),
            key_name: key_name.to_string(),
            key_version: key_version.to_string(),
            identity: None,
        }
    }

    /// The same encryption, reached through a user-assigned identity.
    pub fn with_identity(mut self, identity: &ResourceId) -> Self {
        self.identity = Some(identity.to_string());
        self
    }

    /// Whether two encryption settings name the same key version and identity, ignoring the
    /// trailing slash Azure adds to the vault URL and the case of ids.
    pub fn same_as(&self, other: &EncryptionProperties) -> bool {
        let url = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        let id = |s: &Option<String>| s.as_deref().map(str::to_ascii_lowercase);
        url(&self.vault_base_url) == url(&other.vault_base_url)
            && self.key_name.eq_ignore_ascii_case(&other.key_name)
            && self.key_version.eq_ignore_ascii_case(&other.key_version)
            && id(&self.identity) == id(&other.identity)
    }
}

/// The instance view of a group: its state and events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InstanceView {
    /// The group state (`Pending`, `Running`, `Stopped`, ...).
    #[serde(default)]
    pub state: Option<String>,
    /// Events, newest last.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// An event of a group or container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Event {
    /// The event name, e.g. `Pulling`.
    #[serde(default)]
    pub name: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// `Normal` or `Warning`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// How often it happened.
    #[serde(default)]
    pub count: Option<u32>,
}

/// The logs of a container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Logs {
    /// The log text.
    #[serde(default)]
    pub content: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_the_model_lacks_are_kept_by_name_and_never_sent() {
        let group: ContainerGroup = serde_json::from_value(serde_json::json!({
            "location": "westeurope",
            "properties": {
                "osType": "Linux",
                "provisioningState": "Succeeded",
                "volumes": [{"name": "v", "emptyDir": {}}],
                "containers": [{"name": "app", "properties": {
                    "image": "nginx",
                    "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.5}},
                    "volumeMounts": [{"name": "v", "mountPath": "/data"}]
                }}]
            }
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = group
            .properties
            .unmodelled
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["volumes"]);
        let container = &group.properties.containers[0].properties;
        assert!(container.unmodelled.contains_key("volumeMounts"));
        let sent = serde_json::to_value(&group).unwrap_or_default();
        assert!(sent["properties"].get("volumes").is_none(), "{sent}");
        assert!(
            sent["properties"]["containers"][0]["properties"]
                .get("volumeMounts")
                .is_none()
        );
    }
}
