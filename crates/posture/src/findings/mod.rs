//! A [`Finding`]: its kind ([`kind`]), severity, resource, message, one-line fix, the Azure
//! Policy built-in it corresponds to, the typed [`evidence`] of what was read, and a
//! fingerprint stable across runs.

pub mod evidence;
pub mod kind;

use evidence::Evidence;
use kind::{FindingKind, Severity};
use serde::{Deserialize, Serialize};

/// One problem the audit found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// The resource it is about: an ARM resource id (a group, a vault, `{vault}/keys/{key}`),
    /// or for the ACI service principal its Graph path.
    pub resource_id: String,
    /// What was found, in one sentence.
    pub message: String,
    /// How to fix it, in one line.
    pub fix: String,
    /// The Azure Policy built-in definition it corresponds to, where one exists.
    pub policy_id: Option<String>,
    /// What was read, typed.
    pub evidence: Evidence,
    /// Stable across runs for the same problem on the same resource: a SHA-256 of the kind,
    /// the resource id (lowercase) and the evidence's [stable part](Evidence::stable_part),
    /// hex, 32 digits.
    pub fingerprint: String,
}

impl Finding {
    /// A finding of `kind` at `severity` on `resource_id`; the policy id comes from the kind
    /// and the fingerprint from the kind, resource and evidence.
    pub fn new(
        kind: FindingKind,
        severity: Severity,
        resource_id: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
        evidence: Evidence,
    ) -> Self {
        let resource_id = resource_id.into();
        let fingerprint = fingerprint(kind, &resource_id, &evidence.stable_part());
        Self {
            kind,
            severity,
            resource_id,
            message: message.into(),
            fix: fix.into(),
            policy_id: kind.policy().map(|p| p.id.to_owned()),
            evidence,
            fingerprint,
        }
    }
}

/// SHA-256 of `kind|resource|stable`, the resource lowercased (ARM ids compare so), as 32 hex
/// digits.
fn fingerprint(kind: FindingKind, resource_id: &str, stable: &str) -> String {
    let text = format!(
        "{}|{}|{stable}",
        kind.id(),
        resource_id.to_ascii_lowercase()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use evidence::GroupRef;

    fn group(id: &str) -> GroupRef {
        GroupRef::new(id.parse().unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|| panic!("a group id"))
    }

    #[test]
    fn fingerprints_depend_on_kind_resource_and_stable_evidence_only() {
        let id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/g1";
        let env = |variable: &str| Evidence::PlainSecretEnvironmentValue {
            group: group(id),
            container: "app".into(),
            variable: variable.into(),
        };
        let a = Finding::new(
            FindingKind::PlainSecretEnvironmentValue,
            Severity::High,
            id,
            "one wording",
            "one fix",
            env("DB_PASSWORD"),
        );
        let b = Finding::new(
            FindingKind::PlainSecretEnvironmentValue,
            Severity::Critical,
            id.to_uppercase(),
            "another wording",
            "another fix",
            env("DB_PASSWORD"),
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 32);
        let c = Finding::new(
            FindingKind::PlainSecretEnvironmentValue,
            Severity::High,
            id,
            "m",
            "f",
            env("API_TOKEN"),
        );
        assert_ne!(a.fingerprint, c.fingerprint);
        let d = Finding::new(
            FindingKind::GroupWithoutCmk,
            Severity::High,
            id,
            "m",
            "f",
            Evidence::GroupWithoutCmk {
                group: group(id),
                sku: None,
            },
        );
        assert_ne!(a.fingerprint, d.fingerprint);
        assert_eq!(
            d.policy_id.as_deref(),
            Some("0aa61e00-0a01-4a3c-9945-e93cffedf0e6")
        );
        assert_eq!(a.policy_id, None);
    }
}
