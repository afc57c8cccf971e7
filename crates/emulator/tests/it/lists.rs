//! ARM lists: `$top` pages every list with a `nextLink` a client can follow (each item seen
//! exactly once), a bad `$top` or `$skiptoken` is a typed 400, the generic resource list
//! (`…/resources?$filter=…`) and the managed-HSM lists that answer empty.

use std::collections::BTreeSet;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::common::{Env, KV_API, MI_API, RA_API, RG_API};

const ACI_API: &str = "2023-05-01";
const DEP_API: &str = "2021-04-01";

/// Follows a list from `path` with `$top=top` through its last page and returns the ids in the
/// order seen. Every page but the last is full, and every `nextLink` is an absolute URL on the
/// ARM endpoint that keeps the api-version and `$top`.
async fn walk(env: &Env, path: &str, api: &str, top: usize) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut r = env
        .arm(Method::GET, &format!("{path}{sep}$top={top}"), api, None)
        .await;
    let t = env.arm_token().await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        r.expect(200);
        let page = r.body["value"].as_array().expect("value").clone();
        assert!(page.len() <= top, "a page holds at most $top: {}", r.body);
        ids.extend(
            page.iter()
                .map(|i| i["id"].as_str().expect("id").to_owned()),
        );
        let Some(next) = r.body["nextLink"].as_str().map(str::to_owned) else {
            return ids;
        };
        assert_eq!(page.len(), top, "a page before the last is full");
        assert!(
            next.starts_with(&format!("{}/", env.info.arm_endpoint)),
            "{next}"
        );
        let url = Url::parse(&next).expect("nextLink is a URL");
        let q = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(q("api-version").as_deref(), Some(api), "{next}");
        assert_eq!(q("$top"), Some(top.to_string()), "{next}");
        assert!(q("$skiptoken").is_some(), "{next}");
        r = env.send(Method::GET, &next, Some(&t), None).await;
    }
    panic!("more than 100 pages from {path}");
}

/// Asserts that `ids` holds each of `expected` exactly once (ids compared case-insensitively).
#[track_caller]
fn exactly_once(ids: &[String], expected: &[String]) {
    let lc: Vec<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
    let unique: BTreeSet<&String> = lc.iter().collect();
    assert_eq!(unique.len(), lc.len(), "an item was seen twice: {ids:?}");
    let want: BTreeSet<String> = expected.iter().map(|i| i.to_ascii_lowercase()).collect();
    let got: BTreeSet<String> = lc.iter().cloned().collect();
    assert_eq!(got, want);
}

fn ids_of(r: &crate::common::Resp) -> Vec<String> {
    r.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

fn group_body() -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "sku": "Standard",
            "osType": "Linux",
            "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}
            }}]
        }
    })
}

fn provider_path(env: &Env, rg: Option<&str>, ns_type: &str) -> String {
    match rg {
        Some(rg) => format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/{ns_type}",
            env.sub()
        ),
        None => format!("/subscriptions/{}/providers/{ns_type}", env.sub()),
    }
}

async fn create_identity(env: &Env, rg: &str, name: &str, tags: Value) -> String {
    let path = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        env.rg_path(rg)
    );
    let r = env
        .arm(
            Method::PUT,
            &path,
            MI_API,
            Some(&json!({"location": "westeurope", "tags": tags})),
        )
        .await;
    r.expect(201);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn create_group(env: &Env, rg: &str, name: &str) -> String {
    let path = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}",
        env.sub()
    );
    let r = env
        .arm(Method::PUT, &path, ACI_API, Some(&group_body()))
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

// ----- item 17: paging -----

