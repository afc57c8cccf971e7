//! A messy subscription, built with the SDK's own clients (never the emulator's internals): the
//! [`Builder`]'s steps create vaults, keys, identities, grants and container groups as their
//! flows want them, then break them as many hands would (a disabled or expired version, a
//! removed access policy, a swapped role, a deleted identity, a closed firewall, a deleted or
//! purged vault, a plain secret); [`Messy::build`] makes the whole subscription and says what
//! the audit must find on it.

use crate::Env;
use aci_cmk_aci::models::{
    Container, ContainerGroup, ContainerGroupIdentity, EncryptionProperties,
};
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyName, KeyVersion, Location, PrincipalId, ResourceGroupName, VaultName},
    resource_id::ResourceId,
    secret::SecretString,
};
use aci_cmk_encrypted_deployment::{Backends, spec::DeploymentSpec};
use aci_cmk_identity::{
    ACI_FIRST_PARTY_APP_ID,
    managed_identities::UserAssignedIdentity,
    role_assignments::{PrincipalType, RoleDefinitionId},
};
use aci_cmk_keyvault::{
    keys::{CreateKeyOptions, KeyProperties, KeySize, RsaKeyType, UpdateKeyOptions},
    models::{
        AccessPolicyEntry, AccessPolicyUpdateKind, IpRule, KeyPermission, NetworkRuleAction,
        NetworkRuleBypass, NetworkRuleSet, Sku, Vault, VaultCreateParameters, VaultProperties,
    },
    rotation_policy::{Iso8601Duration, KeyRotationPolicy},
};
use aci_cmk_posture::FindingKind;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// The value of the plain secret-looking variable: it must never appear in any output.
pub const PLAIN_CANARY: &str = "plain-canary-0f3c9d";
/// The value of a secure variable: it must never appear either.
pub const SECURE_CANARY: &str = "secure-canary-7a1e42";

/// The address the emulator sees the SDK call from.
const LOOPBACK: &str = "127.0.0.1";

/// How a vault is made.
#[derive(Clone, Debug)]
pub struct VaultSetup {
    /// Azure RBAC instead of access policies.
    pub rbac: bool,
    /// Purge protection.
    pub purge_protection: bool,
    /// Deny by default (with the loopback address let through, so the SDK can manage keys),
    /// letting trusted services through.
    pub firewall: bool,
}

/// The steps of building a subscription, over the SDK's clients.
pub struct Builder<'a> {
    /// The clients.
    pub b: &'a Backends,
    /// The tenant.
    pub tenant: aci_cmk_core::names::TenantId,
    /// The deployer.
    pub deployer: PrincipalId,
    /// The emulator's time when the build started.
    pub now: OffsetDateTime,
    /// The region.
    pub location: Location,
}

impl<'a> Builder<'a> {
    /// A builder over `env`'s clients.
    pub fn new(env: &'a Env) -> Self {
        Self {
            b: &env.backends,
            tenant: env.tenant.clone(),
            deployer: env.deployer.clone(),
            now: env.emulator.admin().now(),
            location: "westeurope".parse().expect("location"),
        }
    }

    /// A resource group.
    pub async fn rg(&self, name: &str) -> ResourceGroupName {
        let rg: ResourceGroupName = name.parse().expect("rg name");
        self.b
            .resource_groups
            .create_or_update(&rg, &self.location, &BTreeMap::new(), None)
            .await
            .expect("resource group");
        rg
    }

    /// The ACI first-party service principal's object id (created if missing).
    pub async fn aci_principal(&self) -> PrincipalId {
        self.b
            .directory
            .ensure_service_principal(&ACI_FIRST_PARTY_APP_ID.parse().expect("app id"), None)
            .await
            .expect("ACI service principal")
            .service_principal
            .id
    }

