//! `KeyVaultKeysClient` end to end against the local emulator (the data plane needs TLS and
//! Key Vault's challenge-based authentication, which wiremock cannot stand in for): the vault is
//! created with this crate's own `KeyVaultManagementClient`, with an access policy for the
//! deployer, then keys are created, read, listed, disabled, used to wrap and unwrap, and deleted;
//! and the key lifecycle: rotation policies set and read, rotation (by the client and by the
//! emulator's clock), the lifecycle permissions, and versions past `exp` or before `nbf`; and
//! the subscription's vaults listed by the management client (paging is the wiremock tests').

use aci_cmk_core::{
    CloudEndpoints, Connection, ServiceClientOptions, ServicePipeline, TokenCredential,
    cloud::EmulatorProfile,
    key_id::VaultUrl,
    lro::LroOptions,
    names::{KeyName, PrincipalId, ResourceGroupName, SubscriptionId, TenantId, VaultName},
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use aci_cmk_keyvault::{
    Error, KeyVaultKeys, KeyVaultKeysClient, KeyVaultManagement, KeyVaultManagementClient,
    keys::{
        CreateKeyOptions, KeyOperation, KeySize, KeyType, RsaKeyType, UpdateKeyOptions,
        WrapAlgorithm,
    },
    models::{AccessPolicyEntry, KeyPermission, Sku, VaultCreateParameters, VaultProperties},
    rotation_policy::{Iso8601Duration, KeyRotationPolicy, LifetimeAction},
};
use azure_core::{
    credentials::SecretBytes,
    http::{Context, Method},
};
use serde_json::{Value, json};
use std::sync::Arc;

struct Setup {
    emulator: RunningEmulator,
    cloud: CloudEndpoints,
    credential: Arc<dyn TokenCredential>,
    options: ServiceClientOptions,
    subscription: SubscriptionId,
    tenant: TenantId,
    client_id: String,
}

async fn start() -> Setup {
    let emulator = Emulator::start(EmulatorOptions::default())
        .await
        .expect("emulator starts");
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())
        .expect("ready line parses");
    let mut connection = Connection::emulator(&profile).expect("connects to the emulator");
    connection.options.lro = LroOptions::default()
        .with_default_poll_interval(std::time::Duration::from_millis(20))
        .with_max_wait(std::time::Duration::from_secs(30));
    Setup {
        tenant: profile.tenant_id.parse().expect("tenant"),
        client_id: profile.client_id.clone(),
        emulator,
        cloud: connection.cloud,
        credential: connection.credential,
        options: connection.options,
        subscription: connection.subscription_id,
    }
}

impl Setup {
    fn pipeline(&self, endpoint: url::Url, scope: String) -> ServicePipeline {
        ServicePipeline::new(
            "aci_cmk_keyvault_tests",
            "0.0.0",
            endpoint,
            self.credential.clone(),
            scope,
            self.options.clone(),
        )
    }

    /// The deployer's object id, from Graph.
    async fn deployer_object_id(&self) -> PrincipalId {
        let graph = self.pipeline(
            self.cloud.microsoft_graph.clone(),
            self.cloud.microsoft_graph_scope(),
        );
        let url = graph.url(
            &format!("/v1.0/servicePrincipals(appId='{}')", self.client_id),
            None,
        );
        let sp: Value = graph
            .json::<(), _>(&Context::new(), Method::Get, url, None)
            .await
            .expect("the deployer has a service principal");
        sp["id"].as_str().expect("id").parse().expect("a GUID")
    }

    /// A resource group to put the vault in (no client of this crate creates groups).
    async fn resource_group(&self, name: &str) -> ResourceGroupName {
        let arm = self.pipeline(
            self.cloud.resource_manager.clone(),
            self.cloud.resource_manager_scope(),
        );
        let url = arm.url(
            &format!("/subscriptions/{}/resourcegroups/{name}", self.subscription),
            Some("2021-04-01"),
        );
        arm.send(
            &Context::new(),
            Method::Put,
            url,
            Some(&json!({"location": "westeurope"})),
        )
        .await
        .expect("resource group created");
        name.parse().expect("valid group")
    }

