//! The step graph, stated once: which steps a flow has and which each waits for. `plan` prints
//! it and `apply` runs from it.

use crate::{progress::StepId, spec::Flow};

/// All steps, in an order where every step comes after the steps it needs.
pub(crate) const ALL_STEPS: [StepId; 9] = [
    StepId::ResourceGroup,
    StepId::ServicePrincipal,
    StepId::Vault,
    StepId::DeployerAccess,
    StepId::Key,
    StepId::Identity,
    StepId::EncryptionAccess,
    StepId::Firewall,
    StepId::ContainerGroup,
];

/// Whether `step` belongs to `flow`.
pub(crate) fn applies(step: StepId, flow: &Flow) -> bool {
    let protected = matches!(flow, Flow::NetworkProtected { .. });
    match step {
        StepId::ServicePrincipal => !protected,
        StepId::Identity | StepId::Firewall => protected,
        _ => true,
    }
}

/// The steps `step` waits for in `flow` (each of them belongs to the flow).
pub(crate) fn needs(step: StepId, flow: &Flow) -> Vec<StepId> {
    use StepId::*;
    let protected = matches!(flow, Flow::NetworkProtected { .. });
    match step {
        ResourceGroup | ServicePrincipal => vec![],
        Vault | Identity => vec![ResourceGroup],
        DeployerAccess => vec![Vault],
        Key => vec![Vault, DeployerAccess],
        EncryptionAccess => vec![
            Vault,
            if protected {
                Identity
            } else {
                ServicePrincipal
            },
        ],
        Firewall => vec![Vault, Key],
        ContainerGroup => {
            let mut n = vec![Key, EncryptionAccess];
            if protected {
                n.extend([Identity, Firewall]);
            }
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_comes_after_what_it_needs_and_needs_only_steps_of_its_flow() {
        let flows = [
            Flow::Standard,
            Flow::NetworkProtected {
                identity_name: "id-1".parse().expect("name"),
            },
        ];
        for flow in &flows {
            for (i, step) in ALL_STEPS.iter().enumerate() {
                for need in needs(*step, flow) {
                    assert!(
                        applies(need, flow),
                        "{step:?} needs {need:?} outside {flow:?}"
                    );
                    let at = ALL_STEPS.iter().position(|s| *s == need).expect("listed");
                    assert!(at < i, "{step:?} is listed before {need:?}");
                }
            }
        }
    }
}
