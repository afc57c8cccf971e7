//! The steps of a deployment, and the events a run reports about them as it goes, so a CLI can
//! draw progress. Every step also runs inside a `tracing` span named `step`.

use serde::Serialize;
use std::{fmt, sync::Arc, time::Duration};

/// One step of the flows, in the order the seed takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepId {
    /// 1. The resource group.
    ResourceGroup,
    /// 2. The ACI first-party service principal (standard flow).
    ServicePrincipal,
    /// 3. The vault, with soft delete and purge protection.
    Vault,
    /// 4. The deployer's key permissions (create, get).
    DeployerAccess,
    /// 5. The key.
    Key,
    /// 5a. The key's rotation policy and its version's expiry (when the spec's key has a
    /// lifecycle).
    KeyLifecycle,
    /// 6. The user-assigned identity (network-protected flow).
    Identity,
    /// 7. `get` + `unwrapKey` for whoever ACI acts as.
    EncryptionAccess,
    /// 8. The vault firewall (network-protected flow).
    Firewall,
    /// 9. The container group (or the template deployment).
    ContainerGroup,
}

impl StepId {
    /// The step's name as a report's JSON spells it (`resource_group`, `vault`, `key`, …), and
    /// as the step's client request ids end: `aci-cmk/{run}/{name}`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::ResourceGroup => "resource_group",
            StepId::ServicePrincipal => "service_principal",
            StepId::Vault => "vault",
            StepId::DeployerAccess => "deployer_access",
            StepId::Key => "key",
            StepId::KeyLifecycle => "key_lifecycle",
            StepId::Identity => "identity",
            StepId::EncryptionAccess => "encryption_access",
            StepId::Firewall => "firewall",
            StepId::ContainerGroup => "container_group",
        }
    }

    /// A short human name.
    pub fn title(self) -> &'static str {
        match self {
            StepId::ResourceGroup => "resource group",
            StepId::ServicePrincipal => "ACI service principal",
            StepId::Vault => "key vault",
            StepId::DeployerAccess => "deployer key access",
            StepId::Key => "key",
            StepId::KeyLifecycle => "key rotation and expiry",
            StepId::Identity => "managed identity",
            StepId::EncryptionAccess => "get + unwrapKey access",
            StepId::Firewall => "vault firewall",
            StepId::ContainerGroup => "container group",
        }
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// What a step does (or, in a plan, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepAction {
    /// Creates something that does not exist.
    Create,
    /// Changes something that exists.
    Update,
    /// Brings a soft-deleted vault back.
    Recover,
    /// Deletes and re-creates (a container group whose encryption changes).
    Recreate,
    /// Nothing to do: already as wanted.
    InPlace,
}

impl StepAction {
    /// Whether the step writes.
    pub fn writes(self) -> bool {
        self != StepAction::InPlace
    }
}

impl fmt::Display for StepAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepAction::Create => "create",
            StepAction::Update => "update",
            StepAction::Recover => "recover",
            StepAction::Recreate => "recreate",
            StepAction::InPlace => "in place",
        })
    }
}

/// Something that happened to a step.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The step started.
    Started {
        /// Which.
        step: StepId,
    },
    /// The step finished.
    Done {
        /// Which.
        step: StepId,
        /// What it did.
        action: StepAction,
        /// How long it took.
        #[serde(with = "duration_ms")]
        duration: Duration,
    },
    /// The step does not apply to this flow, or its prerequisite failed.
    Skipped {
        /// Which.
        step: StepId,
        /// Why.
        reason: String,
    },
    /// The step waits for a just-created principal or assignment to propagate, and retries.
    Retried {
        /// Which.
        step: StepId,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// What the service said.
        reason: String,
    },
    /// The step failed.
    Failed {
        /// Which.
        step: StepId,
        /// The error.
        error: String,
    },
}

mod duration_ms {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Receives progress events. Any `Fn(&ProgressEvent) + Send + Sync` is one.
pub trait ProgressSink: Send + Sync {
    /// Called for each event, in order for any one step.
    fn event(&self, event: &ProgressEvent);
}

impl<F: Fn(&ProgressEvent) + Send + Sync> ProgressSink for F {
    fn event(&self, event: &ProgressEvent) {
        self(event)
    }
}

/// A sink that drops every event.
pub fn ignore() -> Arc<dyn ProgressSink> {
    Arc::new(|_: &ProgressEvent| {})
}

/// A sink that sends events into a channel, and the stream of them.
pub fn channel() -> (
    Arc<dyn ProgressSink>,
    tokio::sync::mpsc::UnboundedReceiver<ProgressEvent>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = move |event: &ProgressEvent| {
        // A receiver that went away just stops listening.
        let _ = tx.send(event.clone());
    };
    (Arc::new(sink), rx)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_steps_name_is_its_json_name() {
        for step in crate::graph::ALL_STEPS {
            assert_eq!(
                serde_json::to_value(step).ok(),
                Some(serde_json::Value::from(step.as_str()))
            );
        }
    }
}
