//! `apply`: the steps, run concurrently where they do not depend on each other, each waiting
//! exactly for what it needs, each reading the survey instead of re-reading Azure, and each
//! writing only where the current state differs from the spec.

use crate::{
    Orchestrator, desired,
    error::{BackendError, Error, Result},
    plan::{ALL_STEPS, applies},
    progress::{ProgressEvent, StepAction, StepId},
    propagation::is_propagation_error,
    report::{ApplyReport, IdentityReport, StepOutcome, StepStatus},
    run_id::RunId,
    spec::{DeploymentSpec, Flow, KeySpec, VaultAuthorization},
    survey::{KeyFound, Survey, VaultFound},
};
use aci_cmk_aci::models::{ContainerGroup, EncryptionProperties};
use aci_cmk_core::{CallOptions, ResponseRecorder, names::PrincipalId, resource_id::ResourceId};
use aci_cmk_identity::{
    managed_identities::UserAssignedIdentity,
    role_assignments::{PrincipalType, RoleDefinitionId},
};
use aci_cmk_keyvault::{
    keys::{CreateKeyOptions, KeyProperties},
    models::{AccessPolicyUpdateKind, KeyPermission, Vault},
};
use futures::FutureExt;
use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Instant,
};
use tracing::Instrument;

/// A prerequisite failed; its own outcome says why.
#[derive(Clone, Copy, Debug)]
struct Upstream;

type StepOutput<T> = std::result::Result<T, Upstream>;

/// Whether a prerequisite's output is there, without taking it.
fn ready<T>(output: &StepOutput<T>) -> StepOutput<()> {
    output.as_ref().map(drop).map_err(|e| *e)
}

/// One run of `apply`.
pub(crate) struct Exec<'a> {
    orchestrator: &'a Orchestrator,
    spec: &'a DeploymentSpec,
    survey: &'a Survey,
    run: &'a RunId,
    outcomes: Mutex<BTreeMap<StepId, StepOutcome>>,
    first_failure: Mutex<Option<(StepId, Arc<BackendError>)>>,
}

/// Handed to a step's body: counts and announces propagation retries, and gives every call of
/// the step its options (the step's client request id, the step's recorder).
pub(crate) struct Tracker<'a> {
    step: StepId,
    orchestrator: &'a Orchestrator,
    retries: AtomicU32,
    run: &'a RunId,
    recorder: ResponseRecorder,
}

