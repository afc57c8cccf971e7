//! Admin API: reset, dump, request log, principals, fault injection with replay, and the
//! directory replication delay.

use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};

use aci_cmk_emulator::InFlightRequest;

use crate::common::{Env, KV_API, RA_API, RG_API, b64url, watch_until};

#[tokio::test]
async fn dump_and_request_log_never_show_secrets_and_reset_restores_the_seed() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "dump1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "dump1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);

    let d = env.admin(Method::GET, "/dump", None).await;
    d.expect(200);
    let text = d.body.to_string();
    assert!(
        !text.contains(&env.info.client_secret),
        "dump leaks the client secret"
    );
    assert!(
        !text.contains(&env.info.identity_header),
        "dump leaks the identity header"
    );
    assert!(!text.contains("pkcs8"), "dump leaks key material");
    assert!(d.body["vaults"]["dump1"].is_object());
    assert!(d.body["keys"]["dump1/k"]["versions"][0]["n"].is_string());

    let log = env.admin(Method::GET, "/requests", None).await;
    let entries = log.body["value"].as_array().cloned().unwrap_or_default();
    assert!(entries.len() >= 4);
    let kv = entries
        .iter()
        .find(|e| e["service"] == "keyvault")
        .expect("kv entry");
    assert_eq!(kv["caller_oid"], oid);
    assert_eq!(kv["status"], 200);
    assert_eq!(kv["method"], "POST");
    assert_eq!(kv["path"], "/keys/k/create");
    assert!(kv["duration_ms"].is_number());
    let log_text = log.body.to_string();
    assert!(!log_text.contains(&env.info.client_secret));
    assert!(!log_text.contains(&t));
    assert!(
        !log_text.contains("api-version"),
        "no query strings in the log"
    );

    let only_kv = env
        .admin(Method::GET, "/requests?service=keyvault", None)
        .await;
    let kv_entries = only_kv.body["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!kv_entries.is_empty() && kv_entries.iter().all(|e| e["service"] == "keyvault"));

    // Admin principals get tokens.
    let (cid, secret, p) = env.add_principal("extra").await;
    let tok = env
        .token_for(
            &cid,
            &secret,
            &format!("{}/.default", env.info.arm_audience),
        )
        .await;
    assert_eq!(crate::common::claims(&tok)["oid"], p);

    // Reset.
    env.admin(Method::POST, "/reset", None).await.expect(200);
    let d = env.admin(Method::GET, "/dump", None).await;
    assert_eq!(d.body["vaults"], json!({}));
    assert_eq!(d.body["resource_groups"], json!({}));
    env.admin(Method::GET, "/requests", None).await;
    assert_eq!(
        env.admin(Method::GET, "/requests", None).await.body["value"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    // The deployer still works after a reset.
    env.arm(
        Method::GET,
        &format!("/subscriptions/{}/resourcegroups", env.sub()),
        RG_API,
        None,
    )
    .await
    .expect(200);
}

async fn statuses(env: &Env, n: usize) -> Vec<u16> {
    let t = env.arm_token().await;
    let url = format!(
        "{}/subscriptions/{}/resourcegroups?api-version={RG_API}",
        env.info.arm_endpoint,
        env.sub()
    );
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            env.send(Method::GET, &url, Some(&t), None)
                .await
                .status
                .as_u16(),
        );
    }
    out
}