#[tokio::test]
async fn vault_lists_page_with_top_at_both_scopes() {
    let env = Env::start().await;
    env.create_rg("rg-a").await;
    env.create_rg("rg-b").await;
    let mut in_a = Vec::new();
    let mut all = Vec::new();
    for (rg, v) in [
        ("rg-a", "pv-c"),
        ("rg-a", "pv-a"),
        ("rg-b", "pv-d"),
        ("rg-a", "pv-b"),
        ("rg-b", "pv-e"),
    ] {
        let r = env.create_vault(rg, v, json!({})).await;
        r.expect(200);
        let id = r.body["id"].as_str().expect("id").to_owned();
        if rg == "rg-a" {
            in_a.push(id.clone());
        }
        all.push(id);
    }
    // $top=1 answers one vault and a nextLink.
    let first = env
        .arm(
            Method::GET,
            &format!(
                "{}?$top=1",
                provider_path(&env, Some("rg-a"), "Microsoft.KeyVault/vaults")
            ),
            KV_API,
            None,
        )
        .await;
    first.expect(200);
    assert_eq!(first.body["value"].as_array().map(Vec::len), Some(1));
    assert!(first.body["nextLink"].is_string(), "{}", first.body);

    for top in [1, 2, 3] {
        let rg_ids = walk(
            &env,
            &provider_path(&env, Some("rg-a"), "Microsoft.KeyVault/vaults"),
            KV_API,
            top,
        )
        .await;
        exactly_once(&rg_ids, &in_a);
        let sub_ids = walk(
            &env,
            &provider_path(&env, None, "Microsoft.KeyVault/vaults"),
            KV_API,
            top,
        )
        .await;
        exactly_once(&sub_ids, &all);
    }
    // Without $top: everything, no nextLink.
    let l = env
        .arm(
            Method::GET,
            &provider_path(&env, None, "Microsoft.KeyVault/vaults"),
            KV_API,
            None,
        )
        .await;
    exactly_once(&ids_of(&l), &all);
    assert!(l.body.get("nextLink").is_none_or(Value::is_null));
}

#[tokio::test]
async fn deleted_vault_list_honours_top() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let mut deleted = Vec::new();
    for v in ["dv-3", "dv-1", "dv-2"] {
        env.create_vault("rg", v, json!({})).await.expect(200);
        env.arm(Method::DELETE, &env.vault_path("rg", v), KV_API, None)
            .await
            .expect(200);
        deleted.push(format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/{v}",
            env.sub()
        ));
    }
    let path = provider_path(&env, None, "Microsoft.KeyVault/deletedVaults");
    let first = env
        .arm(Method::GET, &format!("{path}?$top=2"), KV_API, None)
        .await;
    assert_eq!(first.body["value"].as_array().map(Vec::len), Some(2));
    for top in [1, 2, 5] {
        exactly_once(&walk(&env, &path, KV_API, top).await, &deleted);
    }
}

