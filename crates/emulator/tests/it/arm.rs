//! ARM: resource groups, vaults (validation, soft delete, purge protection, access policies,
//! network rules), managed identities, role assignments, subscriptions and cloud metadata.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, KV_API, MI_API, RA_API, RG_API};

#[tokio::test]
async fn resource_groups_crud_headers_and_api_versions() {
    let env = Env::start().await;
    let p = env.rg_path("rg1");
    let r = env
        .arm(
            Method::PUT,
            &p,
            RG_API,
            Some(&json!({"location": "westeurope", "tags": {"a": "b"}})),
        )
        .await;
    r.expect(201);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{}/resourceGroups/rg1", env.sub())
    );
    assert!(!r.header("x-ms-request-id").is_empty());
    assert!(!r.header("x-ms-correlation-request-id").is_empty());
    env.arm(
        Method::PUT,
        &p,
        "2025-04-01",
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(200);
    // Case-insensitive path.
    let upper = format!("/subscriptions/{}/resourceGroups/RG1", env.sub());
    env.arm(Method::GET, &upper, "2024-11-01", None)
        .await
        .expect(200);
    env.arm(Method::HEAD, &p, RG_API, None).await.expect(204);
    env.arm(Method::HEAD, &env.rg_path("nope"), RG_API, None)
        .await
        .expect(404);
    let list = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}/resourcegroups", env.sub()),
            RG_API,
            None,
        )
        .await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(1));

    // api-version errors.
    let t = env.arm_token().await;
    let r = env
        .send(
            Method::GET,
            &format!("{}{p}", env.info.arm_endpoint),
            Some(&t),
            None,
        )
        .await;
    r.expect_err(400, "MissingApiVersionParameter");
    assert_eq!(r.header("x-ms-error-code"), "MissingApiVersionParameter");
    env.arm(Method::GET, &p, "2099-01-01", None)
        .await
        .expect_err(400, "InvalidApiVersionParameter");
    // Validation.
    env.arm(
        Method::PUT,
        &env.rg_path("rg2"),
        RG_API,
        Some(&json!({"tags": {}})),
    )
    .await
    .expect_err(400, "LocationRequired");
    env.arm(
        Method::PUT,
        &env.rg_path("bad%20name"),
        RG_API,
        Some(&json!({"location": "x"})),
    )
    .await
    .expect(400);
    let bad = env
        .send(
            Method::PUT,
            &format!(
                "{}{}?api-version={RG_API}",
                env.info.arm_endpoint,
                env.rg_path("rg3")
            ),
            Some(&t),
            Some(&json!([1])),
        )
        .await;
    bad.expect_err(400, "InvalidRequestContent");
    env.arm(
        Method::GET,
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups",
        RG_API,
        None,
    )
    .await
    .expect_err(404, "SubscriptionNotFound");

    // Deleting a group deletes (soft-deletes) its contents.
    env.create_vault("rg1", "rgvault1", json!({}))
        .await
        .expect(200);
    // As Azure deletes a group: 202 with a Location, polled until done, then 200 (timing::*).
    let deleting = env.arm(Method::DELETE, &p, RG_API, None).await;
    deleting.expect(202);
    assert_eq!(deleting.header("retry-after"), "1");
    let location = deleting.header("location").to_owned();
    assert!(location.contains("/operationResults/"), "{location}");
    let t = env.arm_token().await;
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().resource_group_delete_ms + 1,
    ));
    env.send(Method::GET, &location, Some(&t), None)
        .await
        .expect(200);
    env.arm(Method::GET, &p, RG_API, None)
        .await
        .expect_err(404, "ResourceGroupNotFound");
    let d = env
        .arm(Method::GET, &format!("/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/rgvault1", env.sub()), KV_API, None)
        .await;
    d.expect(200);
    env.arm(Method::DELETE, &p, RG_API, None)
        .await
        .expect_err(404, "ResourceGroupNotFound");
}

