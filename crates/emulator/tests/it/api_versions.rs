//! api-versions: every published version of each served type is accepted (the oldest and the
//! newest of each list are tried here), and a made-up one is refused with the error Azure
//! gives, naming the supported versions. The lists themselves (sorted, no duplicates, where
//! they come from) are unit-tested next to them in the crate.

use reqwest::Method;
use serde_json::json;

use crate::common::{Env, RG_API, Resp};

/// Versions no spec publishes: a month that does not exist and a year far ahead.
const MADE_UP: &[&str] = &["2015-13-01", "2099-01-01"];

/// One served type: a GET that answers 2xx when its api-version is accepted.
struct Served {
    name: &'static str,
    path: String,
    oldest: &'static str,
    newest: &'static str,
    /// The code of the 400 that refuses an unknown version.
    refusal: &'static str,
}

#[track_caller]
fn assert_refused(r: &Resp, what: &str, api: &str, code: &str, oldest: &str, newest: &str) {
    assert_eq!(r.status.as_u16(), 400, "{what} @ {api}: {}", r.body);
    assert_eq!(r.code(), code, "{what} @ {api}: {}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(api), "{what}: {message}");
    assert!(
        message.contains(oldest) && message.contains(newest),
        "{what}: the refusal names the supported versions: {message}"
    );
}

#[tokio::test]
async fn resource_groups_and_the_provider_get_accept_2016_02_01() {
    let env = Env::start().await;
    let rg = env.rg_path("old");
    let r = env
        .arm(
            Method::PUT,
            &rg,
            "2016-02-01",
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    r.expect(201);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    env.arm(Method::GET, &rg, "2016-02-01", None)
        .await
        .expect(200);
    env.arm(
        Method::GET,
        &format!("/subscriptions/{}/resourcegroups", env.sub()),
        "2016-02-01",
        None,
    )
    .await
    .expect(200);
    let p = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}/providers/Microsoft.KeyVault", env.sub()),
            "2016-02-01",
            None,
        )
        .await;
    p.expect(200);
    assert_eq!(p.body["namespace"], "Microsoft.KeyVault");
    assert_eq!(p.body["registrationState"], "Registered");
}

#[tokio::test]
async fn every_arm_type_accepts_its_oldest_and_newest_version_and_refuses_made_up_ones() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let sub = env.sub().to_owned();
    let rg = format!("/subscriptions/{sub}/resourceGroups/rg");
    let resources = "InvalidApiVersionParameter";
    let provider = "NoRegisteredProviderFound";
    let served = [
        Served {
            name: "resource groups",
            path: format!("/subscriptions/{sub}/resourcegroups"),
            oldest: "2015-11-01",
            newest: "2025-04-01",
            refusal: resources,
        },
        Served {
            name: "providers",
            path: format!("/subscriptions/{sub}/providers"),
            oldest: "2015-11-01",
            newest: "2025-04-01",
            refusal: resources,
        },
        Served {
            name: "generic resources",
            path: format!("/subscriptions/{sub}/resources"),
            oldest: "2015-11-01",
            newest: "2025-04-01",
            refusal: resources,
        },
        Served {
            name: "subscriptions",
            path: "/subscriptions".to_owned(),
            oldest: "2015-11-01",
            newest: "2022-12-01",
            refusal: resources,
        },
        Served {
            name: "tenants",
            path: "/tenants".to_owned(),
            oldest: "2015-11-01",
            newest: "2022-12-01",
            refusal: resources,
        },
        Served {
            name: "locations",
            path: format!("/subscriptions/{sub}/locations"),
            oldest: "2015-11-01",
            newest: "2022-12-01",
            refusal: resources,
        },
        Served {
            name: "deployments",
            path: format!("{rg}/providers/Microsoft.Resources/deployments"),
            oldest: "2015-11-01",
            newest: "2026-09-01",
            refusal: resources,
        },
        Served {
            name: "Key Vault vaults",
            path: format!("{rg}/providers/Microsoft.KeyVault/vaults"),
            oldest: "2015-06-01",
            newest: "2026-05-15",
            refusal: provider,
        },
        Served {
            name: "user-assigned identities",
            path: format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"),
            oldest: "2015-08-31-preview",
            newest: "2026-05-31",
            refusal: provider,
        },
        Served {
            name: "role assignments",
            path: format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments"),
            oldest: "2015-07-01",
            newest: "2022-04-01",
            refusal: provider,
        },
        Served {
            name: "role definitions",
            path: format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions"),
            oldest: "2015-07-01",
            newest: "2022-05-01-preview",
            refusal: provider,
        },
        Served {
            name: "container groups",
            path: format!("{rg}/providers/Microsoft.ContainerInstance/containerGroups"),
            oldest: "2017-08-01-preview",
            newest: "2026-06-01-preview",
            refusal: provider,
        },
    ];
    for s in &served {
        for api in [s.oldest, s.newest] {
            let r = env.arm(Method::GET, &s.path, api, None).await;
            assert_eq!(r.status.as_u16(), 200, "{} @ {api}: {}", s.name, r.body);
        }
        for api in MADE_UP {
            let r = env.arm(Method::GET, &s.path, api, None).await;
            assert_refused(&r, s.name, api, s.refusal, s.oldest, s.newest);
        }
    }
}

