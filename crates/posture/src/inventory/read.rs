//! Takes the [`Inventory`]: the lists first (container groups, vaults, the ACI service
//! principal), then one read of each distinct vault, key, identity and role the groups name,
//! every read behind one bound on how many run at once. Reads only.
//!
//! Requests grow with list pages and distinct vaults, keys, identities and roles, never with
//! groups × checks: per distinct key, its current version, then (the vault's authentication
//! challenge settled by that first answer) its version list and its rotation policy, and each
//! pinned version that is not the current one; per distinct encryption
//! identity one read; per RBAC vault one list of its role assignments; per distinct role one
//! definition; the deleted vaults listed once if a vault is missing. A group is read on its own
//! only when a list entry names a secret-looking environment variable without a value (lists
//! may carry no values), to tell a plain value from a secure one.

use super::{
    IdentityState, Inventory, KeyState, VaultState,
    groups::{GroupKey, GroupRecord},
};
use crate::{
    AuditOptions, AuditScope, Error, Result, checks::environment::looks_secret, report::Gap,
};
use aci_cmk_core::{
    CallOptions,
    key_id::VaultUrl,
    names::{ContainerGroupName, KeyName, KeyVersion},
};
use aci_cmk_encrypted_deployment::Backends;
use aci_cmk_identity::ACI_FIRST_PARTY_APP_ID;
use futures::future::join_all;
use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    sync::{Mutex, PoisonError},
};
use tokio::sync::Semaphore;

/// The audit's reads: the backends, the bound, the count of calls by kind, the gaps.
pub(crate) struct Reader<'a> {
    backends: &'a Backends,
    options: &'a AuditOptions,
    run: &'a str,
    gate: Semaphore,
    calls: Mutex<BTreeMap<&'static str, u32>>,
    gaps: Mutex<Vec<Gap>>,
}

impl<'a> Reader<'a> {
    pub fn new(backends: &'a Backends, options: &'a AuditOptions, run: &'a str) -> Self {
        Self {
            backends,
            options,
            run,
            gate: Semaphore::new(options.concurrency.max(1)),
            calls: Mutex::new(BTreeMap::new()),
            gaps: Mutex::new(Vec::new()),
        }
    }

