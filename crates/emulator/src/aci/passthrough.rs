//! Group properties the emulator stores and echoes without acting on them — image registry
//! credentials, Log Analytics diagnostics, extensions, priority, identity ACLs, confidential
//! compute — checked as far as that is cheap; and the properties it refuses as not emulated
//! (container group profiles, standby pools, Key Vault secret references).
//!
//! Registry passwords, workspace keys and resource ids, and extensions' protected settings
//! are secrets: sealed, never shown.

use super::errors::{AciError, bad, not_emulated};
use super::json::{array, object, objects, one_of, string, string_map};
use super::settings::{Part, Settings, pointer};
use serde_json::{Map, Value, json};

/// Properties of `properties` the emulator refuses (it does not emulate what they refer to).
pub const NOT_EMULATED: &[&str] = &[
    "containerGroupProfile",
    "standbyPoolProfile",
    "secretReferences",
];

/// Refuses the properties of [`NOT_EMULATED`].
pub fn refuse_not_emulated(props: &Map<String, Value>) -> Result<(), AciError> {
    match NOT_EMULATED
        .iter()
        .find(|k| props.get(**k).is_some_and(|v| !v.is_null()))
    {
        Some(k) => Err(not_emulated(&format!("properties.{k}"))),
        None => Ok(()),
    }
}

/// Copies the string fields `keys` of `from` (at `path`) into `to`.
fn copy_strings(
    from: &Map<String, Value>,
    to: &mut Value,
    keys: &[&str],
    path: &str,
) -> Result<(), AciError> {
    for key in keys {
        if let Some(v) = string(from, key, &format!("{path}.{key}"))? {
            to[*key] = v.into();
        }
    }
    Ok(())
}

/// `properties.imageRegistryCredentials` (`[{server, username?, password?, identity?,
/// identityUrl?}]`) into `settings`; an empty list is kept as sent.
pub fn registry_credentials(
    props: &Map<String, Value>,
    settings: &mut Settings,
) -> Result<(), AciError> {
    let path = "properties.imageRegistryCredentials";
    let Some(items) = array(props, "imageRegistryCredentials", path)? else {
        return Ok(());
    };
    let mut out = Vec::new();
    for (i, (cpath, c)) in objects(items, path)?.into_iter().enumerate() {
        if c.contains_key("passwordReference") {
            return Err(not_emulated(&format!("{cpath}.passwordReference")));
        }
        let server = string(c, "server", &format!("{cpath}.server"))?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                bad(
                    "InvalidImageRegistryCredential",
                    format!("'{cpath}.server' is required: the registry's login server, without a protocol."),
                )
            })?;
        let mut entry = json!({"server": server});
        copy_strings(
            c,
            &mut entry,
            &["username", "password", "identity", "identityUrl"],
            &cpath,
        )?;
        if entry.get("password").is_some() {
            settings.seal(
                pointer(&["imageRegistryCredentials", &i.to_string(), "password"]),
                Part::Secret,
            );
        }
        out.push(entry);
    }
    settings.insert("imageRegistryCredentials", Value::Array(out));
    Ok(())
}

/// `properties.diagnostics` (`{logAnalytics: {workspaceId, workspaceKey, logType?, metadata?,
/// workspaceResourceId?}}`) into `settings`.
pub fn diagnostics(props: &Map<String, Value>, settings: &mut Settings) -> Result<(), AciError> {
    let Some(d) = object(props, "diagnostics", "properties.diagnostics")? else {
        return Ok(());
    };
    let mut out = json!({});
    if let Some(la) = object(d, "logAnalytics", "properties.diagnostics.logAnalytics")? {
        let path = "properties.diagnostics.logAnalytics";
        let required = |key: &str| -> Result<String, AciError> {
            string(la, key, &format!("{path}.{key}"))?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    bad(
                        "InvalidDiagnostics",
                        format!("'{path}.{key}' is required: the Log Analytics workspace id and its key."),
                    )
                })
        };
        let mut entry = json!({
            "workspaceId": required("workspaceId")?,
            "workspaceKey": required("workspaceKey")?,
        });
        if let Some(t) = string(la, "logType", &format!("{path}.logType"))? {
            entry["logType"] = one_of(
                &t,
                &["ContainerInsights", "ContainerInstanceLogs"],
                "InvalidDiagnostics",
                "log type",
            )?
            .into();
        }
        if let Some(m) = string_map(la, "metadata", &format!("{path}.metadata"))? {
            entry["metadata"] = Value::Object(m.clone());
        }
        copy_strings(la, &mut entry, &["workspaceResourceId"], path)?;
        for secret in ["workspaceKey", "workspaceResourceId"] {
            settings.seal(
                pointer(&["diagnostics", "logAnalytics", secret]),
                Part::Secret,
            );
        }
        out["logAnalytics"] = entry;
    }
    settings.insert("diagnostics", out);
    Ok(())
}