#[tokio::test]
async fn every_arm_list_pages_to_the_end() {
    let env = Env::start().await;
    let sub = env.sub().to_owned();
    let mut groups = Vec::new();
    for rg in ["rg-2", "rg-1", "rg-3"] {
        env.create_rg(rg).await;
        groups.push(format!("/subscriptions/{sub}/resourceGroups/{rg}"));
    }
    // Resource groups.
    exactly_once(
        &walk(
            &env,
            &format!("/subscriptions/{sub}/resourcegroups"),
            RG_API,
            2,
        )
        .await,
        &groups,
    );

    // User-assigned identities at both scopes.
    let mut ids_1 = Vec::new();
    let mut ids_all = Vec::new();
    for (rg, n) in [
        ("rg-1", "id-b"),
        ("rg-2", "id-a"),
        ("rg-1", "id-c"),
        ("rg-1", "id-a"),
    ] {
        let id = create_identity(&env, rg, n, json!({})).await;
        if rg == "rg-1" {
            ids_1.push(id.clone());
        }
        ids_all.push(id);
    }
    let mi = "Microsoft.ManagedIdentity/userAssignedIdentities";
    exactly_once(
        &walk(&env, &provider_path(&env, Some("rg-1"), mi), MI_API, 2).await,
        &ids_1,
    );
    exactly_once(
        &walk(&env, &provider_path(&env, None, mi), MI_API, 3).await,
        &ids_all,
    );

    // Container groups at both scopes.
    let mut cg_1 = Vec::new();
    let mut cg_all = Vec::new();
    for (rg, n) in [("rg-1", "cg-b"), ("rg-3", "cg-a"), ("rg-1", "cg-a")] {
        let id = create_group(&env, rg, n).await;
        if rg == "rg-1" {
            cg_1.push(id.clone());
        }
        cg_all.push(id);
    }
    let cg = "Microsoft.ContainerInstance/containerGroups";
    exactly_once(
        &walk(&env, &provider_path(&env, Some("rg-1"), cg), ACI_API, 1).await,
        &cg_1,
    );
    exactly_once(
        &walk(&env, &provider_path(&env, None, cg), ACI_API, 2).await,
        &cg_all,
    );

    // Role assignments at a resource-group scope.
    let principal = env.deployer_oid().await;
    let scope = format!("/subscriptions/{sub}/resourceGroups/rg-1");
    let mut assignments = Vec::new();
    for (i, role) in [
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    ]
    .iter()
    .enumerate()
    {
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/0b1d1c1e-0000-4000-8000-00000000001{i}"
        );
        let body = json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": principal,
            "principalType": "ServicePrincipal"}});
        let r = env.arm(Method::PUT, &path, RA_API, Some(&body)).await;
        r.expect(201);
        assignments.push(r.body["id"].as_str().expect("id").to_owned());
    }
    exactly_once(
        &walk(
            &env,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
            RA_API,
            2,
        )
        .await,
        &assignments,
    );
    // Role definitions: the same set with and without paging.
    let defs_path =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions");
    let all_defs = env.arm(Method::GET, &defs_path, "2022-04-01", None).await;
    exactly_once(
        &walk(&env, &defs_path, "2022-04-01", 4).await,
        &ids_of(&all_defs),
    );

    // Deployments (newest first) while they run, and the subscription-level lists.
    let mut deployments = Vec::new();
    let template = json!({"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": []}}});
    for n in ["dep-b", "dep-a", "dep-c"] {
        let path = format!("{scope}/providers/Microsoft.Resources/deployments/{n}");
        let r = env.arm(Method::PUT, &path, DEP_API, Some(&template)).await;
        r.expect(201);
        deployments.push(r.body["id"].as_str().expect("id").to_owned());
        env.advance(std::time::Duration::from_secs(1));
    }
    let dep_ids = walk(
        &env,
        &format!("{scope}/providers/Microsoft.Resources/deployments"),
        DEP_API,
        2,
    )
    .await;
    exactly_once(&dep_ids, &deployments);
    let names: Vec<&str> = dep_ids
        .iter()
        .filter_map(|i| i.rsplit('/').next())
        .collect();
    assert_eq!(names, ["dep-c", "dep-a", "dep-b"], "newest first");

    let locations = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{sub}/locations"),
            "2022-12-01",
            None,
        )
        .await;
    exactly_once(
        &walk(
            &env,
            &format!("/subscriptions/{sub}/locations"),
            "2022-12-01",
            3,
        )
        .await,
        &ids_of(&locations),
    );
    env.admin(
        Method::POST,
        "/subscriptions",
        Some(&json!({"display_name": "second"})),
    )
    .await
    .expect(201);
    let subs = env
        .arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await;
    assert_eq!(subs.body["value"].as_array().map(Vec::len), Some(2));
    exactly_once(
        &walk(&env, "/subscriptions", "2022-12-01", 1).await,
        &ids_of(&subs),
    );
}

