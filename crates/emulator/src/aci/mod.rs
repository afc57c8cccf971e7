//! Microsoft.ContainerInstance/containerGroups, with customer-managed-key encryption at rest.
//!
//! A PUT is validated as Azure does it (the body in [`body`], the CMK rules in [`cmk`]), then
//! the service generates a 256-bit data key, wraps it with the customer key as the acting
//! principal (or with the emulator's own service key when the group has no
//! `encryptionProperties`), and stores only the wrapped key. Environment values, secure values,
//! commands and log lines are stored sealed ([`sealing`]). Reading logs, restarting, stopping,
//! starting — and reading the group back — unwrap the data key through the vault, so disabling
//! the key or removing the access makes them fail (crypto-shredding) until it is restored.
//!
//! Containers do not run: a "running" container writes deterministic log lines (start time,
//! image, the names — not the values — of its environment variables, a line per restart).

pub mod body;
pub mod cmk;
pub mod errors;
pub mod sealing;

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::check_api_version;
use crate::config::rfc3339;
use crate::context::Ctx;
use crate::reply;
use crate::store::{Record, Tables};
use body::{EncryptionSpec, GroupSpec, IdentitySpec};
use errors::{AciError, bad};
use sealing::{DataKey, b64, unb64};

/// api-versions accepted for container groups. Versions before 2019-12-01 are accepted so
/// that the encryption rules can refuse them with a clear error.
pub const API_VERSIONS: &[&str] = &[
    "2018-10-01",
    "2019-12-01",
    "2020-11-01",
    "2021-03-01",
    "2021-07-01",
    "2021-09-01",
    "2021-10-01",
    "2022-09-01",
    "2022-10-01-preview",
    "2023-02-01-preview",
    "2023-05-01",
    "2024-05-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-11-01-preview",
    "2025-09-01",
];

const RESOURCE_TYPE: &str = "Microsoft.ContainerInstance/containerGroups";

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
    /// The command (JSON array), sealed; `None` when there is none.
    pub sealed_command: Option<String>,
    /// Environment.
    pub env: Vec<SealedEnv>,
    /// Log lines, each sealed.
    pub sealed_logs: Vec<String>,
    /// Restarts so far.
    pub restart_count: u32,
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
    fn from_spec(e: &EncryptionSpec) -> Self {
        Self {
            vault_base_url: e.vault_base_url.clone(),
            key_name: e.key_name.clone(),
            key_version: e.key_version.clone(),
            identity: e.identity.clone(),
        }
    }

    fn to_spec(&self) -> EncryptionSpec {
        EncryptionSpec {
            vault_base_url: self.vault_base_url.clone(),
            key_name: self.key_name.clone(),
            key_version: self.key_version.clone(),
            identity: self.identity.clone(),
        }
    }

    fn same_as(&self, e: &EncryptionSpec) -> bool {
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
    /// `Pending` until `ready_at_ms`, then this.
    pub provisioning_state: String,
    /// When provisioning ends (unix ms).
    pub ready_at_ms: i64,
    /// `Running` or `Stopped` once provisioned.
    pub state: String,
    /// The error of a failed provisioning.
    pub error: Option<Value>,
    /// The api-version it was created with.
    pub api_version: String,
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

fn group_key(id: &str) -> String {
    id.to_ascii_lowercase()
}

fn group_id(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{RESOURCE_TYPE}/{name}")
}

fn not_found(rg: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The Resource '{RESOURCE_TYPE}/{name}' under resource group '{rg}' was not found."),
    )
}

