//! The checks over hand-made inventories: each kind present, absent and at its boundary
//! (expiry exactly N days away, `exp` exactly now, `nbf` exactly now, rotation exactly at the
//! maximum, a key exactly the minimum size), the RBAC decision by data actions (wildcards,
//! `notDataActions`, inherited and sibling scopes), and the states the emulator cannot be
//! brought into through the SDK (soft delete off, an identity not listed, a missing ACI
//! principal with groups relying on it).

use super::run;
use crate::{
    AuditOptions, AuditScope, Finding, FindingKind, Severity,
    findings::evidence::{Evidence, FirewallBlock, IdentityProblem, MissingGrant, Unusable},
    inventory::{
        IdentityState, Inventory, KeyState, VaultState,
        groups::{EnvVar, GroupKey, GroupRecord},
    },
};
use aci_cmk_identity::{
    directory::ServicePrincipal,
    managed_identities::UserAssignedIdentity,
    role_assignments::{RoleAssignment, RoleDefinitionId},
    role_definitions::{RoleDefinition, RolePermission},
};
use aci_cmk_keyvault::{
    keys::{KeyOperation, KeyProperties, KeyType},
    models::Vault,
    rotation_policy::{Iso8601Duration, KeyRotationPolicy},
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, macros::datetime};

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const ACI: &str = "00000000-0000-0000-0000-0000000000ac";
const IDENTITY_PRINCIPAL: &str = "00000000-0000-0000-0000-0000000000b1";
const VERSION: &str = "0123456789abcdef0123456789abcdef";
const NEWER: &str = "fedcba9876543210fedcba9876543210";
const NOW: OffsetDateTime = datetime!(2030-06-01 12:00:00 UTC);

fn parse<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn vault_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{name}")
}

fn identity_id() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
    )
}

/// A vault `name` of `properties` (merged over access-policy mode with purge protection, an
/// open firewall and the ACI principal's get + unwrapKey).
fn vault(name: &str, properties: Value) -> Vault {
    let mut body = json!({
        "id": vault_id(name),
        "name": name,
        "location": "westeurope",
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "vaultUri": format!("https://{name}.vault.azure.net/"),
            "enableSoftDelete": true,
            "enablePurgeProtection": true,
            "enableRbacAuthorization": false,
            "accessPolicies": [{"tenantId": TENANT, "objectId": ACI, "permissions": {"keys": ["get", "unwrapKey"]}}],
        }
    });
    if let (Some(base), Some(extra)) = (body["properties"].as_object_mut(), properties.as_object())
    {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(body).unwrap_or_else(|e| panic!("{e}"))
}

/// A key version created at `created`.
fn version(vault: &str, version: &str, created: OffsetDateTime) -> KeyProperties {
    let mut k = KeyProperties::new(parse(&format!(
        "https://{vault}.vault.azure.net/keys/k/{version}"
    )))
    .unwrap_or_else(|| panic!("versioned"));
    k.created = Some(created);
    k.enabled = Some(true);
    k.expires = Some(NOW + Duration::days(365));
    k.kty = Some(KeyType::Rsa);
    k.key_ops = vec![KeyOperation::WrapKey, KeyOperation::UnwrapKey];
    let mut n = vec![0x80u8];
    n.extend(std::iter::repeat_n(0u8, 383));
    k.n = Some(n); // 3072 bits
    k
}

/// A key whose only version is `v`, rotating every 30 days.
fn key(v: KeyProperties) -> KeyState {
    KeyState {
        missing: false,
        latest: Some(v.clone()),
        versions: Some(vec![v]),
        pinned: BTreeMap::new(),
        rotation_policy: Some(KeyRotationPolicy::rotate_after(Iso8601Duration::days(30))),
    }
}

fn group(name: &str, vault: &str, identity: bool) -> GroupRecord {
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/{name}"
    );
    let mut record = GroupRecord {
        group: crate::findings::evidence::GroupRef::new(parse(&id))
            .unwrap_or_else(|| panic!("group")),
        sku: Some("Standard".into()),
        encryption: Some(GroupKey {
            vault_url: parse(&format!("https://{vault}.vault.azure.net")),
            key: parse("k"),
            version: parse(VERSION),
            identity: None,
        }),
        user_assigned: Vec::new(),
        env: Vec::new(),
    };
    if identity {
        if let Some(e) = record.encryption.as_mut() {
            e.identity = Some(parse(&identity_id()));
        }
        record.user_assigned = vec![identity_id().to_ascii_lowercase()];
    }
    record
}