#[tokio::test]
async fn subscriptions_locations_and_cloud_metadata() {
    let env = Env::start().await;
    let r = env
        .arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await;
    r.expect(200);
    assert_eq!(r.body["value"][0]["subscriptionId"], env.sub());
    assert_eq!(r.body["value"][0]["tenantId"], env.tenant());
    assert_eq!(r.body["value"][0]["state"], "Enabled");
    env.arm(
        Method::GET,
        &format!("/subscriptions/{}", env.sub()),
        "2022-12-01",
        None,
    )
    .await
    .expect(200);
    // Cloud metadata needs no token.
    let m = env
        .send(
            Method::GET,
            &format!(
                "{}/metadata/endpoints?api-version=2022-09-01",
                env.info.arm_endpoint
            ),
            None,
            None,
        )
        .await;
    m.expect(200);
    assert_eq!(m.body[0]["resourceManager"], env.info.arm_endpoint);
    assert_eq!(
        m.body[0]["suffixes"]["keyVaultDns"],
        env.info.keyvault_dns_suffix
    );
    assert_eq!(
        m.body[0]["authentication"]["loginEndpoint"],
        env.info.authority_host
    );
    let m = env
        .send(
            Method::GET,
            &format!(
                "{}/metadata/endpoints?api-version=2015-01-01",
                env.info.arm_endpoint
            ),
            None,
            None,
        )
        .await;
    assert!(m.body.is_object());
}

