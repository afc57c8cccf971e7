//! The container group body as a client sends it: parsed and validated as Azure does it.

use super::errors::{AciError, bad};
use serde_json::{Map, Value};

/// One environment variable of a request.
#[derive(Debug, Clone)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// The value (plain or secure).
    pub value: String,
    /// Whether it came as `secureValue`.
    pub secure: bool,
}

/// One container of a request.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// `resources` as sent (requests and limits), validated.
    pub resources: Value,
    /// `ports` as sent.
    pub ports: Value,
    /// Command, exec form.
    pub command: Vec<String>,
    /// Environment.
    pub env: Vec<EnvVar>,
}

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
}

fn field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn string(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(
            "InvalidRequestContent",
            format!("'{path}' must be a string."),
        )),
    }
}

fn object<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(bad(
            "InvalidRequestContent",
            format!("'{path}' must be an object."),
        )),
    }
}

fn array<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(bad(
            "InvalidRequestContent",
            format!("'{path}' must be an array."),
        )),
    }
}

fn one_of(value: &str, allowed: &[&str], code: &str, what: &str) -> Result<String, AciError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            bad(
                code,
                format!(
                    "The {what} '{value}' is not supported. Supported values are: {}.",
                    allowed.join(", ")
                ),
            )
        })
}

/// Container group and container names: 1–63 lowercase letters, digits and hyphens, not
/// starting or ending with a hyphen, no consecutive hyphens.
pub fn valid_name(n: &str) -> bool {
    (1..=63).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with('-')
        && !n.ends_with('-')
        && !n.contains("--")
}

fn positive_number(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, AciError> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x > 0.0 && x.is_finite() => Ok(Some(x)),
            _ => Err(bad(
                "InvalidResourceRequests",
                format!("'{path}' must be a positive number."),
            )),
        },
        Some(_) => Err(bad(
            "InvalidResourceRequests",
            format!("'{path}' must be a number."),
        )),
    }
}

fn ports(value: Option<&Vec<Value>>, path: &str) -> Result<Value, AciError> {
    let mut out = Vec::new();
    for (i, p) in value.into_iter().flatten().enumerate() {
        let p = p.as_object().ok_or_else(|| {
            bad(
                "InvalidRequestContent",
                format!("'{path}[{i}]' must be an object."),
            )
        })?;
        let port = p
            .get("port")
            .and_then(Value::as_u64)
            .filter(|n| (1..=65535).contains(n))
            .ok_or_else(|| {
                bad(
                    "InvalidPort",
                    format!("'{path}[{i}].port' must be a port number from 1 to 65535."),
                )
            })?;
        let protocol = match string(p, "protocol", &format!("{path}[{i}].protocol"))? {
            Some(proto) => one_of(
                &proto,
                &["TCP", "UDP"],
                "InvalidPortProtocol",
                "port protocol",
            )?,
            None => "TCP".to_owned(),
        };
        out.push(serde_json::json!({"port": port, "protocol": protocol}));
    }
    Ok(Value::Array(out))
}