impl Tracker<'_> {
    /// The options of a call made by this step: `aci-cmk/{run}/{step}` and the step's recorder.
    pub(crate) fn options(&self) -> Option<CallOptions<'static>> {
        self.run.options(self.step.as_str(), Some(&self.recorder))
    }

    /// Runs `call`, retrying while the error says a principal or role assignment has not
    /// propagated yet, with bounded backoff.
    pub(crate) async fn until_propagated<T, F, Fut>(
        &self,
        mut call: F,
    ) -> std::result::Result<T, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, BackendError>>,
    {
        let policy = &self.orchestrator.options.propagation;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if e.core().is_some_and(is_propagation_error) => {
                    attempt += 1;
                    let delay = policy.delay(attempt);
                    if started.elapsed() + delay > policy.max_total {
                        return Err(e);
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.orchestrator.emit(ProgressEvent::Retried {
                        step: self.step,
                        attempt,
                        reason: e.to_string(),
                    });
                    tracing::info!(step = %self.step, attempt, error = %e, "waiting for propagation");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }
}

/// What the key step hands on.
#[derive(Clone, Debug)]
struct KeyOutput {
    key: KeyProperties,
}

/// Who ACI acts as.
#[derive(Clone, Debug)]
struct Principal {
    object_id: PrincipalId,
    identity: Option<UserAssignedIdentity>,
}

impl<'a> Exec<'a> {
    pub(crate) fn new(
        orchestrator: &'a Orchestrator,
        spec: &'a DeploymentSpec,
        survey: &'a Survey,
        run: &'a RunId,
    ) -> Self {
        Self {
            orchestrator,
            spec,
            survey,
            run,
            outcomes: Mutex::new(BTreeMap::new()),
            first_failure: Mutex::new(None),
        }
    }

    fn record(&self, outcome: StepOutcome) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            outcomes.insert(outcome.step, outcome);
        }
    }

    /// Runs one step: announces it, times it, records its outcome.
    async fn step<T, F, Fut>(
        &self,
        step: StepId,
        prerequisites: StepOutput<()>,
        body: F,
    ) -> StepOutput<T>
    where
        F: FnOnce(Arc<Tracker<'a>>) -> Fut,
        Fut: Future<Output = std::result::Result<(T, StepAction), BackendError>>,
    {
        if prerequisites.is_err() {
            let reason = "a step it needs failed".to_owned();
            self.orchestrator.emit(ProgressEvent::Skipped {
                step,
                reason: reason.clone(),
            });
            self.record(StepOutcome::new(step, StepStatus::Skipped { reason }));
            return Err(Upstream);
        }
        self.orchestrator.emit(ProgressEvent::Started { step });
        let tracker = Arc::new(Tracker {
            step,
            orchestrator: self.orchestrator,
            retries: AtomicU32::new(0),
            run: self.run,
            recorder: ResponseRecorder::new(),
        });
        let client_request_id = Some(self.run.client_request_id(step.as_str()));
        let started = Instant::now();
        let span = tracing::info_span!("step", step = %step);
        let result = body(tracker.clone()).instrument(span).await;
        let duration = started.elapsed();
        let retries = tracker.retries.load(Ordering::Relaxed);
        let write_ids = tracker.recorder.writes();
        match result {
            Ok((value, action)) => {
                self.orchestrator.emit(ProgressEvent::Done {
                    step,
                    action,
                    duration,
                });
                self.record(StepOutcome {
                    step,
                    status: StepStatus::Done { action },
                    retries,
                    duration,
                    client_request_id,
                    write_ids,
                });
                Ok(value)
            }
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(step = %step, error = %message, "step failed");
                self.orchestrator.emit(ProgressEvent::Failed {
                    step,
                    error: message.clone(),
                });
                self.record(StepOutcome {
                    step,
                    status: StepStatus::Failed { error: message },
                    retries,
                    duration,
                    client_request_id,
                    write_ids,
                });
                if let Ok(mut first) = self.first_failure.lock() {
                    first.get_or_insert((step, Arc::new(error)));
                }
                Err(Upstream)
            }
        }
    }

    /// Runs every step of the spec's flow and builds the report.
    pub(crate) async fn run(&self) -> Result<ApplyReport> {
        let started = Instant::now();
        let spec = self.spec;
        let protected = matches!(spec.flow, Flow::NetworkProtected { .. });

        let rg = async {
            self.step(StepId::ResourceGroup, Ok(()), |t| async move {
                self.resource_group(&t).await
            })
            .await
        }
        .shared();
        let sp = async {
            if protected {
                return Ok(None);
            }
            self.step(StepId::ServicePrincipal, Ok(()), |t| async move {
                self.service_principal(&t).await
            })
            .await
            .map(Some)
        }
        .shared();
        let vault = {
            let rg = rg.clone();
            async move {
                let prerequisites = rg.await.map(drop);
                self.step(StepId::Vault, prerequisites, |t| async move {
                    self.vault(&t).await
                })
                .await
            }
            .shared()
        };
        let deployer_access = {
            let vault = vault.clone();
            async move {
                let v = vault.await;
                let prerequisites = ready(&v);
                self.step(StepId::DeployerAccess, prerequisites, |t| async move {
                    let vault = v.as_ref().map_err(|_| unreachable_upstream())?;
                    self.deployer_access(&t, vault).await
                })
                .await
            }
            .shared()
        };
        let key = {
            let (vault, deployer_access) = (vault.clone(), deployer_access.clone());
            async move {
                let (v, access) = futures::join!(vault, deployer_access);
                let prerequisites = ready(&v).and(access);
                self.step(StepId::Key, prerequisites, |t| async move {
                    let vault = v.as_ref().map_err(|_| unreachable_upstream())?;
                    self.key(&t, vault).await
                })
                .await
            }
            .shared()
        };
        let identity = {
            let rg = rg.clone();
            async move {
                if !protected {
                    return Ok(None);
                }
                let prerequisites = rg.await.map(drop);
                self.step(StepId::Identity, prerequisites, |t| async move {
                    self.identity(&t).await
                })
                .await
                .map(Some)
            }
            .shared()
        };
        let encryption_access = {
            let (vault, sp, identity) = (vault.clone(), sp.clone(), identity.clone());
            async move {
                let (v, sp, identity) = futures::join!(vault, sp, identity);
                let principal = match (sp, identity) {
                    (Ok(Some(sp)), _) => Ok(Principal {
                        object_id: sp,
                        identity: None,
                    }),
                    (_, Ok(Some(identity))) => Ok(Principal {
                        object_id: identity.principal_id.clone(),
                        identity: Some(identity),
                    }),
                    _ => Err(Upstream),
                };
                let prerequisites = ready(&v).and(ready(&principal));
                let for_step = principal.clone();
                let result = self
                    .step(StepId::EncryptionAccess, prerequisites, |t| async move {
                        let vault = v.as_ref().map_err(|_| unreachable_upstream())?;
                        let principal = for_step.as_ref().map_err(|_| unreachable_upstream())?;
                        self.encryption_access(&t, vault, &principal.object_id)
                            .await
                    })
                    .await;
                result.and(principal)
            }
            .shared()
        };
        let firewall = {
            let (vault, key) = (vault.clone(), key.clone());
            async move {
                if !protected {
                    return Ok(());
                }
                let (v, k) = futures::join!(vault, key);
                let prerequisites = ready(&v).and(ready(&k));
                self.step(StepId::Firewall, prerequisites, |t| async move {
                    let vault = v.as_ref().map_err(|_| unreachable_upstream())?;
                    self.firewall(&t, vault).await
                })
                .await
            }
            .shared()
        };
        let group = {
            let (vault, key, encryption_access, firewall) = (
                vault.clone(),
                key.clone(),
                encryption_access.clone(),
                firewall.clone(),
            );
            async move {
                let (v, k, principal, fw) = futures::join!(vault, key, encryption_access, firewall);
                let prerequisites = ready(&v).and(ready(&k)).and(ready(&principal)).and(fw);
                self.step(StepId::ContainerGroup, prerequisites, |t| async move {
                    let vault = v.as_ref().map_err(|_| unreachable_upstream())?;
                    let key = k.as_ref().map_err(|_| unreachable_upstream())?;
                    let principal = principal.as_ref().map_err(|_| unreachable_upstream())?;
                    self.container_group(&t, vault, key, principal).await
                })
                .await
            }
        };

        let (rg, sp, vault, key, principal, group) =
            futures::join!(rg, sp, vault, key, encryption_access, group);
        // Every shared future has been driven to completion by the ones above.
        let _ = (deployer_access, identity, firewall);

        let mut report = ApplyReport::default();
        let outcomes = self.outcomes.lock().map(|o| o.clone()).unwrap_or_default();
        for step in ALL_STEPS {
            report
                .steps
                .push(outcomes.get(&step).cloned().unwrap_or_else(|| {
                    StepOutcome::new(
                        step,
                        if applies(step, &spec.flow) {
                            StepStatus::Skipped {
                                reason: "did not run".into(),
                            }
                        } else {
                            StepStatus::NotApplicable
                        },
                    )
                }));
        }
        report.run_id = self.run.to_string();
        report.resource_group_id = rg.ok().map(|id| id.to_string());
        if let Ok(v) = &vault {
            report.vault_id = Some(v.id.to_string());
            report.vault_uri = v.properties.vault_uri.clone();
        }
        report.key_id = key.ok().map(|k| k.key.kid);
        report.service_principal_id = sp.ok().flatten();
        if let Ok(Principal {
            identity: Some(i), ..
        }) = principal
        {
            report.identity = Some(IdentityReport {
                id: i.id.to_string(),
                principal_id: i.principal_id,
                client_id: i.client_id,
            });
        }
        if let Ok(deployed) = group {
            report.container_group_ids = deployed.group_ids;
            report.deployment_id = deployed.deployment_id;
            report.encryption = deployed.encryption;
        }
        report.duration = started.elapsed();

        let failure = self.first_failure.lock().ok().and_then(|mut f| f.take());
        match failure {
            Some((step, source)) => Err(Error::StepFailed {
                step,
                source,
                report: Box::new(report),
            }),
            None => Ok(report),
        }
    }

    // ---- the steps -------------------------------------------------------------------------

    async fn resource_group(
        &self,
        tracker: &Tracker<'_>,
    ) -> std::result::Result<(ResourceId, StepAction), BackendError> {
        let spec = self.spec;
        let id = ResourceId::resource_group(&spec.subscription_id, &spec.resource_group);
        if self.survey.resource_group.is_some() {
            return Ok((id, StepAction::InPlace));
        }
        self.backends()
            .resource_groups
            .create_or_update(
                &spec.resource_group,
                &spec.location,
                &spec.tags,
                tracker.options(),
            )
            .await?;
        Ok((id, StepAction::Create))
    }

    async fn service_principal(
        &self,
        tracker: &Tracker<'_>,
    ) -> std::result::Result<(PrincipalId, StepAction), BackendError> {
        if let Some(sp) = &self.survey.service_principal {
            return Ok((sp.id.clone(), StepAction::InPlace));
        }
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
        Ok((ensured.service_principal.id, action))
    }

    async fn vault(
        &self,
        tracker: &Tracker<'_>,
    ) -> std::result::Result<(Vault, StepAction), BackendError> {
        let spec = self.spec;
        let vaults = &self.backends().vaults;
        match &self.survey.vault {
            VaultFound::Live(vault) => match desired::vault_patch(spec, vault) {
                Some(patch) => {
                    let updated = vaults
                        .update(
                            &spec.resource_group,
                            &spec.vault.name,
                            &patch,
                            tracker.options(),
                        )
                        .await?;
                    Ok((updated, StepAction::Update))
                }
                None => Ok(((**vault).clone(), StepAction::InPlace)),
            },
            VaultFound::SoftDeleted(deleted) => {
                let tenant = &self.backends().deployer.tenant_id;
                let sku = desired::vault_create_parameters(spec, tenant)
                    .properties
                    .sku;
                let location = deleted
                    .properties
                    .location
                    .as_ref()
                    .unwrap_or(&spec.location);
                let vault = vaults
                    .recover(
                        &spec.resource_group,
                        &spec.vault.name,
                        location,
                        tenant,
                        &sku,
                        tracker.options(),
                    )
                    .await?;
                Ok((vault, StepAction::Recover))
            }
            VaultFound::Absent | VaultFound::TakenElsewhere(_) => {
                let parameters =
                    desired::vault_create_parameters(spec, &self.backends().deployer.tenant_id);
                let vault = vaults
                    .create_or_update(
                        &spec.resource_group,
                        &spec.vault.name,
                        &parameters,
                        tracker.options(),
                    )
                    .await?;
                Ok((vault, StepAction::Create))
            }
        }
    }

    async fn deployer_access(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
    ) -> std::result::Result<((), StepAction), BackendError> {
        let deployer = self.backends().deployer.object_id.clone();
        if self.rbac() {
            let granted = self.has_role(
                &self.survey.deployer_roles,
                vault,
                &[
                    RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                    RoleDefinitionId::KEY_VAULT_ADMINISTRATOR,
                ],
            );
            if granted {
                return Ok(((), StepAction::InPlace));
            }
            tracker
                .until_propagated(|| async {
                    self.backends()
                        .role_assignments
                        .create(
                            &vault.id,
                            RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                            &deployer,
                            self.backends().deployer.principal_type.clone(),
                            tracker.options(),
                        )
                        .await
                        .map_err(BackendError::from)
                })
                .await?;
            return Ok(((), StepAction::Create));
        }
        self.grant_policy(
            tracker,
            vault,
            &deployer,
            &desired::DEPLOYER_KEY_PERMISSIONS,
        )
        .await
    }

    async fn key(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
    ) -> std::result::Result<(KeyOutput, StepAction), BackendError> {
        let spec = self.spec;
        let url = vault_url(vault)?;
        let keys = &self.backends().keys;
        if let KeyFound::Found(key) = &self.survey.key {
            return Ok((
                KeyOutput {
                    key: (**key).clone(),
                },
                StepAction::InPlace,
            ));
        }
        let version = match &spec.key {
            KeySpec::Existing { id } => id.version().cloned(),
            KeySpec::Create { .. } => None,
        };
        // A vault this run created holds no key: nothing to read. Otherwise read it now that the
        // deployer has access (the survey may not have been allowed to).
        let fresh_vault = matches!(
            self.survey.vault,
            VaultFound::Absent | VaultFound::TakenElsewhere(_)
        ) && matches!(spec.key, KeySpec::Create { .. });
        let existing = if fresh_vault {
            Err(BackendError::Core(aci_cmk_core::Error::NotFound(
                Box::default(),
            )))
        } else {
            tracker
                .until_propagated(|| async {
                    keys.get_key(&url, spec.key.name(), version.as_ref(), tracker.options())
                        .await
                        .map_err(BackendError::from)
                })
                .await
        };
        match (existing, &spec.key) {
            (Ok(key), _) => Ok((KeyOutput { key }, StepAction::InPlace)),
            (Err(e), KeySpec::Create { name, size, kty }) if e.is_not_found() => {
                let options = CreateKeyOptions::new(*kty, *size);
                let key = tracker
                    .until_propagated(|| async {
                        keys.create_key(&url, name, options.clone(), tracker.options())
                            .await
                            .map_err(BackendError::from)
                    })
                    .await?;
                Ok((KeyOutput { key }, StepAction::Create))
            }
            (Err(e), _) => Err(e),
        }
    }

    async fn identity(
        &self,
        tracker: &Tracker<'_>,
    ) -> std::result::Result<(UserAssignedIdentity, StepAction), BackendError> {
        let spec = self.spec;
        if let Some(identity) = &self.survey.identity {
            return Ok((identity.clone(), StepAction::InPlace));
        }
        let Flow::NetworkProtected { identity_name } = &spec.flow else {
            unreachable!("the identity step runs only in the network-protected flow")
        };
        let identity = self
            .backends()
            .identities
            .create_or_update(
                &spec.resource_group,
                identity_name,
                &spec.location,
                &spec.tags,
                tracker.options(),
            )
            .await?;
        Ok((identity, StepAction::Create))
    }

    async fn encryption_access(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
        principal: &PrincipalId,
    ) -> std::result::Result<((), StepAction), BackendError> {
        if self.rbac() {
            let known = self.survey.encryption_principal().as_ref() == Some(principal);
            if known
                && self.has_role(
                    &self.survey.encryption_roles,
                    vault,
                    &[RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER],
                )
            {
                return Ok(((), StepAction::InPlace));
            }
            tracker
                .until_propagated(|| async {
                    self.backends()
                        .role_assignments
                        .create(
                            &vault.id,
                            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                            principal,
                            PrincipalType::ServicePrincipal,
                            tracker.options(),
                        )
                        .await
                        .map_err(BackendError::from)
                })
                .await?;
            return Ok(((), StepAction::Create));
        }
        self.grant_policy(
            tracker,
            vault,
            principal,
            &desired::ENCRYPTION_KEY_PERMISSIONS,
        )
        .await
    }

    async fn firewall(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
    ) -> std::result::Result<((), StepAction), BackendError> {
        let want = desired::firewall(self.spec, Some(vault));
        if desired::firewall_matches(vault, &want) {
            return Ok(((), StepAction::InPlace));
        }
        self.backends()
            .vaults
            .update_network_rules(
                &self.spec.resource_group,
                &self.spec.vault.name,
                &want,
                tracker.options(),
            )
            .await?;
        Ok(((), StepAction::Update))
    }

    async fn container_group(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
        key: &KeyOutput,
        principal: &Principal,
    ) -> std::result::Result<(Deployed, StepAction), BackendError> {
        let spec = self.spec;
        let url = vault_url(vault)?;
        let identity = principal.identity.as_ref().map(|i| i.id.clone());
        let encryption = desired::encryption(&url, spec, &key.key.version, identity.as_ref());
        if spec.template.is_some() {
            return self.deploy_template(tracker, &encryption).await;
        }
        let want = desired::group(spec, &encryption, identity.as_ref())
            .ok_or_else(|| invalid("the spec holds neither a container group nor a template"))?;
        let name = &spec
            .container_group
            .as_ref()
            .ok_or_else(|| invalid("no container group"))?
            .name;
        let groups = &self.backends().container_groups;
        let action = desired::group_step(self.survey.group.as_ref(), &want);
        match (action, &self.survey.group) {
            (StepAction::InPlace, Some(existing)) => {
                return Ok((Deployed::group(existing), StepAction::InPlace));
            }
            (StepAction::Recreate, _) if !spec.allow.recreate_container_group => {
                return Err(invalid(&desired::recreate_refused(name)));
            }
            (StepAction::Recreate, _) => {
                groups
                    .delete(&spec.resource_group, name, tracker.options())
                    .await?
            }
            _ => {}
        }
        // ACI reaches the key as a principal this run may have just created or granted access:
        // wait out its propagation.
        let created = tracker
            .until_propagated(|| async {
                groups
                    .create_or_update(&spec.resource_group, name, &want, tracker.options())
                    .await
                    .map_err(BackendError::from)
            })
            .await?;
        Ok((Deployed::group(&created), action))
    }

    async fn deploy_template(
        &self,
        tracker: &Tracker<'_>,
        encryption: &EncryptionProperties,
    ) -> std::result::Result<(Deployed, StepAction), BackendError> {
        let spec = self.spec;
        let (name, request) = desired::patched_template(spec, encryption)
            .map_err(|e| invalid(&e.to_string()))?
            .ok_or_else(|| invalid("no template"))?;
        let (deployment, action) = match &self.survey.deployment {
            Some(existing) => (existing.clone(), StepAction::InPlace),
            None => {
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
                (deployment, StepAction::Create)
            }
        };
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
        let mut reported = None;
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
            reported = group.properties.encryption_properties;
        }
        Ok((
            Deployed {
                group_ids,
                deployment_id: deployment.id,
                encryption: reported,
            },
            action,
        ))
    }

    // ---- helpers ---------------------------------------------------------------------------

    fn backends(&self) -> &crate::Backends {
        &self.orchestrator.backends
    }

    fn rbac(&self) -> bool {
        self.spec.vault.authorization == VaultAuthorization::Rbac
    }

    fn has_role(
        &self,
        roles: &[aci_cmk_identity::role_assignments::RoleAssignment],
        vault: &Vault,
        wanted: &[RoleDefinitionId],
    ) -> bool {
        // The survey saw the vault only if it existed then; a vault created by this run has no
        // assignments yet.
        matches!(&self.survey.vault, VaultFound::Live(v) if v.id == vault.id)
            && roles
                .iter()
                .any(|r| r.role().is_some_and(|role| wanted.contains(&role)))
    }

    async fn grant_policy(
        &self,
        tracker: &Tracker<'_>,
        vault: &Vault,
        principal: &PrincipalId,
        needed: &[KeyPermission],
    ) -> std::result::Result<((), StepAction), BackendError> {
        if desired::policy_grants(vault, principal, needed) {
            return Ok(((), StepAction::InPlace));
        }
        let entry = desired::policy_entry(vault, principal, needed);
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
        Ok(((), StepAction::Update))
    }
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

fn vault_url(vault: &Vault) -> std::result::Result<aci_cmk_core::key_id::VaultUrl, BackendError> {
    vault
        .properties
        .vault_uri
        .clone()
        .ok_or_else(|| invalid(&format!("vault {} reports no vaultUri", vault.name)))
}

fn invalid(message: &str) -> BackendError {
    BackendError::Core(aci_cmk_core::Error::InvalidArgument(message.to_owned()))
}

/// The error a step body returns for a prerequisite that cannot have failed: `step` already
/// checked it.
fn unreachable_upstream() -> BackendError {
    invalid("a prerequisite failed")
}
