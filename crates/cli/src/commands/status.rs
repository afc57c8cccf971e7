//! `aci-cmk status SPEC`: what is deployed, read through the client traits and shown as
//! Azure reports it: the resource group, the vault (live, soft-deleted or absent), the key's
//! id and latest version, the identity, and each container group's provisioning state,
//! instance state and encryption properties. Nothing is written, and no container's
//! environment is shown.

use super::session::Session;
use crate::{args::SpecCommandArgs, error::CliError, output::Outcome, progress_view::ProgressView};
use aci_cmk_aci::models::{ContainerGroup, EncryptionProperties};
use aci_cmk_core::names::ContainerGroupName;
use aci_cmk_encrypted_deployment::{
    Backends,
    error::BackendError,
    spec::{DeploymentSpec, Flow, KeySpec, Workload},
};
use serde::Serialize;
use std::{fmt::Write as _, sync::Arc};

/// What is deployed.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The subscription read.
    pub subscription_id: String,
    /// The resource group.
    pub resource_group: Item,
    /// The vault.
    pub vault: Item,
    /// The key, at its latest version (or the spec's).
    pub key: Item,
    /// The identity of the network-protected flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Item>,
    /// The template deployment, when the spec deploys a template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Item>,
    /// The container groups.
    pub container_groups: Vec<GroupStatus>,
}

/// One resource: whether it is there, and what Azure says of it.
#[derive(Debug, Default, Serialize)]
pub struct Item {
    /// Its name.
    pub name: String,
    /// `present`, `absent`, `soft_deleted` or `unreadable`.
    pub state: &'static str,
    /// Its id (ARM resource id, or key id with version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What else matters about it, as Azure reports it.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Item {
    fn new(name: impl ToString, state: &'static str) -> Self {
        Self {
            name: name.to_string(),
            state,
            ..Self::default()
        }
    }

    fn detail(mut self, key: &str, value: impl Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value)
            && !value.is_null()
        {
            self.details.insert(key.to_owned(), value);
        }
        self
    }

    /// Absent when not found, else unreadable with the error.
    fn failed(name: impl ToString, error: BackendError) -> Self {
        if error.is_not_found() {
            return Self::new(name, "absent");
        }
        let mut item = Self::new(name, "unreadable");
        item.error = Some(crate::error::chain(&error));
        item
    }
}

/// A container group as Azure reports it.
#[derive(Debug, Serialize)]
pub struct GroupStatus {
    /// Whether and how it exists.
    #[serde(flatten)]
    pub item: Item,
    /// Its provisioning state (`Succeeded`, `Pending`, `Failed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Its instance state (`Running`, `Stopped`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_state: Option<String>,
    /// Its encryption properties, as Azure reports them (`None`: Microsoft-managed keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<EncryptionProperties>,
}

/// Reads the status.
pub async fn run(args: SpecCommandArgs, view: &Arc<ProgressView>) -> Result<Outcome, CliError> {
    let session = Session::open(&args.spec, &args.connect, view).await?;
    let status = {
        let _busy = view.busy("reading what is deployed");
        read(session.orchestrator.backends(), &session.spec).await
    };
    session.close().await;
    let status = status?;
    let text = render(&status);
    Ok(Outcome::ok(
        serde_json::to_value(&status).unwrap_or_default(),
        text,
    ))
}