    /// A vault the deployer can manage keys in (an access policy, or Key Vault Crypto Officer
    /// on an RBAC vault).
    pub async fn vault(&self, rg: &ResourceGroupName, name: &str, setup: VaultSetup) -> Vault {
        let name: VaultName = name.parse().expect("vault name");
        let mut properties = VaultProperties::new(self.tenant.clone(), Sku::standard())
            .with_soft_delete(7)
            .with_rbac_authorization(setup.rbac);
        if setup.purge_protection {
            properties = properties.with_purge_protection();
        }
        if !setup.rbac {
            properties = properties.with_access_policy(AccessPolicyEntry::for_keys(
                self.tenant.clone(),
                self.deployer.clone(),
                [
                    KeyPermission::Get,
                    KeyPermission::List,
                    KeyPermission::Create,
                    KeyPermission::Update,
                    KeyPermission::GetRotationPolicy,
                    KeyPermission::SetRotationPolicy,
                ],
            ));
        }
        if setup.firewall {
            properties =
                properties.with_network_acls(NetworkRuleSet::deny_except_azure_services([
                    IpRule::new(LOOPBACK),
                ]));
        }
        let vault = self
            .b
            .vaults
            .create_or_update(
                rg,
                &name,
                &VaultCreateParameters::new(self.location.clone(), properties),
                None,
            )
            .await
            .expect("vault");
        if setup.rbac {
            self.role(
                &vault.id,
                RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                &self.deployer,
            )
            .await;
        }
        vault
    }

    /// Assigns `role` to `principal` at `scope`.
    pub async fn role(&self, scope: &ResourceId, role: RoleDefinitionId, principal: &PrincipalId) {
        self.b
            .role_assignments
            .create(
                scope,
                role,
                principal,
                PrincipalType::ServicePrincipal,
                None,
            )
            .await
            .expect("role assigned");
    }

    /// Removes every assignment of `principal` at exactly `scope`.
    pub async fn unassign(&self, scope: &ResourceId, principal: &PrincipalId) {
        let assignments = self
            .b
            .role_assignments
            .list_for_principal(scope, principal, None)
            .await
            .expect("listed");
        for a in assignments.iter().filter(|a| a.is_at_scope(scope)) {
            self.b
                .role_assignments
                .delete(scope, &a.name, None)
                .await
                .expect("unassigned");
        }
    }

    /// Grants `principal` keys `get` + `unwrapKey` by access policy.
    pub async fn grant(&self, vault: &Vault, principal: &PrincipalId) {
        self.policy(vault, principal, AccessPolicyUpdateKind::Add)
            .await;
    }

    /// Takes `get` + `unwrapKey` from `principal`.
    pub async fn revoke(&self, vault: &Vault, principal: &PrincipalId) {
        self.policy(vault, principal, AccessPolicyUpdateKind::Remove)
            .await;
    }

    async fn policy(&self, vault: &Vault, principal: &PrincipalId, kind: AccessPolicyUpdateKind) {
        self.b
            .vaults
            .update_access_policy(
                vault.id.resource_group_name().expect("rg"),
                &vault.name,
                kind,
                &[AccessPolicyEntry::for_keys(
                    self.tenant.clone(),
                    principal.clone(),
                    [KeyPermission::Get, KeyPermission::UnwrapKey],
                )],
                None,
            )
            .await
            .expect("access policy updated");
    }

    /// A key (or a new version of it).
    pub async fn key(&self, vault: &Vault, name: &str, options: CreateKeyOptions) -> KeyProperties {
        self.b
            .keys
            .create_key(&url(vault), &name.parse().expect("key name"), options, None)
            .await
            .expect("key created")
    }

    /// A user-assigned identity.
    pub async fn identity(&self, rg: &ResourceGroupName, name: &str) -> UserAssignedIdentity {
        self.b
            .identities
            .create_or_update(
                rg,
                &name.parse().expect("identity name"),
                &self.location,
                &BTreeMap::new(),
                None,
            )
            .await
            .expect("identity")
    }

    /// A container group on `key` (or without a customer-managed key), reaching it as
    /// `identity` (or the ACI first-party principal), with `env`: (name, value, secure).
    pub async fn group(
        &self,
        rg: &ResourceGroupName,
        name: &str,
        key: Option<&KeyProperties>,
        identity: Option<&UserAssignedIdentity>,
        env: &[(&str, &str, bool)],
    ) -> ResourceId {
        let mut container = Container::new(
            "app",
            "mcr.microsoft.com/azuredocs/aci-helloworld",
            1.0,
            1.5,
        );
        for (n, v, secure) in env {
            container = if *secure {
                container.with_secure_env(*n, SecretString::new(*v))
            } else {
                container.with_env(*n, *v)
            };
        }
        let mut group = ContainerGroup::new(self.location.to_string(), vec![container]);
        if let Some(key) = key {
            let mut encryption =
                EncryptionProperties::new(key.kid.vault_url(), key.kid.name(), &key.version);
            if let Some(identity) = identity {
                encryption = encryption.with_identity(&identity.id);
                group.identity = Some(ContainerGroupIdentity::user_assigned([&identity.id]));
            }
            group.properties.encryption_properties = Some(encryption);
        }
        let created = self
            .b
            .container_groups
            .create_or_update(rg, &name.parse().expect("group name"), &group, None)
            .await
            .unwrap_or_else(|e| panic!("group {name}: {e}"));
        created
            .id
            .expect("the group has an id")
            .parse()
            .expect("a resource id")
    }

