//! Where and when a deployment runs: the subscription, tenant, resource group, deployment name
//! and time that `resourceGroup()`, `subscription()`, `tenant()`, `deployment()` and `utcNow()`
//! answer.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Where a deployment runs.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Subscription id.
    pub subscription_id: String,
    /// Subscription display name.
    pub subscription_name: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Resource group name (as created).
    pub resource_group: String,
    /// Resource group location.
    pub location: String,
    /// Resource group tags.
    pub tags: BTreeMap<String, String>,
    /// Deployment name.
    pub deployment_name: String,
    /// When the deployment runs: what `utcNow()` answers. The engine reads no clock of its own,
    /// so a caller with its own notion of time (an emulator's clock) decides it.
    pub deployed_at: time::OffsetDateTime,
}

impl Scope {
    /// `/subscriptions/{sub}/resourceGroups/{rg}`.
    pub fn group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id, self.resource_group
        )
    }

    /// The `resourceGroup()` object.
    pub(crate) fn resource_group_value(&self) -> Value {
        json!({
            "id": self.group_id(),
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "tags": self.tags,
            "properties": {"provisioningState": "Succeeded"},
        })
    }

    /// The `subscription()` object.
    pub(crate) fn subscription_value(&self) -> Value {
        json!({
            "id": format!("/subscriptions/{}", self.subscription_id),
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.subscription_name,
        })
    }

    /// The `deployment()` object.
    pub(crate) fn deployment_value(&self) -> Value {
        json!({
            "name": self.deployment_name,
            "properties": {"templateLink": null},
        })
    }

    /// The `tenant()` object.
    pub(crate) fn tenant_value(&self) -> Value {
        json!({"tenantId": self.tenant_id, "id": format!("/tenants/{}", self.tenant_id)})
    }
}
