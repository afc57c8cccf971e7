//! The checks Azure makes on a container group's encryption settings, made before any request.

use crate::{
    Error, Result,
    api_version::ApiVersion,
    models::{ContainerGroup, Sku},
};
use aci_cmk_core::{key_id::VaultUrl, names::KeyVersion, resource_id::ResourceId};

/// The lowest api-version that has every field `group` uses.
pub fn required_api_version(group: &ContainerGroup) -> Option<ApiVersion> {
    let encryption = group.properties.encryption_properties.as_ref()?;
    Some(if encryption.identity.is_some() {
        ApiVersion::min_for_encryption_identity()
    } else {
        ApiVersion::min_for_encryption()
    })
}

/// The api-version to send `group` with: the pinned one if any (refused when too old), else
/// the default (which is never older than any requirement).
pub fn api_version_for(group: &ContainerGroup, pinned: Option<&ApiVersion>) -> Result<ApiVersion> {
    let required = required_api_version(group);
    match (pinned, required) {
        (Some(pinned), Some(required)) if *pinned < required => Err(Error::ApiVersionTooOld {
            feature: if required == ApiVersion::min_for_encryption_identity() {
                "encryptionProperties.identity"
            } else {
                "encryptionProperties"
            },
            required: required.to_string(),
            pinned: pinned.to_string(),
        }),
        (Some(pinned), _) => Ok(pinned.clone()),
        (None, Some(required)) => Ok(required.max(ApiVersion::default_version())),
        (None, None) => Ok(ApiVersion::default_version()),
    }
}

