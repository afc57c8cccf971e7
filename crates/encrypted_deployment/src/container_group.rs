//! Deploying one container group: the one function `apply`, the fleet and `rotate` call to
//! bring a group from what exists to what the spec wants, as the group's decision
//! ([`decide_group`](crate::decisions::decide_group)) says; and
//! [`Orchestrator::recreate_container_group`], the same path for a body built elsewhere (a
//! posture remediation's, from what it read back).

use crate::{
    Orchestrator, desired,
    error::{BackendError, Error, StepError},
    progress::{StepAction, StepId},
    run_id::RunId,
    tracker::Tracker,
};
use aci_cmk_aci::models::ContainerGroup;
use aci_cmk_core::{
    ResponseIds,
    names::{ContainerGroupName, ResourceGroupName},
};
use std::sync::Arc;

/// What [`Orchestrator::recreate_container_group`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecreatedGroup {
    /// The group as ARM answered its create.
    pub group: ContainerGroup,
    /// The client request id its requests carried: `aci-cmk/{run}/{part}`.
    pub client_request_id: String,
    /// What ARM answered to each of its writes (the delete, the create), in order.
    pub write_ids: Vec<ResponseIds>,
    /// How many times the create was retried while a principal or grant propagated.
    pub propagation_retries: u32,
}

impl Orchestrator {
    /// Deletes container group `name` of `resource_group` and creates it again as `want`, the
    /// way `apply`, `rotate` and `follow_latest` re-create a group whose encryption changes
    /// (it cannot change in place): the group restarts and its IP address may change. The
    /// create waits out the propagation of a principal or grant made just before. Every
    /// request carries the client request id `aci-cmk/{run}/{part}` (`run`: 12 hex digits,
    /// else a new run's).
    ///
    /// `want` is sent as it is: whatever it lacks (a secure value Azure never returns, a
    /// property its model does not carry) the new group lacks.
    pub async fn recreate_container_group(
        &self,
        resource_group: &ResourceGroupName,
        name: &ContainerGroupName,
        existing: &ContainerGroup,
        want: &ContainerGroup,
        run: &str,
        part: &str,
    ) -> Result<RecreatedGroup, Error> {
        let run = RunId::named(run).unwrap_or_else(RunId::new);
        let tracker = Tracker::new(self, &run, StepId::ContainerGroup, part);
        let group = converge_group(
            &tracker,
            resource_group,
            name,
            Some(existing),
            want,
            StepAction::Recreate,
            true,
        )
        .await
        .map_err(|e| match e {
            StepError::Backend(source) => Error::Operation {
                operation: format!("re-create container group {name}"),
                source: Arc::from(source),
            },
            StepError::Blocked(message) => Error::blocked(StepId::ContainerGroup, message),
        })?;
        Ok(RecreatedGroup {
            group,
            client_request_id: tracker.client_request_id(),
            write_ids: tracker.write_ids(),
            propagation_retries: tracker.retries(),
        })
    }
}

/// Brings container group `name` of `resource_group` from `existing` to `want` as `action`
/// says: leave it, create it or put it again, or — when its encryption changes, which it
/// cannot in place — delete it and create it, if `allow_recreate`. The create waits out the
/// propagation of a principal this run may just have created or granted access.
pub(crate) async fn converge_group(
    tracker: &Tracker<'_>,
    resource_group: &ResourceGroupName,
    name: &ContainerGroupName,
    existing: Option<&ContainerGroup>,
    want: &ContainerGroup,
    action: StepAction,
    allow_recreate: bool,
) -> Result<ContainerGroup, StepError> {
    let groups = &tracker.backends().container_groups;
    match (action, existing) {
        (StepAction::InPlace, Some(existing)) => return Ok(existing.clone()),
        (StepAction::Recreate, _) if !allow_recreate => {
            return Err(StepError::Blocked(desired::recreate_refused(name)));
        }
        (StepAction::Recreate, Some(_)) => {
            groups
                .delete(resource_group, name, tracker.options())
                .await?
        }
        _ => {}
    }
    tracker
        .until_propagated(|| async {
            groups
                .create_or_update(resource_group, name, want, tracker.options())
                .await
                .map_err(BackendError::from)
        })
        .await
        .map_err(StepError::from)
}
