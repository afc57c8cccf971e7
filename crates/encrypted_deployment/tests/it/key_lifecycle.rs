//! The in-memory Azure's key lifecycle, which orchestrator tests build on: rotation makes a
//! version expiring per the policy, policies are validated and stored, the permissions are
//! Key Vault's, and an expired or not yet valid version refuses to unwrap.

use crate::{KEY, Shape, azure, grant_deployer, memory::MemoryAzure, orchestrator, spec};
use aci_cmk_core::{key_id::VaultUrl, names::KeyName};
use aci_cmk_keyvault::{
    KeyVaultKeys,
    keys::{CreateKeyOptions, UpdateKeyOptions, WrapAlgorithm},
    models::KeyPermission,
    rotation_policy::{Iso8601Duration, KeyRotationPolicy, LifetimeAction},
};
use azure_core::{credentials::SecretBytes, time::OffsetDateTime};

/// An applied standard flow whose deployer is also granted `permissions`; its vault and key
/// name.
async fn applied(permissions: &[KeyPermission]) -> (MemoryAzure, VaultUrl, KeyName) {
    let azure = azure();
    let report = orchestrator(&azure)
        .apply(&spec(Shape::Standard, false))
        .await
        .expect("applied");
    grant_deployer(&azure, permissions).await;
    let url = report.vault_uri.clone().expect("uri");
    (azure, url, KEY.parse().expect("name"))
}

fn lifecycle_permissions() -> Vec<KeyPermission> {
    vec![
        KeyPermission::Rotate,
        KeyPermission::GetRotationPolicy,
        KeyPermission::SetRotationPolicy,
        KeyPermission::Update,
        KeyPermission::List,
        KeyPermission::WrapKey,
        KeyPermission::UnwrapKey,
    ]
}

/// Whether `err` is Key Vault's 403 with inner code `code`.
fn refused_with(err: &aci_cmk_keyvault::Error, code: &str) -> bool {
    err.is_forbidden()
        && err
            .as_service()
            .and_then(aci_cmk_core::Error::service_error)
            .is_some_and(|s| s.codes().any(|c| c == code))
}

#[tokio::test]
async fn rotation_follows_the_policy_in_memory() {
    let (azure, url, name) = applied(&lifecycle_permissions()).await;
    let default = KeyVaultKeys::get_rotation_policy(&azure, &url, &name, None)
        .await
        .expect("default policy");
    assert_eq!(default.rotation_trigger(), None);
    assert_eq!(
        default.lifetime_actions,
        vec![LifetimeAction::notify_before_expiry(Iso8601Duration::days(
            30
        ))]
    );

    let policy = KeyRotationPolicy::rotate_after(Iso8601Duration::days(90))
        .with_expiry(Iso8601Duration::years(1));
    let stored = KeyVaultKeys::set_rotation_policy(&azure, &url, &name, &policy, None)
        .await
        .expect("set");
    assert_eq!(
        stored.lifetime_actions,
        vec![
            LifetimeAction::rotate_after(Iso8601Duration::days(90)),
            LifetimeAction::notify_before_expiry(Iso8601Duration::days(30)),
        ],
        "the default Notify is added"
    );
    assert!(stored.created.is_some() && stored.id.is_some());
    let read = KeyVaultKeys::get_rotation_policy(&azure, &url, &name, None)
        .await
        .expect("get");
    assert_eq!(read, stored);

    let before = KeyVaultKeys::get_key(&azure, &url, &name, None, None)
        .await
        .expect("latest");
    let rotated = KeyVaultKeys::rotate_key(&azure, &url, &name, None)
        .await
        .expect("rotated");
    assert_ne!(rotated.version, before.version);
    let created = rotated.created.expect("created");
    assert_eq!(rotated.expires, stored.new_version_expires(created));
    assert_eq!(rotated.key_ops, before.key_ops);
    let versions = KeyVaultKeys::list_key_versions(&azure, &url, &name, None)
        .await
        .expect("versions");
    assert_eq!(versions.len(), 2);
    assert!(azure.writes().contains(&"keys.rotate_key".to_owned()));

    // What Key Vault refuses, the memory refuses too.
    let err = KeyVaultKeys::set_rotation_policy(
        &azure,
        &url,
        &name,
        &KeyRotationPolicy::new().with_expiry(Iso8601Duration::days(7)),
        None,
    )
    .await
    .expect_err("too short");
    assert_eq!(err.code(), Some("BadParameter"));
}

#[tokio::test]
async fn lifecycle_permissions_are_key_vaults() {
    // A spec without a lifecycle gives the deployer the reads (get, list, getrotationpolicy)
    // and create, none of the lifecycle's writes.
    let (azure, url, name) = applied(&[]).await;
    KeyVaultKeys::get_rotation_policy(&azure, &url, &name, None)
        .await
        .expect("getrotationpolicy is a read the deployer has");
    let rotate = KeyVaultKeys::rotate_key(&azure, &url, &name, None)
        .await
        .expect_err("no rotate");
    let set =
        KeyVaultKeys::set_rotation_policy(&azure, &url, &name, &KeyRotationPolicy::new(), None)
            .await
            .expect_err("no setrotationpolicy");
    for err in [rotate, set] {
        assert!(err.is_forbidden(), "{err:?}");
        assert!(
            matches!(
                err,
                aci_cmk_keyvault::Error::Service(aci_cmk_core::Error::ForbiddenByAccessPolicy(_))
            ),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_or_not_yet_valid_version_refuses_to_unwrap() {
    let (azure, url, name) = applied(&lifecycle_permissions()).await;
    let now = OffsetDateTime::now_utc();
    let key = KeyVaultKeys::create_key(
        &azure,
        &url,
        &name,
        CreateKeyOptions::default().with_not_before(now + time_days(1)),
        None,
    )
    .await
    .expect("created");
    assert_eq!(key.not_before, Some(now + time_days(1)));
    let cek = SecretBytes::new(vec![7; 32]);
    let err = KeyVaultKeys::wrap_key(
        &azure,
        &url,
        &name,
        Some(&key.version),
        WrapAlgorithm::RsaOaep256,
        &cek,
        None,
    )
    .await
    .expect_err("not yet valid");
    assert!(refused_with(&err, "KeyNotYetValid"), "{err:?}");

    // Valid now; wrap, then let it expire: unwrap is refused.
    KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &name,
        Some(&key.version),
        UpdateKeyOptions::default().with_not_before(now - time_days(1)),
        None,
    )
    .await
    .expect("valid from yesterday");
    let wrapped = KeyVaultKeys::wrap_key(
        &azure,
        &url,
        &name,
        Some(&key.version),
        WrapAlgorithm::RsaOaep256,
        &cek,
        None,
    )
    .await
    .expect("wrapped");
    let expired = KeyVaultKeys::update_key_attributes(
        &azure,
        &url,
        &name,
        Some(&key.version),
        UpdateKeyOptions::default().with_expires(now - time_days(1) / 2),
        None,
    )
    .await
    .expect("expired");
    assert!(expired.expires.is_some());
    let err = KeyVaultKeys::unwrap_key(
        &azure,
        &url,
        &name,
        &key.version,
        WrapAlgorithm::RsaOaep256,
        &wrapped.encrypted_key,
        None,
    )
    .await
    .expect_err("expired");
    assert!(refused_with(&err, "KeyExpired"), "{err:?}");
}

fn time_days(n: i64) -> azure_core::time::Duration {
    azure_core::time::Duration::days(n)
}
