//! The directory (Entra ID tenant): applications and service principals, shared by the token
//! endpoint, Graph, managed identities, role assignments and Key Vault authorization.

use crate::arm::resources::Subscription;
use serde::{Deserialize, Serialize};

use crate::config::{PersistedConfig, RequestedIds, random_secret};
use crate::error::EmulatorError;
use crate::store::{Record, Store, Tables};

/// appId of the "Azure Container Instance Service" first-party application.
pub const ACI_APP_ID: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";
/// Display name of the ACI first-party application.
pub const ACI_APP_NAME: &str = "Azure Container Instance Service";
/// Tenant id that owns Microsoft first-party applications.
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// An application known to the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    /// Application (client) id.
    pub app_id: String,
    /// Application object id.
    pub object_id: String,
    /// Display name.
    pub display_name: String,
    /// Microsoft first-party application (not an application object of this tenant).
    pub first_party: bool,
    /// Client secret, for applications that can get tokens.
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl Record for Application {
    const TABLE: &'static str = "applications";

    fn dump(&self) -> serde_json::Value {
        serde_json::json!({
            "app_id": self.app_id, "object_id": self.object_id, "display_name": self.display_name,
            "first_party": self.first_party,
            "client_secret": self.client_secret.as_ref().map(|_| "<redacted>"),
        })
    }
}

/// Kind of service principal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An application's service principal.
    Application,
    /// A managed identity.
    ManagedIdentity,
}

/// A service principal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    /// Object id (`oid` of its tokens; used by access policies and role assignments).
    pub object_id: String,
    /// Application (client) id.
    pub app_id: String,
    /// Display name.
    pub display_name: String,
    /// Kind.
    pub kind: PrincipalKind,
    /// Whether sign-in is enabled.
    pub account_enabled: bool,
    /// Owning tenant of the application.
    pub app_owner_organization_id: String,
    /// servicePrincipalNames.
    pub service_principal_names: Vec<String>,
    /// alternativeNames (managed identities: `isExplicit=True`, resource id).
    #[serde(default)]
    pub alternative_names: Vec<String>,
    /// Creation time (unix ms), for the replication-delay fault.
    pub created_ms: i64,
}

impl Record for Principal {
    const TABLE: &'static str = "principals";
}

/// Loads or creates the persisted identity settings and seeds the directory.
pub fn ensure_seeded(store: &Store, opts: &RequestedIds) -> Result<PersistedConfig, EmulatorError> {
    let cfg = store.write(|st| {
        let mut cfg = st
            .table::<PersistedConfig>()
            .get("config")
            .cloned()
            .unwrap_or_else(|| PersistedConfig {
                tenant_id: uuid::Uuid::new_v4().to_string(),
                subscription_id: uuid::Uuid::new_v4().to_string(),
                client_id: uuid::Uuid::new_v4().to_string(),
                client_secret: random_secret(30),
                deployer_object_id: uuid::Uuid::new_v4().to_string(),
                identity_header: random_secret(24),
            });
        if let Some(t) = &opts.tenant_id {
            cfg.tenant_id = t.to_ascii_lowercase();
        }
        if let Some(s) = &opts.subscription_id {
            cfg.subscription_id = s.to_ascii_lowercase();
        }
        if let Some(c) = &opts.client_id {
            if !c.eq_ignore_ascii_case(&cfg.client_id) {
                cfg.deployer_object_id = uuid::Uuid::new_v4().to_string();
            }
            cfg.client_id = c.to_ascii_lowercase();
        }
        if let Some(s) = &opts.client_secret {
            cfg.client_secret = s.clone();
        }
        st.table_mut::<PersistedConfig>()
            .insert("config", cfg.clone());
        seed(st, &cfg);
        cfg
    })?;
    Ok(cfg)
}

