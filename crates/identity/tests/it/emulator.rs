//! The three identity clients end to end against the local emulator: ACI's service principal
//! ensured through Graph, a user-assigned identity created, and a role assigned to it (including
//! the `RoleAssignmentExists` path); every assignment at a vault's scope listed, and role
//! definitions read by what they allow.

use aci_cmk_core::{
    CloudEndpoints, Connection, ServiceClientOptions, ServicePipeline, TokenCredential,
    cloud::EmulatorProfile,
    names::{ResourceGroupName, SubscriptionId},
    resource_id::ResourceId,
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use aci_cmk_identity::{
    ACI_FIRST_PARTY_APP_ID, Directory, DirectoryClient, ManagedIdentities, ManagedIdentitiesClient,
    RoleAssignments, RoleAssignmentsClient,
    role_assignments::{PrincipalType, RoleDefinitionId},
};
use azure_core::http::{Context, Method};
use serde_json::json;
use std::{collections::BTreeMap, sync::Arc};

struct Setup {
    _emulator: RunningEmulator,
    cloud: CloudEndpoints,
    credential: Arc<dyn TokenCredential>,
    options: ServiceClientOptions,
    subscription: SubscriptionId,
    client_id: String,
}

async fn start() -> Setup {
    let emulator = Emulator::start(EmulatorOptions::default())
        .await
        .expect("emulator starts");
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())
        .expect("ready line parses");
    let connection = Connection::emulator(&profile).expect("connects to the emulator");
    Setup {
        client_id: profile.client_id.clone(),
        _emulator: emulator,
        cloud: connection.cloud,
        credential: connection.credential,
        options: connection.options,
        subscription: connection.subscription_id,
    }
}

impl Setup {
    fn arm(&self) -> ServicePipeline {
        ServicePipeline::new(
            "aci_cmk_identity_tests",
            "0.0.0",
            self.cloud.resource_manager.clone(),
            self.credential.clone(),
            self.cloud.resource_manager_scope(),
            self.options.clone(),
        )
    }

    /// The tenant, from the ARM subscription.
    async fn tenant_id(&self) -> String {
        let arm = self.arm();
        let url = arm.url(
            &format!("/subscriptions/{}", self.subscription),
            Some("2022-12-01"),
        );
        let sub: serde_json::Value = arm
            .json::<(), _>(&Context::new(), Method::Get, url, None)
            .await
            .expect("subscription read");
        sub["tenantId"].as_str().expect("tenant id").to_owned()
    }

