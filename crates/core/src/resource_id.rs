//! Azure Resource Manager resource ids.
//!
//! A [`ResourceId`] is one of:
//!
//! - a subscription: `/subscriptions/{sub}`;
//! - a resource group: `/subscriptions/{sub}/resourceGroups/{rg}`;
//! - a provider resource in a resource group or subscription:
//!   `/subscriptions/{sub}[/resourceGroups/{rg}]/providers/{Namespace}/{type}/{name}`,
//!   optionally followed by child resources `/{childType}/{childName}...`;
//! - an extension resource on any of the above, such as a role assignment on a vault:
//!   `.../vaults/{vault}/providers/Microsoft.Authorization/roleAssignments/{guid}`.
//!
//! Tenant-scope ids (`/providers/...` with no subscription) and ids without a `providers`
//! segment (`.../resourcegroups/{rg}/deployments/{name}/operations/{op}`) are not supported.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::names::{NameError, ResourceGroupName, SubscriptionId, caseless_eq, caseless_hash};

const SUBSCRIPTIONS: &str = "subscriptions";
const RESOURCE_GROUPS: &str = "resourceGroups";
const PROVIDERS: &str = "providers";
const RESOURCES_NAMESPACE: &str = "Microsoft.Resources";

/// Why a string is not a valid ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceIdError {
    /// The input is the empty string.
    #[error("resource id must not be empty")]
    Empty,
    /// The input does not start with `/`.
    #[error("resource id {input:?} must start with '/'")]
    MissingLeadingSlash {
        /// The rejected input.
        input: String,
    },
    /// The input contains `//`.
    #[error("resource id {input:?} contains an empty segment")]
    EmptySegment {
        /// The rejected input.
        input: String,
    },
    /// A segment is not the keyword expected at its position.
    #[error("resource id {input:?} has {found:?} where {expected} was expected")]
    UnexpectedSegment {
        /// The rejected input.
        input: String,
        /// What was expected, e.g. `"subscriptions"`.
        expected: &'static str,
        /// The segment found instead.
        found: String,
    },
    /// The input ends too early.
    #[error("resource id {input:?} ends where {expected} was expected")]
    Incomplete {
        /// The rejected input.
        input: String,
        /// What was expected next, e.g. `a resource name`.
        expected: &'static str,
    },
    /// The subscription segment is not a GUID.
    #[error("resource id {input:?} has an invalid subscription id")]
    InvalidSubscriptionId {
        /// The rejected input.
        input: String,
        /// Which GUID rule failed.
        #[source]
        source: NameError,
    },
    /// The resource group segment breaks the resource group naming rule.
    #[error("resource id {input:?} has an invalid resource group name")]
    InvalidResourceGroup {
        /// The rejected input.
        input: String,
        /// Which naming rule failed.
        #[source]
        source: NameError,
    },
    /// The provider namespace is not dot-separated ASCII letters and digits.
    #[error("resource id {input:?} has an invalid provider namespace {namespace:?}")]
    InvalidNamespace {
        /// The rejected input.
        input: String,
        /// The offending namespace.
        namespace: String,
    },
    /// A resource type segment is not ASCII letters, digits, hyphens and underscores, or is
    /// the reserved word `providers`.
    #[error("resource id {input:?} has an invalid resource type {resource_type:?}")]
    InvalidResourceType {
        /// The rejected input.
        input: String,
        /// The offending type segment.
        resource_type: String,
    },
    /// A resource name is empty, or contains `/`, `?`, `#` or a control character.
    #[error("resource id {input:?} has an invalid resource name {name:?}")]
    InvalidName {
        /// The rejected input.
        input: String,
        /// The offending name.
        name: String,
    },
    /// [`ResourceId::child`] was called on a subscription or resource group id.
    #[error("resource id {input:?} is not a provider resource, so it cannot have a child")]
    NotAProviderResource {
        /// The id `child` was called on.
        input: String,
    },
}

/// One `providers/{Namespace}/{type}/{name}[/{childType}/{childName}...]` block.
#[derive(Clone, Debug)]
struct ProviderBlock {
    namespace: String,
    /// `(type, name)` pairs; never empty.
    types: Vec<(String, String)>,
}

