//! `azure_identity::ManagedIdentityCredential` (App Service source: `IDENTITY_ENDPOINT` +
//! `IDENTITY_HEADER`) obtains a user-assigned identity's token from the emulator, and the token
//! works on the Key Vault data plane. Its own test binary because it sets environment variables.

use std::net::SocketAddr;
use std::sync::Arc;

use aci_cmk_emulator::{Emulator, EmulatorOptions};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
struct LocalResolver;

impl reqwest::dns::Resolve for LocalResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addrs: reqwest::dns::Addrs =
                Box::new(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
            Ok(addrs)
        })
    }
}

#[allow(unsafe_code)]
#[tokio::test]
async fn managed_identity_credential_gets_a_user_assigned_identity_token() {
    let emu = Emulator::start(EmulatorOptions::default())
        .await
        .expect("starts");
    let info = emu.info().clone();
    let cert = reqwest::Certificate::from_pem(emu.ca_cert_pem().as_bytes()).expect("pem");
    let http = reqwest::Client::builder()
        .tls_certs_only([cert])
        .dns_resolver(Arc::new(LocalResolver))
        .build()
        .expect("client");

    // Deployer token, then a resource group, a user-assigned identity and a vault granting it.
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope={}/.default",
        info.client_id,
        info.client_secret.replace('-', "%2D"),
        info.arm_audience
    );
    let tok: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            info.authority_host, info.tenant_id
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let arm = tok["access_token"].as_str().expect("token").to_owned();
    let put = |path: String, body: Value| {
        let http = http.clone();
        let arm = arm.clone();
        let base = info.arm_endpoint.clone();
        async move {
            let r = http
                .put(format!("{base}{path}"))
                .bearer_auth(arm)
                .json(&body)
                .send()
                .await
                .expect("put");
            assert!(r.status().is_success(), "PUT {path}: {}", r.status());
            r.json::<Value>().await.expect("json")
        }
    };
    let sub = &info.subscription_id;
    put(
        format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2021-04-01"),
        json!({"location": "westeurope"}),
    )
    .await;
    let uai = put(
        format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cmk-id?api-version=2023-01-31"),
        json!({"location": "westeurope"}),
    )
    .await;
    let client_id = uai["properties"]["clientId"]
        .as_str()
        .expect("clientId")
        .to_owned();
    let principal_id = uai["properties"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_owned();
    put(
        format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/mivault?api-version=2024-11-01"),
        json!({"location": "westeurope", "properties": {"tenantId": info.tenant_id, "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [{"tenantId": info.tenant_id, "objectId": principal_id, "permissions": {"keys": ["list"]}}]}}),
    )
    .await;

    // The new identity is known to Key Vault once it has replicated (the timing profile's
    // delay, moved through on the emulator's clock).
    let replication = info.timing.durations().principal_replication_ms;
    emu.admin()
        .advance(std::time::Duration::from_millis(replication + 1))
        .expect("the clock moves");

    // SAFETY: this test binary has a single test, and nothing else reads the environment concurrently.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", &info.managed_identity_endpoint);
        std::env::set_var("IDENTITY_HEADER", &info.identity_header);
    }
    let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: Some(UserAssignedId::ClientId(client_id.clone())),
        client_options: ClientOptions {
            transport: Some(Transport::new(Arc::new(http.clone()))),
            ..Default::default()
        },
    }))
    .expect("credential");
    let scope = format!("{}/.default", info.keyvault_audience);
    let token = credential
        .get_token(&[&scope], None)
        .await
        .expect("managed identity token");
    let secret = token.token.secret().to_owned();

    // The token is the identity's, and Key Vault accepts it.
    let r = http
        .get(format!(
            "https://mivault.{}/keys?api-version=7.5",
            info.keyvault_dns_suffix
        ))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("list keys");
    assert_eq!(r.status(), 200);

    // A wrong header is refused.
    let r = http
        .get(format!(
            "{}?api-version=2019-08-01&resource={}&client_id={client_id}",
            info.managed_identity_endpoint, info.keyvault_audience
        ))
        .header("x-identity-header", "wrong")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 401);
    // An unknown identity is a 400, as the SDK expects.
    let r = http
        .get(format!(
            "{}?api-version=2019-08-01&resource={}&client_id=00000000-0000-0000-0000-000000000000",
            info.managed_identity_endpoint, info.keyvault_audience
        ))
        .header("x-identity-header", &info.identity_header)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 400);
    emu.shutdown().await;
}
