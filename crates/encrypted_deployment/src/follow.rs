//! `follow_latest`: container groups that follow their key. A group pins one key version and
//! its encryption cannot change in place, so following the newest version means re-creating
//! the group on it — with its name, environment, secure values and identity, all from the
//! spec. Never onto a version that cannot be used; afterwards, optionally, the versions left
//! behind are retired (disabled, never deleted).

use crate::{
    Orchestrator,
    container_group::converge_group,
    decisions::{KeyVersionKnown, decide_group},
    desired,
    error::{Error, PreflightIssue, PreflightRule, Result, StepError},
    key_versions::{PassedOver, newest_usable, usability},
    progress::{StepAction, StepId},
    run_id::RunId,
    spec::{ContainerGroupSpec, DeploymentSpec, Workload},
    survey::{Survey, VaultFound},
    tracker::Tracker,
};
use aci_cmk_aci::models::ContainerGroup;
use aci_cmk_core::{
    ResponseIds,
    key_id::{KeyId, VaultUrl},
    names::KeyVersion,
    resource_id::ResourceId,
};
use aci_cmk_keyvault::keys::{KeyProperties, UpdateKeyOptions};
use futures::StreamExt;
use serde::Serialize;
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

/// Options of [`Orchestrator::follow_latest`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FollowOptions {
    /// More container groups on the same key (a fleet's), followed with the spec's own.
    pub groups: Vec<ContainerGroupSpec>,
    /// How many groups are re-created at once (at least one).
    pub concurrency: usize,
    /// Move onto this version instead of the newest usable one; it must be usable.
    pub to_version: Option<KeyVersion>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            concurrency: 4,
            to_version: None,
        }
    }
}

impl FollowOptions {
    /// Follows `groups` too (a fleet's further groups, as given to `apply_many`).
    pub fn with_groups(mut self, groups: Vec<ContainerGroupSpec>) -> Self {
        self.groups = groups;
        self
    }

    /// Re-creates `concurrency` groups at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Moves onto `version` instead of the newest usable one.
    pub fn to_version(mut self, version: KeyVersion) -> Self {
        self.to_version = Some(version);
        self
    }
}

/// What following does to one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlannedMove {
    /// The group.
    pub name: String,
    /// The key version it is on (`None`: it does not exist, or is not on this key).
    pub from: Option<String>,
    /// What happens to it: `recreate`, `create`, `update`, or `in_place`.
    pub action: StepAction,
    /// Why, in a few words.
    pub detail: String,
}

/// What [`Orchestrator::follow_latest`] would do.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FollowPlan {
    /// The version the groups move onto.
    pub target: KeyId,
    /// Newer versions passed over, and why.
    pub passed_over: Vec<PassedOver>,
    /// Each group.
    pub groups: Vec<PlannedMove>,
    /// The versions that would be disabled once every group has moved (`retire_previous`).
    pub retire: Vec<KeyVersion>,
}

impl FollowPlan {
    /// Whether following would write nothing.
    pub fn is_converged(&self) -> bool {
        self.retire.is_empty() && self.groups.iter().all(|g| !g.action.writes())
    }
}

/// How one group's move ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum MoveOutcome {
    /// It was already on the target version.
    AlreadyCurrent,
    /// It was re-created (or created) on the target version.
    Moved,
    /// It could not be moved; it stays where it was.
    Failed {
        /// Why.
        error: String,
    },
}

/// One group's move.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GroupMove {
    /// The group.
    pub name: String,
    /// The version it was on.
    pub from: Option<String>,
    /// The version it is on now, as Azure reports it (`None` when it failed).
    pub to: Option<String>,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: MoveOutcome,
    /// How long it took.
    #[serde(serialize_with = "crate::report::ms")]
    pub duration: Duration,
    /// The client request id of its requests: `aci-cmk/{run}/follow/{name}`.
    pub client_request_id: String,
    /// What ARM answered to each of its writes, in order.
    pub write_ids: Vec<ResponseIds>,
}

