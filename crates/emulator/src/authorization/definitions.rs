//! The role-definition routes at any scope: `GET {scope}/providers/Microsoft.Authorization/
//! roleDefinitions` (with `$filter`) and `GET …/roleDefinitions/{guid}`.
//!
//! A built-in role is one object wherever it is read: at every scope inside a subscription (the
//! subscription, a resource group, a vault) its id is the subscription-level
//! `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}` — the id role
//! assignments point at, so a client matching the two finds the role's name — and at the tenant
//! root it is `/providers/Microsoft.Authorization/roleDefinitions/{guid}`, as Azure names it
//! there. Custom roles are not emulated: a write is refused.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::roles::{ROLES, RoleDefinition, role};
use crate::arm::error::method_not_allowed;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::list_reply;
use crate::arm::request::check_api_version;
use crate::context::Ctx;
use crate::reply;

/// ARM's resource type of role definitions.
pub const RESOURCE_TYPE: &str = "Microsoft.Authorization/roleDefinitions";

/// Error code of a `$filter` the role-definition list does not support.
const UNSUPPORTED_QUERY: &str = "UnsupportedQuery";

/// The id of a built-in role read in subscription `sub` (`None`: at the tenant root).
pub fn definition_id(sub: Option<&str>, guid: &str) -> String {
    match sub {
        Some(sub) => {
            format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

/// A built-in role as Azure renders it, read in subscription `sub` (`None`: the tenant root).
pub fn definition_json(sub: Option<&str>, r: &RoleDefinition) -> Value {
    json!({
        "id": definition_id(sub, r.id),
        "type": RESOURCE_TYPE,
        "name": r.id,
        "properties": {
            "roleName": r.name,
            "type": "BuiltInRole",
            "description": r.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": r.actions,
                "notActions": r.not_actions,
                "dataActions": r.data_actions,
                "notDataActions": [],
            }],
        }
    })
}

/// What a role-definition list's `$filter` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    /// Every role (no filter, or `atScopeAndBelow()`: there are no custom roles below).
    All,
    /// `roleName eq '…'`: the role of that name (case-insensitive).
    RoleName(String),
    /// `type eq '…'`: `BuiltInRole` keeps every role, `CustomRole` none.
    Type(String),
}

impl Filter {
    /// Parses `$filter` (400 `UnsupportedQuery` for anything else).
    fn parse(filter: Option<&str>) -> Result<Self, ArmError> {
        let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
            return Ok(Self::All);
        };
        let unsupported = || {
            ArmError::bad(
                UNSUPPORTED_QUERY,
                format!("The filter '{f}' is not supported."),
            )
        };
        if f.eq_ignore_ascii_case("atScopeAndBelow()") {
            return Ok(Self::All);
        }
        let (field, value) = f.split_once(" eq ").ok_or_else(unsupported)?;
        let value = value
            .trim()
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .map(|v| v.replace("''", "'"))
            .ok_or_else(unsupported)?;
        match field.trim().to_ascii_lowercase().as_str() {
            "rolename" => Ok(Self::RoleName(value)),
            "type" => Ok(Self::Type(value)),
            _ => Err(unsupported()),
        }
    }

    fn keeps(&self, r: &RoleDefinition) -> bool {
        match self {
            Self::All => true,
            Self::RoleName(n) => r.name.eq_ignore_ascii_case(n),
            Self::Type(t) => t.eq_ignore_ascii_case("BuiltInRole"),
        }
    }
}

/// Handles `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{guid}]`; `sub` is the
/// scope's subscription (`None` at the tenant root), `guid` the definition's name when one is
/// read.
pub fn handle(ctx: &Ctx, sub: Option<&str>, guid: Option<&str>) -> ArmResult {
    check_api_version(ctx, RESOURCE_TYPE, super::api_versions::ROLE_DEFINITIONS)?;
    if ctx.method != Method::GET {
        return Err(method_not_allowed(ctx));
    }
    match guid {
        None => {
            let filter = Filter::parse(ctx.q("$filter"))?;
            let items: Vec<&RoleDefinition> = ROLES.iter().filter(|r| filter.keeps(r)).collect();
            list_reply(ctx, items, |r| r.id.to_owned(), |r| definition_json(sub, r))
        }
        Some(guid) => {
            let r = role(guid).ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "RoleDefinitionDoesNotExist",
                    format!("The specified role definition with ID '{guid}' does not exist."),
                )
            })?;
            Ok(reply::json(StatusCode::OK, definition_json(sub, r)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_are_refused() {
        let ok = [
            (None, Filter::All),
            (Some("  "), Filter::All),
            (Some("atScopeAndBelow()"), Filter::All),
            (
                Some("roleName eq 'Reader'"),
                Filter::RoleName("Reader".into()),
            ),
            (Some("RoleName eq 'it''s'"), Filter::RoleName("it's".into())),
            (
                Some("type eq 'CustomRole'"),
                Filter::Type("CustomRole".into()),
            ),
        ];
        for (f, want) in ok {
            assert_eq!(Filter::parse(f).ok(), Some(want), "{f:?}");
        }
        for f in [
            "roleName eq Reader",
            "roleName eq 'Reader",
            "name eq 'x'",
            "startswith(roleName,'K')",
        ] {
            let e = Filter::parse(Some(f)).expect_err(f);
            assert_eq!(e.code, UNSUPPORTED_QUERY, "{f}");
        }
    }

    #[test]
    fn ids_are_subscription_level_inside_a_subscription() {
        let r = role("e147488a-f6f5-4113-8e2d-b22465e65bf6").expect("role");
        let v = definition_json(Some("s1"), r);
        assert_eq!(
            v["id"],
            "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
        );
        let v = definition_json(None, r);
        assert_eq!(
            v["id"],
            "/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
        );
    }
}
