//! SARIF 2.1.0 output, for code-scanning tools, built with the `serde-sarif` crate's types
//! (generated from the OASIS schema): one rule per [`FindingKind`] with its help text and Azure
//! Policy id, one result per finding with its level from the severity, the resource id as a
//! logical location and the finding's fingerprint as a partial fingerprint (the same across
//! runs, so the tools de-duplicate); what could not be read goes in as tool notifications.

use crate::{AuditReport, Error, Finding, FindingKind, Result, Severity};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PropertyBag, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel,
    Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;

/// The `$schema` of the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The tool's name in the log.
pub const TOOL_NAME: &str = "aci-cmk-posture";

/// The key of the finding's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "aciCmkFinding/v1";

/// GitHub code scanning's `security-severity` (0–10) for a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium | Severity::Low => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn bag(properties: BTreeMap<String, Value>) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(properties)
        .build()
}

/// The rule of `kind`.
fn rule(kind: FindingKind) -> ReportingDescriptor {
    let policy = kind.policy();
    let mut help = kind.help().to_owned();
    if let Some(p) = &policy {
        help.push_str(&format!(
            " Azure Policy built-in: {} ({}).",
            p.name,
            p.resource_id()
        ));
    }
    let mut properties = BTreeMap::new();
    properties.insert(
        "tags".to_owned(),
        json!([
            "security",
            "azure",
            "container-instances",
            "key-vault",
            "cmk"
        ]),
    );
    properties.insert(
        "security-severity".to_owned(),
        json!(security_severity(kind.default_severity())),
    );
    properties.insert("issueItem".to_owned(), json!(kind.issue_item()));
    if let Some(p) = &policy {
        properties.insert("policyDefinitionId".to_owned(), json!(p.id));
        properties.insert("policyDefinitionName".to_owned(), json!(p.name));
    }
    ReportingDescriptor::builder()
        .id(kind.id().to_owned())
        .name(kind.id().to_owned())
        .short_description(text(kind.title()))
        .full_description(text(kind.help()))
        .help(text(help))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(kind.default_severity().sarif_level()))
                .build(),
        )
        .properties(bag(properties))
        .build()
}

fn result(finding: &Finding) -> Result<SarifResult> {
    let index = FindingKind::ALL
        .iter()
        .position(|k| *k == finding.kind)
        .and_then(|i| i64::try_from(i).ok());
    let mut properties = BTreeMap::new();
    properties.insert("severity".to_owned(), json!(finding.severity));
    properties.insert(
        "security-severity".to_owned(),
        json!(security_severity(finding.severity)),
    );
    properties.insert("fix".to_owned(), json!(finding.fix));
    if let Some(p) = &finding.policy_id {
        properties.insert("policyDefinitionId".to_owned(), json!(p));
    }
    properties.insert(
        "evidence".to_owned(),
        serde_json::to_value(&finding.evidence).map_err(Error::Serialize)?,
    );
    let location = Location::builder()
        .logical_locations(vec![
            LogicalLocation::builder()
                .fully_qualified_name(finding.resource_id.clone())
                .name(
                    finding
                        .resource_id
                        .rsplit('/')
                        .next()
                        .unwrap_or(&finding.resource_id)
                        .to_owned(),
                )
                .kind("resource".to_owned())
                .build(),
        ])
        .build();
    let builder = SarifResult::builder()
        .rule_id(finding.kind.id().to_owned())
        .level(level(finding.severity))
        .message(
            Message::builder()
                .text(format!("{} Fix: {}", finding.message, finding.fix))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_owned(),
            finding.fingerprint.clone(),
        )]))
        .properties(bag(properties));
    Ok(match index {
        Some(i) => builder.rule_index(i).build(),
        None => builder.build(),
    })
}

impl AuditReport {
    /// The report as a SARIF 2.1.0 log: one run, one rule per finding kind (all of them, in
    /// [`FindingKind::ALL`] order, so rule indices are stable), one result per finding, the
    /// gaps as warning notifications of the invocation.
    pub fn to_sarif(&self) -> Result<Sarif> {
        let driver = ToolComponent::builder()
            .name(TOOL_NAME.to_owned())
            .version(env!("CARGO_PKG_VERSION").to_owned())
            .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
            .information_uri(env!("CARGO_PKG_REPOSITORY").to_owned())
            .rules(
                FindingKind::ALL
                    .iter()
                    .copied()
                    .map(rule)
                    .collect::<Vec<_>>(),
            )
            .build();
        let results = self
            .findings
            .iter()
            .map(result)
            .collect::<Result<Vec<_>>>()?;
        let notifications: Vec<Notification> = self
            .gaps
            .iter()
            .map(|g| {
                Notification::builder()
                    .level(json!("warning"))
                    .message(
                        Message::builder()
                            .text(format!(
                                "not read: {} of {}: {}",
                                g.what, g.resource, g.reason
                            ))
                            .build(),
                    )
                    .build()
            })
            .collect();
        let mut invocation_properties = BTreeMap::new();
        invocation_properties.insert("runId".to_owned(), json!(self.run_id));
        invocation_properties.insert(
            "auditedAt".to_owned(),
            serde_json::to_value(self.audited_at).map_err(Error::Serialize)?,
        );
        let invocation = Invocation::builder()
            .execution_successful(true)
            .tool_execution_notifications(notifications)
            .properties(bag(invocation_properties))
            .build();
        let run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(results)
            .invocations(vec![invocation])
            .build();
        Ok(Sarif::builder()
            .schema(SCHEMA_URI.to_owned())
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build())
    }

    /// The report as SARIF 2.1.0 JSON (see [`to_sarif`](Self::to_sarif)).
    pub fn to_sarif_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.to_sarif()?).map_err(Error::Serialize)
    }
}
