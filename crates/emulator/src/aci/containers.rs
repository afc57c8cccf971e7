//! The containers and init containers of a container-group request, read and checked as ACI
//! does: names, image, resources (with GPUs), ports, command, environment, volume mounts,
//! probes, security context and config map.

use super::errors::{AciError, bad, not_emulated};
use super::json::{array, boolean, field, integer, object, objects, one_of, string, strings};
use super::network::ports;
use super::settings::{Part, Settings, pointer};
use super::volumes;
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
    /// Whether a value (`value` or `secureValue`) was sent at all.
    pub given: bool,
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
    /// `resources` as sent (requests and limits, GPUs included), validated.
    pub resources: Value,
    /// `ports` as sent.
    pub ports: Value,
    /// Command, exec form; `None` when none was sent (an empty one is kept).
    pub command: Option<Vec<String>>,
    /// Environment.
    pub env: Vec<EnvVar>,
    /// The properties stored and echoed as they are: `volumeMounts`, `livenessProbe`,
    /// `readinessProbe`, `securityContext`, `configMap`.
    pub settings: Settings,
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

/// `gpu` of requests or limits: `{count, sku}`, both required.
fn gpu(o: &Map<String, Value>, path: &str, code: &str) -> Result<Option<Value>, AciError> {
    let Some(g) = object(o, "gpu", path)? else {
        return Ok(None);
    };
    let count = integer(g, "count", &format!("{path}.count"))?
        .filter(|c| *c > 0)
        .ok_or_else(|| bad(code, format!("'{path}.count' must be a positive integer.")))?;
    let sku = string(g, "sku", &format!("{path}.sku"))?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            bad(
                code,
                format!("'{path}.sku' is required (K80, P100 or V100)."),
            )
        })?;
    Ok(Some(json!({"count": count, "sku": sku})))
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
    if let Some(g) = gpu(
        requests,
        &format!("{rpath}.requests.gpu"),
        "InvalidResourceRequests",
    )? {
        res["requests"]["gpu"] = g;
    }
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
        if let Some(g) = gpu(
            limits,
            &format!("{rpath}.limits.gpu"),
            "InvalidResourceLimits",
        )? {
            l.insert("gpu".into(), g);
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
        if e.contains_key("secureValueReference") {
            return Err(not_emulated(&format!("{epath}.secureValueReference")));
        }
        let value = string(e, "value", &format!("{epath}.value"))?;
        let secure = string(e, "secureValue", &format!("{epath}.secureValue"))?;
        let var = match (value, secure) {
            (Some(v), None) => EnvVar {
                name: ename,
                value: v,
                secure: false,
                given: true,
            },
            (None, Some(v)) => EnvVar {
                name: ename,
                value: v,
                secure: true,
                given: true,
            },
            (None, None) => EnvVar {
                name: ename,
                value: String::new(),
                secure: false,
                given: false,
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

fn probe(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Value>, AciError> {
    let Some(p) = object(o, key, path)? else {
        return Ok(None);
    };
    let mut out = json!({});
    if let Some(exec) = object(p, "exec", &format!("{path}.exec"))? {
        let mut e = json!({});
        if let Some(cmd) = strings(exec, "command", &format!("{path}.exec.command"))? {
            e["command"] = json!(cmd);
        }
        out["exec"] = e;
    }
    if let Some(http) = object(p, "httpGet", &format!("{path}.httpGet"))? {
        let hpath = format!("{path}.httpGet");
        let port = integer(http, "port", &format!("{hpath}.port"))?
            .filter(|n| (1..=65535).contains(n))
            .ok_or_else(|| {
                bad(
                    "InvalidProbe",
                    format!("'{hpath}.port' must be a port number from 1 to 65535."),
                )
            })?;
        let mut h = json!({"port": port});
        if let Some(p) = string(http, "path", &format!("{hpath}.path"))? {
            h["path"] = p.into();
        }
        if let Some(s) = string(http, "scheme", &format!("{hpath}.scheme"))? {
            h["scheme"] = one_of(&s, &["http", "https"], "InvalidProbe", "probe scheme")?.into();
        }
        if let Some(headers) = array(http, "httpHeaders", &format!("{hpath}.httpHeaders"))? {
            let mut list = Vec::new();
            for (hp, header) in objects(headers, &format!("{hpath}.httpHeaders"))? {
                let mut entry = json!({});
                for k in ["name", "value"] {
                    if let Some(v) = string(header, k, &format!("{hp}.{k}"))? {
                        entry[k] = v.into();
                    }
                }
                list.push(entry);
            }
            h["httpHeaders"] = Value::Array(list);
        }
        out["httpGet"] = h;
    }
    for k in [
        "initialDelaySeconds",
        "periodSeconds",
        "failureThreshold",
        "successThreshold",
        "timeoutSeconds",
    ] {
        if let Some(n) = integer(p, k, &format!("{path}.{k}"))? {
            if n < 0 {
                return Err(bad(
                    "InvalidProbe",
                    format!("'{path}.{k}' must not be negative."),
                ));
            }
            out[k] = n.into();
        }
    }
    Ok(Some(out))
}

fn security_context(o: &Map<String, Value>, path: &str) -> Result<Option<Value>, AciError> {
    let Some(s) = object(o, "securityContext", path)? else {
        return Ok(None);
    };
    let mut out = json!({});
    for k in ["privileged", "allowPrivilegeEscalation"] {
        if let Some(b) = boolean(s, k, &format!("{path}.{k}"))? {
            out[k] = b.into();
        }
    }
    for k in ["runAsGroup", "runAsUser"] {
        if let Some(n) = integer(s, k, &format!("{path}.{k}"))? {
            out[k] = n.into();
        }
    }
    if let Some(p) = string(s, "seccompProfile", &format!("{path}.seccompProfile"))? {
        out["seccompProfile"] = p.into();
    }
    if let Some(c) = object(s, "capabilities", &format!("{path}.capabilities"))? {
        let mut caps = json!({});
        for k in ["add", "drop"] {
            if let Some(list) = strings(c, k, &format!("{path}.capabilities.{k}"))? {
                caps[k] = json!(list);
            }
        }
        out["capabilities"] = caps;
    }
    Ok(Some(out))
}

/// Reads container `i` of `properties.containers`, whose mounts must name one of `volumes`.
pub fn container(i: usize, c: &Value, volumes: &[String]) -> Result<ContainerSpec, AciError> {
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
    let ppath = format!("{path}.properties");
    let mut settings = Settings::default();
    if let Some(m) = volumes::mounts(props, &format!("{ppath}.volumeMounts"), &name, volumes)? {
        settings.insert("volumeMounts", m);
    }
    for key in ["livenessProbe", "readinessProbe"] {
        if let Some(p) = probe(props, key, &format!("{ppath}.{key}"))? {
            settings.insert(key, p);
            // Probe commands are sealed like the container's command; headers may carry
            // credentials.
            settings.seal(pointer(&[key, "exec", "command"]), Part::Shown);
            settings.seal(pointer(&[key, "httpGet", "httpHeaders"]), Part::Shown);
        }
    }
    if let Some(s) = security_context(props, &format!("{ppath}.securityContext"))? {
        settings.insert("securityContext", s);
    }
    if let Some(cm) = object(props, "configMap", &format!("{ppath}.configMap"))? {
        let mut out = json!({});
        if let Some(kv) = super::json::string_map(
            cm,
            "keyValuePairs",
            &format!("{ppath}.configMap.keyValuePairs"),
        )? {
            out["keyValuePairs"] = Value::Object(kv.clone());
            settings.seal(pointer(&["configMap", "keyValuePairs"]), Part::Shown);
        }
        settings.insert("configMap", out);
    }
    Ok(ContainerSpec {
        name,
        image,
        resources,
        ports,
        command,
        env,
        settings,
    })
}

/// Reads `properties.initContainers` into `settings` (`initContainers`), their names not
/// among `taken` (the containers'), their mounts naming one of `volumes`. Plain environment
/// values and commands are sealed and shown; secure values are sealed and never shown.
pub fn init_containers(
    props: &Map<String, Value>,
    taken: &[String],
    volumes: &[String],
    settings: &mut Settings,
) -> Result<(), AciError> {
    let all = "properties.initContainers";
    let Some(items) = array(props, "initContainers", all)? else {
        return Ok(());
    };
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, (path, c)) in objects(items, all)?.into_iter().enumerate() {
        let name = name_of(c, &path)?;
        if taken.contains(&name) || names.contains(&name) {
            return Err(bad(
                "DuplicateContainerName",
                format!(
                    "The container name '{name}' appears twice (containers and init containers share names)."
                ),
            ));
        }
        let p = properties_of(c, &path)?;
        let index = i.to_string();
        let at = |rest: &[&str]| {
            let mut segs = vec!["initContainers", index.as_str(), "properties"];
            segs.extend_from_slice(rest);
            pointer(&segs)
        };
        let mut ip = json!({"image": image_of(p, &path, &name)?});
        if let Some(cmd) = command(p, &path)? {
            ip["command"] = json!(cmd);
            settings.seal(at(&["command"]), Part::Shown);
        }
        let env = environment(p, &path, &name)?;
        let mut vars = Vec::new();
        for (j, e) in env.iter().enumerate() {
            let j = j.to_string();
            match (e.given, e.secure) {
                (false, _) => vars.push(json!({"name": e.name})),
                (true, false) => {
                    vars.push(json!({"name": e.name, "value": e.value}));
                    settings.seal(at(&["environmentVariables", &j, "value"]), Part::Shown);
                }
                (true, true) => {
                    vars.push(json!({"name": e.name, "secureValue": e.value}));
                    settings.seal(
                        at(&["environmentVariables", &j, "secureValue"]),
                        Part::Secret,
                    );
                }
            }
        }
        if field(p, "environmentVariables").is_some() {
            ip["environmentVariables"] = Value::Array(vars);
        }
        let ppath = format!("{path}.properties");
        if let Some(m) = volumes::mounts(p, &format!("{ppath}.volumeMounts"), &name, volumes)? {
            ip["volumeMounts"] = m;
        }
        if let Some(s) = security_context(p, &format!("{ppath}.securityContext"))? {
            ip["securityContext"] = s;
        }
        out.push(json!({"name": name, "properties": ip}));
        names.push(name);
    }
    settings.insert("initContainers", Value::Array(out));
    Ok(())
}