/// One group on vault `v1`, key `k` at [`VERSION`]: everything clean.
fn world() -> Inventory {
    let mut vaults = BTreeMap::new();
    vaults.insert(
        "kv1".to_owned(),
        VaultState::Live {
            vault: Box::new(vault("kv1", json!({}))),
            assignments: None,
        },
    );
    let mut keys = BTreeMap::new();
    keys.insert(
        ("kv1".to_owned(), "k".to_owned()),
        key(version("kv1", VERSION, NOW - Duration::days(10))),
    );
    Inventory {
        now: NOW,
        groups: vec![group("g1", "kv1", false)],
        vaults,
        keys,
        identities: BTreeMap::new(),
        aci_principal: Some(Some(ServicePrincipal {
            id: parse(ACI),
            app_id: parse(aci_cmk_identity::ACI_FIRST_PARTY_APP_ID),
            display_name: Some("Azure Container Instance Service".into()),
        })),
        role_definitions: BTreeMap::new(),
        gaps: Vec::new(),
    }
}

fn audit_with(inventory: &Inventory, options: &AuditOptions) -> Vec<Finding> {
    run(inventory, options, &AuditScope::default())
}

fn audit(inventory: &Inventory) -> Vec<Finding> {
    audit_with(inventory, &AuditOptions::default())
}

/// The findings of `kind`, ignoring the open-firewall and access-policy-mode findings every
/// vault of [`world`] has.
fn of(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

fn pinned_version(inv: &mut Inventory) -> &mut KeyProperties {
    let state = inv
        .keys
        .get_mut(&("kv1".to_owned(), "k".to_owned()))
        .unwrap_or_else(|| panic!("key"));
    let v = state.latest.as_mut().unwrap_or_else(|| panic!("latest"));
    state.versions = None;
    v
}

#[test]
fn the_clean_world_has_only_its_vaults_open_firewall_and_access_policy_mode() {
    let kinds: Vec<FindingKind> = audit(&world()).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FindingKind::VaultOpenToAllNetworks,
            FindingKind::VaultInAccessPolicyMode
        ]
    );
}

#[test]
fn expiry_exactly_n_days_away_is_within_and_a_second_more_is_not() {
    for (expires, want) in [
        (NOW + Duration::days(30), 1),
        (NOW + Duration::days(30) + Duration::seconds(1), 0),
        (NOW + Duration::seconds(1), 1),
    ] {
        let mut inv = world();
        pinned_version(&mut inv).expires = Some(expires);
        let found = audit(&inv);
        assert_eq!(
            of(&found, FindingKind::KeyVersionExpiresSoon).len(),
            want,
            "{expires}"
        );
        assert!(of(&found, FindingKind::KeyVersionUnusable).is_empty());
    }
    let mut inv = world();
    pinned_version(&mut inv).expires = Some(NOW + Duration::days(14));
    let options = AuditOptions::default().with_expiry_warning_days(14);
    let found = audit_with(&inv, &options);
    match &of(&found, FindingKind::KeyVersionExpiresSoon)[0].evidence {
        Evidence::KeyVersionExpiresSoon {
            days_left,
            within_days,
            ..
        } => assert_eq!((*days_left, *within_days), (14, 14)),
        other => panic!("{other:?}"),
    }
    assert!(
        of(
            &audit_with(&inv, &options.with_expiry_warning_days(13)),
            FindingKind::KeyVersionExpiresSoon
        )
        .is_empty()
    );
}

#[test]
fn a_version_is_unusable_from_its_exp_until_its_nbf_while_disabled_or_without_unwrap() {
    type Edit = fn(&mut KeyProperties);
    let cases: [(Edit, Option<&str>); 8] = [
        (|v| v.expires = Some(NOW), Some("expired")),
        (
            |v| v.expires = Some(NOW - Duration::days(1)),
            Some("expired"),
        ),
        (|v| v.not_before = Some(NOW), None),
        (
            |v| v.not_before = Some(NOW + Duration::seconds(1)),
            Some("not_yet_valid"),
        ),
        (|v| v.enabled = Some(false), Some("disabled")),
        (|v| v.enabled = None, None),
        (
            |v| v.key_ops = vec![KeyOperation::WrapKey],
            Some("unwrap_not_permitted"),
        ),
        (|v| v.key_ops = Vec::new(), None),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let mut inv = world();
        edit(pinned_version(&mut inv));
        let found = audit(&inv);
        let unusable = of(&found, FindingKind::KeyVersionUnusable);
        let reasons: Vec<Value> = unusable
            .iter()
            .filter_map(|f| match &f.evidence {
                Evidence::KeyVersionUnusable { reasons, .. } => serde_json::to_value(reasons).ok(),
                _ => None,
            })
            .collect();
        match want {
            None => assert!(unusable.is_empty(), "case {i}: {reasons:?}"),
            Some(reason) => {
                let text = format!("{reasons:?}");
                assert!(text.contains(reason), "case {i}: {text}");
                assert_eq!(unusable[0].severity, Severity::Critical);
            }
        }
    }
}

