//! Key Vault URLs and key identifiers.
//!
//! - [`VaultUrl`]: a vault's base URL, `https://{vault}.{dns suffix}` (what ARM calls `vaultUri`
//!   and ACI calls `encryptionProperties.vaultBaseUrl`).
//! - [`KeyId`]: a key identifier, `https://{vault}.{dns suffix}/keys/{name}[/{version}]` (the
//!   `kid` of a key bundle).
//!
//! Key Vault compares identifiers case-insensitively; so do these types.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::names::{KeyName, KeyVersion, NameError, VaultName};

const KEYS: &str = "keys";

/// Why a string is not a valid [`VaultUrl`] or [`KeyId`].
///
/// `kind` is `"vault url"` or `"key id"`, and `input` is the rejected string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The input is the empty string.
    #[error("{kind} must not be empty")]
    Empty {
        /// What was being parsed.
        kind: &'static str,
    },
    /// The input is not an absolute URL.
    #[error("{kind} {input:?} is not an absolute URL")]
    NotAUrl {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// Why the URL parser rejected it.
        #[source]
        source: url::ParseError,
    },
    /// The scheme is not `https`.
    #[error("{kind} {input:?} must use https, not {scheme:?}")]
    NotHttps {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// The host is an IP address, a single label, or has an empty label.
    #[error("{kind} {input:?} must have a host of the form {{vault}}.{{dns suffix}}")]
    NotAVaultHost {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
    },
    /// The first DNS label breaks the vault naming rule.
    #[error("{kind} {input:?} has an invalid vault name")]
    InvalidVaultName {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// Which naming rule failed.
        #[source]
        source: NameError,
    },
    /// The URL carries user info, a query or a fragment.
    #[error("{kind} {input:?} must not have {component}")]
    UnexpectedComponent {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// `"user info"`, `"a query"` or `"a fragment"`.
        component: &'static str,
    },
    /// A vault URL has a path other than `/`.
    #[error("vault url {input:?} must not have a path, found {path:?}")]
    UnexpectedPath {
        /// The rejected input.
        input: String,
        /// The path found.
        path: String,
    },
    /// A key id points into another collection, such as `/secrets/`.
    #[error("key id {input:?} must point into the \"keys\" collection, not {found:?}")]
    NotAKey {
        /// The rejected input.
        input: String,
        /// The collection segment found.
        found: String,
    },
    /// A key id has no key name (`https://{vault}.{suffix}` or `.../keys`).
    #[error("key id {input:?} has no key name; expected /keys/{{name}}[/{{version}}]")]
    MissingKeyName {
        /// The rejected input.
        input: String,
    },
    /// A key id has path segments after the version.
    #[error("key id {input:?} has path segments after the key version")]
    ExtraSegments {
        /// The rejected input.
        input: String,
    },
    /// The key name breaks the key naming rule.
    #[error("key id {input:?} has an invalid key name")]
    InvalidKeyName {
        /// The rejected input.
        input: String,
        /// Which naming rule failed.
        #[source]
        source: NameError,
    },
    /// The version segment is not a key version.
    #[error("key id {input:?} has an invalid key version")]
    InvalidKeyVersion {
        /// The rejected input.
        input: String,
        /// Which rule failed.
        #[source]
        source: NameError,
    },
}

