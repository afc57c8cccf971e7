//! A container-group body with every property the emulator stores without acting on it, and
//! canary values in each of its secrets (shared by `aci_settings` and the `aci_secrets` binary).

#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};

use crate::common::Env;

pub const STORAGE_KEY: &str = "storage-key-canary-6a1e";
pub const SECRET_FILE: &str = "secret-file-canary-0d94";
pub const INIT_SECURE: &str = "init-secure-canary-b35c";
pub const REGISTRY_PASSWORD: &str = "registry-password-canary-8e22";
pub const WORKSPACE_KEY: &str = "workspace-key-canary-47f0";
pub const PROTECTED: &str = "protected-setting-canary-c1d7";
pub const SECRETS: [&str; 6] = [
    STORAGE_KEY,
    SECRET_FILE,
    INIT_SECURE,
    REGISTRY_PASSWORD,
    WORKSPACE_KEY,
    PROTECTED,
];
/// Not secret, but sealed at rest like environment values and commands.
pub const INIT_PLAIN: &str = "init-plain-canary-5e0b";
pub const PROBE_COMMAND: &str = "probe-command-canary-22a9";

pub fn subnet(env: &Env) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aci",
        env.sub()
    )
}

pub fn full_body(env: &Env) -> Value {
    let secret_b64 = base64::engine::general_purpose::STANDARD.encode(SECRET_FILE);
    json!({
        "location": "westeurope",
        "properties": {
            "osType": "Linux",
            "sku": "Standard",
            "priority": "Regular",
            "containers": [{"name": "app", "properties": {
                "image": "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                "resources": {
                    "requests": {"cpu": 1, "memoryInGB": 1.5, "gpu": {"count": 1, "sku": "V100"}},
                    "limits": {"cpu": 2, "memoryInGB": 2, "gpu": {"count": 1, "sku": "V100"}}
                },
                "volumeMounts": [
                    {"name": "files", "mountPath": "/mnt/files", "readOnly": true},
                    {"name": "scratch", "mountPath": "/mnt/scratch"},
                    {"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": true},
                    {"name": "repo", "mountPath": "/src"}
                ],
                "livenessProbe": {"exec": {"command": ["/bin/check", PROBE_COMMAND]}, "periodSeconds": 10},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 80, "scheme": "http"}, "initialDelaySeconds": 5},
                "securityContext": {"privileged": false, "runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
                "configMap": {"keyValuePairs": {"mode": "test"}}
            }}],
            "initContainers": [{"name": "init", "properties": {
                "image": "busybox",
                "command": ["/bin/sh", "-c", "echo init"],
                "environmentVariables": [
                    {"name": "INIT_PLAIN", "value": INIT_PLAIN},
                    {"name": "INIT_SECRET", "secureValue": INIT_SECURE}
                ],
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]
            }}],
            "volumes": [
                {"name": "files", "azureFile": {"shareName": "share", "storageAccountName": "acct", "storageAccountKey": STORAGE_KEY, "readOnly": true}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "secrets", "secret": {"token.txt": secret_b64}},
                {"name": "repo", "gitRepo": {"repository": "https://github.com/Azure-Samples/aci-helloworld", "directory": "app", "revision": "abc123"}}
            ],
            "imageRegistryCredentials": [
                {"server": "myregistry.azurecr.io", "username": "puller", "password": REGISTRY_PASSWORD}
            ],
            "subnetIds": [{"id": subnet(env), "name": "aci"}],
            "dnsConfig": {"nameServers": ["10.0.0.10"], "searchDomains": "corp.local", "options": "ndots:2"},
            "diagnostics": {"logAnalytics": {"workspaceId": "ws-id", "workspaceKey": WORKSPACE_KEY, "logType": "ContainerInstanceLogs"}},
            "extensions": [{"name": "kube-proxy", "properties": {
                "extensionType": "kube-proxy", "version": "1.0",
                "settings": {"clusterCidr": "10.240.0.0/16"},
                "protectedSettings": {"kubeConfig": PROTECTED}
            }}],
            "confidentialComputeProperties": {"ccePolicy": "eyJhbGxvd19hbGwiOnRydWV9"},
            "identityAcls": {"defaultAccess": "All"},
            "ipAddress": {"type": "Private", "ports": [{"port": 80}]}
        }
    })
}
