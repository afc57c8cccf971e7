//! Secrets never leak: canaries in the client secret, in a secure environment value and in the
//! tokens a run used must not appear in any log line (tracing at TRACE, `log` records too), error
//! message, `Debug` output, report, request log or emulator dump.

use aci_cmk_core::{credentials::CredentialBuilder, secret::SecretString};
use aci_cmk_emulator::EmulatorOptions;
use aci_cmk_encrypted_deployment::{Backends, Connection, OrchestratorOptions};
use aci_cmk_integration_tests::Harness;
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

const CLIENT_SECRET: &str = "canary-client-secret-Zq7xW2pL";
const SECURE_VALUE: &str = "canary-secure-env-Kp4vN9tR";

/// A `MakeWriter` target: every log line goes into one shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

const SPEC: &str = r#"
subscription_id = "{sub}"
resource_group = "rg-e2e-secrets"
location = "westeurope"

[vault]
name = "e2e-secrets-vault"
ip_rules = ["127.0.0.1"]

[key.create]
name = "aci-cmk"

[flow.network_protected]
identity_name = "aci-cmk-id"

[container_group]
name = "hello-secrets"

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
env = { GREETING = "hello" }
secure_env = { API_TOKEN = "{secure}" }
"#;

/// Everything a run leaves behind that a person could read, labelled.
#[derive(Default)]
struct Evidence(Vec<(String, String)>);

