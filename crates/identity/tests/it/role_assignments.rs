//! `RoleAssignmentsClient`: role assignments over ARM, including `RoleAssignmentExists` and
//! `PrincipalNotFound`.

use crate::{SUB, arm_bearer, roles};
use aci_cmk_core::{names::PrincipalId, resource_id::ResourceId};
use aci_cmk_identity::{
    Error, RoleAssignments,
    role_assignments::{PrincipalType, RoleDefinitionId, assignment_name},
};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const API: &str = "2022-04-01";
const PRINCIPAL: &str = "00000000-0000-0000-0000-0000000000dd";
const OTHER_NAME: &str = "11111111-2222-3333-4444-555555555555";
const ROLE: RoleDefinitionId = RoleDefinitionId::KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER;

fn vault() -> ResourceId {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.KeyVault/vaults/contoso-cmk"
    )
    .parse()
    .expect("valid vault id")
}

fn principal() -> PrincipalId {
    PRINCIPAL.parse().expect("valid principal")
}

fn assignments_path() -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        vault()
    )
}

fn assignment(scope: &str, name: &str, role: &str) -> Value {
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": name,
        "properties": {
            // Responses drop the /subscriptions/{sub} prefix.
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": PRINCIPAL,
            "principalType": "ServicePrincipal",
            "scope": scope,
            "createdOn": "2025-01-01T00:00:00Z"
        }
    })
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"code": code, "message": message}}))
}

fn create_body() -> Value {
    json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"),
        "principalId": PRINCIPAL,
        "principalType": "ServicePrincipal"
    }})
}

#[tokio::test]
async fn create_puts_a_deterministic_name_with_the_full_role_id() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let name = assignment_name(&vault(), ROLE, &principal());
    Mock::given(method("PUT"))
        .and(path(format!("{}/{name}", assignments_path())))
        .and(query_param("api-version", API))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .and(body_json(create_body()))
        .respond_with(ResponseTemplate::new(201).set_body_json(assignment(
            vault().as_str(),
            &name.to_string(),
            &ROLE.to_string(),
        )))
        .expect(2)
        .mount(&server)
        .await;
    for _ in 0..2 {
        let created = client
            .create(
                &vault(),
                ROLE,
                &principal(),
                PrincipalType::ServicePrincipal,
                None,
            )
            .await
            .expect("created");
        assert_eq!(created.name, name);
        assert_eq!(created.role(), Some(ROLE));
        assert_eq!(
            created.properties.principal_type,
            Some(PrincipalType::ServicePrincipal)
        );
        assert!(created.is_at_scope(&vault()));
    }
}

#[tokio::test]
async fn role_assignment_exists_is_success_once_a_list_confirms_it() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            409,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let subscription_scope = format!("/subscriptions/{SUB}");
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(query_param("api-version", API))
        .and(query_param("$filter", format!("principalId eq '{PRINCIPAL}'").as_str()))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            // Inherited from the subscription: same role, not at this scope.
            assignment(&subscription_scope, "99999999-2222-3333-4444-555555555555", &ROLE.to_string()),
            // At this scope, but another role.
            assignment(vault().as_str(), "88888888-2222-3333-4444-555555555555", "12338af0-0e69-4776-bea7-57ae8d297424"),
            // The one: another name, scope spelled in lowercase.
            assignment(&vault().as_str().to_lowercase(), OTHER_NAME, &ROLE.to_string().to_uppercase()),
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let existing = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect("exists counts as success");
    assert_eq!(existing.name, OTHER_NAME.parse::<Uuid>().expect("uuid"));
}

#[tokio::test]
async fn role_assignment_exists_without_a_matching_assignment_is_an_error() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            409,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect_err("not confirmed");
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(err.code(), Some("RoleAssignmentExists"));
}

#[tokio::test]
async fn another_conflict_is_not_taken_for_success() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            409,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(0)
        .mount(&server)
        .await;
    let err = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect_err("conflict");
    assert_eq!(err.code(), Some("RoleAssignmentUpdateNotPermitted"));
}

