//! [`Admin`]: the emulator's admin operations, outside Azure's surface — reset, dump, request
//! log, faults, the clock, extra principals and subscriptions, test tokens. Tests, benchmarks
//! and tools use it in process; the server's `/_admin` routes are a thin HTTP layer over it.

use std::sync::Arc;
use std::time::Duration;

use crate::arm::resources::Subscription;
use crate::config::{ClockOffset, PersistedConfig};
use crate::entra::tokens::{Claims, TOKEN_LIFETIME_SECS};
use crate::server::faults::FaultConfig;
use crate::server::frontend::Frontend;
use crate::server::in_flight::InFlightRequest;
use crate::server::request_log::LogEntry;

/// Why an admin operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The input is invalid; `field` names what is wrong.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field (or request) at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The emulator failed (e.g. the state file could not be written).
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AdminError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<crate::store::StoreError> for AdminError {
    fn from(e: crate::store::StoreError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

/// A principal added with [`Admin::add_principal`]: its ids and client secret.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPrincipal {
    /// Application (client) id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Service principal object id.
    pub object_id: String,
    /// Display name.
    pub display_name: String,
    /// Tenant id.
    pub tenant_id: String,
}

impl std::fmt::Debug for NewPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPrincipal")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("object_id", &self.object_id)
            .field("display_name", &self.display_name)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

/// Claims of a test token minted with [`Admin::mint_token`]; absent values are the deployer's.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    /// Audience.
    pub aud: String,
    /// Object id (default: the deployer's).
    #[serde(default)]
    pub oid: Option<String>,
    /// Application id (default: the deployer's).
    #[serde(default)]
    pub appid: Option<String>,
    /// Tenant id (default: the emulator's).
    #[serde(default)]
    pub tid: Option<String>,
    /// Issuer (default: the emulator's).
    #[serde(default)]
    pub iss: Option<String>,
    /// Lifetime in seconds (default: an hour and a half; at most ten years, may be negative).
    #[serde(default)]
    pub ttl_secs: Option<i64>,
    /// `nbf` relative to now (default -300; within ten years either way).
    #[serde(default)]
    pub nbf_offset_secs: Option<i64>,
}

/// Ten years: the bound on a test token's lifetime and `nbf` offset.
const MAX_TOKEN_OFFSET_SECS: i64 = 10 * 366 * 24 * 3600;

/// The admin operations of one running emulator.
#[derive(Debug, Clone)]
pub struct Admin {
    frontend: Arc<Frontend>,
}

impl Admin {
    pub(crate) fn new(frontend: Arc<Frontend>) -> Self {
        Self { frontend }
    }

    /// Back to the initial state (deployer and first-party apps only), faults cleared, request
    /// log cleared. The clock stays where it is (it never moves back).
    pub fn reset(&self) -> Result<(), AdminError> {
        let shared = &self.frontend.shared;
        let ids = shared.config.ids.clone();
        let offset = shared.clock.offset_ms();
        // A running deployment must not go on writing into the fresh state.
        shared.background.abort_all();
        shared.store.reset(|st| {
            st.table_mut::<PersistedConfig>()
                .insert("config", ids.clone());
            st.table_mut::<ClockOffset>()
                .insert("clock", ClockOffset { offset_ms: offset });
            crate::graph::directory::seed(st, &ids);
        })?;
        self.set_faults(FaultConfig::default())?;
        self.frontend.log.clear();
        Ok(())
    }

    /// Every table as JSON (secrets and key material redacted) and the fault configuration.
    pub fn dump(&self) -> serde_json::Value {
        let mut v = self.frontend.shared.store.read(|st| st.dump());
        v["faults"] = serde_json::to_value(self.faults()).unwrap_or_default();
        v
    }

    /// The request log, oldest first (admin requests are not logged).
    pub fn requests(&self) -> Vec<LogEntry> {
        self.frontend.log.snapshot()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.frontend.log.clear();
    }

    /// The fault configuration.
    pub fn faults(&self) -> FaultConfig {
        self.frontend.faults.get()
    }