    /// The call options of a read: client request id `aci-cmk/{run}/audit/{part}`.
    fn call(&self, part: &str) -> Option<CallOptions<'static>> {
        Some(
            CallOptions::default()
                .with_client_request_id(format!("aci-cmk/{}/audit/{part}", self.run)),
        )
    }

    /// Runs `read` once a permit is free, counting it as a call of `kind`.
    async fn gated<F: Future>(&self, kind: &'static str, read: F) -> F::Output {
        let _permit = self.gate.acquire().await.ok();
        *self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind)
            .or_default() += 1;
        read.await
    }

    fn gap(&self, resource: impl Into<String>, what: &str, reason: impl ToString) {
        self.gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Gap::new(resource, what, reason.to_string()));
    }

    /// The calls made, by kind.
    pub fn calls(&self) -> BTreeMap<String, u32> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    /// Reads everything the groups in `scope` name.
    pub async fn take(&self, scope: &AuditScope) -> Result<Inventory> {
        let now = self.options.clock.now();
        let (groups, listed_vaults, aci) =
            futures::join!(self.list_groups(scope), self.list_vaults(), self.aci());
        let listed = groups?;
        let listed_vaults = listed_vaults?;

        let mut groups = Vec::new();
        for g in &listed {
            match GroupRecord::from_group(g, false) {
                Ok(record) => groups.push(record),
                Err(why) => self.gap(
                    g.id.clone().or_else(|| g.name.clone()).unwrap_or_default(),
                    "container group",
                    why,
                ),
            }
        }

        let (mut vaults, undetermined) = self.find_vaults(&groups, listed_vaults).await;
        let rbac_vaults: Vec<String> = vaults
            .iter()
            .filter_map(|(name, v)| match v {
                VaultState::Live { vault, .. }
                    if vault.properties.enable_rbac_authorization == Some(true) =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();

        // The distinct keys (with the versions groups pin), identities, and the groups to read
        // on their own for their environment values.
        let mut keys: BTreeMap<(String, String), (GroupKey, BTreeSet<String>)> = BTreeMap::new();
        let mut identities = BTreeMap::new();
        for g in &groups {
            let Some(e) = &g.encryption else { continue };
            if matches!(vaults.get(&e.vault()), Some(VaultState::SoftDeleted(_))) {
                continue;
            }
            keys.entry(e.key_pair())
                .or_insert_with(|| (e.clone(), BTreeSet::new()))
                .1
                .insert(e.version.as_str().to_ascii_lowercase());
            if let Some(id) = &e.identity {
                identities.insert(id.as_str().to_ascii_lowercase(), id.clone());
            }
        }
        let markers = &self.options.secret_name_markers;
        let env_reads: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.env
                    .iter()
                    .any(|v| v.plain.is_none() && looks_secret(&v.name, markers))
            })
            .map(|(i, _)| i)
            .collect();

        let key_reads = join_all(
            keys.values()
                .map(|(k, versions)| self.key(&k.vault_url, &k.key, versions)),
        );
        let identity_reads = join_all(identities.values().map(|id| async move {
            let state = self.identity(id).await;
            (id.as_str().to_ascii_lowercase(), state)
        }));
        let assignment_reads = join_all(rbac_vaults.iter().map(|name| {
            let vault = match vaults.get(name) {
                Some(VaultState::Live { vault, .. }) => Some(vault.id.clone()),
                _ => None,
            };
            async move {
                let Some(id) = vault else {
                    return (name.clone(), None);
                };
                let listed = self
                    .gated(
                        "role_assignments.list_at_scope",
                        self.backends.role_assignments.list_at_scope(
                            &id,
                            self.call(&format!("vault/{name}/role-assignments")),
                        ),
                    )
                    .await;
                match listed {
                    Ok(list) => (name.clone(), Some(list)),
                    Err(e) => {
                        self.gap(id.as_str(), "role assignments", e);
                        (name.clone(), None)
                    }
                }
            }
        }));
        let group_reads = join_all(env_reads.iter().map(|&i| self.reread(&groups[i])));
        let (key_states, identity_states, assignments, reread) =
            futures::join!(key_reads, identity_reads, assignment_reads, group_reads);

        for (i, record) in env_reads.into_iter().zip(reread) {
            if let Some(record) = record {
                groups[i].env = record.env;
            }
        }
        for (name, list) in assignments {
            if let Some(VaultState::Live { assignments, .. }) = vaults.get_mut(&name) {
                *assignments = list;
            }
        }
        let mut key_map = BTreeMap::new();
        let mut answered: BTreeSet<String> = BTreeSet::new();
        for ((pair, _), (state, vault_answered)) in keys.iter().zip(key_states) {
            if vault_answered {
                answered.insert(pair.0.clone());
            }
            key_map.insert(pair.clone(), state);
        }
        // A vault outside the subscription's lists: gone, unless its data plane answered.
        for g in &groups {
            let Some(e) = &g.encryption else { continue };
            let name = e.vault();
            if vaults.contains_key(&name) || undetermined.contains(&name) {
                continue;
            }
            if answered.contains(&name) {
                self.gap(
                    e.vault_url.as_str(),
                    "vault settings",
                    "the vault is not one of the subscription's: its firewall, protection and access were not audited",
                );
                vaults.insert(name, VaultState::Elsewhere);
            } else if key_map.contains_key(&e.key_pair()) {
                vaults.insert(name, VaultState::Gone);
            }
        }

        let role_definitions = self.roles(&vaults).await;
        let gaps = std::mem::take(&mut *self.gaps.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(Inventory {
            now,
            groups,
            vaults,
            keys: key_map,
            identities: identity_states
                .into_iter()
                .filter_map(|(id, state)| Some((id, state?)))
                .collect(),
            aci_principal: aci,
            role_definitions,
            gaps,
        })
    }

    async fn list_groups(
        &self,
        scope: &AuditScope,
    ) -> Result<Vec<aci_cmk_aci::models::ContainerGroup>> {
        let groups = &self.backends.container_groups;
        if scope.resource_groups.is_empty() {
            return self
                .gated("container_groups.list", groups.list(self.call("groups")))
                .await
                .map_err(|source| Error::ListGroups {
                    scope: "the subscription".into(),
                    source: Box::new(source),
                });
        }
        let lists = join_all(scope.resource_groups.iter().map(|rg| async move {
            self.gated(
                "container_groups.list_by_resource_group",
                groups.list_by_resource_group(rg, self.call(&format!("groups/{rg}"))),
            )
            .await
            .map_err(|source| Error::ListGroups {
                scope: format!("resource group {rg}"),
                source: Box::new(source),
            })
        }))
        .await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?);
        }
        Ok(all)
    }

    async fn list_vaults(&self) -> Result<Vec<aci_cmk_keyvault::models::Vault>> {
        self.gated(
            "vaults.list",
            self.backends.vaults.list(self.call("vaults")),
        )
        .await
        .map_err(|source| Error::ListVaults {
            source: Box::new(source),
        })
    }

    async fn aci(&self) -> Option<Option<aci_cmk_identity::directory::ServicePrincipal>> {
        let app = ACI_FIRST_PARTY_APP_ID.parse().ok()?;
        let read = self
            .gated(
                "directory.get_service_principal_by_app_id",
                self.backends
                    .directory
                    .get_service_principal_by_app_id(&app, self.call("aci-service-principal")),
            )
            .await;
        match read {
            Ok(sp) => Some(sp),
            Err(e) => {
                self.gap(
                    format!("servicePrincipals(appId='{ACI_FIRST_PARTY_APP_ID}')"),
                    "the ACI first-party service principal",
                    e,
                );
                None
            }
        }
    }

    /// The vaults the groups name: live ones from the subscription's list, the others looked
    /// up among the soft-deleted vaults (listed once, only if one is missing); and the names
    /// whose state could not be determined (the deleted vaults could not be listed).
    async fn find_vaults(
        &self,
        groups: &[GroupRecord],
        listed: Vec<aci_cmk_keyvault::models::Vault>,
    ) -> (BTreeMap<String, VaultState>, BTreeSet<String>) {
        let named: BTreeSet<String> = groups
            .iter()
            .filter_map(|g| g.encryption.as_ref().map(GroupKey::vault))
            .collect();
        let mut by_name: BTreeMap<String, aci_cmk_keyvault::models::Vault> = listed
            .into_iter()
            .map(|v| {
                let name = v
                    .properties
                    .vault_uri
                    .as_ref()
                    .map(|u| u.vault_name().as_str())
                    .unwrap_or(v.name.as_str())
                    .to_ascii_lowercase();
                (name, v)
            })
            .collect();
        let mut vaults = BTreeMap::new();
        let mut absent = Vec::new();
        for name in named {
            match by_name.remove(&name) {
                Some(v) => {
                    vaults.insert(
                        name,
                        VaultState::Live {
                            vault: Box::new(v),
                            assignments: None,
                        },
                    );
                }
                None => absent.push(name),
            }
        }
        if absent.is_empty() {
            return (vaults, BTreeSet::new());
        }
        let deleted = self
            .gated(
                "vaults.list_deleted",
                self.backends
                    .vaults
                    .list_deleted(self.call("deleted-vaults")),
            )
            .await;
        match deleted {
            Ok(deleted) => {
                for name in absent {
                    if let Some(d) = deleted
                        .iter()
                        .find(|d| d.name.as_str().eq_ignore_ascii_case(&name))
                    {
                        vaults.insert(name, VaultState::SoftDeleted(Box::new(d.clone())));
                    }
                }
            }
            Err(e) => {
                for name in &absent {
                    self.gap(name.as_str(), "whether the vault is soft-deleted", &e);
                }
                return (vaults, absent.into_iter().collect());
            }
        }
        (vaults, BTreeSet::new())
    }

    /// A key: its current version, then its versions and its rotation policy (not when the
    /// key or its vault is missing), then each pinned version that is not the current one;
    /// and whether the vault's data plane answered at all.
    async fn key(
        &self,
        vault: &VaultUrl,
        name: &KeyName,
        pinned: &BTreeSet<String>,
    ) -> (KeyState, bool) {
        let keys = &self.backends.keys;
        let part = format!("key/{}/{name}", vault.vault_name());
        let resource = vault.key_id(name, None).to_string();
        // The current version first: the vault's first answer settles Key Vault's
        // authentication challenge for the reads after it (three at once would each be
        // challenged), and a missing key or vault needs no more reads.
        let latest = self
            .gated(
                "keys.get_key",
                keys.get_key(vault, name, None, self.call(&part)),
            )
            .await;
        let settled = match &latest {
            Err(e) => e.code() == Some("KeyNotFound") || !vault_answered(e),
            Ok(_) => false,
        };
        let (versions, policy) = if settled {
            (None, None)
        } else {
            let (versions, policy) = futures::join!(
                self.gated(
                    "keys.list_key_versions",
                    keys.list_key_versions(vault, name, self.call(&part))
                ),
                self.gated(
                    "keys.get_rotation_policy",
                    keys.get_rotation_policy(vault, name, self.call(&part))
                ),
            );
            (Some(versions), Some(policy))
        };
        let mut state = KeyState::default();
        let mut answered = latest.is_ok()
            || versions.as_ref().is_some_and(Result::is_ok)
            || policy.as_ref().is_some_and(Result::is_ok);
        let mut errors = Vec::new();
        match latest {
            Ok(k) => state.latest = Some(k),
            Err(e) => errors.push(("the key's current version", e)),
        }
        match versions {
            Some(Ok(v)) => state.versions = Some(v),
            Some(Err(e)) => errors.push(("the key's versions", e)),
            None => {}
        }
        match policy {
            Some(Ok(p)) => state.rotation_policy = Some(p),
            Some(Err(e)) => errors.push(("the key's rotation policy", e)),
            None => {}
        }
        for (what, e) in errors {
            answered |= vault_answered(&e);
            if e.code() == Some("KeyNotFound") {
                state.missing = true;
            } else if vault_answered(&e) {
                self.gap(resource.as_str(), what, e);
            }
        }
        let latest_version = state
            .latest
            .as_ref()
            .map(|l| l.version.as_str().to_ascii_lowercase());
        let listed = |v: &str| {
            state.versions.as_ref().is_none_or(|all| {
                all.iter()
                    .any(|k| k.version.as_str().eq_ignore_ascii_case(v))
            })
        };
        let to_read: Vec<KeyVersion> = pinned
            .iter()
            .filter(|v| Some(*v) != latest_version.as_ref() && listed(v) && !state.missing)
            .filter_map(|v| v.parse().ok())
            .collect();
        let part = &part;
        let reads = join_all(to_read.iter().map(|version| async move {
            let read = self
                .gated(
                    "keys.get_key_version",
                    keys.get_key(vault, name, Some(version), self.call(part)),
                )
                .await;
            (version, read)
        }))
        .await;
        for (version, read) in reads {
            match read {
                Ok(k) => {
                    state
                        .pinned
                        .insert(version.as_str().to_ascii_lowercase(), k);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => self.gap(
                    vault.key_id(name, Some(version)).to_string(),
                    "a pinned key version",
                    e,
                ),
            }
        }
        (state, answered)
    }

    async fn identity(&self, id: &aci_cmk_core::resource_id::ResourceId) -> Option<IdentityState> {
        let Some(rg) = id.resource_group_name() else {
            self.gap(
                id.as_str(),
                "encryption identity",
                "the id names no resource group",
            );
            return None;
        };
        let name = match id.name().parse() {
            Ok(name) => name,
            Err(e) => {
                self.gap(id.as_str(), "encryption identity", e);
                return None;
            }
        };
        let read = self
            .gated(
                "identities.get",
                self.backends
                    .identities
                    .get(rg, &name, self.call(&format!("identity/{name}"))),
            )
            .await;
        match read {
            Ok(identity) => Some(IdentityState::Found(Box::new(identity))),
            Err(e) if e.is_not_found() => Some(IdentityState::Deleted),
            Err(e) => {
                self.gap(id.as_str(), "encryption identity", e);
                None
            }
        }
    }

    /// A group read on its own, for its environment values.
    async fn reread(&self, record: &GroupRecord) -> Option<GroupRecord> {
        let name: ContainerGroupName = record.group.name.parse().ok()?;
        let read = self
            .gated(
                "container_groups.get",
                self.backends.container_groups.get(
                    &record.group.resource_group,
                    &name,
                    self.call(&format!("group/{name}")),
                ),
            )
            .await;
        match read.map(|g| GroupRecord::from_group(&g, true)) {
            Ok(Ok(r)) => Some(r),
            Ok(Err(why)) => {
                self.gap(record.group.id.as_str(), "environment variables", why);
                None
            }
            Err(e) => {
                self.gap(record.group.id.as_str(), "environment variables", e);
                None
            }
        }
    }

    /// The definition of every distinct role the vaults' assignments name.
    async fn roles(
        &self,
        vaults: &BTreeMap<String, VaultState>,
    ) -> BTreeMap<String, aci_cmk_identity::role_definitions::RoleDefinition> {
        let roles: BTreeSet<String> = vaults
            .values()
            .filter_map(|v| match v {
                VaultState::Live {
                    assignments: Some(a),
                    ..
                } => Some(a),
                _ => None,
            })
            .flatten()
            .filter_map(|a| a.role().map(|r| r.to_string()))
            .collect();
        let reads = join_all(roles.iter().map(|role| async move {
            let id = role.parse().ok()?;
            let read = self
                .gated(
                    "role_assignments.get_role_definition",
                    self.backends
                        .role_assignments
                        .get_role_definition(id, self.call(&format!("role/{role}"))),
                )
                .await;
            match read {
                Ok(definition) => Some((role.clone(), definition)),
                Err(e) => {
                    self.gap(role.as_str(), "role definition", e);
                    None
                }
            }
        }))
        .await;
        reads.into_iter().flatten().collect()
    }
}

/// Whether a failed key read shows that the vault's data plane exists: any answer of the
/// service other than "no such vault" (a transport error — no DNS name — is none).
fn vault_answered(e: &aci_cmk_keyvault::Error) -> bool {
    match e.as_service() {
        Some(aci_cmk_core::Error::Transport { .. }) | None => false,
        Some(s) => s.status().is_some() && s.code() != Some("VaultNotFound"),
    }
}