/// `properties.extensions` (`[{name, properties: {extensionType, version, settings?,
/// protectedSettings?}}]`) into `settings`.
pub fn extensions(props: &Map<String, Value>, settings: &mut Settings) -> Result<(), AciError> {
    let Some(items) = array(props, "extensions", "properties.extensions")? else {
        return Ok(());
    };
    let mut out = Vec::new();
    for (i, (epath, e)) in objects(items, "properties.extensions")?
        .into_iter()
        .enumerate()
    {
        let invalid =
            |what: &str| bad("InvalidExtension", format!("'{epath}.{what}' is required."));
        let name = string(e, "name", &format!("{epath}.name"))?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("name"))?;
        let p = object(e, "properties", &format!("{epath}.properties"))?
            .ok_or_else(|| invalid("properties"))?;
        let ppath = format!("{epath}.properties");
        let mut entry_props = json!({});
        for key in ["extensionType", "version"] {
            let v = string(p, key, &format!("{ppath}.{key}"))?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid(&format!("properties.{key}")))?;
            entry_props[key] = v.into();
        }
        for key in ["settings", "protectedSettings"] {
            if let Some(m) = object(p, key, &format!("{ppath}.{key}"))? {
                entry_props[key] = Value::Object(m.clone());
            }
        }
        if entry_props.get("protectedSettings").is_some() {
            settings.seal(
                pointer(&[
                    "extensions",
                    &i.to_string(),
                    "properties",
                    "protectedSettings",
                ]),
                Part::Secret,
            );
        }
        out.push(json!({"name": name, "properties": entry_props}));
    }
    settings.insert("extensions", Value::Array(out));
    Ok(())
}

/// `properties.priority`, `identityAcls` and `confidentialComputeProperties` into `settings`.
pub fn scheduling_and_access(
    props: &Map<String, Value>,
    settings: &mut Settings,
) -> Result<(), AciError> {
    if let Some(p) = string(props, "priority", "properties.priority")? {
        let p = one_of(&p, &["Regular", "Spot"], "InvalidPriority", "priority")?;
        settings.insert("priority", p.into());
    }
    if let Some(acls) = object(props, "identityAcls", "properties.identityAcls")? {
        let levels = ["All", "System", "User"];
        let mut out = json!({});
        if let Some(d) = string(
            acls,
            "defaultAccess",
            "properties.identityAcls.defaultAccess",
        )? {
            out["defaultAccess"] =
                one_of(&d, &levels, "InvalidIdentityAcls", "access level")?.into();
        }
        if let Some(items) = array(acls, "acls", "properties.identityAcls.acls")? {
            let mut list = Vec::new();
            for (apath, a) in objects(items, "properties.identityAcls.acls")? {
                let mut entry = json!({});
                if let Some(level) = string(a, "access", &format!("{apath}.access"))? {
                    entry["access"] =
                        one_of(&level, &levels, "InvalidIdentityAcls", "access level")?.into();
                }
                copy_strings(a, &mut entry, &["identity"], &apath)?;
                list.push(entry);
            }
            out["acls"] = Value::Array(list);
        }
        settings.insert("identityAcls", out);
    }
    if let Some(cc) = object(
        props,
        "confidentialComputeProperties",
        "properties.confidentialComputeProperties",
    )? {
        let mut out = json!({});
        copy_strings(
            cc,
            &mut out,
            &["ccePolicy"],
            "properties.confidentialComputeProperties",
        )?;
        settings.insert("confidentialComputeProperties", out);
    }
    Ok(())
}
