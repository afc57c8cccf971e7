//! Role assignments, and the RBAC decision the Key Vault data plane asks for: does any
//! assignment whose scope covers a resource give a principal a data action there.

use super::roles::{action_matches, role};
use crate::store::{Record, Tables};
use serde::{Deserialize, Serialize};

/// A role assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// Full ARM id.
    pub id: String,
    /// Name (a GUID).
    pub name: String,
    /// Scope (ARM id of the scope, starting with `/`).
    pub scope: String,
    /// Role definition GUID.
    pub role_definition: String,
    /// Principal object id.
    pub principal_id: String,
    /// Principal type.
    pub principal_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Creation time (unix seconds).
    pub created: i64,
}

impl Record for RoleAssignment {
    const TABLE: &'static str = "role_assignments";
}

/// Whether `scope` equals `resource` or is one of its ancestors (segment-wise, case-insensitive).
pub fn scope_covers(scope: &str, resource: &str) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    let r = resource.trim_end_matches('/').to_ascii_lowercase();
    s.is_empty() || r == s || r.starts_with(&format!("{s}/"))
}

/// Data actions granted to `principal` on `resource` by role assignments.
pub fn rbac_allows(st: &Tables, principal: &str, resource: &str, data_action: &str) -> bool {
    st.table::<RoleAssignment>().values().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal)
            && scope_covers(&a.scope, resource)
            && role(&a.role_definition).is_some_and(|r| {
                r.data_actions
                    .iter()
                    .any(|p| action_matches(p, data_action))
            })
    })
}

/// Removes role assignments scoped inside a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, sub: &str, rg: &str) {
    let prefix = format!("/subscriptions/{sub}/resourcegroups/{rg}");
    st.table_mut::<RoleAssignment>()
        .retain(|_, a| !scope_covers(&prefix, &a.scope));
}

/// Removes the role assignments scoped at a deleted resource or below it (Azure deletes them
/// with the resource; recovering a soft-deleted vault does not bring them back).
pub fn on_scope_deleted(st: &mut Tables, resource_id: &str) {
    st.table_mut::<RoleAssignment>()
        .retain(|_, a| !scope_covers(resource_id, &a.scope));
}

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<RoleAssignment>();
}
