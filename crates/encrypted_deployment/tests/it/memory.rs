//! An in-memory Azure: one [`MemoryAzure`] implementing all eight backend traits, with the
//! semantics Azure has for what the orchestrator uses, and no HTTP at all.
//!
//! - Resource groups; a directory where the ACI first-party app has no service principal until
//!   it is ensured.
//! - Vaults: a `PUT` replaces access policies, a `PATCH` merges the fields it carries,
//!   `accessPolicies/{add,replace,remove}` work per object id, the firewall is a `PATCH` of
//!   `networkAcls`; delete soft-deletes (the name stays taken), recover brings the vault back
//!   with its keys and policies, purge is refused under purge protection; names are global.
//! - Keys: every create makes a new 32-hex version; wrap/unwrap XOR with a per-version secret
//!   and refuse a disabled, expired (`exp`) or not yet valid (`nbf`) version. A rotation makes
//!   a version like the latest, expiring the key's policy's `expiryTime` after its creation; a
//!   rotation policy is validated as Key Vault does, stored per key (a key without one answers
//!   the default policy, and one set without a Notify action gets the default Notify). The data
//!   plane authorizes its one caller (the deployer) like Key Vault: the firewall, then access
//!   policies or RBAC role assignments.
//! - Managed identities with generated principal and client ids; role assignments, deduplicated.
//! - Container groups: encryption properties are immutable, the ACI resource provider checks
//!   that its principal can `get` + `unwrapKey` the key (through the firewall only with an
//!   identity and bypass `AzureServices`), `vaultBaseUrl` comes back with a trailing slash,
//!   `secureValue`s never come back.
//! - Template deployments whose container groups go through the same code, with literal values,
//!   `[parameters('x')]` and `[resourceGroup().location]`.
//!
//! Every write is logged, in order. Faults: a principal replication delay (role assignments
//! for a younger principal fail with `400 PrincipalNotFound`), an RBAC propagation delay (a
//! younger role assignment of the deployer is not yet effective on the data plane) and one-shot
//! failures per method.

use aci_cmk_aci::{
    ContainerGroups, DeploymentName, DeploymentRequest, Deployments, LogOptions, ResourceGroup,
    ResourceGroups,
    deployments::{Deployment, DeploymentOperation, ResourceReference},
    models::{ContainerGroup, EncryptionProperties, Sku as GroupSku},
    resource_groups::ResourceGroupProperties,
};
use aci_cmk_core::{
    CallOptions, Error as CoreError, ServiceError,
    key_id::{KeyId, VaultUrl},
    names::{
        AppId, ClientId, ContainerGroupName, ContainerName, IdentityName, KeyName, KeyVersion,
        Location, PrincipalId, ResourceGroupName, SubscriptionId, TenantId, VaultName,
    },
    resource_id::ResourceId,
};
use aci_cmk_identity::{
    Directory, ManagedIdentities, RoleAssignments,
    directory::{EnsuredServicePrincipal, ServicePrincipal},
    managed_identities::UserAssignedIdentity,
    role_assignments::{
        PrincipalType, RoleAssignment, RoleAssignmentProperties, RoleDefinitionId, assignment_name,
    },
    role_definitions::{RoleDefinition, RolePermission},
};
use aci_cmk_keyvault::{
    KeyVaultKeys, KeyVaultManagement,
    keys::{
        CreateKeyOptions, DeletedKeyInfo, KeyOperation, KeyProperties, KeyType, RsaKeyType,
        UpdateKeyOptions, WrapAlgorithm, WrappedKey,
    },
    models::{
        AccessPolicyEntry, AccessPolicyUpdateKind, CheckNameAvailabilityResult, CreateMode,
        DeletedVault, DeletedVaultProperties, KeyPermission, NameUnavailableReason,
        NetworkRuleAction, NetworkRuleBypass, NetworkRuleSet, Sku, Vault, VaultCreateParameters,
        VaultPatch,
    },
    rotation_policy::{Iso8601Duration, KeyRotationPolicy, LifetimeActionType},
};
use azure_core::{credentials::SecretBytes, time::OffsetDateTime};
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::Ipv4Addr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};
use uuid::Uuid;

type CoreResult<T> = Result<T, CoreError>;

/// The DNS suffix of vault URLs.
pub(crate) const VAULT_DNS_SUFFIX: &str = "vault.azure.net";

/// The address the deployer calls the Key Vault data plane from.
pub(crate) const CALLER_IP: &str = "198.51.100.7";

/// A core error as a service would answer: `{"error":{"code","message"[,"innererror"]}}`.
pub(crate) fn service_error(
    status: u16,
    code: &str,
    inner: Option<&str>,
    message: &str,
) -> CoreError {
    let mut error = json!({"error": {"code": code, "message": message}});
    if let Some(inner) = inner {
        error["error"]["innererror"] = json!({"code": inner});
    }
    let mut parsed = ServiceError::from_body(error.to_string().as_bytes())
        .unwrap_or_else(|| unreachable!("the envelope is well-formed"));
    parsed.status = status;
    CoreError::classify(parsed)
}

fn not_found(code: &str, message: String) -> CoreError {
    service_error(404, code, None, &message)
}

fn bad_request(code: &str, message: String) -> CoreError {
    service_error(400, code, None, &message)
}

/// The state of the in-memory Azure.
#[derive(Debug)]
struct State {
    subscription: SubscriptionId,
    tenant: TenantId,
    /// Who calls the data plane.
    caller: PrincipalId,
    caller_ip: Ipv4Addr,
    resource_groups: BTreeMap<String, ResourceGroup>,
    service_principals: BTreeMap<String, ServicePrincipal>,
    /// When each principal was created (absent: long ago).
    principal_born: HashMap<PrincipalId, Instant>,
    vaults: BTreeMap<String, VaultRecord>,
    /// Vault names held in other subscriptions or tenants.
    taken_elsewhere: BTreeSet<String>,
    /// Key versions by vault and key name (lowercase), oldest first.
    keys: BTreeMap<String, BTreeMap<String, Vec<KeyRecord>>>,
    /// Rotation policies as stored, by vault and key name (lowercase).
    rotation_policies: BTreeMap<(String, String), KeyRotationPolicy>,
    identities: BTreeMap<(String, String), UserAssignedIdentity>,
    assignments: Vec<(RoleAssignment, Instant)>,
    /// Container groups as last PUT (secure values included, as ACI keeps them).
    groups: BTreeMap<(String, String), ContainerGroup>,
    deployments: BTreeMap<(String, String), Deployment>,
    writes: Vec<String>,
    /// The client request id each write was sent with, in the order of `writes`.
    write_request_ids: Vec<Option<String>>,
    /// How many calls were answered (the number in the request ids handed out).
    answered: u64,
    replication_delay: Duration,
    rbac_delay: Duration,
    faults: BTreeMap<String, (u16, String, String)>,
}

#[derive(Clone, Debug)]
struct VaultRecord {
    vault: Vault,
    deleted: bool,
}

#[derive(Clone, Debug)]
struct KeyRecord {
    kid: KeyId,
    kty: RsaKeyType,
    bits: u32,
    key_ops: Vec<KeyOperation>,
    enabled: bool,
    not_before: Option<OffsetDateTime>,
    expires: Option<OffsetDateTime>,
    created: OffsetDateTime,
    updated: OffsetDateTime,
    secret: Vec<u8>,
}

impl KeyRecord {
    fn properties(&self) -> KeyProperties {
        let mut p = KeyProperties::new(self.kid.clone())
            .unwrap_or_else(|| unreachable!("stored key ids are versioned"));
        p.kty = Some(KeyType::from(self.kty));
        p.key_ops = self.key_ops.clone();
        p.n = Some(vec![0xa5; (self.bits / 8) as usize]);
        p.e = Some(vec![1, 0, 1]);
        p.enabled = Some(self.enabled);
        p.not_before = self.not_before;
        p.expires = self.expires;
        p.created = Some(self.created);
        p.updated = Some(self.updated);
        p.recovery_level = Some("Recoverable".into());
        p
    }

    fn xor(&self, data: &[u8]) -> Vec<u8> {
        data.iter()
            .zip(self.secret.iter().cycle())
            .map(|(d, s)| d ^ s)
            .collect()
    }
}