/// Checks a group's encryption settings as Azure does: sku `Standard`; a vault URL, key name and
/// key version present and well formed; an encryption identity that is a user-assigned identity
/// id listed in the group's `identity` block.
pub fn validate_encryption(group: &ContainerGroup) -> Result<()> {
    let Some(encryption) = &group.properties.encryption_properties else {
        return Ok(());
    };
    if group.properties.sku != Some(Sku::Standard) {
        return Err(Error::EncryptionNeedsStandardSku {
            sku: group.properties.sku,
        });
    }
    encryption
        .vault_base_url
        .parse::<VaultUrl>()
        .map_err(|e| Error::InvalidEncryptionProperties(format!("vaultBaseUrl: {e}")))?;
    if encryption.key_name.is_empty() {
        return Err(Error::InvalidEncryptionProperties(
            "keyName is empty".into(),
        ));
    }
    encryption
        .key_name
        .parse::<aci_cmk_core::names::KeyName>()
        .map_err(|e| Error::InvalidEncryptionProperties(format!("keyName: {e}")))?;
    encryption.key_version.parse::<KeyVersion>().map_err(|e| {
        Error::InvalidEncryptionProperties(format!(
            "keyVersion must name a specific key version: {e}"
        ))
    })?;
    if let Some(identity) = &encryption.identity {
        let id: ResourceId = identity.parse().map_err(|e| {
            Error::InvalidEncryptionProperties(format!("identity is not a resource id: {e}"))
        })?;
        if !id
            .resource_type()
            .eq_ignore_ascii_case("Microsoft.ManagedIdentity/userAssignedIdentities")
        {
            return Err(Error::InvalidEncryptionProperties(format!(
                "identity {identity} is not a user-assigned managed identity"
            )));
        }
        let listed = group
            .identity
            .as_ref()
            .is_some_and(|i| i.has_user_assigned(&id));
        if !listed {
            return Err(Error::EncryptionIdentityNotAssigned {
                identity: identity.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Container, ContainerGroupIdentity, EncryptionProperties};

    const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aci-cmk-id";
    const VERSION: &str = "78deebed173b48e48f55abf87ed4cf71";

    fn group(identity: Option<&str>) -> ContainerGroup {
        let mut g = ContainerGroup::new("eastus", vec![Container::new("app", "nginx", 1.0, 1.5)]);
        g.properties.encryption_properties = Some(EncryptionProperties {
            vault_base_url: "https://myvault.vault.azure.net".into(),
            key_name: "aci-cmk".into(),
            key_version: VERSION.into(),
            identity: identity.map(str::to_owned),
        });
        g
    }

    fn uai() -> ResourceId {
        UAI.parse().expect("valid id")
    }

    #[test]
    fn standard_flow_is_valid_and_needs_2019_12_01() {
        let g = group(None);
        validate_encryption(&g).expect("valid");
        assert_eq!(
            required_api_version(&g).map(|v| v.to_string()).as_deref(),
            Some("2019-12-01")
        );
        let pinned: ApiVersion = "2019-12-01".parse().expect("valid");
        assert_eq!(api_version_for(&g, Some(&pinned)).expect("ok"), pinned);
        assert_eq!(
            api_version_for(&g, None).expect("ok").as_str(),
            ApiVersion::DEFAULT
        );
    }

    #[test]
    fn encryption_needs_standard_sku() {
        for sku in [None, Some(Sku::Dedicated), Some(Sku::Confidential)] {
            let mut g = group(None);
            g.properties.sku = sku;
            assert!(matches!(
                validate_encryption(&g),
                Err(Error::EncryptionNeedsStandardSku { .. })
            ));
        }
    }

    #[test]
    fn encryption_identity_must_be_assigned_to_the_group() {
        let mut g = group(Some(UAI));
        assert!(matches!(
            validate_encryption(&g),
            Err(Error::EncryptionIdentityNotAssigned { .. })
        ));
        g.identity = Some(ContainerGroupIdentity::user_assigned([&uai()]));
        validate_encryption(&g).expect("valid once listed");
        // Azure lowercases `resourcegroups` in responses: still the same identity.
        let mut g2 = group(Some(&UAI.replace("resourceGroups", "resourcegroups")));
        g2.identity = Some(ContainerGroupIdentity::user_assigned([&uai()]));
        validate_encryption(&g2).expect("case-insensitive ids");
        // A system-assigned identity block does not list it.
        g.identity.as_mut().expect("set").kind = crate::models::IdentityType::SystemAssigned;
        assert!(matches!(
            validate_encryption(&g),
            Err(Error::EncryptionIdentityNotAssigned { .. })
        ));
    }

    #[test]
    fn encryption_identity_needs_2022_09_01() {
        let mut g = group(Some(UAI));
        g.identity = Some(ContainerGroupIdentity::user_assigned([&uai()]));
        let old: ApiVersion = "2021-10-01".parse().expect("valid");
        match api_version_for(&g, Some(&old)) {
            Err(Error::ApiVersionTooOld {
                feature,
                required,
                pinned,
            }) => {
                assert_eq!(feature, "encryptionProperties.identity");
                assert_eq!(required, "2022-09-01");
                assert_eq!(pinned, "2021-10-01");
            }
            other => panic!("unexpected {other:?}"),
        }
        let older: ApiVersion = "2018-10-01".parse().expect("valid");
        assert!(matches!(
            api_version_for(&group(None), Some(&older)),
            Err(Error::ApiVersionTooOld {
                feature: "encryptionProperties",
                ..
            })
        ));
    }

    #[test]
    fn malformed_encryption_properties_are_refused() {
        type Case = (&'static str, fn(&mut EncryptionProperties));
        let cases: [Case; 5] = [
            ("http vault", |e| {
                e.vault_base_url = "http://myvault.vault.azure.net".into()
            }),
            ("no key version", |e| e.key_version.clear()),
            ("versionless", |e| e.key_version = "latest".into()),
            ("bad key name", |e| e.key_name = "a b".into()),
            ("identity not an id", |e| {
                e.identity = Some("aci-cmk-id".into())
            }),
        ];
        for (what, mutate) in cases {
            let mut g = group(None);
            mutate(g.properties.encryption_properties.as_mut().expect("set"));
            assert!(
                matches!(
                    validate_encryption(&g),
                    Err(Error::InvalidEncryptionProperties(_))
                ),
                "{what}"
            );
        }
    }
}
