//! `apply_many`: many container groups on one vault and key. The steps they share (resource
//! group, principal, vault, access, key, firewall) run once; the groups then deploy with
//! bounded concurrency, each on its own, so one failure does not stop the others.

use crate::{
    Orchestrator, desired,
    error::{BackendError, Error, Result},
    progress::{StepAction, StepId},
    report::ApplyReport,
    run_id::RunId,
    spec::{DeploymentSpec, SpecError},
};
use aci_cmk_core::{CallOptions, ResponseIds, ResponseRecorder, resource_id::ResourceId};
use futures::StreamExt;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Options of [`Orchestrator::apply_many`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FleetOptions {
    /// How many container groups deploy at once.
    pub concurrency: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self { concurrency: 16 }
    }
}

impl FleetOptions {
    /// Deploys `concurrency` groups at once (at least one).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
}

/// How one container group of a fleet ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GroupOutcome {
    /// The group's name.
    pub name: String,
    /// Whether it was created (`false`: it was already as wanted).
    pub created: bool,
    /// The error, when it failed.
    pub error: Option<String>,
    /// How long it took.
    #[serde(serialize_with = "ms")]
    pub duration: Duration,
    /// The client request id of the group's requests: `aci-cmk/{run}/container_group/{name}`.
    pub client_request_id: String,
    /// What ARM answered to each of the group's requests that could change state, in order.
    pub write_ids: Vec<ResponseIds>,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What `apply_many` did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetReport {
    /// The shared steps (and the first group), as `apply` reports them.
    pub shared: ApplyReport,
    /// Every group after the first.
    pub groups: Vec<GroupOutcome>,
    /// The whole run.
    #[serde(serialize_with = "ms")]
    pub duration: Duration,
}

impl FleetReport {
    /// How many groups failed.
    pub fn failed(&self) -> usize {
        self.groups.iter().filter(|g| g.error.is_some()).count()
    }
}

/// The part of a spec every member of a fleet must share.
fn shared_part(spec: &DeploymentSpec) -> serde_json::Value {
    let mut v = serde_json::to_value(spec).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("container_group");
    }
    v
}

impl Orchestrator {
    /// Deploys many container groups that share everything but the group itself: the first
    /// spec is applied in full, then the other groups deploy `options.concurrency` at a time
    /// with the shared vault, key and principal. Throttling (429 with `Retry-After`) is waited
    /// out by the pipeline; a group that still fails is reported, not fatal. One run id covers
    /// it all: the shared steps' requests carry `aci-cmk/{run}/{step}`, each further group's
    /// `aci-cmk/{run}/container_group/{name}`.
    pub async fn apply_many(
        &self,
        specs: &[DeploymentSpec],
        options: FleetOptions,
    ) -> Result<FleetReport> {
        let started = Instant::now();
        let Some(first) = specs.first() else {
            return Err(
                SpecError::Inconsistent("apply_many needs at least one spec".into()).into(),
            );
        };
        let shared = shared_part(first);
        let mut names = std::collections::HashSet::new();
        for spec in specs {
            spec.check()?;
            let group = spec.container_group.as_ref().ok_or_else(|| {
                SpecError::Inconsistent("apply_many deploys container groups directly: every spec needs a container_group".into())
            })?;
            if shared_part(spec) != shared {
                return Err(SpecError::Inconsistent(format!(
                    "the spec of {} differs from the first in more than its container group",
                    group.name
                ))
                .into());
            }
            if !names.insert(group.name.clone()) {
                return Err(SpecError::Inconsistent(format!(
                    "container group {} appears twice",
                    group.name
                ))
                .into());
            }
        }

        let run = RunId::new();
        let report = self.apply_run(first, &run).await?;
        let (Some(vault), Some(key)) = (report.vault_uri.clone(), report.key_id.clone()) else {
            return Err(Error::Blocked {
                step: crate::progress::StepId::Key,
                message: "the shared steps did not report a vault and key".into(),
            });
        };
        let version = key.version().cloned().ok_or_else(|| Error::Blocked {
            step: crate::progress::StepId::Key,
            message: "the key id has no version".into(),
        })?;
        let identity: Option<ResourceId> = report.identity.as_ref().and_then(|i| i.id.parse().ok());

        let groups = futures::stream::iter(specs.iter().skip(1))
            .map(|spec| {
                let (vault, version, identity, run) = (&vault, &version, identity.as_ref(), &run);
                async move {
                    let started = Instant::now();
                    let name = spec
                        .container_group
                        .as_ref()
                        .map(|g| g.name.to_string())
                        .unwrap_or_default();
                    let part = format!("{}/{name}", StepId::ContainerGroup.as_str());
                    let recorder = ResponseRecorder::new();
                    let options = || run.options(&part, Some(&recorder));
                    let result = self
                        .deploy_one(spec, vault, version, identity, &options)
                        .await;
                    GroupOutcome {
                        name,
                        created: matches!(result, Ok(true)),
                        error: result.err().map(|e| e.to_string()),
                        duration: started.elapsed(),
                        client_request_id: run.client_request_id(&part),
                        write_ids: recorder.writes(),
                    }
                }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        Ok(FleetReport {
            shared: report,
            groups,
            duration: started.elapsed(),
        })
    }

    /// Deploys one group of a fleet; `Ok(true)` when it was created or changed.
    async fn deploy_one(
        &self,
        spec: &DeploymentSpec,
        vault: &aci_cmk_core::key_id::VaultUrl,
        version: &aci_cmk_core::names::KeyVersion,
        identity: Option<&ResourceId>,
        options: &dyn Fn() -> Option<CallOptions<'static>>,
    ) -> std::result::Result<bool, BackendError> {
        let encryption = desired::encryption(vault, spec, version, identity);
        let Some(want) = desired::group(spec, &encryption, identity) else {
            return Ok(false);
        };
        let Some(group) = &spec.container_group else {
            return Ok(false);
        };
        let groups = &self.backends.container_groups;
        let existing = match groups
            .get(&spec.resource_group, &group.name, options())
            .await
        {
            Ok(existing) => Some(existing),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        match desired::group_step(existing.as_ref(), &want) {
            StepAction::InPlace => return Ok(false),
            StepAction::Recreate if !spec.allow.recreate_container_group => {
                return Err(BackendError::Core(aci_cmk_core::Error::InvalidArgument(
                    desired::recreate_refused(&group.name),
                )));
            }
            StepAction::Recreate => {
                groups
                    .delete(&spec.resource_group, &group.name, options())
                    .await?
            }
            _ => {}
        }
        groups
            .create_or_update(&spec.resource_group, &group.name, &want, options())
            .await?;
        Ok(true)
    }
}
