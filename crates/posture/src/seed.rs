//! A messy subscription on the embedded emulator (feature `seed`), for tests and demos: built
//! with the SDK's own clients, then broken as many hands would, so that the audit has every
//! kind of finding to find beside clean resources.
//!
//! [`Builder`]'s steps create vaults, keys, identities, grants and container groups as their
//! flows want them (and remember each group's spec, secure values included, so it can be
//! re-created whole); [`Messy::build`] makes the whole subscription — a disabled, an expired
//! and an expiring version, a removed access policy, a swapped role, a deleted identity, a
//! closed firewall, a soft-deleted and a purged vault, a legacy vault without soft delete, a
//! 2048-bit key, a plain secret, a group without a customer-managed key — and says what the
//! audit must find on it; [`Messy::remove_aci_principal`] then deletes the ACI first-party service principal, as
//! an administrator might. Only what no request can do (turn soft delete off, delete a service
//! principal) goes through the emulator's [`Admin`].
//!
//! ```no_run
//! use aci_cmk_core::cloud::EmulatorProfile;
//! use aci_cmk_encrypted_deployment::{Backends, Connection};
//! use aci_cmk_posture::seed::Messy;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = aci_cmk_emulator::Emulator::start(Default::default()).await?;
//! let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
//! let backends = Backends::connect(&Connection::emulator(&profile)?).await?;
//! let mut messy = Messy::build(&backends, emulator.admin()).await?;
//! messy.remove_aci_principal(emulator.admin())?;
//! println!("{} findings to find", messy.expected.len());
//! # Ok(()) }
//! ```

use crate::FindingKind;
use aci_cmk_aci::models::{ContainerGroupIdentity, EncryptionProperties};
use aci_cmk_core::{
    key_id::VaultUrl,
    names::{KeyName, Location, PrincipalId, ResourceGroupName, TenantId, VaultName},
    resource_id::ResourceId,
};
use aci_cmk_emulator::{Admin, AdminError};
use aci_cmk_encrypted_deployment::{
    Backends,
    spec::{ContainerGroupSpec, DeploymentSpec},
};
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
use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};
use time::{Duration, OffsetDateTime};

/// The value of the plain secret-looking variable: it must never appear in any output.
pub const PLAIN_CANARY: &str = "plain-canary-0f3c9d";
/// The value of a secure variable: it must never appear either.
pub const SECURE_CANARY: &str = "secure-canary-7a1e42";

/// The image every seeded container runs.
pub const IMAGE: &str = "mcr.microsoft.com/azuredocs/aci-helloworld";

/// The address the emulator sees the SDK call from.
const LOOPBACK: &str = "127.0.0.1";

/// Why a seeding step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// A Key Vault, identity, role-assignment or directory call failed.
    #[error("{what} failed")]
    Client {
        /// The step.
        what: String,
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_core::ClientError>,
    },
    /// A resource-group or container-group call failed.
    #[error("{what} failed")]
    Groups {
        /// The step.
        what: String,
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_aci::Error>,
    },
    /// The emulator's admin operation failed.
    #[error("{what} failed")]
    Admin {
        /// The step.
        what: String,
        /// What the emulator answered.
        #[source]
        source: AdminError,
    },
    /// A name or spec of the seed does not parse.
    #[error("{what}: {message}")]
    Invalid {
        /// What.
        what: String,
        /// Why.
        message: String,
    },
}

fn client(what: impl Into<String>) -> impl FnOnce(aci_cmk_core::ClientError) -> SeedError {
    let what = what.into();
    move |source| SeedError::Client {
        what,
        source: Box::new(source),
    }
}

fn groups(what: impl Into<String>) -> impl FnOnce(aci_cmk_aci::Error) -> SeedError {
    let what = what.into();
    move |source| SeedError::Groups {
        what,
        source: Box::new(source),
    }
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, SeedError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| SeedError::Invalid {
        what: format!("{what} {text:?}"),
        message: e.to_string(),
    })
}