/// Routes `…/providers/Microsoft.ContainerInstance/{tail}`.
pub async fn handle(
    ctx: &Ctx,
    sub: &str,
    rg: Option<&str>,
    tail: &[&str],
    orig: &[String],
) -> ArmResult {
    let api = check_api_version(ctx, RESOURCE_TYPE, API_VERSIONS)?;
    let m = &ctx.method;
    match (rg, tail) {
        (_, ["containergroups"]) if m == Method::GET => list(ctx, sub, rg),
        (Some(rg), ["containergroups", _]) => {
            let name = &orig[1];
            match *m {
                Method::PUT => put(ctx, sub, rg, name, &api),
                Method::GET => get(ctx, sub, rg, name),
                Method::PATCH => patch(ctx, sub, rg, name),
                Method::DELETE => delete(ctx, sub, rg, name),
                _ => Err(arm::resources::method_not_allowed(ctx)),
            }
        }
        (
            Some(rg),
            [
                "containergroups",
                _,
                action @ ("restart" | "stop" | "start"),
            ],
        ) if m == Method::POST => lifecycle(ctx, sub, rg, &orig[1], action),
        (Some(rg), ["containergroups", _, "containers", _, "logs"]) if m == Method::GET => {
            logs(ctx, sub, rg, &orig[1], &orig[3])
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The path '{}' is not emulated for namespace 'Microsoft.ContainerInstance'.",
                ctx.path
            ),
        )),
    }
}

fn list(ctx: &Ctx, sub: &str, rg: Option<&str>) -> ArmResult {
    let groups: Vec<ContainerGroupRecord> = ctx.shared.store.read(|st| {
        st.table::<ContainerGroupRecord>()
            .values()
            .filter(|g| g.subscription.eq_ignore_ascii_case(sub))
            .filter(|g| rg.is_none_or(|r| g.resource_group.eq_ignore_ascii_case(r)))
            .cloned()
            .collect()
    });
    // Lists carry no environment values: nothing to unwrap.
    let items: Vec<Value> = groups.iter().map(|g| render_full(ctx, g, None)).collect();
    Ok(reply::json(StatusCode::OK, &json!({ "value": items })))
}