/// The permissions a built-in role grants on keys.
fn role_grants(role: RoleDefinitionId, permission: &KeyPermission) -> bool {
    use KeyPermission as P;
    if role == RoleDefinitionId::KEY_VAULT_ADMINISTRATOR
        || role == RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER
    {
        return true;
    }
    if role == RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER {
        return matches!(permission, P::Get | P::WrapKey | P::UnwrapKey);
    }
    if role == RoleDefinitionId::KEY_VAULT_CRYPTO_USER {
        return matches!(
            permission,
            P::Get
                | P::List
                | P::Update
                | P::WrapKey
                | P::UnwrapKey
                | P::Encrypt
                | P::Decrypt
                | P::Sign
                | P::Verify
        );
    }
    if role == RoleDefinitionId::KEY_VAULT_READER {
        // `Microsoft.KeyVault/vaults/*/read`: rotation policies included.
        return matches!(permission, P::Get | P::List | P::GetRotationPolicy);
    }
    false
}

/// The definition of a built-in Key Vault role, with the data actions Azure publishes for it.
fn builtin_role_definition(role: RoleDefinitionId) -> Option<RoleDefinition> {
    let (name, data_actions): (&str, &[&str]) = if role == RoleDefinitionId::KEY_VAULT_ADMINISTRATOR
    {
        ("Key Vault Administrator", &["Microsoft.KeyVault/vaults/*"])
    } else if role == RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER {
        (
            "Key Vault Crypto Officer",
            &[
                "Microsoft.KeyVault/vaults/keys/*",
                "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
            ],
        )
    } else if role == RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER {
        (
            "Key Vault Crypto Service Encryption User",
            &[
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/wrap/action",
                "Microsoft.KeyVault/vaults/keys/unwrap/action",
            ],
        )
    } else if role == RoleDefinitionId::KEY_VAULT_CRYPTO_USER {
        (
            "Key Vault Crypto User",
            &[
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/update/action",
                "Microsoft.KeyVault/vaults/keys/backup/action",
                "Microsoft.KeyVault/vaults/keys/encrypt/action",
                "Microsoft.KeyVault/vaults/keys/decrypt/action",
                "Microsoft.KeyVault/vaults/keys/wrap/action",
                "Microsoft.KeyVault/vaults/keys/unwrap/action",
                "Microsoft.KeyVault/vaults/keys/sign/action",
                "Microsoft.KeyVault/vaults/keys/verify/action",
            ],
        )
    } else if role == RoleDefinitionId::KEY_VAULT_READER {
        (
            "Key Vault Reader",
            &[
                "Microsoft.KeyVault/vaults/*/read",
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            ],
        )
    } else {
        return None;
    };
    let mut definition = RoleDefinition::new(
        role,
        name,
        vec![RolePermission::data_actions(data_actions.iter().copied())],
    );
    definition.properties.role_type = Some("BuiltInRole".into());
    Some(definition)
}

fn ip_in(ip: Ipv4Addr, rule: &str) -> bool {
    let (addr, prefix) = rule.split_once('/').unwrap_or((rule, "32"));
    let (Ok(addr), Ok(prefix)) = (addr.parse::<Ipv4Addr>(), prefix.parse::<u32>()) else {
        return false;
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    u32::from(ip) & mask == u32::from(addr) & mask
}

fn lower(s: impl AsRef<str>) -> String {
    s.as_ref().to_ascii_lowercase()
}

/// The wire round trip: what a request body holds once serialized (read-only and `None`
/// fields dropped, purge protection `false` omitted).
fn wire<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).unwrap_or(Value::Null))
        .unwrap_or_else(|e| unreachable!("a model round-trips through JSON: {e}"))
}

impl State {
    fn write(&mut self, method: &str, options: Option<&CallOptions<'_>>) {
        self.writes.push(method.to_owned());
        self.write_request_ids
            .push(options.and_then(|o| o.client_request_id.clone()));
    }

    /// Hands the call's recorder, if any, the ids a service would have answered: a request id
    /// `memory-{n}`, a correlation id `memory-correlation-{n}`, the client request id as sent.
    fn answer<T>(
        &mut self,
        verb: &str,
        method: &str,
        options: Option<&CallOptions<'_>>,
        result: &CoreResult<T>,
    ) {
        self.answered += 1;
        let Some(options) = options else { return };
        let Some(recorder) = &options.recorder else {
            return;
        };
        let status = match result {
            Ok(_) => 200,
            Err(e) => e.status().unwrap_or(500),
        };
        let n = self.answered;
        let mut ids = aci_cmk_core::ResponseIds::new(verb, &format!("memory:{method}"), status)
            .with_request_id(format!("memory-{n}"))
            .with_correlation_id(format!("memory-correlation-{n}"));
        if let Some(id) = &options.client_request_id {
            ids = ids.with_client_request_id(id.clone());
        }
        recorder.record(ids);
    }

    fn fault(&mut self, method: &str) -> CoreResult<()> {
        match self.faults.remove(method) {
            Some((status, code, message)) => Err(service_error(status, &code, None, &message)),
            None => Ok(()),
        }
    }

    fn require_group(&self, rg: &ResourceGroupName) -> CoreResult<&ResourceGroup> {
        self.resource_groups.get(&lower(rg)).ok_or_else(|| {
            not_found(
                "ResourceGroupNotFound",
                format!("Resource group '{rg}' could not be found."),
            )
        })
    }

    fn vault_id(&self, rg: &ResourceGroupName, name: &VaultName) -> ResourceId {
        ResourceId::resource(
            &self.subscription,
            rg,
            "Microsoft.KeyVault",
            "vaults",
            name.as_str(),
        )
        .unwrap_or_else(|e| unreachable!("valid names make a valid id: {e}"))
    }

