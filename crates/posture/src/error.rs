//! The audit's [`Error`]: what stops an audit altogether. A resource the audit cannot read does
//! not: it is a [`Gap`](crate::report::Gap) of the report.

/// Why an audit could not run, or its report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The container groups in scope could not be listed: there is nothing to audit.
    #[error("the container groups of {scope} could not be listed")]
    ListGroups {
        /// The subscription or resource group.
        scope: String,
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_aci::Error>,
    },
    /// The subscription's vaults could not be listed: no vault could be found.
    #[error("the subscription's vaults could not be listed")]
    ListVaults {
        /// What the service answered.
        #[source]
        source: Box<aci_cmk_keyvault::Error>,
    },
    /// A severity name is not one of `info`, `low`, `medium`, `high`, `critical`.
    #[error("{0:?} is not a severity (info, low, medium, high, critical)")]
    UnknownSeverity(String),
    /// The report could not be serialised.
    #[error("the report could not be serialised")]
    Serialize(#[source] serde_json::Error),
}

/// The audit's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