/// An ARM resource id such as
/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}`.
///
/// Parsing accepts the keywords `subscriptions`, `resourceGroups` and `providers` in any case
/// (ARM answers with `resourcegroups` in some responses) and tolerates one trailing slash.
/// Display and [`as_str`](Self::as_str) give the canonical spelling (`resourceGroups`), the
/// subscription GUID in lowercase, and every other segment as the caller wrote it.
///
/// Equality and hashing ignore case, as ARM does.
///
/// ```
/// use aci_cmk_core::resource_id::ResourceId;
///
/// let id: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg\
///     /providers/Microsoft.KeyVault/vaults/MyVault".parse()?;
/// assert_eq!(
///     id.to_string(),
///     "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg\
///      /providers/Microsoft.KeyVault/vaults/MyVault",
/// );
/// assert_eq!(id.resource_group_name().map(|rg| rg.as_str()), Some("rg"));
/// assert_eq!(id.provider_namespace(), "Microsoft.KeyVault");
/// assert_eq!(id.resource_type(), "Microsoft.KeyVault/vaults");
/// assert_eq!(id.name(), "MyVault");
/// assert_eq!(id, id.to_string().to_uppercase().parse()?); // ARM ids compare ignoring case
/// # Ok::<(), aci_cmk_core::resource_id::ResourceIdError>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId {
    text: String,
    resource_type: String,
    subscription: SubscriptionId,
    resource_group: Option<ResourceGroupName>,
    providers: Vec<ProviderBlock>,
}

impl ResourceId {
    /// The id of a subscription: `/subscriptions/{sub}`.
    pub fn subscription(subscription: &SubscriptionId) -> Self {
        Self::build(subscription.clone(), None, Vec::new())
    }

