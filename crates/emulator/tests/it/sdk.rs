//! The official `azure_security_keyvault_keys::KeyClient` with `azure_identity`'s
//! `ClientSecretCredential`, untouched but for endpoints and a transport trusting the CA.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::Secret;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use azure_security_keyvault_keys::models::{
    CreateKeyParameters, EncryptionAlgorithm, KeyOperationParameters, KeyType,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions, ResourceExt};
use reqwest::Method;
use serde_json::json;

use crate::common::{Env, client};

#[tokio::test]
async fn official_key_client_creates_a_key_and_wraps_and_unwraps() {
    let env = Env::start().await;
    env.create_rg("rg").await;
    let oid = env.deployer_oid().await;
    env.create_vault(
        "rg",
        "sdkvault",
        json!({"accessPolicies": [env.policy(&oid, &["create", "get", "wrapKey", "unwrapKey"])]}),
    )
    .await
    .expect(201);

    let transport = Transport::new(Arc::new(client(env.emu.ca_cert_pem())));
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = env.info.authority_host.clone();
    let options = ClientOptions {
        transport: Some(transport),
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        ..Default::default()
    };
    let credential = ClientSecretCredential::new(
        &env.info.tenant_id,
        env.info.client_id.clone(),
        Secret::new(env.info.client_secret.clone()),
        Some(ClientSecretCredentialOptions {
            client_options: options.clone(),
        }),
    )
    .expect("credential");
    let kc = KeyClient::new(
        &env.vault_url("sdkvault"),
        credential,
        Some(KeyClientOptions {
            api_version: "7.5".to_owned(),
            client_options: options,
            ..Default::default()
        }),
    )
    .expect("key client");

    let body = CreateKeyParameters {
        kty: Some(KeyType::Rsa),
        key_size: Some(2048),
        ..Default::default()
    };
    let key = kc
        .create_key("sdk-key", body.try_into().expect("body"), None)
        .await
        .expect("create_key")
        .into_model()
        .expect("key model");
    let kid = key.key.as_ref().and_then(|k| k.kid.clone()).expect("kid");
    assert!(kid.starts_with(&env.vault_url("sdkvault")));

    let dek = b"0123456789abcdef0123456789abcdef".to_vec();
    let mut params = KeyOperationParameters {
        algorithm: Some(EncryptionAlgorithm::RsaOaep256),
        value: Some(dek.clone()),
        ..Default::default()
    };
    let wrapped = kc
        .wrap_key("sdk-key", params.clone().try_into().expect("params"), None)
        .await
        .expect("wrap_key")
        .into_model()
        .expect("wrap model");
    let version = wrapped
        .resource_id()
        .expect("resource id")
        .version
        .expect("version");
    params.value = wrapped.result;
    let unwrapped = kc
        .unwrap_key(
            "sdk-key",
            &version,
            params.try_into().expect("params"),
            None,
        )
        .await
        .expect("unwrap_key")
        .into_model()
        .expect("unwrap model");
    assert_eq!(unwrapped.result, Some(dek));
    // The request log shows the SDK's calls came in authenticated.
    let log = env.admin(Method::GET, "/requests", None).await;
    assert!(log.body["value"].as_array().is_some_and(|v| {
        v.iter()
            .any(|e| e["service"] == "keyvault" && e["status"] == 401)
    }));
}
