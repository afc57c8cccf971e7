//! Microsoft Graph: the tenant's applications and service principals ([`directory`]: records
//! and in-process API) and the `/graph/v1.0` routes ([`handlers`]).

pub mod directory;
pub mod handlers;
