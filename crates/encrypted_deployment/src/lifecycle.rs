//! `rotate` and `destroy`: what comes after `apply`.
//!
//! A container group's encryption properties are fixed at creation, so rotating the key means
//! a new key version and the group re-created on it. Destroying leaves the vault soft-deleted
//! (and its key recoverable) unless the spec allows purging it.

use crate::{
    Orchestrator,
    container_group::converge_group,
    decisions::{KeyVersionKnown, decide_group},
    desired,
    error::{BackendError, Error, Result, StepError},
    progress::StepId,
    run_id::RunId,
    spec::{DeploymentSpec, Flow, KeySpec, Workload},
    survey::{KeyFound, Survey, VaultFound},
    tracker::Tracker,
};
use aci_cmk_core::{
    CallOptions, ResponseIds, ResponseRecorder,
    key_id::KeyId,
    names::{ContainerGroupName, KeyVersion},
    resource_id::ResourceId,
};
use serde::Serialize;
use std::sync::Arc;

/// Options of [`Orchestrator::rotate`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RotateOptions {
    /// Move to this existing version instead of creating a new one.
    pub version: Option<KeyVersion>,
}

impl RotateOptions {
    /// Move to `version`, which must exist.
    pub fn to_version(version: KeyVersion) -> Self {
        Self {
            version: Some(version),
        }
    }
}

/// Which key version a container group uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GroupKeyVersion {
    /// The container group.
    pub container_group_id: String,
    /// The key version it is encrypted with.
    pub key_version: String,
}

/// What `rotate` did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RotateReport {
    /// The run's id: its requests carried the client request ids
    /// `aci-cmk/{run}/rotate/{step}` (`key`, `container_group`; the reads
    /// `aci-cmk/{run}/survey`).
    pub run_id: String,
    /// What the services answered to each request that could change state, in order.
    pub write_ids: Vec<ResponseIds>,
    /// The key version in use before.
    pub previous: Option<KeyId>,
    /// The key version in use now.
    pub current: KeyId,
    /// Each container group and the key version it now uses.
    pub groups: Vec<GroupKeyVersion>,
}

/// Options of [`Orchestrator::destroy`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DestroyOptions {
    /// Delete the resource group too (and whatever else it holds).
    pub delete_resource_group: bool,
}

/// What `destroy` did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DestroyReport {
    /// The run's id: its requests carried the client request ids
    /// `aci-cmk/{run}/destroy/{step}` (the reads `aci-cmk/{run}/survey`).
    pub run_id: String,
    /// What the services answered to each request that could change state, in order.
    pub write_ids: Vec<ResponseIds>,
    /// What was deleted.
    pub removed: Vec<String>,
    /// What was left, and why.
    pub notes: Vec<String>,
}

/// The options of a call of `verb` (`rotate`, `destroy`) for `step` in `run`:
/// `aci-cmk/{run}/{verb}/{step}`, recorded in `recorder`.
fn call_options(
    run: &RunId,
    verb: &str,
    step: StepId,
    recorder: &ResponseRecorder,
) -> Option<CallOptions<'static>> {
    run.options(&format!("{verb}/{}", step.as_str()), Some(recorder))
}

/// Maps a backend error of `operation` into ours.
fn failed<E: Into<BackendError>>(operation: impl Into<String>) -> impl FnOnce(E) -> Error {
    let operation = operation.into();
    move |e| Error::Operation {
        operation,
        source: Arc::new(e.into()),
    }
}