#[tokio::test]
async fn vault_validation_follows_azure() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    // Name rules.
    for bad in [
        "ab",
        "1abc",
        "abc-",
        "ab--cd",
        "a_bc",
        "abcdefghijklmnopqrstuvwxy",
    ] {
        let r = env.create_vault("rg", bad, json!({})).await;
        r.expect_err(400, "VaultNameNotValid");
    }
    env.create_vault("rg", "abc", json!({})).await.expect(200);
    env.create_vault("rg", "abcdefghijklmnopqrstuvwx", json!({}))
        .await
        .expect(200);
    // enablePurgeProtection: false is rejected even on create.
    let r = env
        .create_vault("rg", "pp-false", json!({"enablePurgeProtection": false}))
        .await;
    r.expect_err(400, "BadRequest");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("enablePurgeProtection")
    );
    // Retention 7..=90.
    env.create_vault("rg", "ret-6", json!({"softDeleteRetentionInDays": 6}))
        .await
        .expect(400);
    env.create_vault("rg", "ret-91", json!({"softDeleteRetentionInDays": 91}))
        .await
        .expect(400);
    env.create_vault("rg", "ret-7", json!({"softDeleteRetentionInDays": 7}))
        .await
        .expect(200);
    env.create_vault("rg", "ret-90", json!({"softDeleteRetentionInDays": 90}))
        .await
        .expect(200);
    env.create_vault("rg", "sd-false", json!({"enableSoftDelete": false}))
        .await
        .expect(400);
    // accessPolicies are required on create unless the vault uses RBAC.
    let no_policies = json!({"location": "westeurope", "properties": {"tenantId": env.tenant(), "sku": {"family": "A", "name": "standard"}}});
    env.arm(
        Method::PUT,
        &env.vault_path("rg", "no-pol"),
        KV_API,
        Some(&no_policies),
    )
    .await
    .expect(400);
    let mut rbac = no_policies.clone();
    rbac["properties"]["enableRbacAuthorization"] = json!(true);
    env.arm(
        Method::PUT,
        &env.vault_path("rg", "no-pol"),
        KV_API,
        Some(&rbac),
    )
    .await
    .expect(200);
    // Permissions: unknown names refused, case-insensitive match, `all` allowed.
    let oid = env.deployer_oid().await;
    let r = env
        .create_vault(
            "rg",
            "perm-bad",
            json!({"accessPolicies": [env.policy(&oid, &["get", "frobnicate"])]}),
        )
        .await;
    r.expect(400);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("frobnicate")
    );
    env.create_vault(
        "rg",
        "perm-ok",
        json!({"accessPolicies": [env.policy(&oid, &["Get", "WRAPKEY", "all"])]}),
    )
    .await
    .expect(200);
    // sku, types, JSON.
    env.create_vault(
        "rg",
        "sku-bad",
        json!({"sku": {"family": "A", "name": "gold"}}),
    )
    .await
    .expect(400);
    env.create_vault("rg", "type-bad", json!({"enableRbacAuthorization": "yes"}))
        .await
        .expect_err(400, "InvalidRequestContent");
    env.create_vault(
        "rg",
        "ip-bad",
        json!({"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "300.1.1.1"}]}}),
    )
    .await
    .expect(400);
    let t = env.arm_token().await;
    let url = format!(
        "{}{}?api-version={KV_API}",
        env.info.arm_endpoint,
        env.vault_path("rg", "json-bad")
    );
    let r = env
        .http
        .put(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"location\":")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 400);
    let r = env
        .send(
            Method::PUT,
            &url,
            Some(&t),
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    r.expect(400);
    // api-version and missing group.
    env.arm(
        Method::GET,
        &env.vault_path("rg", "abc"),
        "2020-01-01",
        None,
    )
    .await
    .expect_err(400, "NoRegisteredProviderFound");
    env.arm(
        Method::PUT,
        &env.vault_path("nogroup", "abcd"),
        KV_API,
        Some(&json!({"location": "westeurope", "properties": {}})),
    )
    .await
    .expect_err(404, "ResourceGroupNotFound");
    // Name taken in another group → conflict.
    env.create_rg("rg2").await;
    let r = env.arm(Method::PUT, &env.vault_path("rg2", "abc"), KV_API, Some(&json!({"location": "westeurope", "properties": {"tenantId": env.tenant(), "sku": {"family": "A", "name": "standard"}}}))).await;
    r.expect_err(409, "VaultAlreadyExists");
    // … and in another subscription.
    let other = env
        .admin(
            Method::POST,
            "/subscriptions",
            Some(&json!({"subscription_id": "0a0a0a0a-0000-4000-8000-00000000000a"})),
        )
        .await;
    other.expect(201);
    let subs = env
        .arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await;
    assert_eq!(subs.body["value"].as_array().map(Vec::len), Some(2));
    let osub = "/subscriptions/0a0a0a0a-0000-4000-8000-00000000000a";
    env.arm(
        Method::PUT,
        &format!("{osub}/resourcegroups/rg"),
        RG_API,
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(201);
    let r = env
        .arm(
            Method::PUT,
            &format!("{osub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/abc"),
            KV_API,
            Some(&json!({"location": "westeurope", "properties": {"tenantId": env.tenant(), "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}})),
        )
        .await;
    r.expect_err(409, "VaultAlreadyExists");
    let r = env
        .arm(
            Method::PUT,
            &format!("{osub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/othersub1"),
            KV_API,
            Some(&json!({"location": "westeurope", "properties": {"tenantId": env.tenant(), "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}})),
        )
        .await;
    r.expect(200);
    assert!(r.body["id"].as_str().unwrap_or("").starts_with(osub));
}

#[tokio::test]
async fn vault_lifecycle_policies_soft_delete_and_purge_protection() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    let vp = env.vault_path("rg", "life1");
    let r = env
        .create_vault("rg", "life1", json!({
            "accessPolicies": [env.policy(&oid, &["get", "list"])],
            "enablePurgeProtection": true,
            "softDeleteRetentionInDays": 7,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}, {"value": "10.1.0.0/16"}]}
        }))
        .await;
    r.expect(200);
    env.advance(std::time::Duration::from_secs(1));
    let r = env
        .arm(Method::GET, &env.vault_path("rg", "life1"), KV_API, None)
        .await;
    let p = &r.body["properties"];
    assert_eq!(p["vaultUri"], format!("{}/", env.vault_url("life1")));
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(
        p["networkAcls"]["ipRules"],
        json!([{"value": "203.0.113.7/32"}, {"value": "10.1.0.0/16"}])
    );
    assert_eq!(r.body["type"], "Microsoft.KeyVault/vaults");

    // CLI style update: GET then PUT the whole body back (read-only fields included).
    let mut got = env.arm(Method::GET, &vp, KV_API, None).await.body;
    got["properties"]["enabledForDeployment"] = json!(true);
    let r = env.arm(Method::PUT, &vp, KV_API, Some(&got)).await;
    r.expect(200);
    assert_eq!(r.body["properties"]["enabledForDeployment"], true);
    // Omitting enablePurgeProtection keeps it on; false is refused.
    let mut body = got.clone();
    body["properties"]
        .as_object_mut()
        .map(|o| o.remove("enablePurgeProtection"));
    let r = env.arm(Method::PUT, &vp, KV_API, Some(&body)).await;
    assert_eq!(r.body["properties"]["enablePurgeProtection"], true);
    body["properties"]["enablePurgeProtection"] = json!(false);
    env.arm(Method::PUT, &vp, KV_API, Some(&body))
        .await
        .expect(400);

    // Access policies: add merges, replace sets, remove removes; each returns a JSON body.
    let ap = |kind: &str| format!("{vp}/accessPolicies/{kind}");
    let other = "22222222-2222-2222-2222-222222222222";
    let r = env.arm(Method::PUT, &ap("add"), KV_API, Some(&json!({"properties": {"accessPolicies": [env.policy(other, &["get", "unwrapKey"]), env.policy(&oid, &["wrapKey"])]}}))).await;
    r.expect(200);
    assert_eq!(r.body["type"], "Microsoft.KeyVault/vaults/accessPolicies");
    assert_eq!(
        r.body["properties"]["accessPolicies"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the vault's policies afterwards"
    );
    let v = env.arm(Method::GET, &vp, KV_API, None).await.body;
    let pols = v["properties"]["accessPolicies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(pols.len(), 2);
    let mine = pols.iter().find(|p| p["objectId"] == oid).expect("mine");
    assert_eq!(
        mine["permissions"]["keys"],
        json!(["get", "list", "wrapKey"])
    );
    env.arm(
        Method::PUT,
        &ap("replace"),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&oid, &["all"])]}})),
    )
    .await
    .expect(200);
    env.arm(
        Method::PUT,
        &ap("remove"),
        KV_API,
        Some(
            &json!({"properties": {"accessPolicies": [env.policy(other, &["get", "unwrapKey"])]}}),
        ),
    )
    .await
    .expect(200);
    let v = env.arm(Method::GET, &vp, KV_API, None).await.body;
    assert_eq!(
        v["properties"]["accessPolicies"],
        json!([{"tenantId": env.tenant(), "objectId": oid, "permissions": {"keys": ["all"], "secrets": [], "certificates": [], "storage": []}}])
    );
    env.arm(
        Method::PUT,
        &ap("bogus"),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": []}})),
    )
    .await
    .expect(400);
    // A PUT with its own accessPolicies replaces the list (the redeploy pitfall).
    let mut redeploy = env.arm(Method::GET, &vp, KV_API, None).await.body;
    redeploy["properties"]["accessPolicies"] = json!([env.policy(other, &["get"])]);
    let r = env.arm(Method::PUT, &vp, KV_API, Some(&redeploy)).await;
    assert_eq!(
        r.body["properties"]["accessPolicies"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(r.body["properties"]["accessPolicies"][0]["objectId"], other);
    // PATCH tags.
    let r = env
        .arm(
            Method::PATCH,
            &vp,
            KV_API,
            Some(&json!({"tags": {"env": "test"}})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["tags"]["env"], "test");
    // List.
    let l = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults",
                env.sub()
            ),
            KV_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(1));

    // checkNameAvailability.
    let cna = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/checkNameAvailability",
        env.sub()
    );
    let check = |name: &str| json!({"name": name, "type": "Microsoft.KeyVault/vaults"});
    let r = env
        .arm(Method::POST, &cna, KV_API, Some(&check("freename")))
        .await;
    assert_eq!(r.body, json!({"nameAvailable": true}));
    let r = env
        .arm(Method::POST, &cna, KV_API, Some(&check("life1")))
        .await;
    assert_eq!(r.body["reason"], "AlreadyExists");
    let r = env
        .arm(Method::POST, &cna, KV_API, Some(&check("1x")))
        .await;
    assert_eq!(r.body["reason"], "AccountNameInvalid");

    // Soft delete: the name stays taken.
    env.arm(Method::DELETE, &vp, KV_API, None).await.expect(200);
    env.arm(Method::DELETE, &vp, KV_API, None).await.expect(204);
    env.arm(Method::GET, &vp, KV_API, None)
        .await
        .expect_err(404, "ResourceNotFound");
    let r = env.create_vault("rg", "life1", json!({})).await;
    r.expect(409);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deleted state")
    );
    let r = env
        .arm(Method::POST, &cna, KV_API, Some(&check("life1")))
        .await;
    assert_eq!(r.body["nameAvailable"], false);
    let dl = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/deletedVaults",
                env.sub()
            ),
            KV_API,
            None,
        )
        .await;
    assert_eq!(dl.body["value"][0]["name"], "life1");
    let dv = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/life1",
        env.sub()
    );
    let d = env.arm(Method::GET, &dv, KV_API, None).await;
    d.expect(200);
    assert_eq!(d.body["properties"]["purgeProtectionEnabled"], true);
    assert!(d.body["properties"]["scheduledPurgeDate"].is_string());
    // Purge refused under purge protection, as Azure refuses it; the vault stays deleted.
    let refused = env
        .arm(Method::POST, &format!("{dv}/purge"), KV_API, None)
        .await;
    refused.expect_err(405, "MethodNotAllowed");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Operation 'DeletedVaultPurge' is not allowed.")
    );
    env.arm(Method::GET, &dv, KV_API, None).await.expect(200);
    // Recover.
    let r = env
        .create_vault("rg", "life1", json!({"createMode": "recover"}))
        .await;
    r.expect(200);
    env.arm(Method::GET, &vp, KV_API, None).await.expect(200);
    env.create_vault("rg", "never-was", json!({"createMode": "recover"}))
        .await
        .expect(404);

    // Without purge protection: delete + purge frees the name.
    env.create_vault("rg", "life2", json!({})).await.expect(200);
    env.arm(Method::DELETE, &env.vault_path("rg", "life2"), KV_API, None)
        .await
        .expect(200);
    let dv2 = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/life2",
        env.sub()
    );
    // As Azure purges: 202 with a Location (NotStarted until done: timing::*).
    let purging = env
        .arm(Method::POST, &format!("{dv2}/purge"), KV_API, None)
        .await;
    purging.expect(202);
    let location = purging.header("location").to_owned();
    let t = env.arm_token().await;
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().vault_purge_ms + 1,
    ));
    let done = env.send(Method::GET, &location, Some(&t), None).await;
    done.expect(200);
    assert_eq!(done.body["status"], "Succeeded");
    env.arm(Method::GET, &dv2, KV_API, None).await.expect(404);
    env.create_vault("rg", "life2", json!({})).await.expect(200);
}

