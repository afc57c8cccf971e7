//! Deploying one container group: the one function `apply`, the fleet and `rotate` call to
//! bring a group from what exists to what the spec wants, as the group's decision
//! ([`decide_group`](crate::decisions::decide_group)) says.

use crate::{
    desired,
    error::{BackendError, StepError},
    progress::StepAction,
    tracker::Tracker,
};
use aci_cmk_aci::models::ContainerGroup;
use aci_cmk_core::names::{ContainerGroupName, ResourceGroupName};

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
