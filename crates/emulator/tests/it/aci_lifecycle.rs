//! Container-group timing as live Azure shows it (the azure-sdk-for-net `SessionRecords` and
//! azure-sdk-for-python recordings of the container-instance tests): start and restart are
//! long-running behind ACI's own operation URL (`Pending` / `Updating`, then `Succeeded`), stop
//! is synchronous, a PATCH may name the group's own location, and a running container shows
//! when it started. Time moves with the emulator's clock, never with sleeps.

use aci_cmk_emulator::{EmulatorOptions, TimingProfile};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

use crate::aci::{ACI_API, aci_principal, group_body, group_path, vault_with_key};
use crate::common::{Env, Resp};

/// A group without a customer-managed key (the emulator's service key), in `westeurope`.
fn plain_group() -> Value {
    json!({
        "location": "westeurope",
        "tags": {"team": "a"},
        "properties": {
            "osType": "Linux",
            "restartPolicy": "Never",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}},
                "environmentVariables": [{"name": "SECRET", "secureValue": "lifecycle-canary-31c4"}]
            }}]
        }
    })
}

/// An emulator with the `azure` timing profile: operations take seconds of the emulator's
/// clock, so the real time a test spends between two requests never ends one early.
async fn azure_env() -> Env {
    Env::start_with(EmulatorOptions {
        timing: TimingProfile::Azure,
        ..Default::default()
    })
    .await
}

/// PUTs `body` as group `name` and moves the clock past its provisioning.
async fn provisioned(env: &Env, rg: &str, name: &str, body: &Value) -> (String, Value) {
    let group = group_path(env, rg, name);
    env.arm(Method::PUT, &group, ACI_API, Some(body))
        .await
        .expect(201);
    env.advance(ms(env.info.timing.durations().aci_create_ms + 1));
    let g = get(env, &group).await;
    assert_eq!(state(&g), ("Succeeded", "Running"));
    (group, g)
}

/// A plain group `name`, provisioned.
async fn deployed(env: &Env, rg: &str, name: &str) -> String {
    env.create_rg(rg).await;
    provisioned(env, rg, name, &plain_group()).await.0
}

async fn action(env: &Env, group: &str, what: &str) -> Resp {
    env.arm(Method::POST, &format!("{group}/{what}"), ACI_API, None)
        .await
}

async fn get(env: &Env, group: &str) -> Value {
    let r = env.arm(Method::GET, group, ACI_API, None).await;
    r.expect(200);
    r.body
}

async fn poll(env: &Env, url: &str) -> Resp {
    let t = env.arm_token().await;
    let r = env.send(Method::GET, url, Some(&t), None).await;
    r.expect(200);
    r
}

fn state(g: &Value) -> (&str, &str) {
    (
        g["properties"]["provisioningState"].as_str().unwrap_or(""),
        g["properties"]["instanceView"]["state"]
            .as_str()
            .unwrap_or(""),
    )
}

fn container_view(g: &Value) -> &Value {
    &g["properties"]["containers"][0]["properties"]["instanceView"]
}

fn ms(d: u64) -> Duration {
    Duration::from_millis(d)
}

/// Follows an ACI operation that runs `total_ms`: the status is `running` each time it is
/// polled before the end (with `Retry-After: 1` and the milliseconds left), then `Succeeded`
/// without a polling header.
async fn follow(env: &Env, url: &str, running: &str, total_ms: u64, group: &str) {
    assert!(total_ms >= 3, "a profile whose operations take time");
    let step = total_ms / 3;
    for polled in 0..3 {
        let op = poll(env, url).await;
        assert_eq!(op.body["status"], running, "poll {polled}: {}", op.body);
        assert_eq!(op.header("retry-after"), "1");
        let left: u64 = op.header("x-ms-retry-after-ms").parse().expect("ms left");
        assert!((1..=total_ms.min(1000)).contains(&left), "{left}");
        env.advance(ms(step));
    }
    env.advance(ms(total_ms));
    let op = poll(env, url).await;
    assert_eq!(op.body["status"], "Succeeded", "{}", op.body);
    assert_eq!(op.body["id"], group, "the operation names the group");
    assert!(op.header("retry-after").is_empty());
}