    async fn resource_group(&self, name: &str) -> ResourceGroupName {
        let arm = self.arm();
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
}

#[tokio::test]
async fn directory_ensures_the_aci_service_principal_once() {
    let setup = start().await;
    let directory: Arc<dyn Directory> = Arc::new(DirectoryClient::new(
        &setup.cloud,
        setup.credential.clone(),
        Some(setup.options.clone()),
    ));
    let aci = ACI_FIRST_PARTY_APP_ID.parse().expect("app id");
    let before = directory
        .get_service_principal_by_app_id(&aci, None)
        .await
        .expect("lookup");
    let first = directory
        .ensure_service_principal(&aci, None)
        .await
        .expect("ensured");
    assert_eq!(first.created, before.is_none());
    assert_eq!(first.service_principal.app_id, aci);
    let second = directory
        .ensure_service_principal(&aci, None)
        .await
        .expect("ensured again");
    assert!(!second.created);
    assert_eq!(second.service_principal.id, first.service_principal.id);

    let deployer = directory
        .get_service_principal_by_app_id(&setup.client_id.parse().expect("client id"), None)
        .await
        .expect("lookup")
        .expect("the deployer has a service principal");
    assert_ne!(deployer.id, first.service_principal.id);
}

#[tokio::test]
async fn identity_and_role_assignment_lifecycle() {
    let setup = start().await;
    let rg = setup.resource_group("rg-identity").await;
    let identities = ManagedIdentitiesClient::new(
        &setup.cloud,
        setup.credential.clone(),
        setup.subscription.clone(),
        Some(setup.options.clone()),
    );
    let name = "aci-cmk-id".parse().expect("identity name");
    let tags: BTreeMap<String, String> = [("purpose".to_owned(), "cmk".to_owned())].into();
    let identity = identities
        .create_or_update(
            &rg,
            &name,
            &"westeurope".parse().expect("location"),
            &tags,
            None,
        )
        .await
        .expect("identity created");
    assert_eq!(identity.name, name);
    assert_eq!(identity.tags, tags);
    assert_eq!(
        identities.get(&rg, &name, None).await.expect("read"),
        identity
    );

    let roles = RoleAssignmentsClient::new(
        &setup.cloud,
        setup.credential.clone(),
        setup.subscription.clone(),
        Some(setup.options.clone()),
    );
    let scope = ResourceId::resource_group(&setup.subscription, &rg);
    let role = RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER;
    let created = roles
        .create(
            &scope,
            role,
            &identity.principal_id,
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("assigned");
    assert_eq!(created.role(), Some(role));
    assert!(created.is_at_scope(&scope));
    // Again: the deterministic name makes it the same assignment.
    let again = roles
        .create(
            &scope,
            role,
            &identity.principal_id,
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("idempotent");
    assert_eq!(again.name, created.name);

    // The same assignment under another name: RoleAssignmentExists, confirmed by a list.
    roles
        .delete(&scope, &created.name, None)
        .await
        .expect("deleted");
    let arm = setup.arm();
    let other = "11111111-2222-3333-4444-555555555555";
    let url = arm.url(
        &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{other}"),
        Some("2022-04-01"),
    );
    arm.send(
        &Context::new(),
        Method::Put,
        url,
        Some(&json!({"properties": {
            "roleDefinitionId": role.resource_id_in(&setup.subscription),
            "principalId": identity.principal_id,
            "principalType": "ServicePrincipal"
        }})),
    )
    .await
    .expect("assigned under another name");
    let existing = roles
        .create(
            &scope,
            role,
            &identity.principal_id,
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("RoleAssignmentExists is success");
    assert_eq!(existing.name.to_string(), other);

    let listed = roles
        .list_for_principal(&scope, &identity.principal_id, None)
        .await
        .expect("listed");
    assert!(listed.iter().any(|a| a.name == existing.name));
    roles
        .delete(&scope, &existing.name, None)
        .await
        .expect("deleted");
    roles
        .delete(&scope, &existing.name, None)
        .await
        .expect("deleting again succeeds");
    let left = roles
        .list_for_principal(&scope, &identity.principal_id, None)
        .await
        .expect("listed");
    assert!(left.iter().all(|a| a.role() != Some(role)), "{left:?}");

    identities
        .delete(&rg, &name, None)
        .await
        .expect("identity deleted");
    identities
        .delete(&rg, &name, None)
        .await
        .expect("deleting again succeeds");
    let err = identities.get(&rg, &name, None).await.expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn assignments_at_a_scope_and_role_definitions_are_read() {
    let setup = start().await;
    let rg = setup.resource_group("rg-rbac").await;
    let identities = ManagedIdentitiesClient::new(
        &setup.cloud,
        setup.credential.clone(),
        setup.subscription.clone(),
        Some(setup.options.clone()),
    );
    let location = "westeurope".parse().expect("location");
    let mut principals = Vec::new();
    for name in ["id-a", "id-b"] {
        let identity = identities
            .create_or_update(
                &rg,
                &name.parse().expect("name"),
                &location,
                &BTreeMap::new(),
                None,
            )
            .await
            .expect("identity created");
        principals.push(identity.principal_id);
    }
    let roles = RoleAssignmentsClient::new(
        &setup.cloud,
        setup.credential.clone(),
        setup.subscription.clone(),
        Some(setup.options.clone()),
    );
    let group_scope = ResourceId::resource_group(&setup.subscription, &rg);
    let vault: ResourceId =
        format!("{group_scope}/providers/Microsoft.KeyVault/vaults/kv-rbac-list")
            .parse()
            .expect("vault id");
    let key: ResourceId = format!("{vault}/keys/k1").parse().expect("key id");
    // An RBAC vault to assign on (this crate has no vault client: a plain ARM PUT).
    let arm = setup.arm();
    let tenant = setup.tenant_id().await;
    arm.send(
        &Context::new(),
        Method::Put,
        arm.url(vault.as_str(), Some("2024-11-01")),
        Some(&json!({"location": "westeurope", "properties": {
            "tenantId": tenant,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": true
        }})),
    )
    .await
    .expect("vault created");
    // One above the vault (inherited), one below it (on a key).
    roles
        .create(
            &group_scope,
            RoleDefinitionId::KEY_VAULT_READER,
            &principals[0],
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("assigned at the group");
    roles
        .create(
            &key,
            RoleDefinitionId::KEY_VAULT_CRYPTO_USER,
            &principals[1],
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("assigned on the key");
    let listed = roles.list_at_scope(&vault, None).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|a| !a.is_at_scope(&vault)));
    for p in &principals {
        assert!(
            listed.iter().any(|a| &a.properties.principal_id == p),
            "{p}"
        );
    }

    let reader = roles
        .get_role_definition(RoleDefinitionId::KEY_VAULT_READER, None)
        .await
        .expect("reader");
    assert_eq!(reader.guid(), Some(RoleDefinitionId::KEY_VAULT_READER));
    assert!(!reader.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
    let admin = roles
        .get_role_definition(RoleDefinitionId::KEY_VAULT_ADMINISTRATOR, None)
        .await
        .expect("administrator");
    assert!(admin.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
    assert!(admin.allows_data_action("Microsoft.KeyVault/vaults/keys/read"));
    let err = roles
        .get_role_definition(RoleDefinitionId::new(uuid::Uuid::nil()), None)
        .await
        .expect_err("no such role");
    assert!(err.is_not_found(), "{err:?}");
}
