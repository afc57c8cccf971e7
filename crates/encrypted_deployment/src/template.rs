//! Adds customer-managed-key encryption to the container groups of an existing ARM template.
//!
//! [`inject_encryption`] sets, on every `Microsoft.ContainerInstance/containerGroups` resource:
//! `properties.encryptionProperties`, `properties.sku: Standard`, the `identity` block naming the
//! encryption identity (network-protected flow), and at least the api-version the flow needs.
//! It touches nothing else, and says what it changed.

use serde_json::{Map, Value, json};
use std::fmt;

const CONTAINER_GROUPS: &str = "Microsoft.ContainerInstance/containerGroups";
const MIN_API_VERSION: &str = "2019-12-01";
const MIN_API_VERSION_WITH_IDENTITY: &str = "2022-09-01";

/// The encryption to inject. Each value may be a literal or an ARM template expression
/// (`[parameters('keyVersion')]`), which is copied as is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateEncryption {
    /// The vault's base URL, e.g. `https://contoso-cmk.vault.azure.net`.
    pub vault_base_url: String,
    /// The key name.
    pub key_name: String,
    /// The key version.
    pub key_version: String,
    /// The user-assigned identity's resource id (network-protected flow), or `None` for the
    /// ACI first-party service principal (standard flow).
    pub identity: Option<String>,
}

impl TemplateEncryption {
    /// Encryption reached by the ACI first-party service principal.
    pub fn standard(
        vault_base_url: impl Into<String>,
        key_name: impl Into<String>,
        key_version: impl Into<String>,
    ) -> Self {
        Self {
            vault_base_url: vault_base_url.into(),
            key_name: key_name.into(),
            key_version: key_version.into(),
            identity: None,
        }
    }

    /// The same encryption, reached through a user-assigned identity.
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    fn encryption_properties(&self) -> Value {
        let mut props = json!({
            "vaultBaseUrl": self.vault_base_url,
            "keyName": self.key_name,
            "keyVersion": self.key_version,
        });
        if let Some(identity) = &self.identity {
            props["identity"] = json!(identity);
        }
        props
    }

    fn min_api_version(&self) -> &'static str {
        if self.identity.is_some() {
            MIN_API_VERSION_WITH_IDENTITY
        } else {
            MIN_API_VERSION
        }
    }
}

/// One change [`inject_encryption`] made.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TemplateChange {
    /// The resource, by its `name` as written in the template (possibly an expression).
    pub resource: String,
    /// The JSON path of the changed value inside the resource, e.g. `properties.sku`.
    pub path: String,
    /// The value before, `None` when it was absent.
    pub before: Option<Value>,
    /// The value after.
    pub after: Value,
}

impl fmt::Display for TemplateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.before {
            None => write!(f, "{}: set {} to {}", self.resource, self.path, self.after),
            Some(before) => write!(
                f,
                "{}: changed {} from {} to {}",
                self.resource, self.path, before, self.after
            ),
        }
    }
}

/// Why a template could not be given encryption.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template is not an object with a `resources` array.
    #[error("the template has no resources array")]
    NoResources,
    /// No container group in the template.
    #[error("the template has no Microsoft.ContainerInstance/containerGroups resource to encrypt")]
    NoContainerGroup,
    /// A container group asks for a sku other than Standard, which a customer-managed key needs.
    #[error(
        "container group {resource} asks for sku {sku}, but a customer-managed key needs sku Standard: change or remove its properties.sku"
    )]
    IncompatibleSku {
        /// The resource name as written.
        resource: String,
        /// The sku it asks for.
        sku: String,
    },
    /// A container group's apiVersion is not a literal date, so it cannot be compared.
    #[error(
        "container group {resource} has apiVersion {api_version:?}; write a literal version (at least {required})"
    )]
    UnreadableApiVersion {
        /// The resource name as written.
        resource: String,
        /// What the template says.
        api_version: String,
        /// What the flow needs.
        required: &'static str,
    },
    /// A container group's identity block is not an object with a known type.
    #[error("container group {resource} has an identity block that is not understood: {reason}")]
    UnreadableIdentity {
        /// The resource name as written.
        resource: String,
        /// What is wrong.
        reason: String,
    },
}

