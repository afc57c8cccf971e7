//! The container group body as a client sends it: parsed and validated as Azure does it.
//! The containers are read by [`containers`](super::containers), the network by
//! [`network`](super::network), volumes by [`volumes`](super::volumes), and the properties
//! only stored and echoed by [`passthrough`](super::passthrough).

use super::containers::{self, ContainerSpec};
use super::errors::{AciError, bad};
use super::json::{array, object, one_of, string};
use super::settings::Settings;
use super::{network, passthrough, volumes};
use serde_json::{Map, Value};

/// The group's identity block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySpec {
    /// `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None`.
    pub kind: String,
    /// User-assigned identity ids as sent.
    pub user_assigned: Vec<String>,
}

impl IdentitySpec {
    /// Whether user-assigned identities are part of it.
    pub fn has_user_assigned(&self) -> bool {
        self.kind.contains("UserAssigned")
    }

    /// Whether it has a system-assigned identity.
    pub fn has_system_assigned(&self) -> bool {
        self.kind.starts_with("SystemAssigned")
    }
}

/// `encryptionProperties` as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionSpec {
    /// vaultBaseUrl as sent.
    pub vault_base_url: String,
    /// keyName.
    pub key_name: String,
    /// keyVersion.
    pub key_version: String,
    /// identity (a user-assigned identity id), 2022-09-01 and later.
    pub identity: Option<String>,
}

/// A parsed, validated container group request.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Location.
    pub location: String,
    /// Tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Zones.
    pub zones: Vec<String>,
    /// Identity block.
    pub identity: Option<IdentitySpec>,
    /// `Standard`, `Dedicated` or `Confidential` (`None`: not sent).
    pub sku: Option<String>,
    /// `Linux` or `Windows`.
    pub os_type: String,
    /// `Always`, `OnFailure` or `Never`.
    pub restart_policy: String,
    /// `ipAddress` as sent (validated).
    pub ip_address: Option<Value>,
    /// Containers.
    pub containers: Vec<ContainerSpec>,
    /// Encryption.
    pub encryption: Option<EncryptionSpec>,
    /// The group properties stored and echoed as they are: `volumes`,
    /// `imageRegistryCredentials`, `initContainers`, `subnetIds`, `dnsConfig`, `diagnostics`,
    /// `extensions`, `priority`, `identityAcls`, `confidentialComputeProperties`.
    pub settings: Settings,
}

fn identity(o: &Map<String, Value>) -> Result<Option<IdentitySpec>, AciError> {
    let Some(id) = object(o, "identity", "identity")? else {
        return Ok(None);
    };
    let kind = string(id, "type", "identity.type")?.unwrap_or_else(|| "None".to_owned());
    let kind = one_of(
        &kind,
        &[
            "SystemAssigned",
            "UserAssigned",
            "SystemAssigned, UserAssigned",
            "None",
        ],
        "InvalidIdentityType",
        "identity type",
    )?;
    let ids: Vec<String> = object(
        id,
        "userAssignedIdentities",
        "identity.userAssignedIdentities",
    )?
    .map(|m| m.keys().cloned().collect())
    .unwrap_or_default();
    let spec = IdentitySpec {
        kind,
        user_assigned: ids,
    };
    if spec.has_user_assigned() && spec.user_assigned.is_empty() {
        return Err(bad(
            "InvalidIdentity",
            "The identity type includes UserAssigned but identity.userAssignedIdentities is empty.",
        ));
    }
    if !spec.has_user_assigned() && !spec.user_assigned.is_empty() {
        return Err(bad(
            "InvalidIdentity",
            format!(
                "identity.userAssignedIdentities is only allowed with type UserAssigned, not '{}'.",
                spec.kind
            ),
        ));
    }
    Ok(Some(spec))
}

fn encryption(props: &Map<String, Value>) -> Result<Option<EncryptionSpec>, AciError> {
    let Some(e) = object(
        props,
        "encryptionProperties",
        "properties.encryptionProperties",
    )?
    else {
        return Ok(None);
    };
    let required = |key: &str| -> Result<String, AciError> {
        string(e, key, &format!("properties.encryptionProperties.{key}"))?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                bad(
                    "InvalidEncryptionProperties",
                    format!("properties.encryptionProperties.{key} is required: give the vault base URL, the key name and a specific key version."),
                )
            })
    };
    Ok(Some(EncryptionSpec {
        vault_base_url: required("vaultBaseUrl")?,
        key_name: required("keyName")?,
        key_version: required("keyVersion")?,
        identity: string(e, "identity", "properties.encryptionProperties.identity")?
            .filter(|s| !s.is_empty()),
    }))
}

/// Parses and validates a container group body (everything but the CMK rules).
pub fn parse(body: &Map<String, Value>) -> Result<GroupSpec, AciError> {
    let location = string(body, "location", "location")?
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            bad(
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    let tags = match object(body, "tags", "tags")? {
        None => Default::default(),
        Some(t) => t
            .iter()
            .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("InvalidRequestContent", "Tag values must be strings."))?,
    };
    let zones = array(body, "zones", "zones")?
        .map(|z| {
            z.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let props = object(body, "properties", "properties")?.ok_or_else(|| {
        bad(
            "InvalidRequestContent",
            "The properties of the container group are required.",
        )
    })?;
    let containers_raw = array(props, "containers", "properties.containers")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            bad(
                "MissingContainers",
                "A container group needs at least one container in properties.containers.",
            )
        })?;
    passthrough::refuse_not_emulated(props)?;
    let mut settings = Settings::default();
    let volume_names = volumes::volumes(props, &mut settings)?;
    let mut containers = Vec::new();
    for (i, c) in containers_raw.iter().enumerate() {
        let c = containers::container(i, c, &volume_names)?;
        if containers.iter().any(|x: &ContainerSpec| x.name == c.name) {
            return Err(bad(
                "DuplicateContainerName",
                format!("The container name '{}' appears twice.", c.name),
            ));
        }
        containers.push(c);
    }
    let names: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
    containers::init_containers(props, &names, &volume_names, &mut settings)?;
    passthrough::registry_credentials(props, &mut settings)?;
    passthrough::diagnostics(props, &mut settings)?;
    passthrough::extensions(props, &mut settings)?;
    passthrough::scheduling_and_access(props, &mut settings)?;
    network::subnet_ids(props, &mut settings)?;
    network::dns_config(props, &mut settings)?;
    let os_type = string(props, "osType", "properties.osType")?.ok_or_else(|| {
        bad(
            "InvalidOsType",
            "properties.osType is required: Linux or Windows.",
        )
    })?;
    let os_type = one_of(&os_type, &["Linux", "Windows"], "InvalidOsType", "OS type")?;
    let restart_policy = match string(props, "restartPolicy", "properties.restartPolicy")? {
        Some(p) => one_of(
            &p,
            &["Always", "OnFailure", "Never"],
            "InvalidRestartPolicy",
            "restart policy",
        )?,
        None => "Always".to_owned(),
    };
    let sku = match string(props, "sku", "properties.sku")? {
        Some(s) => Some(one_of(
            &s,
            &["Standard", "Dedicated", "Confidential"],
            "InvalidSku",
            "sku",
        )?),
        None => None,
    };
    let ip_address = network::ip_address(props)?;
    Ok(GroupSpec {
        location,
        tags,
        zones,
        identity: identity(body)?,
        sku,
        os_type,
        restart_policy,
        ip_address,
        containers,
        encryption: encryption(props)?,
        settings,
    })
}