#[tokio::test]
async fn principal_not_found_is_reported_for_a_retry() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            400,
            "PrincipalNotFound",
            "Principal 00000000000000000000000000dd does not exist in the directory. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay.",
        ))
        .mount(&server)
        .await;
    let err = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect_err("not replicated yet");
    assert!(err.is_principal_not_found(), "{err:?}");
    assert!(err.is_not_found());
    assert_eq!(
        err.as_service().and_then(aci_cmk_core::Error::status),
        Some(400)
    );
}

#[tokio::test]
async fn missing_rights_to_assign_roles_are_forbidden() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            403,
            "AuthorizationFailed",
            "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'.",
        ))
        .mount(&server)
        .await;
    let err = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            None,
        )
        .await
        .expect_err("forbidden");
    assert!(err.is_forbidden());
    assert!(!err.is_principal_not_found());
}

#[tokio::test]
async fn an_unknown_principal_type_is_refused_before_sending() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let err = client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::Other("Robot".into()),
            None,
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn list_for_principal_filters_and_follows_next_link() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let next = format!(
        "{}{}?api-version={API}&$filter=principalId%20eq%20'{PRINCIPAL}'&$skiptoken=2",
        server.uri(),
        assignments_path()
    );
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(query_param("$skiptoken", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            assignment(vault().as_str(), OTHER_NAME, &ROLE.to_string())
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(query_param("api-version", API))
        .and(query_param("$filter", format!("principalId eq '{PRINCIPAL}'").as_str()))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [assignment(&format!("/subscriptions/{SUB}"), "99999999-2222-3333-4444-555555555555", "21090545-7ca7-4776-b22c-e363652d74d2")],
            "nextLink": next
        })))
        .expect(1)
        .mount(&server)
        .await;
    let listed = client
        .list_for_principal(&vault(), &principal(), None)
        .await
        .expect("listed");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].role(), Some(RoleDefinitionId::KEY_VAULT_READER));
    assert!(!listed[0].is_at_scope(&vault()));
    assert!(listed[1].is_at_scope(&vault()));
}

#[tokio::test]
async fn delete_accepts_200_204_and_a_missing_assignment() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let name: Uuid = OTHER_NAME.parse().expect("uuid");
    for status in [200, 204] {
        Mock::given(method("DELETE"))
            .and(path(format!("{}/{OTHER_NAME}", assignments_path())))
            .and(query_param("api-version", API))
            .and(header("authorization", arm_bearer(&server).as_str()))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .respond_with(arm_error(404, "RoleAssignmentNotFound", "gone"))
        .expect(1)
        .mount(&server)
        .await;
    for _ in 0..3 {
        client.delete(&vault(), &name, None).await.expect("deleted");
    }
}

#[test]
fn role_definition_ids_parse_every_spelling() {
    let full: RoleDefinitionId = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
    )
    .parse()
    .expect("full id");
    let short: RoleDefinitionId =
        "/providers/Microsoft.Authorization/roleDefinitions/E147488A-F6F5-4113-8E2D-B22465E65BF6"
            .parse()
            .expect("short id");
    assert_eq!(full, ROLE);
    assert_eq!(short, ROLE);
    assert!(
        "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid"
            .parse::<RoleDefinitionId>()
            .is_err()
    );
    assert_eq!(
        RoleDefinitionId::KEY_VAULT_CRYPTO_OFFICER.to_string(),
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    );
    assert_eq!(
        RoleDefinitionId::KEY_VAULT_ADMINISTRATOR.to_string(),
        "00482a5a-887f-4fb3-b363-3b7fe8e74483"
    );
}

#[test]
fn assignment_names_differ_per_scope_role_and_principal() {
    let other_vault: ResourceId = format!("{}-2", vault()).parse().expect("vault");
    let other_principal: PrincipalId = "00000000-0000-0000-0000-0000000000ef"
        .parse()
        .expect("principal");
    let base = assignment_name(&vault(), ROLE, &principal());
    assert_ne!(base, assignment_name(&other_vault, ROLE, &principal()));
    assert_ne!(
        base,
        assignment_name(
            &vault(),
            RoleDefinitionId::KEY_VAULT_CRYPTO_USER,
            &principal()
        )
    );
    assert_ne!(base, assignment_name(&vault(), ROLE, &other_principal));
}