/// Seeds the deployer and the known first-party applications (idempotent).
pub fn seed(st: &mut Tables, cfg: &PersistedConfig) {
    // Seeded principals count as replicated long ago.
    let created = 0;
    let deployer_app_object_id = st
        .table::<Application>()
        .get(&cfg.client_id)
        .map(|a| a.object_id.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    st.table_mut::<Application>().insert(
        cfg.client_id.clone(),
        Application {
            app_id: cfg.client_id.clone(),
            object_id: deployer_app_object_id,
            display_name: "aci-cmk-emulator-deployer".to_owned(),
            first_party: false,
            client_secret: Some(cfg.client_secret.clone()),
        },
    );
    if !st.table::<Principal>().contains(&cfg.deployer_object_id) {
        st.table_mut::<Principal>().insert(
            cfg.deployer_object_id.clone(),
            Principal {
                object_id: cfg.deployer_object_id.clone(),
                app_id: cfg.client_id.clone(),
                display_name: "aci-cmk-emulator-deployer".to_owned(),
                kind: PrincipalKind::Application,
                account_enabled: true,
                app_owner_organization_id: cfg.tenant_id.clone(),
                service_principal_names: vec![cfg.client_id.clone()],
                alternative_names: vec![],
                created_ms: created,
            },
        );
    }
    let sub = cfg.subscription_id.to_ascii_lowercase();
    if !st.table::<Subscription>().contains(&sub) {
        st.table_mut::<Subscription>().insert(
            sub.clone(),
            Subscription {
                id: sub,
                display_name: "aci-cmk emulator subscription".to_owned(),
            },
        );
    }
    if !st.table::<Application>().contains(ACI_APP_ID) {
        st.table_mut::<Application>().insert(
            ACI_APP_ID,
            Application {
                app_id: ACI_APP_ID.to_owned(),
                object_id: String::new(),
                display_name: ACI_APP_NAME.to_owned(),
                first_party: true,
                client_secret: None,
            },
        );
    }
}

/// Finds the service principal of an application.
pub fn principal_by_app_id<'a>(st: &'a Tables, app_id: &str) -> Option<&'a Principal> {
    st.table::<Principal>()
        .values()
        .find(|p| p.app_id.eq_ignore_ascii_case(app_id))
}

/// Finds a principal by object id (case-insensitive).
pub fn principal<'a>(st: &'a Tables, object_id: &str) -> Option<&'a Principal> {
    st.table::<Principal>()
        .get(&object_id.to_ascii_lowercase())
        .or_else(|| st.table::<Principal>().get(object_id))
}

/// Finds an application of the tenant by object id (case-insensitive); Microsoft first-party
/// applications are not applications of the tenant.
pub fn application<'a>(st: &'a Tables, object_id: &str) -> Option<&'a Application> {
    st.table::<Application>()
        .values()
        .find(|a| !a.first_party && a.object_id.eq_ignore_ascii_case(object_id))
}

/// Whether a principal exists and has replicated (older than the replication delay).
pub fn is_replicated(st: &Tables, object_id: &str, replication_delay_ms: u64, now_ms: i64) -> bool {
    match principal(st, object_id) {
        Some(p) => now_ms - p.created_ms >= replication_delay_ms as i64,
        None => false,
    }
}

/// Creates an application with a secret and its service principal (admin API).
pub fn create_app_principal(
    st: &mut Tables,
    tenant: &str,
    display_name: &str,
    client_id: Option<String>,
    client_secret: Option<String>,
    now_ms: i64,
) -> (Application, Principal) {
    let app_id = client_id
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let app = Application {
        app_id: app_id.clone(),
        object_id: uuid::Uuid::new_v4().to_string(),
        display_name: display_name.to_owned(),
        first_party: false,
        client_secret: Some(client_secret.unwrap_or_else(|| random_secret(30))),
    };
    st.table_mut::<Application>()
        .insert(app_id.clone(), app.clone());
    let p = match principal_by_app_id(st, &app_id) {
        Some(p) => p.clone(),
        None => {
            let p = Principal {
                object_id: uuid::Uuid::new_v4().to_string(),
                app_id: app_id.clone(),
                display_name: display_name.to_owned(),
                kind: PrincipalKind::Application,
                account_enabled: true,
                app_owner_organization_id: tenant.to_owned(),
                service_principal_names: vec![app_id.clone()],
                alternative_names: vec![],
                created_ms: now_ms,
            };
            st.table_mut::<Principal>()
                .insert(p.object_id.clone(), p.clone());
            p
        }
    };
    (app, p)
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Application>().table::<Principal>();
}
