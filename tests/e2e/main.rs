//! Both customer-managed-key flows end to end: the SDK's orchestrator and clients against the
//! embedded emulator, over HTTPS, with real tokens and real cryptography.

mod fleet;
mod flows;
mod key_lifecycle;
mod lifecycle;
mod request_ids;
mod timing;

/// A fleet of `specs` that differ only in their container group: the first spec, and the
/// groups of the others.
pub(crate) fn fleet_of(
    specs: &[aci_cmk_encrypted_deployment::spec::DeploymentSpec],
) -> (
    &aci_cmk_encrypted_deployment::spec::DeploymentSpec,
    Vec<aci_cmk_encrypted_deployment::spec::ContainerGroupSpec>,
) {
    let (first, rest) = specs.split_first().expect("at least one spec");
    let groups = rest
        .iter()
        .map(|s| {
            s.workload
                .container_group()
                .cloned()
                .expect("every spec has a container group")
        })
        .collect();
    (first, groups)
}
