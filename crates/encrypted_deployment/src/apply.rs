//! `apply`: the steps' decisions carried out, each step starting as soon as the steps the graph
//! says it needs are done, each writing only what its decision says.

use crate::{
    Orchestrator,
    container_group::converge_group,
    decisions::{
        AccessDecision, Decisions, FirewallDecision, IdentityDecision, KeyDecision,
        KeyVersionKnown, ResourceGroupDecision, ServicePrincipalDecision, VaultDecision,
        WorkloadDecision, decide_group,
    },
    desired,
    error::{BackendError, Error, Result, StepError},
    graph::{self, ALL_STEPS},
    progress::{ProgressEvent, StepAction, StepId},
    report::{ApplyReport, IdentityReport, StepOutcome, StepStatus},
    run_id::RunId,
    spec::{DeploymentSpec, Flow, Workload},
    survey::Survey,
    tracker::Tracker,
};
use aci_cmk_aci::models::{ContainerGroup, EncryptionProperties};
use aci_cmk_core::{key_id::VaultUrl, names::PrincipalId, resource_id::ResourceId};
use aci_cmk_identity::{managed_identities::UserAssignedIdentity, role_assignments::PrincipalType};
use aci_cmk_keyvault::{
    keys::{KeyProperties, UpdateKeyOptions},
    models::{AccessPolicyUpdateKind, KeyPermission, Vault},
};
use futures::{FutureExt, future::BoxFuture};
use std::{
    collections::BTreeMap,
    sync::{Mutex, OnceLock},
    time::Instant,
};
use tracing::Instrument;

/// A step ended without its output: it failed, or a step it needs did (its own outcome says
/// why).
#[derive(Clone, Copy, Debug)]
struct Upstream;

/// What the steps hand on to the steps that need them; each is set once, by its step.
#[derive(Default)]
struct Outputs {
    resource_group: OnceLock<ResourceId>,
    service_principal: OnceLock<PrincipalId>,
    vault: OnceLock<Vault>,
    key: OnceLock<KeyProperties>,
    identity: OnceLock<UserAssignedIdentity>,
    deployed: OnceLock<Deployed>,
}

/// What the container-group step deployed.
#[derive(Clone, Debug)]
struct Deployed {
    group_ids: Vec<String>,
    deployment_id: Option<String>,
    encryption: Option<EncryptionProperties>,
}

impl Deployed {
    fn group(group: &ContainerGroup) -> Self {
        Self {
            group_ids: group.id.iter().cloned().collect(),
            deployment_id: None,
            encryption: group.properties.encryption_properties.clone(),
        }
    }
}

type StepResult = std::result::Result<StepAction, StepError>;

/// One run of `apply`.
pub(crate) struct Exec<'a> {
    orchestrator: &'a Orchestrator,
    spec: &'a DeploymentSpec,
    survey: &'a Survey,
    decisions: &'a Decisions,
    run: &'a RunId,
    outputs: Outputs,
    outcomes: Mutex<BTreeMap<StepId, StepOutcome>>,
    first_failure: Mutex<Option<(StepId, StepError)>>,
}

impl<'a> Exec<'a> {
    pub(crate) fn new(
        orchestrator: &'a Orchestrator,
        spec: &'a DeploymentSpec,
        survey: &'a Survey,
        decisions: &'a Decisions,
        run: &'a RunId,
    ) -> Self {
        Self {
            orchestrator,
            spec,
            survey,
            decisions,
            run,
            outputs: Outputs::default(),
            outcomes: Mutex::new(BTreeMap::new()),
            first_failure: Mutex::new(None),
        }
    }