    /// The live vault `name` in `rg`.
    fn live_vault(&self, rg: &ResourceGroupName, name: &VaultName) -> CoreResult<&Vault> {
        match self.vaults.get(&lower(name)) {
            Some(r) if !r.deleted && r.vault.id.resource_group_name() == Some(rg) => Ok(&r.vault),
            _ => Err(not_found(
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group '{rg}' was not found."
                ),
            )),
        }
    }

    fn live_vault_mut(
        &mut self,
        rg: &ResourceGroupName,
        name: &VaultName,
    ) -> CoreResult<&mut Vault> {
        self.live_vault(rg, name)?;
        Ok(&mut self
            .vaults
            .get_mut(&lower(name))
            .unwrap_or_else(|| unreachable!("checked above"))
            .vault)
    }

    fn principal_exists(&self, principal: &PrincipalId) -> bool {
        principal == &self.caller
            || self
                .service_principals
                .values()
                .any(|sp| &sp.id == principal)
            || self
                .identities
                .values()
                .any(|i| &i.principal_id == principal)
    }

    /// Whether `principal` has `permission` on the keys of `vault`, as the data plane sees it now.
    fn allowed(&self, vault: &Vault, principal: &PrincipalId, permission: &KeyPermission) -> bool {
        if vault.properties.enable_rbac_authorization == Some(true) {
            let vault_scope = lower(vault.id.as_str());
            self.assignments.iter().any(|(a, born)| {
                let scope = lower(a.properties.scope.as_deref().unwrap_or_default());
                &a.properties.principal_id == principal
                    && (vault_scope == scope || vault_scope.starts_with(&format!("{scope}/")))
                    && (principal != &self.caller || born.elapsed() >= self.rbac_delay)
                    && a.role().is_some_and(|r| role_grants(r, permission))
            })
        } else {
            vault.properties.access_policies.iter().flatten().any(|p| {
                &p.object_id == principal
                    && (p.permissions.keys.contains(permission)
                        || p.permissions.keys.contains(&KeyPermission::All))
            })
        }
    }

    /// Key Vault's authorization of the deployer's data-plane call: the firewall, then access
    /// policies or RBAC.
    fn authorize(&self, url: &VaultUrl, permission: KeyPermission) -> CoreResult<Vault> {
        let vault = match self.vaults.get(&lower(url.vault_name())) {
            Some(r) if !r.deleted => r.vault.clone(),
            _ => {
                return Err(not_found(
                    "VaultNotFound",
                    format!("No such host is known: {}", url.as_str()),
                ));
            }
        };
        if let Some(acls) = &vault.properties.network_acls
            && acls.default_action == Some(NetworkRuleAction::Deny)
            && !acls
                .ip_rules
                .iter()
                .any(|r| ip_in(self.caller_ip, &r.value))
        {
            return Err(service_error(
                403,
                "Forbidden",
                Some("ForbiddenByFirewall"),
                &format!(
                    "Client address is not authorized and caller is not a trusted service.\r\nClient address: {}",
                    self.caller_ip
                ),
            ));
        }
        if !self.allowed(&vault, &self.caller, &permission) {
            return Err(
                if vault.properties.enable_rbac_authorization == Some(true) {
                    service_error(
                        403,
                        "Forbidden",
                        Some("ForbiddenByRbac"),
                        &format!(
                            "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Caller: oid={}; Action: keys/{}",
                            self.caller,
                            permission.as_str()
                        ),
                    )
                } else {
                    service_error(
                        403,
                        "Forbidden",
                        Some("ForbiddenByPolicy"),
                        &format!(
                            "The user, group or application 'oid={}' does not have keys {} permission on key vault '{}'.",
                            self.caller,
                            permission.as_str(),
                            vault.name
                        ),
                    )
                },
            );
        }
        Ok(vault)
    }

    fn key_versions(&self, url: &VaultUrl, name: &KeyName) -> CoreResult<&Vec<KeyRecord>> {
        self.keys
            .get(&lower(url.vault_name()))
            .and_then(|k| k.get(&lower(name.as_str())))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                service_error(
                    404,
                    "KeyNotFound",
                    None,
                    &format!("A key with (name/id) {name} was not found in this key vault."),
                )
            })
    }

    fn key_version_mut(
        &mut self,
        url: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
    ) -> CoreResult<&mut KeyRecord> {
        self.key_versions(url, name)?;
        let versions = self
            .keys
            .get_mut(&lower(url.vault_name()))
            .and_then(|k| k.get_mut(&lower(name.as_str())))
            .unwrap_or_else(|| unreachable!("checked above"));
        let found = match version {
            Some(v) => versions.iter_mut().find(|k| k.kid.version() == Some(v)),
            None => versions.last_mut(),
        };
        found.ok_or_else(|| {
            service_error(
                404,
                "KeyNotFound",
                None,
                &format!(
                    "A key with (name/id) {name}/{} was not found in this key vault.",
                    version.map_or("", |v| v.as_str())
                ),
            )
        })
    }

    fn usable_key(
        &mut self,
        url: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
    ) -> CoreResult<KeyRecord> {
        let key = self.key_version_mut(url, name, version)?.clone();
        if !key.enabled {
            return Err(service_error(
                403,
                "Forbidden",
                Some("KeyDisabled"),
                &format!("Operation is not allowed on a disabled key: {}", key.kid),
            ));
        }
        let now = OffsetDateTime::now_utc();
        if key.expires.is_some_and(|exp| exp <= now) {
            return Err(service_error(
                403,
                "Forbidden",
                Some("KeyExpired"),
                &format!("Operation is not allowed on an expired key: {}", key.kid),
            ));
        }
        if key.not_before.is_some_and(|nbf| nbf > now) {
            return Err(service_error(
                403,
                "Forbidden",
                Some("KeyNotYetValid"),
                &format!(
                    "Operation is not allowed on a key that is not yet valid: {}",
                    key.kid
                ),
            ));
        }
        Ok(key)
    }

    /// A new 32-hex key version.
    fn new_version() -> KeyVersion {
        Uuid::new_v4()
            .simple()
            .to_string()
            .parse()
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The rotation policy of key `name` as Key Vault answers it: the one set, or the default.
    fn rotation_policy(&self, url: &VaultUrl, name: &KeyName) -> KeyRotationPolicy {
        let mut policy = self
            .rotation_policies
            .get(&(lower(url.vault_name()), lower(name)))
            .cloned()
            .unwrap_or_else(|| {
                KeyRotationPolicy::new().with_notify_before_expiry(Iso8601Duration::days(30))
            });
        policy.id = Some(format!("{url}/keys/{name}/rotationpolicy"));
        policy
    }

    /// What the ACI resource provider checks before it accepts a group encrypted with `enc`:
    /// its principal (the first-party service principal, or the identity named) reaches the
    /// vault and may `get` + `unwrapKey` an enabled key version.
    fn aci_can_use(&self, group: &ContainerGroup, enc: &EncryptionProperties) -> CoreResult<()> {
        let refuse = |why: String| {
            bad_request(
                "InaccessibleEncryptionKey",
                format!(
                    "Container Instances cannot use the key {}/keys/{}/{}: {why}",
                    enc.vault_base_url.trim_end_matches('/'),
                    enc.key_name,
                    enc.key_version
                ),
            )
        };
        if group
            .properties
            .sku
            .is_some_and(|s| s != GroupSku::Standard)
        {
            return Err(bad_request(
                "UnsupportedSkuForEncryption",
                "encryptionProperties need sku Standard".into(),
            ));
        }
        let url: VaultUrl = enc
            .vault_base_url
            .parse()
            .map_err(|e| refuse(format!("vaultBaseUrl is not a vault URL: {e}")))?;
        let vault = match self.vaults.get(&lower(url.vault_name())) {
            Some(r) if !r.deleted => &r.vault,
            _ => return Err(refuse("the vault does not exist".into())),
        };
        let firewall = vault
            .properties
            .network_acls
            .as_ref()
            .filter(|n| n.default_action == Some(NetworkRuleAction::Deny));
        let principal = match &enc.identity {
            Some(identity) => {
                let id: ResourceId = identity
                    .parse()
                    .map_err(|e| refuse(format!("identity is not a resource id: {e}")))?;
                if !group
                    .identity
                    .as_ref()
                    .is_some_and(|i| i.has_user_assigned(&id))
                {
                    return Err(bad_request(
                        "EncryptionIdentityNotAssigned",
                        format!(
                            "The encryption identity {identity} must be one of the container group's user-assigned identities."
                        ),
                    ));
                }
                if firewall.is_some_and(|n| n.bypass == Some(NetworkRuleBypass::None)) {
                    return Err(refuse(
                        "the vault firewall does not let trusted services through".into(),
                    ));
                }
                self.identities
                    .values()
                    .find(|i| i.id == id)
                    .map(|i| i.principal_id.clone())
                    .ok_or_else(|| refuse(format!("identity {identity} does not exist")))?
            }
            None => {
                if firewall.is_some() {
                    return Err(refuse("the vault firewall denies public networks".into()));
                }
                self.service_principals
                    .get(aci_cmk_identity::ACI_FIRST_PARTY_APP_ID)
                    .map(|sp| sp.id.clone())
                    .ok_or_else(|| refuse("the tenant has no service principal for Azure Container Instance Service".into()))?
            }
        };
        for permission in [KeyPermission::Get, KeyPermission::UnwrapKey] {
            if !self.allowed(vault, &principal, &permission) {
                return Err(refuse(format!(
                    "principal {principal} lacks keys {}",
                    permission.as_str()
                )));
            }
        }
        let name: KeyName = enc.key_name.parse().map_err(|e| refuse(format!("{e}")))?;
        let version: KeyVersion = enc
            .key_version
            .parse()
            .map_err(|e| refuse(format!("{e}")))?;
        let versions = self
            .key_versions(&url, &name)
            .map_err(|_| refuse("no such key".into()))?;
        match versions.iter().find(|k| k.kid.version() == Some(&version)) {
            Some(k) if k.enabled => Ok(()),
            Some(_) => Err(refuse("the key is disabled".into())),
            None => Err(refuse("no such key version".into())),
        }
    }

    /// A container group `PUT`, as the ACI resource provider answers it.
    fn put_group(
        &mut self,
        rg: &ResourceGroupName,
        name: &str,
        group: &ContainerGroup,
    ) -> CoreResult<ContainerGroup> {
        self.require_group(rg)?;
        let key = (lower(rg), lower(name));
        let mut stored = wire(group);
        if let Some(existing) = self.groups.get(&key) {
            let same = match (
                &existing.properties.encryption_properties,
                &stored.properties.encryption_properties,
            ) {
                (Some(a), Some(b)) => a.same_as(b),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Err(bad_request(
                    "ContainerGroupEncryptionPropertiesCannotBeUpdated",
                    format!(
                        "The encryptionProperties of container group '{name}' cannot be updated: encryption properties can only be set when a container group is created. Delete and re-create the group."
                    ),
                ));
            }
        }
        if let Some(enc) = &stored.properties.encryption_properties {
            self.aci_can_use(&stored, enc)?;
            let mut enc = enc.clone();
            enc.vault_base_url = format!("{}/", enc.vault_base_url.trim_end_matches('/'));
            stored.properties.encryption_properties = Some(enc);
        }
        stored.id = Some(format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}",
            self.subscription
        ));
        stored.name = Some(name.to_owned());
        stored.properties.provisioning_state = Some("Succeeded".into());
        if let Some(identity) = stored.identity.as_mut() {
            for (id, reference) in identity.user_assigned_identities.iter_mut() {
                if let Some(i) = self
                    .identities
                    .values()
                    .find(|i| i.id.as_str().eq_ignore_ascii_case(id))
                {
                    reference.principal_id = Some(i.principal_id.to_string());
                    reference.client_id = Some(i.client_id.to_string());
                }
            }
            identity.tenant_id = Some(self.tenant.to_string());
        }
        self.groups.insert(key, stored.clone());
        Ok(without_secrets(stored))
    }

    fn get_group(&self, rg: &ResourceGroupName, name: &str) -> CoreResult<ContainerGroup> {
        self.groups
            .get(&(lower(rg), lower(name)))
            .cloned()
            .map(without_secrets)
            .ok_or_else(|| not_found("ResourceNotFound", format!("The Resource 'Microsoft.ContainerInstance/containerGroups/{name}' under resource group '{rg}' was not found.")))
    }

    fn deploy(
        &mut self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
    ) -> CoreResult<Deployment> {
        let rg_location = self.require_group(rg)?.location.clone();
        let defaults = request
            .template
            .get("parameters")
            .cloned()
            .unwrap_or(json!({}));
        let given = request.parameters.clone().unwrap_or(json!({}));
        let parameter = |p: &str| -> Option<Value> {
            given
                .get(p)
                .and_then(|v| v.get("value"))
                .cloned()
                .or_else(|| defaults.get(p).and_then(|d| d.get("defaultValue")).cloned())
        };
        let resources = request
            .template
            .get("resources")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                bad_request("InvalidTemplate", "The template has no resources.".into())
            })?;
        let mut outputs = Vec::new();
        let mut failure = None;
        for resource in resources {
            let resource = evaluate(&resource, &parameter, &rg_location)?;
            let kind = resource
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !kind.eq_ignore_ascii_case("Microsoft.ContainerInstance/containerGroups") {
                return Err(bad_request(
                    "InvalidTemplate",
                    format!("this fake deploys only container groups, not {kind}"),
                ));
            }
            let group_name = resource
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let group: ContainerGroup = serde_json::from_value(resource.clone()).map_err(|e| {
                bad_request(
                    "InvalidTemplate",
                    format!("container group {group_name}: {e}"),
                )
            })?;
            match self.put_group(rg, &group_name, &group) {
                Ok(created) => outputs.push(json!({"id": created.id})),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let mut deployment = Deployment::default();
        deployment.id = Some(format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}",
            self.subscription
        ));
        deployment.name = Some(name.to_string());
        deployment.properties.output_resources = outputs
            .into_iter()
            .map(|o| {
                serde_json::from_value::<ResourceReference>(o)
                    .unwrap_or_else(|e| unreachable!("{e}"))
            })
            .collect();
        deployment.properties.provisioning_state = Some(
            if failure.is_some() {
                "Failed"
            } else {
                "Succeeded"
            }
            .into(),
        );
        self.deployments
            .insert((lower(rg), lower(name.as_str())), deployment.clone());
        match failure {
            None => Ok(deployment),
            Some(cause) => {
                let mut error = ServiceError::from_body(
                    json!({"error": {"code": "DeploymentFailed", "message": "At least one resource deployment operation failed.", "details": [{"code": cause.code(), "message": cause.to_string()}]}})
                        .to_string()
                        .as_bytes(),
                )
                .unwrap_or_else(|| unreachable!("well-formed"));
                error.status = 200;
                Err(CoreError::OperationFailed {
                    operation: format!("deployment {name}"),
                    status: "Failed".into(),
                    error: Box::new(error),
                })
            }
        }
    }
}

