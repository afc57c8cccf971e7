//! The step graph, stated once: which steps a spec has and which each waits for. `plan`
//! prints it and `apply` runs from it.

use crate::{
    progress::StepId,
    spec::{DeploymentSpec, Flow},
};

/// All steps, in an order where every step comes after the steps it needs.
pub(crate) const ALL_STEPS: [StepId; 10] = [
    StepId::ResourceGroup,
    StepId::ServicePrincipal,
    StepId::Vault,
    StepId::DeployerAccess,
    StepId::Key,
    StepId::KeyLifecycle,
    StepId::Identity,
    StepId::EncryptionAccess,
    StepId::Firewall,
    StepId::ContainerGroup,
];

/// Whether `step` belongs to `spec`: its flow's steps, and the key-lifecycle step when the
/// spec's key has a rotation policy to keep.
pub(crate) fn applies(step: StepId, spec: &DeploymentSpec) -> bool {
    let protected = matches!(spec.flow, Flow::NetworkProtected { .. });
    match step {
        StepId::ServicePrincipal => !protected,
        StepId::Identity | StepId::Firewall => protected,
        StepId::KeyLifecycle => spec.key.lifecycle().rotation_policy().is_some(),
        _ => true,
    }
}

/// The steps `step` waits for in `spec` (each of them belongs to it).
pub(crate) fn needs(step: StepId, spec: &DeploymentSpec) -> Vec<StepId> {
    use StepId::*;
    let protected = matches!(spec.flow, Flow::NetworkProtected { .. });
    let mut needs = match step {
        ResourceGroup | ServicePrincipal => vec![],
        Vault | Identity => vec![ResourceGroup],
        DeployerAccess => vec![Vault],
        Key => vec![Vault, DeployerAccess],
        KeyLifecycle => vec![Key],
        EncryptionAccess => vec![
            Vault,
            if protected {
                Identity
            } else {
                ServicePrincipal
            },
        ],
        // The deployer manages the key before the firewall closes.
        Firewall => vec![Vault, Key, KeyLifecycle],
        ContainerGroup => {
            let mut n = vec![Key, EncryptionAccess];
            if protected {
                n.extend([Identity, Firewall]);
            }
            n
        }
    };
    needs.retain(|need| applies(*need, spec));
    needs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(flow: &str, lifecycle: &str) -> DeploymentSpec {
        DeploymentSpec::from_json_str(&format!(
            r#"{{"subscription_id":"00000000-0000-0000-0000-000000000001","resource_group":"rg","location":"eastus",
               "vault":{{"name":"kv-1"}},"key":{{"create":{{"name":"k"{lifecycle}}}}},"flow":{flow},
               "container_group":{{"name":"cg","containers":[{{"name":"c","image":"i"}}]}}}}"#
        ))
        .expect("spec")
    }

    #[test]
    fn every_step_comes_after_what_it_needs_and_needs_only_steps_of_its_spec() {
        let lifecycle = r#","lifecycle":{"rotate_after":"P90D","expires_after":"P1Y"}"#;
        let specs = [
            spec(r#""standard""#, ""),
            spec(r#""standard""#, lifecycle),
            spec(r#"{"network_protected":{"identity_name":"id-1"}}"#, ""),
            spec(
                r#"{"network_protected":{"identity_name":"id-1"}}"#,
                lifecycle,
            ),
        ];
        for spec in &specs {
            for (i, step) in ALL_STEPS.iter().enumerate() {
                for need in needs(*step, spec) {
                    assert!(
                        applies(need, spec),
                        "{step:?} needs {need:?}, which is not in the spec"
                    );
                    let at = ALL_STEPS.iter().position(|s| *s == need).expect("listed");
                    assert!(at < i, "{step:?} is listed before {need:?}");
                }
            }
        }
        assert!(!applies(StepId::KeyLifecycle, &specs[0]));
        assert!(applies(StepId::KeyLifecycle, &specs[1]));
    }
}