    /// Changes a key version's attributes.
    pub async fn update(&self, key: &KeyProperties, update: UpdateKeyOptions) {
        self.b
            .keys
            .update_key_attributes(
                key.kid.vault_url(),
                key.kid.name(),
                Some(&key.version),
                update,
                None,
            )
            .await
            .expect("key updated");
    }

    /// A clean network-protected setup in `rg`: an RBAC vault with purge protection and a
    /// firewall letting trusted services through, a 3072-bit key that expires in a year and
    /// rotates every 60 days, an identity holding Key Vault Crypto Service Encryption User, and
    /// a group using them with secure secrets. Answers (vault, key, group).
    pub async fn clean(
        &self,
        rg: &ResourceGroupName,
        vault: &str,
        group: &str,
    ) -> (Vault, KeyProperties, ResourceId) {
        let v = self
            .vault(
                rg,
                vault,
                VaultSetup {
                    rbac: true,
                    purge_protection: true,
                    firewall: true,
                },
            )
            .await;
        let key = self
            .key(
                &v,
                "cmk",
                CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072)
                    .with_expires(self.now + Duration::days(365)),
            )
            .await;
        self.b
            .keys
            .set_rotation_policy(
                &url(&v),
                &"cmk".parse().expect("key"),
                &KeyRotationPolicy::rotate_after(Iso8601Duration::days(60))
                    .with_expiry(Iso8601Duration::years(1)),
                None,
            )
            .await
            .expect("rotation policy");
        let identity = self.identity(rg, &format!("{group}-id")).await;
        self.role(
            &v.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &identity.principal_id,
        )
        .await;
        let id = self
            .group(
                rg,
                group,
                Some(&key),
                Some(&identity),
                &[
                    ("DB_PASSWORD", SECURE_CANARY, true),
                    ("LOG_LEVEL", "info", false),
                ],
            )
            .await;
        (v, key, id)
    }
}

/// A vault's data-plane URL.
pub fn url(vault: &Vault) -> VaultUrl {
    vault.properties.vault_uri.clone().expect("vault uri")
}

/// What the audit must find on a messy subscription: (kind, resource id) pairs, and the
/// resources on which it must find nothing but what is listed.
pub struct Messy {
    /// The findings the audit must report (kind, resource id, lowercase).
    pub expected: Vec<(FindingKind, String)>,
    /// Resources that are clean (nothing but the expected findings on them).
    pub clean: Vec<String>,
    /// Specs pinning a version by choice.
    pub specs: Vec<DeploymentSpec>,
    /// The principal that holds unwrapKey without needing it.
    pub extra_principal: PrincipalId,
}

fn id(r: &ResourceId) -> String {
    r.as_str().to_ascii_lowercase()
}

fn key_resource(v: &Vault, key: &str) -> String {
    format!("{}/keys/{key}", v.id).to_ascii_lowercase()
}

