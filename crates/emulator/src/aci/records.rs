//! The container-group records: everything secret sealed under the group's data key, the
//! wrapped data key, the encryption as given, and the emulator's service key for groups without
//! a customer-managed key.

use super::body::EncryptionSpec;
use crate::store::{Record, Tables};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub const RESOURCE_TYPE: &str = "Microsoft.ContainerInstance/containerGroups";

/// A stored environment variable: its name in clear, its value sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedEnv {
    /// Name.
    pub name: String,
    /// Whether it is a secure value (never returned).
    pub secure: bool,
    /// The value, sealed.
    pub sealed_value: String,
}

/// Properties stored and echoed as they are: the clear part, and the sealed parts (each a
/// JSON object of JSON pointer → value, sealed under the data key). The secret part is never
/// opened for an answer; it is `None` when the group has no data key (a failed provisioning).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredSettings {
    /// What is stored in clear.
    pub clear: Map<String, Value>,
    /// Parts shown once opened (plain environment values and commands of init containers,
    /// probe commands and headers, config maps), sealed.
    #[serde(default)]
    pub sealed_shown: Option<String>,
    /// Secrets (passwords, storage and workspace keys, secret volume contents, secure values),
    /// sealed.
    #[serde(default)]
    pub sealed_secret: Option<String>,
}

/// A stored container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Resources.
    pub resources: Value,
    /// Ports.
    pub ports: Value,
    /// The command (JSON array), sealed; `None` when none was sent.
    pub sealed_command: Option<String>,
    /// Environment.
    pub env: Vec<SealedEnv>,
    /// Log lines, each sealed.
    pub sealed_logs: Vec<String>,
    /// Group restarts so far, numbered in the log lines. (The instance view's `restartCount`
    /// counts restarts by the restart policy, which never happen here: containers do not exit,
    /// and a group restart starts them afresh, as Azure shows it.)
    pub restart_count: u32,
    /// Volume mounts, probes, security context and config map.
    #[serde(default)]
    pub settings: StoredSettings,
}

/// The encryption of a stored group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredEncryption {
    /// vaultBaseUrl as sent.
    pub vault_base_url: String,
    /// keyName.
    pub key_name: String,
    /// keyVersion.
    pub key_version: String,
    /// identity.
    pub identity: Option<String>,
}

impl StoredEncryption {
    pub fn from_spec(e: &EncryptionSpec) -> Self {
        Self {
            vault_base_url: e.vault_base_url.clone(),
            key_name: e.key_name.clone(),
            key_version: e.key_version.clone(),
            identity: e.identity.clone(),
        }
    }

    pub fn to_spec(&self) -> EncryptionSpec {
        EncryptionSpec {
            vault_base_url: self.vault_base_url.clone(),
            key_name: self.key_name.clone(),
            key_version: self.key_version.clone(),
            identity: self.identity.clone(),
        }
    }

    pub fn same_as(&self, e: &EncryptionSpec) -> bool {
        let url = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        let id = |s: &Option<String>| s.as_deref().map(str::to_ascii_lowercase);
        url(&self.vault_base_url) == url(&e.vault_base_url)
            && self.key_name.eq_ignore_ascii_case(&e.key_name)
            && self.key_version.eq_ignore_ascii_case(&e.key_version)
            && id(&self.identity) == id(&e.identity)
    }
}

/// A stored container group. Everything secret is sealed under the data key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerGroupRecord {
    /// ARM id.
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group as created.
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Zones.
    pub zones: Vec<String>,
    /// Identity type.
    pub identity_type: Option<String>,
    /// User-assigned identity ids.
    pub user_assigned: Vec<String>,
    /// System-assigned principal id, when the group has one.
    pub system_principal_id: Option<String>,
    /// sku.
    pub sku: String,
    /// osType.
    pub os_type: String,
    /// restartPolicy.
    pub restart_policy: String,
    /// ipAddress.
    pub ip_address: Option<Value>,
    /// Containers.
    pub containers: Vec<ContainerRecord>,
    /// Encryption with a customer-managed key, if any.
    pub encryption: Option<StoredEncryption>,
    /// The data key, wrapped (base64url): by the customer key, or by the service key.
    pub wrapped_key: String,
    /// `Pending` (or [`Self::pending_state`]) until `ready_at_ms`, then this.
    pub provisioning_state: String,
    /// When provisioning, a start or a restart ends (unix ms): the containers have run since.
    pub ready_at_ms: i64,
    /// The provisioning state shown until `ready_at_ms` when it is not `Pending` (a restart's
    /// `Updating`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_state: Option<String>,
    /// `Running` or `Stopped` once provisioned.
    pub state: String,
    /// The error of a failed provisioning.
    pub error: Option<Value>,
    /// The api-version it was created with.
    pub api_version: String,
    /// Volumes, registry credentials, init containers, subnets, DNS configuration,
    /// diagnostics, extensions, priority, identity ACLs, confidential compute.
    #[serde(default)]
    pub settings: StoredSettings,
}

impl Record for ContainerGroupRecord {
    const TABLE: &'static str = "container_groups";
}

/// The emulator's own key for groups without a customer-managed key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceKey {
    /// The key (base64url).
    pub key: String,
}

impl Record for ServiceKey {
    const TABLE: &'static str = "aci_service_key";

    fn dump(&self) -> Value {
        json!({"key": "***"})
    }
}

pub fn group_key(id: &str) -> String {
    id.to_ascii_lowercase()
}

pub fn group_id(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{RESOURCE_TYPE}/{name}")
}

/// Deletes the container groups of a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    let prefix = group_key(&format!("/subscriptions/{sub}/resourceGroups/{rg}/"));
    st.table_mut::<ContainerGroupRecord>()
        .retain(|k, _| !k.starts_with(&prefix));
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<ContainerGroupRecord>().table::<ServiceKey>();
}