/// `{arm}/subscriptions/{sub}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/{id}?api-version=2018-06-01`.
fn assert_aci_operation_url(env: &Env, url: &str) {
    let prefix = format!(
        "{}/subscriptions/{}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/",
        env.info.arm_endpoint,
        env.sub()
    );
    let rest = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    let (id, query) = rest.split_once('?').expect("a query");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(query, "api-version=2018-06-01");
}

#[tokio::test]
async fn start_and_restart_are_long_running_and_stop_is_not() {
    let env = azure_env().await;
    let durations = env.info.timing.durations();
    let group = deployed(&env, "rg-life", "cg-life").await;

    let stop = action(&env, &group, "stop").await;
    stop.expect(204);
    assert!(
        stop.header("azure-asyncoperation").is_empty(),
        "stop is synchronous"
    );
    assert_eq!(state(&get(&env, &group).await), ("Succeeded", "Stopped"));

    // Start: Pending several times, then Succeeded, the group Running.
    let start = action(&env, &group, "start").await;
    start.expect(204);
    let url = start.header("azure-asyncoperation").to_owned();
    assert_aci_operation_url(&env, &url);
    assert_eq!(start.header("retry-after"), "1");
    assert_eq!(state(&get(&env, &group).await), ("Pending", "Pending"));
    let op = poll(&env, &url).await;
    assert!(op.body["startTime"].is_string());
    assert_eq!(op.body["properties"], json!({"events": []}));
    follow(&env, &url, "Pending", durations.aci_start_ms, &group).await;
    assert_eq!(state(&get(&env, &group).await), ("Succeeded", "Running"));

    // Restart: Updating several times, then Succeeded.
    let restart = action(&env, &group, "restart").await;
    restart.expect(204);
    let url = restart.header("azure-asyncoperation").to_owned();
    assert_aci_operation_url(&env, &url);
    assert_eq!(state(&get(&env, &group).await).0, "Updating");
    follow(&env, &url, "Updating", durations.aci_restart_ms, &group).await;
    assert_eq!(state(&get(&env, &group).await), ("Succeeded", "Running"));
}

#[tokio::test]
async fn the_put_polls_acis_operation_and_arms_location_still_works() {
    let env = azure_env().await;
    env.create_rg("rg-put").await;
    let group = group_path(&env, "rg-put", "cg-put");
    let r = env
        .arm(Method::PUT, &group, ACI_API, Some(&plain_group()))
        .await;
    r.expect(201);
    let url = r.header("azure-asyncoperation").to_owned();
    assert_aci_operation_url(&env, &url);
    let location = r.header("location").to_owned();
    assert!(
        location.contains("/providers/Microsoft.Resources/operationResults/"),
        "{location}"
    );
    let t = env.arm_token().await;
    env.send(Method::GET, &location, Some(&t), None)
        .await
        .expect(202);
    follow(
        &env,
        &url,
        "Pending",
        env.info.timing.durations().aci_create_ms,
        &group,
    )
    .await;
    env.send(Method::GET, &location, Some(&t), None)
        .await
        .expect(204);

    // A provisioning that fails reports Failed with the error (no ACI principal here).
    let sp_less = {
        let oid = env.deployer_oid().await;
        let cmk = vault_with_key(&env, "rg-put", "put-vault", Some(&oid)).await;
        group_body(&env, &cmk, None)
    };
    let r = env
        .arm(
            Method::PUT,
            &group_path(&env, "rg-put", "cg-failed"),
            ACI_API,
            Some(&sp_less),
        )
        .await;
    r.expect(201);
    let url = r.header("azure-asyncoperation").to_owned();
    assert_eq!(poll(&env, &url).await.body["status"], "Pending");
    env.advance(ms(env.info.timing.durations().aci_create_ms + 1));
    let op = poll(&env, &url).await;
    assert_eq!(op.body["status"], "Failed");
    assert_eq!(op.body["error"]["code"], "AciServicePrincipalNotFound");
}