#[test]
fn a_missing_key_or_version_is_unusable_and_names_the_newest_usable_version() {
    let mut inv = world();
    if let Some(k) = inv.keys.get_mut(&("kv1".into(), "k".into())) {
        *k = KeyState {
            missing: true,
            ..KeyState::default()
        };
    }
    let found = audit(&inv);
    assert!(matches!(
        &of(&found, FindingKind::KeyVersionUnusable)[0].evidence,
        Evidence::KeyVersionUnusable { reasons, .. } if reasons == &[Unusable::KeyMissing]
    ));

    let mut inv = world();
    let other = version("kv1", NEWER, NOW - Duration::days(1));
    inv.keys.insert(("kv1".into(), "k".into()), key(other));
    let found = audit(&inv);
    assert!(matches!(
        &of(&found, FindingKind::KeyVersionUnusable)[0].evidence,
        Evidence::KeyVersionUnusable { reasons, newest_usable: Some(n), .. }
            if reasons == &[Unusable::VersionMissing] && n.as_str() == NEWER
    ));
}

#[test]
fn a_stale_version_needs_a_newer_usable_one() {
    let mut inv = world();
    let pinned = version("kv1", VERSION, NOW - Duration::days(10));
    let mut newer = version("kv1", NEWER, NOW - Duration::days(1));
    let mut state = key(newer.clone());
    state.versions = Some(vec![pinned.clone(), newer.clone()]);
    inv.keys.insert(("kv1".into(), "k".into()), state.clone());
    let found = audit(&inv);
    let stale = of(&found, FindingKind::StaleKeyVersion);
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].severity, Severity::Low);

    // The newer version disabled: not stale.
    newer.enabled = Some(false);
    state.latest = Some(newer.clone());
    state.versions = Some(vec![pinned.clone(), newer]);
    inv.keys.insert(("kv1".into(), "k".into()), state);
    assert!(of(&audit(&inv), FindingKind::StaleKeyVersion).is_empty());
}

#[test]
fn rotation_exactly_at_the_maximum_passes_and_a_day_later_does_not() {
    let policies = [
        (
            KeyRotationPolicy::rotate_after(Iso8601Duration::days(90)),
            false,
        ),
        (
            KeyRotationPolicy::rotate_after(Iso8601Duration::days(91)),
            true,
        ),
        (
            KeyRotationPolicy::rotate_before_expiry(Iso8601Duration::days(275))
                .with_expiry(Iso8601Duration::days(365)),
            false,
        ),
        (
            KeyRotationPolicy::rotate_before_expiry(Iso8601Duration::days(274))
                .with_expiry(Iso8601Duration::days(365)),
            true,
        ),
        // Key Vault's default policy only notifies.
        (
            KeyRotationPolicy::new().with_notify_before_expiry(Iso8601Duration::days(30)),
            true,
        ),
    ];
    for (policy, want) in policies {
        let mut inv = world();
        if let Some(k) = inv.keys.get_mut(&("kv1".into(), "k".into())) {
            k.rotation_policy = Some(policy.clone());
        }
        let found = audit(&inv);
        assert_eq!(
            !of(&found, FindingKind::RotationPolicyMissingOrLate).is_empty(),
            want,
            "{policy:?}"
        );
    }
}

