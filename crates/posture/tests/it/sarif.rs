//! The SARIF log's shape: `$schema`, version 2.1.0, one rule per finding kind with help text
//! and its Azure Policy id, result levels from severities, the resource as a logical location,
//! and fingerprints identical across two runs.

use crate::Env;
use aci_cmk_posture::seed::Messy;
use aci_cmk_posture::{AuditScope, Auditor, FindingKind, Severity, sarif};
use serde_json::Value;
use std::collections::BTreeSet;

#[tokio::test]
async fn the_sarif_log_has_rules_levels_locations_and_stable_fingerprints() {
    let env = Env::start().await;
    let messy = Messy::build(&env.backends, env.emulator.admin())
        .await
        .expect("seeded");
    let auditor = Auditor::new(env.backends.clone(), env.options());
    let scope = AuditScope::subscription().with_specs(messy.specs);
    let first = auditor.audit(&scope).await.expect("audited");
    let second = auditor.audit(&scope).await.expect("audited again");
    assert_ne!(first.run_id, second.run_id);

    let log: Value = serde_json::from_str(&first.to_sarif_json().expect("sarif")).expect("json");
    assert_eq!(log["$schema"], sarif::SCHEMA_URI);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], sarif::TOOL_NAME);
    assert!(driver["version"].as_str().is_some_and(|v| !v.is_empty()));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), FindingKind::ALL.len());
    for (rule, kind) in rules.iter().zip(FindingKind::ALL) {
        assert_eq!(rule["id"], kind.id());
        assert!(
            rule["help"]["text"].as_str().is_some_and(|t| t.len() > 40),
            "{rule}"
        );
        assert!(rule["shortDescription"]["text"].is_string());
        match kind.policy() {
            Some(p) => {
                assert_eq!(rule["properties"]["policyDefinitionId"], p.id);
                assert!(
                    rule["help"]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(p.id)
                );
            }
            None => assert!(rule["properties"].get("policyDefinitionId").is_none()),
        }
    }

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), first.findings.len());
    for (result, finding) in results.iter().zip(&first.findings) {
        assert_eq!(result["ruleId"], finding.kind.id());
        let index = result["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[index]["id"], finding.kind.id());
        assert_eq!(result["level"], finding.severity.sarif_level());
        let location = &result["locations"][0]["logicalLocations"][0];
        assert_eq!(location["fullyQualifiedName"], finding.resource_id.as_str());
        assert_eq!(location["kind"], "resource");
        assert_eq!(
            result["partialFingerprints"][sarif::FINGERPRINT_KEY],
            finding.fingerprint.as_str()
        );
    }
    let levels: BTreeSet<&str> = results.iter().filter_map(|r| r["level"].as_str()).collect();
    assert_eq!(levels, BTreeSet::from(["error", "warning", "note"]));
    assert!(first.findings.iter().any(|f| f.severity == Severity::Info));

    let fingerprints = |report: &aci_cmk_posture::AuditReport| -> Vec<String> {
        let log: Value =
            serde_json::from_str(&report.to_sarif_json().expect("sarif")).expect("json");
        log["runs"][0]["results"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|x| x["partialFingerprints"][sarif::FINGERPRINT_KEY].to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let a = fingerprints(&first);
    assert_eq!(
        a,
        fingerprints(&second),
        "the same findings, the same fingerprints, the same order"
    );
    let distinct: BTreeSet<&String> = a.iter().collect();
    assert_eq!(distinct.len(), a.len(), "one fingerprint per finding");
}