impl Orchestrator {
    /// Moves the deployment to a new key version (or `options.version`) and re-creates the
    /// container groups on it. The report says which version each group uses.
    pub async fn rotate(
        &self,
        spec: &DeploymentSpec,
        options: RotateOptions,
    ) -> Result<RotateReport> {
        spec.check()?;
        let run = RunId::new();
        let recorder = ResponseRecorder::new();
        let opts = |step| call_options(&run, "rotate", step, &recorder);
        let survey = Survey::take(&self.backends, spec, &run).await?;
        let blocked = |message: String| Error::blocked(StepId::Key, message);
        let VaultFound::Live(vault) = &survey.vault else {
            return Err(blocked(format!(
                "vault {} does not exist: apply first",
                spec.vault.name
            )));
        };
        let url = vault
            .properties
            .vault_uri
            .clone()
            .ok_or_else(|| blocked("the vault reports no vaultUri".into()))?;
        let previous = match &survey.key {
            KeyFound::Found(k) => Some(k.kid.clone()),
            _ => None,
        };
        let keys = &self.backends.keys;
        let current = match (&options.version, &spec.key) {
            (Some(version), _) => keys
                .get_key(&url, spec.key.name(), Some(version), opts(StepId::Key))
                .await
                .map_err(failed("read the key version to rotate to"))?,
            (None, KeySpec::Create { name, .. }) => {
                let key_options = desired::create_key_options(spec, self.now())
                    .ok_or_else(|| blocked("the spec's key is not one it creates".into()))?;
                keys.create_key(&url, name, key_options, opts(StepId::Key))
                    .await
                    .map_err(failed("create a new key version"))?
            }
            (None, KeySpec::Existing { .. }) => {
                return Err(blocked(
                    "the spec names an existing key: say which version to rotate to (RotateOptions::to_version)".into(),
                ));
            }
        };
        let identity = match &spec.flow {
            Flow::NetworkProtected { .. } => survey.identity.as_ref().map(|i| i.id.clone()),
            Flow::Standard => None,
        };
        let encryption = desired::encryption(&url, spec, &current.version, identity.as_ref());
        // The group's writes carry `aci-cmk/{run}/rotate/container_group`, recorded after the
        // key's.
        let group_tracker = Tracker::new(
            self,
            &run,
            StepId::ContainerGroup,
            format!("rotate/{}", StepId::ContainerGroup.as_str()),
        );
        let groups = match &spec.workload {
            Workload::Template(_) => {
                self.redeploy_template(spec, &survey, &encryption, &opts)
                    .await?
            }
            Workload::ContainerGroup(group_spec) => {
                let name = &group_spec.name;
                // Rotating is asking for the re-creation: it is allowed whatever the spec says.
                let action = decide_group(
                    spec,
                    group_spec,
                    survey.group.as_ref(),
                    &Some(url.clone()),
                    KeyVersionKnown::Version(&current.version),
                )
                .action;
                let want = desired::group(spec, group_spec, &encryption, identity.as_ref());
                let created = converge_group(
                    &group_tracker,
                    &spec.resource_group,
                    name,
                    survey.group.as_ref(),
                    &want,
                    action,
                    true,
                )
                .await
                .map_err(|e| match e {
                    StepError::Backend(e) => {
                        failed(format!("re-create container group {name}"))(*e)
                    }
                    StepError::Blocked(message) => Error::blocked(StepId::ContainerGroup, message),
                })?;
                vec![GroupKeyVersion {
                    container_group_id: created.id.unwrap_or_else(|| name.to_string()),
                    key_version: created
                        .properties
                        .encryption_properties
                        .map(|e| e.key_version)
                        .unwrap_or_else(|| current.version.to_string()),
                }]
            }
        };
        let mut write_ids = recorder.writes();
        write_ids.extend(group_tracker.write_ids());
        Ok(RotateReport {
            run_id: run.to_string(),
            write_ids,
            previous,
            current: current.kid,
            groups,
        })
    }

    async fn redeploy_template(
        &self,
        spec: &DeploymentSpec,
        survey: &Survey,
        encryption: &aci_cmk_aci::models::EncryptionProperties,
        opts: &dyn Fn(StepId) -> Option<CallOptions<'static>>,
    ) -> Result<Vec<GroupKeyVersion>> {
        let (name, request) = desired::patched_template(spec, encryption)?
            .ok_or_else(|| Error::blocked(StepId::ContainerGroup, "no template"))?;
        // The groups of the previous deployment keep their old encryption: delete them first.
        if let Some(previous) = &survey.deployment {
            for id in &previous.properties.output_resources {
                if let Some((rg, group)) = container_group_of(&id.id) {
                    self.backends
                        .container_groups
                        .delete(&rg, &group, opts(StepId::ContainerGroup))
                        .await
                        .map_err(failed(format!("delete container group {group}")))?;
                }
            }
        }
        let deployment = self
            .backends
            .deployments
            .create_or_update(
                &spec.resource_group,
                &name,
                &request,
                opts(StepId::ContainerGroup),
            )
            .await
            .map_err(failed(format!("deploy {name}")))?;
        let mut groups = Vec::new();
        for resource in &deployment.properties.output_resources {
            if let Some((rg, group)) = container_group_of(&resource.id) {
                let found = self
                    .backends
                    .container_groups
                    .get(&rg, &group, opts(StepId::ContainerGroup))
                    .await
                    .map_err(failed(format!("read container group {group}")))?;
                groups.push(GroupKeyVersion {
                    container_group_id: resource.id.clone(),
                    key_version: found
                        .properties
                        .encryption_properties
                        .map(|e| e.key_version)
                        .unwrap_or_default(),
                });
            }
        }
        Ok(groups)
    }

