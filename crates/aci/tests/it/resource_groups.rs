//! `ResourceGroupsClient`.

use crate::{ARM_TOKEN, SUB, cloud, credential, options, rg, sub};
use aci_cmk_aci::{ResourceGroups, ResourceGroupsClient};
use serde_json::json;
use std::collections::BTreeMap;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

fn rg_path() -> String {
    format!("/subscriptions/{SUB}/resourcegroups/rg-cmk")
}

fn client(server: &MockServer) -> ResourceGroupsClient {
    ResourceGroupsClient::new(&cloud(server), credential(), sub(), Some(options()))
}

#[tokio::test]
async fn create_get_and_delete() {
    let server = MockServer::start().await;
    let body = json!({"id": format!("/subscriptions/{SUB}/resourceGroups/rg-cmk"), "name": "rg-cmk", "location": "eastus", "properties": {"provisioningState": "Succeeded"}});
    Mock::given(method("PUT"))
        .and(path(rg_path()))
        .and(query_param("api-version", "2021-04-01"))
        .and(header("authorization", ARM_TOKEN))
        .and(body_json(
            json!({"location": "eastus", "tags": {"app": "cmk"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(rg_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let location = format!("{}/operationresults/rg1", server.uri());
    Mock::given(method("DELETE"))
        .and(path(rg_path()))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", location.as_str())
                .insert_header("retry-after", "0"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operationresults/rg1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let tags = BTreeMap::from([("app".to_owned(), "cmk".to_owned())]);
    let created = c
        .create_or_update(&rg(), &"East US".parse().expect("location"), &tags, None)
        .await
        .expect("created");
    assert_eq!(created.location, "eastus");
    assert!(c.get(&rg(), None).await.expect("read").is_some());
    c.delete(&rg(), None).await.expect("deleted");
}

#[tokio::test]
async fn a_missing_group_reads_as_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg-cmk' could not be found."}})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "ResourceGroupNotFound", "message": "x"}})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(c.get(&rg(), None).await.expect("read").is_none());
    c.delete(&rg(), None)
        .await
        .expect("deleting a missing group is fine");
}