/// A group (in the spec's resource group, named by no spec given) left on a version that was
/// retired or cannot be used: it cannot restart or read its data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StrandedGroup {
    /// The group's resource id.
    pub container_group_id: String,
    /// The version it pins.
    pub key_version: String,
}

/// What [`Orchestrator::follow_latest`] did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FollowReport {
    /// The run's id.
    pub run_id: String,
    /// The version the groups were moved onto.
    pub target: KeyId,
    /// Newer versions passed over, and why.
    pub passed_over: Vec<PassedOver>,
    /// Each group's move.
    pub groups: Vec<GroupMove>,
    /// The versions disabled by this run (`retire_previous`).
    pub retired: Vec<KeyVersion>,
    /// The versions older than the target that no followed group uses now.
    pub unused: Vec<KeyVersion>,
    /// Groups left on a retired or unusable version: errors to act on, not silent breaks.
    pub stranded: Vec<StrandedGroup>,
    /// What was left undone, and why.
    pub notes: Vec<String>,
}

impl FollowReport {
    /// How many groups were moved.
    pub fn moved(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| g.outcome == MoveOutcome::Moved)
            .count()
    }

    /// How many groups failed to move.
    pub fn failed(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| matches!(g.outcome, MoveOutcome::Failed { .. }))
            .count()
    }

    /// Whether every group is on the target and no group is stranded.
    pub fn is_clean(&self) -> bool {
        self.failed() == 0 && self.stranded.is_empty()
    }
}

/// A followed group: its spec, what exists, and what following does to it.
struct Member<'a> {
    spec: &'a ContainerGroupSpec,
    existing: Option<ContainerGroup>,
    from: Option<String>,
    action: StepAction,
    detail: String,
}

/// Everything following decides on, read once.
struct Followed<'a> {
    vault: VaultUrl,
    identity: Option<ResourceId>,
    versions: Vec<KeyProperties>,
    target: KeyProperties,
    passed_over: Vec<PassedOver>,
    members: Vec<Member<'a>>,
    retire: Vec<KeyVersion>,
}

impl Followed<'_> {
    /// What following would do: the plan shown before, and the test of whether to act.
    fn plan(&self) -> FollowPlan {
        FollowPlan {
            target: self.target.kid.clone(),
            passed_over: self.passed_over.clone(),
            groups: self
                .members
                .iter()
                .map(|m| PlannedMove {
                    name: m.spec.name.to_string(),
                    from: m.from.clone(),
                    action: m.action,
                    detail: m.detail.clone(),
                })
                .collect(),
            retire: self.retire.clone(),
        }
    }
}

/// The version `group` is encrypted with, when it is on `vault`'s key `key_name`.
fn version_of(group: &ContainerGroup, vault: &VaultUrl, key_name: &str) -> Option<String> {
    let e = group.properties.encryption_properties.as_ref()?;
    let same_vault = e
        .vault_base_url
        .trim_end_matches('/')
        .eq_ignore_ascii_case(vault.as_str());
    (same_vault && e.key_name.eq_ignore_ascii_case(key_name)).then(|| e.key_version.clone())
}

fn blocked(message: impl Into<String>) -> Error {
    Error::blocked(StepId::ContainerGroup, message)
}

impl Orchestrator {
    /// What [`follow_latest`](Self::follow_latest) would do: the version the groups move onto,
    /// each group's re-creation (`recreate`, with the reason) or `in_place`, and the versions
    /// retirement would disable. Writes nothing.
    pub async fn plan_follow_latest(
        &self,
        spec: &DeploymentSpec,
        options: &FollowOptions,
    ) -> Result<FollowPlan> {
        let run = RunId::new();
        Ok(self.followed(spec, options, &run).await?.plan())
    }