    /// Replaces the fault configuration (and the services' timing it carries).
    pub fn set_faults(&self, config: FaultConfig) -> Result<(), AdminError> {
        config
            .validate()
            .map_err(|(field, rule)| AdminError::Invalid {
                field: "faults",
                message: format!("{field} must be {rule}"),
            })?;
        self.frontend
            .shared
            .timing
            .set_overrides(config.replication_delay_ms, config.aci_provisioning_ms);
        self.frontend.faults.set(config);
        Ok(())
    }

    /// The emulator's time now.
    pub fn now(&self) -> time::OffsetDateTime {
        self.frontend.shared.clock.now()
    }

    /// Moves the emulator's clock forward (at most 100 years at a time) and answers the new
    /// time. Every service sees it at once: an expired key is refused, a retention period
    /// ends, an operation completes. With a state directory the move survives a restart.
    pub fn advance(&self, by: Duration) -> Result<time::OffsetDateTime, AdminError> {
        let shared = &self.frontend.shared;
        let now = shared
            .clock
            .advance(by)
            .map_err(|e| AdminError::invalid("advance", e.to_string()))?;
        let offset = shared.clock.offset_ms();
        let now_secs = shared.clock.now_secs();
        shared.store.write(|st| {
            st.table_mut::<ClockOffset>()
                .insert("clock", ClockOffset { offset_ms: offset });
            // What fell due meanwhile happens now: rotations, near-expiry and expiry events.
            crate::keyvault_data::lifecycle::run_due(st, &shared.config, now_secs, None);
        })?;
        Ok(now)
    }

    /// The published events after sequence number `after` (0: all), oldest first, each in the
    /// Event Grid schema with its `sequence`.
    pub fn events(&self, after: u64) -> Vec<serde_json::Value> {
        self.frontend
            .shared
            .store
            .read(|st| crate::events::since(st, after))
            .iter()
            .map(crate::events::Event::to_json)
            .collect()
    }

    /// Adds an application with a client secret and its service principal.
    pub fn add_principal(
        &self,
        display_name: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Result<NewPrincipal, AdminError> {
        let shared = &self.frontend.shared;
        let tenant = shared.config.tenant().to_owned();
        let name = display_name.unwrap_or_else(|| "emulator-app".to_owned());
        let now_ms = shared.clock.now_ms();
        let (app, p) = shared.store.write(|st| {
            crate::graph::directory::create_app_principal(
                st,
                &tenant,
                &name,
                client_id,
                client_secret,
                now_ms,
            )
        })?;
        Ok(NewPrincipal {
            client_id: app.app_id,
            client_secret: app.client_secret.unwrap_or_default(),
            object_id: p.object_id,
            display_name: p.display_name,
            tenant_id: tenant,
        })
    }

    /// Removes the tenant's service principal of application `app_id` (as an administrator
    /// deleting it would), keeping the application: creating the principal again gives it a
    /// new object id, which no access policy or role assignment names. Whether there was one.
    pub fn remove_service_principal(&self, app_id: &str) -> Result<bool, AdminError> {
        let removed = self.frontend.shared.store.write(|st| {
            let object_id = crate::graph::directory::principal_by_app_id(st, app_id)
                .map(|p| p.object_id.clone());
            object_id.is_some_and(|id| {
                st.table_mut::<crate::graph::directory::Principal>()
                    .remove(&id)
                    .is_some()
            })
        })?;
        Ok(removed)
    }

    /// Turns soft delete off on the live vault `name`, as a vault made before Key Vault made
    /// soft delete mandatory may still have it (no request can turn it off). A `PATCH` with
    /// `enableSoftDelete: true` turns it back on; deleted meanwhile, the vault is gone at once.
    pub fn disable_soft_delete(&self, name: &str) -> Result<(), AdminError> {
        let key = name.to_ascii_lowercase();
        let found = self.frontend.shared.store.write(|st| {
            match st
                .table_mut::<crate::keyvault_management::records::Vault>()
                .get_mut(&key)
            {
                Some(v) if v.deleted.is_none() => {
                    v.props.soft_delete_disabled = true;
                    true
                }
                _ => false,
            }
        })?;
        if found {
            Ok(())
        } else {
            Err(AdminError::invalid("name", format!("no live vault {name}")))
        }
    }

    /// Adds a subscription to the tenant and answers its id (lower-cased).
    pub fn add_subscription(
        &self,
        subscription_id: Option<String>,
        display_name: Option<String>,
    ) -> Result<String, AdminError> {
        let id = subscription_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            .to_ascii_lowercase();
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err(AdminError::invalid(
                "subscription_id",
                "subscription_id must be a GUID",
            ));
        }
        let sub = Subscription {
            id: id.clone(),
            display_name: display_name
                .unwrap_or_else(|| "aci-cmk emulator subscription".to_owned()),
        };
        self.frontend
            .shared
            .store
            .write(|st| st.table_mut::<Subscription>().insert(id.clone(), sub))?;
        Ok(id)
    }

