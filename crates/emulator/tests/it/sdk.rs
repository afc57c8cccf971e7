//! The official `azure_security_keyvault_keys::KeyClient` with `azure_identity`'s
//! `ClientSecretCredential`, untouched but for endpoints and a transport trusting the CA.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::Secret;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use azure_security_keyvault_keys::models::{
    CreateKeyParameters, EncryptionAlgorithm, KeyAttributes, KeyClientGetKeyOptions,
    KeyClientListKeyPropertiesOptions, KeyClientUpdateKeyPropertiesOptions, KeyOperationParameters,
    KeyType, UpdateKeyPropertiesParameters,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions, ResourceExt};
use futures::TryStreamExt;
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
    .expect(200);

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
    let access = [
        "create",
        "get",
        "wrapKey",
        "unwrapKey",
        "update",
        "list",
        "delete",
        "recover",
    ];
    let vp = env.vault_path("rg", "sdkvault");
    env.arm(
        Method::PUT,
        &format!("{vp}/accessPolicies/add"),
        crate::common::KV_API,
        Some(&json!({"properties": {"accessPolicies": [env.policy(&oid, &access)]}})),
    )
    .await
    .expect(200);
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

    // More of the official client against our shapes: get, update, list (paged), delete,
    // get deleted, recover.
    let got = kc
        .get_key(
            "sdk-key",
            Some(KeyClientGetKeyOptions {
                key_version: Some(version.clone()),
                ..Default::default()
            }),
        )
        .await
        .expect("get_key")
        .into_model()
        .expect("key");
    assert_eq!(
        got.key.as_ref().and_then(|k| k.kid.clone()),
        Some(kid.clone())
    );
    assert_eq!(got.attributes.as_ref().and_then(|a| a.enabled), Some(true));
    let update = UpdateKeyPropertiesParameters {
        key_attributes: Some(KeyAttributes {
            enabled: Some(false),
            ..Default::default()
        }),
        tags: Some([("env".to_owned(), "test".to_owned())].into()),
        ..Default::default()
    };
    let updated = kc
        .update_key_properties(
            "sdk-key",
            update.try_into().expect("update"),
            Some(KeyClientUpdateKeyPropertiesOptions {
                key_version: Some(version.clone()),
                ..Default::default()
            }),
        )
        .await
        .expect("update_key_properties")
        .into_model()
        .expect("key");
    assert_eq!(
        updated.attributes.as_ref().and_then(|a| a.enabled),
        Some(false)
    );
    assert_eq!(
        updated.tags.as_ref().and_then(|t| t.get("env").cloned()),
        Some("test".to_owned())
    );
    for n in ["sdk-key-2", "sdk-key-3"] {
        let body = CreateKeyParameters {
            kty: Some(KeyType::Rsa),
            ..Default::default()
        };
        kc.create_key(n, body.try_into().expect("body"), None)
            .await
            .expect("create_key");
    }
    let mut pager = kc
        .list_key_properties(Some(KeyClientListKeyPropertiesOptions {
            maxresults: Some(1),
            ..Default::default()
        }))
        .expect("pager");
    let mut names = Vec::new();
    while let Some(item) = pager.try_next().await.expect("page") {
        names.push(item.resource_id().expect("id").name);
    }
    names.sort();
    assert_eq!(
        names,
        ["sdk-key", "sdk-key-2", "sdk-key-3"],
        "followed nextLink across 3 pages"
    );
    let deleted = kc
        .delete_key("sdk-key-3", None)
        .await
        .expect("delete_key")
        .into_model()
        .expect("deleted");
    assert!(deleted.recovery_id.is_some());
    // A deleted key is listed after Key Vault's propagation delay (a client waits for it).
    env.advance(std::time::Duration::from_millis(
        env.info.timing.durations().deleted_key_visible_ms + 1,
    ));
    kc.get_deleted_key("sdk-key-3", None)
        .await
        .expect("get_deleted_key");
    kc.recover_deleted_key("sdk-key-3", None)
        .await
        .expect("recover_deleted_key");
    kc.get_key("sdk-key-3", None)
        .await
        .expect("recovered key readable");
    // A refused operation surfaces the service's status.
    let err = kc
        .wrap_key(
            "sdk-key",
            KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(vec![1, 2, 3]),
                ..Default::default()
            }
            .try_into()
            .expect("params"),
            None,
        )
        .await
        .expect_err("disabled key refuses wrap");
    assert_eq!(err.http_status().map(u16::from), Some(403));
    // The request log shows the SDK's calls came in authenticated.
    let log = env.admin(Method::GET, "/requests", None).await;
    assert!(log.body["value"].as_array().is_some_and(|v| {
        v.iter()
            .any(|e| e["service"] == "keyvault" && e["status"] == 401)
    }));
}