/// Parses an https URL and splits its host into a vault name and DNS suffix (with port).
fn parse_vault_url(kind: &'static str, input: &str) -> Result<(Url, VaultUrl), IdError> {
    let owned = || input.to_owned();
    if input.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let url = Url::parse(input).map_err(|source| IdError::NotAUrl {
        kind,
        input: owned(),
        source,
    })?;
    if url.scheme() != "https" {
        return Err(IdError::NotHttps {
            kind,
            input: owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    let unexpected = |component| IdError::UnexpectedComponent {
        kind,
        input: owned(),
        component,
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(unexpected("user info"));
    }
    if url.query().is_some() {
        return Err(unexpected("a query"));
    }
    if url.fragment().is_some() {
        return Err(unexpected("a fragment"));
    }
    let not_vault_host = || IdError::NotAVaultHost {
        kind,
        input: owned(),
    };
    // `Url` lowercases domain names of https URLs and drops the default port.
    let Some(Host::Domain(host)) = url.host() else {
        return Err(not_vault_host());
    };
    let Some((label, suffix)) = host.split_once('.') else {
        return Err(not_vault_host());
    };
    if suffix.split('.').any(str::is_empty) {
        return Err(not_vault_host());
    }
    let vault: VaultName = label.parse().map_err(|source| IdError::InvalidVaultName {
        kind,
        input: owned(),
        source,
    })?;
    let dns_suffix = match url.port() {
        Some(port) => format!("{suffix}:{port}"),
        None => suffix.to_owned(),
    };
    let mut base = url.clone();
    base.set_path("/");
    let vault_url = VaultUrl {
        text: format!("https://{vault}.{dns_suffix}"),
        url: base,
        vault,
        dns_suffix,
    };
    Ok((url, vault_url))
}

/// A Key Vault base URL: `https://{vault}.{dns suffix}`, e.g. `https://myvault.vault.azure.net`
/// or, against an emulator, `https://myvault.vault.localhost:8443`.
///
/// Rules: https only; the host is a domain name whose first label is a valid [`VaultName`] and
/// whose remaining labels (the DNS suffix) are non-empty; a port is allowed; no user info,
/// query, fragment, or path other than `/`.
///
/// The URL is stored normalised: host lowercased, default port dropped, no trailing slash.
/// [`as_str`](Self::as_str) and `Display` give that form (as ACI's `vaultBaseUrl` examples
/// do); [`with_trailing_slash`](Self::with_trailing_slash) gives the form ARM returns. Equality
/// therefore ignores the trailing slash and the host's case.
///
/// ```
/// use aci_cmk_core::key_id::VaultUrl;
///
/// let url: VaultUrl = "https://MyVault.vault.azure.net/".parse()?;
/// assert_eq!(url.as_str(), "https://myvault.vault.azure.net");
/// assert_eq!(url.with_trailing_slash(), "https://myvault.vault.azure.net/");
/// assert_eq!(url.vault_name().as_str(), "myvault");
/// assert_eq!(url.dns_suffix(), "vault.azure.net");
/// assert_eq!(url, "https://myvault.vault.azure.net".parse()?);
///
/// let local: VaultUrl = "https://myvault.vault.localhost:8443".parse()?;
/// assert_eq!(local.dns_suffix(), "vault.localhost:8443");
/// assert!("http://myvault.vault.azure.net".parse::<VaultUrl>().is_err());
/// # Ok::<(), aci_cmk_core::key_id::IdError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VaultUrl {
    text: String,
    /// The same URL with path `/`.
    url: Url,
    vault: VaultName,
    dns_suffix: String,
}

impl VaultUrl {
    /// The URL of vault `vault` under `dns_suffix` (e.g. `vault.azure.net`, or
    /// `vault.localhost:8443` with a port).
    ///
    /// ```
    /// use aci_cmk_core::key_id::VaultUrl;
    ///
    /// let url = VaultUrl::new(&"contoso-cmk".parse()?, "vault.azure.net")?;
    /// assert_eq!(url.as_str(), "https://contoso-cmk.vault.azure.net");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(vault: &VaultName, dns_suffix: &str) -> Result<Self, IdError> {
        format!("https://{vault}.{dns_suffix}").parse()
    }

    /// The vault name: the first DNS label, lowercase.
    pub fn vault_name(&self) -> &VaultName {
        &self.vault
    }

    /// Everything after the vault name's dot, including any port: `vault.azure.net`,
    /// `vault.localhost:8443`.
    pub fn dns_suffix(&self) -> &str {
        &self.dns_suffix
    }

    /// The normalised URL without a trailing slash, e.g. `https://myvault.vault.azure.net`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised URL with a trailing slash, e.g. `https://myvault.vault.azure.net/`.
    pub fn with_trailing_slash(&self) -> String {
        format!("{}/", self.text)
    }

    /// The URL as a [`Url`] (whose path is `/`), to join request paths onto.
    pub fn to_url(&self) -> Url {
        self.url.clone()
    }

    /// The id of key `name` in this vault, at `version` or versionless.
    pub fn key_id(&self, name: &KeyName, version: Option<&KeyVersion>) -> KeyId {
        KeyId::new(self.clone(), name.clone(), version.cloned())
    }

    fn parse_str(input: &str) -> Result<Self, IdError> {
        let (url, vault_url) = parse_vault_url("vault url", input)?;
        if url.path() != "/" {
            return Err(IdError::UnexpectedPath {
                input: input.to_owned(),
                path: url.path().to_owned(),
            });
        }
        Ok(vault_url)
    }
}

/// A Key Vault key identifier: `https://{vault}.{dns suffix}/keys/{name}[/{version}]`.
///
/// Rules: the vault part follows [`VaultUrl`]; the path is `/keys/{name}` or
/// `/keys/{name}/{version}` with a valid [`KeyName`] and [`KeyVersion`]; one trailing slash is
/// tolerated. Other collections (`/secrets/...`, `/certificates/...`), extra segments (such as
/// `/wrapkey`), http, queries and fragments are rejected.
///
/// Display gives `{vault url}/keys/{name}[/{version}]` with the vault URL normalised. Equality
/// and hashing ignore case, as Key Vault does.
///
/// ```
/// use aci_cmk_core::key_id::KeyId;
///
/// let kid: KeyId =
///     "https://myvault.vault.azure.net/keys/aci-cmk/78deebed173b48e48f55abf87ed4cf71".parse()?;
/// assert_eq!(kid.vault_url().as_str(), "https://myvault.vault.azure.net");
/// assert_eq!(kid.name().as_str(), "aci-cmk");
/// assert_eq!(kid.version().map(|v| v.as_str()), Some("78deebed173b48e48f55abf87ed4cf71"));
/// assert_eq!(kid.versionless().to_string(), "https://myvault.vault.azure.net/keys/aci-cmk");
///
/// assert!("https://myvault.vault.azure.net/secrets/aci-cmk".parse::<KeyId>().is_err());
/// # Ok::<(), aci_cmk_core::key_id::IdError>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId {
    text: String,
    vault: VaultUrl,
    name: KeyName,
    version: Option<KeyVersion>,
}

