//! Real Azure: the cloud's endpoints and the credential, chosen in the documented order
//! (ADR 005) and built by core's `CredentialBuilder` over `azure_identity`: no token code
//! here.
//!
//! `--auth auto` takes the first that applies: (1) a client secret in the environment
//! (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), (2) workload identity
//! (`AZURE_FEDERATED_TOKEN_FILE` with the tenant and client id), (3) a managed identity the
//! environment announces (`IDENTITY_ENDPOINT`, `MSI_ENDPOINT`), (4) the developer tools (the
//! Azure CLI, then the Azure Developer CLI). The choice is made from the environment alone,
//! without a probe: on a VM, whose instance metadata service announces nothing, say
//! `--auth managed-identity`.

use crate::args::{AuthMethod, CloudName};
use aci_cmk_core::{
    CloudEndpoints, TokenCredential,
    credentials::{CredentialBuilder, ManagedIdentitySelector},
    secret::SecretString,
};
use std::{fmt, sync::Arc};

/// The endpoints of `cloud`.
pub fn endpoints(cloud: CloudName) -> CloudEndpoints {
    match cloud {
        CloudName::Public => CloudEndpoints::azure_public(),
        CloudName::China => CloudEndpoints::azure_china(),
        CloudName::Usgov => CloudEndpoints::azure_us_government(),
    }
}

/// The credential chosen, with what it needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Chosen {
    /// A service principal's client secret from the environment.
    ClientSecret {
        /// `AZURE_TENANT_ID`.
        tenant_id: String,
        /// `AZURE_CLIENT_ID`.
        client_id: String,
        /// `AZURE_CLIENT_SECRET` (prints as `***`).
        secret: SecretString,
    },
    /// Workload identity federation; `azure_identity` reads its variables itself.
    WorkloadIdentity,
    /// A managed identity: a user-assigned one by client id, else the system-assigned one.
    ManagedIdentity(Option<String>),
    /// The Azure CLI's sign-in, then the Azure Developer CLI's.
    DeveloperTools,
}

impl fmt::Display for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chosen::ClientSecret { client_id, .. } => {
                write!(f, "the client secret of {client_id} (AZURE_CLIENT_SECRET)")
            }
            Chosen::WorkloadIdentity => {
                f.write_str("workload identity (AZURE_FEDERATED_TOKEN_FILE)")
            }
            Chosen::ManagedIdentity(Some(id)) => write!(f, "the managed identity {id}"),
            Chosen::ManagedIdentity(None) => f.write_str("the system-assigned managed identity"),
            Chosen::DeveloperTools => f.write_str("the Azure CLI / Azure Developer CLI sign-in"),
        }
    }
}

/// Picks the credential `method` names, or in `auto` the first of the documented order the
/// environment (`env`) offers. An error says which variables are missing.
pub fn choose(
    method: AuthMethod,
    managed_identity_client_id: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Chosen, String> {
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let missing = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| var(n).is_none())
            .map(|n| (*n).to_owned())
            .collect()
    };
    let client_secret = || match (
        var("AZURE_TENANT_ID"),
        var("AZURE_CLIENT_ID"),
        var("AZURE_CLIENT_SECRET"),
    ) {
        (Some(tenant_id), Some(client_id), Some(secret)) => Some(Chosen::ClientSecret {
            tenant_id,
            client_id,
            secret: secret.into(),
        }),
        _ => None,
    };
    let workload = [
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
    ];
    let managed = || Chosen::ManagedIdentity(managed_identity_client_id.map(str::to_owned));
    let needs = |what: &str, names: &[&str]| {
        format!(
            "--auth {what} needs {}; missing: {}",
            names.join(", "),
            missing(names).join(", ")
        )
    };
    match method {
        AuthMethod::ClientSecret => client_secret().ok_or_else(|| {
            needs(
                "client-secret",
                &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            )
        }),
        AuthMethod::WorkloadIdentity if missing(&workload).is_empty() => {
            Ok(Chosen::WorkloadIdentity)
        }
        AuthMethod::WorkloadIdentity => Err(needs("workload-identity", &workload)),
        AuthMethod::ManagedIdentity => Ok(managed()),
        AuthMethod::DeveloperTools => Ok(Chosen::DeveloperTools),
        AuthMethod::Auto => Ok(if let Some(chosen) = client_secret() {
            chosen
        } else if missing(&workload).is_empty() {
            Chosen::WorkloadIdentity
        } else if var("IDENTITY_ENDPOINT").is_some() || var("MSI_ENDPOINT").is_some() {
            managed()
        } else {
            Chosen::DeveloperTools
        }),
    }
}