/// ARM template expressions this fake evaluates: `[parameters('x')]` and
/// `[resourceGroup().location]`; any other expression is refused.
fn evaluate(
    value: &Value,
    parameter: &dyn Fn(&str) -> Option<Value>,
    location: &str,
) -> CoreResult<Value> {
    Ok(match value {
        Value::String(s) if s.starts_with('[') && !s.starts_with("[[") => {
            let expr = s.trim_start_matches('[').trim_end_matches(']');
            if expr == "resourceGroup().location" {
                json!(location)
            } else if let Some(p) = expr
                .strip_prefix("parameters('")
                .and_then(|r| r.strip_suffix("')"))
            {
                parameter(p).ok_or_else(|| {
                    bad_request(
                        "InvalidTemplate",
                        format!("The template parameter '{p}' is not found."),
                    )
                })?
            } else {
                return Err(bad_request(
                    "InvalidTemplate",
                    format!("this fake cannot evaluate {s}"),
                ));
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| evaluate(v, parameter, location))
                .collect::<CoreResult<_>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), evaluate(v, parameter, location)?)))
                .collect::<CoreResult<_>>()?,
        ),
        other => other.clone(),
    })
}

fn without_secrets(mut group: ContainerGroup) -> ContainerGroup {
    for container in &mut group.properties.containers {
        for variable in &mut container.properties.environment_variables {
            variable.secure_value = None;
        }
    }
    group
}

/// The in-memory Azure. Cloning shares the state.
#[derive(Clone, Debug)]
pub(crate) struct MemoryAzure {
    state: Arc<Mutex<State>>,
}

impl MemoryAzure {
    /// An empty subscription of `tenant` whose data plane is called by `caller` (the deployer).
    pub(crate) fn new(subscription: SubscriptionId, tenant: TenantId, caller: PrincipalId) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                subscription,
                tenant,
                caller,
                caller_ip: CALLER_IP.parse().unwrap_or(Ipv4Addr::LOCALHOST),
                resource_groups: BTreeMap::new(),
                service_principals: BTreeMap::new(),
                principal_born: HashMap::new(),
                vaults: BTreeMap::new(),
                taken_elsewhere: BTreeSet::new(),
                keys: BTreeMap::new(),
                rotation_policies: BTreeMap::new(),
                identities: BTreeMap::new(),
                assignments: Vec::new(),
                groups: BTreeMap::new(),
                deployments: BTreeMap::new(),
                writes: Vec::new(),
                write_request_ids: Vec::new(),
                answered: 0,
                replication_delay: Duration::ZERO,
                rbac_delay: Duration::ZERO,
                faults: BTreeMap::new(),
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state after the method's one-shot fault, if any.
    /// The options are accepted like a service would: the client request id is kept with the
    /// write, and a recorder gets made-up request ids.
    fn call<T>(
        &self,
        method: &str,
        options: Option<&CallOptions<'_>>,
        f: impl FnOnce(&mut State) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut state = self.state();
        let result = state.fault(method).and_then(|()| f(&mut state));
        state.answer("GET", method, options, &result);
        result
    }

    /// [`call`](Self::call) for a write: logged first, whatever its outcome.
    fn write<T>(
        &self,
        method: &str,
        options: Option<&CallOptions<'_>>,
        f: impl FnOnce(&mut State) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut state = self.state();
        state.write(method, options);
        let result = state.fault(method).and_then(|()| f(&mut state));
        state.answer("PUT", method, options, &result);
        result
    }

    /// Every write so far, in order, as `trait.method`.
    pub(crate) fn writes(&self) -> Vec<String> {
        self.state().writes.clone()
    }

    /// Every write so far with the client request id it was sent with.
    pub(crate) fn writes_with_request_ids(&self) -> Vec<(String, Option<String>)> {
        let state = self.state();
        state
            .writes
            .iter()
            .cloned()
            .zip(state.write_request_ids.iter().cloned())
            .collect()
    }

