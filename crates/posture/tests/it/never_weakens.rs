//! What a remediation never does: a firewall it lets trusted services through keeps its deny
//! and every rule; a grant is `get` and `unwrapKey` (or Key Vault Crypto Service Encryption
//! User on the key) to the principal that unwraps, and nothing else changes hands; no vault
//! is deleted or purged and no access is taken away.

use crate::{Env, remediation::audit};
use aci_cmk_identity::role_assignments::RoleDefinitionId;
use aci_cmk_keyvault::models::{
    IpRule, KeyPermission, NetworkRuleAction, NetworkRuleBypass, NetworkRuleSet,
};
use aci_cmk_posture::{
    FindingKind, RemediateOptions, RemediationOptions, Remediator, remediation_plan,
    seed::VaultSetup,
};

#[tokio::test]
async fn a_firewall_let_through_keeps_its_deny_and_every_rule() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-fw").await.expect("seeded");
    let vault = m
        .vault(&rg, "kv-fw", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    let identity = m.identity(&rg, "id-fw").await.expect("seeded");
    m.grant(&vault, &identity.principal_id)
        .await
        .expect("seeded");
    let key = m.clean_key(&vault, "cmk").await.expect("seeded");
    m.group(&rg, "g-fw", Some(&key), Some(&identity), &[])
        .await
        .expect("seeded");
    let closed = NetworkRuleSet {
        bypass: Some(NetworkRuleBypass::None),
        default_action: Some(NetworkRuleAction::Deny),
        ip_rules: vec![IpRule::new("127.0.0.1"), IpRule::new("203.0.113.0/24")],
        virtual_network_rules: Vec::new(),
    };
    env.backends
        .vaults
        .update_network_rules(&rg, &vault.name, &closed, None)
        .await
        .expect("closed");
    let before = audit(&env, None).await;
    assert_eq!(before.of_kind(FindingKind::FirewallBlocksAci).count(), 1);

    let plan = remediation_plan(&before, &RemediationOptions::default());
    let report = Remediator::new(env.backends.clone())
        .remediate(&plan, RemediateOptions::default().applying())
        .await;
    assert_eq!(report.failed().count(), 0, "{report}");
    let after = env
        .backends
        .vaults
        .get(&rg, &vault.name, None)
        .await
        .expect("read");
    let acls = after.properties.network_acls.expect("a firewall");
    assert_eq!(acls.default_action, Some(NetworkRuleAction::Deny));
    assert_eq!(acls.bypass, Some(NetworkRuleBypass::AzureServices));
    let mut rules: Vec<&str> = acls.ip_rules.iter().map(|r| r.value.as_str()).collect();
    rules.sort_unstable();
    assert_eq!(rules, ["127.0.0.1/32", "203.0.113.0/24"]);
    let after = audit(&env, None).await;
    assert_eq!(after.of_kind(FindingKind::FirewallBlocksAci).count(), 0);
    // Opening a vault is never automatic.
    assert_eq!(
        after.of_kind(FindingKind::VaultOpenToAllNetworks).count(),
        0
    );
}

#[tokio::test]
async fn grants_are_get_and_unwrap_key_to_the_principal_that_unwraps_and_nothing_else() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-grants").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");

    // An access-policy vault whose ACI policy was removed; another principal keeps its own.
    let policies = m
        .vault(&rg, "kv-policies", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    m.grant(&policies, &aci).await.expect("seeded");
    let key = m.clean_key(&policies, "cmk").await.expect("seeded");
    m.group(&rg, "g-policies", Some(&key), None, &[])
        .await
        .expect("seeded");
    m.revoke(&policies, &aci).await.expect("seeded");

    // An RBAC vault whose identity's role became Key Vault Reader.
    let rbac = m
        .vault(&rg, "kv-roles", VaultSetup::new(true, true, true))
        .await
        .expect("seeded");
    let rbac_key = m.clean_key(&rbac, "cmk").await.expect("seeded");
    let reader = m.identity(&rg, "id-reader").await.expect("seeded");
    m.role(
        &rbac.id,
        RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        &reader.principal_id,
    )
    .await
    .expect("seeded");
    m.group(&rg, "g-roles", Some(&rbac_key), Some(&reader), &[])
        .await
        .expect("seeded");
    m.unassign(&rbac.id, &reader.principal_id)
        .await
        .expect("seeded");
    m.role(
        &rbac.id,
        RoleDefinitionId::KEY_VAULT_READER,
        &reader.principal_id,
    )
    .await
    .expect("seeded");
    let roles_before = env
        .backends
        .role_assignments
        .list_at_scope(&rbac.id, None)
        .await
        .expect("listed");

    let before = audit(&env, None).await;
    assert_eq!(
        before.of_kind(FindingKind::UnwrapPermissionMissing).count(),
        2,
        "{before}"
    );
    let plan = remediation_plan(&before, &RemediationOptions::default());
    let report = Remediator::new(env.backends.clone())
        .remediate(&plan, RemediateOptions::default().applying())
        .await;
    assert_eq!(report.failed().count(), 0, "{report}");

    // The access policies: the ACI principal's is get + unwrapKey exactly; the deployer's is
    // as it was; no one else has one.
    let after = env
        .backends
        .vaults
        .get(&rg, &policies.name, None)
        .await
        .expect("read");
    let before_policies = policies
        .properties
        .access_policies
        .clone()
        .unwrap_or_default();
    for p in after.properties.access_policies.iter().flatten() {
        if p.object_id == aci {
            let mut keys = p.permissions.keys.clone();
            keys.sort_by_key(|k| k.as_str().to_owned());
            assert_eq!(keys, [KeyPermission::Get, KeyPermission::UnwrapKey]);
            assert!(p.permissions.secrets.is_empty() && p.permissions.certificates.is_empty());
        } else {
            assert!(
                before_policies.contains(p),
                "a policy appeared or changed: {p:?}"
            );
        }
    }
    // The roles: one more, Key Vault Crypto Service Encryption User on the key, for the
    // identity; the Reader role it held is still there (nothing is taken away).
    let roles_after = env
        .backends
        .role_assignments
        .list_at_scope(&rbac.id, None)
        .await
        .expect("listed");
    let new: Vec<_> = roles_after
        .iter()
        .filter(|a| !roles_before.iter().any(|b| b.id == a.id))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].properties.principal_id, reader.principal_id);
    assert_eq!(
        new[0].role(),
        Some(RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER)
    );
    assert!(
        new[0]
            .properties
            .scope
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().ends_with("/kv-roles/keys/cmk")),
        "{:?}",
        new[0].properties.scope
    );
    assert_eq!(roles_after.len(), roles_before.len() + 1);
    let after = audit(&env, None).await;
    assert_eq!(
        after.of_kind(FindingKind::UnwrapPermissionMissing).count(),
        0,
        "{after}"
    );
}