/// The `azure_identity` credential for `chosen`.
pub fn build(
    chosen: &Chosen,
    builder: &CredentialBuilder,
) -> Result<Arc<dyn TokenCredential>, aci_cmk_core::Error> {
    match chosen {
        Chosen::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => builder.client_secret(tenant_id, client_id, secret.clone()),
        Chosen::WorkloadIdentity => builder.workload_identity(None, None, None),
        Chosen::ManagedIdentity(Some(id)) => {
            builder.managed_identity(ManagedIdentitySelector::ClientId(id.clone()))
        }
        Chosen::ManagedIdentity(None) => {
            builder.managed_identity(ManagedIdentitySelector::SystemAssigned)
        }
        Chosen::DeveloperTools => builder.developer_tools(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const SECRET: &[(&str, &str)] = &[
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "s3cret"),
    ];
    const WORKLOAD: &[(&str, &str)] = &[
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ("IDENTITY_ENDPOINT", "http://localhost:42356/msi"),
    ];
    const MANAGED: &[(&str, &str)] = &[
        ("IDENTITY_ENDPOINT", "http://localhost:42356/msi"),
        ("AZURE_CLIENT_SECRET", ""),
    ];

    #[test]
    fn auto_takes_the_first_the_environment_offers() {
        let secret = choose(AuthMethod::Auto, None, &env(SECRET)).expect("chosen");
        assert!(matches!(&secret, Chosen::ClientSecret { client_id, .. } if client_id == "c"));
        assert!(!format!("{secret} {secret:?}").contains("s3cret"));
        type Vars = &'static [(&'static str, &'static str)];
        let cases: &[(Vars, Option<&str>, Chosen)] = &[
            (WORKLOAD, None, Chosen::WorkloadIdentity),
            (MANAGED, None, Chosen::ManagedIdentity(None)),
            (
                MANAGED,
                Some("mi"),
                Chosen::ManagedIdentity(Some("mi".into())),
            ),
            (
                &[("MSI_ENDPOINT", "http://x")],
                None,
                Chosen::ManagedIdentity(None),
            ),
            (&[("AZURE_CLIENT_ID", "c")], None, Chosen::DeveloperTools),
            (&[], None, Chosen::DeveloperTools),
        ];
        for (vars, client_id, expected) in cases {
            let lookup = |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            assert_eq!(
                choose(AuthMethod::Auto, *client_id, &lookup).as_ref(),
                Ok(expected),
                "{vars:?}"
            );
        }
    }

    #[test]
    fn an_explicit_method_says_what_it_misses() {
        let err = choose(AuthMethod::ClientSecret, None, &env(MANAGED)).expect_err("missing");
        assert!(
            err.ends_with("missing: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"),
            "{err}"
        );
        let err = choose(AuthMethod::WorkloadIdentity, None, &env(SECRET)).expect_err("missing");
        assert!(
            err.ends_with("missing: AZURE_FEDERATED_TOKEN_FILE"),
            "{err}"
        );
        assert_eq!(
            choose(AuthMethod::DeveloperTools, None, &env(SECRET)),
            Ok(Chosen::DeveloperTools)
        );
        assert_eq!(
            choose(AuthMethod::ManagedIdentity, None, &env(SECRET)),
            Ok(Chosen::ManagedIdentity(None))
        );
    }
}
