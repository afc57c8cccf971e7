//! The messy subscription audited: every finding kind seeded is found on the resource it was
//! seeded on, nothing but what is expected is found on the clean resources, a spec's pin makes
//! a stale version info, the report holds no secret, and a subscription without the ACI
//! first-party service principal gets that finding (critical only once a group relies on it).

use crate::Env;
use aci_cmk_posture::{
    AuditScope, Auditor, Evidence, FindingKind, Severity, evidence,
    seed::{Messy, PLAIN_CANARY, SECURE_CANARY},
};
use std::collections::BTreeSet;

#[tokio::test]
async fn every_seeded_kind_is_found_and_the_clean_resources_have_nothing_else() {
    let env = Env::start().await;
    let messy = Messy::build(&env.backends, env.emulator.admin())
        .await
        .expect("seeded");
    let auditor = Auditor::new(
        env.backends.clone(),
        env.options().with_min_rsa_key_bits(3072),
    );
    let report = auditor
        .audit(&AuditScope::subscription().with_specs(messy.specs.clone()))
        .await
        .expect("audited");
    println!("{report}");
    assert!(report.gaps.is_empty(), "{:#?}", report.gaps);

    let found: BTreeSet<(FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.resource_id.to_ascii_lowercase()))
        .collect();
    for want in &messy.expected {
        assert!(found.contains(want), "missing {want:?}");
    }
    let expected: BTreeSet<&(FindingKind, String)> = messy.expected.iter().collect();
    for f in &report.findings {
        let on_clean = messy
            .clean
            .iter()
            .any(|c| f.resource_id.eq_ignore_ascii_case(c));
        assert!(
            !on_clean || expected.contains(&(f.kind, f.resource_id.to_ascii_lowercase())),
            "unexpected on a clean resource: {f:#?}"
        );
    }
    // Every kind is there but the missing ACI principal, which the seed adds on request.
    let kinds: BTreeSet<FindingKind> = report.findings.iter().map(|f| f.kind).collect();
    for kind in FindingKind::ALL {
        let seeded = *kind != FindingKind::AciServicePrincipalMissing;
        assert_eq!(kinds.contains(kind), seeded, "{kind:?}");
    }

    // The pinned group's stale version is info, the other one's low.
    let stale: Vec<(&str, Severity, bool)> = report
        .of_kind(FindingKind::StaleKeyVersion)
        .filter_map(|f| match &f.evidence {
            Evidence::StaleKeyVersion {
                group,
                pinned_by_spec,
                ..
            } => Some((group.name.as_str(), f.severity, *pinned_by_spec)),
            _ => None,
        })
        .collect();
    assert!(
        stale.contains(&("g-pinned", Severity::Info, true)),
        "{stale:?}"
    );
    assert!(
        stale.contains(&("g-stale", Severity::Low, false)),
        "{stale:?}"
    );

    // Evidence names what a remediation needs.
    let revoked: Vec<_> = report
        .of_kind(FindingKind::UnwrapPermissionMissing)
        .filter_map(|f| match &f.evidence {
            Evidence::UnwrapPermissionMissing {
                group,
                missing,
                principal,
                ..
            } => Some((group.name.clone(), missing.clone(), principal.clone())),
            _ => None,
        })
        .collect();
    assert!(revoked.iter().any(|(g, m, p)| g == "g-revoked"
        && matches!(m, evidence::MissingGrant::AccessPolicy { missing, .. } if missing == &["get", "unwrapKey"])
        && matches!(p, evidence::UnwrapPrincipal::AciFirstParty { .. })));
    // Key Vault Reader is a Key Vault role, yet its data actions do not unwrap.
    assert!(revoked.iter().any(|(g, m, _)| g == "g-reader"
        && matches!(m, evidence::MissingGrant::Rbac { missing, roles }
            if missing == &["Microsoft.KeyVault/vaults/keys/unwrap/action"]
                && roles.iter().any(|r| r.role_name.as_deref() == Some("Key Vault Reader")))));
    let excess = report
        .of_kind(FindingKind::ExcessUnwrapPrincipals)
        .find(|f| f.resource_id.to_ascii_lowercase().ends_with("/kv-legacy"))
        .expect("excess on kv-legacy");
    match &excess.evidence {
        Evidence::ExcessUnwrapPrincipals { extra, .. } => {
            assert_eq!(extra.len(), 1, "{extra:?}");
            assert_eq!(extra[0].principal_id, messy.extra_principal);
            assert!(extra[0].access_policy);
        }
        other => panic!("{other:?}"),
    }
    let reasons: Vec<_> = report
        .of_kind(FindingKind::FirewallBlocksAci)
        .filter_map(|f| match &f.evidence {
            Evidence::FirewallBlocksAci { group, reason, .. } => {
                Some((group.name.clone(), *reason))
            }
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&("g-fw".into(), evidence::FirewallBlock::DenyWithoutBypass)));
    assert!(reasons.contains(&(
        "g-fw-std".into(),
        evidence::FirewallBlock::FirstPartyNotTrusted
    )));
    let absences: Vec<_> = report
        .of_kind(FindingKind::VaultMissing)
        .filter_map(|f| match &f.evidence {
            Evidence::VaultMissing { group, absence, .. } => {
                Some((group.name.clone(), absence.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(absences.iter().any(|(g, a)| g == "g-vault-deleted"
        && matches!(
            a,
            evidence::VaultAbsence::SoftDeleted {
                purge_protection: Some(true),
                ..
            }
        )));
    assert!(
        absences
            .iter()
            .any(|(g, a)| g == "g-vault-purged" && *a == evidence::VaultAbsence::Gone)
    );

    assert!(!report.passes(Severity::High));
    assert!(report.failing(Severity::Critical).count() >= 8);

    // No secret anywhere: not the secure value, not the plain one (the variable is named).
    let outputs = [
        report.to_string(),
        report.to_json().expect("json"),
        report.to_sarif_json().expect("sarif"),
        format!("{report:?}"),
    ];
    for out in &outputs {
        assert!(!out.contains(PLAIN_CANARY), "the plain value leaked");
        assert!(!out.contains(SECURE_CANARY), "the secure value leaked");
        assert!(out.contains("API_TOKEN"));
    }
}

#[tokio::test]
async fn a_tenant_without_the_aci_principal_has_that_finding() {
    let env = Env::start().await;
    let auditor = Auditor::new(env.backends.clone(), env.options());
    let report = auditor
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    let found: Vec<_> = report
        .of_kind(FindingKind::AciServicePrincipalMissing)
        .collect();
    assert_eq!(found.len(), 1, "{report}");
    // No group relies on it: low.
    assert_eq!(found[0].severity, Severity::Low);

    // Once it exists, the finding is gone.
    env.builder().aci_principal().await.expect("seeded");
    let report = auditor
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    assert_eq!(
        report
            .of_kind(FindingKind::AciServicePrincipalMissing)
            .count(),
        0
    );
    assert!(report.passes(Severity::Info), "{report}");
}

#[tokio::test]
async fn with_the_aci_principal_removed_every_kind_is_found() {
    let env = Env::start().await;
    let mut messy = Messy::build(&env.backends, env.emulator.admin())
        .await
        .expect("seeded");
    messy
        .remove_aci_principal(env.emulator.admin())
        .expect("removed");
    let report = Auditor::new(
        env.backends.clone(),
        env.options().with_min_rsa_key_bits(3072),
    )
    .audit(&AuditScope::subscription().with_specs(messy.specs.clone()))
    .await
    .expect("audited");
    let found: BTreeSet<(FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.resource_id.to_ascii_lowercase()))
        .collect();
    for want in &messy.expected {
        assert!(found.contains(want), "missing {want:?}\n{report}");
    }
    let kinds: BTreeSet<FindingKind> = report.findings.iter().map(|f| f.kind).collect();
    for kind in FindingKind::ALL {
        assert!(kinds.contains(kind), "{kind:?}");
    }
    let missing = report
        .of_kind(FindingKind::AciServicePrincipalMissing)
        .next()
        .expect("the principal is missing");
    // Standard-flow groups rely on it, and the evidence names the keys they use.
    assert_eq!(missing.severity, Severity::Critical);
    match &missing.evidence {
        Evidence::AciServicePrincipalMissing { groups, keys, .. } => {
            assert!(groups.iter().any(|g| g.name() == "g-revoked"), "{groups:?}");
            assert!(
                keys.iter()
                    .any(|k| k.vault_name().as_str() == "kv-legacy" && k.version.is_none()),
                "{keys:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