impl Messy {
    /// Builds the messy subscription (every finding kind the emulator lets the SDK create:
    /// all but a missing ACI service principal — the emulator cannot delete one — and soft
    /// delete off — no vault can be created so) beside a clean setup.
    pub async fn build(env: &Env) -> Messy {
        let m = Builder::new(env);
        let rg = m.rg("rg-messy").await;
        let aci = m.aci_principal().await;
        let mut expected = Vec::new();
        let open = VaultSetup {
            rbac: false,
            purge_protection: true,
            firewall: false,
        };

        // Clean: only the trusted-services caveat, on its vault.
        let (clean_vault, _, clean_group) = m.clean(&rg, "kv-clean", "g-clean").await;
        expected.push((FindingKind::TrustedServicesCaveat, id(&clean_vault.id)));

        // A legacy vault: access policies, no purge protection, open to all networks; a
        // 2048-bit key without expiry or rotation; stale, pinned and plain-secret groups.
        let legacy = m
            .vault(
                &rg,
                "kv-legacy",
                VaultSetup {
                    purge_protection: false,
                    ..open.clone()
                },
            )
            .await;
        m.grant(&legacy, &aci).await;
        for kind in [
            FindingKind::VaultOpenToAllNetworks,
            FindingKind::VaultWithoutPurgeProtection,
            FindingKind::VaultInAccessPolicyMode,
            FindingKind::ExcessUnwrapPrincipals,
        ] {
            expected.push((kind, id(&legacy.id)));
        }
        let rsa = || CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048);
        let v1 = m.key(&legacy, "k-old", rsa()).await;
        let stale = m.group(&rg, "g-stale", Some(&v1), None, &[]).await;
        let pinned = m.group(&rg, "g-pinned", Some(&v1), None, &[]).await;
        let v2 = m.key(&legacy, "k-old", rsa()).await;
        let plain = m
            .group(
                &rg,
                "g-plain-secret",
                Some(&v2),
                None,
                &[
                    ("API_TOKEN", PLAIN_CANARY, false),
                    ("DB_PASSWORD", SECURE_CANARY, true),
                ],
            )
            .await;
        expected.push((FindingKind::StaleKeyVersion, id(&stale)));
        expected.push((FindingKind::StaleKeyVersion, id(&pinned)));
        expected.push((FindingKind::PlainSecretEnvironmentValue, id(&plain)));
        for kind in [
            FindingKind::KeyWithoutExpiration,
            FindingKind::RsaKeyTooSmall,
            FindingKind::RotationPolicyMissingOrLate,
        ] {
            expected.push((kind, key_resource(&legacy, "k-old")));
        }
        // A principal that can unwrap and is none of the groups'.
        let extra = m.identity(&rg, "id-extra").await;
        m.grant(&legacy, &extra.principal_id).await;

        // Versions gone bad after their groups were made: disabled, expired, expiring.
        let disabled = m.key(&legacy, "k-disabled", rsa()).await;
        let g_disabled = m.group(&rg, "g-disabled", Some(&disabled), None, &[]).await;
        m.update(&disabled, UpdateKeyOptions::disable()).await;
        expected.push((FindingKind::KeyVersionUnusable, id(&g_disabled)));
        let expired = m
            .key(
                &legacy,
                "k-expired",
                rsa().with_expires(m.now + Duration::days(20)),
            )
            .await;
        let g_expired = m.group(&rg, "g-expired", Some(&expired), None, &[]).await;
        m.update(
            &expired,
            UpdateKeyOptions::default().with_expires(m.now - Duration::hours(1)),
        )
        .await;
        expected.push((FindingKind::KeyVersionUnusable, id(&g_expired)));
        let expiring = m
            .key(
                &legacy,
                "k-expiring",
                rsa().with_expires(m.now + Duration::days(10)),
            )
            .await;
        let g_expiring = m.group(&rg, "g-expiring", Some(&expiring), None, &[]).await;
        expected.push((FindingKind::KeyVersionExpiresSoon, id(&g_expiring)));

        // The ACI principal's access policy removed after its group was made.
        let revoked = m.vault(&rg, "kv-revoked", open.clone()).await;
        m.grant(&revoked, &aci).await;
        let k = m.key(&revoked, "k", rsa()).await;
        let g_revoked = m.group(&rg, "g-revoked", Some(&k), None, &[]).await;
        m.revoke(&revoked, &aci).await;
        expected.push((FindingKind::UnwrapPermissionMissing, id(&g_revoked)));

