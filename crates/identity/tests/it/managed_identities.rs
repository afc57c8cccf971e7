//! `ManagedIdentitiesClient`: user-assigned identities over ARM.

use crate::{SUB, TENANT, arm_bearer, identities};
use aci_cmk_core::{
    names::{IdentityName, Location, ResourceGroupName},
    resource_id::ResourceId,
};
use aci_cmk_identity::ManagedIdentities;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const API: &str = "2023-01-31";
const PRINCIPAL: &str = "00000000-0000-0000-0000-0000000000dd";
const CLIENT: &str = "00000000-0000-0000-0000-0000000000ee";

fn rg() -> ResourceGroupName {
    "rg-cmk".parse().expect("valid group")
}

fn name() -> IdentityName {
    "aci-cmk-id".parse().expect("valid identity name")
}

fn identity_path() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aci-cmk-id"
    )
}

fn identity_body() -> Value {
    json!({
        // Azure spells the group segment in lowercase here.
        "id": format!("/subscriptions/{SUB}/resourcegroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aci-cmk-id"),
        "name": "aci-cmk-id",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": "westeurope",
        "tags": {"purpose": "cmk"},
        "properties": {"tenantId": TENANT, "principalId": PRINCIPAL, "clientId": CLIENT, "isolationScope": "None"}
    })
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"code": code, "message": message}}))
}

#[tokio::test]
async fn create_puts_location_and_tags_and_flattens_the_ids() {
    let server = MockServer::start().await;
    let client = identities(&server);
    Mock::given(method("PUT"))
        .and(path(identity_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .and(body_json(
            json!({"location": "westeurope", "tags": {"purpose": "cmk"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(identity_body()))
        .expect(1)
        .mount(&server)
        .await;
    let location: Location = "westeurope".parse().expect("location");
    let tags: BTreeMap<String, String> = [("purpose".to_owned(), "cmk".to_owned())].into();
    let identity = client
        .create_or_update(&rg(), &name(), &location, &tags, None)
        .await
        .expect("created");
    let expected_id = ResourceId::resource(
        &SUB.parse().expect("sub"),
        &rg(),
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities",
        "aci-cmk-id",
    )
    .expect("valid id");
    assert_eq!(identity.id, expected_id);
    assert_eq!(identity.name, name());
    assert_eq!(identity.location, location);
    assert_eq!(identity.tags, tags);
    assert_eq!(identity.principal_id.as_str(), PRINCIPAL);
    assert_eq!(identity.client_id.as_str(), CLIENT);
    assert_eq!(identity.tenant_id.as_str(), TENANT);
    // And back to the wire shape.
    let wire = serde_json::to_value(&identity).expect("serializes");
    assert_eq!(wire["properties"]["principalId"], PRINCIPAL);
}

#[tokio::test]
async fn update_of_an_existing_identity_answers_200() {
    let server = MockServer::start().await;
    let client = identities(&server);
    Mock::given(method("PUT"))
        .and(body_json(json!({"location": "westeurope", "tags": {}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(identity_body()))
        .expect(1)
        .mount(&server)
        .await;
    client
        .create_or_update(
            &rg(),
            &name(),
            &"westeurope".parse().expect("location"),
            &BTreeMap::new(),
            None,
        )
        .await
        .expect("updated");
}

#[tokio::test]
async fn get_decodes_and_a_missing_identity_is_not_found() {
    let server = MockServer::start().await;
    let client = identities(&server);
    Mock::given(method("GET"))
        .and(path(identity_path()))
        .and(query_param("api-version", API))
        .and(header("authorization", arm_bearer(&server).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(identity_body()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(arm_error(
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/aci-cmk-id' under resource group 'rg-cmk' was not found.",
        ))
        .mount(&server)
        .await;
    let identity = client.get(&rg(), &name(), None).await.expect("found");
    assert_eq!(identity.principal_id.as_str(), PRINCIPAL);
    let err = client.get(&rg(), &name(), None).await.expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some("ResourceNotFound"));
}

#[tokio::test]
async fn a_missing_resource_group_is_not_found_too() {
    let server = MockServer::start().await;
    let client = identities(&server);
    Mock::given(method("PUT"))
        .respond_with(arm_error(
            404,
            "ResourceGroupNotFound",
            "Resource group 'rg-cmk' could not be found.",
        ))
        .mount(&server)
        .await;
    let err = client
        .create_or_update(
            &rg(),
            &name(),
            &"westeurope".parse().expect("location"),
            &BTreeMap::new(),
            None,
        )
        .await
        .expect_err("no group");
    assert!(err.is_not_found());
    assert_eq!(err.code(), Some("ResourceGroupNotFound"));
}

#[tokio::test]
async fn delete_accepts_200_204_and_a_missing_identity() {
    let server = MockServer::start().await;
    let client = identities(&server);
    for status in [200, 204] {
        Mock::given(method("DELETE"))
            .and(path(identity_path()))
            .and(query_param("api-version", API))
            .and(header("authorization", arm_bearer(&server).as_str()))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .respond_with(arm_error(404, "ResourceNotFound", "gone"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(arm_error(403, "AuthorizationFailed", "no delete right"))
        .mount(&server)
        .await;
    for _ in 0..3 {
        client.delete(&rg(), &name(), None).await.expect("deleted");
    }
    let err = client
        .delete(&rg(), &name(), None)
        .await
        .expect_err("forbidden");
    assert!(err.is_forbidden(), "{err:?}");
}
