//! A refused write changes nothing: for every service that writes to the store, a request that
//! is refused leaves the emulator's state (the admin dump) as it was — also after a restart.

use aci_cmk_emulator::EmulatorOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, KV_API, MI_API, RA_API, RG_API, Resp};

const ACI_APP: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/// The state as the dump shows it, without what a request may change without writing (the
/// fault settings are not store state).
fn state(env: &Env) -> Value {
    let mut d = env.emu.admin().dump();
    if let Some(o) = d.as_object_mut() {
        o.remove("faults");
    }
    d
}

/// Sends a request that must be refused with `status`/`code` and asserts the state is unchanged.
macro_rules! refused_without_trace {
    ($env:expr, $what:expr, $status:expr, $code:expr, $request:expr $(,)?) => {{
        let before = state($env);
        let r: Resp = $request;
        check_refused($env, $what, $status, $code, &r, before);
    }};
}

fn check_refused(env: &Env, what: &str, status: u16, code: &str, r: &Resp, before: Value) {
    assert_eq!(r.status.as_u16(), status, "{what}: {} {}", r.status, r.body);
    assert_eq!(r.code(), code, "{what}: {}", r.body);
    assert_eq!(
        state(env),
        before,
        "{what}: the refused request changed the state"
    );
}

fn policies(env: &Env, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| env.policy(&format!("00000000-0000-4000-8000-{i:012}"), &["get"]))
        .collect()
}

#[tokio::test]
async fn an_access_policy_over_the_limit_is_not_kept_also_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-test-{}", uuid::Uuid::new_v4()));
    let opts = EmulatorOptions {
        state_dir: Some(dir.clone()),
        ..Default::default()
    };
    let count = |r: &Resp| {
        r.body["properties"]["accessPolicies"]
            .as_array()
            .map_or(0, Vec::len)
    };
    {
        let env = Env::start_with(opts.clone()).await;
        env.create_rg("rg").await;
        env.create_vault(
            "rg",
            "full1",
            json!({"accessPolicies": policies(&env, 1024)}),
        )
        .await
        .expect(200);
        let add = format!("{}/accessPolicies/add", env.vault_path("rg", "full1"));
        let one_more = json!({"properties": {"accessPolicies": [env.policy("00000000-0000-4000-9000-000000000001", &["get"])]}});
        refused_without_trace!(
            &env,
            "accessPolicies/add",
            400,
            "AccessPolicyLimitExceeded",
            env.arm(Method::PUT, &add, KV_API, Some(&one_more)).await,
        );
        let v = env
            .arm(Method::GET, &env.vault_path("rg", "full1"), KV_API, None)
            .await;
        assert_eq!(count(&v), 1024);
        env.emu.shutdown().await;
    }
    let env = Env::start_with(opts).await;
    let v = env
        .arm(Method::GET, &env.vault_path("rg", "full1"), KV_API, None)
        .await;
    assert_eq!(count(&v), 1024, "after a restart");
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn refused_writes_of_every_service_change_nothing() {
    let env = Env::start().await;
    let sub = env.sub().to_owned();
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "refuse1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])], "enablePurgeProtection": true, "enableSoftDelete": true}),
    )
    .await
    .expect(200);
    let vault = env.vault_path("rg", "refuse1");

    // Resource groups: another location.
    let rg = env.rg_path("rg");
    refused_without_trace!(
        &env,
        "resource group PUT",
        409,
        "InvalidResourceGroupLocation",
        env.arm(
            Method::PUT,
            &rg,
            RG_API,
            Some(&json!({"location": "japaneast"})),
        )
        .await,
    );

    // Vaults: purge protection cannot be switched off; a PATCH of a missing vault.
    refused_without_trace!(
        &env,
        "vault PUT",
        400,
        "BadRequest",
        env.create_vault("rg", "refuse1", json!({"enablePurgeProtection": false}))
            .await,
    );
    refused_without_trace!(
        &env,
        "vault PATCH",
        404,
        "ResourceNotFound",
        env.arm(
            Method::PATCH,
            &env.vault_path("rg", "missing1"),
            KV_API,
            Some(&json!({"tags": {"a": "b"}})),
        )
        .await,
    );

    // Managed identities: a PATCH of a missing identity.
    let mi = format!(
        "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nobody"
    );
    refused_without_trace!(
        &env,
        "identity PATCH",
        404,
        "ResourceNotFound",
        env.arm(
            Method::PATCH,
            &mi,
            MI_API,
            Some(&json!({"tags": {"a": "b"}})),
        )
        .await,
    );

    // Role assignments: the same assignment under another name.
    let role =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}");
    let ra =
        |name: &str| format!("{vault}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let body = json!({"properties": {"roleDefinitionId": role, "principalId": oid, "principalType": "ServicePrincipal"}});
    env.arm(
        Method::PUT,
        &ra("0b1d1c1e-0000-4000-8000-000000000001"),
        RA_API,
        Some(&body),
    )
    .await
    .expect(201);
    refused_without_trace!(&env, "role assignment PUT", 409, "RoleAssignmentExists", {
        env.arm(
            Method::PUT,
            &ra("0b1d1c1e-0000-4000-8000-000000000002"),
            RA_API,
            Some(&body),
        )
        .await
    });

    // Graph: a second service principal for the same app.
    let g = env.graph_token().await;
    let sps = format!(
        "{}/v1.0/servicePrincipals",
        env.info.graph_endpoint.trim_end_matches('/')
    );
    let aci = json!({"appId": ACI_APP});
    let first = env.send(Method::POST, &sps, Some(&g), Some(&aci)).await;
    assert!(first.status == 201 || first.status == 409, "{}", first.body);
    refused_without_trace!(
        &env,
        "service principal POST",
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        env.send(Method::POST, &sps, Some(&g), Some(&aci)).await,
    );

    // Key Vault data plane: a deleted key's name cannot be reused.
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "refuse1",
        "/keys/k1/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);
    env.kv(&t, Method::DELETE, "refuse1", "/keys/k1", None)
        .await
        .expect(200);
    refused_without_trace!(
        &env,
        "key create",
        409,
        "Conflict",
        env.kv(
            &t,
            Method::POST,
            "refuse1",
            "/keys/k1/create",
            Some(&json!({"kty": "RSA"})),
        )
        .await,
    );

    // Deployments: a finished deployment cannot be canceled.
    let dep = format!(
        "/subscriptions/{sub}/resourcegroups/rg/providers/Microsoft.Resources/deployments/d1"
    );
    let template = json!({"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": []}}});
    env.arm(Method::PUT, &dep, "2021-04-01", Some(&template))
        .await;
    env.advance(std::time::Duration::from_secs(5));
    let done = env.arm(Method::GET, &dep, "2021-04-01", None).await;
    assert_eq!(
        done.body["properties"]["provisioningState"], "Succeeded",
        "{}",
        done.body
    );
    refused_without_trace!(
        &env,
        "deployment cancel",
        409,
        "DeploymentCannotBeCanceled",
        env.arm(Method::POST, &format!("{dep}/cancel"), "2021-04-01", None)
            .await,
    );
}