#[tokio::test]
async fn the_operation_route_refuses_bad_input_in_arms_shape() {
    let env = azure_env().await;
    let group = deployed(&env, "rg-op", "cg-op").await;
    let r = action(&env, &group, "restart").await;
    let url = r.header("azure-asyncoperation").to_owned();
    let base = url.split_once('?').expect("query").0.to_owned();
    let path = base
        .strip_prefix(&env.info.arm_endpoint)
        .expect("on the ARM endpoint")
        .to_owned();
    let t = env.arm_token().await;

    // The group's api-versions are accepted too; others are refused as for the group.
    assert_eq!(
        env.arm(Method::GET, &path, ACI_API, None).await.body["status"],
        "Updating"
    );
    env.send(Method::GET, &base, Some(&t), None)
        .await
        .expect_err(400, "MissingApiVersionParameter");
    env.arm(Method::GET, &path, "2099-01-01", None)
        .await
        .expect_err(400, "NoRegisteredProviderFound");
    env.arm(Method::DELETE, &path, ACI_API, None)
        .await
        .expect_err(405, "MethodNotAllowed");
    let unknown = format!(
        "/subscriptions/{}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/{}",
        env.sub(),
        uuid::Uuid::new_v4()
    );
    env.arm(Method::GET, &unknown, ACI_API, None)
        .await
        .expect_err(404, "OperationNotFound");
    let other_sub = path.replace(env.sub(), &uuid::Uuid::new_v4().to_string());
    env.arm(Method::GET, &other_sub, ACI_API, None)
        .await
        .expect_err(404, "SubscriptionNotFound");

    // A deployment's operation is not ACI's.
    let dep = env
        .arm(
            Method::PUT,
            &format!(
                "/subscriptions/{}/resourcegroups/rg-op/providers/Microsoft.Resources/deployments/d1",
                env.sub()
            ),
            "2021-04-01",
            Some(&json!({"properties": {"mode": "Incremental", "template": {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": []}}})),
        )
        .await;
    dep.expect(201);
    let dep_id = dep
        .header("azure-asyncoperation")
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .expect("an id")
        .to_owned();
    let dep_on_aci = format!(
        "/subscriptions/{}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/{dep_id}",
        env.sub()
    );
    env.arm(Method::GET, &dep_on_aci, ACI_API, None)
        .await
        .expect_err(404, "OperationNotFound");
}

#[tokio::test]
async fn an_operation_survives_a_restart_on_a_state_dir() {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-test-{}", uuid::Uuid::new_v4()));
    let opts = EmulatorOptions {
        state_dir: Some(dir.clone()),
        timing: TimingProfile::Azure,
        ..Default::default()
    };
    let env = Env::start_with(opts.clone()).await;
    env.create_rg("rg-keep").await;
    let group = group_path(&env, "rg-keep", "cg-keep");
    let r = env
        .arm(Method::PUT, &group, ACI_API, Some(&plain_group()))
        .await;
    r.expect(201);
    env.advance(Duration::from_secs(60));
    let start = action(&env, &group, "start").await;
    let url = start.header("azure-asyncoperation").to_owned();
    let path_and_query = url
        .strip_prefix(&env.info.arm_endpoint)
        .expect("on the ARM endpoint")
        .to_owned();
    env.emu.shutdown().await;

    let env = Env::start_with(opts).await;
    let again = poll(&env, &format!("{}{path_and_query}", env.info.arm_endpoint)).await;
    assert_eq!(again.body["status"], "Pending");
    env.advance(Duration::from_secs(60));
    let done = poll(&env, &format!("{}{path_and_query}", env.info.arm_endpoint)).await;
    assert_eq!(done.body["status"], "Succeeded");
    env.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_instant_profile_answers_terminal_states_without_polling_headers() {
    let env = Env::start_with(EmulatorOptions {
        timing: TimingProfile::Instant,
        ..Default::default()
    })
    .await;
    env.create_rg("rg-now").await;
    let group = group_path(&env, "rg-now", "cg-now");
    let r = env
        .arm(Method::PUT, &group, ACI_API, Some(&plain_group()))
        .await;
    r.expect(201);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    for what in ["stop", "start", "restart"] {
        env.advance(Duration::from_secs(5));
        let asked = env.emu.admin().now().replace_nanosecond(0).expect("whole");
        let r = action(&env, &group, what).await;
        r.expect(204);
        for header in ["azure-asyncoperation", "location", "retry-after"] {
            assert!(r.header(header).is_empty(), "{what}: {header}");
        }
        let g = get(&env, &group).await;
        if what == "stop" {
            assert_eq!(state(&g), ("Succeeded", "Stopped"));
            continue;
        }
        // Running at once: the containers started when they were asked to.
        assert_eq!(state(&g), ("Succeeded", "Running"));
        let started = parse(&container_view(&g)["currentState"]["startTime"]);
        assert!(
            started >= asked && started <= env.emu.admin().now(),
            "{what}: {started}"
        );
    }
}

#[tokio::test]
async fn a_patch_may_name_the_groups_own_location() {
    let env = azure_env().await;
    let group = deployed(&env, "rg-patch", "cg-patch").await;

    // As the .NET SDK sends it: location and tags; the answer is the whole group.
    let r = env
        .arm(
            Method::PATCH,
            &group,
            ACI_API,
            Some(&json!({"location": "West Europe", "tags": {"team": "b"}})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["tags"], json!({"team": "b"}));
    assert_eq!(r.body["location"], "westeurope");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(r.body["properties"]["containers"][0]["name"], "app");
    assert!(!r.body.to_string().contains("lifecycle-canary-31c4"));

    // The location alone changes nothing.
    let r = env
        .arm(
            Method::PATCH,
            &group,
            ACI_API,
            Some(&json!({"location": "WESTEUROPE"})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["tags"], json!({"team": "b"}));

    // Another location, or a location that is no string, is refused and changes nothing.
    let r = env
        .arm(
            Method::PATCH,
            &group,
            ACI_API,
            Some(&json!({"location": "East US", "tags": {"team": "c"}})),
        )
        .await;
    r.expect_err(400, "InvalidResourceLocation");
    assert_eq!(r.header("x-ms-error-code"), "InvalidResourceLocation");
    env.arm(
        Method::PATCH,
        &group,
        ACI_API,
        Some(&json!({"location": 5})),
    )
    .await
    .expect_err(400, "InvalidRequestContent");
    env.arm(
        Method::PATCH,
        &group,
        ACI_API,
        Some(&json!({"location": "westeurope", "properties": {}})),
    )
    .await
    .expect_err(400, "InvalidRequestContent");
    assert_eq!(get(&env, &group).await["tags"], json!({"team": "b"}));
    env.arm(
        Method::PATCH,
        &group_path(&env, "rg-patch", "nope"),
        ACI_API,
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect_err(404, "ResourceNotFound");
}

fn parse(t: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        t.as_str().unwrap_or_else(|| panic!("a time: {t}")),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339")
}

#[tokio::test]
async fn a_running_container_shows_when_it_started_and_a_restart_starts_it_afresh() {
    let env = azure_env().await;
    let durations = env.info.timing.durations();
    let sp = aci_principal(&env).await;
    let cmk = vault_with_key(&env, "rg-view", "view-vault", Some(&sp)).await;
    let before = env.emu.admin().now();
    let (group, g) = provisioned(&env, "rg-view", "cg-view", &group_body(&env, &cmk, None)).await;
    let view = container_view(&g);
    assert_eq!(view["restartCount"], 0);
    assert_eq!(view["currentState"]["state"], "Running");
    assert_eq!(view["currentState"]["detailStatus"], "");
    assert!(view.get("previousState").is_none());
    let started = parse(&view["currentState"]["startTime"]);
    assert!(started >= before.replace_nanosecond(0).expect("whole seconds"));
    assert!(started <= env.emu.admin().now());

    // A restart recreates the containers: a later startTime, restartCount still 0, no
    // previousState; meanwhile they wait.
    env.advance(Duration::from_secs(10));
    let r = action(&env, &group, "restart").await;
    r.expect(204);
    let waiting = get(&env, &group).await;
    assert_eq!(container_view(&waiting)["currentState"]["state"], "Waiting");
    env.advance(ms(durations.aci_restart_ms + 1));
    let restarted = get(&env, &group).await;
    let view = container_view(&restarted);
    assert_eq!(view["currentState"]["state"], "Running");
    assert_eq!(view["restartCount"], 0);
    assert!(view.get("previousState").is_none());
    let again = parse(&view["currentState"]["startTime"]);
    assert!(
        again >= started + Duration::from_secs(10),
        "{started} → {again}"
    );

    // A stopped group's containers are gone: no instance view. A start runs them anew.
    action(&env, &group, "stop").await.expect(204);
    let stopped = get(&env, &group).await;
    assert!(container_view(&stopped).is_null(), "{}", stopped);
    env.advance(Duration::from_secs(5));
    action(&env, &group, "start").await.expect(204);
    env.advance(ms(durations.aci_start_ms + 1));
    let view = container_view(&get(&env, &group).await).clone();
    assert_eq!(view["currentState"]["state"], "Running");
    assert!(parse(&view["currentState"]["startTime"]) >= again + Duration::from_secs(5));
}