    /// A vault whose access policy lets the deployer manage and use keys.
    async fn vault(&self, name: &str, permissions: Vec<KeyPermission>) -> VaultUrl {
        let me = self.deployer_object_id().await;
        let properties = VaultProperties::new(self.tenant.clone(), Sku::standard())
            .with_soft_delete(7)
            .with_access_policy(AccessPolicyEntry::for_keys(
                self.tenant.clone(),
                me,
                permissions,
            ));
        self.vault_with(name, properties).await
    }

    /// A vault of `properties`.
    async fn vault_with(&self, name: &str, properties: VaultProperties) -> VaultUrl {
        let rg = self.resource_group("rg-keys").await;
        let vaults = KeyVaultManagementClient::new(
            &self.cloud,
            self.credential.clone(),
            self.subscription.clone(),
            Some(self.options.clone()),
        );
        let vault_name: VaultName = name.parse().expect("vault name");
        let vault = vaults
            .create_or_update(
                &rg,
                &vault_name,
                &VaultCreateParameters::new("westeurope".parse().expect("location"), properties),
                None,
            )
            .await
            .expect("vault created");
        let uri = vault.properties.vault_uri.expect("the vault has a URI");
        assert_eq!(uri.vault_name(), &vault_name);
        uri
    }

    fn keys(&self) -> KeyVaultKeysClient {
        KeyVaultKeysClient::new(
            &self.cloud,
            self.credential.clone(),
            Some(self.options.clone()),
        )
    }
}

fn all_key_permissions() -> Vec<KeyPermission> {
    vec![
        KeyPermission::Get,
        KeyPermission::List,
        KeyPermission::Create,
        KeyPermission::Update,
        KeyPermission::Delete,
        KeyPermission::WrapKey,
        KeyPermission::UnwrapKey,
    ]
}

/// [`all_key_permissions`] and the lifecycle ones: rotate, read and set the rotation policy.
fn lifecycle_permissions() -> Vec<KeyPermission> {
    let mut permissions = all_key_permissions();
    permissions.extend([
        KeyPermission::Rotate,
        KeyPermission::GetRotationPolicy,
        KeyPermission::SetRotationPolicy,
    ]);
    permissions
}

/// The `innererror.code` of a service error (`ForbiddenByPolicy`, `KeyExpired`, ...).
fn inner_code(err: &Error) -> Option<&str> {
    err.as_service()?.service_error()?.inner_code.as_deref()
}