#[tokio::test]
async fn a_bad_top_or_skiptoken_is_a_typed_400() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    env.create_vault("rg", "bad-top", json!({}))
        .await
        .expect(200);
    let sub = env.sub().to_owned();
    let lists = [
        (
            provider_path(&env, Some("rg"), "Microsoft.KeyVault/vaults"),
            KV_API,
        ),
        (
            provider_path(&env, None, "Microsoft.KeyVault/vaults"),
            KV_API,
        ),
        (
            provider_path(&env, None, "Microsoft.KeyVault/deletedVaults"),
            KV_API,
        ),
        (
            provider_path(
                &env,
                None,
                "Microsoft.ManagedIdentity/userAssignedIdentities",
            ),
            MI_API,
        ),
        (
            provider_path(&env, None, "Microsoft.ContainerInstance/containerGroups"),
            ACI_API,
        ),
        (format!("/subscriptions/{sub}/resourcegroups"), RG_API),
        (
            format!(
                "{}/providers/Microsoft.Resources/deployments",
                env.rg_path("rg")
            ),
            DEP_API,
        ),
        (
            format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                env.rg_path("rg")
            ),
            RA_API,
        ),
    ];
    for (path, api) in &lists {
        for top in ["0", "-1", "abc", "1.5", "99999999999999999999999"] {
            let r = env
                .arm(Method::GET, &format!("{path}?$top={top}"), api, None)
                .await;
            r.expect_err(400, "InvalidTopInQueryString");
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(top)),
                "{}",
                r.body
            );
        }
        env.arm(Method::GET, &format!("{path}?$skiptoken=%40%40"), api, None)
            .await
            .expect_err(400, "InvalidSkipToken");
    }
}

// ----- item 18: the generic resource list -----

/// `GET …/resources` at subscription scope (`rg` None) or in a resource group, with an optional
/// `$filter`, at `api`.
async fn resources(
    env: &Env,
    rg: Option<&str>,
    filter: Option<&str>,
    api: &str,
) -> crate::common::Resp {
    let base = match rg {
        Some(rg) => format!("{}/resources", env.rg_path(rg)),
        None => format!("/subscriptions/{}/resources", env.sub()),
    };
    let path = match filter {
        Some(f) => format!("{base}?$filter={}", crate::common::enc(f)),
        None => base,
    };
    env.arm(Method::GET, &path, api, None).await
}