    /// [`follow_latest`](Self::follow_latest) when its plan has something to do; `None`
    /// (having only read) when every group is on the target and nothing is left to retire. The
    /// watch's look: one read of the state, not one for the plan and another for the run.
    pub(crate) async fn follow_latest_if_needed(
        &self,
        spec: &DeploymentSpec,
        options: &FollowOptions,
    ) -> Result<Option<FollowReport>> {
        let run = RunId::new();
        let followed = self.followed(spec, options, &run).await?;
        if followed.plan().is_converged() {
            return Ok(None);
        }
        self.carry_out_follow(spec, options, &followed, &run)
            .await
            .map(Some)
    }

    /// Moves the spec's container group (and `options.groups`) onto the newest usable version
    /// of the key — enabled and inside its not-before and expiry times — re-creating each group
    /// on an older one, `options.concurrency` at a time, and reports per group the version it
    /// left, the one it is on, how long it took and how it ended. A version that cannot be used
    /// is never moved onto: it is passed over, or, named in `options.to_version`, refused by
    /// preflight. With the lifecycle's `retire_previous`, once every group has moved the older
    /// versions no group uses are disabled (never deleted), and any other group of the resource
    /// group still on one is named in [`FollowReport::stranded`].
    ///
    /// Re-creating a group restarts it (its IP address may change); it needs the lifecycle's
    /// `follow = "latest"` or `allow.recreate_container_group`.
    pub async fn follow_latest(
        &self,
        spec: &DeploymentSpec,
        options: FollowOptions,
    ) -> Result<FollowReport> {
        let run = RunId::new();
        let followed = self.followed(spec, &options, &run).await?;
        self.carry_out_follow(spec, &options, &followed, &run).await
    }

