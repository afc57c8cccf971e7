//! [`StepError`]: why a remediation step did not do what it planned. A step that refuses (a
//! group it cannot re-create without losing something) is skipped with the reason; one whose
//! call failed has failed. Neither stops the other steps.

/// Why a step was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// A Key Vault, identity or role-assignment call failed.
    #[error("{what} failed")]
    Client {
        /// The call, e.g. `add an access policy to vault kv-1`.
        what: String,
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_core::ClientError>,
    },
    /// A container-group call failed.
    #[error("{what} failed")]
    Groups {
        /// The call.
        what: String,
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_aci::Error>,
    },
    /// The orchestrator could not deploy the target or re-create a group.
    #[error("{what} failed")]
    Orchestrator {
        /// What it was doing.
        what: String,
        /// Why.
        #[source]
        source: Box<aci_cmk_encrypted_deployment::Error>,
    },
    /// A group cannot be re-created from what Azure returns without losing something (its
    /// secure values, or a definition its unusable key keeps sealed): a spec for it is needed.
    #[error("container group {group} needs a spec to be re-created: {why}")]
    NeedsGroupSpec {
        /// The group.
        group: String,
        /// What would be lost.
        why: String,
    },
    /// A group cannot be re-created automatically at all (a system-assigned identity, whose
    /// principal would change; properties this SDK does not model).
    #[error("container group {group} cannot be re-created automatically: {why}")]
    NotRecreatable {
        /// The group.
        group: String,
        /// Why.
        why: String,
    },
    /// The tenant does not let the caller create the ACI first-party service principal.
    #[error(
        "the tenant does not let the caller create the ACI first-party service principal: an administrator must"
    )]
    ServicePrincipalCreationForbidden {
        /// What Graph answered.
        #[source]
        source: Box<aci_cmk_core::ClientError>,
    },
    /// What the step acts on is not as the audit found it.
    #[error("{0}")]
    Changed(String),
    /// No version of the key can be moved onto.
    #[error("key {key} has no usable version to move onto{beyond}")]
    NoUsableVersion {
        /// The key (`vault/name`).
        key: String,
        /// The window the version must outlive, as words (empty: none).
        beyond: String,
    },
}

impl StepError {
    pub(crate) fn client(
        what: impl Into<String>,
    ) -> impl FnOnce(aci_cmk_core::ClientError) -> Self {
        let what = what.into();
        move |source| StepError::Client {
            what,
            source: Box::new(source),
        }
    }

    pub(crate) fn groups(what: impl Into<String>) -> impl FnOnce(aci_cmk_aci::Error) -> Self {
        let what = what.into();
        move |source| StepError::Groups {
            what,
            source: Box::new(source),
        }
    }

    /// Whether the step refused (it is skipped) rather than failed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StepError::NeedsGroupSpec { .. } | StepError::NotRecreatable { .. }
        )
    }

    /// The error and its sources, as one line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}