    /// Writes per method.
    pub(crate) fn write_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for w in &self.state().writes {
            *counts.entry(w.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Forgets the writes so far.
    pub(crate) fn clear_writes(&self) {
        let mut state = self.state();
        state.writes.clear();
        state.write_request_ids.clear();
    }

    /// Principals younger than `delay` are unknown to role assignments.
    pub(crate) fn set_replication_delay(&self, delay: Duration) {
        self.state().replication_delay = delay;
    }

    /// The deployer's role assignments younger than `delay` are not yet effective on the data
    /// plane (`403 ForbiddenByRbac`). Only the deployer's: ACI's own view of its principal's
    /// fresh assignment is not delayed, because the orchestrator has no way to wait for it (see
    /// the crate's report on this).
    pub(crate) fn set_rbac_delay(&self, delay: Duration) {
        self.state().rbac_delay = delay;
    }

    /// The next call of `method` (e.g. `keys.create_key`) fails with this error.
    pub(crate) fn fail_once(&self, method: &str, status: u16, code: &str, message: &str) {
        self.state().faults.insert(
            method.to_owned(),
            (status, code.to_owned(), message.to_owned()),
        );
    }

    /// `name` is held by a vault in another subscription.
    pub(crate) fn take_vault_name_elsewhere(&self, name: &str) {
        self.state().taken_elsewhere.insert(lower(name));
    }

    /// The container group as stored, secure values included.
    pub(crate) fn stored_group(&self, rg: &str, name: &str) -> Option<ContainerGroup> {
        self.state().groups.get(&(lower(rg), lower(name))).cloned()
    }

    /// The number of container groups.
    pub(crate) fn group_count(&self) -> usize {
        self.state().groups.len()
    }

    /// The role assignments, as `(principal, role)`.
    pub(crate) fn role_assignments(&self) -> Vec<(PrincipalId, RoleDefinitionId)> {
        self.state()
            .assignments
            .iter()
            .filter_map(|(a, _)| Some((a.properties.principal_id.clone(), a.role()?)))
            .collect()
    }

    /// The ACI first-party service principal's object id, if it exists.
    pub(crate) fn aci_service_principal(&self) -> Option<PrincipalId> {
        self.state()
            .service_principals
            .get(aci_cmk_identity::ACI_FIRST_PARTY_APP_ID)
            .map(|sp| sp.id.clone())
    }
}

#[async_trait::async_trait]
impl ResourceGroups for MemoryAzure {
    async fn create_or_update(
        &self,
        name: &ResourceGroupName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<ResourceGroup> {
        Ok(
            self.write("resource_groups.create_or_update", options.as_ref(), |s| {
                let mut properties = ResourceGroupProperties::default();
                properties.provisioning_state = Some("Succeeded".into());
                let mut group = ResourceGroup::default();
                group.id = Some(ResourceId::resource_group(&s.subscription, name).to_string());
                group.name = Some(name.to_string());
                group.location = location.to_string();
                group.tags = tags.clone();
                group.properties = Some(properties);
                s.resource_groups.insert(lower(name), group.clone());
                Ok(group)
            })?,
        )
    }

    async fn get(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Option<ResourceGroup>> {
        Ok(self.call("resource_groups.get", options.as_ref(), |s| {
            Ok(s.resource_groups.get(&lower(name)).cloned())
        })?)
    }

    async fn delete(
        &self,
        name: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(self.write("resource_groups.delete", options.as_ref(), |s| {
            let rg = lower(name);
            s.resource_groups.remove(&rg);
            s.groups.retain(|(g, _), _| g != &rg);
            s.deployments.retain(|(g, _), _| g != &rg);
            s.identities.retain(|(g, _), _| g != &rg);
            for record in s.vaults.values_mut() {
                if record
                    .vault
                    .id
                    .resource_group_name()
                    .is_some_and(|g| lower(g) == rg)
                {
                    record.deleted = true;
                }
            }
            Ok(())
        })?)
    }
}

#[async_trait::async_trait]
impl Directory for MemoryAzure {
    async fn get_service_principal_by_app_id(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<Option<ServicePrincipal>> {
        Ok(self.call(
            "directory.get_service_principal_by_app_id",
            options.as_ref(),
            |s| Ok(s.service_principals.get(app_id.as_str()).cloned()),
        )?)
    }

    async fn ensure_service_principal(
        &self,
        app_id: &AppId,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<EnsuredServicePrincipal> {
        if let Some(existing) = self
            .get_service_principal_by_app_id(app_id, options.clone())
            .await?
        {
            return Ok(EnsuredServicePrincipal::new(existing, false));
        }
        Ok(self.write(
            "directory.create_service_principal",
            options.as_ref(),
            |s| {
                let sp = ServicePrincipal {
                    id: PrincipalId::from(Uuid::new_v4()),
                    app_id: app_id.clone(),
                    display_name: Some("Azure Container Instance Service".into()),
                };
                s.principal_born.insert(sp.id.clone(), Instant::now());
                s.service_principals.insert(app_id.to_string(), sp.clone());
                Ok(EnsuredServicePrincipal::new(sp, true))
            },
        )?)
    }
}

fn deleted_vault(vault: &Vault) -> DeletedVault {
    DeletedVault {
        id: Some(format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
            vault.id.subscription_id(),
            vault.location,
            vault.name
        )),
        name: vault.name.clone(),
        resource_type: Some("Microsoft.KeyVault/deletedVaults".into()),
        properties: DeletedVaultProperties {
            vault_id: Some(vault.id.clone()),
            location: Some(vault.location.clone()),
            deletion_date: None,
            scheduled_purge_date: None,
            tags: vault.tags.clone(),
            purge_protection_enabled: Some(vault.properties.enable_purge_protection == Some(true)),
        },
    }
}

fn merge_policies(
    policies: &mut Vec<AccessPolicyEntry>,
    kind: &AccessPolicyUpdateKind,
    given: &[AccessPolicyEntry],
) {
    for entry in given {
        let existing = policies
            .iter_mut()
            .find(|p| p.object_id == entry.object_id && p.application_id == entry.application_id);
        match (kind, existing) {
            (AccessPolicyUpdateKind::Add, Some(p)) => {
                for k in &entry.permissions.keys {
                    if !p.permissions.keys.contains(k) {
                        p.permissions.keys.push(k.clone());
                    }
                }
            }
            (AccessPolicyUpdateKind::Replace, Some(p)) => p.permissions = entry.permissions.clone(),
            (AccessPolicyUpdateKind::Remove, Some(p)) => p
                .permissions
                .keys
                .retain(|k| !entry.permissions.keys.contains(k)),
            (AccessPolicyUpdateKind::Add | AccessPolicyUpdateKind::Replace, None) => {
                policies.push(entry.clone())
            }
            _ => {}
        }
    }
    if matches!(kind, AccessPolicyUpdateKind::Remove) {
        policies.retain(|p| {
            !(given.iter().any(|g| g.object_id == p.object_id)
                && p.permissions == Default::default())
        });
    }
}

#[async_trait::async_trait]
impl KeyVaultManagement for MemoryAzure {
    async fn check_name_availability(
        &self,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<CheckNameAvailabilityResult> {
        Ok(
            self.call("vaults.check_name_availability", options.as_ref(), |s| {
                let taken = s.taken_elsewhere.contains(&lower(name))
                    || s.vaults.get(&lower(name)).is_some_and(|r| !r.deleted);
                Ok(CheckNameAvailabilityResult {
                    name_available: !taken,
                    reason: taken.then_some(NameUnavailableReason::AlreadyExists),
                    message: taken.then(|| format!("The vault name '{name}' is already in use.")),
                })
            })?,
        )
    }

    async fn create_or_update(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        parameters: &VaultCreateParameters,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vault> {
        Ok(self.write("vaults.create_or_update", options.as_ref(), |s| {
            s.require_group(rg)?;
            let parameters = wire(parameters);
            let conflict = |m: String| service_error(409, "VaultAlreadyExists", None, &m);
            if s.taken_elsewhere.contains(&lower(name)) {
                return Err(conflict(format!("The vault name '{name}' is already in use.")));
            }
            let id = s.vault_id(rg, name);
            let existing = s.vaults.get(&lower(name)).cloned();
            let mut properties = parameters.properties.clone();
            if let Some(record) = &existing {
                if record.deleted {
                    return Err(conflict(format!("A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Vault name: {name}")));
                }
                if record.vault.id != id {
                    return Err(conflict(format!("The vault name '{name}' is already in use.")));
                }
                let old = &record.vault.properties;
                if old.enable_purge_protection == Some(true) {
                    properties.enable_purge_protection = Some(true);
                }
                if old.enable_soft_delete != Some(false) {
                    properties.enable_soft_delete = Some(true);
                }
            } else {
                if properties.access_policies.is_none() && properties.enable_rbac_authorization != Some(true) {
                    return Err(bad_request("BadRequest", "The parameter accessPolicies is not specified.".into()));
                }
                properties.enable_soft_delete.get_or_insert(true);
                properties.soft_delete_retention_in_days.get_or_insert(90);
                properties.enable_rbac_authorization.get_or_insert(false);
                properties.network_acls.get_or_insert_with(NetworkRuleSet::allow_all);
            }
            properties.access_policies.get_or_insert_with(Vec::new);
            properties.vault_uri = Some(VaultUrl::new(name, VAULT_DNS_SUFFIX).map_err(|e| bad_request("BadRequest", e.to_string()))?);
            properties.provisioning_state = Some("Succeeded".into());
            properties.create_mode = None;
            let vault = Vault {
                id,
                name: name.clone(),
                resource_type: Some("Microsoft.KeyVault/vaults".into()),
                location: parameters.location.clone(),
                tags: parameters.tags.clone(),
                properties,
            };
            s.vaults.insert(lower(name), VaultRecord { vault: vault.clone(), deleted: false });
            Ok(vault)
        })?)
    }

    async fn get(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vault> {
        Ok(self.call("vaults.get", options.as_ref(), |s| {
            s.live_vault(rg, name).cloned()
        })?)
    }

    async fn update(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        patch: &VaultPatch,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vault> {
        Ok(self.write("vaults.update", options.as_ref(), |s| {
            let patch = wire(patch);
            let vault = s.live_vault_mut(rg, name)?;
            if let Some(tags) = patch.tags {
                vault.tags = tags;
            }
            if let Some(p) = patch.properties {
                let v = &mut vault.properties;
                if p.enable_soft_delete == Some(false) && v.enable_soft_delete != Some(false) {
                    return Err(bad_request(
                        "BadRequest",
                        "Soft delete cannot be turned off once enabled.".into(),
                    ));
                }
                if let Some(x) = p.tenant_id {
                    v.tenant_id = x;
                }
                if let Some(x) = p.sku {
                    v.sku = x;
                }
                if let Some(x) = p.access_policies {
                    v.access_policies = Some(x);
                }
                if let Some(x) = p.enable_soft_delete {
                    v.enable_soft_delete = Some(x);
                }
                if let Some(x) = p.enable_rbac_authorization {
                    v.enable_rbac_authorization = Some(x);
                }
                if let Some(x) = p.soft_delete_retention_in_days {
                    v.soft_delete_retention_in_days = Some(x);
                }
                if let Some(x) = p.enable_purge_protection {
                    v.enable_purge_protection = Some(x);
                }
                if let Some(x) = p.network_acls {
                    v.network_acls = Some(x);
                }
                if let Some(x) = p.public_network_access {
                    v.public_network_access = Some(x);
                }
                if let Some(x) = p.enabled_for_deployment {
                    v.enabled_for_deployment = Some(x);
                }
                if let Some(x) = p.enabled_for_disk_encryption {
                    v.enabled_for_disk_encryption = Some(x);
                }
                if let Some(x) = p.enabled_for_template_deployment {
                    v.enabled_for_template_deployment = Some(x);
                }
            }
            Ok(vault.clone())
        })?)
    }

    async fn delete(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<()> {
        Ok(self.write("vaults.delete", options.as_ref(), |s| {
            let Ok(vault) = s.live_vault(rg, name).cloned() else {
                return Ok(());
            };
            if vault.properties.enable_soft_delete == Some(false) {
                s.vaults.remove(&lower(name));
                s.keys.remove(&lower(name));
            } else if let Some(record) = s.vaults.get_mut(&lower(name)) {
                record.deleted = true;
            }
            Ok(())
        })?)
    }

    async fn get_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<DeletedVault> {
        Ok(self.call("vaults.get_deleted", options.as_ref(), |s| {
            match s.vaults.get(&lower(name)) {
                Some(r) if r.deleted && &r.vault.location == location => {
                    Ok(deleted_vault(&r.vault))
                }
                _ => Err(not_found(
                    "ResourceNotFound",
                    format!(
                        "The Resource 'Microsoft.KeyVault/deletedVaults/{name}' was not found."
                    ),
                )),
            }
        })?)
    }

    async fn list(&self, options: Option<CallOptions<'_>>) -> aci_cmk_keyvault::Result<Vec<Vault>> {
        Ok(self.call("vaults.list", options.as_ref(), |s| {
            let subscription = s.subscription.clone();
            Ok(s.vaults
                .values()
                .filter(|r| !r.deleted && r.vault.id.subscription_id() == &subscription)
                .map(|r| r.vault.clone())
                .collect())
        })?)
    }

    async fn list_deleted(
        &self,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vec<DeletedVault>> {
        Ok(self.call("vaults.list_deleted", options.as_ref(), |s| {
            Ok(s.vaults
                .values()
                .filter(|r| r.deleted)
                .map(|r| deleted_vault(&r.vault))
                .collect())
        })?)
    }

    async fn recover(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        location: &Location,
        tenant_id: &TenantId,
        sku: &Sku,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vault> {
        let _ = (tenant_id, sku);
        Ok(self.write("vaults.recover", options.as_ref(), |s| {
            s.require_group(rg)?;
            let id = s.vault_id(rg, name);
            match s.vaults.get_mut(&lower(name)) {
                Some(r) if r.deleted && &r.vault.location == location && r.vault.id == id => {
                    r.deleted = false;
                    Ok(r.vault.clone())
                }
                Some(r) if r.deleted => Err(bad_request(
                    "BadRequest",
                    format!(
                        "The deleted vault {name} was in {} at {}; recover it there.",
                        r.vault.id, r.vault.location
                    ),
                )),
                _ => Err(not_found(
                    "DeletedVaultNotFound",
                    format!(
                        "No deleted vault named {name} was found to recover (createMode {}).",
                        CreateMode::Recover.as_str()
                    ),
                )),
            }
        })?)
    }

    async fn purge_deleted(
        &self,
        location: &Location,
        name: &VaultName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<()> {
        Ok(self.write("vaults.purge_deleted", options.as_ref(), |s| match s.vaults.get(&lower(name)) {
            Some(r) if r.deleted && &r.vault.location == location => {
                if r.vault.properties.enable_purge_protection == Some(true) {
                    return Err(service_error(409, "Conflict", None, &format!("Operation 'DeletedVaultPurge' is not allowed: vault {name} has purge protection on and is purged only at its scheduled purge date.")));
                }
                s.vaults.remove(&lower(name));
                s.keys.remove(&lower(name));
                Ok(())
            }
            _ => Err(not_found("ResourceNotFound", format!("The Resource 'Microsoft.KeyVault/deletedVaults/{name}' was not found."))),
        })?)
    }

    async fn update_access_policy(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        kind: AccessPolicyUpdateKind,
        policies: &[AccessPolicyEntry],
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vec<AccessPolicyEntry>> {
        Ok(self.write(
            &format!("vaults.update_access_policy.{}", kind.as_str()),
            options.as_ref(),
            |s| {
                let vault = s.live_vault_mut(rg, name)?;
                let list = vault
                    .properties
                    .access_policies
                    .get_or_insert_with(Vec::new);
                merge_policies(list, &kind, policies);
                Ok(list.clone())
            },
        )?)
    }

    async fn update_network_rules(
        &self,
        rg: &ResourceGroupName,
        name: &VaultName,
        rules: &NetworkRuleSet,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vault> {
        Ok(
            self.write("vaults.update_network_rules", options.as_ref(), |s| {
                let vault = s.live_vault_mut(rg, name)?;
                let mut rules = wire(rules);
                for rule in &mut rules.ip_rules {
                    if !rule.value.contains('/') {
                        rule.value.push_str("/32");
                    }
                }
                vault.properties.network_acls = Some(rules);
                Ok(vault.clone())
            })?,
        )
    }
}

#[async_trait::async_trait]
impl KeyVaultKeys for MemoryAzure {
    async fn create_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        key_options: CreateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyProperties> {
        Ok(self.write("keys.create_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::Create)?;
            let version = State::new_version();
            let now = OffsetDateTime::now_utc();
            let record = KeyRecord {
                kid: vault.key_id(name, Some(&version)),
                kty: key_options.kty,
                bits: key_options.size.bits(),
                key_ops: key_options.key_ops.clone(),
                enabled: key_options.enabled.unwrap_or(true),
                not_before: key_options.not_before,
                expires: key_options.expires,
                created: now,
                updated: now,
                secret: Uuid::new_v4().as_bytes().to_vec(),
            };
            let properties = record.properties();
            s.keys
                .entry(lower(vault.vault_name()))
                .or_default()
                .entry(lower(name))
                .or_default()
                .push(record);
            Ok(properties)
        })?)
    }

    async fn get_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyProperties> {
        Ok(self.call("keys.get_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::Get)?;
            Ok(s.key_version_mut(vault, name, version)?.properties())
        })?)
    }

    async fn list_key_versions(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<Vec<KeyProperties>> {
        Ok(self.call("keys.list_key_versions", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::List)?;
            Ok(s.key_versions(vault, name)?
                .iter()
                .map(|k| {
                    let mut p = k.properties();
                    p.kty = None;
                    p.key_ops = Vec::new();
                    p.n = None;
                    p.e = None;
                    p
                })
                .collect())
        })?)
    }

    async fn update_key_attributes(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        update: UpdateKeyOptions,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyProperties> {
        Ok(
            self.write("keys.update_key_attributes", options.as_ref(), |s| {
                s.authorize(vault, KeyPermission::Update)?;
                let key = s.key_version_mut(vault, name, version)?;
                if let Some(enabled) = update.enabled {
                    key.enabled = enabled;
                }
                if let Some(ops) = update.key_ops {
                    key.key_ops = ops;
                }
                if let Some(nbf) = update.not_before {
                    key.not_before = Some(nbf);
                }
                if let Some(exp) = update.expires {
                    key.expires = Some(exp);
                }
                key.updated = OffsetDateTime::now_utc();
                Ok(key.properties())
            })?,
        )
    }

    async fn delete_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<DeletedKeyInfo> {
        Ok(self.write("keys.delete_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::Delete)?;
            let latest = s.key_version_mut(vault, name, None)?.properties();
            if let Some(keys) = s.keys.get_mut(&lower(vault.vault_name())) {
                keys.remove(&lower(name));
            }
            s.rotation_policies
                .remove(&(lower(vault.vault_name()), lower(name)));
            let mut deleted = DeletedKeyInfo::new(latest);
            deleted.recovery_id = Some(format!("{vault}/deletedkeys/{name}"));
            Ok(deleted)
        })?)
    }

    async fn wrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: Option<&KeyVersion>,
        algorithm: WrapAlgorithm,
        key: &SecretBytes,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<WrappedKey> {
        Ok(self.call("keys.wrap_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::WrapKey)?;
            let record = s.usable_key(vault, name, version)?;
            Ok(WrappedKey::new(
                record.kid.clone(),
                algorithm,
                record.xor(key.bytes()),
            ))
        })?)
    }

    async fn unwrap_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        version: &KeyVersion,
        algorithm: WrapAlgorithm,
        encrypted_key: &[u8],
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<SecretBytes> {
        let _ = algorithm;
        Ok(self.call("keys.unwrap_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::UnwrapKey)?;
            let record = s.usable_key(vault, name, Some(version))?;
            Ok(SecretBytes::new(record.xor(encrypted_key)))
        })?)
    }

    async fn rotate_key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyProperties> {
        Ok(self.write("keys.rotate_key", options.as_ref(), |s| {
            s.authorize(vault, KeyPermission::Rotate)?;
            let latest = s.key_version_mut(vault, name, None)?.clone();
            let now = OffsetDateTime::now_utc();
            let version = State::new_version();
            // The policy's expiryTime applies to each new version; without one it never expires.
            let expires = s.rotation_policy(vault, name).new_version_expires(now);
            let record = KeyRecord {
                kid: vault.key_id(name, Some(&version)),
                enabled: true,
                not_before: None,
                expires,
                created: now,
                updated: now,
                secret: Uuid::new_v4().as_bytes().to_vec(),
                ..latest
            };
            let properties = record.properties();
            s.keys
                .entry(lower(vault.vault_name()))
                .or_default()
                .entry(lower(name))
                .or_default()
                .push(record);
            Ok(properties)
        })?)
    }

    async fn get_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyRotationPolicy> {
        Ok(
            self.call("keys.get_rotation_policy", options.as_ref(), |s| {
                s.authorize(vault, KeyPermission::GetRotationPolicy)?;
                s.key_versions(vault, name)?;
                Ok(s.rotation_policy(vault, name))
            })?,
        )
    }

    async fn set_rotation_policy(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        policy: &KeyRotationPolicy,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_keyvault::Result<KeyRotationPolicy> {
        Ok(
            self.write("keys.set_rotation_policy", options.as_ref(), |s| {
                s.authorize(vault, KeyPermission::SetRotationPolicy)?;
                s.key_versions(vault, name)?;
                policy
                    .validate()
                    .map_err(|e| bad_request("BadParameter", e.to_string()))?;
                let key = (lower(vault.vault_name()), lower(name));
                let now = OffsetDateTime::now_utc();
                let created = s
                    .rotation_policies
                    .get(&key)
                    .and_then(|p| p.created)
                    .unwrap_or(now);
                // What the vault stores: the actions and expiry sent (read-only fields are not
                // sent), and the default Notify when the policy has none.
                let mut stored = KeyRotationPolicy::new();
                stored.lifetime_actions = policy.lifetime_actions.clone();
                stored.expiry_time = policy.expiry_time.clone();
                if !stored
                    .lifetime_actions
                    .iter()
                    .any(|a| a.action == LifetimeActionType::Notify)
                {
                    stored = stored.with_notify_before_expiry(Iso8601Duration::days(30));
                }
                stored.created = Some(created);
                stored.updated = Some(now);
                s.rotation_policies.insert(key, stored);
                Ok(s.rotation_policy(vault, name))
            })?,
        )
    }
}

#[async_trait::async_trait]
impl ManagedIdentities for MemoryAzure {
    async fn create_or_update(
        &self,
        rg: &ResourceGroupName,
        name: &IdentityName,
        location: &Location,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<UserAssignedIdentity> {
        Ok(
            self.write("identities.create_or_update", options.as_ref(), |s| {
                s.require_group(rg)?;
                let key = (lower(rg), lower(name));
                if let Some(existing) = s.identities.get_mut(&key) {
                    existing.location = location.clone();
                    existing.tags = tags.clone();
                    return Ok(existing.clone());
                }
                let identity = UserAssignedIdentity {
                    id: ResourceId::resource(
                        &s.subscription,
                        rg,
                        "Microsoft.ManagedIdentity",
                        "userAssignedIdentities",
                        name.as_str(),
                    )
                    .unwrap_or_else(|e| unreachable!("{e}")),
                    name: name.clone(),
                    location: location.clone(),
                    tags: tags.clone(),
                    principal_id: PrincipalId::from(Uuid::new_v4()),
                    client_id: ClientId::from(Uuid::new_v4()),
                    tenant_id: s.tenant.clone(),
                };
                s.principal_born
                    .insert(identity.principal_id.clone(), Instant::now());
                s.identities.insert(key, identity.clone());
                Ok(identity)
            })?,
        )
    }

    async fn get(
        &self,
        rg: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<UserAssignedIdentity> {
        Ok(self.call("identities.get", options.as_ref(), |s| {
            s.identities.get(&(lower(rg), lower(name.as_str()))).cloned().ok_or_else(|| {
                not_found("ResourceNotFound", format!("The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{name}' under resource group '{rg}' was not found."))
            })
        })?)
    }

    async fn delete(
        &self,
        rg: &ResourceGroupName,
        name: &IdentityName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<()> {
        Ok(self.write("identities.delete", options.as_ref(), |s| {
            s.identities.remove(&(lower(rg), lower(name.as_str())));
            Ok(())
        })?)
    }
}

#[async_trait::async_trait]
impl RoleAssignments for MemoryAzure {
    async fn create(
        &self,
        scope: &ResourceId,
        role: RoleDefinitionId,
        principal_id: &PrincipalId,
        principal_type: PrincipalType,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<RoleAssignment> {
        Ok(self.write("role_assignments.create", options.as_ref(), |s| {
            let young = s.principal_born.get(principal_id).is_some_and(|born| born.elapsed() < s.replication_delay);
            if young || !s.principal_exists(principal_id) {
                return Err(bad_request(
                    "PrincipalNotFound",
                    format!("Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.", principal_id.as_str().replace('-', ""), s.tenant),
                ));
            }
            if let Some((existing, _)) = s.assignments.iter().find(|(a, _)| {
                a.is_at_scope(scope) && &a.properties.principal_id == principal_id && a.role() == Some(role)
            }) {
                return Ok(existing.clone());
            }
            let name = assignment_name(scope, role, principal_id);
            let assignment = RoleAssignment {
                id: format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", scope.as_str().trim_end_matches('/'), name),
                name,
                resource_type: Some("Microsoft.Authorization/roleAssignments".into()),
                properties: RoleAssignmentProperties {
                    role_definition_id: format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                    principal_id: principal_id.clone(),
                    principal_type: Some(principal_type),
                    scope: Some(scope.to_string()),
                    description: None,
                },
            };
            s.assignments.push((assignment.clone(), Instant::now()));
            Ok(assignment)
        })?)
    }

    async fn list_for_principal(
        &self,
        scope: &ResourceId,
        principal_id: &PrincipalId,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<Vec<RoleAssignment>> {
        Ok(self.call(
            "role_assignments.list_for_principal",
            options.as_ref(),
            |s| {
                let wanted = lower(scope.as_str());
                Ok(s.assignments
                    .iter()
                    .filter(|(a, _)| {
                        let own = lower(a.properties.scope.as_deref().unwrap_or_default());
                        &a.properties.principal_id == principal_id
                            && (wanted == own
                                || wanted.starts_with(&format!("{own}/"))
                                || own.starts_with(&format!("{wanted}/")))
                    })
                    .map(|(a, _)| a.clone())
                    .collect())
            },
        )?)
    }

    async fn list_at_scope(
        &self,
        scope: &ResourceId,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<Vec<RoleAssignment>> {
        Ok(
            self.call("role_assignments.list_at_scope", options.as_ref(), |s| {
                let wanted = lower(scope.as_str());
                Ok(s.assignments
                    .iter()
                    .filter(|(a, _)| {
                        let own = lower(a.properties.scope.as_deref().unwrap_or_default());
                        wanted == own
                            || wanted.starts_with(&format!("{own}/"))
                            || own.starts_with(&format!("{wanted}/"))
                    })
                    .map(|(a, _)| a.clone())
                    .collect())
            })?,
        )
    }

    async fn get_role_definition(
        &self,
        role: RoleDefinitionId,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<RoleDefinition> {
        Ok(self.call(
            "role_assignments.get_role_definition",
            options.as_ref(),
            |_| {
                builtin_role_definition(role).ok_or_else(|| {
                    not_found(
                        "RoleDefinitionDoesNotExist",
                        format!("The specified role definition with ID '{role}' does not exist."),
                    )
                })
            },
        )?)
    }

    async fn delete(
        &self,
        scope: &ResourceId,
        name: &Uuid,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_identity::Result<()> {
        Ok(
            self.write("role_assignments.delete", options.as_ref(), |s| {
                s.assignments
                    .retain(|(a, _)| !(a.is_at_scope(scope) && &a.name == name));
                Ok(())
            })?,
        )
    }
}

#[async_trait::async_trait]
impl ContainerGroups for MemoryAzure {
    async fn create_or_update(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        group: &ContainerGroup,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<ContainerGroup> {
        Ok(
            self.write("container_groups.create_or_update", options.as_ref(), |s| {
                s.put_group(rg, name.as_str(), group)
            })?,
        )
    }

    async fn get(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<ContainerGroup> {
        Ok(self.call("container_groups.get", options.as_ref(), |s| {
            s.get_group(rg, name.as_str())
        })?)
    }

    async fn update_tags(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        tags: &BTreeMap<String, String>,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<ContainerGroup> {
        Ok(
            self.write("container_groups.update_tags", options.as_ref(), |s| {
                s.get_group(rg, name.as_str())?;
                let stored = s
                    .groups
                    .get_mut(&(lower(rg), lower(name.as_str())))
                    .unwrap_or_else(|| unreachable!("checked above"));
                stored.tags = tags.clone();
                Ok(without_secrets(stored.clone()))
            })?,
        )
    }

    async fn delete(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(
            self.write("container_groups.delete", options.as_ref(), |s| {
                s.groups.remove(&(lower(rg), lower(name.as_str())));
                Ok(())
            })?,
        )
    }

    async fn list_by_resource_group(
        &self,
        rg: &ResourceGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Vec<ContainerGroup>> {
        Ok(self.call(
            "container_groups.list_by_resource_group",
            options.as_ref(),
            |s| {
                Ok(s.groups
                    .iter()
                    .filter(|((g, _), _)| g == &lower(rg))
                    .map(|(_, v)| without_secrets(v.clone()))
                    .collect())
            },
        )?)
    }

    async fn list(
        &self,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Vec<ContainerGroup>> {
        Ok(self.call("container_groups.list", options.as_ref(), |s| {
            Ok(s.groups.values().cloned().map(without_secrets).collect())
        })?)
    }

    async fn restart(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(
            self.write("container_groups.restart", options.as_ref(), |s| {
                s.get_group(rg, name.as_str()).map(drop)
            })?,
        )
    }

    async fn stop(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(self.write("container_groups.stop", options.as_ref(), |s| {
            s.get_group(rg, name.as_str()).map(drop)
        })?)
    }

    async fn start(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(self.write("container_groups.start", options.as_ref(), |s| {
            s.get_group(rg, name.as_str()).map(drop)
        })?)
    }

    async fn logs(
        &self,
        rg: &ResourceGroupName,
        name: &ContainerGroupName,
        container: &ContainerName,
        log_options: LogOptions,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<String> {
        let _ = log_options;
        Ok(self.call("container_groups.logs", options.as_ref(), |s| {
            s.get_group(rg, name.as_str())?;
            Ok(format!("{container} started\n"))
        })?)
    }
}

#[async_trait::async_trait]
impl Deployments for MemoryAzure {
    async fn validate(
        &self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Value> {
        let _ = name;
        Ok(self.call("deployments.validate", options.as_ref(), |s| {
            s.require_group(rg)?;
            if request
                .template
                .get("resources")
                .and_then(Value::as_array)
                .is_none()
            {
                return Err(bad_request(
                    "InvalidTemplate",
                    "The template has no resources.".into(),
                ));
            }
            Ok(json!({"properties": {"provisioningState": "Succeeded"}}))
        })?)
    }

    async fn create_or_update(
        &self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        request: &DeploymentRequest,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Deployment> {
        Ok(
            self.write("deployments.create_or_update", options.as_ref(), |s| {
                s.deploy(rg, name, request)
            })?,
        )
    }

    async fn get(
        &self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Deployment> {
        Ok(self.call("deployments.get", options.as_ref(), |s| {
            s.deployments
                .get(&(lower(rg), lower(name.as_str())))
                .cloned()
                .ok_or_else(|| {
                    not_found(
                        "DeploymentNotFound",
                        format!("Deployment '{name}' could not be found."),
                    )
                })
        })?)
    }

    async fn delete(
        &self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<()> {
        Ok(self.write("deployments.delete", options.as_ref(), |s| {
            s.deployments.remove(&(lower(rg), lower(name.as_str())));
            Ok(())
        })?)
    }

    async fn list_operations(
        &self,
        rg: &ResourceGroupName,
        name: &DeploymentName,
        options: Option<CallOptions<'_>>,
    ) -> aci_cmk_aci::Result<Vec<DeploymentOperation>> {
        Ok(
            self.call("deployments.list_operations", options.as_ref(), |s| {
                s.deployments
                    .get(&(lower(rg), lower(name.as_str())))
                    .map(|_| Vec::new())
                    .ok_or_else(|| {
                        not_found(
                            "DeploymentNotFound",
                            format!("Deployment '{name}' could not be found."),
                        )
                    })
            })?,
        )
    }
}
