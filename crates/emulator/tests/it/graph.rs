//! Microsoft Graph service principals and applications, and directory objects by id.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, MI_API, enc};

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

/// `POST /v1.0/directoryObjects/getByIds`, as `az role assignment list` resolves principal
/// names: each found object as its own GET renders it, with its `@odata.type`.
#[tokio::test]
async fn directory_objects_get_by_ids_resolves_principals() {
    let env = Env::start().await;
    let g = env.info.graph_endpoint.clone();
    let t = env.graph_token().await;
    let deployer = crate::common::claims(&t)["oid"]
        .as_str()
        .expect("oid")
        .to_owned();
    let url = format!("{g}/v1.0/directoryObjects/getByIds");
    let post = |body: Value| {
        let (t, url, env) = (t.clone(), url.clone(), &env);
        async move { env.send(Method::POST, &url, Some(&t), Some(&body)).await }
    };
    let get = |path: String| {
        let (t, env) = (t.clone(), &env);
        async move { env.send(Method::GET, &path, Some(&t), None).await }
    };

    // The ACI first-party principal, a managed identity's principal, and an app with its own.
    let aci = env
        .send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&json!({"appId": ACI})),
        )
        .await;
    aci.expect(201);
    let aci = aci.body["id"].as_str().expect("id").to_owned();
    env.create_rg("rg").await;
    let mi = env
        .arm(
            Method::PUT,
            &format!(
                "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
                env.sub()
            ),
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    mi.expect(201);
    let mi = mi.body["properties"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_owned();
    let (app_id, _, app_sp) = env.add_principal("app1").await;
    let apps = get(format!(
        "{g}/v1.0/applications?$filter={}",
        enc(&format!("appId eq '{app_id}'"))
    ))
    .await;
    let app = apps.body["value"][0]["id"]
        .as_str()
        .expect("app object id")
        .to_owned();
    let unknown = "5d6059b6-368d-45f8-91e1-8e07d485f1d0";

    // What the CLI sends: service principals found, the rest left out.
    let sps = [&deployer, &aci, &mi, &app_sp];
    let mut ids: Vec<&str> = sps.iter().map(|s| s.as_str()).collect();
    ids.extend([app.as_str(), unknown]);
    let r = post(json!({"ids": ids,
        "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]}))
    .await;
    r.expect(200);
    assert_eq!(
        r.body["@odata.context"],
        format!("{g}/v1.0/$metadata#directoryObjects")
    );
    let value = r.body["value"].as_array().expect("value").clone();
    let found: Vec<&str> = value.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(
        found,
        sps.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "in the order asked"
    );
    for o in &value {
        // Each one exactly as its GET renders it, plus its type.
        let mut own = get(format!(
            "{g}/v1.0/servicePrincipals/{}",
            o["id"].as_str().unwrap_or("")
        ))
        .await
        .body;
        own.as_object_mut().map(|m| m.remove("@odata.context"));
        own["@odata.type"] = json!("#microsoft.graph.servicePrincipal");
        assert_eq!(*o, own);
    }
    let names: Vec<&str> = value
        .iter()
        .filter_map(|o| o["displayName"].as_str())
        .collect();
    assert!(
        names.contains(&"Azure Container Instance Service"),
        "{names:?}"
    );
    assert!(names.contains(&"id1"), "{names:?}");

    // Without types every kind is searched: the application too; a repeated id once.
    let r = post(json!({"ids": [&app, &aci, &app, unknown]})).await;
    r.expect(200);
    let value = r.body["value"].as_array().expect("value");
    assert_eq!(value.len(), 2, "{}", r.body);
    assert_eq!(value[0]["@odata.type"], "#microsoft.graph.application");
    assert_eq!(value[0]["id"], app.as_str());
    assert_eq!(value[0]["appId"], app_id.as_str());
    assert_eq!(value[1]["@odata.type"], "#microsoft.graph.servicePrincipal");
    // Types are case-insensitive and filter.
    let r = post(json!({"ids": [&app, &aci], "types": ["APPLICATION"]})).await;
    let value = r.body["value"].as_array().expect("value");
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["id"], app.as_str());
    let r = post(json!({"ids": [&app, &aci], "types": ["directoryObject"]})).await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(2));
    let r = post(json!({"ids": [&app, &aci, &deployer], "types": ["user", "group"]})).await;
    r.expect(200);
    assert_eq!(r.body["value"], json!([]));
    let r = post(json!({"ids": [], "types": ["servicePrincipal"]})).await;
    r.expect(200);
    assert_eq!(r.body["value"], json!([]));
    // 1000 ids are fine.
    let many: Vec<String> = (0..1000)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let r = post(json!({"ids": many})).await;
    r.expect(200);
    assert_eq!(r.body["value"], json!([]));
}

#[tokio::test]
async fn directory_objects_get_by_ids_refuses_bad_requests() {
    let env = Env::start().await;
    let g = env.info.graph_endpoint.clone();
    let t = env.graph_token().await;
    let url = format!("{g}/v1.0/directoryObjects/getByIds");
    let id = "5d6059b6-368d-45f8-91e1-8e07d485f1d0";
    let too_many: Vec<String> = (0..1001)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"ids": [id], "types": ["servicePrincipal", "robot"]}),
            "Request_BadRequest",
        ),
        (json!({"ids": too_many}), "Request_BadRequest"),
        (json!({}), "Request_BadRequest"),
        (json!({"types": ["user"]}), "Request_BadRequest"),
        (json!({"ids": null}), "Request_BadRequest"),
        (json!({"ids": id}), "BadRequest"),
        (json!({"ids": [id, 7]}), "BadRequest"),
        (json!({"ids": [id], "types": "user"}), "BadRequest"),
        (json!({"ids": [id], "types": [1]}), "BadRequest"),
        (json!({"ids": ["not-a-guid"]}), "Request_BadRequest"),
        (json!([id]), "BadRequest"),
    ];
    for (body, code) in cases {
        let r = env.send(Method::POST, &url, Some(&t), Some(&body)).await;
        r.expect_err(400, code);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
                && r.body["error"]["innerError"]["request-id"].is_string(),
            "Graph's error shape: {}",
            r.body
        );
    }
    let r = env
        .http
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"ids\": [")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 400);
    // A Graph token is required: none, or one for ARM, is 401.
    let body = json!({"ids": [id]});
    env.send(Method::POST, &url, None, Some(&body))
        .await
        .expect_err(401, "InvalidAuthenticationToken");
    let arm = env.arm_token().await;
    env.send(Method::POST, &url, Some(&arm), Some(&body))
        .await
        .expect_err(401, "InvalidAuthenticationToken");
}