fn container(i: usize, c: &Value) -> Result<ContainerSpec, AciError> {
    let path = format!("properties.containers[{i}]");
    let c = c.as_object().ok_or_else(|| {
        bad(
            "InvalidRequestContent",
            format!("'{path}' must be an object."),
        )
    })?;
    let name = string(c, "name", &format!("{path}.name"))?.ok_or_else(|| {
        bad(
            "MissingContainerName",
            format!("'{path}.name' is required."),
        )
    })?;
    if !valid_name(&name) {
        return Err(bad(
            "InvalidContainerName",
            format!(
                "The container name '{name}' is invalid: use 1 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
            ),
        ));
    }
    let props = object(c, "properties", &format!("{path}.properties"))?.ok_or_else(|| {
        bad(
            "InvalidRequestContent",
            format!("'{path}.properties' is required."),
        )
    })?;
    let image = string(props, "image", &format!("{path}.properties.image"))?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            bad(
                "InvalidImage",
                format!("The image of container '{name}' is required."),
            )
        })?;
    let resources = object(props, "resources", &format!("{path}.properties.resources"))?
        .ok_or_else(|| {
            bad(
                "InvalidResourceRequests",
                format!("Container '{name}' must request cpu and memoryInGB."),
            )
        })?;
    let requests = object(resources, "requests", "resources.requests")?.ok_or_else(|| {
        bad(
            "InvalidResourceRequests",
            format!("Container '{name}' must request cpu and memoryInGB."),
        )
    })?;
    let cpu = positive_number(
        requests,
        "cpu",
        &format!("{path}.properties.resources.requests.cpu"),
    )?;
    let memory = positive_number(
        requests,
        "memoryInGB",
        &format!("{path}.properties.resources.requests.memoryInGB"),
    )?;
    let (Some(cpu), Some(memory)) = (cpu, memory) else {
        return Err(bad(
            "InvalidResourceRequests",
            format!("Container '{name}' must request cpu and memoryInGB."),
        ));
    };
    let mut res = serde_json::json!({"requests": {"cpu": cpu, "memoryInGB": memory}});
    if let Some(limits) = object(resources, "limits", "resources.limits")? {
        let lcpu = positive_number(
            limits,
            "cpu",
            &format!("{path}.properties.resources.limits.cpu"),
        )?;
        let lmem = positive_number(
            limits,
            "memoryInGB",
            &format!("{path}.properties.resources.limits.memoryInGB"),
        )?;
        if lcpu.is_some_and(|l| l < cpu) || lmem.is_some_and(|l| l < memory) {
            return Err(bad(
                "InvalidResourceLimits",
                format!("The limits of container '{name}' are lower than its requests."),
            ));
        }
        let mut l = Map::new();
        if let Some(x) = lcpu {
            l.insert("cpu".into(), x.into());
        }
        if let Some(x) = lmem {
            l.insert("memoryInGB".into(), x.into());
        }
        res["limits"] = Value::Object(l);
    }
    let ports = ports(
        array(props, "ports", &format!("{path}.properties.ports"))?,
        &format!("{path}.properties.ports"),
    )?;
    let command = match array(props, "command", &format!("{path}.properties.command"))? {
        None => Vec::new(),
        Some(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                bad(
                    "InvalidRequestContent",
                    format!("'{path}.properties.command' must be an array of strings."),
                )
            })?,
    };
    let mut env = Vec::new();
    for (j, e) in array(props, "environmentVariables", "environmentVariables")?
        .into_iter()
        .flatten()
        .enumerate()
    {
        let epath = format!("{path}.properties.environmentVariables[{j}]");
        let e = e.as_object().ok_or_else(|| {
            bad(
                "InvalidRequestContent",
                format!("'{epath}' must be an object."),
            )
        })?;
        let ename = string(e, "name", &format!("{epath}.name"))?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                bad(
                    "InvalidEnvironmentVariable",
                    format!("'{epath}.name' is required."),
                )
            })?;
        let value = string(e, "value", &format!("{epath}.value"))?;
        let secure = string(e, "secureValue", &format!("{epath}.secureValue"))?;
        let var = match (value, secure) {
            (Some(v), None) => EnvVar {
                name: ename,
                value: v,
                secure: false,
            },
            (None, Some(v)) => EnvVar {
                name: ename,
                value: v,
                secure: true,
            },
            (None, None) => EnvVar {
                name: ename,
                value: String::new(),
                secure: false,
            },
            (Some(_), Some(_)) => {
                return Err(bad(
                    "InvalidEnvironmentVariable",
                    format!(
                        "The environment variable '{ename}' of container '{name}' has both value and secureValue: give one."
                    ),
                ));
            }
        };
        if env.iter().any(|x: &EnvVar| x.name == var.name) {
            return Err(bad(
                "DuplicateEnvironmentVariable",
                format!(
                    "The environment variable '{}' appears twice in container '{name}'.",
                    var.name
                ),
            ));
        }
        env.push(var);
    }
    Ok(ContainerSpec {
        name,
        image,
        resources: res,
        ports,
        command,
        env,
    })
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
    let mut containers = Vec::new();
    for (i, c) in containers_raw.iter().enumerate() {
        let c = container(i, c)?;
        if containers.iter().any(|x: &ContainerSpec| x.name == c.name) {
            return Err(bad(
                "DuplicateContainerName",
                format!("The container name '{}' appears twice.", c.name),
            ));
        }
        containers.push(c);
    }
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
    let ip_address = match object(props, "ipAddress", "properties.ipAddress")? {
        None => None,
        Some(ip) => {
            let kind = string(ip, "type", "properties.ipAddress.type")?.ok_or_else(|| {
                bad(
                    "InvalidIpAddressType",
                    "properties.ipAddress.type is required: Public or Private.",
                )
            })?;
            let kind = one_of(
                &kind,
                &["Public", "Private"],
                "InvalidIpAddressType",
                "IP address type",
            )?;
            let ports = ports(
                array(ip, "ports", "properties.ipAddress.ports")?,
                "properties.ipAddress.ports",
            )?;
            if ports.as_array().is_none_or(Vec::is_empty) {
                return Err(bad(
                    "InvalidIpAddress",
                    "properties.ipAddress.ports needs at least one port.",
                ));
            }
            let mut out = serde_json::json!({"type": kind, "ports": ports});
            if let Some(label) = string(ip, "dnsNameLabel", "properties.ipAddress.dnsNameLabel")? {
                out["dnsNameLabel"] = label.into();
            }
            Some(out)
        }
    };
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
    })
}