fn names_of(r: &crate::common::Resp) -> BTreeSet<String> {
    r.expect(200);
    r.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn generic_resource_list_serves_every_resource_type_with_filters() {
    let env = Env::start().await;
    env.create_rg("rg-1").await;
    env.create_rg("rg-2").await;
    let vault_a = env
        .create_vault("rg-1", "gv-a", json!({}))
        .await
        .body
        .clone();
    let path_a = env.vault_path("rg-1", "gv-a");
    env.arm(
        Method::PATCH,
        &path_a,
        KV_API,
        Some(&json!({"tags": {"env": "prod"}})),
    )
    .await
    .expect(200);
    env.create_vault("rg-2", "gv-b", json!({}))
        .await
        .expect(200);
    env.create_vault("rg-2", "gv-gone", json!({}))
        .await
        .expect(200);
    env.arm(
        Method::DELETE,
        &env.vault_path("rg-2", "gv-gone"),
        KV_API,
        None,
    )
    .await
    .expect(200);
    let uai = create_identity(&env, "rg-1", "id-x", json!({"env": "dev"})).await;
    let mut body = group_body();
    body["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}});
    let cg_path = format!(
        "{}/providers/Microsoft.ContainerInstance/containerGroups/cg-x",
        env.rg_path("rg-1")
    );
    let r = env.arm(Method::PUT, &cg_path, ACI_API, Some(&body)).await;
    assert!(r.status == 200 || r.status == 201, "{}", r.body);

    let vaults = "resourceType eq 'Microsoft.KeyVault/vaults'";
    // The Azure CLI's and the Python SDK's query, at every published api-version.
    for api in [
        "2015-11-01",
        "2019-10-01",
        "2021-04-01",
        "2022-09-01",
        "2024-03-01",
        "2025-04-01",
    ] {
        let r = resources(&env, None, Some(vaults), api).await;
        assert_eq!(names_of(&r), set(&["gv-a", "gv-b"]), "{api}");
        let r = resources(
            &env,
            None,
            Some(&format!("{vaults} and name eq 'gv-a'")),
            api,
        )
        .await;
        assert_eq!(names_of(&r), set(&["gv-a"]), "{api}");
    }
    // The item: GenericResourceExpanded's fields, nothing of the vault's properties.
    let r = resources(
        &env,
        None,
        Some("name eq 'GV-A' and resourceType eq 'microsoft.keyvault/VAULTS'"),
        "2015-11-01",
    )
    .await;
    assert_eq!(
        r.body["value"],
        json!([{
            "id": vault_a["id"],
            "name": "gv-a",
            "type": "Microsoft.KeyVault/vaults",
            "location": "westeurope",
            "tags": {"env": "prod"},
        }])
    );
    // Resource-group scope, no filter: every type.
    let r = resources(&env, Some("rg-1"), None, "2021-04-01").await;
    assert_eq!(names_of(&r), set(&["gv-a", "id-x", "cg-x"]));
    let types: BTreeSet<&str> = r.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "Microsoft.KeyVault/vaults",
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.ContainerInstance/containerGroups",
        ])
    );
    let group = r.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|i| i["name"] == "cg-x")
        .expect("the group")
        .clone();
    assert_eq!(group["identity"]["type"], "UserAssigned");
    assert_eq!(group["identity"]["tenantId"], env.tenant());
    let entry = group["identity"]["userAssignedIdentities"]
        .as_object()
        .and_then(|m| m.values().next())
        .expect("the identity");
    assert!(
        entry["principalId"].is_string() && entry["clientId"].is_string(),
        "{group}"
    );
    assert!(group.get("properties").is_none(), "no properties: {group}");
    let r = resources(&env, Some("RG-2"), None, "2021-04-01").await;
    assert_eq!(
        names_of(&r),
        set(&["gv-b"]),
        "a deleted vault is not listed"
    );
    // By type at resource-group scope, and the other types by type.
    let r = resources(&env, Some("rg-2"), Some(vaults), "2021-04-01").await;
    assert_eq!(names_of(&r), set(&["gv-b"]));
    let r = resources(
        &env,
        None,
        Some("resourceType eq 'Microsoft.ManagedIdentity/userAssignedIdentities'"),
        "2021-04-01",
    )
    .await;
    assert_eq!(names_of(&r), set(&["id-x"]));
    let r = resources(
        &env,
        None,
        Some("resourceType eq 'Microsoft.ContainerInstance/containerGroups'"),
        "2021-04-01",
    )
    .await;
    assert_eq!(names_of(&r), set(&["cg-x"]));
    // Tags: by name, by name and value (case-insensitively); the items come without tags.
    let r = resources(&env, None, Some("tagName eq 'ENV'"), "2021-04-01").await;
    assert_eq!(names_of(&r), set(&["gv-a", "id-x"]));
    assert!(
        r.body["value"]
            .as_array()
            .expect("value")
            .iter()
            .all(|i| i.get("tags").is_none()),
        "{}",
        r.body
    );
    let r = resources(
        &env,
        None,
        Some("tagName eq 'env' and tagValue eq 'PROD'"),
        "2021-04-01",
    )
    .await;
    assert_eq!(names_of(&r), set(&["gv-a"]));
    let r = resources(
        &env,
        None,
        Some("name eq 'nothing-by-this-name'"),
        "2021-04-01",
    )
    .await;
    assert_eq!(names_of(&r), BTreeSet::new());
    // A resource group that does not exist.
    resources(&env, Some("rg-none"), None, "2021-04-01")
        .await
        .expect_err(404, "ResourceGroupNotFound");
}