/// Adds `encryption` to every container group of `template` (top-level and nested `resources`),
/// returning the new template and the list of changes. Everything else is left as it was.
///
/// ```
/// use aci_cmk_encrypted_deployment::template::{inject_encryption, TemplateEncryption};
/// use serde_json::json;
///
/// let template = json!({
///     "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
///     "contentVersion": "1.0.0.0",
///     "resources": [{
///         "type": "Microsoft.ContainerInstance/containerGroups",
///         "apiVersion": "2021-10-01",
///         "name": "[parameters('name')]",
///         "location": "[resourceGroup().location]",
///         "properties": {"osType": "Linux", "containers": []}
///     }]
/// });
/// let uai = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id";
/// let encryption = TemplateEncryption::standard("https://v.vault.azure.net", "k", "[parameters('keyVersion')]")
///     .with_identity(uai);
/// let (patched, changes) = inject_encryption(&template, &encryption)?;
/// let cg = &patched["resources"][0];
/// assert_eq!(cg["apiVersion"], "2022-09-01");
/// assert_eq!(cg["properties"]["sku"], "Standard");
/// assert_eq!(cg["properties"]["encryptionProperties"]["keyVersion"], "[parameters('keyVersion')]");
/// assert_eq!(cg["identity"]["type"], "UserAssigned");
/// assert_eq!(cg["properties"]["osType"], "Linux", "untouched");
/// assert_eq!(changes.len(), 4);
/// # Ok::<(), aci_cmk_encrypted_deployment::template::TemplateError>(())
/// ```
pub fn inject_encryption(
    template: &Value,
    encryption: &TemplateEncryption,
) -> Result<(Value, Vec<TemplateChange>), TemplateError> {
    let mut patched = template.clone();
    let resources = patched
        .get_mut("resources")
        .and_then(Value::as_array_mut)
        .ok_or(TemplateError::NoResources)?;
    let mut changes = Vec::new();
    let mut found = 0;
    patch_resources(resources, encryption, &mut changes, &mut found)?;
    if found == 0 {
        return Err(TemplateError::NoContainerGroup);
    }
    Ok((patched, changes))
}

fn patch_resources(
    resources: &mut [Value],
    encryption: &TemplateEncryption,
    changes: &mut Vec<TemplateChange>,
    found: &mut usize,
) -> Result<(), TemplateError> {
    for resource in resources.iter_mut() {
        let Some(object) = resource.as_object_mut() else {
            continue;
        };
        let is_group = object
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(CONTAINER_GROUPS));
        if is_group {
            *found += 1;
            patch_group(object, encryption, changes)?;
        }
        if let Some(children) = object.get_mut("resources").and_then(Value::as_array_mut) {
            patch_resources(children, encryption, changes, found)?;
        }
    }
    Ok(())
}

fn patch_group(
    group: &mut Map<String, Value>,
    encryption: &TemplateEncryption,
    changes: &mut Vec<TemplateChange>,
) -> Result<(), TemplateError> {
    let resource = group
        .get("name")
        .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_owned))
        .unwrap_or_else(|| "(unnamed)".to_owned());
    let mut change = |path: &str, before: Option<Value>, after: Value| {
        if before.as_ref() != Some(&after) {
            changes.push(TemplateChange {
                resource: resource.clone(),
                path: path.to_owned(),
                before,
                after,
            });
        }
    };

    // apiVersion: at least what the flow needs.
    let required = encryption.min_api_version();
    let current = group.get("apiVersion").cloned();
    let current_text = current.as_ref().and_then(Value::as_str).unwrap_or("");
    let date = current_text.get(..10).unwrap_or("");
    let literal = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !literal {
        return Err(TemplateError::UnreadableApiVersion {
            resource,
            api_version: current_text.to_owned(),
            required,
        });
    }
    if date < required {
        group.insert("apiVersion".into(), json!(required));
        change("apiVersion", current, json!(required));
    }

    // properties.sku: Standard.
    let properties = group
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| TemplateError::UnreadableIdentity {
            resource: resource.clone(),
            reason: "properties is not an object".into(),
        })?;
    match properties.get("sku").and_then(Value::as_str) {
        Some(sku) if sku.eq_ignore_ascii_case("Standard") => {}
        Some(sku) if !sku.starts_with('[') => {
            return Err(TemplateError::IncompatibleSku {
                resource,
                sku: sku.to_owned(),
            });
        }
        _ => {
            let before = properties.insert("sku".into(), json!("Standard"));
            change("properties.sku", before, json!("Standard"));
        }
    }

    // properties.encryptionProperties.
    let after = encryption.encryption_properties();
    let before = properties.insert("encryptionProperties".into(), after.clone());
    change("properties.encryptionProperties", before, after);

    // identity: the encryption identity among the user-assigned identities.
    if let Some(identity) = &encryption.identity {
        let before = group.get("identity").cloned();
        let after = identity_with(before.as_ref(), identity).map_err(|reason| {
            TemplateError::UnreadableIdentity {
                resource: resource.clone(),
                reason,
            }
        })?;
        group.insert("identity".into(), after.clone());
        change("identity", before, after);
    }
    Ok(())
}