#[tokio::test]
async fn managed_identities_are_registered_in_the_directory() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let p = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
        env.sub()
    );
    let r = env
        .arm(
            Method::PUT,
            &p,
            MI_API,
            Some(&json!({"location": "westeurope", "tags": {"k": "v"}})),
        )
        .await;
    r.expect(201);
    let props = r.body["properties"].clone();
    assert_eq!(props["tenantId"], env.tenant());
    let principal = props["principalId"]
        .as_str()
        .expect("principalId")
        .to_owned();
    assert!(props["clientId"].is_string());
    assert_eq!(
        r.body["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    let again = env
        .arm(
            Method::PUT,
            &p,
            MI_API,
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    again.expect(200);
    assert_eq!(again.body["properties"], props);
    env.arm(Method::GET, &p, "2024-11-30", None)
        .await
        .expect(200);
    env.arm(Method::GET, &p, "2019-01-01", None)
        .await
        .expect(400);
    let l = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                env.sub()
            ),
            MI_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(1));
    // Graph knows its principal.
    let g = env.graph_token().await;
    let sp = env
        .send(
            Method::GET,
            &format!(
                "{}/v1.0/servicePrincipals/{principal}",
                env.info.graph_endpoint
            ),
            Some(&g),
            None,
        )
        .await;
    sp.expect(200);
    assert_eq!(sp.body["servicePrincipalType"], "ManagedIdentity");
    assert_eq!(sp.body["appId"], props["clientId"]);
    env.arm(Method::DELETE, &p, MI_API, None).await.expect(200);
    env.arm(Method::DELETE, &p, MI_API, None).await.expect(204);
    env.arm(Method::GET, &p, MI_API, None)
        .await
        .expect_err(404, "ResourceNotFound");
    env.send(
        Method::GET,
        &format!(
            "{}/v1.0/servicePrincipals/{principal}",
            env.info.graph_endpoint
        ),
        Some(&g),
        None,
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn role_assignments_at_vault_scope() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    env.create_vault("rg", "rbac1", json!({"enableRbacAuthorization": true}))
        .await
        .expect(200);
    let scope = env.vault_path("rg", "rbac1");
    let (_, _, principal) = env.add_principal("app1").await;
    let role = |g: &str| {
        format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{g}",
            env.sub()
        )
    };
    let body = |p: &str, r: &str| json!({"properties": {"roleDefinitionId": role(r), "principalId": p, "principalType": "ServicePrincipal"}});
    const SEU: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
    let ra =
        |name: &str| format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let n1 = "0b1d1c1e-0000-4000-8000-000000000001";
    let r = env
        .arm(Method::PUT, &ra(n1), RA_API, Some(&body(&principal, SEU)))
        .await;
    r.expect(201);
    assert_eq!(r.body["name"], n1);
    assert!(
        r.body["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap_or("")
            .ends_with(SEU)
    );
    assert_eq!(r.body["properties"]["scope"], scope);
    env.arm(Method::PUT, &ra(n1), RA_API, Some(&body(&principal, SEU)))
        .await
        .expect(200);
    env.arm(Method::GET, &ra(n1), RA_API, None)
        .await
        .expect(200);
    env.arm(Method::GET, &format!("{}/", ra(n1)), RA_API, None)
        .await
        .expect(200);
    // Same (scope, role, principal) under another name.
    let r = env
        .arm(
            Method::PUT,
            &ra("0b1d1c1e-0000-4000-8000-000000000002"),
            RA_API,
            Some(&body(&principal, SEU)),
        )
        .await;
    r.expect_err(409, "RoleAssignmentExists");
    // Unknown principal, bad name, unknown role.
    let r = env
        .arm(
            Method::PUT,
            &ra("0b1d1c1e-0000-4000-8000-000000000003"),
            RA_API,
            Some(&body("33333333-3333-3333-3333-333333333333", SEU)),
        )
        .await;
    r.expect_err(400, "PrincipalNotFound");
    env.arm(
        Method::PUT,
        &ra("not-a-guid"),
        RA_API,
        Some(&body(&principal, SEU)),
    )
    .await
    .expect(400);
    env.arm(
        Method::PUT,
        &ra("0b1d1c1e-0000-4000-8000-000000000004"),
        RA_API,
        Some(&body(&principal, "99999999-9999-9999-9999-999999999999")),
    )
    .await
    .expect(400);
    // List with a principal filter.
    let f = crate::common::enc(&format!("principalId eq '{principal}'"));
    let l = env
        .arm(
            Method::GET,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments?$filter={f}"),
            RA_API,
            None,
        )
        .await;
    l.expect(200);
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(1));
    let f = crate::common::enc("principalId eq '44444444-4444-4444-4444-444444444444'");
    let l = env
        .arm(
            Method::GET,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments?$filter={f}"),
            RA_API,
            None,
        )
        .await;
    assert_eq!(l.body["value"], Value::Array(vec![]));
    // Role definitions.
    let d = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{SEU}",
                env.sub()
            ),
            RA_API,
            None,
        )
        .await;
    d.expect(200);
    assert_eq!(
        d.body["properties"]["roleName"],
        "Key Vault Crypto Service Encryption User"
    );
    // Delete.
    env.arm(Method::DELETE, &ra(n1), RA_API, None)
        .await
        .expect(200);
    env.arm(Method::DELETE, &ra(n1), RA_API, None)
        .await
        .expect(204);
    env.arm(Method::GET, &ra(n1), RA_API, None)
        .await
        .expect(404);
}

#[tokio::test]
async fn vault_uri_is_lower_case_and_ends_with_a_slash() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    let r = env
        .create_vault(
            "rg",
            "MixedCase1",
            json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
        )
        .await;
    // Azure answers a create 200; the DNS registration it waits for is in timing::*.
    r.expect(200);
    let path = env.vault_path("rg", "MixedCase1");
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().vault_dns_ms + 1,
    ));
    let r = env.arm(Method::GET, &path, KV_API, None).await;
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let uri = r.body["properties"]["vaultUri"]
        .as_str()
        .expect("vaultUri")
        .to_owned();
    assert_eq!(uri, format!("{}/", env.vault_url("mixedcase1")));
    // Code that appends a path to the vaultUri reaches the vault.
    let t = env.kv_token().await;
    let created = env
        .send(
            Method::POST,
            &format!("{uri}keys/k1/create?api-version=7.5"),
            Some(&t),
            Some(&json!({"kty": "RSA"})),
        )
        .await;
    created.expect(200);
    assert!(
        created.body["key"]["kid"]
            .as_str()
            .is_some_and(|k| k.starts_with(&format!("{uri}keys/k1/")))
    );
}
