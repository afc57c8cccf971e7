//! The plan's decisions over hand-made findings: one step per thing acted on, the fixes it
//! names, what it needs, and the findings left with why — for what the emulator cannot seed
//! (an encryption identity a group does not list) and for how findings combine.

use super::{
    plan::{StepAction, Unfixed},
    remediation_plan,
};
use crate::{
    AuditReport, FindingKind, RemediationOptions,
    findings::{
        Finding,
        evidence::{Evidence, GroupRef, IdentityProblem, KeyRef},
    },
    report::InventorySummary,
};
use aci_cmk_core::resource_id::ResourceId;
use std::collections::BTreeMap;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";

fn rid(path: &str) -> ResourceId {
    format!("{SUB}/providers/{path}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn group(name: &str) -> GroupRef {
    GroupRef::new(rid(&format!(
        "Microsoft.ContainerInstance/containerGroups/{name}"
    )))
    .unwrap_or_else(|| panic!("a group"))
}

fn key(version: &str) -> KeyRef {
    KeyRef::new(
        "https://kv-1.vault.azure.net"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
        Some(rid("Microsoft.KeyVault/vaults/kv-1")),
        "cmk".parse().unwrap_or_else(|e| panic!("{e}")),
        Some(version.parse().unwrap_or_else(|e| panic!("{e}"))),
    )
}

fn identity(name: &str) -> ResourceId {
    rid(&format!(
        "Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    ))
}

fn finding(kind: FindingKind, resource: &str, evidence: Evidence) -> Finding {
    Finding::new(kind, kind.default_severity(), resource, "m", "f", evidence)
}

fn stale(g: &GroupRef) -> Finding {
    finding(
        FindingKind::StaleKeyVersion,
        g.id.as_str(),
        Evidence::StaleKeyVersion {
            group: g.clone(),
            key: key("00000000000000000000000000000001"),
            newest_usable: "00000000000000000000000000000002"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            pinned_by_spec: false,
        },
    )
}

fn broken(g: &GroupRef, problem: IdentityProblem) -> Finding {
    finding(
        FindingKind::EncryptionIdentityBroken,
        g.id.as_str(),
        Evidence::EncryptionIdentityBroken {
            group: g.clone(),
            identity: identity("id-1"),
            problem,
        },
    )
}

fn report(findings: Vec<Finding>) -> AuditReport {
    AuditReport {
        run_id: "r".into(),
        audited_at: time::macros::datetime!(2030-01-01 0:00 UTC),
        resource_groups: Vec::new(),
        findings,
        gaps: Vec::new(),
        inventory: InventorySummary::default(),
        calls: BTreeMap::new(),
    }
}

#[test]
fn an_unlisted_identity_and_a_stale_version_are_one_re_creation() {
    let g = group("g1");
    let findings = vec![stale(&g), broken(&g, IdentityProblem::NotListed)];
    let plan = remediation_plan(&report(findings.clone()), &RemediationOptions::default());
    assert_eq!(plan.steps.len(), 1, "{plan}");
    let step = &plan.steps[0];
    assert_eq!(step.id, "recreate/rg/g1");
    let StepAction::RecreateGroup { changes, .. } = &step.action else {
        panic!("{:?}", step.action)
    };
    assert_eq!(changes.list_identity, Some(identity("id-1")));
    let target = changes
        .key_version
        .as_ref()
        .unwrap_or_else(|| panic!("a move"));
    assert_eq!(
        target.audited_newest.as_ref().map(|v| v.as_str()),
        Some("00000000000000000000000000000002")
    );
    let mut fixed: Vec<&str> = step.fixes.iter().map(|f| f.fingerprint.as_str()).collect();
    fixed.sort_unstable();
    let mut want: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    want.sort_unstable();
    assert_eq!(fixed, want);
    assert!(plan.unplanned.is_empty());
}

#[test]
fn a_deleted_identity_leaves_every_finding_of_its_group() {
    let g = group("g1");
    let plan = remediation_plan(
        &report(vec![stale(&g), broken(&g, IdentityProblem::Deleted)]),
        &RemediationOptions::default(),
    );
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(plan.unplanned.len(), 2);
    assert!(
        plan.unplanned
            .iter()
            .all(|u| matches!(u.why, Unfixed::NoAutomaticFix(_)))
    );
}

#[test]
fn a_tenant_that_forbids_creating_the_aci_principal_has_no_automatic_fix() {
    let missing = finding(
        FindingKind::AciServicePrincipalMissing,
        "/servicePrincipals(appId='6bb8e274-af5d-4df2-98a3-4fd78b4cafd9')",
        Evidence::AciServicePrincipalMissing {
            app_id: "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9".into(),
            groups: vec![group("g1").id],
            keys: vec![key("00000000000000000000000000000001")],
        },
    );
    let allowed = remediation_plan(
        &report(vec![missing.clone()]),
        &RemediationOptions::default(),
    );
    let step = allowed
        .step("aci-service-principal")
        .unwrap_or_else(|| panic!("{allowed}"));
    // The grants name the key without its version.
    assert!(
        matches!(&step.action, StepAction::CreateAciServicePrincipal { keys } if keys[0].version.is_none())
    );
    let forbidden = remediation_plan(
        &report(vec![missing]),
        &RemediationOptions::default().with_aci_service_principal_creation(false),
    );
    assert!(forbidden.is_empty());
    assert!(matches!(
        &forbidden.unplanned[0].why,
        Unfixed::NoAutomaticFix(why) if why.contains("administrator")
    ));
}

#[test]
fn a_group_without_cmk_needs_a_target_and_the_standard_sku() {
    let without = |name: &str, sku: Option<&str>| {
        let g = group(name);
        let id = g.id.to_string();
        finding(
            FindingKind::GroupWithoutCmk,
            &id,
            Evidence::GroupWithoutCmk {
                group: g,
                sku: sku.map(str::to_owned),
            },
        )
    };
    let findings = vec![
        without("g1", Some("Standard")),
        without("g2", Some("Confidential")),
    ];
    let plan = remediation_plan(&report(findings), &RemediationOptions::default());
    let why: Vec<&Unfixed> = plan.unplanned.iter().map(|u| &u.why).collect();
    assert!(
        matches!(
            why[..],
            [Unfixed::NeedsInput(_), Unfixed::NoAutomaticFix(_)]
                | [Unfixed::NoAutomaticFix(_), Unfixed::NeedsInput(_)]
        ),
        "{why:?}"
    );
    assert!(plan.is_empty());
}

#[test]
fn the_plan_serialises_without_the_options_secrets() {
    let g = group("g1");
    let spec = serde_json::from_value(serde_json::json!({
        "name": "g1",
        "containers": [{"name": "app", "image": "nginx", "secure_env": {"DB_PASSWORD": "s3cr3t-value"}}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let options = RemediationOptions::default().with_group_spec(&g.id, spec);
    let plan = remediation_plan(&report(vec![stale(&g)]), &options);
    let json = plan.to_json().unwrap_or_default();
    assert!(json.contains("recreate/rg/g1"));
    assert!(!json.contains("s3cr3t-value"));
    assert!(!format!("{plan:?}{plan}").contains("s3cr3t-value"));
}