fn find(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> Result<ContainerGroupRecord, ArmError> {
    let key = group_key(&group_id(sub, rg, name));
    ctx.shared
        .store
        .read(|st| st.table::<ContainerGroupRecord>().get(&key).cloned())
        .ok_or_else(|| not_found(rg, name))
}

/// The data key of a stored group: unwrapped through the vault as the acting principal, or
/// opened with the service key.
fn data_key(ctx: &Ctx, g: &ContainerGroupRecord) -> Result<DataKey, AciError> {
    let wrapped = unb64(&g.wrapped_key).map_err(|m| bad("InternalServerError", m))?;
    match &g.encryption {
        Some(enc) => {
            let access = ctx
                .shared
                .store
                .read(|st| cmk::key_access(&ctx.shared, st, &enc.to_spec()))?;
            access.unwrap(&ctx.shared, &wrapped)
        }
        None => {
            let service = service_key(ctx)?;
            let bytes = service
                .open("service-key", &g.wrapped_key)
                .map_err(|m| bad("InternalServerError", m))?;
            DataKey::from_bytes(&bytes).map_err(|m| bad("InternalServerError", m))
        }
    }
}

fn service_key(ctx: &Ctx) -> Result<DataKey, AciError> {
    let existing = ctx
        .shared
        .store
        .read(|st| st.table::<ServiceKey>().get("default").cloned());
    let stored = match existing {
        Some(k) => k,
        None => {
            let fresh = DataKey::generate().map_err(|m| bad("InternalServerError", m))?;
            let record = ServiceKey {
                key: b64(fresh.bytes()),
            };
            ctx.shared
                .store
                .write(|st| {
                    if st.table::<ServiceKey>().get("default").is_none() {
                        st.table_mut::<ServiceKey>().insert("default", record);
                    }
                    st.table::<ServiceKey>().get("default").cloned()
                })?
                .ok_or_else(|| bad("InternalServerError", "the service key is missing"))?
        }
    };
    let bytes = unb64(&stored.key).map_err(|m| bad("InternalServerError", m))?;
    DataKey::from_bytes(&bytes).map_err(|m| bad("InternalServerError", m))
}

fn seal_str(key: &DataKey, aad: &str, s: &str) -> Result<String, AciError> {
    key.seal(aad, s.as_bytes())
        .map_err(|m| bad("InternalServerError", m))
}

fn log_line(
    key: &DataKey,
    aad: &str,
    text: &str,
    now: time::OffsetDateTime,
) -> Result<String, AciError> {
    let ts = rfc3339(now);
    seal_str(key, aad, &format!("{ts} {text}"))
}

fn seal_containers(
    key: &DataKey,
    aad: &str,
    spec: &GroupSpec,
    previous: Option<&ContainerGroupRecord>,
    now: time::OffsetDateTime,
) -> Result<Vec<ContainerRecord>, AciError> {
    let mut out = Vec::new();
    for c in &spec.containers {
        let env = c
            .env
            .iter()
            .map(|e| {
                Ok(SealedEnv {
                    name: e.name.clone(),
                    secure: e.secure,
                    sealed_value: seal_str(key, aad, &e.value)?,
                })
            })
            .collect::<Result<Vec<_>, AciError>>()?;
        let sealed_command = if c.command.is_empty() {
            None
        } else {
            Some(seal_str(
                key,
                aad,
                &serde_json::to_string(&c.command).unwrap_or_default(),
            )?)
        };
        let kept = previous.and_then(|p| p.containers.iter().find(|x| x.name == c.name));
        let (mut sealed_logs, restart_count) = match kept {
            Some(k) => (k.sealed_logs.clone(), k.restart_count),
            None => (Vec::new(), 0),
        };
        let names: Vec<&str> = c.env.iter().map(|e| e.name.as_str()).collect();
        sealed_logs.push(log_line(
            key,
            aad,
            &format!("container {} started from image {}", c.name, c.image),
            now,
        )?);
        sealed_logs.push(log_line(
            key,
            aad,
            &format!(
                "environment: {} (values are not logged)",
                if names.is_empty() {
                    "(none)".to_owned()
                } else {
                    names.join(", ")
                }
            ),
            now,
        )?);
        out.push(ContainerRecord {
            name: c.name.clone(),
            image: c.image.clone(),
            resources: c.resources.clone(),
            ports: c.ports.clone(),
            sealed_command,
            env,
            sealed_logs,
            restart_count,
        });
    }
    Ok(out)
}

fn check_identities(ctx: &Ctx, identity: Option<&IdentitySpec>) -> Result<(), AciError> {
    let Some(identity) = identity else {
        return Ok(());
    };
    for id in &identity.user_assigned {
        let exists = ctx
            .shared
            .store
            .read(|st| crate::managed_identity::find(st, id).is_some());
        if !exists {
            return Err(bad(
                errors::IDENTITY_NOT_FOUND,
                format!(
                    "The user-assigned identity '{id}' listed in identity.userAssignedIdentities does not exist."
                ),
            ));
        }
    }
    Ok(())
}

fn put(ctx: &Ctx, sub: &str, rg_in: &str, name: &str, api: &str) -> ArmResult {
    if !body::valid_name(name) {
        return Err(bad(
            "InvalidContainerGroupName",
            format!(
                "The container group name '{name}' is invalid: use 1 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
            ),
        ));
    }
    let rg = ctx
        .shared
        .store
        .read(|st| arm::resources::group_name(st, sub, rg_in))
        .unwrap_or_else(|| rg_in.to_owned());
    let id = group_id(sub, &rg, name);
    let aad = group_key(&id);
    let request = arm::request::body_object(ctx)?;
    let spec = body::parse(&request)?;
    cmk::check_rules(&spec, api)?;
    check_identities(ctx, spec.identity.as_ref())?;

    // A group whose provisioning failed holds no data key: a new PUT creates it afresh.
    let previous = ctx
        .shared
        .store
        .read(|st| st.table::<ContainerGroupRecord>().get(&aad).cloned())
        .filter(|p| p.provisioning_state != "Failed");
    if let Some(prev) = &previous {
        let same = match (&prev.encryption, &spec.encryption) {
            (Some(a), Some(b)) => a.same_as(b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                errors::ENCRYPTION_IMMUTABLE,
                format!(
                    "The encryption properties of container group '{name}' cannot change: delete the group and create it again with the new encryptionProperties."
                ),
            ));
        }
    }

    // The key: a new data key for a new group, the existing one for an update.
    let keyed: Result<(DataKey, String), AciError> = match (&spec.encryption, &previous) {
        (_, Some(prev)) => data_key(ctx, prev).map(|k| (k, prev.wrapped_key.clone())),
        (Some(enc), None) => ctx
            .shared
            .store
            .read(|st| cmk::key_access(&ctx.shared, st, enc))
            .and_then(|access| access.new_data_key(&ctx.shared))
            .map(|(k, wrapped)| (k, b64(&wrapped))),
        (None, None) => {
            let service = service_key(ctx)?;
            let key = DataKey::generate().map_err(|m| bad("InternalServerError", m))?;
            let wrapped = service
                .seal("service-key", key.bytes())
                .map_err(|m| bad("InternalServerError", m))?;
            Ok((key, wrapped))
        }
    };

    let now = ctx.shared.clock.now_ms();
    let provisioning_ms = ctx.shared.timing.aci_provisioning_ms();
    let (containers, wrapped_key, provisioning_state, error) = match keyed {
        Ok((key, wrapped)) => (
            seal_containers(&key, &aad, &spec, previous.as_ref(), ctx.shared.clock.now())?,
            wrapped,
            "Succeeded",
            None,
        ),
        // Key access failures fail the provisioning, as ACI reports them: the group exists in
        // state Failed with the error, and a PUT after fixing the access tries again.
        Err(e) if previous.is_none() && spec.encryption.is_some() && is_key_error(&e) => (
            Vec::new(),
            String::new(),
            "Failed",
            Some(json!({"code": e.code, "message": e.message})),
        ),
        Err(e) => return Err(e),
    };
    let record = ContainerGroupRecord {
        id: id.clone(),
        subscription: sub.to_owned(),
        resource_group: rg.clone(),
        name: name.to_owned(),
        location: spec.location.clone(),
        tags: spec.tags.clone(),
        zones: spec.zones.clone(),
        identity_type: spec.identity.as_ref().map(|i| i.kind.clone()),
        user_assigned: spec
            .identity
            .as_ref()
            .map(|i| i.user_assigned.clone())
            .unwrap_or_default(),
        system_principal_id: spec
            .identity
            .as_ref()
            .filter(|i| i.has_system_assigned())
            .map(|_| {
                previous
                    .as_ref()
                    .and_then(|p| p.system_principal_id.clone())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            }),
        sku: spec.sku.clone().unwrap_or_else(|| "Standard".to_owned()),
        os_type: spec.os_type.clone(),
        restart_policy: spec.restart_policy.clone(),
        ip_address: spec.ip_address.clone(),
        containers,
        encryption: spec.encryption.as_ref().map(StoredEncryption::from_spec),
        wrapped_key,
        provisioning_state: provisioning_state.to_owned(),
        ready_at_ms: now + provisioning_ms,
        state: if provisioning_state == "Succeeded" {
            "Running".to_owned()
        } else {
            "Pending".to_owned()
        },
        error: error.clone(),
        api_version: api.to_owned(),
    };
    let op = ctx.shared.store.write(|st| {
        st.table_mut::<ContainerGroupRecord>()
            .insert(aad.clone(), record.clone());
        arm::lro::start(
            st,
            sub,
            &id,
            provisioning_ms,
            provisioning_state,
            error.clone(),
            ctx.shared.clock.now_ms(),
        )
    })?;
    let status = if previous.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = reply::json(status, &render_full(ctx, &record, None));
    // When the operation is already over, the response is its terminal state: nothing to poll.
    if provisioning_ms > 0 {
        arm::lro::add_polling_headers(&mut response, &ctx.shared.config, &op);
        reply::set_header(
            &mut response,
            "x-ms-retry-after-ms",
            &provisioning_ms.to_string(),
        );
    }
    Ok(response)
}

