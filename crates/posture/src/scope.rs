//! [`AuditScope`]: which container groups an audit reads — the backends' whole subscription, or
//! some of its resource groups — and the deployment specs that say which groups pin their key
//! version by choice.

use aci_cmk_core::names::{KeyVersion, ResourceGroupName};
use aci_cmk_encrypted_deployment::spec::{DeploymentSpec, KeySpec, Workload};

/// What an audit covers.
///
/// ```
/// use aci_cmk_posture::AuditScope;
///
/// let scope = AuditScope::subscription().with_resource_groups(["rg-prod".parse()?]);
/// assert_eq!(scope.resource_groups.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AuditScope {
    /// Only the container groups of these resource groups (empty: every group of the
    /// subscription). The vaults and keys they name are read wherever they are.
    pub resource_groups: Vec<ResourceGroupName>,
    /// Deployment specs: a group a spec deploys on an existing key at a given version pins
    /// that version by choice, which makes a stale version info, not a warning.
    pub specs: Vec<DeploymentSpec>,
}

impl AuditScope {
    /// Every container group of the backends' subscription.
    pub fn subscription() -> Self {
        Self::default()
    }

    /// Only the groups of `resource_groups`.
    pub fn with_resource_groups(
        mut self,
        resource_groups: impl IntoIterator<Item = ResourceGroupName>,
    ) -> Self {
        self.resource_groups.extend(resource_groups);
        self
    }

    /// Reads which groups pin their version from `specs`.
    pub fn with_specs(mut self, specs: impl IntoIterator<Item = DeploymentSpec>) -> Self {
        self.specs.extend(specs);
        self
    }

    /// Whether a spec pins `version` of key `key` in vault `vault` for the group `group` of
    /// `resource_group`: a spec of that resource group and vault whose key is an existing key
    /// id with that version, deploying that group (or a template, whose groups are not named).
    pub(crate) fn pins(
        &self,
        resource_group: &ResourceGroupName,
        group: &str,
        vault: &str,
        key: &str,
        version: &KeyVersion,
    ) -> bool {
        self.specs.iter().any(|spec| {
            let KeySpec::Existing { id, .. } = &spec.key else {
                return false;
            };
            let names_group = match &spec.workload {
                Workload::ContainerGroup(g) => g.name.as_str().eq_ignore_ascii_case(group),
                _ => true,
            };
            spec.resource_group == *resource_group
                && names_group
                && spec.vault.name.as_str().eq_ignore_ascii_case(vault)
                && id.name().as_str().eq_ignore_ascii_case(key)
                && id.version() == Some(version)
        })
    }
}