#[tokio::test]
async fn generic_resource_list_pages_and_refuses_what_it_cannot_read() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let mut all = Vec::new();
    for v in ["pg-c", "pg-a", "pg-b"] {
        let r = env.create_vault("rg", v, json!({})).await;
        all.push(r.body["id"].as_str().expect("id").to_owned());
    }
    all.push(create_identity(&env, "rg", "pg-id", json!({})).await);
    all.push(create_group(&env, "rg", "pg-cg").await);
    let sub_path = format!("/subscriptions/{}/resources", env.sub());
    for top in [1, 2, 10] {
        exactly_once(&walk(&env, &sub_path, "2021-04-01", top).await, &all);
        exactly_once(
            &walk(
                &env,
                &format!("{}/resources", env.rg_path("rg")),
                "2015-11-01",
                top,
            )
            .await,
            &all,
        );
    }
    // The filter stays in the nextLink: every page is filtered.
    let filtered = format!(
        "{sub_path}?$filter={}",
        crate::common::enc("resourceType eq 'Microsoft.KeyVault/vaults'")
    );
    exactly_once(&walk(&env, &filtered, "2015-11-01", 1).await, &all[..3]);
    // What the list cannot read is refused, not ignored.
    for bad in [
        "location eq 'westeurope'",
        "name ne 'pg-a'",
        "name eq 'pg-a' or name eq 'pg-b'",
        "substringof('pg', name)",
        "tagValue eq 'x'",
        "resourceType eq 'Microsoft.KeyVault/vaults' and",
        "name eq 'unclosed",
    ] {
        let r = resources(&env, None, Some(bad), "2021-04-01").await;
        r.expect_err(400, "InvalidFilterInQueryString");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(bad)),
            "{}",
            r.body
        );
    }
    env.arm(
        Method::GET,
        &format!("{sub_path}?$top=0"),
        "2021-04-01",
        None,
    )
    .await
    .expect_err(400, "InvalidTopInQueryString");
    env.arm(Method::GET, &sub_path, "2014-04-01", None)
        .await
        .expect_err(400, "InvalidApiVersionParameter");
    env.arm(Method::POST, &sub_path, "2021-04-01", Some(&json!({})))
        .await
        .expect(405);
}

// ----- item 21: managed HSMs (not emulated) list empty -----

#[tokio::test]
async fn managed_hsm_lists_answer_empty() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    env.create_vault("rg", "not-an-hsm", json!({}))
        .await
        .expect(200);
    let sub = env.sub().to_owned();
    for api in [KV_API, "2023-07-01", "2025-05-01"] {
        for path in [
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedManagedHSMs"),
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/managedHSMs"),
            format!(
                "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs"
            ),
            format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/managedHSMs?$top=5"),
        ] {
            let r = env.arm(Method::GET, &path, api, None).await;
            r.expect(200);
            assert_eq!(r.body, json!({"value": []}), "{path}");
        }
    }
    env.arm(
        Method::GET,
        &format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedManagedHSMs?$top=x"),
        KV_API,
        None,
    )
    .await
    .expect_err(400, "InvalidTopInQueryString");
    // One HSM: none exists; creating one is plainly not emulated.
    let hsm = format!(
        "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/hsm1"
    );
    env.arm(Method::GET, &hsm, KV_API, None)
        .await
        .expect_err(404, "ResourceNotFound");
    let r = env
        .arm(
            Method::PUT,
            &hsm,
            KV_API,
            Some(&json!({"location": "westeurope", "sku": {"family": "B", "name": "Standard_B1"}, "properties": {}})),
        )
        .await;
    r.expect_err(404, "InvalidResourceType");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not emulated")),
        "{}",
        r.body
    );
    env.arm(
        Method::GET,
        &format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedManagedHSMs/hsm1"),
        KV_API,
        None,
    )
    .await
    .expect_err(404, "ResourceNotFound");
}