#[tokio::test]
async fn keys_lifecycle_against_the_emulator() {
    let setup = start().await;
    let vault = setup.vault("kv-lifecycle", all_key_permissions()).await;
    let keys: Arc<dyn KeyVaultKeys> = Arc::new(setup.keys());
    let name: KeyName = "aci-cmk".parse().expect("key name");

    // Create: the kid is versioned, the public key is returned, the attributes are kept.
    let first = keys
        .create_key(
            &vault,
            &name,
            CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048)
                .with_key_ops([KeyOperation::WrapKey, KeyOperation::UnwrapKey])
                .with_tag("purpose", "aci"),
            None,
        )
        .await
        .expect("key created");
    assert_eq!(first.kid.vault_url(), &vault);
    assert_eq!(first.kid.name(), &name);
    assert_eq!(first.kid.version(), Some(&first.version));
    assert_eq!(first.kty, Some(KeyType::Rsa));
    assert_eq!(
        first.n.as_ref().map(Vec::len),
        Some(256),
        "a 2048-bit modulus"
    );
    assert_eq!(first.e.as_deref(), Some([1u8, 0, 1].as_slice()));
    assert_eq!(
        first.key_ops,
        vec![KeyOperation::WrapKey, KeyOperation::UnwrapKey]
    );
    assert_eq!(first.enabled, Some(true));
    assert_eq!(first.tags.get("purpose").map(String::as_str), Some("aci"));

    // A second version; "latest" is now the second one.
    let second = keys
        .create_key(
            &vault,
            &name,
            CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072),
            None,
        )
        .await
        .expect("second version");
    assert_ne!(second.version, first.version);
    assert_eq!(
        second.n.as_ref().map(Vec::len),
        Some(384),
        "a 3072-bit modulus"
    );
    let latest = keys
        .get_key(&vault, &name, None, None)
        .await
        .expect("latest");
    assert_eq!(latest.version, second.version);
    let pinned = keys
        .get_key(&vault, &name, Some(&first.version), None)
        .await
        .expect("first");
    assert_eq!(pinned.kid, first.kid);

    let mut versions: Vec<_> = keys
        .list_key_versions(&vault, &name, None)
        .await
        .expect("versions")
        .into_iter()
        .map(|k| k.version)
        .collect();
    versions.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected = vec![first.version.clone(), second.version.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(versions, expected);

    // Wrap and unwrap a content-encryption key with both algorithms.
    let cek = SecretBytes::new((0u8..32).collect::<Vec<u8>>());
    for algorithm in [WrapAlgorithm::RsaOaep256, WrapAlgorithm::RsaOaep] {
        let wrapped = keys
            .wrap_key(&vault, &name, Some(&first.version), algorithm, &cek, None)
            .await
            .expect("wrapped");
        assert_eq!(wrapped.kid, first.kid);
        assert_eq!(wrapped.encrypted_key.len(), 256);
        assert_ne!(wrapped.encrypted_key.as_slice(), cek.bytes());
        let unwrapped = keys
            .unwrap_key(
                &vault,
                &name,
                &first.version,
                algorithm,
                &wrapped.encrypted_key,
                None,
            )
            .await
            .expect("unwrapped");
        assert_eq!(unwrapped, cek);
    }
    // Without a version, the latest wraps, and the result says which one.
    let wrapped = keys
        .wrap_key(&vault, &name, None, WrapAlgorithm::RsaOaep256, &cek, None)
        .await
        .expect("wrapped with the latest");
    assert_eq!(wrapped.kid.version(), Some(&second.version));
    // Unwrapping with the wrong version fails.
    let err = keys
        .unwrap_key(
            &vault,
            &name,
            &first.version,
            WrapAlgorithm::RsaOaep256,
            &wrapped.encrypted_key,
            None,
        )
        .await
        .expect_err("wrong version");
    assert!(
        matches!(err, Error::Service(aci_cmk_core::Error::InvalidInput(_))),
        "{err:?}"
    );

    // Disable the first version: wrapping with it is refused; enabling it again works.
    let disabled = keys
        .update_key_attributes(
            &vault,
            &name,
            Some(&first.version),
            UpdateKeyOptions::disable(),
            None,
        )
        .await
        .expect("disabled");
    assert_eq!(disabled.enabled, Some(false));
    let err = keys
        .wrap_key(
            &vault,
            &name,
            Some(&first.version),
            WrapAlgorithm::RsaOaep256,
            &cek,
            None,
        )
        .await
        .expect_err("a disabled key cannot wrap");
    assert!(err.is_forbidden(), "{err:?}");
    assert!(
        matches!(err, Error::Service(aci_cmk_core::Error::Forbidden(_))),
        "{err:?}"
    );
    let enabled = keys
        .update_key_attributes(
            &vault,
            &name,
            Some(&first.version),
            UpdateKeyOptions::enable(),
            None,
        )
        .await
        .expect("enabled");
    assert_eq!(enabled.enabled, Some(true));

    // Delete: the key is gone (soft-deleted) and reads say not found.
    let deleted = keys.delete_key(&vault, &name, None).await.expect("deleted");
    assert_eq!(deleted.properties.kid.name(), &name);
    assert!(deleted.recovery_id.is_some());
    let err = keys
        .get_key(&vault, &name, None, None)
        .await
        .expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some("KeyNotFound"));
}