    /// Moves the followed groups, then retires what they left.
    async fn carry_out_follow(
        &self,
        spec: &DeploymentSpec,
        options: &FollowOptions,
        followed: &Followed<'_>,
        run: &RunId,
    ) -> Result<FollowReport> {
        let allowed = desired::may_recreate(spec);
        let encryption = desired::encryption(
            &followed.vault,
            spec,
            &followed.target.version,
            followed.identity.as_ref(),
        );
        let moves = futures::stream::iter(
            followed
                .members
                .iter()
                .map(|member| self.move_member(spec, followed, member, &encryption, allowed, run))
                .collect::<Vec<_>>(),
        )
        .buffer_unordered(options.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;

        let mut report = FollowReport {
            run_id: run.to_string(),
            target: followed.target.kid.clone(),
            passed_over: followed.passed_over.clone(),
            groups: moves,
            retired: Vec::new(),
            unused: Vec::new(),
            stranded: Vec::new(),
            notes: Vec::new(),
        };
        self.retire(spec, followed, run, &mut report).await?;
        Ok(report)
    }

    /// Moves one group onto the target version, as its decision says.
    async fn move_member(
        &self,
        spec: &DeploymentSpec,
        followed: &Followed<'_>,
        member: &Member<'_>,
        encryption: &aci_cmk_aci::models::EncryptionProperties,
        allowed: bool,
        run: &RunId,
    ) -> GroupMove {
        let started = Instant::now();
        let part = format!("follow/{}", member.spec.name);
        let tracker = Tracker::new(self, run, StepId::ContainerGroup, part);
        let want = desired::group(spec, member.spec, encryption, followed.identity.as_ref());
        let result = match member.action {
            StepAction::InPlace => Ok(None),
            StepAction::Recreate if !allowed => Err(StepError::Blocked(format!(
                "container group {} is on version {}: set the key's lifecycle follow = \"latest\" (or allow.recreate_container_group) to let it be re-created",
                member.spec.name,
                member.from.as_deref().unwrap_or("?")
            ))),
            action => converge_group(
                &tracker,
                &spec.resource_group,
                &member.spec.name,
                member.existing.as_ref(),
                &want,
                action,
                true,
            )
            .await
            .map(Some),
        };
        let (to, outcome) = match result {
            Ok(None) => (member.from.clone(), MoveOutcome::AlreadyCurrent),
            Ok(Some(group)) => (
                version_of(&group, &followed.vault, spec.key.name().as_str()),
                MoveOutcome::Moved,
            ),
            Err(e) => (
                None,
                MoveOutcome::Failed {
                    error: e.to_string(),
                },
            ),
        };
        GroupMove {
            name: member.spec.name.to_string(),
            from: member.from.clone(),
            to,
            outcome,
            duration: started.elapsed(),
            client_request_id: tracker.client_request_id(),
            write_ids: tracker.write_ids(),
        }
    }

    /// Disables (with `retire_previous`, once every group moved) the older versions no followed
    /// group uses, and names the groups of the resource group left on a retired or unusable
    /// version.
    async fn retire(
        &self,
        spec: &DeploymentSpec,
        followed: &Followed<'_>,
        run: &RunId,
        report: &mut FollowReport,
    ) -> Result<()> {
        let in_use: BTreeSet<String> = report
            .groups
            .iter()
            .filter_map(|g| match g.outcome {
                MoveOutcome::Failed { .. } => g.from.clone(),
                _ => g.to.clone(),
            })
            .map(|v| v.to_ascii_lowercase())
            .collect();
        let older: Vec<&KeyProperties> = followed
            .versions
            .iter()
            .filter(|v| v.created < followed.target.created)
            .collect();
        report.unused = older
            .iter()
            .filter(|v| !in_use.contains(&v.version.as_str().to_ascii_lowercase()))
            .map(|v| v.version.clone())
            .collect();
        let tracker = Tracker::new(self, run, StepId::KeyLifecycle, "follow/retire");
        if spec.key.lifecycle().retire_previous {
            if report.failed() > 0 {
                report.notes.push(format!(
                    "{} group(s) did not move: no version was retired",
                    report.failed()
                ));
            } else {
                for version in &followed.retire {
                    self.backends
                        .keys
                        .update_key_attributes(
                            &followed.vault,
                            spec.key.name(),
                            Some(version),
                            UpdateKeyOptions::disable(),
                            tracker.options(),
                        )
                        .await
                        .map_err(|e| Error::Operation {
                            operation: format!("retire key version {version}"),
                            source: std::sync::Arc::new(e.into()),
                        })?;
                    report.retired.push(version.clone());
                }
            }
        }
        // Whatever else in the resource group is left on a version that cannot be used.
        let now = self.now();
        let unusable: BTreeSet<String> = followed
            .versions
            .iter()
            .filter(|v| {
                usability(v, now).is_err() || report.retired.iter().any(|r| r == &v.version)
            })
            .map(|v| v.version.as_str().to_ascii_lowercase())
            .collect();
        let followed_names: BTreeSet<String> = followed
            .members
            .iter()
            .map(|m| m.spec.name.as_str().to_ascii_lowercase())
            .collect();
        let groups = self
            .backends
            .container_groups
            .list_by_resource_group(&spec.resource_group, tracker.options())
            .await
            .map_err(|e| Error::Read {
                what: "container groups",
                source: std::sync::Arc::new(e.into()),
            })?;
        for group in groups {
            let Some(version) = version_of(&group, &followed.vault, spec.key.name().as_str())
            else {
                continue;
            };
            let name = group.name.clone().unwrap_or_default().to_ascii_lowercase();
            if unusable.contains(&version.to_ascii_lowercase()) && !followed_names.contains(&name) {
                report.stranded.push(StrandedGroup {
                    container_group_id: group.id.clone().unwrap_or(name),
                    key_version: version,
                });
            }
        }
        Ok(())
    }

    /// Reads what following decides on: the vault, the key's versions, the target version,
    /// each group and what to do with it.
    async fn followed<'a>(
        &self,
        spec: &'a DeploymentSpec,
        options: &'a FollowOptions,
        run: &RunId,
    ) -> Result<Followed<'a>> {
        spec.check()?;
        let Workload::ContainerGroup(own) = &spec.workload else {
            return Err(blocked(
                "follow_latest moves container groups; a template's groups move with rotate",
            ));
        };
        let survey = Survey::take(&self.backends, spec, run).await?;
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
            .ok_or_else(|| blocked("the vault reports no vaultUri"))?;
        let read = |what: &'static str| {
            move |e: aci_cmk_core::ClientError| Error::Read {
                what,
                source: std::sync::Arc::new(e.into()),
            }
        };
        let keys = &self.backends.keys;
        let options_of = || run.options("follow/survey", None);
        let versions = keys
            .list_key_versions(&url, spec.key.name(), options_of())
            .await
            .map_err(read("key versions"))?;
        let now = self.now();
        let (target, passed_over) = match &options.to_version {
            Some(version) => {
                let key = keys
                    .get_key(&url, spec.key.name(), Some(version), options_of())
                    .await
                    .map_err(|e| {
                        Error::Preflight(vec![PreflightIssue {
                            rule: PreflightRule::KeyUnusable,
                            message: format!("key version {version} cannot be read: {e}"),
                        }])
                    })?;
                if let Err(why) = usability(&key, now) {
                    return Err(Error::Preflight(vec![PreflightIssue {
                        rule: PreflightRule::KeyUnusable,
                        message: format!(
                            "key version {version} is {why}: no group is moved onto it; enable it or name another version"
                        ),
                    }]));
                }
                (key, Vec::new())
            }
            None => {
                let (chosen, passed) = newest_usable(&versions, now);
                let chosen = chosen.cloned().ok_or_else(|| {
                    Error::Preflight(vec![PreflightIssue {
                        rule: PreflightRule::KeyUnusable,
                        message: format!(
                            "key {} has no usable version (enabled, inside its not-before and expiry times)",
                            spec.key.name()
                        ),
                    }])
                })?;
                (chosen, passed)
            }
        };
        let identity = survey.identity.as_ref().map(|i| i.id.clone());

        let mut members = vec![Member {
            spec: own,
            existing: survey.group.clone(),
            from: None,
            action: StepAction::InPlace,
            detail: String::new(),
        }];
        for group in &options.groups {
            let existing = match self
                .backends
                .container_groups
                .get(&spec.resource_group, &group.name, options_of())
                .await
            {
                Ok(g) => Some(g),
                Err(e) if e.is_not_found() => None,
                Err(e) => {
                    return Err(Error::Read {
                        what: "container group",
                        source: std::sync::Arc::new(e.into()),
                    });
                }
            };
            members.push(Member {
                spec: group,
                existing,
                from: None,
                action: StepAction::InPlace,
                detail: String::new(),
            });
        }
        let vault_url = Some(url.clone());
        for m in &mut members {
            m.from = m
                .existing
                .as_ref()
                .and_then(|g| version_of(g, &url, spec.key.name().as_str()));
            let decided = decide_group(
                spec,
                m.spec,
                m.existing.as_ref(),
                &vault_url,
                KeyVersionKnown::Version(&target.version),
            );
            m.action = decided.action;
            m.detail = match (&m.from, decided.action) {
                (Some(from), StepAction::Recreate) => format!(
                    "on version {from}; the newest usable is {}: re-create it there",
                    target.version
                ),
                _ => decided.detail,
            };
        }
        // Retirement: the older, still enabled versions no group will use once all have moved.
        let kept: BTreeSet<String> =
            std::iter::once(target.version.as_str().to_ascii_lowercase()).collect();
        let retire = if spec.key.lifecycle().retire_previous {
            versions
                .iter()
                .filter(|v| v.created < target.created && v.enabled != Some(false))
                .filter(|v| !kept.contains(&v.version.as_str().to_ascii_lowercase()))
                .map(|v| v.version.clone())
                .collect()
        } else {
            Vec::new()
        };
        Ok(Followed {
            vault: url,
            identity,
            versions,
            target,
            passed_over,
            members,
            retire,
        })
    }
}
