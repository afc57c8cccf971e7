//! Microsoft Graph: the tenant's applications and service principals ([`directory`]: records
//! and in-process API), how Graph renders them ([`render`]) and its errors ([`errors`]), and the
//! `/graph/v1.0` routes ([`handlers`]; [`directory_objects`] resolves objects by id).

pub mod directory;
pub mod directory_objects;
pub mod errors;
pub mod handlers;
pub mod render;