fn identity_with(existing: Option<&Value>, identity: &str) -> Result<Value, String> {
    let Some(existing) = existing else {
        return Ok(json!({"type": "UserAssigned", "userAssignedIdentities": {identity: {}}}));
    };
    let mut block = existing
        .as_object()
        .cloned()
        .ok_or("identity is not an object")?;
    let kind = block
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("None")
        .to_owned();
    let new_kind = match kind.to_ascii_lowercase().replace(' ', "").as_str() {
        "none" | "" | "userassigned" => "UserAssigned",
        "systemassigned" | "systemassigned,userassigned" => "SystemAssigned, UserAssigned",
        _ => return Err(format!("unknown identity type {kind:?}")),
    };
    block.insert("type".into(), json!(new_kind));
    let ids = block
        .entry("userAssignedIdentities")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("userAssignedIdentities is not an object")?;
    let listed = ids.keys().any(|k| k.eq_ignore_ascii_case(identity));
    if !listed {
        ids.insert(identity.to_owned(), json!({}));
    }
    Ok(Value::Object(block))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UAI: &str = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id";

    fn template(group: Value) -> Value {
        json!({"contentVersion": "1.0.0.0", "parameters": {"p": {"type": "string"}}, "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2019-06-01", "name": "sa"},
            group
        ], "outputs": {}})
    }

    fn group(api: &str) -> Value {
        json!({"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": api, "name": "cg", "location": "eastus",
               "properties": {"osType": "Linux", "containers": [{"name": "c"}]}})
    }

    fn standard() -> TemplateEncryption {
        TemplateEncryption::standard(
            "https://v.vault.azure.net",
            "k",
            "0123456789abcdef0123456789abcdef",
        )
    }

    #[test]
    fn standard_flow_touches_only_what_it_must() {
        let t = template(group("2023-05-01"));
        let (patched, changes) = inject_encryption(&t, &standard()).expect("ok");
        let paths: Vec<_> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["properties.sku", "properties.encryptionProperties"]);
        assert_eq!(
            patched["resources"][0], t["resources"][0],
            "other resources untouched"
        );
        assert_eq!(patched["parameters"], t["parameters"]);
        assert_eq!(
            patched["resources"][1]["apiVersion"], "2023-05-01",
            "new enough already"
        );
        assert!(patched["resources"][1].get("identity").is_none());
        // Applying twice changes nothing more.
        let (_, again) = inject_encryption(&patched, &standard()).expect("ok");
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn api_version_is_raised_to_the_flow_minimum() {
        let (p, _) = inject_encryption(&template(group("2018-10-01")), &standard()).expect("ok");
        assert_eq!(p["resources"][1]["apiVersion"], "2019-12-01");
        let (p, _) = inject_encryption(
            &template(group("2021-10-01")),
            &standard().with_identity(UAI),
        )
        .expect("ok");
        assert_eq!(p["resources"][1]["apiVersion"], "2022-09-01");
        let (p, _) = inject_encryption(
            &template(group("2022-10-01-preview")),
            &standard().with_identity(UAI),
        )
        .expect("ok");
        assert_eq!(p["resources"][1]["apiVersion"], "2022-10-01-preview");
    }

    #[test]
    fn identity_blocks_are_merged() {
        let mut g = group("2023-05-01");
        g["identity"] = json!({"type": "SystemAssigned"});
        let (p, _) = inject_encryption(&template(g), &standard().with_identity(UAI)).expect("ok");
        assert_eq!(
            p["resources"][1]["identity"]["type"],
            "SystemAssigned, UserAssigned"
        );
        assert!(
            p["resources"][1]["identity"]["userAssignedIdentities"]
                .get(UAI)
                .is_some()
        );

        let mut g = group("2023-05-01");
        let other = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other";
        g["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {other: {}}});
        let (p, _) = inject_encryption(&template(g), &standard().with_identity(UAI)).expect("ok");
        let ids = p["resources"][1]["identity"]["userAssignedIdentities"]
            .as_object()
            .expect("object");
        assert_eq!(ids.len(), 2, "the existing identity stays");
    }

    #[test]
    fn nested_groups_are_found_and_errors_are_clear() {
        let nested = json!({"resources": [{"type": "Microsoft.Resources/deployments", "name": "inner", "resources": [group("2023-05-01")]}]});
        let (_, changes) = inject_encryption(&nested, &standard()).expect("ok");
        assert_eq!(changes.len(), 2);

        assert_eq!(
            inject_encryption(&json!({}), &standard()),
            Err(TemplateError::NoResources)
        );
        assert_eq!(
            inject_encryption(&json!({"resources": []}), &standard()),
            Err(TemplateError::NoContainerGroup)
        );
        let mut g = group("2023-05-01");
        g["properties"]["sku"] = json!("Dedicated");
        assert!(matches!(
            inject_encryption(&template(g), &standard()),
            Err(TemplateError::IncompatibleSku { .. })
        ));
        let g = group("[variables('api')]");
        assert!(matches!(
            inject_encryption(&template(g), &standard()),
            Err(TemplateError::UnreadableApiVersion { .. })
        ));
    }
}
