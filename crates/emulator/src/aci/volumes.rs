//! A group's `volumes` (exactly one of `azureFile`, `emptyDir`, `secret`, `gitRepo` each) and
//! its containers' `volumeMounts` (each naming one of those volumes), checked as ACI checks
//! them. Storage account keys and secret volume contents are secrets: sealed, never shown.

use super::errors::{AciError, bad};
use super::json::{array, boolean, objects, string};
use super::settings::{Part, Settings, pointer};
use base64::Engine;
use serde_json::{Map, Value, json};

/// A volume problem (no kind or more than one, a required field missing, a secret value that
/// is not base64).
pub const INVALID_VOLUME: &str = "InvalidVolume";
/// Two volumes of one name.
pub const DUPLICATE_VOLUME: &str = "DuplicateVolumeName";
/// A volume mount without a name or a mount path, or with a path containing ':'.
pub const INVALID_MOUNT: &str = "InvalidVolumeMount";
/// A volume mount naming no volume of the group.
pub const VOLUME_NOT_FOUND: &str = "VolumeNotFound";

const KINDS: [&str; 4] = ["azureFile", "emptyDir", "secret", "gitRepo"];

/// Reads `properties.volumes` into `settings`; answers the volumes' names, for the mounts.
pub fn volumes(
    props: &Map<String, Value>,
    settings: &mut Settings,
) -> Result<Vec<String>, AciError> {
    let Some(items) = array(props, "volumes", "properties.volumes")? else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, (path, v)) in objects(items, "properties.volumes")?
        .into_iter()
        .enumerate()
    {
        let name = string(v, "name", &format!("{path}.name"))?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad(INVALID_VOLUME, format!("'{path}.name' is required.")))?;
        if names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            return Err(bad(
                DUPLICATE_VOLUME,
                format!("The volume name '{name}' appears twice in properties.volumes."),
            ));
        }
        if v.contains_key("secretReference") {
            return Err(super::errors::not_emulated(&format!(
                "{path}.secretReference"
            )));
        }
        let given: Vec<&str> = KINDS
            .iter()
            .copied()
            .filter(|k| v.get(*k).is_some_and(|x| !x.is_null()))
            .collect();
        let [kind] = given[..] else {
            return Err(bad(
                INVALID_VOLUME,
                format!(
                    "Volume '{name}' must have exactly one of azureFile, emptyDir, secret or gitRepo; it has {}.",
                    if given.is_empty() {
                        "none".to_owned()
                    } else {
                        given.join(" and ")
                    }
                ),
            ));
        };
        let kpath = format!("{path}.{kind}");
        let body = match v.get(kind) {
            Some(Value::Object(m)) => m,
            _ => {
                return Err(bad(
                    "InvalidRequestContent",
                    format!("'{kpath}' must be an object."),
                ));
            }
        };
        let index = i.to_string();
        let value = match kind {
            "azureFile" => azure_file(body, &kpath, &name, &index, settings)?,
            "emptyDir" => Value::Object(body.clone()),
            "secret" => secret(body, &kpath, &name, &index, settings)?,
            _ => git_repo(body, &kpath, &name)?,
        };
        out.push(json!({"name": name, kind: value}));
        names.push(name);
    }
    settings.insert("volumes", Value::Array(out));
    Ok(names)
}

fn azure_file(
    body: &Map<String, Value>,
    path: &str,
    name: &str,
    index: &str,
    settings: &mut Settings,
) -> Result<Value, AciError> {
    if body.contains_key("storageAccountKeyReference") {
        return Err(super::errors::not_emulated(&format!(
            "{path}.storageAccountKeyReference"
        )));
    }
    let required = |key: &str| -> Result<String, AciError> {
        string(body, key, &format!("{path}.{key}"))?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                bad(
                    INVALID_VOLUME,
                    format!("The Azure Files volume '{name}' needs '{path}.{key}'."),
                )
            })
    };
    let mut out = json!({
        "shareName": required("shareName")?,
        "storageAccountName": required("storageAccountName")?,
    });
    if let Some(ro) = boolean(body, "readOnly", &format!("{path}.readOnly"))? {
        out["readOnly"] = ro.into();
    }
    if let Some(key) = string(
        body,
        "storageAccountKey",
        &format!("{path}.storageAccountKey"),
    )? {
        out["storageAccountKey"] = key.into();
        settings.seal(
            pointer(&["volumes", index, "azureFile", "storageAccountKey"]),
            Part::Secret,
        );
    }
    Ok(out)
}

