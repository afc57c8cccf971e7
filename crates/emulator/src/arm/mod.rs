//! The Azure Resource Manager front door: the error envelope, what every provider reads from a
//! request (token, api-version, body), the Microsoft.Resources api-version lists, list paging, subscriptions and resource groups, the
//! generic resource list with its `$filter`, and long-running operations. The router sends each provider namespace to its service's folder.

pub mod api_versions;
pub mod error;
pub mod generic_resources;
pub mod lro;
pub mod paging;
pub mod request;
pub mod resource_filter;
pub mod resources;
