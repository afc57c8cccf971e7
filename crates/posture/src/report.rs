//! The [`AuditReport`]: the findings (most severe first), the gaps (what could not be read),
//! what was read and how many calls it took; pass or fail against a threshold; a human table
//! (`Display`) and JSON. SARIF is in [`sarif`](crate::sarif).

use crate::{Error, FindingKind, Result, Severity, findings::Finding};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt};
use time::OffsetDateTime;

/// Something the audit could not read, and why: no finding about it is not a clean bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Gap {
    /// The resource (an ARM id, a key URL, a role GUID).
    pub resource: String,
    /// What of it could not be read.
    pub what: String,
    /// Why: the error, as the client reported it.
    pub reason: String,
}

impl Gap {
    /// `what` of `resource` could not be read, because of `reason`.
    pub fn new(resource: impl Into<String>, what: &str, reason: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            what: what.to_owned(),
            reason: reason.into(),
        }
    }
}

/// How much the audit read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InventorySummary {
    /// Container groups in scope.
    pub groups: usize,
    /// Of which with a customer-managed key.
    pub cmk_groups: usize,
    /// Distinct vaults they name.
    pub vaults: usize,
    /// Distinct keys they name.
    pub keys: usize,
    /// Distinct encryption identities they name.
    pub identities: usize,
}

/// What an audit found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// The run's id: every request of the audit carries the client request id
    /// `aci-cmk/{run_id}/audit/{what}`.
    pub run_id: String,
    /// The time the checks judged by (the options' clock, read once).
    #[serde(with = "time::serde::rfc3339")]
    pub audited_at: OffsetDateTime,
    /// The resource groups audited (empty: the whole subscription).
    pub resource_groups: Vec<String>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be read.
    pub gaps: Vec<Gap>,
    /// What was read.
    pub inventory: InventorySummary,
    /// The client calls made, by trait method (each list counts once, whatever its pages).
    pub calls: BTreeMap<String, u32>,
}

impl AuditReport {
    /// Whether the audit passes at `fail_on`: no finding of that severity or above, and no
    /// gap (what could not be read may hide such a finding).
    ///
    /// ```
    /// use aci_cmk_posture::{AuditReport, Severity};
    ///
    /// let report: AuditReport = serde_json::from_value(serde_json::json!({
    ///     "run_id": "r", "audited_at": "2030-01-01T00:00:00Z", "resource_groups": [],
    ///     "findings": [], "gaps": [], "inventory": {"groups": 0, "cmk_groups": 0, "vaults": 0, "keys": 0, "identities": 0},
    ///     "calls": {}
    /// }))?;
    /// assert!(report.passes(Severity::Info));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn passes(&self, fail_on: Severity) -> bool {
        self.failing(fail_on).next().is_none() && self.gaps.is_empty()
    }

    /// The findings at `fail_on` or above.
    pub fn failing(&self, fail_on: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity >= fail_on)
    }

    /// The findings of `kind`.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// How many findings of each kind (kinds without one are absent).
    pub fn count_by_kind(&self) -> BTreeMap<FindingKind, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.kind).or_default() += 1;
        }
        counts
    }

    /// All the client calls the audit made.
    pub fn total_calls(&self) -> u32 {
        self.calls.values().sum()
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(Error::Serialize)
    }
}

/// The last segments of a resource id, `type/name`, for the table.
fn short(resource: &str) -> String {
    let parts: Vec<&str> = resource.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [.., "vaults", vault, "keys", key] => format!("vaults/{vault}/keys/{key}"),
        [.., kind, name] => format!("{kind}/{name}"),
        _ => resource.to_owned(),
    }
}

/// The table: one row per finding (severity, kind, resource, what) and its fix below it, then
/// the gaps and a summary.
impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = if self.resource_groups.is_empty() {
            "the subscription".to_owned()
        } else {
            format!("resource groups {}", self.resource_groups.join(", "))
        };
        let i = &self.inventory;
        writeln!(
            f,
            "CMK posture of {scope} at {} (run {}): {} groups ({} with a customer-managed key), {} vaults, {} keys, {} identities, {} calls",
            self.audited_at,
            self.run_id,
            i.groups,
            i.cmk_groups,
            i.vaults,
            i.keys,
            i.identities,
            self.total_calls()
        )?;
        let rows: Vec<(String, String, String)> = self
            .findings
            .iter()
            .map(|x| {
                (
                    x.severity.to_string(),
                    x.kind.id().to_owned(),
                    short(&x.resource_id),
                )
            })
            .collect();
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(8);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
        let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(8);
        if !rows.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "{:w0$}  {:w1$}  {:w2$}  FINDING",
                "SEVERITY", "KIND", "RESOURCE"
            )?;
        }
        for (row, finding) in rows.iter().zip(&self.findings) {
            writeln!(
                f,
                "{:w0$}  {:w1$}  {:w2$}  {}",
                row.0, row.1, row.2, finding.message
            )?;
            let policy = finding
                .policy_id
                .as_deref()
                .map(|p| format!(" [policy {p}]"))
                .unwrap_or_default();
            writeln!(
                f,
                "{:w$}  fix: {}{policy}",
                "",
                finding.fix,
                w = w0 + w1 + w2 + 4
            )?;
        }
        if !self.gaps.is_empty() {
            writeln!(f)?;
            writeln!(f, "Not read ({}):", self.gaps.len())?;
            for g in &self.gaps {
                writeln!(f, "  {} — {}: {}", g.resource, g.what, g.reason)?;
            }
        }
        writeln!(f)?;
        let by_severity: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .map(|s| (s, self.findings.iter().filter(|x| x.severity == *s).count()))
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        if by_severity.is_empty() {
            write!(f, "No findings")?;
        } else {
            write!(
                f,
                "{} findings: {}",
                self.findings.len(),
                by_severity.join(", ")
            )?;
        }
        writeln!(f, "; {} gaps.", self.gaps.len())
    }
}