impl Evidence {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    /// Display, Debug and the source chain of an error.
    fn error(&mut self, label: &str, error: &(dyn std::error::Error + 'static)) {
        self.add(format!("{label}: Display"), error.to_string());
        self.add(format!("{label}: Debug"), format!("{error:?}"));
        let mut source = error.source();
        while let Some(e) = source {
            self.add(format!("{label}: source"), format!("{e} / {e:?}"));
            source = e.source();
        }
    }

    /// Where each canary appears, with some context around it.
    fn leaks(&self, canaries: &[(&str, String)]) -> Vec<String> {
        let mut found = Vec::new();
        for (name, canary) in canaries {
            for (label, text) in &self.0 {
                if let Some(at) = text.find(canary.as_str()) {
                    let mut start = at.saturating_sub(120);
                    while !text.is_char_boundary(start) {
                        start -= 1;
                    }
                    let mut end = (at + canary.len() + 40).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    found.push(format!(
                        "{name} in {label}: …{}…",
                        text[start..end].replace(canary.as_str(), "<CANARY>")
                    ));
                }
            }
        }
        found
    }
}

#[tokio::test]
async fn no_canary_in_logs_errors_debug_reports_request_log_or_dump() {
    // Everything in this process (the SDK and the emulator, on every thread) logs into `logs`
    // at TRACE; `log` records are forwarded. The test runs in a binary of its own, so no other
    // test shares the subscriber (a thread-local one missed events under load).
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let _ = tracing_log::LogTracer::init();

    let h = Harness::start_with_emulator_options(
        EmulatorOptions {
            client_secret: Some(CLIENT_SECRET.to_owned()),
            ..EmulatorOptions::default()
        },
        OrchestratorOptions::default(),
    )
    .await;
    let spec = h.spec(&SPEC.replace("{secure}", SECURE_VALUE));
    let report = h.orchestrator.apply(&spec).await.expect("apply");
    let mut evidence = Evidence::default();

    // The tokens the run used: the shared credential caches one per audience.
    let cloud = &h.connection.cloud;
    let mut tokens = Vec::new();
    for scope in [
        cloud.resource_manager_scope(),
        cloud.microsoft_graph_scope(),
        cloud.keyvault_scope(),
    ] {
        let token = h
            .connection
            .credential
            .get_token(&[scope.as_str()], None)
            .await
            .expect("a token");
        tokens.push(token.token.secret().to_owned());
    }

    // Deliberately failing calls.
    let missing_key = SPEC
        .replace("{secure}", SECURE_VALUE)
        .replace("rg-e2e-secrets", "rg-e2e-secrets-2")
        .replace(
            "[key.create]\nname = \"aci-cmk\"",
            "[key.existing]\nid = \"https://e2e-secrets-vault.vault.localhost/keys/missing\"",
        );
    let missing_key = h.spec(&missing_key);
    let error = h
        .orchestrator
        .apply(&missing_key)
        .await
        .expect_err("an existing key that does not exist");
    evidence.error("apply with a missing key", &error);

    let scope = "https://unknown-audience.example/.default";
    let error = h
        .connection
        .credential
        .get_token(&[scope], None)
        .await
        .expect_err("an unknown audience");
    evidence.error("token for an unknown audience", &error);

    // The right secret for the wrong client, through the SDK's own connection path.
    let info = h.emulator.info();
    let wrong_client = CredentialBuilder::new(cloud.clone(), h.connection.transport.clone())
        .client_secret(
            &info.tenant_id,
            "00000000-0000-0000-0000-00000000dead",
            SecretString::new(CLIENT_SECRET),
        )
        .expect("a credential");
    evidence.add(
        "wrong-client credential: Debug",
        format!("{wrong_client:?}"),
    );
    let wrong = Connection::new(
        cloud.clone(),
        wrong_client,
        h.connection.transport.clone(),
        h.connection.subscription_id.clone(),
    );
    evidence.add("wrong-client connection: Debug", format!("{wrong:?}"));
    let error = Backends::connect(&wrong)
        .await
        .expect_err("an unknown client");
    evidence.error("backends with an unknown client", &error);

    let backends = h.orchestrator.backends();
    let error = backends
        .container_groups
        .get(
            &"rg-e2e-secrets".parse().expect("rg"),
            &"no-such-group".parse().expect("cg"),
            None,
        )
        .await
        .expect_err("no such group");
    evidence.error("get a missing container group", &error);

    // What the run produced and what the SDK holds.
    let group = backends
        .container_groups
        .get(
            &"rg-e2e-secrets".parse().expect("rg"),
            &"hello-secrets".parse().expect("cg"),
            None,
        )
        .await
        .expect("the group");
    evidence.add("container group: Debug", format!("{group:?}"));
    evidence.add("spec: Debug", format!("{spec:?}"));
    evidence.add("connection: Debug", format!("{:?}", h.connection));
    evidence.add("backends: Debug", format!("{backends:?}"));
    evidence.add("report: Debug", format!("{report:?}"));
    evidence.add("report: Display", report.to_string());
    evidence.add(
        "report: JSON",
        serde_json::to_string(&report).expect("the report serializes"),
    );

    // What the emulator keeps.
    let admin = h.emulator.admin();
    let requests = admin.requests();
    assert!(!requests.is_empty());
    evidence.add(
        "emulator request log",
        serde_json::to_string(&requests).expect("the log serializes"),
    );
    evidence.add("emulator dump", admin.dump().to_string());

    let lines = logs.text();
    assert!(
        lines.contains("TRACE") && lines.lines().count() > 100,
        "the subscriber captured the run"
    );
    evidence.add("log lines", lines);

    let mut canaries = vec![
        ("the client secret", CLIENT_SECRET.to_owned()),
        ("the secure environment value", SECURE_VALUE.to_owned()),
    ];
    for token in &tokens {
        assert!(token.len() > 40, "a real token");
        canaries.push(("a token", token.clone()));
        // A token cut short still gives itself away by its signature.
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() >= 16) {
            canaries.push(("a token's signature", signature.to_owned()));
        }
    }
    // The scan itself finds an exposed secret.
    let mut control = Evidence::default();
    let exposed = SecretString::new(CLIENT_SECRET);
    control.add("control", format!("x{}y", exposed.expose_secret()));
    assert_eq!(control.leaks(&canaries).len(), 1);

    let leaks = evidence.leaks(&canaries);
    assert!(
        leaks.is_empty(),
        "{} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