/// Reads everything `spec` deploys.
pub async fn read(backends: &Backends, spec: &DeploymentSpec) -> Result<Status, CliError> {
    let rg = &spec.resource_group;
    // The first read: a failure here (signing in, the subscription) is the command's error.
    let resource_group = match backends.resource_groups.get(rg, None).await {
        Ok(Some(group)) => Item::new(rg, "present")
            .detail("location", group.location)
            .detail(
                "provisioning_state",
                group.properties.and_then(|p| p.provisioning_state),
            ),
        Ok(None) => Item::new(rg, "absent"),
        Err(e) => {
            return Err(CliError::Read {
                what: format!("resource group {rg}"),
                message: crate::error::chain(&e),
            });
        }
    };
    let name = &spec.vault.name;
    let (vault, vault_url) = match backends.vaults.get(rg, name, None).await {
        Ok(vault) => {
            let p = &vault.properties;
            let firewall = p
                .network_acls
                .as_ref()
                .and_then(|acls| acls.default_action.as_ref())
                .map(ToString::to_string);
            let item = Item::new(name, "present")
                .detail("uri", p.vault_uri.as_ref().map(ToString::to_string))
                .detail(
                    "authorization",
                    if p.enable_rbac_authorization == Some(true) {
                        "rbac"
                    } else {
                        "access_policies"
                    },
                )
                .detail("soft_delete", p.enable_soft_delete)
                .detail("purge_protection", p.enable_purge_protection)
                .detail("firewall_default_action", firewall);
            let mut item = item;
            item.id = Some(vault.id.to_string());
            (item, p.vault_uri.clone())
        }
        Err(e) => {
            let e = BackendError::from(e);
            let item = if e.is_not_found() {
                match backends
                    .vaults
                    .get_deleted(&spec.location, name, None)
                    .await
                {
                    Ok(deleted) => Item::new(name, "soft_deleted").detail(
                        "scheduled_purge_date",
                        deleted.properties.scheduled_purge_date.map(rfc3339),
                    ),
                    Err(_) => Item::new(name, "absent"),
                }
            } else {
                Item::failed(name, e)
            };
            (item, None)
        }
    };
    let key_name = spec.key.name();
    let key = match &vault_url {
        None => Item::new(key_name, "absent"),
        Some(url) => {
            let version = match &spec.key {
                KeySpec::Existing { id, .. } => id.version().cloned(),
                _ => None,
            };
            match backends
                .keys
                .get_key(url, key_name, version.as_ref(), None)
                .await
            {
                Ok(key) => {
                    let mut item = Item::new(key_name, "present")
                        .detail("version", key.version.to_string())
                        .detail("enabled", key.enabled)
                        .detail("kty", key.kty.map(|k| k.to_string()))
                        .detail("created", key.created.map(rfc3339))
                        .detail("expires", key.expires.map(rfc3339));
                    item.id = Some(key.kid.to_string());
                    item
                }
                Err(e) => Item::failed(key_name, e.into()),
            }
        }
    };
    let identity = match &spec.flow {
        Flow::NetworkProtected { identity_name } => Some(
            match backends.identities.get(rg, identity_name, None).await {
                Ok(identity) => {
                    let mut item = Item::new(identity_name, "present")
                        .detail("principal_id", identity.principal_id.to_string())
                        .detail("client_id", identity.client_id.to_string());
                    item.id = Some(identity.id.to_string());
                    item
                }
                Err(e) => Item::failed(identity_name, e.into()),
            },
        ),
        _ => None,
    };
    let mut groups: Vec<(aci_cmk_core::names::ResourceGroupName, ContainerGroupName)> = Vec::new();
    let deployment = match &spec.workload {
        Workload::ContainerGroup(group) => {
            groups.push((rg.clone(), group.name.clone()));
            None
        }
        Workload::Template(template) => {
            let name = &template.deployment_name;
            Some(match backends.deployments.get(rg, name, None).await {
                Ok(deployment) => {
                    groups.extend(
                        deployment
                            .properties
                            .output_resources
                            .iter()
                            .filter_map(|r| container_group_of(&r.id)),
                    );
                    let mut item = Item::new(name, "present").detail(
                        "provisioning_state",
                        deployment.properties.provisioning_state,
                    );
                    item.id = deployment.id;
                    item
                }
                Err(e) => Item::failed(name, e.into()),
            })
        }
        _ => None,
    };
    let mut container_groups = Vec::new();
    for (group_rg, name) in groups {
        container_groups.push(
            match backends.container_groups.get(&group_rg, &name, None).await {
                Ok(group) => group_status(&name, group),
                Err(e) => GroupStatus {
                    item: Item::failed(&name, e.into()),
                    provisioning_state: None,
                    instance_state: None,
                    encryption: None,
                },
            },
        );
    }
    Ok(Status {
        subscription_id: spec.subscription_id.to_string(),
        resource_group,
        vault,
        key,
        identity,
        deployment,
        container_groups,
    })
}

fn group_status(name: &ContainerGroupName, group: ContainerGroup) -> GroupStatus {
    let mut item = Item::new(name, "present");
    item.id = group.id.clone();
    if let Some(identity) = &group.identity {
        item = item.detail(
            "user_assigned_identities",
            identity.user_assigned_identities.keys().collect::<Vec<_>>(),
        );
    }
    GroupStatus {
        item,
        provisioning_state: group.properties.provisioning_state.clone(),
        instance_state: group
            .properties
            .instance_view
            .as_ref()
            .and_then(|v| v.state.clone()),
        encryption: group.properties.encryption_properties,
    }
}

fn container_group_of(
    id: &str,
) -> Option<(aci_cmk_core::names::ResourceGroupName, ContainerGroupName)> {
    let id: aci_cmk_core::resource_id::ResourceId = id.parse().ok()?;
    if !id
        .resource_type()
        .eq_ignore_ascii_case("Microsoft.ContainerInstance/containerGroups")
    {
        return None;
    }
    Some((id.resource_group_name()?.clone(), id.name().parse().ok()?))
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// The status for people: one block per resource.
pub fn render(status: &Status) -> String {
    let mut text = format!("subscription {}\n", status.subscription_id);
    let mut item = |kind: &str, item: &Item, extra: &[(&str, Option<String>)]| {
        let _ = writeln!(
            text,
            "{kind:<16} {} ({})",
            item.name,
            item.state.replace('_', " ")
        );
        if let Some(id) = &item.id {
            let _ = writeln!(text, "{:<16}   id {id}", "");
        }
        for (key, value) in &item.details {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = writeln!(text, "{:<16}   {} {value}", "", key.replace('_', " "));
        }
        for (key, value) in extra {
            if let Some(value) = value {
                let _ = writeln!(text, "{:<16}   {key} {value}", "");
            }
        }
        if let Some(error) = &item.error {
            let _ = writeln!(text, "{:<16}   error {error}", "");
        }
    };
    item("resource group", &status.resource_group, &[]);
    item("key vault", &status.vault, &[]);
    item("key", &status.key, &[]);
    if let Some(identity) = &status.identity {
        item("identity", identity, &[]);
    }
    if let Some(deployment) = &status.deployment {
        item("deployment", deployment, &[]);
    }
    for group in &status.container_groups {
        let encryption = group.encryption.as_ref().map_or_else(
            || "none (Microsoft-managed keys)".to_owned(),
            |e| {
                let via = e
                    .identity
                    .as_deref()
                    .map_or("the ACI service principal".to_owned(), |i| {
                        format!("identity {i}")
                    });
                format!(
                    "{}keys/{}/{} via {via}",
                    with_slash(&e.vault_base_url),
                    e.key_name,
                    e.key_version
                )
            },
        );
        let present = group.item.state == "present";
        item(
            "container group",
            &group.item,
            &[
                ("provisioning state", group.provisioning_state.clone()),
                ("state", group.instance_state.clone()),
                ("encryption", present.then_some(encryption)),
            ],
        );
    }
    if status.container_groups.is_empty() && status.deployment.is_none() {
        text.push_str("container group  none\n");
    }
    text
}

fn with_slash(url: &str) -> String {
    format!("{}/", url.trim_end_matches('/'))
}