impl KeyId {
    /// The id of key `name` in `vault`, at `version` or versionless.
    pub fn new(vault: VaultUrl, name: KeyName, version: Option<KeyVersion>) -> Self {
        let mut text = format!("{vault}/{KEYS}/{name}");
        if let Some(version) = &version {
            text.push('/');
            text.push_str(version.as_str());
        }
        Self {
            text,
            vault,
            name,
            version,
        }
    }

    /// The vault the key lives in.
    pub fn vault_url(&self) -> &VaultUrl {
        &self.vault
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key version, or `None` for a versionless id (which Key Vault resolves to the
    /// latest version).
    pub fn version(&self) -> Option<&KeyVersion> {
        self.version.as_ref()
    }

    /// The same key at `version`.
    pub fn with_version(&self, version: KeyVersion) -> Self {
        Self::new(self.vault.clone(), self.name.clone(), Some(version))
    }

    /// The same key without a version.
    pub fn versionless(&self) -> Self {
        Self::new(self.vault.clone(), self.name.clone(), None)
    }

    /// The identifier as a string.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn parse_str(input: &str) -> Result<Self, IdError> {
        let owned = || input.to_owned();
        let (url, vault) = parse_vault_url("key id", input)?;
        let path = url.path();
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut segments = path.split('/').skip(1); // the path starts with '/'
        match segments.next() {
            None => return Err(IdError::MissingKeyName { input: owned() }),
            Some(collection) if collection.eq_ignore_ascii_case(KEYS) => {}
            Some(other) => {
                return Err(IdError::NotAKey {
                    input: owned(),
                    found: other.to_owned(),
                });
            }
        }
        let name: KeyName = segments
            .next()
            .ok_or_else(|| IdError::MissingKeyName { input: owned() })?
            .parse()
            .map_err(|source| IdError::InvalidKeyName {
                input: owned(),
                source,
            })?;
        let version = segments
            .next()
            .map(|v| {
                v.parse::<KeyVersion>()
                    .map_err(|source| IdError::InvalidKeyVersion {
                        input: owned(),
                        source,
                    })
            })
            .transpose()?;
        if segments.next().is_some() {
            return Err(IdError::ExtraSegments { input: owned() });
        }
        Ok(Self::new(vault, name, version))
    }
}

impl PartialEq for KeyId {
    fn eq(&self, other: &Self) -> bool {
        self.vault == other.vault && self.name == other.name && self.version == other.version
    }
}

impl Eq for KeyId {}

impl Hash for KeyId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.vault.hash(state);
        self.name.hash(state);
        self.version.hash(state);
    }
}