#[tokio::test]
async fn what_if_accepts_the_deployment_versions_from_2019_07_01_on() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let path = format!(
        "{}/providers/Microsoft.Resources/deployments/wi/whatIf",
        env.rg_path("rg")
    );
    let body = json!({"properties": {"mode": "Incremental", "template": {"resources": []}}});
    for api in ["2019-07-01", "2026-09-01"] {
        env.arm(Method::POST, &path, api, Some(&body))
            .await
            .expect(202);
    }
    // 2019-05-10 has deployments but no what-if.
    let r = env
        .arm(Method::POST, &path, "2019-05-10", Some(&body))
        .await;
    assert_refused(
        &r,
        "what-if",
        "2019-05-10",
        "InvalidApiVersionParameter",
        "2019-07-01",
        "2026-09-01",
    );
    let m = r.body["error"]["message"].as_str().unwrap_or_default();
    let supported = m.split("supported versions are").nth(1).unwrap_or_default();
    assert!(!supported.contains("2019-05-10"), "{m}");
    // The same version still serves the deployment list.
    env.arm(
        Method::GET,
        &format!(
            "{}/providers/Microsoft.Resources/deployments",
            env.rg_path("rg")
        ),
        "2019-05-10",
        None,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn the_keys_data_plane_accepts_its_oldest_and_newest_version_and_refuses_made_up_ones() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "apis1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    let keys = |api: &str| format!("{}/keys?api-version={api}", env.vault_url("apis1"));
    // Sorted in byte order, the list runs from 2015-06-01 to 7.6-preview.2; the newest stable
    // version is 2026-04-01 and the newest preview 2026-07-01-preview.
    for api in [
        "2015-06-01",
        "7.6-preview.2",
        "2026-04-01",
        "2026-07-01-preview",
    ] {
        let r = env.send(Method::GET, &keys(api), Some(&t), None).await;
        assert_eq!(r.status.as_u16(), 200, "{api}: {}", r.body);
    }
    for api in MADE_UP.iter().chain(&["7.7", "7.6-preview.3"]) {
        let r = env.send(Method::GET, &keys(api), Some(&t), None).await;
        assert_eq!(r.status.as_u16(), 400, "{api}: {}", r.body);
        assert_eq!(r.code(), "BadParameter", "{api}: {}", r.body);
        let m = r.body["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            m,
            format!(
                "The specified version ({api}) is not recognized. Consider using the latest supported version (2026-04-01)."
            )
        );
    }
}

#[tokio::test]
async fn versions_no_folder_of_the_specs_holds_are_refused() {
    // The emulator accepted these before its lists were read from the specs.
    let env = Env::start().await;
    env.create_rg("rg").await;
    let sub = env.sub().to_owned();
    for (path, api, code) in [
        (
            format!("/subscriptions/{sub}/resourcegroups"),
            "2025-01-01",
            "InvalidApiVersionParameter",
        ),
        (
            "/subscriptions".to_owned(),
            "2024-08-01",
            "InvalidApiVersionParameter",
        ),
        (
            format!("{}/providers/Microsoft.KeyVault/vaults", env.rg_path("rg")),
            "2023-08-01-preview",
            "NoRegisteredProviderFound",
        ),
    ] {
        env.arm(Method::GET, &path, api, None)
            .await
            .expect_err(400, code);
    }
    // And the versions the project's own clients send still work.
    env.arm(Method::GET, &env.rg_path("rg"), RG_API, None)
        .await
        .expect(200);
}