#[tokio::test]
async fn faults_are_scoped_seeded_and_replay_exactly() {
    let env = Env::start().await;
    let faults = json!({"seed": 42, "rules": [
        {"service": "arm", "method": "GET", "path_contains": "/resourcegroups", "rate": 0.5, "action": {"type": "error", "status": 503}},
        {"service": "arm", "method": "GET", "path_contains": "/resourcegroups", "rate": 0.3, "action": {"type": "throttle", "retry_after_secs": 2}}
    ]});
    env.admin(Method::PUT, "/faults", Some(&faults))
        .await
        .expect(200);
    let first = statuses(&env, 30).await;
    assert!(
        first.contains(&503) && first.contains(&429) && first.contains(&200),
        "{first:?}"
    );
    env.admin(Method::PUT, "/faults", Some(&faults))
        .await
        .expect(200);
    let second = statuses(&env, 30).await;
    assert_eq!(first, second, "same seed replays the same faults");
    // Throttle shape; token endpoint unaffected (scoped by service).
    let t = env.arm_token().await;
    let url = format!(
        "{}/subscriptions/{}/resourcegroups?api-version={RG_API}",
        env.info.arm_endpoint,
        env.sub()
    );
    env.admin(Method::PUT, "/faults", Some(&json!({"seed": 1, "rules": [{"service": "arm", "action": {"type": "throttle", "retry_after_secs": 3}}]}))).await;
    let r = env.send(Method::GET, &url, Some(&t), None).await;
    r.expect_err(429, "TooManyRequests");
    assert_eq!(r.header("retry-after"), "3");
    env.kv_token().await;
    // Log records the fault.
    let log = env.admin(Method::GET, "/requests", None).await;
    assert!(
        log.body["value"]
            .as_array()
            .is_some_and(|v| v.iter().any(|e| e["fault"] == "throttle(retry_after=3)"))
    );

    // Token bucket per subscription, writes only.
    env.admin(Method::PUT, "/faults", Some(&json!({"rules": [{"service": "arm", "writes_only": true, "action": {"type": "token_bucket", "capacity": 2, "refill_per_sec": 0.001}}]}))).await;
    let loc = json!({"location": "westeurope"});
    env.arm(Method::PUT, &env.rg_path("b1"), RG_API, Some(&loc))
        .await
        .expect(201);
    env.arm(Method::PUT, &env.rg_path("b2"), RG_API, Some(&loc))
        .await
        .expect(201);
    let r = env
        .arm(Method::PUT, &env.rg_path("b3"), RG_API, Some(&loc))
        .await;
    r.expect(429);
    assert_eq!(r.header("retry-after"), "1");
    // The bucket also says when it holds a token again: 1 / 0.001 per second ≈ 1000 s.
    let ms: u64 = r
        .header("x-ms-retry-after-ms")
        .parse()
        .expect("x-ms-retry-after-ms in milliseconds");
    assert!((990_000..=1_000_000).contains(&ms), "{ms}");
    env.arm(Method::GET, &env.rg_path("b1"), RG_API, None)
        .await
        .expect(200);

    // Paced as Azure Resource Manager paces: whole seconds in `Retry-After`, nothing finer.
    env.admin(Method::PUT, "/faults", Some(&json!({"rules": [{"service": "arm", "writes_only": true, "action": {"type": "token_bucket", "capacity": 1, "refill_per_sec": 0.25, "pacing": "whole_seconds"}}]}))).await;
    env.arm(Method::PUT, &env.rg_path("b4"), RG_API, Some(&loc))
        .await
        .expect(201);
    let r = env
        .arm(Method::PUT, &env.rg_path("b5"), RG_API, Some(&loc))
        .await;
    r.expect(429);
    // An empty bucket refilling at 0.25 a second holds a token again in 4 s at most.
    let secs: u64 = r.header("retry-after").parse().expect("whole seconds");
    assert!((3..=4).contains(&secs), "{secs}");
    assert!(
        r.headers.get("x-ms-retry-after-ms").is_none(),
        "no finer pacing than ARM's"
    );

    // Latency.
    env.admin(Method::PUT, "/faults", Some(&json!({"rules": [{"service": "arm", "action": {"type": "latency", "fixed_ms": 150, "jitter_ms": 20}}]}))).await;
    let started = Instant::now();
    env.send(Method::GET, &url, Some(&t), None)
        .await
        .expect(200);
    assert!(started.elapsed().as_millis() >= 150);

    // Dropped connection.
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"rules": [{"service": "arm", "max_hits": 1, "action": {"type": "drop"}}]})),
    )
    .await;
    let dropped = env.http.get(&url).bearer_auth(&t).send().await;
    assert!(
        dropped.is_err(),
        "connection should be dropped: {dropped:?}"
    );
    env.send(Method::GET, &url, Some(&t), None)
        .await
        .expect(200);

    // 5xx on Graph only.
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"rules": [{"service": "graph", "action": {"type": "error", "status": 500}}]})),
    )
    .await;
    let g = env.graph_token().await;
    let r = env
        .send(
            Method::GET,
            &format!("{}/v1.0/servicePrincipals", env.info.graph_endpoint),
            Some(&g),
            None,
        )
        .await;
    r.expect(500);
    assert!(r.body["error"]["innerError"].is_object());
    env.send(Method::GET, &url, Some(&t), None)
        .await
        .expect(200);
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"rules": [{"action": {"type": "error", "status": 200}}]})),
    )
    .await
    .expect(400);
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"rules": [{"action": {"type": "explode"}}]})),
    )
    .await
    .expect(400);
    env.admin(Method::DELETE, "/faults", None).await.expect(204);
    assert_eq!(
        env.admin(Method::GET, "/faults", None).await.body["rules"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn replication_delay_hides_new_principals_from_key_vault_and_role_assignments() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "repl1",
        json!({"accessPolicies": [env.policy(&oid, &["all"])]}),
    )
    .await
    .expect(200);
    env.create_vault("rg", "repl2", json!({"enableRbacAuthorization": true}))
        .await
        .expect(200);
    let t = env.kv_token().await;
    env.kv(
        &t,
        Method::POST,
        "repl1",
        "/keys/k/create",
        Some(&json!({"kty": "RSA"})),
    )
    .await
    .expect(200);

    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"replication_delay_ms": 60_000})),
    )
    .await
    .expect(200);
    // The deployer (seeded long ago) is unaffected.
    env.kv(&t, Method::GET, "repl1", "/keys/k", None)
        .await
        .expect(200);
    let (cid, secret, p) = env.add_principal("fresh").await;
    let vp = env.vault_path("rg", "repl1");
    env.arm(
        Method::PUT,
        &format!("{vp}/accessPolicies/add"),
        KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&p, &["get", "wrapKey"])]}})),
    )
    .await
    .expect(200);
    let t2 = env
        .token_for(
            &cid,
            &secret,
            &format!("{}/.default", env.info.keyvault_audience),
        )
        .await;
    let r = env.kv(&t2, Method::GET, "repl1", "/keys/k", None).await;
    assert_eq!(r.inner(), "ForbiddenByPolicy");
    // Role assignment: PrincipalNotFound without principalType, accepted with it.
    let ra = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-0000000000b1",
        env.vault_path("rg", "repl2")
    );
    let role = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424",
        env.sub()
    );
    env.arm(
        Method::PUT,
        &ra,
        RA_API,
        Some(&json!({"properties": {"roleDefinitionId": role, "principalId": p}})),
    )
    .await
    .expect_err(400, "PrincipalNotFound");
    env.arm(Method::PUT, &ra, RA_API, Some(&json!({"properties": {"roleDefinitionId": role, "principalId": p, "principalType": "ServicePrincipal"}}))).await.expect(201);
    // Once replicated, access works.
    env.admin(
        Method::PUT,
        "/faults",
        Some(&json!({"replication_delay_ms": 0})),
    )
    .await
    .expect(200);
    env.kv(&t2, Method::GET, "repl1", "/keys/k", None)
        .await
        .expect(200);
    env.kv(
        &t2,
        Method::POST,
        "repl1",
        "/keys/k//wrapkey",
        Some(&json!({"alg": "RSA-OAEP", "value": b64url(b"abc")})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn ready_info_debug_redacts_secrets() {
    let env = Env::start().await;
    let dbg = format!("{:?} {:?}", env.info, env.emu);
    assert!(!dbg.contains(&env.info.client_secret));
    assert!(!dbg.contains(&env.info.identity_header));
    assert!(dbg.contains(&env.info.client_id));
    let ready_line = env.info.to_ready_line();
    assert!(!ready_line.contains('\n'), "the ready line is one line");
    let read_back: aci_cmk_emulator::ReadyInfo =
        serde_json::from_str(&ready_line).expect("the ready line reads back");
    assert!(read_back == env.info);
    let line: Value = serde_json::from_str(&ready_line).expect("json");
    for k in [
        "ready",
        "arm_endpoint",
        "arm_audience",
        "graph_endpoint",
        "graph_audience",
        "authority_host",
        "keyvault_dns_suffix",
        "keyvault_audience",
        "managed_identity_endpoint",
        "identity_header",
        "tenant_id",
        "subscription_id",
        "client_id",
        "client_secret",
        "ca_cert_pem_path",
        "admin_endpoint",
    ] {
        assert!(!line[k].is_null(), "{k} missing from the ready line");
    }
    assert!(line.get("https_proxy").is_none());
    let ca = std::path::PathBuf::from(&env.info.ca_cert_pem_path);
    assert!(ca.exists());
    drop(env);
    assert!(!ca.exists(), "the temporary CA file is deleted on drop");
}

/// Every admin field is bounded: a value that would overflow a token's dates or stall every
/// request (a refill near zero, a latency of hours) is a 400 naming the field, and changes
/// nothing.
#[tokio::test]
async fn admin_input_is_bounded_and_named() {
    let env = Env::start().await;
    for (body, field) in [
        (
            json!({"aud": env.info.arm_audience, "ttl_secs": i64::MAX}),
            "ttl_secs",
        ),
        (
            json!({"aud": env.info.arm_audience, "nbf_offset_secs": i64::MAX}),
            "nbf_offset_secs",
        ),
        (
            json!({"aud": env.info.arm_audience, "ttl_secs": i64::MIN}),
            "ttl_secs",
        ),
    ] {
        let r = env.admin(Method::POST, "/tokens", Some(&body)).await;
        r.expect_err(400, "BadRequest");
        let m = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(field), "{m}");
    }
    let bucket = |refill: f64| json!({"rules": [{"action": {"type": "token_bucket", "capacity": 1, "refill_per_sec": refill}}]});
    for (body, field) in [
        (bucket(1e-300), "rules[0].action.refill_per_sec"),
        (bucket(0.0), "rules[0].action.refill_per_sec"),
        (
            json!({"rules": [{"action": {"type": "latency", "fixed_ms": u64::MAX, "jitter_ms": 1}}]}),
            "rules[0].action.fixed_ms",
        ),
        (
            json!({"rules": [{"rate": 2.0, "action": {"type": "drop"}}]}),
            "rules[0].rate",
        ),
        (
            json!({"rules": [{"action": {"type": "throttle", "retry_after_secs": u64::MAX}}]}),
            "rules[0].action.retry_after_secs",
        ),
        (
            json!({"rules": [{"action": {"type": "token_bucket", "capacity": 0, "refill_per_sec": 1.0}}]}),
            "rules[0].action.capacity",
        ),
        (
            json!({"rules": [{"action": {"type": "error", "status": 404}}]}),
            "rules[0].action.status",
        ),
        (
            json!({"replication_delay_ms": u64::MAX}),
            "replication_delay_ms",
        ),
    ] {
        let r = env.admin(Method::PUT, "/faults", Some(&body)).await;
        r.expect_err(400, "BadRequest");
        let m = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(field), "{body}: {m}");
    }
    // Nothing was kept: requests still pass.
    let r = env.admin(Method::GET, "/faults", None).await;
    assert_eq!(r.body["rules"], json!([]));
    env.arm(
        Method::GET,
        &format!("/subscriptions/{}/resourcegroups", env.sub()),
        "2021-04-01",
        None,
    )
    .await
    .expect(200);
}