#[tokio::test]
async fn an_existing_assignment_is_confirmed_under_the_same_call_options() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let id = "aci-cmk/run-1/encryption_access";
    Mock::given(method("PUT"))
        .and(header("x-ms-client-request-id", id))
        .respond_with(
            arm_error(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists.",
            )
            .insert_header("x-ms-request-id", "req-put")
            .insert_header("x-ms-correlation-request-id", "corr-put"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(header("x-ms-client-request-id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            assignment(vault().as_str(), OTHER_NAME, &ROLE.to_string()),
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let recorder = aci_cmk_core::ResponseRecorder::new();
    let options = aci_cmk_core::CallOptions::default()
        .with_client_request_id(id)
        .with_recorder(recorder.clone());
    client
        .create(
            &vault(),
            ROLE,
            &principal(),
            PrincipalType::ServicePrincipal,
            Some(options),
        )
        .await
        .expect("exists counts as success");
    let writes = recorder.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (
            writes[0].status,
            writes[0].request_id.as_deref(),
            writes[0].correlation_id.as_deref()
        ),
        (409, Some("req-put"), Some("corr-put"))
    );
    assert_eq!(recorder.responses().len(), 2, "the PUT and the list");
}

#[tokio::test]
async fn list_at_scope_lists_every_principal_without_a_filter_across_pages() {
    let server = MockServer::start().await;
    let client = roles(&server);
    let next = format!(
        "{}{}?api-version={API}&$skiptoken=2",
        server.uri(),
        assignments_path()
    );
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(query_param("$skiptoken", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            assignment(&format!("{}/keys/k1", vault()), "22222222-2222-3333-4444-555555555555", &ROLE.to_string()),
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(assignments_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [assignment(vault().as_str(), OTHER_NAME, &ROLE.to_string())],
            "nextLink": next,
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let listed = client.list_at_scope(&vault(), None).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[0].is_at_scope(&vault()));
    assert!(!listed[1].is_at_scope(&vault()));
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests
            .iter()
            .all(|r| !r.url.query().unwrap_or_default().contains("filter")),
        "no $filter: every principal"
    );
}

#[tokio::test]
async fn get_role_definition_reads_it_in_the_subscription() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE}"
        )))
        .and(query_param("api-version", API))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE}"),
            "type": "Microsoft.Authorization/roleDefinitions",
            "name": ROLE.to_string(),
            "properties": {
                "roleName": "Key Vault Crypto Service Encryption User",
                "type": "BuiltInRole",
                "permissions": [{
                    "actions": ["Microsoft.EventGrid/eventSubscriptions/read"],
                    "notActions": [],
                    "dataActions": [
                        "Microsoft.KeyVault/vaults/keys/read",
                        "Microsoft.KeyVault/vaults/keys/wrap/action",
                        "Microsoft.KeyVault/vaults/keys/unwrap/action"
                    ],
                    "notDataActions": []
                }],
                "assignableScopes": ["/"]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let role = client.get_role_definition(ROLE, None).await.expect("read");
    assert_eq!(role.guid(), Some(ROLE));
    assert_eq!(
        role.display_name(),
        "Key Vault Crypto Service Encryption User"
    );
    assert!(role.allows_data_action("Microsoft.KeyVault/vaults/keys/unwrap/action"));
    assert!(!role.allows_data_action("Microsoft.KeyVault/vaults/keys/delete"));
}

#[tokio::test]
async fn a_missing_role_definition_is_not_found() {
    let server = MockServer::start().await;
    let client = roles(&server);
    Mock::given(method("GET"))
        .respond_with(arm_error(
            404,
            "RoleDefinitionDoesNotExist",
            "The specified role definition with ID 'x' does not exist.",
        ))
        .mount(&server)
        .await;
    let err = client
        .get_role_definition(RoleDefinitionId::new(Uuid::nil()), None)
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
}
