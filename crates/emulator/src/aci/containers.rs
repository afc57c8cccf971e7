//! The containers of a container-group request, read and checked as ACI does: names, image,
//! resources, ports, command and environment.

use super::errors::{AciError, bad};
use super::json::{array, field, object, objects, string, strings};
use super::network::ports;
use serde_json::{Map, Value, json};

/// One environment variable of a request. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// The value (plain or secure).
    pub value: String,
    /// Whether it came as `secureValue`.
    pub secure: bool,
}

impl std::fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvVar")
            .field("name", &self.name)
            .field("value", &"***")
            .field("secure", &self.secure)
            .finish()
    }
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
    /// Command, exec form; `None` when none was sent (an empty one is kept).
    pub command: Option<Vec<String>>,
    /// Environment.
    pub env: Vec<EnvVar>,
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

fn name_of(c: &Map<String, Value>, path: &str) -> Result<String, AciError> {
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
    Ok(name)
}

fn properties_of<'a>(
    c: &'a Map<String, Value>,
    path: &str,
) -> Result<&'a Map<String, Value>, AciError> {
    object(c, "properties", &format!("{path}.properties"))?.ok_or_else(|| {
        bad(
            "InvalidRequestContent",
            format!("'{path}.properties' is required."),
        )
    })
}

fn image_of(props: &Map<String, Value>, path: &str, name: &str) -> Result<String, AciError> {
    string(props, "image", &format!("{path}.properties.image"))?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            bad(
                "InvalidImage",
                format!("The image of container '{name}' is required."),
            )
        })
}

fn resources(props: &Map<String, Value>, path: &str, name: &str) -> Result<Value, AciError> {
    let rpath = format!("{path}.properties.resources");
    let missing = || {
        bad(
            "InvalidResourceRequests",
            format!("Container '{name}' must request cpu and memoryInGB."),
        )
    };
    let resources = object(props, "resources", &rpath)?.ok_or_else(missing)?;
    let requests =
        object(resources, "requests", &format!("{rpath}.requests"))?.ok_or_else(missing)?;
    let cpu = positive_number(requests, "cpu", &format!("{rpath}.requests.cpu"))?;
    let memory = positive_number(
        requests,
        "memoryInGB",
        &format!("{rpath}.requests.memoryInGB"),
    )?;
    let (Some(cpu), Some(memory)) = (cpu, memory) else {
        return Err(missing());
    };
    let mut res = json!({"requests": {"cpu": cpu, "memoryInGB": memory}});
    if let Some(limits) = object(resources, "limits", &format!("{rpath}.limits"))? {
        let lcpu = positive_number(limits, "cpu", &format!("{rpath}.limits.cpu"))?;
        let lmem = positive_number(limits, "memoryInGB", &format!("{rpath}.limits.memoryInGB"))?;
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
    Ok(res)
}

fn command(props: &Map<String, Value>, path: &str) -> Result<Option<Vec<String>>, AciError> {
    strings(props, "command", &format!("{path}.properties.command"))
}

fn environment(
    props: &Map<String, Value>,
    path: &str,
    name: &str,
) -> Result<Vec<EnvVar>, AciError> {
    let epath_all = format!("{path}.properties.environmentVariables");
    let mut env: Vec<EnvVar> = Vec::new();
    let items = array(props, "environmentVariables", &epath_all)?;
    for (epath, e) in objects(items.map_or(&[][..], Vec::as_slice), &epath_all)? {
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
        if env.iter().any(|x| x.name == var.name) {
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
    Ok(env)
}

/// Reads container `i` of `properties.containers`.
pub fn container(i: usize, c: &Value) -> Result<ContainerSpec, AciError> {
    let path = format!("properties.containers[{i}]");
    let c = c.as_object().ok_or_else(|| {
        bad(
            "InvalidRequestContent",
            format!("'{path}' must be an object."),
        )
    })?;
    let name = name_of(c, &path)?;
    let props = properties_of(c, &path)?;
    let image = image_of(props, &path, &name)?;
    let resources = resources(props, &path, &name)?;
    let ports = ports(
        array(props, "ports", &format!("{path}.properties.ports"))?,
        &format!("{path}.properties.ports"),
    )?;
    let command = command(props, &path)?;
    let env = environment(props, &path, &name)?;
    Ok(ContainerSpec {
        name,
        image,
        resources,
        ports,
        command,
        env,
    })
}