/// The admin API refuses browser pages (an `Origin` header) and, with an admin token set,
/// every call without it — however the path is spelled (`/%5Fadmin/…` is decoded first).
#[tokio::test]
async fn the_admin_api_can_require_a_token_and_refuses_browser_pages() {
    let env = Env::start().await;
    let dump = format!("{}/dump", env.info.admin_endpoint);
    let r = env
        .http
        .get(&dump)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 403, "a page may not drive the admin API");
    env.admin(Method::GET, "/dump", None).await.expect(200);

    let token = "admin-canary-7f3c";
    let options = aci_cmk_emulator::EmulatorOptions {
        admin_token: Some(token.to_owned()),
        client_secret: Some("client-canary-91ab".to_owned()),
        ..Default::default()
    };
    let debug = format!("{options:?}");
    assert!(
        !debug.contains(token) && !debug.contains("client-canary-91ab"),
        "{debug}"
    );
    let env = Env::start_with(options).await;
    let base = env.info.arm_endpoint.clone();
    for path in ["/_admin/dump", "/%5Fadmin/dump", "/%5fADMIN/requests"] {
        let r = env
            .http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 401, "{path} without the token");
        let r = env
            .http
            .get(format!("{base}{path}"))
            .bearer_auth("wrong")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 401, "{path} with a wrong token");
        let r = env
            .http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 200, "{path} with the token");
    }
    // In process, the façade is trusted.
    assert!(env.emu.admin().dump().is_object());
}