macro_rules! string_impls {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.text
            }
        }

        impl FromStr for $ty {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_str(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse_str(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = IdError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse_str(s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.text
            }
        }
    };
}

string_impls!(VaultUrl);
string_impls!(KeyId);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const V: &str = "78deebed173b48e48f55abf87ed4cf71";

    #[test]
    fn vault_url_accepts_and_normalises() {
        // (input, as_str, vault name, dns suffix)
        let cases = [
            (
                "https://myvault.vault.azure.net",
                "https://myvault.vault.azure.net",
                "myvault",
                "vault.azure.net",
            ),
            (
                "https://myvault.vault.azure.net/",
                "https://myvault.vault.azure.net",
                "myvault",
                "vault.azure.net",
            ),
            (
                "HTTPS://MyVault.Vault.Azure.NET:443/",
                "https://myvault.vault.azure.net",
                "myvault",
                "vault.azure.net",
            ),
            (
                "https://myvault.vault.localhost:8443",
                "https://myvault.vault.localhost:8443",
                "myvault",
                "vault.localhost:8443",
            ),
            (
                "https://kv-1.vault.azure.cn",
                "https://kv-1.vault.azure.cn",
                "kv-1",
                "vault.azure.cn",
            ),
            (
                "https://hsm1.managedhsm.azure.net/",
                "https://hsm1.managedhsm.azure.net",
                "hsm1",
                "managedhsm.azure.net",
            ),
        ];
        for (input, normal, vault, suffix) in cases {
            let url: VaultUrl = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(url.as_str(), normal);
            assert_eq!(url.to_string(), normal);
            assert_eq!(url.with_trailing_slash(), format!("{normal}/"));
            assert_eq!(url.vault_name().as_str(), vault);
            assert_eq!(url.dns_suffix(), suffix);
            assert_eq!(url.to_url().as_str(), format!("{normal}/"));
            assert_eq!(url.to_string().parse::<VaultUrl>().unwrap(), url);
        }
        let a: VaultUrl = "https://MyVault.vault.azure.net/".parse().unwrap();
        let b: VaultUrl = "https://myvault.vault.azure.net".parse().unwrap();
        assert_eq!(a, b);
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn vault_url_rejects() {
        type Check = fn(&IdError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, IdError::Empty { .. })),
            ("myvault.vault.azure.net", |e| {
                matches!(e, IdError::NotAUrl { .. })
            }),
            ("http://myvault.vault.azure.net", |e| {
                matches!(e, IdError::NotHttps { .. })
            }),
            ("https://localhost:8443", |e| {
                matches!(e, IdError::NotAVaultHost { .. })
            }),
            ("https://127.0.0.1:8443", |e| {
                matches!(e, IdError::NotAVaultHost { .. })
            }),
            ("https://[::1]:8443", |e| {
                matches!(e, IdError::NotAVaultHost { .. })
            }),
            ("https://myvault.vault.azure.net./", |e| {
                matches!(e, IdError::NotAVaultHost { .. })
            }),
            ("https://my_vault.vault.azure.net", |e| {
                matches!(e, IdError::InvalidVaultName { .. })
            }),
            ("https://ab.vault.azure.net", |e| {
                matches!(e, IdError::InvalidVaultName { .. })
            }),
            ("https://a--b.vault.azure.net", |e| {
                matches!(e, IdError::InvalidVaultName { .. })
            }),
            ("https://user:pw@myvault.vault.azure.net", |e| {
                matches!(e, IdError::UnexpectedComponent { .. })
            }),
            ("https://myvault.vault.azure.net/?x=1", |e| {
                matches!(e, IdError::UnexpectedComponent { .. })
            }),
            ("https://myvault.vault.azure.net/#x", |e| {
                matches!(e, IdError::UnexpectedComponent { .. })
            }),
            ("https://myvault.vault.azure.net/keys", |e| {
                matches!(e, IdError::UnexpectedPath { .. })
            }),
            ("https://myvault.vault.azure.net//", |e| {
                matches!(e, IdError::UnexpectedPath { .. })
            }),
        ];
        for (input, check) in cases {
            let err = input
                .parse::<VaultUrl>()
                .expect_err(&format!("{input:?} should be rejected"));
            assert!(check(&err), "{input:?} gave {err:?}");
            if !input.is_empty() {
                assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
            }
        }
        assert_eq!(
            "http://myvault.vault.azure.net"
                .parse::<VaultUrl>()
                .unwrap_err()
                .to_string(),
            r#"vault url "http://myvault.vault.azure.net" must use https, not "http""#
        );
    }

    #[test]
    fn vault_url_new() {
        let vault: VaultName = "MyVault".parse().unwrap();
        let url = VaultUrl::new(&vault, "vault.localhost:8443").unwrap();
        assert_eq!(url.as_str(), "https://myvault.vault.localhost:8443");
        assert!(VaultUrl::new(&vault, "vault.azure.net/x").is_err());
        assert!(VaultUrl::new(&vault, "").is_err());
    }

    #[test]
    fn key_id_accepts() {
        // (input, canonical, version)
        let versioned = format!("https://myvault.vault.azure.net/keys/aci-cmk/{V}");
        let cases = [
            (versioned.clone(), versioned.clone(), Some(V)),
            (format!("{versioned}/"), versioned.clone(), Some(V)),
            (
                format!(
                    "https://MYVAULT.vault.azure.net:443/KEYS/aci-cmk/{}",
                    V.to_uppercase()
                ),
                versioned.clone(),
                Some(V),
            ),
            (
                "https://myvault.vault.azure.net/keys/aci-cmk".to_owned(),
                "https://myvault.vault.azure.net/keys/aci-cmk".to_owned(),
                None,
            ),
            (
                "https://myvault.vault.azure.net/keys/aci-cmk/".to_owned(),
                "https://myvault.vault.azure.net/keys/aci-cmk".to_owned(),
                None,
            ),
            (
                format!("https://myvault.vault.localhost:8443/keys/k/{V}"),
                format!("https://myvault.vault.localhost:8443/keys/k/{V}"),
                Some(V),
            ),
        ];
        for (input, canonical, version) in cases {
            let kid: KeyId = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(kid.as_str(), canonical);
            assert_eq!(kid.version().map(KeyVersion::as_str), version);
            assert_eq!(kid.to_string().parse::<KeyId>().unwrap(), kid);
        }
    }

    #[test]
    fn key_id_rejects() {
        type Check = fn(&IdError) -> bool;
        let base = "https://myvault.vault.azure.net";
        let cases: Vec<(String, Check)> = vec![
            (String::new(), |e| matches!(e, IdError::Empty { .. })),
            (format!("http://myvault.vault.azure.net/keys/k/{V}"), |e| {
                matches!(e, IdError::NotHttps { .. })
            }),
            (
                format!("{base}/secrets/k/{V}"),
                |e| matches!(e, IdError::NotAKey { found, .. } if found == "secrets"),
            ),
            (format!("{base}/certificates/k"), |e| {
                matches!(e, IdError::NotAKey { .. })
            }),
            (format!("{base}/deletedkeys/k"), |e| {
                matches!(e, IdError::NotAKey { .. })
            }),
            (base.to_owned(), |e| {
                matches!(e, IdError::MissingKeyName { .. })
            }),
            (format!("{base}/"), |e| {
                matches!(e, IdError::MissingKeyName { .. })
            }),
            (format!("{base}/keys"), |e| {
                matches!(e, IdError::MissingKeyName { .. })
            }),
            (format!("{base}/keys/"), |e| {
                matches!(e, IdError::MissingKeyName { .. })
            }),
            (format!("{base}/keys/k/{V}/wrapkey"), |e| {
                matches!(e, IdError::ExtraSegments { .. })
            }),
            (format!("{base}/keys/k/{V}//"), |e| {
                matches!(e, IdError::ExtraSegments { .. })
            }),
            (format!("{base}/keys/k_1/{V}"), |e| {
                matches!(e, IdError::InvalidKeyName { .. })
            }),
            (format!("{base}/keys//{V}"), |e| {
                matches!(e, IdError::InvalidKeyName { .. })
            }),
            (format!("{base}/keys/k/123"), |e| {
                matches!(e, IdError::InvalidKeyVersion { .. })
            }),
            (format!("{base}/keys/k/{V}?api-version=7.5"), |e| {
                matches!(e, IdError::UnexpectedComponent { .. })
            }),
            ("https://my_vault.vault.azure.net/keys/k".to_owned(), |e| {
                matches!(e, IdError::InvalidVaultName { .. })
            }),
        ];
        for (input, check) in cases {
            let err = input
                .parse::<KeyId>()
                .expect_err(&format!("{input:?} should be rejected"));
            assert!(check(&err), "{input:?} gave {err:?}");
            if !input.is_empty() {
                assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
            }
        }
    }

    #[test]
    fn key_id_equality_ignores_case() {
        let a: KeyId = format!("https://myvault.vault.azure.net/keys/ACI-CMK/{V}")
            .parse()
            .unwrap();
        let b: KeyId = format!(
            "https://MyVault.vault.azure.net/keys/aci-cmk/{}",
            V.to_uppercase()
        )
        .parse()
        .unwrap();
        assert_eq!(a, b);
        let set: HashSet<_> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(
            a.name().as_str(),
            "ACI-CMK",
            "display keeps the name's case"
        );
        assert_ne!(a, a.versionless());
    }

    #[test]
    fn key_id_versions() {
        let kid: KeyId = "https://myvault.vault.azure.net/keys/k".parse().unwrap();
        assert_eq!(kid.version(), None);
        let v: KeyVersion = V.parse().unwrap();
        let versioned = kid.with_version(v.clone());
        assert_eq!(versioned.version(), Some(&v));
        assert_eq!(
            versioned.as_str(),
            format!("https://myvault.vault.azure.net/keys/k/{V}")
        );
        assert_eq!(versioned.versionless(), kid);
        assert_eq!(
            versioned.vault_url().as_str(),
            "https://myvault.vault.azure.net"
        );
        let built = kid.vault_url().key_id(&"k".parse().unwrap(), Some(&v));
        assert_eq!(built, versioned);
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let url: VaultUrl =
            serde_json::from_str(r#""https://testkeyvault.vault.azure.net/""#).unwrap();
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            r#""https://testkeyvault.vault.azure.net""#
        );
        assert!(serde_json::from_str::<VaultUrl>(r#""http://x.vault.azure.net""#).is_err());

        let kid_json = format!(r#""https://myvault.vault.azure.net/keys/aci-cmk/{V}""#);
        let kid: KeyId = serde_json::from_str(&kid_json).unwrap();
        assert_eq!(serde_json::to_string(&kid).unwrap(), kid_json);
        let err = serde_json::from_str::<KeyId>(r#""https://myvault.vault.azure.net/secrets/s""#)
            .unwrap_err();
        assert!(err.to_string().contains("\"keys\" collection"), "{err}");
    }
}