fn is_key_error(e: &AciError) -> bool {
    [
        errors::KEY_VAULT_NOT_FOUND,
        errors::KEY_NOT_FOUND,
        errors::KEY_NOT_USABLE,
        errors::ACI_PRINCIPAL_NOT_FOUND,
        errors::KEY_VAULT_ACCESS_DENIED,
        errors::KEY_VAULT_FIREWALL,
        "KeyVaultError",
    ]
    .contains(&e.code.as_str())
}

fn get(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    // Environment values are shown only when the data key can be unwrapped now.
    let key = if g.provisioning_state == "Failed" {
        Err(None)
    } else {
        data_key(ctx, &g).map_err(Some)
    };
    let body = match &key {
        Ok(k) => render_full(ctx, &g, Some(k)),
        Err(e) => {
            let mut v = render_full(ctx, &g, None);
            if let Some(e) = e
                && let Some(events) = v["properties"]["instanceView"]["events"].as_array_mut()
            {
                events.push(json!({"name": "EncryptionKeyUnavailable", "type": "Warning", "count": 1, "message": e.message}));
            }
            v
        }
    };
    Ok(reply::json(StatusCode::OK, &body))
}

fn patch(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let request = arm::request::body_object(ctx)?;
    if request.keys().any(|k| k != "tags") {
        return Err(bad(
            "InvalidRequestContent",
            "A PATCH of a container group may only change its tags.",
        ));
    }
    let tags = arm::request::opt_tags(&request)?.unwrap_or_default();
    let key = group_key(&group_id(sub, rg, name));
    let updated = ctx.shared.store.write(|st| {
        let g = st.table_mut::<ContainerGroupRecord>().get_mut(&key)?;
        g.tags = tags;
        Some(g.clone())
    })?;
    let g = updated.ok_or_else(|| not_found(rg, name))?;
    Ok(reply::json(StatusCode::OK, &render_full(ctx, &g, None)))
}