#[test]
fn key_size_and_expiry_of_the_current_version() {
    let inv = world();
    // 3072 bits: at a minimum of 3072 it passes, at 3073 it does not.
    let at = AuditOptions::default().with_min_rsa_key_bits(3072);
    assert!(of(&audit_with(&inv, &at), FindingKind::RsaKeyTooSmall).is_empty());
    let above = AuditOptions::default().with_min_rsa_key_bits(3073);
    let found = audit_with(&inv, &above);
    assert!(matches!(
        &of(&found, FindingKind::RsaKeyTooSmall)[0].evidence,
        Evidence::RsaKeyTooSmall {
            bits: 3072,
            minimum_bits: 3073,
            ..
        }
    ));
    let mut inv = world();
    pinned_version(&mut inv).expires = None;
    let found = audit(&inv);
    assert_eq!(of(&found, FindingKind::KeyWithoutExpiration).len(), 1);
    assert_eq!(
        of(&found, FindingKind::KeyWithoutExpiration)[0].resource_id,
        format!("{}/keys/k", vault_id("kv1"))
    );
}

#[test]
fn access_policies_need_get_and_unwrap_for_the_principal_alone() {
    let cases = [
        (
            json!([{"tenantId": TENANT, "objectId": ACI, "permissions": {"keys": ["all"]}}]),
            None,
        ),
        (
            json!([{"tenantId": TENANT, "objectId": ACI, "permissions": {"keys": ["get"]}}]),
            Some(vec!["unwrapKey"]),
        ),
        (
            json!([
                {"tenantId": TENANT, "objectId": ACI, "permissions": {"keys": ["get"]}},
                {"tenantId": TENANT, "objectId": ACI, "permissions": {"keys": ["unwrapKey"]}}
            ]),
            None,
        ),
        // A compound identity's policy applies to the principal only through the application.
        (
            json!([{"tenantId": TENANT, "objectId": ACI, "applicationId": "00000000-0000-0000-0000-0000000000ff",
                 "permissions": {"keys": ["get", "unwrapKey"]}}]),
            Some(vec!["get", "unwrapKey"]),
        ),
        (json!([]), Some(vec!["get", "unwrapKey"])),
    ];
    for (policies, want) in cases {
        let mut inv = world();
        inv.vaults.insert(
            "kv1".into(),
            VaultState::Live {
                vault: Box::new(vault("kv1", json!({"accessPolicies": policies}))),
                assignments: None,
            },
        );
        let found = audit(&inv);
        let missing: Option<Vec<String>> = of(&found, FindingKind::UnwrapPermissionMissing)
            .first()
            .and_then(|f| match &f.evidence {
                Evidence::UnwrapPermissionMissing {
                    missing: MissingGrant::AccessPolicy { missing, .. },
                    ..
                } => Some(missing.clone()),
                _ => None,
            });
        let want: Option<Vec<String>> = want.map(|w| w.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(missing, want, "{policies}");
    }
}

fn assignment(scope: &str, role: &str, principal: &str) -> RoleAssignment {
    serde_json::from_value(json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", uuid::Uuid::new_v4()),
        "name": uuid::Uuid::new_v4(),
        "properties": {
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": principal,
            "scope": scope,
        }
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// [`world`] on an RBAC vault with `assignments`, and the custom roles `roles`.
fn rbac_world(assignments: Vec<RoleAssignment>, roles: Vec<RoleDefinition>) -> Inventory {
    let mut inv = world();
    inv.vaults.insert(
        "kv1".into(),
        VaultState::Live {
            vault: Box::new(vault(
                "kv1",
                json!({"enableRbacAuthorization": true, "accessPolicies": []}),
            )),
            assignments: Some(assignments),
        },
    );
    for r in roles {
        let guid = r.guid().map(|g| g.to_string()).unwrap_or_default();
        inv.role_definitions.insert(guid, r);
    }
    inv
}

fn custom(guid: &str, blocks: Vec<RolePermission>) -> RoleDefinition {
    RoleDefinition::new(
        RoleDefinitionId::new(parse(guid)),
        "a role named like any other",
        blocks,
    )
}

#[test]
fn on_an_rbac_vault_the_roles_data_actions_decide_not_their_names() {
    const WILD: &str = "11111111-0000-0000-0000-000000000001";
    const CARVED: &str = "11111111-0000-0000-0000-000000000002";
    const READ_ONLY: &str = "11111111-0000-0000-0000-000000000003";
    let roles = vec![
        custom(
            WILD,
            vec![RolePermission::data_actions([
                "Microsoft.KeyVault/vaults/keys/*",
            ])],
        ),
        custom(
            CARVED,
            vec![
                RolePermission::data_actions(["Microsoft.KeyVault/*"])
                    .without_data_actions(["Microsoft.KeyVault/vaults/keys/unwrap/action"]),
            ],
        ),
        custom(
            READ_ONLY,
            vec![RolePermission::data_actions([
                "Microsoft.KeyVault/vaults/*/read",
            ])],
        ),
    ];
    let vault = vault_id("kv1");
    let key = format!("{vault}/keys/k");
    let cases: Vec<(Vec<RoleAssignment>, Option<Vec<&str>>)> = vec![
        (vec![assignment(&vault, WILD, ACI)], None),
        // Inherited from the subscription.
        (
            vec![assignment(&format!("/subscriptions/{SUB}"), WILD, ACI)],
            None,
        ),
        // On the key itself.
        (vec![assignment(&key, WILD, ACI)], None),
        // On another key of the vault: does not apply.
        (
            vec![assignment(&format!("{vault}/keys/k2"), WILD, ACI)],
            Some(vec![
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/unwrap/action",
            ]),
        ),
        // To another principal.
        (
            vec![assignment(&vault, WILD, IDENTITY_PRINCIPAL)],
            Some(vec![
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/unwrap/action",
            ]),
        ),
        (
            vec![assignment(&vault, CARVED, ACI)],
            Some(vec!["Microsoft.KeyVault/vaults/keys/unwrap/action"]),
        ),
        (
            vec![assignment(&vault, READ_ONLY, ACI)],
            Some(vec!["Microsoft.KeyVault/vaults/keys/unwrap/action"]),
        ),
        // Two roles together grant both.
        (
            vec![
                assignment(&vault, READ_ONLY, ACI),
                assignment(&key, CARVED, ACI),
                assignment(&key, WILD, ACI),
            ],
            None,
        ),
    ];
    for (i, (assignments, want)) in cases.into_iter().enumerate() {
        let inv = rbac_world(assignments, roles.clone());
        let found = audit(&inv);
        let missing: Option<Vec<String>> = of(&found, FindingKind::UnwrapPermissionMissing)
            .first()
            .and_then(|f| match &f.evidence {
                Evidence::UnwrapPermissionMissing {
                    missing: MissingGrant::Rbac { missing, .. },
                    ..
                } => Some(missing.clone()),
                _ => None,
            });
        let want: Option<Vec<String>> = want.map(|w| w.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(missing, want, "case {i}");
    }
    // A role whose definition could not be read decides nothing: no finding either way.
    let inv = rbac_world(
        vec![assignment(
            &vault,
            "11111111-0000-0000-0000-0000000000ff",
            ACI,
        )],
        roles,
    );
    assert!(of(&audit(&inv), FindingKind::UnwrapPermissionMissing).is_empty());
}

#[test]
fn extra_unwrap_principals_are_listed_unless_allowed() {
    const WILD: &str = "11111111-0000-0000-0000-000000000001";
    let roles = vec![custom(
        WILD,
        vec![RolePermission::data_actions([
            "Microsoft.KeyVault/vaults/keys/*",
        ])],
    )];
    let vault = vault_id("kv1");
    let extra = "00000000-0000-0000-0000-0000000000e1";
    let inv = rbac_world(
        vec![
            assignment(&vault, WILD, ACI),
            assignment(&format!("{vault}/keys/k9"), WILD, extra),
        ],
        roles.clone(),
    );
    let found = audit(&inv);
    let excess = of(&found, FindingKind::ExcessUnwrapPrincipals);
    assert_eq!(excess.len(), 1);
    assert_eq!(excess[0].severity, Severity::Info);
    assert!(matches!(&excess[0].evidence,
        Evidence::ExcessUnwrapPrincipals { extra: e, .. } if e.len() == 1 && e[0].principal_id.as_str() == extra && e[0].roles.len() == 1));
    let allowed = AuditOptions::default().with_allowed_unwrap_principal(parse(extra));
    assert!(
        of(
            &audit_with(&inv, &allowed),
            FindingKind::ExcessUnwrapPrincipals
        )
        .is_empty()
    );
    // Only the needed principal: nothing.
    let inv = rbac_world(vec![assignment(&vault, WILD, ACI)], roles);
    assert!(of(&audit(&inv), FindingKind::ExcessUnwrapPrincipals).is_empty());
}

fn with_identity(inv: &mut Inventory, listed: bool) {
    inv.groups = vec![group("g1", "kv1", true)];
    if !listed {
        inv.groups[0].user_assigned.clear();
    }
    let identity: UserAssignedIdentity = serde_json::from_value(json!({
        "id": identity_id(), "name": "id1", "location": "westeurope",
        "properties": {"tenantId": TENANT, "principalId": IDENTITY_PRINCIPAL, "clientId": "00000000-0000-0000-0000-0000000000c1"}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    inv.identities.insert(
        identity_id().to_ascii_lowercase(),
        IdentityState::Found(Box::new(identity)),
    );
}

#[test]
fn an_encryption_identity_must_exist_and_be_listed() {
    let mut inv = world();
    with_identity(&mut inv, false);
    let found = audit(&inv);
    assert!(matches!(
        &of(&found, FindingKind::EncryptionIdentityBroken)[0].evidence,
        Evidence::EncryptionIdentityBroken {
            problem: IdentityProblem::NotListed,
            ..
        }
    ));
    let mut inv = world();
    with_identity(&mut inv, true);
    // Listed, spelled in another case.
    inv.groups[0].user_assigned = vec![
        identity_id()
            .replace("resourceGroups", "resourcegroups")
            .to_ascii_lowercase(),
    ];
    assert!(of(&audit(&inv), FindingKind::EncryptionIdentityBroken).is_empty());
    inv.identities
        .insert(identity_id().to_ascii_lowercase(), IdentityState::Deleted);
    let found = audit(&inv);
    assert!(matches!(
        &of(&found, FindingKind::EncryptionIdentityBroken)[0].evidence,
        Evidence::EncryptionIdentityBroken {
            problem: IdentityProblem::Deleted,
            ..
        }
    ));
    // Who unwraps is unknown then: no permission finding on top.
    assert!(of(&found, FindingKind::UnwrapPermissionMissing).is_empty());
}

#[test]
fn firewall_settings_decide_whether_aci_gets_through() {
    let deny = json!({"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [], "virtualNetworkRules": []});
    let deny_none = json!({"defaultAction": "Deny", "bypass": "None", "ipRules": [], "virtualNetworkRules": []});
    let allow_none = json!({"defaultAction": "Allow", "bypass": "None", "ipRules": [], "virtualNetworkRules": []});
    let cases: Vec<(Value, bool, Option<FirewallBlock>, bool, bool)> = vec![
        // (properties, identity flow, block, caveat, open to all networks)
        (json!({"networkAcls": deny}), true, None, true, false),
        (
            json!({"networkAcls": deny_none}),
            true,
            Some(FirewallBlock::DenyWithoutBypass),
            false,
            false,
        ),
        (
            json!({"networkAcls": deny}),
            false,
            Some(FirewallBlock::FirstPartyNotTrusted),
            false,
            false,
        ),
        (
            json!({"publicNetworkAccess": "Disabled", "networkAcls": allow_none}),
            true,
            Some(FirewallBlock::PublicAccessDisabledWithoutBypass),
            false,
            false,
        ),
        (
            json!({"publicNetworkAccess": "Disabled"}),
            true,
            None,
            true,
            false,
        ),
        (
            json!({"publicNetworkAccess": "Disabled"}),
            false,
            Some(FirewallBlock::FirstPartyNotTrusted),
            false,
            false,
        ),
        (json!({}), false, None, false, true),
        (json!({"networkAcls": allow_none}), true, None, false, true),
    ];
    for (i, (properties, identity, block, caveat, open)) in cases.into_iter().enumerate() {
        let mut inv = world();
        if identity {
            with_identity(&mut inv, true);
        }
        let mut v = vault("kv1", properties);
        if identity {
            v.properties.access_policies =
                Some(vec![aci_cmk_keyvault::models::AccessPolicyEntry::for_keys(
                    parse(TENANT),
                    parse(IDENTITY_PRINCIPAL),
                    [
                        aci_cmk_keyvault::models::KeyPermission::Get,
                        aci_cmk_keyvault::models::KeyPermission::UnwrapKey,
                    ],
                )]);
        }
        inv.vaults.insert(
            "kv1".into(),
            VaultState::Live {
                vault: Box::new(v),
                assignments: None,
            },
        );
        let found = audit(&inv);
        let got = of(&found, FindingKind::FirewallBlocksAci)
            .first()
            .and_then(|f| match &f.evidence {
                Evidence::FirewallBlocksAci { reason, .. } => Some(*reason),
                _ => None,
            });
        assert_eq!(got, block, "case {i}");
        assert_eq!(
            !of(&found, FindingKind::TrustedServicesCaveat).is_empty(),
            caveat,
            "case {i}"
        );
        assert_eq!(
            !of(&found, FindingKind::VaultOpenToAllNetworks).is_empty(),
            open,
            "case {i}"
        );
        assert!(
            of(&found, FindingKind::UnwrapPermissionMissing).is_empty(),
            "case {i}"
        );
    }
}

#[test]
fn soft_delete_off_and_purge_protection_off_are_findings() {
    let mut inv = world();
    inv.vaults.insert(
        "kv1".into(),
        VaultState::Live {
            vault: Box::new(vault(
                "kv1",
                json!({"enableSoftDelete": false, "enablePurgeProtection": null}),
            )),
            assignments: None,
        },
    );
    let found = audit(&inv);
    assert_eq!(of(&found, FindingKind::VaultWithoutSoftDelete).len(), 1);
    assert_eq!(
        of(&found, FindingKind::VaultWithoutSoftDelete)[0].severity,
        Severity::High
    );
    assert_eq!(
        of(&found, FindingKind::VaultWithoutPurgeProtection).len(),
        1
    );
    // Soft delete not stated is Azure's default: on.
    let found = audit(&world());
    assert!(of(&found, FindingKind::VaultWithoutSoftDelete).is_empty());
    assert!(of(&found, FindingKind::VaultWithoutPurgeProtection).is_empty());
}

#[test]
fn a_missing_aci_principal_is_critical_once_a_group_relies_on_it() {
    let mut inv = world();
    inv.aci_principal = Some(None);
    let found = audit(&inv);
    let missing = of(&found, FindingKind::AciServicePrincipalMissing);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].severity, Severity::Critical);
    // Not read: no finding (a gap says so).
    inv.aci_principal = None;
    assert!(of(&audit(&inv), FindingKind::AciServicePrincipalMissing).is_empty());
    // Only identity-flow groups: low.
    let mut inv = world();
    with_identity(&mut inv, true);
    inv.aci_principal = Some(None);
    let found = audit(&inv);
    assert_eq!(
        of(&found, FindingKind::AciServicePrincipalMissing)[0].severity,
        Severity::Low
    );
}

#[test]
fn only_plain_values_of_secret_looking_names_are_findings() {
    let mut inv = world();
    inv.groups[0].env = vec![
        EnvVar {
            container: "app".into(),
            name: "DB_PASSWORD".into(),
            plain: Some(true),
        },
        EnvVar {
            container: "app".into(),
            name: "API_KEY".into(),
            plain: Some(false),
        },
        EnvVar {
            container: "app".into(),
            name: "SECRET".into(),
            plain: None,
        },
        EnvVar {
            container: "app".into(),
            name: "LOG_LEVEL".into(),
            plain: Some(true),
        },
    ];
    let found = audit(&inv);
    let plain = of(&found, FindingKind::PlainSecretEnvironmentValue);
    assert_eq!(plain.len(), 1);
    assert!(matches!(&plain[0].evidence,
        Evidence::PlainSecretEnvironmentValue { variable, .. } if variable == "DB_PASSWORD"));
}

#[test]
fn a_group_without_cmk_and_a_soft_deleted_vault() {
    let mut inv = world();
    inv.groups.push(GroupRecord {
        encryption: None,
        ..group("g2", "kv1", false)
    });
    let deleted: aci_cmk_keyvault::models::DeletedVault = serde_json::from_value(json!({
        "name": "kv2", "properties": {"vaultId": vault_id("kv2"), "location": "westeurope", "purgeProtectionEnabled": true}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    inv.vaults
        .insert("kv2".into(), VaultState::SoftDeleted(Box::new(deleted)));
    inv.groups.push(group("g3", "kv2", false));
    let found = audit(&inv);
    assert_eq!(of(&found, FindingKind::GroupWithoutCmk).len(), 1);
    assert!(
        of(&found, FindingKind::GroupWithoutCmk)[0]
            .resource_id
            .ends_with("/g2")
    );
    let missing = of(&found, FindingKind::VaultMissing);
    assert_eq!(missing.len(), 1);
    assert!(missing[0].resource_id.ends_with("/g3"));
    assert!(missing[0].fix.starts_with("recover vault kv2"));
    // Findings come most severe first.
    assert!(found.windows(2).all(|w| w[0].severity >= w[1].severity));
}