    fn record(&self, outcome: StepOutcome) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            outcomes.insert(outcome.step, outcome);
        }
    }

    /// Runs every step of the spec's flow, each once the steps it needs are done, and builds
    /// the report (its duration counted from `started`).
    pub(crate) async fn run(&self, started: Instant) -> Result<ApplyReport> {
        let spec = self.spec;
        let mut running: BTreeMap<
            StepId,
            futures::future::Shared<BoxFuture<'_, Result<(), Upstream>>>,
        > = BTreeMap::new();
        for step in ALL_STEPS.into_iter().filter(|s| graph::applies(*s, spec)) {
            let needs: Vec<_> = graph::needs(step, spec)
                .into_iter()
                .filter_map(|need| running.get(&need).cloned())
                .collect();
            let future = async move {
                let prerequisites = futures::future::join_all(needs)
                    .await
                    .into_iter()
                    .collect::<std::result::Result<Vec<()>, Upstream>>();
                self.step(step, prerequisites.is_ok()).await
            }
            .boxed()
            .shared();
            running.insert(step, future);
        }
        futures::future::join_all(running.into_values()).await;
        let report = self.report(started);
        let failure = self.first_failure.lock().ok().and_then(|mut f| f.take());
        match failure {
            None => Ok(report),
            Some((step, StepError::Backend(source))) => Err(Error::StepFailed {
                step,
                source: std::sync::Arc::new(*source),
                report: Box::new(report),
            }),
            Some((step, StepError::Blocked(message))) => Err(Error::Blocked {
                step,
                message,
                report: Some(Box::new(report)),
            }),
        }
    }

    /// Runs one step (or skips it when a step it needs failed): announces it, times it,
    /// records its outcome.
    async fn step(
        &self,
        step: StepId,
        prerequisites_done: bool,
    ) -> std::result::Result<(), Upstream> {
        if !prerequisites_done {
            let reason = "a step it needs failed".to_owned();
            self.orchestrator.emit(ProgressEvent::Skipped {
                step,
                reason: reason.clone(),
            });
            self.record(StepOutcome::new(step, StepStatus::Skipped { reason }));
            return Err(Upstream);
        }
        self.orchestrator.emit(ProgressEvent::Started { step });
        let tracker = Tracker::new(self.orchestrator, self.run, step, step.as_str());
        let started = Instant::now();
        let span = tracing::info_span!("step", step = %step);
        let result = self.carry_out(step, &tracker).instrument(span).await;
        let duration = started.elapsed();
        let mut outcome = StepOutcome::new(step, StepStatus::NotApplicable);
        outcome.retries = tracker.retries();
        outcome.duration = duration;
        outcome.client_request_id = Some(tracker.client_request_id());
        outcome.write_ids = tracker.write_ids();
        match result {
            Ok(action) => {
                self.orchestrator.emit(ProgressEvent::Done {
                    step,
                    action,
                    duration,
                });
                outcome.status = StepStatus::Done { action };
                self.record(outcome);
                Ok(())
            }
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(step = %step, error = %message, "step failed");
                self.orchestrator.emit(ProgressEvent::Failed {
                    step,
                    error: message.clone(),
                });
                outcome.status = StepStatus::Failed { error: message };
                self.record(outcome);
                if let Ok(mut first) = self.first_failure.lock() {
                    first.get_or_insert((step, error));
                }
                Err(Upstream)
            }
        }
    }

    /// Carries out the decision of `step`.
    async fn carry_out(&self, step: StepId, tracker: &Tracker<'_>) -> StepResult {
        match step {
            StepId::ResourceGroup => self.resource_group(tracker).await,
            StepId::ServicePrincipal => self.service_principal(tracker).await,
            StepId::Vault => self.vault(tracker).await,
            StepId::DeployerAccess => {
                let deployer = self.backends().deployer.object_id.clone();
                let principal_type = self.backends().deployer.principal_type.clone();
                let decision = &self.decisions.deployer_access.what;
                self.access(tracker, decision, &deployer, principal_type)
                    .await
            }
            StepId::Key => self.key(tracker).await,
            StepId::KeyLifecycle => self.key_lifecycle(tracker).await,
            StepId::Identity => self.identity(tracker).await,
            StepId::EncryptionAccess => {
                let principal = self.encryption_principal()?;
                let decision = &self.decisions.encryption_access.what;
                self.access(
                    tracker,
                    decision,
                    &principal,
                    PrincipalType::ServicePrincipal,
                )
                .await
            }
            StepId::Firewall => self.firewall(tracker).await,
            StepId::ContainerGroup => self.workload(tracker).await,
        }
    }

    /// Builds the report from the steps' outcomes and outputs.
    fn report(&self, started: Instant) -> ApplyReport {
        let mut report = ApplyReport::default();
        let outcomes = self.outcomes.lock().map(|o| o.clone()).unwrap_or_default();
        for step in ALL_STEPS {
            report
                .steps
                .push(outcomes.get(&step).cloned().unwrap_or_else(|| {
                    StepOutcome::new(
                        step,
                        if graph::applies(step, self.spec) {
                            StepStatus::Skipped {
                                reason: "did not run".into(),
                            }
                        } else {
                            StepStatus::NotApplicable
                        },
                    )
                }));
        }
        let out = &self.outputs;
        report.run_id = self.run.to_string();
        report.resource_group_id = out.resource_group.get().map(ToString::to_string);
        if let Some(v) = out.vault.get() {
            report.vault_id = Some(v.id.to_string());
            report.vault_uri = v.properties.vault_uri.clone();
        }
        report.key_id = out.key.get().map(|k| k.kid.clone());
        report.service_principal_id = out.service_principal.get().cloned();
        report.identity = out.identity.get().map(|i| IdentityReport {
            id: i.id.to_string(),
            principal_id: i.principal_id.clone(),
            client_id: i.client_id.clone(),
        });
        if let Some(deployed) = out.deployed.get() {
            report.container_group_ids = deployed.group_ids.clone();
            report.deployment_id = deployed.deployment_id.clone();
            report.encryption = deployed.encryption.clone();
        }
        report.warnings = self.decisions.warnings.clone();
        report.duration = started.elapsed();
        report
    }

    // ---- the steps -------------------------------------------------------------------------

    async fn resource_group(&self, tracker: &Tracker<'_>) -> StepResult {
        let spec = self.spec;
        let id = ResourceId::resource_group(&spec.subscription_id, &spec.resource_group);
        let action = match self.decisions.resource_group.what {
            ResourceGroupDecision::Keep => StepAction::InPlace,
            ResourceGroupDecision::Create => {
                self.backends()
                    .resource_groups
                    .create_or_update(
                        &spec.resource_group,
                        &spec.location,
                        &spec.tags,
                        tracker.options(),
                    )
                    .await?;
                StepAction::Create
            }
        };
        set(&self.outputs.resource_group, id);
        Ok(action)
    }

    async fn service_principal(&self, tracker: &Tracker<'_>) -> StepResult {
        let (id, action) = match &self.decisions.service_principal.what {
            ServicePrincipalDecision::Keep(id) => (id.clone(), StepAction::InPlace),
            ServicePrincipalDecision::Create => {
                let ensured = self
                    .backends()
                    .directory
                    .ensure_service_principal(&crate::survey::aci_app_id(), tracker.options())
                    .await?;
                let action = if ensured.created {
                    StepAction::Create
                } else {
                    StepAction::InPlace
                };
                (ensured.service_principal.id, action)
            }
        };
        set(&self.outputs.service_principal, id);
        Ok(action)
    }

    async fn vault(&self, tracker: &Tracker<'_>) -> StepResult {
        let spec = self.spec;
        let vaults = &self.backends().vaults;
        let (vault, action) = match &self.decisions.vault.what {
            VaultDecision::Keep(vault) => ((**vault).clone(), StepAction::InPlace),
            VaultDecision::Update(patch) => (
                vaults
                    .update(
                        &spec.resource_group,
                        &spec.vault.name,
                        patch,
                        tracker.options(),
                    )
                    .await?,
                StepAction::Update,
            ),
            VaultDecision::Recover { location, sku } => (
                vaults
                    .recover(
                        &spec.resource_group,
                        &spec.vault.name,
                        location,
                        &self.backends().deployer.tenant_id,
                        sku,
                        tracker.options(),
                    )
                    .await?,
                StepAction::Recover,
            ),
            VaultDecision::Create(parameters) => (
                vaults
                    .create_or_update(
                        &spec.resource_group,
                        &spec.vault.name,
                        parameters,
                        tracker.options(),
                    )
                    .await?,
                StepAction::Create,
            ),
        };
        set(&self.outputs.vault, vault);
        Ok(action)
    }

    /// The deployer-access and encryption-access steps: a role assignment or an access policy
    /// for `principal`, as `decision` says.
    async fn access(
        &self,
        tracker: &Tracker<'_>,
        decision: &AccessDecision,
        principal: &PrincipalId,
        principal_type: PrincipalType,
    ) -> StepResult {
        let vault = self.vault_output()?;
        match decision {
            AccessDecision::Granted => Ok(StepAction::InPlace),
            AccessDecision::AssignRole(role) => {
                tracker
                    .until_propagated(|| async {
                        self.backends()
                            .role_assignments
                            .create(
                                &vault.id,
                                *role,
                                principal,
                                principal_type.clone(),
                                tracker.options(),
                            )
                            .await
                            .map_err(BackendError::from)
                    })
                    .await?;
                Ok(StepAction::Create)
            }
            AccessDecision::AddPolicy {
                permissions,
                unless_granted,
            } => {
                if *unless_granted && desired::policy_grants(vault, principal, permissions) {
                    return Ok(StepAction::InPlace);
                }
                self.add_policy(tracker, vault, principal, permissions)
                    .await?;
                Ok(StepAction::Update)
            }
        }
    }

    async fn add_policy(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
        principal: &PrincipalId,
        permissions: &[KeyPermission],
    ) -> std::result::Result<(), BackendError> {
        let entry = desired::policy_entry(vault, principal, permissions);
        self.backends()
            .vaults
            .update_access_policy(
                &self.spec.resource_group,
                &self.spec.vault.name,
                AccessPolicyUpdateKind::Add,
                &[entry],
                tracker.options(),
            )
            .await?;
        Ok(())
    }

    async fn key(&self, tracker: &Tracker<'_>) -> StepResult {
        let url = vault_url(self.vault_output()?)?;
        let keys = &self.backends().keys;
        let name = self.spec.key.name();
        let url = &url;
        let create = |options: aci_cmk_keyvault::keys::CreateKeyOptions| async move {
            tracker
                .until_propagated(|| async {
                    keys.create_key(url, name, options.clone(), tracker.options())
                        .await
                        .map_err(BackendError::from)
                })
                .await
        };
        let (key, action) = match &self.decisions.key.what {
            KeyDecision::Use(key) => ((**key).clone(), StepAction::InPlace),
            KeyDecision::Create(options) => (create(options.clone()).await?, StepAction::Create),
            KeyDecision::Read {
                version,
                create: create_options,
            } => {
                let read = tracker
                    .until_propagated(|| async {
                        keys.get_key(url, name, version.as_ref(), tracker.options())
                            .await
                            .map_err(BackendError::from)
                    })
                    .await;
                match (read, create_options) {
                    (Ok(key), _) => (key, StepAction::InPlace),
                    (Err(e), Some(options)) if e.is_not_found() => {
                        (create(options.clone()).await?, StepAction::Create)
                    }
                    (Err(e), _) => return Err(e.into()),
                }
            }
        };
        set(&self.outputs.key, key);
        Ok(action)
    }

    async fn key_lifecycle(&self, tracker: &Tracker<'_>) -> StepResult {
        let decision = &self.decisions.key_lifecycle.what;
        let url = vault_url(self.vault_output()?)?;
        let key = self.outputs.key.get().ok_or_else(missing_output)?;
        let keys = &self.backends().keys;
        let name = self.spec.key.name();
        let mut action = StepAction::InPlace;
        if let Some(policy) = &decision.policy {
            tracker
                .until_propagated(|| async {
                    keys.set_rotation_policy(&url, name, policy, tracker.options())
                        .await
                        .map_err(BackendError::from)
                })
                .await?;
            action = StepAction::Update;
        }
        let expiry = decision
            .expiry_of_version
            .then(|| desired::version_expiry(self.spec, key, self.orchestrator.now()))
            .flatten();
        if let Some(expires) = expiry {
            keys.update_key_attributes(
                &url,
                name,
                Some(&key.version),
                UpdateKeyOptions::default().with_expires(expires),
                tracker.options(),
            )
            .await?;
            action = StepAction::Update;
        }
        Ok(action)
    }

    async fn identity(&self, tracker: &Tracker<'_>) -> StepResult {
        let spec = self.spec;
        let (identity, action) = match (&self.decisions.identity.what, &spec.flow) {
            (IdentityDecision::Keep(identity), _) => ((**identity).clone(), StepAction::InPlace),
            (IdentityDecision::Create, Flow::NetworkProtected { identity_name }) => (
                self.backends()
                    .identities
                    .create_or_update(
                        &spec.resource_group,
                        identity_name,
                        &spec.location,
                        &spec.tags,
                        tracker.options(),
                    )
                    .await?,
                StepAction::Create,
            ),
            (IdentityDecision::Create, Flow::Standard) => {
                return Err(StepError::Blocked(
                    "the standard flow has no managed identity".into(),
                ));
            }
        };
        set(&self.outputs.identity, identity);
        Ok(action)
    }

    async fn firewall(&self, tracker: &Tracker<'_>) -> StepResult {
        match self.decisions.firewall.what {
            FirewallDecision::Matches => Ok(StepAction::InPlace),
            FirewallDecision::Set { unless_matching } => {
                // The rules are computed from the vault as the vault step left it, so rules
                // someone else added stay.
                let vault = self.vault_output()?;
                let rules = desired::firewall(self.spec, Some(vault));
                if unless_matching && desired::firewall_matches(vault, &rules) {
                    return Ok(StepAction::InPlace);
                }
                self.backends()
                    .vaults
                    .update_network_rules(
                        &self.spec.resource_group,
                        &self.spec.vault.name,
                        &rules,
                        tracker.options(),
                    )
                    .await?;
                Ok(StepAction::Update)
            }
        }
    }

    async fn workload(&self, tracker: &Tracker<'_>) -> StepResult {
        let spec = self.spec;
        let url = vault_url(self.vault_output()?)?;
        let key = self.outputs.key.get().ok_or_else(missing_output)?;
        let identity = self.outputs.identity.get().map(|i| i.id.clone());
        let encryption = desired::encryption(&url, spec, &key.version, identity.as_ref());
        let (deployed, action) = match (&spec.workload, &self.decisions.workload.what) {
            (
                Workload::ContainerGroup(group_spec),
                WorkloadDecision::Group {
                    action,
                    key_known,
                    pinned,
                },
            ) => {
                // A key the survey could not read is known now: decide again, as the plan said.
                let action = if *key_known {
                    *action
                } else {
                    decide_group(
                        spec,
                        group_spec,
                        self.survey.group.as_ref(),
                        &Some(url.clone()),
                        KeyVersionKnown::Version(&key.version),
                    )
                    .action
                };
                // A pinned group keeps its version; otherwise the key step's.
                let version = pinned.as_ref().unwrap_or(&key.version);
                let encryption = desired::encryption(&url, spec, version, identity.as_ref());
                let want = desired::group(spec, group_spec, &encryption, identity.as_ref());
                let group = converge_group(
                    tracker,
                    &spec.resource_group,
                    &group_spec.name,
                    self.survey.group.as_ref(),
                    &want,
                    action,
                    desired::may_recreate(spec),
                )
                .await?;
                (Deployed::group(&group), action)
            }
            (Workload::Template(_), WorkloadDecision::TemplateDeployed(deployment)) => (
                self.template_groups(tracker, deployment).await?,
                StepAction::InPlace,
            ),
            (Workload::Template(_), WorkloadDecision::DeployTemplate) => {
                let (name, request) = desired::patched_template(spec, &encryption)
                    .map_err(|e| StepError::Blocked(e.to_string()))?
                    .ok_or_else(missing_output)?;
                let deployments = &self.backends().deployments;
                let deployment = tracker
                    .until_propagated(|| async {
                        deployments
                            .create_or_update(
                                &spec.resource_group,
                                &name,
                                &request,
                                tracker.options(),
                            )
                            .await
                            .map_err(BackendError::from)
                    })
                    .await?;
                (
                    self.template_groups(tracker, &deployment).await?,
                    StepAction::Create,
                )
            }
            _ => return Err(missing_output()),
        };
        set(&self.outputs.deployed, deployed);
        Ok(action)
    }

    /// The container groups a template deployment made, with the encryption the first one
    /// reports.
    async fn template_groups(
        &self,
        tracker: &Tracker<'_>,
        deployment: &aci_cmk_aci::deployments::Deployment,
    ) -> std::result::Result<Deployed, BackendError> {
        let group_ids: Vec<String> = deployment
            .properties
            .output_resources
            .iter()
            .map(|r| r.id.clone())
            .filter(|id| {
                id.to_ascii_lowercase()
                    .contains("/microsoft.containerinstance/containergroups/")
            })
            .collect();
        let mut encryption = None;
        if let Some(first) = group_ids
            .first()
            .and_then(|id| id.parse::<ResourceId>().ok())
            && let (Some(rg), Ok(name)) = (first.resource_group_name(), first.name().parse())
        {
            let group = self
                .backends()
                .container_groups
                .get(rg, &name, tracker.options())
                .await?;
            encryption = group.properties.encryption_properties;
        }
        Ok(Deployed {
            group_ids,
            deployment_id: deployment.id.clone(),
            encryption,
        })
    }

    // ---- helpers ---------------------------------------------------------------------------

    fn backends(&self) -> &crate::Backends {
        &self.orchestrator.backends
    }

    fn vault_output(&self) -> std::result::Result<&Vault, StepError> {
        self.outputs.vault.get().ok_or_else(missing_output)
    }

    /// Whoever ACI acts as: the service principal step's or the identity step's output.
    fn encryption_principal(&self) -> std::result::Result<PrincipalId, StepError> {
        self.outputs
            .service_principal
            .get()
            .cloned()
            .or_else(|| self.outputs.identity.get().map(|i| i.principal_id.clone()))
            .ok_or_else(missing_output)
    }
}

/// Sets a step's output (each step sets its own once).
fn set<T>(cell: &OnceLock<T>, value: T) {
    let _ = cell.set(value);
}

/// A step ran without the output of a step the graph says it needs: a bug in the graph.
fn missing_output() -> StepError {
    StepError::Blocked("a step it needs left no output (the step graph is wrong)".into())
}

fn vault_url(vault: &Vault) -> std::result::Result<VaultUrl, StepError> {
    vault.properties.vault_uri.clone().ok_or_else(|| {
        StepError::Blocked(format!(
            "vault {} reports no vaultUri, which the key and the group need",
            vault.name
        ))
    })
}