    /// The id of a resource group: `/subscriptions/{sub}/resourceGroups/{rg}`.
    ///
    /// ```
    /// use aci_cmk_core::names::{ResourceGroupName, SubscriptionId};
    /// use aci_cmk_core::resource_id::ResourceId;
    ///
    /// let sub: SubscriptionId = "00000000-0000-0000-0000-000000000001".parse()?;
    /// let rg: ResourceGroupName = "rg".parse()?;
    /// let id = ResourceId::resource_group(&sub, &rg);
    /// assert_eq!(id.as_str(), "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg");
    /// assert_eq!(id.resource_type(), "Microsoft.Resources/resourceGroups");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resource_group(
        subscription: &SubscriptionId,
        resource_group: &ResourceGroupName,
    ) -> Self {
        Self::build(
            subscription.clone(),
            Some(resource_group.clone()),
            Vec::new(),
        )
    }

    /// The id of a top-level resource in a resource group:
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{resource_type}/{name}`.
    ///
    /// `resource_type` is a single segment such as `vaults`; add child resources with
    /// [`child`](Self::child).
    ///
    /// ```
    /// use aci_cmk_core::names::{ResourceGroupName, SubscriptionId};
    /// use aci_cmk_core::resource_id::ResourceId;
    ///
    /// let sub: SubscriptionId = "00000000-0000-0000-0000-000000000001".parse()?;
    /// let rg: ResourceGroupName = "rg".parse()?;
    /// let id = ResourceId::resource(
    ///     &sub, &rg, "Microsoft.ManagedIdentity", "userAssignedIdentities", "aci-cmk-id",
    /// )?;
    /// assert_eq!(id.resource_type(), "Microsoft.ManagedIdentity/userAssignedIdentities");
    /// assert_eq!(id.parent(), Some(ResourceId::resource_group(&sub, &rg)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resource(
        subscription: &SubscriptionId,
        resource_group: &ResourceGroupName,
        namespace: &str,
        resource_type: &str,
        name: &str,
    ) -> Result<Self, ResourceIdError> {
        Self::resource_group(subscription, resource_group).provider_resource(
            namespace,
            resource_type,
            name,
        )
    }

    /// A provider resource scoped at this id: `{self}/providers/{namespace}/{resource_type}/{name}`.
    ///
    /// On a subscription id this gives a subscription-level resource (e.g. a role definition);
    /// on a resource group id, a resource in that group (like [`resource`](Self::resource)); on
    /// a provider resource, an extension resource such as a role assignment on a vault.
    pub fn provider_resource(
        &self,
        namespace: &str,
        resource_type: &str,
        name: &str,
    ) -> Result<Self, ResourceIdError> {
        let mut providers = self.providers.clone();
        providers.push(ProviderBlock {
            namespace: namespace.to_owned(),
            types: vec![(resource_type.to_owned(), name.to_owned())],
        });
        self.derived(providers)
    }

    /// A child resource of this one: `{self}/{child_type}/{name}`, e.g. a vault's
    /// `accessPolicies` or a container group's `containers`.
    ///
    /// Fails with [`ResourceIdError::NotAProviderResource`] on a subscription or resource group
    /// id, which have no provider namespace to nest under.
    ///
    /// ```
    /// use aci_cmk_core::resource_id::ResourceId;
    ///
    /// let cg: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg\
    ///     /providers/Microsoft.ContainerInstance/containerGroups/cg".parse()?;
    /// let app = cg.child("containers", "app")?;
    /// assert_eq!(app.resource_type(), "Microsoft.ContainerInstance/containerGroups/containers");
    /// assert_eq!(app.parent(), Some(cg));
    /// # Ok::<(), aci_cmk_core::resource_id::ResourceIdError>(())
    /// ```
    pub fn child(&self, child_type: &str, name: &str) -> Result<Self, ResourceIdError> {
        let mut providers = self.providers.clone();
        let Some(last) = providers.last_mut() else {
            return Err(ResourceIdError::NotAProviderResource {
                input: self.text.clone(),
            });
        };
        last.types.push((child_type.to_owned(), name.to_owned()));
        self.derived(providers)
    }

    /// The subscription the id lives in.
    pub fn subscription_id(&self) -> &SubscriptionId {
        &self.subscription
    }

    /// The resource group, or `None` for subscription-level ids.
    ///
    /// (Named `resource_group_name` because `ResourceId::resource_group` is the constructor.)
    pub fn resource_group_name(&self) -> Option<&ResourceGroupName> {
        self.resource_group.as_ref()
    }

    /// The provider namespace of the resource the id names, e.g. `Microsoft.KeyVault`.
    ///
    /// For an extension resource this is the extension's namespace (e.g.
    /// `Microsoft.Authorization`). Subscription and resource group ids report
    /// `Microsoft.Resources`, as ARM does.
    pub fn provider_namespace(&self) -> &str {
        self.providers
            .last()
            .map_or(RESOURCES_NAMESPACE, |block| block.namespace.as_str())
    }

    /// The full resource type: the namespace and the type segments joined with `/`, e.g.
    /// `Microsoft.KeyVault/vaults` or `Microsoft.KeyVault/vaults/accessPolicies`.
    ///
    /// Subscription and resource group ids report `Microsoft.Resources/subscriptions` and
    /// `Microsoft.Resources/resourceGroups`.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The last name in the id: the resource name, the resource group name, or the
    /// subscription id.
    pub fn name(&self) -> &str {
        if let Some((_, name)) = self.providers.last().and_then(|block| block.types.last()) {
            return name;
        }
        match &self.resource_group {
            Some(rg) => rg.as_str(),
            None => self.subscription.as_str(),
        }
    }

    /// The enclosing id: a child's parent resource, an extension resource's scope, a
    /// top-level resource's resource group (or subscription), a resource group's subscription.
    /// `None` for a subscription id.
    pub fn parent(&self) -> Option<ResourceId> {
        let mut providers = self.providers.clone();
        match providers.last_mut() {
            Some(last) if last.types.len() > 1 => {
                last.types.pop();
            }
            Some(_) => {
                providers.pop();
            }
            None if self.resource_group.is_some() => {
                return Some(Self::subscription(&self.subscription));
            }
            None => return None,
        }
        Some(Self::build(
            self.subscription.clone(),
            self.resource_group.clone(),
            providers,
        ))
    }

    /// The canonical string form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Builds an id from `self`'s subscription and group and new provider blocks, validating
    /// the blocks (they come from caller-supplied strings).
    fn derived(&self, providers: Vec<ProviderBlock>) -> Result<Self, ResourceIdError> {
        let id = Self::build(
            self.subscription.clone(),
            self.resource_group.clone(),
            providers,
        );
        for block in &id.providers {
            check_namespace(&id.text, &block.namespace)?;
            for (resource_type, name) in &block.types {
                check_type(&id.text, resource_type)?;
                check_name(&id.text, name)?;
            }
        }
        Ok(id)
    }

    /// Assembles the canonical text and type; does not validate the provider blocks.
    fn build(
        subscription: SubscriptionId,
        resource_group: Option<ResourceGroupName>,
        providers: Vec<ProviderBlock>,
    ) -> Self {
        let mut text = format!("/{SUBSCRIPTIONS}/{subscription}");
        if let Some(rg) = &resource_group {
            text.push_str(&format!("/{RESOURCE_GROUPS}/{rg}"));
        }
        for block in &providers {
            text.push_str(&format!("/{PROVIDERS}/{}", block.namespace));
            for (resource_type, name) in &block.types {
                text.push_str(&format!("/{resource_type}/{name}"));
            }
        }
        let resource_type = match (providers.last(), &resource_group) {
            (Some(block), _) => {
                let mut ty = block.namespace.clone();
                for (segment, _) in &block.types {
                    ty.push('/');
                    ty.push_str(segment);
                }
                ty
            }
            (None, Some(_)) => format!("{RESOURCES_NAMESPACE}/{RESOURCE_GROUPS}"),
            (None, None) => format!("{RESOURCES_NAMESPACE}/{SUBSCRIPTIONS}"),
        };
        Self {
            text,
            resource_type,
            subscription,
            resource_group,
            providers,
        }
    }

    fn parse_str(input: &str) -> Result<Self, ResourceIdError> {
        let owned = || input.to_owned();
        if input.is_empty() {
            return Err(ResourceIdError::Empty);
        }
        let Some(body) = input.strip_prefix('/') else {
            return Err(ResourceIdError::MissingLeadingSlash { input: owned() });
        };
        let body = body.strip_suffix('/').unwrap_or(body);
        let incomplete = |expected| ResourceIdError::Incomplete {
            input: owned(),
            expected,
        };
        if body.is_empty() {
            return Err(incomplete("\"subscriptions\""));
        }
        if body.split('/').any(str::is_empty) {
            return Err(ResourceIdError::EmptySegment { input: owned() });
        }
        let mut segments = body.split('/').peekable();
        let keyword = |segment: Option<&str>, keyword: &str, expected| match segment {
            Some(s) if s.eq_ignore_ascii_case(keyword) => Ok(()),
            Some(s) => Err(ResourceIdError::UnexpectedSegment {
                input: owned(),
                expected,
                found: s.to_owned(),
            }),
            None => Err(incomplete(expected)),
        };

        keyword(segments.next(), SUBSCRIPTIONS, "\"subscriptions\"")?;
        let subscription = segments
            .next()
            .ok_or_else(|| incomplete("a subscription id"))?
            .parse::<SubscriptionId>()
            .map_err(|source| ResourceIdError::InvalidSubscriptionId {
                input: owned(),
                source,
            })?;

        let mut resource_group = None;
        if segments
            .peek()
            .is_some_and(|s| s.eq_ignore_ascii_case(RESOURCE_GROUPS))
        {
            segments.next();
            let rg = segments
                .next()
                .ok_or_else(|| incomplete("a resource group name"))?
                .parse::<ResourceGroupName>()
                .map_err(|source| ResourceIdError::InvalidResourceGroup {
                    input: owned(),
                    source,
                })?;
            resource_group = Some(rg);
        }

        let mut providers = Vec::new();
        while let Some(segment) = segments.next() {
            let expected = if providers.is_empty() && resource_group.is_none() {
                "\"resourceGroups\" or \"providers\""
            } else {
                "\"providers\""
            };
            keyword(Some(segment), PROVIDERS, expected)?;
            let namespace = segments
                .next()
                .ok_or_else(|| incomplete("a provider namespace"))?;
            check_namespace(input, namespace)?;
            let mut types = Vec::new();
            while let Some(resource_type) = segments.next_if(|s| !s.eq_ignore_ascii_case(PROVIDERS))
            {
                check_type(input, resource_type)?;
                let name = segments
                    .next()
                    .ok_or_else(|| incomplete("a resource name"))?;
                check_name(input, name)?;
                types.push((resource_type.to_owned(), name.to_owned()));
            }
            if types.is_empty() {
                return Err(incomplete("a resource type"));
            }
            providers.push(ProviderBlock {
                namespace: namespace.to_owned(),
                types,
            });
        }
        Ok(Self::build(subscription, resource_group, providers))
    }
}

