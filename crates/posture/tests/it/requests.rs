//! How the audit's requests scale: one read per distinct vault, key, identity and role however
//! many groups name them — 20 groups over 2 vaults and 30 groups over the same 2 vaults cost
//! the same requests, counted both by the report and by the emulator's request log; a group is
//! read on its own only for a secret-looking variable a list shows without a value.

use crate::Env;
use aci_cmk_identity::role_assignments::RoleDefinitionId;
use aci_cmk_keyvault::keys::{CreateKeyOptions, KeySize, RsaKeyType};
use aci_cmk_posture::{
    AuditReport, AuditScope, Auditor,
    seed::{SECURE_CANARY, VaultSetup},
};
use std::collections::BTreeMap;

/// The emulator's requests during `audit`, by service (`arm`, `keyvault`, `graph`, ...) and,
/// for Key Vault, by vault host.
async fn audited(env: &Env, auditor: &Auditor) -> (AuditReport, BTreeMap<String, usize>) {
    let admin = env.emulator.admin();
    admin.clear_requests();
    let report = auditor
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    let mut by = BTreeMap::new();
    for r in admin.requests() {
        let key = if r.service == "keyvault" {
            format!("keyvault {}", r.host)
        } else {
            r.service.clone()
        };
        *by.entry(key).or_default() += 1;
    }
    (report, by)
}

#[tokio::test]
async fn reads_grow_with_distinct_vaults_and_keys_not_with_groups() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-requests").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let open = m
        .vault(&rg, "kv-req-open", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    m.grant(&open, &aci).await.expect("seeded");
    let rbac = m
        .vault(&rg, "kv-req-rbac", VaultSetup::new(true, true, true))
        .await
        .expect("seeded");
    let rsa = || CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048);
    let k_open = m.key(&open, "k", rsa()).await.expect("seeded");
    let k_rbac = m.key(&rbac, "k", rsa()).await.expect("seeded");
    let identity = m.identity(&rg, "id-req").await.expect("seeded");
    m.role(
        &rbac.id,
        RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        &identity.principal_id,
    )
    .await
    .expect("seeded");
    let mut made = 0;
    let mut more = |n: usize| {
        let range = made..made + n;
        made += n;
        range
    };
    for i in more(10) {
        m.group(&rg, &format!("g-open-{i}"), Some(&k_open), None, &[])
            .await
            .expect("seeded");
        m.group(
            &rg,
            &format!("g-rbac-{i}"),
            Some(&k_rbac),
            Some(&identity),
            &[],
        )
        .await
        .expect("seeded");
    }
    let auditor = Auditor::new(env.backends.clone(), env.options());
    let (twenty, twenty_log) = audited(&env, &auditor).await;
    assert_eq!(twenty.inventory.groups, 20);
    assert_eq!((twenty.inventory.vaults, twenty.inventory.keys), (2, 2));
    let expected: BTreeMap<String, u32> = [
        ("container_groups.list", 1),
        ("vaults.list", 1),
        ("directory.get_service_principal_by_app_id", 1),
        // Per distinct key: its current version, its versions, its rotation policy.
        ("keys.get_key", 2),
        ("keys.list_key_versions", 2),
        ("keys.get_rotation_policy", 2),
        ("identities.get", 1),
        // The RBAC vault's assignments, and each distinct role they name (the deployer's
        // Crypto Officer, the identity's Crypto Service Encryption User).
        ("role_assignments.list_at_scope", 1),
        ("role_assignments.get_role_definition", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(twenty.calls, expected);
    assert!(twenty.gaps.is_empty(), "{:?}", twenty.gaps);

    for i in more(5) {
        m.group(&rg, &format!("g-open-{i}"), Some(&k_open), None, &[])
            .await
            .expect("seeded");
        m.group(
            &rg,
            &format!("g-rbac-{i}"),
            Some(&k_rbac),
            Some(&identity),
            &[],
        )
        .await
        .expect("seeded");
    }
    let (thirty, thirty_log) = audited(&env, &auditor).await;
    assert_eq!(thirty.inventory.groups, 30);
    assert_eq!(
        thirty.calls, twenty.calls,
        "the same reads for 30 groups as for 20"
    );
    assert_eq!(thirty_log, twenty_log, "the same requests on the wire");
    let per_vault: Vec<usize> = twenty_log
        .iter()
        .filter(|(k, _)| k.starts_with("keyvault "))
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(per_vault.len(), 2, "{twenty_log:?}");
    println!(
        "requests of an audit: 20 groups {:?} ({} in all), 30 groups {:?}",
        twenty_log,
        twenty_log.values().sum::<usize>(),
        thirty_log
    );

    // A fresh connection's key clients meet each vault's authentication challenge once: the
    // current version is read first, the versions and the rotation policy after it.
    let profile =
        aci_cmk_core::cloud::EmulatorProfile::from_ready_line(&env.emulator.info().to_ready_line())
            .expect("ready line");
    let fresh = aci_cmk_encrypted_deployment::Backends::connect(
        &aci_cmk_encrypted_deployment::Connection::emulator(&profile).expect("connects"),
    )
    .await
    .expect("backends");
    let admin = env.emulator.admin();
    admin.clear_requests();
    Auditor::new(fresh, env.options())
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    let log = admin.requests();
    for vault in ["kv-req-open", "kv-req-rbac"] {
        let statuses: Vec<u16> = log
            .iter()
            .filter(|r| r.service == "keyvault" && r.host.starts_with(vault))
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses.len(), 4, "{vault}: {statuses:?}");
        assert_eq!(
            statuses.iter().filter(|s| **s == 401).count(),
            1,
            "{vault}: {statuses:?}"
        );
    }

    // A secret-looking variable the list shows without a value: that group is read on its
    // own (once), and its secure value is not a finding.
    m.group(
        &rg,
        "g-secure",
        Some(&k_open),
        None,
        &[("DB_PASSWORD", SECURE_CANARY, true)],
    )
    .await
    .expect("seeded");
    let (with_secret, _) = audited(&env, &auditor).await;
    assert_eq!(with_secret.calls.get("container_groups.get"), Some(&1));
    assert_eq!(
        with_secret
            .of_kind(aci_cmk_posture::FindingKind::PlainSecretEnvironmentValue)
            .count(),
        0
    );
}

#[tokio::test]
async fn a_resource_group_scope_lists_only_its_groups() {
    let env = Env::start().await;
    let m = env.builder();
    let a = m.rg("rg-a").await.expect("seeded");
    let b = m.rg("rg-b").await.expect("seeded");
    m.group(&a, "g-a", None, None, &[]).await.expect("seeded");
    m.group(&b, "g-b", None, None, &[]).await.expect("seeded");
    let auditor = Auditor::new(env.backends.clone(), env.options());
    let report = auditor
        .audit(&AuditScope::subscription().with_resource_groups([a]))
        .await
        .expect("audited");
    assert_eq!(report.inventory.groups, 1);
    assert_eq!(
        report.calls.get("container_groups.list_by_resource_group"),
        Some(&1)
    );
    assert_eq!(report.calls.get("container_groups.list"), None);
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.resource_id.contains("rg-b"))
    );
    assert_eq!(report.resource_groups, ["rg-a"]);
}