fn delete(ctx: &Ctx, sub: &str, rg: &str, name: &str) -> ArmResult {
    let key = group_key(&group_id(sub, rg, name));
    let gone = ctx
        .shared
        .store
        .write(|st| st.table_mut::<ContainerGroupRecord>().remove(&key))?;
    match gone {
        Some(g) => Ok(reply::json(StatusCode::OK, &render_full(ctx, &g, None))),
        None => Ok(reply::empty(StatusCode::NO_CONTENT)),
    }
}

fn lifecycle(ctx: &Ctx, sub: &str, rg: &str, name: &str, action: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    if g.provisioning_state == "Failed" {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "ContainerGroupFailed",
            format!(
                "Container group '{name}' failed to provision and cannot {action}: fix the error and PUT it again."
            ),
        ));
    }
    let key = data_key(ctx, &g)?;
    let aad = group_key(&g.id);
    let mut updated = g.clone();
    for c in &mut updated.containers {
        let line = match action {
            "restart" => {
                c.restart_count += 1;
                format!(
                    "container {} restarted (restart {})",
                    c.name, c.restart_count
                )
            }
            "stop" => format!("container {} stopped", c.name),
            _ => format!("container {} started from image {}", c.name, c.image),
        };
        c.sealed_logs
            .push(log_line(&key, &aad, &line, ctx.shared.clock.now())?);
    }
    updated.state = if action == "stop" {
        "Stopped".to_owned()
    } else {
        "Running".to_owned()
    };
    ctx.shared.store.write(|st| {
        st.table_mut::<ContainerGroupRecord>()
            .insert(aad.clone(), updated);
    })?;
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