/// A namespace is dot-separated non-empty runs of ASCII letters and digits.
fn check_namespace(input: &str, namespace: &str) -> Result<(), ResourceIdError> {
    let valid = namespace
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    if valid {
        Ok(())
    } else {
        Err(ResourceIdError::InvalidNamespace {
            input: input.to_owned(),
            namespace: namespace.to_owned(),
        })
    }
}

/// A type segment is ASCII letters, digits, hyphens and underscores, and not `providers`.
fn check_type(input: &str, resource_type: &str) -> Result<(), ResourceIdError> {
    let valid = !resource_type.is_empty()
        && !resource_type.eq_ignore_ascii_case(PROVIDERS)
        && resource_type
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ResourceIdError::InvalidResourceType {
            input: input.to_owned(),
            resource_type: resource_type.to_owned(),
        })
    }
}

/// A name is non-empty and free of `/`, `?`, `#` and control characters; the provider checks
/// the rest.
fn check_name(input: &str, name: &str) -> Result<(), ResourceIdError> {
    let valid = !name.is_empty()
        && !name
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#') || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(ResourceIdError::InvalidName {
            input: input.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        caseless_eq(&self.text, &other.text)
    }
}

impl Eq for ResourceId {}

impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        caseless_hash(&self.text, state);
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResourceId").field(&self.text).finish()
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for ResourceId {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl FromStr for ResourceId {
    type Err = ResourceIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_str(s)
    }
}