// ----- events to wait on, in process -----

#[tokio::test]
async fn watch_writes_wakes_after_each_write_that_changed_something_and_not_after_reads() {
    let env = Env::start().await;
    let admin = env.emu.admin();
    let t = env.arm_token().await;
    let rg_url = format!(
        "{}{}?api-version={RG_API}",
        env.info.arm_endpoint,
        env.rg_path("w1")
    );
    let mut writes = admin.watch_writes();
    let before = *writes.borrow_and_update();
    // A read and a refused write change nothing.
    env.send(Method::GET, &rg_url, Some(&t), None)
        .await
        .expect(404);
    env.send(Method::PUT, &rg_url, Some(&t), Some(&json!({})))
        .await
        .expect(400);
    assert!(!writes.has_changed().expect("the emulator runs"));
    // A request that changes something and a move of the clock do.
    env.send(
        Method::PUT,
        &rg_url,
        Some(&t),
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(201);
    assert!(writes.has_changed().expect("the emulator runs"));
    let after_put = *writes.borrow_and_update();
    assert!(after_put > before, "{after_put} after {before}");
    admin
        .advance(std::time::Duration::from_secs(1))
        .expect("the clock moves");
    watch_until("the clock's move", &mut writes, |n| *n > after_put).await;
}

#[tokio::test]
async fn watch_connections_counts_open_connections_as_they_are_admitted_and_closed() {
    let env = Env::start().await;
    let mut open = env.emu.admin().watch_connections();
    assert_eq!(*open.borrow_and_update(), 0, "nothing has connected yet");
    let port = env.info.arm_endpoint.rsplit(':').next().expect("port");
    let held = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    watch_until("the admission", &mut open, |n| *n == 1).await;
    // A request on a connection of its own: two are open while the client keeps it.
    env.arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await
        .expect(200);
    assert_eq!(*open.borrow_and_update(), 2);
    drop(held);
    watch_until("the close", &mut open, |n| *n == 1).await;
}

/// An ARM GET of the subscriptions in `requests`.
fn subscriptions_get(requests: &[InFlightRequest]) -> Option<&InFlightRequest> {
    requests
        .iter()
        .find(|r| r.service == "arm" && r.method == "GET" && r.path == "/subscriptions")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_in_flight_holds_a_request_until_it_is_logged_or_dropped_by_its_client() {
    let env = Env::start().await;
    let admin = env.emu.admin();
    let t = env.arm_token().await;
    let url = format!(
        "{}/subscriptions?api-version=2022-12-01",
        env.info.arm_endpoint
    );
    // Held for the longest latency the fault configuration takes (a minute): longer than the
    // test needs to see it arrive and to hang up.
    env.admin(
        Method::PUT,
        "/faults",
        Some(
            &json!({"rules": [{"service": "arm", "path_contains": "/subscriptions",
            "action": {"type": "latency", "fixed_ms": 60_000}}]}),
        ),
    )
    .await
    .expect(200);
    let mut in_flight = admin.watch_in_flight();
    assert!(in_flight.borrow_and_update().is_empty());
    let request = tokio::spawn({
        let (http, url, t) = (env.http.clone(), url.clone(), t.clone());
        async move { http.get(url).bearer_auth(t).send().await }
    });
    watch_until("the held GET", &mut in_flight, |r| {
        subscriptions_get(r).is_some()
    })
    .await;
    let held = subscriptions_get(&in_flight.borrow()).cloned();
    let held = held.expect("the GET is in flight");
    assert!(!held.request_id.is_empty());
    assert_eq!(
        held.host,
        env.info.arm_endpoint.trim_start_matches("https://")
    );
    let shown = serde_json::to_string(&held).expect("json");
    assert!(!shown.contains(&t), "no token in {shown}");
    assert!(!shown.contains("api-version"), "no query string in {shown}");
    assert!(
        !admin.requests().iter().any(|e| e.path == "/subscriptions"),
        "not handled yet"
    );

    // The client hangs up: the server drops the request unanswered and it leaves the set.
    request.abort();
    let _ = request.await;
    watch_until("the hang-up", &mut in_flight, |r| r.is_empty()).await;
    assert!(
        !admin.requests().iter().any(|e| e.path == "/subscriptions"),
        "the dropped GET was handled: {:?}",
        admin.requests()
    );

    // An answered request has left the set, and is logged, by the time its answer arrives.
    admin
        .set_faults(aci_cmk_emulator::FaultConfig::default())
        .expect("faults cleared");
    env.send(Method::GET, &url, Some(&t), None)
        .await
        .expect(200);
    assert!(in_flight.borrow_and_update().is_empty());
    let logged = admin.requests();
    assert!(
        logged
            .iter()
            .any(|e| e.method == "GET" && e.path == "/subscriptions" && e.status == 200),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_removed_service_principal_comes_back_with_a_new_object_id() {
    const ACI: &str = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";
    let env = Env::start().await;
    let admin = env.emu.admin();
    assert!(!admin.remove_service_principal(ACI).expect("removed"));
    let t = env.graph_token().await;
    let g = env.info.graph_endpoint.trim_end_matches('/').to_owned();
    let create = || async {
        env.send(
            Method::POST,
            &format!("{g}/v1.0/servicePrincipals"),
            Some(&t),
            Some(&json!({"appId": ACI})),
        )
        .await
    };
    let first = create().await;
    first.expect(201);
    let first_id = first.body["id"].as_str().expect("id").to_owned();
    // Over the admin API (then none is left to remove).
    env.admin(Method::DELETE, &format!("/service-principals/{ACI}"), None)
        .await
        .expect(204);
    env.admin(Method::DELETE, &format!("/service-principals/{ACI}"), None)
        .await
        .expect(404);
    env.send(
        Method::GET,
        &format!("{g}/v1.0/servicePrincipals(appId='{ACI}')"),
        Some(&t),
        None,
    )
    .await
    .expect(404);
    let again = create().await;
    again.expect(201);
    assert_ne!(again.body["id"], first_id.as_str());
}

#[tokio::test]
async fn a_legacy_vault_without_soft_delete_is_patched_back_and_gone_at_once_when_deleted() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    for name in ["legacy1", "legacy2"] {
        env.create_vault("rg", name, json!({})).await.expect(200);
        if name == "legacy1" {
            env.emu
                .admin()
                .disable_soft_delete(name)
                .expect("soft delete off");
        } else {
            env.admin(
                Method::POST,
                &format!("/vaults/{name}/disable-soft-delete"),
                None,
            )
            .await
            .expect(204);
        }
        let r = env
            .arm(Method::GET, &env.vault_path("rg", name), KV_API, None)
            .await;
        assert_eq!(r.body["properties"]["enableSoftDelete"], false);
    }
    assert!(env.emu.admin().disable_soft_delete("nosuchvault").is_err());

    // A PATCH turns it back on; turning it off stays refused.
    let patch = |on: bool| json!({"properties": {"enableSoftDelete": on}});
    let r = env
        .arm(
            Method::PATCH,
            &env.vault_path("rg", "legacy1"),
            KV_API,
            Some(&patch(true)),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["properties"]["enableSoftDelete"], true);
    env.arm(
        Method::PATCH,
        &env.vault_path("rg", "legacy1"),
        KV_API,
        Some(&patch(false)),
    )
    .await
    .expect(400);

    // Deleted, the vault still without soft delete is not among the deleted vaults.
    for name in ["legacy1", "legacy2"] {
        env.arm(Method::DELETE, &env.vault_path("rg", name), KV_API, None)
            .await
            .expect(200);
    }
    let deleted = env
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
    deleted.expect(200);
    let names: Vec<&str> = deleted.body["value"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["legacy1"], "{}", deleted.body);
}