/// How a vault is made.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VaultSetup {
    /// Azure RBAC instead of access policies.
    pub rbac: bool,
    /// Purge protection.
    pub purge_protection: bool,
    /// Deny by default (with the loopback address let through, so the SDK can manage keys),
    /// letting trusted services through.
    pub firewall: bool,
}

impl VaultSetup {
    /// A vault made as `rbac`, `purge_protection` and `firewall` say.
    pub fn new(rbac: bool, purge_protection: bool, firewall: bool) -> Self {
        Self {
            rbac,
            purge_protection,
            firewall,
        }
    }
}

/// The steps of building a subscription, over the SDK's clients.
pub struct Builder<'a> {
    /// The clients.
    pub b: &'a Backends,
    /// The tenant.
    pub tenant: TenantId,
    /// The deployer.
    pub deployer: PrincipalId,
    /// The emulator's time when the build started.
    pub now: OffsetDateTime,
    /// The region.
    pub location: Location,
    /// The spec of every group made, by lowercase resource id.
    specs: Mutex<BTreeMap<String, (ResourceId, ContainerGroupSpec)>>,
}

impl<'a> Builder<'a> {
    /// A builder over `backends`, at the emulator's time `now`, in `westeurope`.
    pub fn new(backends: &'a Backends, now: OffsetDateTime) -> Result<Self, SeedError> {
        Ok(Self {
            b: backends,
            tenant: backends.deployer.tenant_id.clone(),
            deployer: backends.deployer.object_id.clone(),
            now,
            location: parse("location", "westeurope")?,
            specs: Mutex::new(BTreeMap::new()),
        })
    }

    /// A resource group.
    pub async fn rg(&self, name: &str) -> Result<ResourceGroupName, SeedError> {
        let rg: ResourceGroupName = parse("resource group name", name)?;
        self.b
            .resource_groups
            .create_or_update(&rg, &self.location, &BTreeMap::new(), None)
            .await
            .map_err(groups(format!("create resource group {name}")))?;
        Ok(rg)
    }

    /// The ACI first-party service principal's object id (created if missing).
    pub async fn aci_principal(&self) -> Result<PrincipalId, SeedError> {
        let app = parse("app id", ACI_FIRST_PARTY_APP_ID)?;
        Ok(self
            .b
            .directory
            .ensure_service_principal(&app, None)
            .await
            .map_err(client("ensure the ACI service principal"))?
            .service_principal
            .id)
    }

    /// A vault the deployer can manage keys in (an access policy, or Key Vault Crypto Officer
    /// on an RBAC vault).
    pub async fn vault(
        &self,
        rg: &ResourceGroupName,
        name: &str,
        setup: VaultSetup,
    ) -> Result<Vault, SeedError> {
        let name: VaultName = parse("vault name", name)?;
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
            .map_err(client(format!("create vault {name}")))?;
        if setup.rbac {
            self.role(
                &vault.id,
                RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER,
                &self.deployer,
            )
            .await?;
        }
        Ok(vault)
    }

    /// Assigns `role` to `principal` at `scope`.
    pub async fn role(
        &self,
        scope: &ResourceId,
        role: RoleDefinitionId,
        principal: &PrincipalId,
    ) -> Result<(), SeedError> {
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
            .map_err(client(format!("assign a role to {principal}")))?;
        Ok(())
    }

    /// Removes every assignment of `principal` at exactly `scope`.
    pub async fn unassign(
        &self,
        scope: &ResourceId,
        principal: &PrincipalId,
    ) -> Result<(), SeedError> {
        let assignments = self
            .b
            .role_assignments
            .list_for_principal(scope, principal, None)
            .await
            .map_err(client(format!("list the roles of {principal}")))?;
        for a in assignments.iter().filter(|a| a.is_at_scope(scope)) {
            self.b
                .role_assignments
                .delete(scope, &a.name, None)
                .await
                .map_err(client(format!("remove a role of {principal}")))?;
        }
        Ok(())
    }