impl TryFrom<String> for ResourceId {
    type Error = ResourceIdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_str(&s)
    }
}

impl TryFrom<&str> for ResourceId {
    type Error = ResourceIdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse_str(s)
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> String {
        id.text
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    fn sub() -> SubscriptionId {
        SUB.parse().unwrap()
    }

    fn rg() -> ResourceGroupName {
        "rg".parse().unwrap()
    }

    fn vault_id() -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/MyVault"
        )
    }

    #[test]
    fn parses_and_describes_each_shape() {
        // (input, resource_group, namespace, type, name)
        let cases: &[(String, Option<&str>, &str, &str, &str)] = &[
            (
                format!("/subscriptions/{SUB}"),
                None,
                "Microsoft.Resources",
                "Microsoft.Resources/subscriptions",
                SUB,
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg"),
                Some("rg"),
                "Microsoft.Resources",
                "Microsoft.Resources/resourceGroups",
                "rg",
            ),
            (
                vault_id(),
                Some("rg"),
                "Microsoft.KeyVault",
                "Microsoft.KeyVault/vaults",
                "MyVault",
            ),
            (
                format!("{}/accessPolicies/add", vault_id()),
                Some("rg"),
                "Microsoft.KeyVault",
                "Microsoft.KeyVault/vaults/accessPolicies",
                "add",
            ),
            (
                format!(
                    "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westus/deletedVaults/v1"
                ),
                None,
                "Microsoft.KeyVault",
                "Microsoft.KeyVault/locations/deletedVaults",
                "v1",
            ),
            (
                format!(
                    "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
                ),
                None,
                "Microsoft.Authorization",
                "Microsoft.Authorization/roleDefinitions",
                "e147488a-f6f5-4113-8e2d-b22465e65bf6",
            ),
            (
                format!(
                    "{}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111",
                    vault_id()
                ),
                Some("rg"),
                "Microsoft.Authorization",
                "Microsoft.Authorization/roleAssignments",
                "11111111-1111-1111-1111-111111111111",
            ),
        ];
        for (input, rg, namespace, ty, name) in cases {
            let id: ResourceId = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(id.as_str(), input);
            assert_eq!(id.subscription_id().as_str(), SUB);
            assert_eq!(id.resource_group_name().map(ResourceGroupName::as_str), *rg);
            assert_eq!(id.provider_namespace(), *namespace);
            assert_eq!(id.resource_type(), *ty);
            assert_eq!(id.name(), *name);
            let again: ResourceId = id.to_string().parse().unwrap();
            assert_eq!(again, id);
            assert_eq!(again.as_str(), id.as_str());
        }
    }

    #[test]
    fn canonicalises_keywords_and_keeps_name_case() {
        let input = format!(
            "/SUBSCRIPTIONS/{}/resourcegroups/My-RG/PROVIDERS/Microsoft.ManagedIdentity/userAssignedIdentities/Id1/",
            SUB.to_uppercase()
        );
        let id: ResourceId = input.parse().unwrap();
        assert_eq!(
            id.as_str(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/My-RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1"
            )
        );
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        let a: ResourceId = vault_id().parse().unwrap();
        let b: ResourceId = vault_id()
            .replace("resourceGroups", "resourcegroups")
            .replace("MyVault", "myvault")
            .replace("Microsoft.KeyVault", "microsoft.keyvault")
            .parse()
            .unwrap();
        assert_eq!(a, b);
        let mut map = HashMap::new();
        map.insert(a.clone(), 1);
        assert_eq!(map.get(&b), Some(&1));
        assert_eq!(b.name(), "myvault", "display keeps the caller's case");

        let other: ResourceId = vault_id().replace("MyVault", "OtherVault").parse().unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn rejects_malformed_ids() {
        type Check = fn(&ResourceIdError) -> bool;
        let vault = vault_id();
        let cases: Vec<(String, Check)> = vec![
            (String::new(), |e| matches!(e, ResourceIdError::Empty)),
            (vault[1..].to_owned(), |e| {
                matches!(e, ResourceIdError::MissingLeadingSlash { .. })
            }),
            (vault.replace("/rg/", "//"), |e| {
                matches!(e, ResourceIdError::EmptySegment { .. })
            }),
            (format!("{vault}//"), |e| {
                matches!(e, ResourceIdError::EmptySegment { .. })
            }),
            ("/".to_owned(), |e| {
                matches!(e, ResourceIdError::Incomplete { .. })
            }),
            ("/subscriptions".to_owned(), |e| {
                matches!(e, ResourceIdError::Incomplete { .. })
            }),
            ("/subscription/x".to_owned(), |e| {
                matches!(e, ResourceIdError::UnexpectedSegment { .. })
            }),
            ("/subscriptions/not-a-guid".to_owned(), |e| {
                matches!(e, ResourceIdError::InvalidSubscriptionId { .. })
            }),
            (format!("/subscriptions/{SUB}/resourceGroups"), |e| {
                matches!(e, ResourceIdError::Incomplete { .. })
            }),
            (format!("/subscriptions/{SUB}/resourceGroups/rg."), |e| {
                matches!(e, ResourceIdError::InvalidResourceGroup { .. })
            }),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers"),
                |e| matches!(e, ResourceIdError::Incomplete { .. }),
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault"),
                |e| matches!(e, ResourceIdError::Incomplete { .. }),
            ),
            (
                format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults"
                ),
                |e| matches!(e, ResourceIdError::Incomplete { .. }),
            ),
            (format!("{vault}/accessPolicies/"), |e| {
                matches!(e, ResourceIdError::Incomplete { .. })
            }),
            (
                vault.replace("Microsoft.KeyVault", "Microsoft..KeyVault"),
                |e| matches!(e, ResourceIdError::InvalidNamespace { .. }),
            ),
            (vault.replace("vaults", "va*lts"), |e| {
                matches!(e, ResourceIdError::InvalidResourceType { .. })
            }),
            (vault.replace("MyVault", "My#Vault"), |e| {
                matches!(e, ResourceIdError::InvalidName { .. })
            }),
            (
                format!("/subscriptions/{SUB}/resourcegroups/rg/deployments/d/operations/o"),
                |e| matches!(e, ResourceIdError::UnexpectedSegment { .. }),
            ),
            (format!("/subscriptions/{SUB}/foo/bar"), |e| {
                matches!(e, ResourceIdError::UnexpectedSegment { .. })
            }),
            (
                "/providers/Microsoft.Authorization/roleDefinitions/x".to_owned(),
                |e| matches!(e, ResourceIdError::UnexpectedSegment { .. }),
            ),
        ];
        for (input, check) in cases {
            let err = input
                .parse::<ResourceId>()
                .expect_err(&format!("{input:?} should be rejected"));
            assert!(check(&err), "{input:?} gave {err:?}");
            if !input.is_empty() {
                assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
            }
        }
    }

    #[test]
    fn error_messages_and_sources() {
        let err = "/subscriptions/nope".parse::<ResourceId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"resource id "/subscriptions/nope" has an invalid subscription id"#
        );
        let source = std::error::Error::source(&err).unwrap();
        assert!(source.to_string().contains("is not a GUID"), "{source}");

        let err = format!("/subscriptions/{SUB}/foo")
            .parse::<ResourceId>()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                r#"resource id "/subscriptions/{SUB}/foo" has "foo" where "resourceGroups" or "providers" was expected"#
            )
        );
    }

    #[test]
    fn constructors_and_parent_chain() {
        let rg_id = ResourceId::resource_group(&sub(), &rg());
        let vault =
            ResourceId::resource(&sub(), &rg(), "Microsoft.KeyVault", "vaults", "MyVault").unwrap();
        assert_eq!(vault.as_str(), vault_id());
        let policy = vault.child("accessPolicies", "add").unwrap();
        assert_eq!(
            policy.resource_type(),
            "Microsoft.KeyVault/vaults/accessPolicies"
        );
        let assignment = vault
            .provider_resource(
                "Microsoft.Authorization",
                "roleAssignments",
                "11111111-1111-1111-1111-111111111111",
            )
            .unwrap();
        assert_eq!(
            assignment.as_str(),
            format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111",
                vault_id()
            )
        );

        assert_eq!(assignment.parent(), Some(vault.clone()));
        assert_eq!(policy.parent(), Some(vault.clone()));
        assert_eq!(vault.parent(), Some(rg_id.clone()));
        assert_eq!(rg_id.parent(), Some(ResourceId::subscription(&sub())));
        assert_eq!(ResourceId::subscription(&sub()).parent(), None);

        let sub_level = ResourceId::subscription(&sub())
            .provider_resource("Microsoft.KeyVault", "locations", "westus")
            .unwrap()
            .child("deletedVaults", "v1")
            .unwrap();
        assert_eq!(sub_level.resource_group_name(), None);
        assert_eq!(
            sub_level.parent().unwrap().as_str(),
            format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westus")
        );
    }

    #[test]
    fn constructors_validate_their_arguments() {
        let vault =
            ResourceId::resource(&sub(), &rg(), "Microsoft.KeyVault", "vaults", "v").unwrap();
        assert!(matches!(
            ResourceId::resource(&sub(), &rg(), "Microsoft.KeyVault", "vaults", "a/b"),
            Err(ResourceIdError::InvalidName { .. })
        ));
        assert!(matches!(
            ResourceId::resource(&sub(), &rg(), "Microsoft.KeyVault", "vaults", ""),
            Err(ResourceIdError::InvalidName { .. })
        ));
        assert!(matches!(
            ResourceId::resource(&sub(), &rg(), "Microsoft/KeyVault", "vaults", "v"),
            Err(ResourceIdError::InvalidNamespace { .. })
        ));
        assert!(matches!(
            ResourceId::resource(&sub(), &rg(), "Microsoft.KeyVault", "vaults/keys", "v"),
            Err(ResourceIdError::InvalidResourceType { .. })
        ));
        assert!(matches!(
            vault.child("providers", "x"),
            Err(ResourceIdError::InvalidResourceType { .. })
        ));
        assert!(matches!(
            ResourceId::resource_group(&sub(), &rg()).child("x", "y"),
            Err(ResourceIdError::NotAProviderResource { .. })
        ));
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let id: ResourceId = serde_json::from_str(&format!(
            "\"{}\"",
            vault_id().replace("resourceGroups", "resourcegroups")
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", vault_id())
        );
        let err = serde_json::from_str::<ResourceId>(r#""subscriptions/x""#).unwrap_err();
        assert!(err.to_string().contains("must start with '/'"), "{err}");

        // As a map key, as in ACI's `identity.userAssignedIdentities`.
        let map: HashMap<ResourceId, serde_json::Value> =
            serde_json::from_str(&format!("{{\"{}\": {{}}}}", vault_id())).unwrap();
        assert!(map.contains_key(&id));
    }
}
