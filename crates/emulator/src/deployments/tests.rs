//! A deployment's run is a background task: a panic inside it fails the deployment (and its
//! operation) instead of leaving it `Running`.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::Method;
use serde_json::json;

use super::records::{Deployment, key};
use super::run::{ResourceRouter, put};
use crate::arm::lro::Operation;
use crate::background::BackgroundTasks;
use crate::clock::Clock;
use crate::config::{Config, RequestedIds};
use crate::context::{Ctx, Shared};
use crate::entra::tokens::{Claims, TokenService};
use crate::reply::Reply;
use crate::store::Store;
use crate::timing::Timing;

/// A provider with a bug: every request panics.
struct PanickingRouter;

impl ResourceRouter for PanickingRouter {
    fn route<'a>(&'a self, _: &'a Ctx, _: &'a Claims, _: &'a [&'a str]) -> BoxFuture<'a, Reply> {
        Box::pin(async { panic!("a provider bug") })
    }
}

static PANICKING: PanickingRouter = PanickingRouter;

fn shared() -> Arc<Shared> {
    let store = Store::in_memory(&crate::router::schema());
    let ids =
        crate::graph::directory::ensure_seeded(&store, &RequestedIds::default()).expect("seeded");
    store
        .write(|st| {
            st.table_mut::<crate::arm::resources::ResourceGroup>()
                .insert(
                    crate::arm::resources::rg_key(&ids.subscription_id, "rg"),
                    crate::arm::resources::ResourceGroup {
                        subscription: ids.subscription_id.clone(),
                        name: "rg".to_owned(),
                        location: "westeurope".to_owned(),
                        tags: Default::default(),
                        managed_by: None,
                    },
                );
        })
        .expect("stored");
    Arc::new(Shared {
        config: Config { port: 1, ids },
        store,
        tokens: TokenService::new(None),
        clock: Clock::with_offset_ms(0),
        timing: Timing::default(),
        background: BackgroundTasks::default(),
        data_keys: Default::default(),
    })
}

fn claims(shared: &Shared) -> Claims {
    Claims {
        aud: shared.config.base(),
        iss: String::new(),
        tid: shared.config.ids.tenant_id.clone(),
        oid: shared.config.ids.deployer_object_id.clone(),
        sub: shared.config.ids.deployer_object_id.clone(),
        appid: shared.config.ids.client_id.clone(),
        azp: String::new(),
        iat: 0,
        nbf: 0,
        exp: i64::MAX,
        ver: "2.0".to_owned(),
        idtyp: "app".to_owned(),
        xms_mirid: None,
        xms_emu_clock_offset: None,
    }
}

#[tokio::test]
async fn a_panic_in_a_running_deployment_fails_it() {
    let shared = shared();
    let sub = shared.config.ids.subscription_id.clone();
    let path = format!(
        "/subscriptions/{sub}/resourcegroups/rg/providers/Microsoft.Resources/deployments/d1"
    );
    let body = json!({"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                       "apiVersion": "2023-01-31", "name": "id1", "location": "westeurope"}]}}});
    let ctx = Ctx::internal(
        shared.clone(),
        Method::PUT,
        format!("localhost:{}", shared.config.port),
        path,
        Vec::new(),
        Some(body),
        "127.0.0.1:1".parse().expect("addr"),
    );
    let accepted = put(&ctx, &claims(&shared), &PANICKING, &sub, "rg", "d1")
        .await
        .expect("accepted");
    assert_eq!(accepted.status, http::StatusCode::CREATED);
    // The run panics in the background; wait for it to be recorded.
    let k = key(&sub, "rg", "d1");
    let mut d = None;
    for _ in 0..3000 {
        d = shared
            .store
            .read(|st| st.table::<Deployment>().get(&k).cloned())
            .filter(|d| d.state != "Running");
        if d.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let d = d.expect("the deployment left Running");
    assert_eq!(d.state, "Failed");
    assert_eq!(
        d.error.as_ref().expect("error")["code"],
        "InternalServerError"
    );
    let op = shared
        .store
        .read(|st| st.table::<Operation>().get(&d.lro_id).cloned())
        .expect("operation");
    assert_eq!(op.final_status, "Failed");
    assert!(op.done_at_ms < i64::MAX, "the operation finished");
}
