//! Microsoft.Authorization role definitions as the Azure CLI reads them: listed or read at any
//! scope (vault, resource group, subscription), a built-in role's id is the subscription-level
//! id that role assignments point at, so `az role assignment list --scope {vault}` names roles.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, RA_API, enc};

/// Key Vault Crypto Service Encryption User.
const SEU: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
const SEU_NAME: &str = "Key Vault Crypto Service Encryption User";
/// Every published api-version of role definitions.
const DEFINITION_APIS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

fn definitions(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleDefinitions")
}

/// Asserts the shape Azure gives a built-in role, with the subscription-level id.
#[track_caller]
fn assert_built_in(def: &Value, sub: &str, guid: &str, role_name: &str) {
    assert_eq!(
        def["id"],
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "{def}"
    );
    assert_eq!(def["name"], guid, "{def}");
    assert_eq!(def["type"], "Microsoft.Authorization/roleDefinitions");
    let p = &def["properties"];
    assert_eq!(p["roleName"], role_name);
    assert_eq!(p["type"], "BuiltInRole");
    assert_eq!(p["assignableScopes"], json!(["/"]));
    let description = p["description"].as_str().unwrap_or("");
    assert!(
        !description.is_empty() && description != role_name,
        "a built-in role has its own description: {def}"
    );
    let perms = p["permissions"].as_array().expect("permissions");
    assert_eq!(perms.len(), 1, "{def}");
    for k in ["actions", "notActions", "dataActions", "notDataActions"] {
        assert!(perms[0][k].is_array(), "permissions.{k}: {def}");
    }
}

#[tokio::test]
async fn listed_role_ids_match_assignments_at_vault_group_and_subscription_scope() {
    let env = Env::start().await;
    let sub = env.sub().to_owned();
    env.create_rg("rg").await;
    env.create_vault("rg", "rbac1", json!({"enableRbacAuthorization": true}))
        .await
        .expect(200);
    let (_, _, principal) = env.add_principal("app1").await;
    let scopes = [
        env.vault_path("rg", "rbac1"),
        format!("/subscriptions/{sub}/resourceGroups/rg"),
        format!("/subscriptions/{sub}"),
    ];
    for (i, scope) in scopes.iter().enumerate() {
        // An assignment of the role at this scope, as `az role assignment create` makes it.
        let ra = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/0b1d1c1e-0000-4000-8000-00000000002{i}"
        );
        let body = json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{SEU}"),
            "principalId": principal, "principalType": "ServicePrincipal"}});
        env.arm(Method::PUT, &ra, RA_API, Some(&body))
            .await
            .expect(201);
        let listed = env
            .arm(
                Method::GET,
                &format!(
                    "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()"
                ),
                RA_API,
                None,
            )
            .await;
        listed.expect(200);
        let role_id = listed.body["value"]
            .as_array()
            .and_then(|v| v.iter().find(|a| a["properties"]["scope"] == *scope))
            .map(|a| a["properties"]["roleDefinitionId"].clone())
            .expect("the assignment is listed");

        for api in DEFINITION_APIS {
            // The list at the scope: the role is found by the assignment's roleDefinitionId.
            let r = env.arm(Method::GET, &definitions(scope), api, None).await;
            r.expect(200);
            let defs = r.body["value"].as_array().expect("value");
            let def = defs
                .iter()
                .find(|d| d["id"] == role_id)
                .unwrap_or_else(|| panic!("{api} at {scope}: no definition with id {role_id}"));
            assert_built_in(def, &sub, SEU, SEU_NAME);
            for d in defs {
                let id = d["id"].as_str().unwrap_or("");
                assert!(
                    id.starts_with(&format!("/subscriptions/{sub}/providers/")),
                    "{api} at {scope}: {id}"
                );
            }

            // By name, as `az role assignment create --role NAME --scope {scope}` asks.
            let r = env
                .arm(
                    Method::GET,
                    &format!(
                        "{}?$filter={}",
                        definitions(scope),
                        enc(&format!("roleName eq '{SEU_NAME}'"))
                    ),
                    api,
                    None,
                )
                .await;
            r.expect(200);
            assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1), "{api}");
            assert_eq!(r.body["value"][0]["id"], role_id, "{api} at {scope}");

            // Read at the scope by its guid.
            let r = env
                .arm(
                    Method::GET,
                    &format!("{}/{SEU}", definitions(scope)),
                    api,
                    None,
                )
                .await;
            r.expect(200);
            assert_eq!(r.body["id"], role_id, "{api} at {scope}");
            assert_built_in(&r.body, &sub, SEU, SEU_NAME);
        }
    }

    // Read by the id itself (RoleDefinitions_GetById).
    let id =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{SEU}");
    let r = env.arm(Method::GET, &id, "2022-04-01", None).await;
    r.expect(200);
    assert_eq!(r.body["id"], id);
}