    /// Grants `principal` keys `get` + `unwrapKey` by access policy.
    pub async fn grant(&self, vault: &Vault, principal: &PrincipalId) -> Result<(), SeedError> {
        self.policy(vault, principal, AccessPolicyUpdateKind::Add)
            .await
    }

    /// Takes `get` + `unwrapKey` from `principal`.
    pub async fn revoke(&self, vault: &Vault, principal: &PrincipalId) -> Result<(), SeedError> {
        self.policy(vault, principal, AccessPolicyUpdateKind::Remove)
            .await
    }

    async fn policy(
        &self,
        vault: &Vault,
        principal: &PrincipalId,
        kind: AccessPolicyUpdateKind,
    ) -> Result<(), SeedError> {
        let rg = vault
            .id
            .resource_group_name()
            .ok_or_else(|| SeedError::Invalid {
                what: format!("vault {}", vault.name),
                message: "its id names no resource group".into(),
            })?;
        self.b
            .vaults
            .update_access_policy(
                rg,
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
            .map_err(client(format!(
                "update the access policies of {}",
                vault.name
            )))?;
        Ok(())
    }

    /// A key (or a new version of it).
    pub async fn key(
        &self,
        vault: &Vault,
        name: &str,
        options: CreateKeyOptions,
    ) -> Result<KeyProperties, SeedError> {
        let url = url(vault)?;
        self.b
            .keys
            .create_key(&url, &parse("key name", name)?, options, None)
            .await
            .map_err(client(format!("create key {name}")))
    }

    /// A user-assigned identity.
    pub async fn identity(
        &self,
        rg: &ResourceGroupName,
        name: &str,
    ) -> Result<UserAssignedIdentity, SeedError> {
        self.b
            .identities
            .create_or_update(
                rg,
                &parse("identity name", name)?,
                &self.location,
                &BTreeMap::new(),
                None,
            )
            .await
            .map_err(client(format!("create identity {name}")))
    }

    /// The spec of a group of one container `app` running [`IMAGE`] with `env`: (name, value,
    /// secure).
    pub fn group_spec(
        name: &str,
        env: &[(&str, &str, bool)],
    ) -> Result<ContainerGroupSpec, SeedError> {
        let plain: BTreeMap<&str, &str> = env
            .iter()
            .filter(|(_, _, secure)| !secure)
            .map(|(n, v, _)| (*n, *v))
            .collect();
        let secure: BTreeMap<&str, &str> = env
            .iter()
            .filter(|(_, _, secure)| *secure)
            .map(|(n, v, _)| (*n, *v))
            .collect();
        serde_json::from_value(serde_json::json!({
            "name": name,
            "containers": [{"name": "app", "image": IMAGE, "env": plain, "secure_env": secure}],
        }))
        .map_err(|e| SeedError::Invalid {
            what: format!("the spec of group {name}"),
            message: e.to_string(),
        })
    }

    /// A container group on `key` (or without a customer-managed key), reaching it as
    /// `identity` (or the ACI first-party principal), with `env`: (name, value, secure). Its
    /// spec is kept ([`group_specs`](Self::group_specs)).
    pub async fn group(
        &self,
        rg: &ResourceGroupName,
        name: &str,
        key: Option<&KeyProperties>,
        identity: Option<&UserAssignedIdentity>,
        env: &[(&str, &str, bool)],
    ) -> Result<ResourceId, SeedError> {
        let spec = Self::group_spec(name, env)?;
        let mut group = spec.to_container_group(&self.location, &BTreeMap::new());
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
            .create_or_update(rg, &spec.name, &group, None)
            .await
            .map_err(groups(format!("create container group {name}")))?;
        let id: ResourceId = parse(
            "group id",
            created.id.as_deref().ok_or_else(|| SeedError::Invalid {
                what: format!("container group {name}"),
                message: "the service answered no id".into(),
            })?,
        )?;
        self.specs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.as_str().to_ascii_lowercase(), (id.clone(), spec));
        Ok(id)
    }