fn logs(ctx: &Ctx, sub: &str, rg: &str, name: &str, container: &str) -> ArmResult {
    let g = find(ctx, sub, rg, name)?;
    let c = g
        .containers
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(container))
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "ContainerNotFound",
                format!("Container '{container}' was not found in container group '{name}'."),
            )
        })?;
    let key = data_key(ctx, &g)?;
    let aad = group_key(&g.id);
    let mut lines = c
        .sealed_logs
        .iter()
        .map(|s| {
            key.open_string(&aad, s)
                .map_err(|m| bad("InternalServerError", m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timestamps = ctx
        .q("timestamps")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !timestamps {
        lines = lines
            .into_iter()
            .map(|l| {
                l.split_once(' ')
                    .map(|(_, rest)| rest.to_owned())
                    .unwrap_or(l)
            })
            .collect();
    }
    if let Some(tail) = ctx.q("tail") {
        let n: usize = tail.parse().map_err(|_| {
            bad(
                "InvalidParameter",
                format!("tail '{tail}' is not a number of lines."),
            )
        })?;
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut content = lines.join("\n");
    if !content.is_empty() {
        content.push('\n');
    }
    Ok(reply::json(StatusCode::OK, &json!({ "content": content })))
}

/// The group as ARM shows it. With `key`, plain environment values and commands are opened;
/// secure values are never returned.
fn render(g: &ContainerGroupRecord, key: Option<&DataKey>, now: i64) -> Value {
    let aad = group_key(&g.id);
    let pending = now < g.ready_at_ms;
    let provisioning = if pending {
        "Pending"
    } else {
        g.provisioning_state.as_str()
    };
    let group_state = if pending || g.provisioning_state == "Failed" {
        "Pending"
    } else {
        g.state.as_str()
    };
    let containers: Vec<Value> = g
        .containers
        .iter()
        .map(|c| {
            let env: Vec<Value> = c
                .env
                .iter()
                .map(|e| {
                    let value = (!e.secure)
                        .then(|| key.and_then(|k| k.open_string(&aad, &e.sealed_value).ok()))
                        .flatten();
                    match value {
                        Some(v) => json!({"name": e.name, "value": v}),
                        None => json!({"name": e.name}),
                    }
                })
                .collect();
            let mut props = json!({
                "image": c.image,
                "resources": c.resources,
                "ports": c.ports,
                "environmentVariables": env,
                "instanceView": {
                    "restartCount": c.restart_count,
                    "currentState": {"state": if group_state == "Running" { "Running" } else if group_state == "Stopped" { "Terminated" } else { "Waiting" }},
                    "events": [],
                },
            });
            if let (Some(sealed), Some(k)) = (&c.sealed_command, key)
                && let Ok(cmd) = k.open_string(&aad, sealed)
                && let Ok(cmd) = serde_json::from_str::<Value>(&cmd)
            {
                props["command"] = cmd;
            }
            json!({"name": c.name, "properties": props})
        })
        .collect();
    let mut properties = json!({
        "provisioningState": provisioning,
        "sku": g.sku,
        "osType": g.os_type,
        "restartPolicy": g.restart_policy,
        "containers": containers,
        "instanceView": {"state": group_state, "events": []},
    });
    if let Some(ip) = &g.ip_address {
        let mut ip = ip.clone();
        ip["ip"] = json!("10.0.0.4");
        properties["ipAddress"] = ip;
    }
    if let Some(e) = &g.encryption {
        let mut enc = json!({
            "vaultBaseUrl": format!("{}/", e.vault_base_url.trim_end_matches('/')),
            "keyName": e.key_name,
            "keyVersion": e.key_version,
        });
        if let Some(i) = &e.identity {
            enc["identity"] = json!(i);
        }
        properties["encryptionProperties"] = enc;
    }
    if let (false, Some(err)) = (pending, &g.error) {
        properties["error"] = err.clone();
        properties["instanceView"]["events"] =
            json!([{"name": "Failed", "type": "Warning", "count": 1, "message": err["message"]}]);
    }
    let mut out = json!({
        "id": g.id,
        "name": g.name,
        "type": RESOURCE_TYPE,
        "location": g.location,
        "tags": g.tags,
        "properties": properties,
    });
    if !g.zones.is_empty() {
        out["zones"] = json!(g.zones);
    }
    if let Some(kind) = &g.identity_type {
        let mut identity = json!({"type": kind, "tenantId": null});
        if !g.user_assigned.is_empty() {
            let map: serde_json::Map<String, Value> = g
                .user_assigned
                .iter()
                .map(|id| (id.clone(), json!({})))
                .collect();
            identity["userAssignedIdentities"] = Value::Object(map);
        }
        if let Some(p) = &g.system_principal_id {
            identity["principalId"] = json!(p);
        }
        out["identity"] = identity;
    }
    out
}

/// [`render`] with the identity block filled in.
fn render_full(ctx: &Ctx, g: &ContainerGroupRecord, key: Option<&DataKey>) -> Value {
    let mut v = render(g, key, ctx.shared.clock.now_ms());
    let tenant = ctx.shared.config.tenant().to_owned();
    ctx.shared
        .store
        .read(|st| fill_identities(st, &mut v, &tenant));
    v
}

/// Fills the identity block of a rendered group with principal and client ids.
fn fill_identities(st: &Tables, v: &mut Value, tenant: &str) {
    if let Some(identity) = v.get_mut("identity") {
        identity["tenantId"] = json!(tenant);
        if let Some(map) = identity
            .get_mut("userAssignedIdentities")
            .and_then(Value::as_object_mut)
        {
            for (id, entry) in map.iter_mut() {
                if let Some(i) = crate::managed_identity::find(st, id) {
                    *entry = json!({"principalId": i.principal_id, "clientId": i.client_id});
                }
            }
        }
    }
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