fn secret(
    body: &Map<String, Value>,
    path: &str,
    name: &str,
    index: &str,
    settings: &mut Settings,
) -> Result<Value, AciError> {
    if !body.values().all(Value::is_string) {
        return Err(bad(
            "InvalidRequestContent",
            format!("'{path}' must be an object whose values are strings."),
        ));
    }
    let map = body.clone();
    for (file, v) in &map {
        // Values are base64 (the Azure CLI encodes them); the message never quotes one.
        let encoded = v.as_str().unwrap_or_default();
        if base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .is_err()
        {
            return Err(bad(
                INVALID_VOLUME,
                format!("The value of '{file}' in secret volume '{name}' must be base64-encoded."),
            ));
        }
        settings.seal(pointer(&["volumes", index, "secret", file]), Part::Secret);
    }
    Ok(Value::Object(map))
}

fn git_repo(body: &Map<String, Value>, path: &str, name: &str) -> Result<Value, AciError> {
    let repository = string(body, "repository", &format!("{path}.repository"))?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            bad(
                INVALID_VOLUME,
                format!("The git repo volume '{name}' needs '{path}.repository'."),
            )
        })?;
    let mut out = json!({"repository": repository});
    if let Some(dir) = string(body, "directory", &format!("{path}.directory"))? {
        if dir.split('/').any(|s| s == "..") {
            return Err(bad(
                INVALID_VOLUME,
                format!("'{path}.directory' must not contain or start with '..'."),
            ));
        }
        out["directory"] = dir.into();
    }
    if let Some(rev) = string(body, "revision", &format!("{path}.revision"))? {
        out["revision"] = rev.into();
    }
    Ok(out)
}

/// Reads a container's `volumeMounts` (at `path`), each naming one of `volumes`.
pub fn mounts(
    props: &Map<String, Value>,
    path: &str,
    container: &str,
    volumes: &[String],
) -> Result<Option<Value>, AciError> {
    let Some(items) = array(props, "volumeMounts", path)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (mpath, m) in objects(items, path)? {
        let name = string(m, "name", &format!("{mpath}.name"))?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad(INVALID_MOUNT, format!("'{mpath}.name' is required.")))?;
        let mount_path = string(m, "mountPath", &format!("{mpath}.mountPath"))?
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad(INVALID_MOUNT, format!("'{mpath}.mountPath' is required.")))?;
        if mount_path.contains(':') {
            return Err(bad(
                INVALID_MOUNT,
                format!(
                    "The volume mount path '{mount_path}' of container '{container}' cannot contain ':'."
                ),
            ));
        }
        if !volumes.iter().any(|v| v.eq_ignore_ascii_case(&name)) {
            return Err(bad(
                VOLUME_NOT_FOUND,
                format!(
                    "Container '{container}' mounts volume '{name}', which is not among properties.volumes{}.",
                    if volumes.is_empty() {
                        " (the group has none)".to_owned()
                    } else {
                        format!(" ({})", volumes.join(", "))
                    }
                ),
            ));
        }
        let mut entry = json!({"name": name, "mountPath": mount_path});
        if let Some(ro) = boolean(m, "readOnly", &format!("{mpath}.readOnly"))? {
            entry["readOnly"] = ro.into();
        }
        out.push(entry);
    }
    Ok(Some(Value::Array(out)))
}