#[tokio::test]
async fn role_definition_lists_filter_by_name_and_type() {
    let env = Env::start().await;
    let sub = env.sub().to_owned();
    let scope = format!("/subscriptions/{sub}");
    let get = |filter: &str| {
        let path = format!("{}?$filter={}", definitions(&scope), enc(filter));
        let env = &env;
        async move {
            env.arm(Method::GET, &path, "2022-05-01-preview", None)
                .await
        }
    };
    let all = env
        .arm(
            Method::GET,
            &definitions(&scope),
            "2022-05-01-preview",
            None,
        )
        .await;
    all.expect(200);
    let count = all.body["value"].as_array().map(Vec::len).unwrap_or(0);
    assert!(count >= 9, "{}", all.body);

    // roleName matches whole names, case-insensitively.
    let r = get("roleName eq 'key vault crypto officer'").await;
    r.expect(200);
    assert_eq!(
        r.body["value"][0]["name"],
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    );
    let r = get("roleName eq 'Key Vault'").await;
    assert_eq!(r.body["value"], json!([]));
    // type: every emulated role is built in; there are no custom roles.
    let r = get("type eq 'BuiltInRole'").await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(count));
    let r = get("type eq 'CustomRole'").await;
    r.expect(200);
    assert_eq!(r.body["value"], json!([]));
    let r = get("atScopeAndBelow()").await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(count));
    // Anything else is refused, not ignored.
    get("startswith(roleName,'Key')")
        .await
        .expect_err(400, "UnsupportedQuery");
    get("roleName eq Owner")
        .await
        .expect_err(400, "UnsupportedQuery");
    // An unknown role and an unknown api-version.
    env.arm(
        Method::GET,
        &format!(
            "{}/00000000-0000-0000-0000-000000000000",
            definitions(&scope)
        ),
        "2022-04-01",
        None,
    )
    .await
    .expect_err(404, "RoleDefinitionDoesNotExist");
    env.arm(Method::GET, &definitions(&scope), "2099-01-01", None)
        .await
        .expect(400);
    // Custom roles are not emulated: writing a definition is refused, not echoed.
    let body = json!({"properties": {"roleName": "mine", "permissions": [{"actions": ["*/read"]}],
        "assignableScopes": [scope.clone()]}});
    let r = env
        .arm(
            Method::PUT,
            &format!("{}/{SEU}", definitions(&scope)),
            "2022-04-01",
            Some(&body),
        )
        .await;
    r.expect_err(405, "MethodNotAllowed");
    let r = env
        .arm(
            Method::DELETE,
            &format!("{}/{SEU}", definitions(&scope)),
            "2022-04-01",
            None,
        )
        .await;
    r.expect_err(405, "MethodNotAllowed");
}

#[tokio::test]
async fn role_definitions_at_tenant_scope_have_tenant_level_ids() {
    // At the tenant root there is no subscription: Azure names built-in roles
    // `/providers/Microsoft.Authorization/roleDefinitions/{guid}` there.
    let env = Env::start().await;
    let r = env
        .arm(Method::GET, &definitions(""), "2022-04-01", None)
        .await;
    r.expect(200);
    let def = r.body["value"]
        .as_array()
        .and_then(|v| v.iter().find(|d| d["name"] == SEU))
        .cloned()
        .expect("listed");
    assert_eq!(
        def["id"],
        format!("/providers/Microsoft.Authorization/roleDefinitions/{SEU}")
    );
    assert_eq!(def["properties"]["roleName"], SEU_NAME);
}