    /// The spec of every group made so far, with its id.
    pub fn group_specs(&self) -> Vec<(ResourceId, ContainerGroupSpec)> {
        self.specs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Changes a key version's attributes.
    pub async fn update(
        &self,
        key: &KeyProperties,
        update: UpdateKeyOptions,
    ) -> Result<(), SeedError> {
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
            .map_err(client(format!("update key {}", key.kid.name())))?;
        Ok(())
    }

    /// A 3072-bit key that expires in a year and rotates every 60 days.
    pub async fn clean_key(&self, vault: &Vault, name: &str) -> Result<KeyProperties, SeedError> {
        let key = self
            .key(
                vault,
                name,
                CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072)
                    .with_expires(self.now + Duration::days(365)),
            )
            .await?;
        self.b
            .keys
            .set_rotation_policy(
                &url(vault)?,
                &parse("key name", name)?,
                &KeyRotationPolicy::rotate_after(Iso8601Duration::days(60))
                    .with_expiry(Iso8601Duration::years(1)),
                None,
            )
            .await
            .map_err(client(format!("set the rotation policy of {name}")))?;
        Ok(key)
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
    ) -> Result<(Vault, KeyProperties, ResourceId), SeedError> {
        let v = self
            .vault(rg, vault, VaultSetup::new(true, true, true))
            .await?;
        let key = self.clean_key(&v, "cmk").await?;
        let identity = self.identity(rg, &format!("{group}-id")).await?;
        self.role(
            &v.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &identity.principal_id,
        )
        .await?;
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
            .await?;
        Ok((v, key, id))
    }
}

/// A vault's data-plane URL.
pub fn url(vault: &Vault) -> Result<VaultUrl, SeedError> {
    vault
        .properties
        .vault_uri
        .clone()
        .ok_or_else(|| SeedError::Invalid {
            what: format!("vault {}", vault.name),
            message: "it reports no vaultUri".into(),
        })
}

/// The spec of a target for the seeded groups without a customer-managed key, in
/// `subscription`: what the orchestrator makes of it is a network-protected RBAC vault
/// `kv-target` (the loopback address let through, so the SDK can read its key) in `rg-target`,
/// a 3072-bit key that rotates every 60 days and lives a year, identity `id-target` and a group
/// `g-target` — every check passes on it but the trusted-services caveat.
pub fn target_spec(subscription: &str) -> Result<DeploymentSpec, SeedError> {
    DeploymentSpec::from_toml_str(&format!(
        r#"
        subscription_id = "{subscription}"
        resource_group = "rg-target"
        location = "westeurope"
        [flow.network_protected]
        identity_name = "id-target"
        [vault]
        name = "kv-target"
        authorization = "rbac"
        ip_rules = ["{LOOPBACK}"]
        [key.create]
        name = "cmk"
        size = 3072
        [key.create.lifecycle]
        rotate_after = "P60D"
        expires_after = "P1Y"
        [container_group]
        name = "g-target"
        [[container_group.containers]]
        name = "app"
        image = "{IMAGE}"
        "#
    ))
    .map_err(|e| SeedError::Invalid {
        what: "the target spec".into(),
        message: e.to_string(),
    })
}

/// The resource the audit names the ACI first-party service principal by.
pub fn aci_principal_resource() -> String {
    format!("/servicePrincipals(appId='{ACI_FIRST_PARTY_APP_ID}')").to_ascii_lowercase()
}

