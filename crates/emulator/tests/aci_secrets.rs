//! The secrets of a container group's stored settings (storage account keys, secret volume
//! contents, secure values of init containers, registry passwords, workspace keys, protected
//! extension settings) never appear in a log line, tracing at TRACE. Its own process: the
//! subscriber is process-wide, so that every thread of the emulator reports to it.

#[path = "it/common.rs"]
mod common;

#[path = "it/aci_fixtures.rs"]
mod aci_fixtures;

use std::io::Write;
use std::sync::{Arc, Mutex};

use aci_fixtures::{SECRETS, full_body};
use common::Env;
use reqwest::Method;

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

#[tokio::test]
async fn stored_settings_secrets_never_reach_the_log() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let env = Env::start().await;
    env.create_rg("rg-log").await;
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg-log/providers/Microsoft.ContainerInstance/containerGroups/cg-log",
        env.sub()
    );
    let api = "2023-05-01";
    env.arm(Method::PUT, &path, api, Some(&full_body(&env)))
        .await
        .expect(201);
    env.arm(Method::GET, &path, api, None).await.expect(200);
    // A refused request with the same secrets.
    let mut refused = full_body(&env);
    refused["properties"]["priority"] = serde_json::json!("Low");
    env.arm(Method::PUT, &path, api, Some(&refused))
        .await
        .expect_err(400, "InvalidPriority");
    env.admin(Method::GET, "/dump", None).await.expect(200);
    env.arm(Method::DELETE, &path, api, None).await.expect(200);
    env.emu.shutdown().await;

    let log =
        String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(log.contains("request"), "the subscriber captured the run");
    for s in SECRETS {
        assert!(!log.contains(s), "the log holds {s}");
    }
}