        // An RBAC vault: an identity whose role became Key Vault Reader (a Key Vault role that
        // cannot unwrap), and an identity deleted after its group was made.
        let rbac = m
            .vault(
                &rg,
                "kv-rbac",
                VaultSetup {
                    rbac: true,
                    purge_protection: true,
                    firewall: true,
                },
            )
            .await;
        let k = m.key(&rbac, "k", rsa()).await;
        let reader = m.identity(&rg, "id-reader").await;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &reader.principal_id,
        )
        .await;
        let g_reader = m.group(&rg, "g-reader", Some(&k), Some(&reader), &[]).await;
        m.unassign(&rbac.id, &reader.principal_id).await;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_READER,
            &reader.principal_id,
        )
        .await;
        expected.push((FindingKind::UnwrapPermissionMissing, id(&g_reader)));
        let gone = m.identity(&rg, "id-gone").await;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &gone.principal_id,
        )
        .await;
        let g_id_gone = m.group(&rg, "g-id-gone", Some(&k), Some(&gone), &[]).await;
        m.b.identities
            .delete(&rg, &gone.name, None)
            .await
            .expect("identity deleted");
        expected.push((FindingKind::EncryptionIdentityBroken, id(&g_id_gone)));
        expected.push((FindingKind::TrustedServicesCaveat, id(&rbac.id)));

        // A firewall closed to trusted services after its groups were made: one of each flow.
        let fw = m.vault(&rg, "kv-nobypass", open.clone()).await;
        m.grant(&fw, &aci).await;
        let fw_id = m.identity(&rg, "id-fw").await;
        m.grant(&fw, &fw_id.principal_id).await;
        let k = m.key(&fw, "k", rsa()).await;
        let g_fw = m.group(&rg, "g-fw", Some(&k), Some(&fw_id), &[]).await;
        let g_fw_std = m.group(&rg, "g-fw-std", Some(&k), None, &[]).await;
        m.b.vaults
            .update_network_rules(
                &rg,
                &fw.name,
                &NetworkRuleSet {
                    bypass: Some(NetworkRuleBypass::None),
                    default_action: Some(NetworkRuleAction::Deny),
                    ip_rules: vec![IpRule::new(LOOPBACK)],
                    virtual_network_rules: Vec::new(),
                },
                None,
            )
            .await
            .expect("firewall closed");
        expected.push((FindingKind::FirewallBlocksAci, id(&g_fw)));
        expected.push((FindingKind::FirewallBlocksAci, id(&g_fw_std)));

        // A soft-deleted vault and a purged one under their groups.
        let deleted = m.vault(&rg, "kv-deleted", open.clone()).await;
        m.grant(&deleted, &aci).await;
        let k = m.key(&deleted, "k", rsa()).await;
        let g_deleted = m.group(&rg, "g-vault-deleted", Some(&k), None, &[]).await;
        m.b.vaults
            .delete(&rg, &deleted.name, None)
            .await
            .expect("deleted");
        expected.push((FindingKind::VaultMissing, id(&g_deleted)));
        let purged = m
            .vault(
                &rg,
                "kv-purged",
                VaultSetup {
                    purge_protection: false,
                    ..open.clone()
                },
            )
            .await;
        m.grant(&purged, &aci).await;
        let k = m.key(&purged, "k", rsa()).await;
        let g_purged = m.group(&rg, "g-vault-purged", Some(&k), None, &[]).await;
        m.b.vaults
            .delete(&rg, &purged.name, None)
            .await
            .expect("deleted");
        m.b.vaults
            .purge_deleted(&m.location, &purged.name, None)
            .await
            .expect("purged");
        expected.push((FindingKind::VaultMissing, id(&g_purged)));

        // A group without a customer-managed key.
        let g_plain = m.group(&rg, "g-no-cmk", None, None, &[]).await;
        expected.push((FindingKind::GroupWithoutCmk, id(&g_plain)));

        let vault_url = url(&legacy);
        let pin = DeploymentSpec::from_toml_str(&format!(
            r#"
            subscription_id = "{sub}"
            resource_group = "rg-messy"
            location = "westeurope"
            flow = "standard"
            [vault]
            name = "kv-legacy"
            [key.existing]
            id = "{kid}"
            [container_group]
            name = "g-pinned"
            [[container_group.containers]]
            name = "app"
            image = "mcr.microsoft.com/azuredocs/aci-helloworld"
            "#,
            sub = pinned.subscription_id(),
            kid = vault_url.key_id(&"k-old".parse::<KeyName>().expect("key"), Some(&v1.version)),
        ))
        .expect("spec");
        let _: &KeyVersion = &v1.version;

        Messy {
            expected,
            clean: vec![
                id(&clean_group),
                key_resource(&clean_vault, "cmk"),
                id(&clean_vault.id),
            ],
            specs: vec![pin],
            extra_principal: extra.principal_id,
        }
    }
}