/// What the audit must find on a messy subscription: (kind, resource id) pairs, and the
/// resources on which it must find nothing but what is listed.
#[non_exhaustive]
pub struct Messy {
    /// The findings the audit must report (kind, resource id, lowercase).
    pub expected: Vec<(FindingKind, String)>,
    /// Resources that are clean (nothing but the expected findings on them).
    pub clean: Vec<String>,
    /// Specs pinning a version by choice.
    pub specs: Vec<DeploymentSpec>,
    /// The principal that holds unwrapKey without needing it.
    pub extra_principal: PrincipalId,
    /// The spec of every group seeded (secure values included), with its id.
    pub group_specs: Vec<(ResourceId, ContainerGroupSpec)>,
    /// The resource group everything is in.
    pub resource_group: ResourceGroupName,
}

fn id(r: &ResourceId) -> String {
    r.as_str().to_ascii_lowercase()
}

fn key_resource(v: &Vault, key: &str) -> String {
    format!("{}/keys/{key}", v.id).to_ascii_lowercase()
}

impl Messy {
    /// Builds the messy subscription (every finding kind but a missing ACI service principal,
    /// which [`remove_aci_principal`](Self::remove_aci_principal) adds) beside a clean setup,
    /// in resource group `rg-messy`.
    pub async fn build(backends: &Backends, admin: &Admin) -> Result<Messy, SeedError> {
        let m = Builder::new(backends, admin.now())?;
        let rg = m.rg("rg-messy").await?;
        let aci = m.aci_principal().await?;
        let mut expected = Vec::new();
        let open = VaultSetup::new(false, true, false);
        // Keys of the recommended size, but for the legacy vault's.
        let rsa = || CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa3072);
        let small = || CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048);

        // Clean: only the trusted-services caveat, on its vault.
        let (clean_vault, _, clean_group) = m.clean(&rg, "kv-clean", "g-clean").await?;
        expected.push((FindingKind::TrustedServicesCaveat, id(&clean_vault.id)));

        // A legacy vault: access policies, no purge protection, open to all networks; a
        // 2048-bit key without expiry or rotation; stale, pinned and plain-secret groups.
        let legacy = m
            .vault(&rg, "kv-legacy", VaultSetup::new(false, false, false))
            .await?;
        m.grant(&legacy, &aci).await?;
        for kind in [
            FindingKind::VaultOpenToAllNetworks,
            FindingKind::VaultWithoutPurgeProtection,
            FindingKind::VaultInAccessPolicyMode,
            FindingKind::ExcessUnwrapPrincipals,
        ] {
            expected.push((kind, id(&legacy.id)));
        }
        let v1 = m.key(&legacy, "k-old", small()).await?;
        let stale = m.group(&rg, "g-stale", Some(&v1), None, &[]).await?;
        let pinned = m.group(&rg, "g-pinned", Some(&v1), None, &[]).await?;
        let v2 = m.key(&legacy, "k-old", small()).await?;
        // Reached as an identity: its values stay readable whatever becomes of the ACI
        // principal.
        let plain_id = m.identity(&rg, "id-plain").await?;
        m.grant(&legacy, &plain_id.principal_id).await?;
        let plain = m
            .group(
                &rg,
                "g-plain-secret",
                Some(&v2),
                Some(&plain_id),
                &[
                    ("API_TOKEN", PLAIN_CANARY, false),
                    ("DB_PASSWORD", SECURE_CANARY, true),
                ],
            )
            .await?;
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
        let extra = m.identity(&rg, "id-extra").await?;
        m.grant(&legacy, &extra.principal_id).await?;

        // Versions gone bad after their groups were made: disabled, expired, expiring.
        let disabled = m.key(&legacy, "k-disabled", rsa()).await?;
        let g_disabled = m
            .group(&rg, "g-disabled", Some(&disabled), None, &[])
            .await?;
        m.update(&disabled, UpdateKeyOptions::disable()).await?;
        expected.push((FindingKind::KeyVersionUnusable, id(&g_disabled)));
        let expired = m
            .key(
                &legacy,
                "k-expired",
                rsa().with_expires(m.now + Duration::days(20)),
            )
            .await?;
        let g_expired = m.group(&rg, "g-expired", Some(&expired), None, &[]).await?;
        m.update(
            &expired,
            UpdateKeyOptions::default().with_expires(m.now - Duration::hours(1)),
        )
        .await?;
        // A newer version the group could move onto.
        m.key(
            &legacy,
            "k-expired",
            rsa().with_expires(m.now + Duration::days(365)),
        )
        .await?;
        expected.push((FindingKind::KeyVersionUnusable, id(&g_expired)));
        let expiring = m
            .key(
                &legacy,
                "k-expiring",
                rsa().with_expires(m.now + Duration::days(10)),
            )
            .await?;
        let g_expiring = m
            .group(&rg, "g-expiring", Some(&expiring), None, &[])
            .await?;
        expected.push((FindingKind::KeyVersionExpiresSoon, id(&g_expiring)));

        // The ACI principal's access policy removed after its group was made.
        let revoked = m.vault(&rg, "kv-revoked", open.clone()).await?;
        m.grant(&revoked, &aci).await?;
        let k = m.key(&revoked, "k", rsa()).await?;
        let g_revoked = m.group(&rg, "g-revoked", Some(&k), None, &[]).await?;
        m.revoke(&revoked, &aci).await?;
        expected.push((FindingKind::UnwrapPermissionMissing, id(&g_revoked)));

        // An RBAC vault: an identity whose role became Key Vault Reader (a Key Vault role that
        // cannot unwrap), and an identity deleted after its group was made.
        let rbac = m
            .vault(&rg, "kv-rbac", VaultSetup::new(true, true, true))
            .await?;
        let k = m.key(&rbac, "k", rsa()).await?;
        let reader = m.identity(&rg, "id-reader").await?;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &reader.principal_id,
        )
        .await?;
        let g_reader = m
            .group(&rg, "g-reader", Some(&k), Some(&reader), &[])
            .await?;
        m.unassign(&rbac.id, &reader.principal_id).await?;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_READER,
            &reader.principal_id,
        )
        .await?;
        expected.push((FindingKind::UnwrapPermissionMissing, id(&g_reader)));
        let gone = m.identity(&rg, "id-gone").await?;
        m.role(
            &rbac.id,
            RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            &gone.principal_id,
        )
        .await?;
        let g_id_gone = m
            .group(&rg, "g-id-gone", Some(&k), Some(&gone), &[])
            .await?;
        m.b.identities
            .delete(&rg, &gone.name, None)
            .await
            .map_err(client("delete identity id-gone"))?;
        expected.push((FindingKind::EncryptionIdentityBroken, id(&g_id_gone)));
        expected.push((FindingKind::TrustedServicesCaveat, id(&rbac.id)));

        // A firewall closed to trusted services after its groups were made: one of each flow.
        let fw = m.vault(&rg, "kv-nobypass", open.clone()).await?;
        m.grant(&fw, &aci).await?;
        let fw_id = m.identity(&rg, "id-fw").await?;
        m.grant(&fw, &fw_id.principal_id).await?;
        let k = m.key(&fw, "k", rsa()).await?;
        let g_fw = m.group(&rg, "g-fw", Some(&k), Some(&fw_id), &[]).await?;
        let g_fw_std = m.group(&rg, "g-fw-std", Some(&k), None, &[]).await?;
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
            .map_err(client("close the firewall of kv-nobypass"))?;
        expected.push((FindingKind::FirewallBlocksAci, id(&g_fw)));
        expected.push((FindingKind::FirewallBlocksAci, id(&g_fw_std)));

        // A soft-deleted vault and a purged one under their groups.
        let deleted = m.vault(&rg, "kv-deleted", open.clone()).await?;
        m.grant(&deleted, &aci).await?;
        // Its key is clean: what the audit cannot see until the vault is recovered.
        let k = m.clean_key(&deleted, "k").await?;
        let g_deleted = m.group(&rg, "g-vault-deleted", Some(&k), None, &[]).await?;
        m.b.vaults
            .delete(&rg, &deleted.name, None)
            .await
            .map_err(client("delete vault kv-deleted"))?;
        expected.push((FindingKind::VaultMissing, id(&g_deleted)));
        let purged = m
            .vault(&rg, "kv-purged", VaultSetup::new(false, false, false))
            .await?;
        m.grant(&purged, &aci).await?;
        let k = m.key(&purged, "k", rsa()).await?;
        let g_purged = m.group(&rg, "g-vault-purged", Some(&k), None, &[]).await?;
        m.b.vaults
            .delete(&rg, &purged.name, None)
            .await
            .map_err(client("delete vault kv-purged"))?;
        m.b.vaults
            .purge_deleted(&m.location, &purged.name, None)
            .await
            .map_err(client("purge vault kv-purged"))?;
        expected.push((FindingKind::VaultMissing, id(&g_purged)));

        // A legacy vault made before soft delete was mandatory (a clean key on it).
        let no_soft_delete = m
            .vault(&rg, "kv-nosoftdelete", VaultSetup::new(false, false, false))
            .await?;
        m.grant(&no_soft_delete, &aci).await?;
        let k = m.clean_key(&no_soft_delete, "cmk").await?;
        m.group(&rg, "g-nosoftdelete", Some(&k), None, &[]).await?;
        admin
            .disable_soft_delete(no_soft_delete.name.as_str())
            .map_err(|source| SeedError::Admin {
                what: "turn soft delete off on kv-nosoftdelete".into(),
                source,
            })?;
        expected.push((FindingKind::VaultWithoutSoftDelete, id(&no_soft_delete.id)));

        // A group without a customer-managed key.
        let g_plain = m.group(&rg, "g-no-cmk", None, None, &[]).await?;
        expected.push((FindingKind::GroupWithoutCmk, id(&g_plain)));

        let vault_url = url(&legacy)?;
        let key_name: KeyName = parse("key name", "k-old")?;
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
            image = "{IMAGE}"
            "#,
            sub = pinned.subscription_id(),
            kid = vault_url.key_id(&key_name, Some(&v1.version)),
        ))
        .map_err(|e| SeedError::Invalid {
            what: "the pinning spec".into(),
            message: e.to_string(),
        })?;

        Ok(Messy {
            expected,
            clean: vec![
                id(&clean_group),
                key_resource(&clean_vault, "cmk"),
                id(&clean_vault.id),
            ],
            specs: vec![pin],
            extra_principal: extra.principal_id,
            group_specs: m.group_specs(),
            resource_group: rg,
        })
    }

    /// Deletes the ACI first-party service principal, as an administrator might: the audit
    /// then finds it missing (critical, as standard-flow groups rely on it) and, not knowing
    /// who they unwrap as, no longer which grants they lack.
    pub fn remove_aci_principal(&mut self, admin: &Admin) -> Result<(), SeedError> {
        admin
            .remove_service_principal(ACI_FIRST_PARTY_APP_ID)
            .map_err(|source| SeedError::Admin {
                what: "remove the ACI service principal".into(),
                source,
            })?;
        let revoked = |(kind, resource): &(FindingKind, String)| {
            *kind == FindingKind::UnwrapPermissionMissing && resource.ends_with("/g-revoked")
        };
        self.expected.retain(|e| !revoked(e));
        self.expected.push((
            FindingKind::AciServicePrincipalMissing,
            aci_principal_resource(),
        ));
        Ok(())
    }

    /// The spec of the seeded group `name`.
    pub fn group_spec(&self, name: &str) -> Option<&(ResourceId, ContainerGroupSpec)> {
        self.group_specs
            .iter()
            .find(|(id, _)| id.name().eq_ignore_ascii_case(name))
    }
}
