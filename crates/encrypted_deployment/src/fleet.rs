//! `apply_many`: many container groups on one vault and key. One spec says what they share
//! (resource group, principal, vault, access, key, firewall) and is applied in full; the other
//! groups then deploy with bounded concurrency, each on its own, so one failure does not stop
//! the others.

use crate::{
    Orchestrator,
    container_group::converge_group,
    decisions::{KeyVersionKnown, decide_group},
    desired,
    error::{Error, Result, StepError},
    progress::{StepAction, StepId},
    report::ApplyReport,
    run_id::RunId,
    spec::{ContainerGroupSpec, DeploymentSpec, SpecError},
    tracker::Tracker,
};
use aci_cmk_core::{ResponseIds, key_id::VaultUrl, names::KeyVersion, resource_id::ResourceId};
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
    /// What was done to it (`None`: it failed).
    pub action: Option<StepAction>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// How long it took.
    #[serde(serialize_with = "crate::report::ms")]
    pub duration: Duration,
    /// The client request id of the group's requests: `aci-cmk/{run}/container_group/{name}`.
    pub client_request_id: String,
    /// What ARM answered to each of the group's requests that could change state, in order.
    pub write_ids: Vec<ResponseIds>,
}

/// What `apply_many` did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetReport {
    /// The shared spec's `apply` (its own workload included).
    pub shared: ApplyReport,
    /// Each further group.
    pub groups: Vec<GroupOutcome>,
    /// The whole run.
    #[serde(serialize_with = "crate::report::ms")]
    pub duration: Duration,
}

impl FleetReport {
    /// How many groups failed.
    pub fn failed(&self) -> usize {
        self.groups.iter().filter(|g| g.error.is_some()).count()
    }

    /// How many groups were written (created, put again or re-created).
    pub fn written(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| g.action.is_some_and(StepAction::writes))
            .count()
    }
}

impl Orchestrator {
    /// Deploys many container groups on one vault and key: `shared` is applied in full (its
    /// resource group, principal, vault, access, key, firewall and its own workload), then each
    /// of `groups` deploys with the shared vault, key and identity, `options.concurrency` at a
    /// time. Throttling (429 with `Retry-After`) is waited out by the pipeline; a group that
    /// still fails is reported, not fatal. One run id covers it all: the shared steps'
    /// requests carry `aci-cmk/{run}/{step}`, each further group's
    /// `aci-cmk/{run}/container_group/{name}`.
    pub async fn apply_many(
        &self,
        shared: &DeploymentSpec,
        groups: &[ContainerGroupSpec],
        options: FleetOptions,
    ) -> Result<FleetReport> {
        let started = Instant::now();
        shared.check()?;
        let mut names = std::collections::HashSet::new();
        names.extend(shared.workload.container_group().map(|g| g.name.clone()));
        for group in groups {
            if group.containers.is_empty() {
                return Err(SpecError::Inconsistent(format!(
                    "container group {} has no containers",
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
        let report = self.apply_run(shared, &run).await?;
        let (Some(vault), Some(key)) = (report.vault_uri.clone(), report.key_id.clone()) else {
            return Err(Error::blocked(
                StepId::Key,
                "the shared steps did not report a vault and key",
            ));
        };
        let version = key
            .version()
            .cloned()
            .ok_or_else(|| Error::blocked(StepId::Key, "the key id has no version"))?;
        let identity: Option<ResourceId> = report.identity.as_ref().and_then(|i| i.id.parse().ok());
        let on = SharedKey {
            vault: &vault,
            version: &version,
            identity: identity.as_ref(),
        };

        let groups = futures::stream::iter(groups)
            .map(|group| {
                let (on, run) = (&on, &run);
                async move {
                    let started = Instant::now();
                    let part = format!("{}/{}", StepId::ContainerGroup.as_str(), group.name);
                    let tracker = Tracker::new(self, run, StepId::ContainerGroup, part);
                    let result = self.deploy_member(&tracker, shared, group, on).await;
                    GroupOutcome {
                        name: group.name.to_string(),
                        action: result.as_ref().ok().copied(),
                        error: result.err().map(|e| e.to_string()),
                        duration: started.elapsed(),
                        client_request_id: tracker.client_request_id(),
                        write_ids: tracker.write_ids(),
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

    /// Deploys one further group of a fleet on the shared key, decided as `apply` decides its
    /// own group.
    async fn deploy_member(
        &self,
        tracker: &Tracker<'_>,
        shared: &DeploymentSpec,
        group: &ContainerGroupSpec,
        on: &SharedKey<'_>,
    ) -> std::result::Result<StepAction, StepError> {
        let existing = match self
            .backends
            .container_groups
            .get(&shared.resource_group, &group.name, tracker.options())
            .await
        {
            Ok(existing) => Some(existing),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        // A pinned group keeps its version, as the spec's own group does in `apply`.
        let pinned = desired::pinned_version(shared, existing.as_ref(), on.vault);
        let version = pinned.as_ref().unwrap_or(on.version);
        let action = decide_group(
            shared,
            group,
            existing.as_ref(),
            &Some(on.vault.clone()),
            KeyVersionKnown::Version(version),
        )
        .action;
        let encryption = desired::encryption(on.vault, shared, version, on.identity);
        let want = desired::group(shared, group, &encryption, on.identity);
        converge_group(
            tracker,
            &shared.resource_group,
            &group.name,
            existing.as_ref(),
            &want,
            action,
            desired::may_recreate(shared),
        )
        .await?;
        Ok(action)
    }
}

/// The vault, key version and identity every group of a fleet is encrypted with.
struct SharedKey<'a> {
    vault: &'a VaultUrl,
    version: &'a KeyVersion,
    identity: Option<&'a ResourceId>,
}