#[tokio::test]
async fn a_missing_access_policy_permission_is_forbidden_by_policy() {
    let setup = start().await;
    // The deployer may create and read, but not wrap.
    let vault = setup
        .vault(
            "kv-no-wrap",
            vec![KeyPermission::Create, KeyPermission::Get],
        )
        .await;
    let keys = setup.keys();
    let name: KeyName = "cmk".parse().expect("key name");
    let key = keys
        .create_key(&vault, &name, CreateKeyOptions::default(), None)
        .await
        .expect("created");
    let err = keys
        .wrap_key(
            &vault,
            &name,
            Some(&key.version),
            WrapAlgorithm::RsaOaep256,
            &SecretBytes::new(vec![7u8; 32]),
            None,
        )
        .await
        .expect_err("no wrapKey permission");
    assert!(
        matches!(
            err,
            Error::Service(aci_cmk_core::Error::ForbiddenByAccessPolicy(_))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn call_options_go_through_the_official_key_client() {
    let setup = start().await;
    let vault = setup.vault("kv-call-options", all_key_permissions()).await;
    let keys: Arc<dyn KeyVaultKeys> = Arc::new(setup.keys());
    let name: KeyName = "cmk".parse().expect("key name");
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = || {
        Some(
            aci_cmk_core::CallOptions::default()
                .with_client_request_id("aci-cmk/run-1/key")
                .with_recorder(recorder.clone()),
        )
    };
    keys.create_key(&vault, &name, CreateKeyOptions::default(), options())
        .await
        .expect("created");
    keys.list_key_versions(&vault, &name, options())
        .await
        .expect("listed");

    let responses = recorder.responses();
    let create = &responses[0];
    assert_eq!(create.method, "POST");
    assert!(create.url.ends_with("/keys/cmk/create"), "{}", create.url);
    assert!(
        !create.url.contains("api-version"),
        "no query: {}",
        create.url
    );
    assert_eq!(
        create.status, 200,
        "the challenge is answered inside the client"
    );
    assert!(create.request_id.is_some(), "{create:?}");
    assert_eq!(recorder.writes().len(), 1);
    assert_eq!(
        responses.len(),
        2,
        "the create and the one page of versions"
    );
    assert!(
        responses
            .iter()
            .all(|r| r.client_request_id.as_deref() == Some("aci-cmk/run-1/key"))
    );
}

#[tokio::test]
async fn rotation_policies_and_rotation_against_the_emulator() {
    let setup = start().await;
    let vault = setup.vault("kv-rotation", lifecycle_permissions()).await;
    let keys: Arc<dyn KeyVaultKeys> = Arc::new(setup.keys());
    let name: KeyName = "aci-cmk".parse().expect("key name");
    let first = keys
        .create_key(
            &vault,
            &name,
            CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072)
                .with_key_ops([KeyOperation::WrapKey, KeyOperation::UnwrapKey]),
            None,
        )
        .await
        .expect("created");

    // A key without a policy answers Key Vault's default: notify 30 days before expiry.
    let default = keys
        .get_rotation_policy(&vault, &name, None)
        .await
        .expect("the default policy");
    assert_eq!(default.rotation_trigger(), None);
    assert_eq!(
        default.lifetime_actions,
        vec![LifetimeAction::notify_before_expiry(Iso8601Duration::days(
            30
        ))]
    );
    assert_eq!(default.expiry_time, None);
    assert!(
        default
            .id
            .as_deref()
            .is_some_and(|id| id.ends_with("/keys/aci-cmk/rotationpolicy")),
        "{default:?}"
    );

    // Set → get round-trips.
    let policy = KeyRotationPolicy::rotate_after(Iso8601Duration::days(90))
        .with_expiry(Iso8601Duration::years(1))
        .with_notify_before_expiry(Iso8601Duration::days(30));
    let stored = keys
        .set_rotation_policy(&vault, &name, &policy, None)
        .await
        .expect("policy set");
    assert_eq!(stored.lifetime_actions, policy.lifetime_actions);
    assert_eq!(stored.expiry_time, policy.expiry_time);
    assert!(
        stored.created.is_some() && stored.updated.is_some(),
        "{stored:?}"
    );
    let read = keys
        .get_rotation_policy(&vault, &name, None)
        .await
        .expect("policy read");
    assert_eq!(read, stored);
    // Set again from what was read (read-only fields and all): the creation time stays.
    let again = keys
        .set_rotation_policy(&vault, &name, &read, None)
        .await
        .expect("policy set again");
    assert_eq!(again.created, stored.created);

    // Rotate: a new version like the latest, expiring the policy's expiryTime after creation.
    let rotated = keys.rotate_key(&vault, &name, None).await.expect("rotated");
    assert_ne!(rotated.version, first.version);
    assert_eq!(rotated.kid.name(), &name);
    assert_eq!(
        rotated.n.as_ref().map(Vec::len),
        Some(384),
        "3072 bits, as the latest"
    );
    assert_eq!(rotated.key_ops, first.key_ops);
    let created = rotated.created.expect("created");
    let expected = stored
        .new_version_expires(created)
        .expect("the policy has an expiryTime");
    assert_eq!(expected, created + time::Duration::days(365));
    assert_eq!(
        rotated.expires,
        Some(expected),
        "exp is expiryTime (P1Y) after creation {created}"
    );
    let latest = keys
        .get_key(&vault, &name, None, None)
        .await
        .expect("latest");
    assert_eq!(latest.version, rotated.version);

    // The emulator's clock runs the policy: 91 days on, a version dated when it fell due.
    let due = stored
        .next_rotation(created, rotated.expires)
        .expect("the policy rotates");
    assert_eq!(due, created + time::Duration::days(90));
    setup
        .emulator
        .admin()
        .advance(std::time::Duration::from_secs(91 * 86_400))
        .expect("clock moved");
    let versions = keys
        .list_key_versions(&vault, &name, None)
        .await
        .expect("versions");
    assert_eq!(versions.len(), 3, "{versions:?}");
    assert!(
        versions.iter().any(|v| v.created == Some(due)),
        "the policy's rotation happened when next_rotation said: {due} in {versions:?}"
    );

    // A policy without Notify gets Key Vault's default one.
    let stored = keys
        .set_rotation_policy(
            &vault,
            &name,
            &KeyRotationPolicy::rotate_before_expiry(Iso8601Duration::days(30))
                .with_expiry(Iso8601Duration::days(90)),
            None,
        )
        .await
        .expect("policy set");
    assert_eq!(
        stored.lifetime_actions,
        vec![
            LifetimeAction::rotate_before_expiry(Iso8601Duration::days(30)),
            LifetimeAction::notify_before_expiry(Iso8601Duration::days(30)),
        ]
    );
}

#[tokio::test]
async fn the_lifecycle_permissions_are_forbidden_without_them() {
    let setup = start().await;
    let policy = KeyRotationPolicy::rotate_after(Iso8601Duration::days(90));
    let name: KeyName = "cmk".parse().expect("key name");
    let keys = setup.keys();

    // Access policies: create, get, wrap and unwrap, but not rotate nor the policy.
    let vault = setup.vault("kv-no-rotate", all_key_permissions()).await;
    keys.create_key(&vault, &name, CreateKeyOptions::default(), None)
        .await
        .expect("created");
    let rotate = keys
        .rotate_key(&vault, &name, None)
        .await
        .expect_err("no rotate permission");
    let set = keys
        .set_rotation_policy(&vault, &name, &policy, None)
        .await
        .expect_err("no setrotationpolicy permission");
    let get = keys
        .get_rotation_policy(&vault, &name, None)
        .await
        .expect_err("no getrotationpolicy permission");
    for err in [&rotate, &set, &get] {
        assert!(err.is_forbidden(), "{err:?}");
        assert!(
            matches!(
                err,
                Error::Service(aci_cmk_core::Error::ForbiddenByAccessPolicy(_))
            ),
            "{err:?}"
        );
        assert_eq!(inner_code(err), Some("ForbiddenByPolicy"));
    }
    assert!(rotate.to_string().contains("rotate"), "{rotate}");

    // RBAC: without a role (Key Vault Crypto Officer rotates), the same calls are refused.
    let rbac = setup
        .vault_with(
            "kv-rbac-no-rotate",
            VaultProperties::new(setup.tenant.clone(), Sku::standard())
                .with_soft_delete(7)
                .with_rbac_authorization(true),
        )
        .await;
    let rotate = keys
        .rotate_key(&rbac, &name, None)
        .await
        .expect_err("no role");
    let set = keys
        .set_rotation_policy(&rbac, &name, &policy, None)
        .await
        .expect_err("no role");
    for err in [&rotate, &set] {
        assert!(err.is_forbidden(), "{err:?}");
        assert!(
            matches!(err, Error::Service(aci_cmk_core::Error::ForbiddenByRbac(_))),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_or_not_yet_valid_version_refuses_crypto() {
    let setup = start().await;
    let vault = setup.vault("kv-expiry", all_key_permissions()).await;
    let keys = setup.keys();
    let name: KeyName = "cmk".parse().expect("key name");
    let now = setup.emulator.admin().now();
    let cek = SecretBytes::new(vec![9u8; 32]);

    // A version that expires tomorrow: usable today.
    let expiring = keys
        .create_key(
            &vault,
            &name,
            CreateKeyOptions::default().with_expires(now + time::Duration::days(1)),
            None,
        )
        .await
        .expect("created");
    assert_eq!(
        expiring.expires.map(|t| t.unix_timestamp()),
        Some((now + time::Duration::days(1)).unix_timestamp())
    );
    let wrapped = keys
        .wrap_key(
            &vault,
            &name,
            Some(&expiring.version),
            WrapAlgorithm::RsaOaep256,
            &cek,
            None,
        )
        .await
        .expect("wrapped before the expiry");
    keys.unwrap_key(
        &vault,
        &name,
        &expiring.version,
        WrapAlgorithm::RsaOaep256,
        &wrapped.encrypted_key,
        None,
    )
    .await
    .expect("unwrapped before the expiry");

    // A version valid from tomorrow: refused today.
    let later = keys
        .create_key(
            &vault,
            &name,
            CreateKeyOptions::default().with_not_before(now + time::Duration::days(1)),
            None,
        )
        .await
        .expect("created");
    let err = keys
        .wrap_key(
            &vault,
            &name,
            Some(&later.version),
            WrapAlgorithm::RsaOaep256,
            &cek,
            None,
        )
        .await
        .expect_err("not yet valid");
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(inner_code(&err), Some("KeyNotYetValid"));

    // Two days on: the first has expired and refuses to unwrap; the second is valid.
    setup
        .emulator
        .admin()
        .advance(std::time::Duration::from_secs(2 * 86_400))
        .expect("clock moved");
    let err = keys
        .unwrap_key(
            &vault,
            &name,
            &expiring.version,
            WrapAlgorithm::RsaOaep256,
            &wrapped.encrypted_key,
            None,
        )
        .await
        .expect_err("expired");
    assert!(err.is_forbidden(), "{err:?}");
    assert!(
        matches!(err, Error::Service(aci_cmk_core::Error::Forbidden(_))),
        "{err:?}"
    );
    assert_eq!(inner_code(&err), Some("KeyExpired"));
    keys.wrap_key(
        &vault,
        &name,
        Some(&later.version),
        WrapAlgorithm::RsaOaep256,
        &cek,
        None,
    )
    .await
    .expect("valid now");

    // Moving exp forward with update makes the expired version usable again.
    keys.update_key_attributes(
        &vault,
        &name,
        Some(&expiring.version),
        UpdateKeyOptions::default().with_expires(now + time::Duration::days(30)),
        None,
    )
    .await
    .expect("expiry moved");
    keys.unwrap_key(
        &vault,
        &name,
        &expiring.version,
        WrapAlgorithm::RsaOaep256,
        &wrapped.encrypted_key,
        None,
    )
    .await
    .expect("unwrapped after the expiry moved");
}

#[tokio::test]
async fn the_subscriptions_vaults_are_listed() {
    let setup = start().await;
    for name in ["kv-list-a", "kv-list-b", "kv-list-c"] {
        setup.vault(name, vec![KeyPermission::Get]).await;
    }
    let vaults = KeyVaultManagementClient::new(
        &setup.cloud,
        setup.credential.clone(),
        setup.subscription.clone(),
        Some(setup.options.clone()),
    );
    setup.emulator.admin().clear_requests();
    let listed = vaults.list(None).await.expect("listed");
    let mut names: Vec<&str> = listed.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["kv-list-a", "kv-list-b", "kv-list-c"]);
    assert!(listed.iter().all(|v| v.properties.vault_uri.is_some()));
    let lists = setup
        .emulator
        .admin()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/providers/Microsoft.KeyVault/vaults"))
        .count();
    assert_eq!(lists, 1, "one request for the whole list");
}