    /// Mints a signed token with arbitrary claims (for tests of expired or foreign tokens).
    pub fn mint_token(&self, req: TokenRequest) -> Result<String, AdminError> {
        let shared = &self.frontend.shared;
        let cfg = &shared.config;
        let bounded = |field: &'static str, v: i64| {
            if v.unsigned_abs() > MAX_TOKEN_OFFSET_SECS.unsigned_abs() {
                Err(AdminError::invalid(
                    field,
                    format!(
                        "{field} must lie within ten years ({MAX_TOKEN_OFFSET_SECS} seconds) either way"
                    ),
                ))
            } else {
                Ok(v)
            }
        };
        let ttl = bounded("ttl_secs", req.ttl_secs.unwrap_or(TOKEN_LIFETIME_SECS))?;
        let nbf_offset = bounded("nbf_offset_secs", req.nbf_offset_secs.unwrap_or(-300))?;
        let now = shared.clock.now_secs();
        let oid = req
            .oid
            .unwrap_or_else(|| cfg.ids.deployer_object_id.clone());
        let appid = req.appid.unwrap_or_else(|| cfg.ids.client_id.clone());
        let claims = Claims {
            aud: req.aud,
            iss: req.iss.unwrap_or_else(|| cfg.issuer()),
            tid: req.tid.unwrap_or_else(|| cfg.tenant().to_owned()),
            oid: oid.clone(),
            sub: oid,
            appid: appid.clone(),
            azp: appid,
            iat: now,
            nbf: now + nbf_offset,
            exp: now + ttl,
            ver: "2.0".to_owned(),
            idtyp: "app".to_owned(),
            xms_mirid: None,
            xms_emu_clock_offset: Some(shared.clock.offset_ms() / 1000),
        };
        shared
            .tokens
            .issue_with(&claims)
            .map_err(|e| AdminError::Internal(e.to_string()))
    }

    /// The number of committed writes that changed the state, starting from the value now:
    /// `changed().await` wakes after the next one, whoever made it (a request, a deployment
    /// running in the background, a move of the clock, a reset). To wait until the state
    /// shows something, take the receiver first, then check, then wait for a change and check
    /// again, so a write between the check and the wait is not missed.
    pub fn watch_writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.frontend.shared.store.watch_writes()
    }

    /// The number of open connections to the server, starting from the number now: the
    /// receiver is woken when a connection is admitted and when one closes (a connection over
    /// the cap is closed at once and never counted).
    pub fn watch_connections(&self) -> tokio::sync::watch::Receiver<usize> {
        self.frontend.connections.watch_open()
    }

    /// The requests the emulator is handling, oldest first (service, method, host and path:
    /// no headers, query strings or bodies), starting from those now: the receiver is woken
    /// when a request arrives and when its handling ends — once it is in the request log — or
    /// the server drops it unanswered (its client hung up). A request held by an injected
    /// latency is in flight; admin requests are not tracked.
    pub fn watch_in_flight(&self) -> tokio::sync::watch::Receiver<Vec<InFlightRequest>> {
        self.frontend.in_flight.watch()
    }

    /// Waits until the token signing key is ready (generated in the background on a first
    /// start), so a measurement does not include its generation.
    pub async fn tokens_ready(&self) -> Result<(), crate::error::EmulatorError> {
        self.frontend.shared.tokens.ready().await
    }
}
