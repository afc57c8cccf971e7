//! Microsoft Graph service principals and applications.

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, enc};

const ACI: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";

#[tokio::test]
async fn service_principals_follow_graph() {
    let env = Env::start().await;
    let g = env.info.graph_endpoint.clone();
    let t = env.graph_token().await;
    let oid = crate::common::claims(&t)["oid"]
        .as_str()
        .expect("oid")
        .to_owned();
    let get = |path: String| {
        let t = t.clone();
        let env = &env;
        async move { env.send(Method::GET, &path, Some(&t), None).await }
    };

    // The deployer exists with id == oid, found by id, appId, filter and SPN filter.
    let r = get(format!("{g}/v1.0/servicePrincipals/{oid}")).await;
    r.expect(200);
    assert_eq!(r.body["appId"], env.info.client_id);
    let r = get(format!(
        "{g}/v1.0/servicePrincipals(appId='{}')",
        env.info.client_id
    ))
    .await;
    r.expect(200);
    assert_eq!(r.body["id"], oid);
    let f = enc(&format!("appId eq '{}'", env.info.client_id));
    let r = get(format!("{g}/v1.0/servicePrincipals?$filter={f}")).await;
    assert_eq!(r.body["value"][0]["id"], oid);
    let f = enc(&format!(
        "servicePrincipalNames/any(c:c eq '{}')",
        env.info.client_id
    ));
    let r = get(format!("{g}/v1.0/servicePrincipals?$filter={f}")).await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));

    // The ACI first-party app is known but has no service principal yet.
    let r = get(format!(
        "{g}/v1.0/servicePrincipals(appId='{ACI}')?$select=id,appId,displayName"
    ))
    .await;
    r.expect_err(404, "Request_ResourceNotFound");
    let f = enc(&format!("appId eq '{ACI}'"));
    let r = get(format!("{g}/v1.0/servicePrincipals?$filter={f}")).await;
    assert_eq!(r.body["value"], json!([]));
    let r = get(format!("{g}/v1.0/applications?$filter={f}")).await;
    r.expect(200);
    assert_eq!(r.body["value"], json!([]));
    get(format!("{g}/v1.0/applications/{ACI}"))
        .await
        .expect(404);

    // Create it; a second create conflicts.
    let body = json!({"appId": ACI, "accountEnabled": true});
    let r = env
        .send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&body),
        )
        .await;
    r.expect(201);
    assert_eq!(r.body["displayName"], "Azure Container Instance Service");
    let aci_id = r.body["id"].as_str().expect("id").to_owned();
    let r = env
        .send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&body),
        )
        .await;
    r.expect_err(409, "Request_MultipleObjectsWithSameKeyValue");
    let r = get(format!(
        "{g}/v1.0/servicePrincipals(appId='{ACI}')?$select=id,appId,displayName"
    ))
    .await;
    r.expect(200);
    assert_eq!(r.body["id"], aci_id);
    assert!(
        r.body.get("servicePrincipalNames").is_none(),
        "$select applies"
    );

    // Errors.
    get(format!("{g}/v1.0/me")).await.expect(400);
    let f = enc("startswith(displayName,'x')");
    get(format!("{g}/v1.0/servicePrincipals?$filter={f}"))
        .await
        .expect_err(400, "Request_UnsupportedQuery");
    let r = env
        .send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&json!({"appId": "00000000-0000-0000-0000-00000000000a"})),
        )
        .await;
    r.expect(400);
    let r = env
        .http
        .post(format!("{g}/v1.0/servicePrincipals"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 400);
    let r = env
        .send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&json!({"appId": 5})),
        )
        .await;
    r.expect(400);
}