    /// Removes what `apply` created: the container group (or the template's groups and the
    /// deployment record), the identity, and the vault — which stays soft-deleted, with its key
    /// recoverable, unless the spec allows purging it (impossible under purge protection until
    /// the retention ends). The resource group stays unless `options` say otherwise.
    pub async fn destroy(
        &self,
        spec: &DeploymentSpec,
        options: DestroyOptions,
    ) -> Result<DestroyReport> {
        spec.check()?;
        let run = RunId::new();
        let recorder = ResponseRecorder::new();
        let opts = |step| call_options(&run, "destroy", step, &recorder);
        let survey = Survey::take(&self.backends, spec, &run).await?;
        let mut report = DestroyReport {
            run_id: run.to_string(),
            ..DestroyReport::default()
        };
        let groups = &self.backends.container_groups;

        if let Workload::ContainerGroup(group) = &spec.workload
            && survey.group.is_some()
        {
            groups
                .delete(
                    &spec.resource_group,
                    &group.name,
                    opts(StepId::ContainerGroup),
                )
                .await
                .map_err(failed(format!("delete container group {}", group.name)))?;
            report
                .removed
                .push(format!("container group {}", group.name));
        }
        if let Workload::Template(template) = &spec.workload {
            match &survey.deployment {
                Some(deployment) => {
                    for resource in &deployment.properties.output_resources {
                        if let Some((rg, group)) = container_group_of(&resource.id) {
                            groups.delete(&rg, &group, opts(StepId::ContainerGroup)).await.map_err(failed(format!("delete container group {group}")))?;
                            report.removed.push(format!("container group {group}"));
                        }
                    }
                    if let Some(name) = deployment.name.as_deref().and_then(|n| n.parse().ok()) {
                        self.backends
                            .deployments
                            .delete(&spec.resource_group, &name, opts(StepId::ContainerGroup))
                            .await
                            .map_err(failed(format!("delete deployment {name}")))?;
                        report.removed.push(format!("deployment {name}"));
                    }
                }
                None => report.notes.push(format!(
                    "no succeeded deployment of {} with the current key was found; its container groups, if any, were left",
                    template.deployment_name
                )),
            }
        }
        if let Flow::NetworkProtected { identity_name } = &spec.flow
            && survey.identity.is_some()
        {
            self.backends
                .identities
                .delete(&spec.resource_group, identity_name, opts(StepId::Identity))
                .await
                .map_err(failed(format!("delete managed identity {identity_name}")))?;
            report
                .removed
                .push(format!("managed identity {identity_name}"));
        }
        if let VaultFound::Live(vault) = &survey.vault {
            let vaults = &self.backends.vaults;
            vaults
                .delete(&spec.resource_group, &spec.vault.name, opts(StepId::Vault))
                .await
                .map_err(failed(format!("delete vault {}", spec.vault.name)))?;
            report
                .removed
                .push(format!("vault {} (soft-deleted)", spec.vault.name));
            if spec.allow.purge_on_destroy {
                let location = &vault.location;
                match vaults
                    .purge_deleted(location, &spec.vault.name, opts(StepId::Vault))
                    .await
                {
                    Ok(()) => report
                        .removed
                        .push(format!("vault {} (purged)", spec.vault.name)),
                    Err(e) => report
                        .notes
                        .push(format!("vault {} was not purged: {e}", spec.vault.name)),
                }
            } else {
                report.notes.push(format!(
                    "vault {} stays soft-deleted and recoverable; apply recovers it",
                    spec.vault.name
                ));
            }
        }
        if options.delete_resource_group {
            self.backends
                .resource_groups
                .delete(&spec.resource_group, opts(StepId::ResourceGroup))
                .await
                .map_err(failed(format!(
                    "delete resource group {}",
                    spec.resource_group
                )))?;
            report
                .removed
                .push(format!("resource group {}", spec.resource_group));
        }
        report.write_ids = recorder.writes();
        Ok(report)
    }
}

fn container_group_of(
    id: &str,
) -> Option<(aci_cmk_core::names::ResourceGroupName, ContainerGroupName)> {
    let id: ResourceId = id.parse().ok()?;
    if !id
        .resource_type()
        .eq_ignore_ascii_case("Microsoft.ContainerInstance/containerGroups")
    {
        return None;
    }
    Some((id.resource_group_name()?.clone(), id.name().parse().ok()?))
}
