//! Validated names and GUIDs of the Azure objects this SDK touches.
//!
//! Every type here is a newtype around its string form. Parsing (`FromStr`, `TryFrom<String>`,
//! serde deserialization) checks the naming rule of the service and fails with a [`NameError`]
//! that says which rule was broken and quotes the input. Once a value exists it is known to be
//! valid, so the clients never send a name that Azure would reject with a 400.
//!
//! Rules are checked in a fixed order: empty, length, allowed characters, first character, last
//! character, consecutive hyphens. Lengths and positions count Unicode scalar values (`char`s),
//! and positions start at 0.
//!
//! Equality follows the service: ARM resource names and Key Vault object names are
//! case-insensitive, so [`ResourceGroupName`], [`VaultName`], [`IdentityName`] and [`KeyName`]
//! compare (and hash) ignoring case while keeping the caller's spelling for display. GUIDs,
//! locations and key versions are normalised to lowercase when parsed.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a valid name or id of a given kind.
///
/// `kind` names the thing being parsed (e.g. `"vault name"`), and `input` is the rejected string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The input is the empty string.
    #[error("{kind} must not be empty")]
    Empty {
        /// What was being parsed, e.g. `"vault name"`.
        kind: &'static str,
    },
    /// The input has fewer characters than the rule allows.
    #[error("{kind} {input:?} has {actual} characters but must have at least {min}")]
    TooShort {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The minimum number of characters.
        min: usize,
        /// The number of characters in `input`.
        actual: usize,
    },
    /// The input has more characters than the rule allows.
    #[error("{kind} {input:?} has {actual} characters but must have at most {max}")]
    TooLong {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The maximum number of characters.
        max: usize,
        /// The number of characters in `input`.
        actual: usize,
    },
    /// The input must have an exact number of characters and does not.
    #[error("{kind} {input:?} has {actual} characters but must have exactly {expected}")]
    WrongLength {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The required number of characters.
        expected: usize,
        /// The number of characters in `input`.
        actual: usize,
    },
    /// The input contains a character outside the allowed set.
    #[error(
        "{kind} {input:?} contains {ch:?} at position {position}, but only {allowed} are allowed"
    )]
    InvalidCharacter {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The first offending character.
        ch: char,
        /// Its 0-based position, counted in `char`s.
        position: usize,
        /// A description of the allowed characters.
        allowed: &'static str,
    },
    /// The first character is not one of the allowed first characters.
    #[error("{kind} {input:?} must start with {expected}")]
    MustStartWith {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// A description of the allowed first characters.
        expected: &'static str,
    },
    /// The last character is not one of the allowed last characters.
    #[error("{kind} {input:?} must end with {expected}")]
    MustEndWith {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// A description of the allowed last characters.
        expected: &'static str,
    },
    /// The input ends with a character that is forbidden in last position.
    #[error("{kind} {input:?} must not end with {ch:?}")]
    MustNotEndWith {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
        /// The forbidden last character.
        ch: char,
    },
    /// The input contains `--`.
    #[error("{kind} {input:?} must not contain consecutive hyphens")]
    ConsecutiveHyphens {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
    },
    /// The input is not a GUID in the hyphenated 8-4-4-4-12 form.
    #[error("{kind} {input:?} is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
    NotAGuid {
        /// What was being parsed.
        kind: &'static str,
        /// The rejected input.
        input: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Rule engine
// ---------------------------------------------------------------------------------------------

/// A set of characters with a human description for error messages.
#[derive(Clone, Copy)]
struct CharClass {
    test: fn(char) -> bool,
    description: &'static str,
}

impl CharClass {
    fn contains(self, c: char) -> bool {
        (self.test)(c)
    }
}

const LETTER: CharClass = CharClass {
    test: |c| c.is_ascii_alphabetic(),
    description: "a letter",
};
const LETTER_OR_DIGIT: CharClass = CharClass {
    test: |c| c.is_ascii_alphanumeric(),
    description: "a letter or digit",
};
const LOWER_LETTER_OR_DIGIT: CharClass = CharClass {
    test: |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
    description: "a lowercase letter or digit",
};
const LETTERS_DIGITS_HYPHENS: CharClass = CharClass {
    test: |c| c.is_ascii_alphanumeric() || c == '-',
    description: "ASCII letters, digits and hyphens",
};
const LOWER_LETTERS_DIGITS_HYPHENS: CharClass = CharClass {
    test: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    description: "lowercase ASCII letters, digits and hyphens",
};
const LETTERS_DIGITS_HYPHENS_UNDERSCORES: CharClass = CharClass {
    test: |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    description: "ASCII letters, digits, hyphens and underscores",
};
/// `^[-\w\._\(\)]+$` with .NET's Unicode `\w`, approximated by `char::is_alphanumeric`.
const RESOURCE_GROUP_CHARS: CharClass = CharClass {
    test: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'),
    description: "letters, digits, underscores, hyphens, periods and parentheses",
};
const LETTERS_DIGITS_SPACES: CharClass = CharClass {
    test: |c| c.is_ascii_alphanumeric() || c == ' ',
    description: "ASCII letters, digits and spaces",
};
const HEX_DIGITS: CharClass = CharClass {
    test: |c| c.is_ascii_hexdigit(),
    description: "hexadecimal digits",
};

/// The naming rule of one kind of name, checked by [`NameRule::check`].
#[derive(Clone, Copy)]
struct NameRule {
    kind: &'static str,
    min_len: usize,
    max_len: usize,
    allowed: CharClass,
    first: Option<CharClass>,
    last: Option<CharClass>,
    forbidden_last: Option<char>,
    no_consecutive_hyphens: bool,
}

impl NameRule {
    const fn new(kind: &'static str, min_len: usize, max_len: usize, allowed: CharClass) -> Self {
        Self {
            kind,
            min_len,
            max_len,
            allowed,
            first: None,
            last: None,
            forbidden_last: None,
            no_consecutive_hyphens: false,
        }
    }

    const fn starts_with(mut self, class: CharClass) -> Self {
        self.first = Some(class);
        self
    }

    const fn ends_with(mut self, class: CharClass) -> Self {
        self.last = Some(class);
        self
    }

    const fn must_not_end_with(mut self, ch: char) -> Self {
        self.forbidden_last = Some(ch);
        self
    }

    const fn no_consecutive_hyphens(mut self) -> Self {
        self.no_consecutive_hyphens = true;
        self
    }

    fn check(&self, input: &str) -> Result<(), NameError> {
        let kind = self.kind;
        let owned = || input.to_owned();
        if input.is_empty() {
            return Err(NameError::Empty { kind });
        }
        let actual = input.chars().count();
        if self.min_len == self.max_len && actual != self.min_len {
            return Err(NameError::WrongLength {
                kind,
                input: owned(),
                expected: self.min_len,
                actual,
            });
        }
        if actual < self.min_len {
            return Err(NameError::TooShort {
                kind,
                input: owned(),
                min: self.min_len,
                actual,
            });
        }
        if actual > self.max_len {
            return Err(NameError::TooLong {
                kind,
                input: owned(),
                max: self.max_len,
                actual,
            });
        }
        if let Some((position, ch)) = input
            .chars()
            .enumerate()
            .find(|&(_, c)| !self.allowed.contains(c))
        {
            return Err(NameError::InvalidCharacter {
                kind,
                input: owned(),
                ch,
                position,
                allowed: self.allowed.description,
            });
        }
        if let (Some(class), Some(c)) = (self.first, input.chars().next())
            && !class.contains(c)
        {
            return Err(NameError::MustStartWith {
                kind,
                input: owned(),
                expected: class.description,
            });
        }
        let last = input.chars().next_back();
        if let (Some(class), Some(c)) = (self.last, last)
            && !class.contains(c)
        {
            return Err(NameError::MustEndWith {
                kind,
                input: owned(),
                expected: class.description,
            });
        }
        if let Some(ch) = self.forbidden_last
            && last == Some(ch)
        {
            return Err(NameError::MustNotEndWith {
                kind,
                input: owned(),
                ch,
            });
        }
        if self.no_consecutive_hyphens && input.contains("--") {
            return Err(NameError::ConsecutiveHyphens {
                kind,
                input: owned(),
            });
        }
        Ok(())
    }
}

// The rules, as the services state them.

const RESOURCE_GROUP_NAME: NameRule =
    NameRule::new("resource group name", 1, 90, RESOURCE_GROUP_CHARS).must_not_end_with('.');
const LOCATION: NameRule = NameRule::new("location", 1, 64, LETTERS_DIGITS_SPACES)
    .starts_with(LETTER)
    .ends_with(LETTER_OR_DIGIT);
const VAULT_NAME: NameRule = NameRule::new("vault name", 3, 24, LETTERS_DIGITS_HYPHENS)
    .starts_with(LETTER)
    .ends_with(LETTER_OR_DIGIT)
    .no_consecutive_hyphens();
const KEY_NAME: NameRule = NameRule::new("key name", 1, 127, LETTERS_DIGITS_HYPHENS);
const KEY_VERSION: NameRule = NameRule::new("key version", 32, 32, HEX_DIGITS);
const IDENTITY_NAME: NameRule =
    NameRule::new("identity name", 3, 128, LETTERS_DIGITS_HYPHENS_UNDERSCORES)
        .starts_with(LETTER_OR_DIGIT);
const CONTAINER_GROUP_NAME: NameRule =
    NameRule::new("container group name", 1, 63, LOWER_LETTERS_DIGITS_HYPHENS)
        .starts_with(LOWER_LETTER_OR_DIGIT)
        .ends_with(LOWER_LETTER_OR_DIGIT)
        .no_consecutive_hyphens();
const CONTAINER_NAME: NameRule = NameRule {
    kind: "container name",
    ..CONTAINER_GROUP_NAME
};

/// Parses a hyphenated GUID (any case) and returns it.
fn parse_guid(kind: &'static str, input: &str) -> Result<Uuid, NameError> {
    if input.is_empty() {
        return Err(NameError::Empty { kind });
    }
    // `Uuid::try_parse` also accepts the simple, braced and URN forms; Azure only uses the
    // 36-character hyphenated form, so insist on it.
    match Uuid::try_parse(input) {
        Ok(uuid) if input.len() == 36 => Ok(uuid),
        _ => Err(NameError::NotAGuid {
            kind,
            input: input.to_owned(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Case-insensitive comparison, shared with `resource_id` and `key_id`
// ---------------------------------------------------------------------------------------------

/// Unicode-aware case-insensitive equality, consistent with [`caseless_hash`].
pub(crate) fn caseless_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Hashes the lowercase form of `s` without allocating.
pub(crate) fn caseless_hash<H: Hasher>(s: &str, state: &mut H) {
    for c in s.chars().flat_map(char::to_lowercase) {
        state.write_u32(u32::from(c));
    }
    state.write_u8(0xff);
}

// ---------------------------------------------------------------------------------------------
// Boilerplate shared by every newtype
// ---------------------------------------------------------------------------------------------

/// `as_str`, `Display`, `AsRef<str>`, `FromStr`, `TryFrom<String>`, `TryFrom<&str>` and
/// `From<T> for String`. The type must provide `fn parse_str(&str) -> Result<Self, NameError>`
/// and `fn text(&self) -> &str`.
macro_rules! string_impls {
    ($ty:ident) => {
        impl $ty {
            /// The validated string form.
            pub fn as_str(&self) -> &str {
                self.text()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.text())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.text()
            }
        }

        impl FromStr for $ty {
            type Err = NameError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_str(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse_str(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = NameError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse_str(s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.text().to_owned()
            }
        }
    };
}

/// A name newtype `struct $ty(String)` checked by a [`NameRule`]. `case_insensitive` makes
/// `PartialEq` and `Hash` ignore case; otherwise they are derived.
macro_rules! name_type {
    ($(#[$meta:meta])* $ty:ident, $rule:expr, case_insensitive) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                caseless_eq(&self.0, &other.0)
            }
        }

        impl Hash for $ty {
            fn hash<H: Hasher>(&self, state: &mut H) {
                caseless_hash(&self.0, state);
            }
        }

        name_type!(@common $ty, $rule);
    };
    ($(#[$meta:meta])* $ty:ident, $rule:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        name_type!(@common $ty, $rule);
    };
    (@common $ty:ident, $rule:expr) => {
        impl $ty {
            fn parse_str(s: &str) -> Result<Self, NameError> {
                $rule.check(s)?;
                Ok(Self(s.to_owned()))
            }

            fn text(&self) -> &str {
                &self.0
            }
        }

        string_impls!($ty);
    };
}

/// A GUID newtype, stored in lowercase hyphenated form.
macro_rules! guid_type {
    ($(#[$meta:meta])* $ty:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty {
            uuid: Uuid,
            text: String,
        }

        impl $ty {
            fn parse_str(s: &str) -> Result<Self, NameError> {
                parse_guid($kind, s).map(Self::from)
            }

            fn text(&self) -> &str {
                &self.text
            }

            /// The GUID as a [`Uuid`].
            pub fn as_uuid(&self) -> Uuid {
                self.uuid
            }
        }

        impl From<Uuid> for $ty {
            fn from(uuid: Uuid) -> Self {
                Self {
                    uuid,
                    text: uuid.hyphenated().to_string(),
                }
            }
        }

        impl From<$ty> for Uuid {
            fn from(value: $ty) -> Uuid {
                value.uuid
            }
        }

        string_impls!($ty);
    };
}

// ---------------------------------------------------------------------------------------------
// GUIDs
// ---------------------------------------------------------------------------------------------

guid_type!(
    /// An Azure subscription id: a GUID.
    ///
    /// Accepts the hyphenated 8-4-4-4-12 form in any case and stores it in lowercase, so two
    /// spellings of one GUID are equal. The braced, URN and unhyphenated forms are rejected.
    ///
    /// ```
    /// use aci_cmk_core::names::SubscriptionId;
    ///
    /// let sub: SubscriptionId = "00000000-0000-0000-0000-0000000000AB".parse()?;
    /// assert_eq!(sub.as_str(), "00000000-0000-0000-0000-0000000000ab");
    /// assert!("not-a-guid".parse::<SubscriptionId>().is_err());
    /// # Ok::<(), aci_cmk_core::names::NameError>(())
    /// ```
    SubscriptionId,
    "subscription id"
);

guid_type!(
    /// A Microsoft Entra tenant id: a GUID, rules as for [`SubscriptionId`].
    ///
    /// Entra's token endpoint also accepts a verified domain (`contoso.onmicrosoft.com`) in
    /// place of the tenant GUID, but Key Vault's `tenantId` and access-policy entries require
    /// the GUID, so this type accepts GUIDs only.
    TenantId,
    "tenant id"
);

guid_type!(
    /// The object id of a service principal or managed identity (ARM `principalId`, Graph
    /// `id`, Key Vault access-policy `objectId`): a GUID, rules as for [`SubscriptionId`].
    PrincipalId,
    "principal id"
);

guid_type!(
    /// The client id of a managed identity (ARM `clientId`, the IMDS `client_id=` selector): a
    /// GUID, rules as for [`SubscriptionId`].
    ClientId,
    "client id"
);

guid_type!(
    /// The application id of an Entra application (Graph `appId`): a GUID, rules as for
    /// [`SubscriptionId`].
    AppId,
    "app id"
);

// ---------------------------------------------------------------------------------------------
// ARM names
// ---------------------------------------------------------------------------------------------

name_type!(
    /// A resource group name.
    ///
    /// Rule (ARM spec): 1–90 characters matching `^[-\w\._\(\)]+$`, where `\w` is Unicode
    /// (letters and digits of any script, and `_`); must not end with a period.
    /// Case-insensitive: equality and hashing ignore case, display keeps the caller's case.
    ///
    /// ```
    /// use aci_cmk_core::names::ResourceGroupName;
    ///
    /// let rg: ResourceGroupName = "My-RG_(prod).1".parse()?;
    /// assert_eq!(rg, "my-rg_(PROD).1".parse()?);
    /// assert_eq!(rg.to_string(), "My-RG_(prod).1");
    /// assert_eq!(
    ///     "rg.".parse::<ResourceGroupName>().unwrap_err().to_string(),
    ///     r#"resource group name "rg." must not end with '.'"#,
    /// );
    /// # Ok::<(), aci_cmk_core::names::NameError>(())
    /// ```
    ResourceGroupName,
    RESOURCE_GROUP_NAME,
    case_insensitive
);

/// An Azure region name as ARM uses it, e.g. `eastus` or `westeurope`.
///
/// Rule: the trimmed input is 1–64 ASCII letters, digits and spaces, starting with a letter and
/// ending with a letter or digit; it is then normalised by removing spaces and lowercasing, so
/// the display name `"East US 2"` parses to `eastus2`. The 64-character bound is this crate's
/// sanity limit (real region names are far shorter); ARM documents no maximum.
///
/// ```
/// use aci_cmk_core::names::Location;
///
/// let loc: Location = "West Europe".parse()?;
/// assert_eq!(loc.as_str(), "westeurope");
/// assert_eq!(loc, "westeurope".parse()?);
/// # Ok::<(), aci_cmk_core::names::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Location(String);

impl Location {
    fn parse_str(s: &str) -> Result<Self, NameError> {
        let trimmed = s.trim();
        LOCATION.check(trimmed)?;
        Ok(Self(
            trimmed
                .chars()
                .filter(|&c| c != ' ')
                .map(|c| c.to_ascii_lowercase())
                .collect(),
        ))
    }

    fn text(&self) -> &str {
        &self.0
    }
}

string_impls!(Location);

name_type!(
    /// A user-assigned managed identity name (`Microsoft.ManagedIdentity/userAssignedIdentities`).
    ///
    /// Rule: 3–128 ASCII letters, digits, hyphens and underscores, starting with a letter or
    /// digit. Case-insensitive like every ARM resource name.
    ///
    /// ```
    /// use aci_cmk_core::names::IdentityName;
    ///
    /// assert!("aci-cmk_id".parse::<IdentityName>().is_ok());
    /// assert!("_id".parse::<IdentityName>().is_err());
    /// ```
    IdentityName,
    IDENTITY_NAME,
    case_insensitive
);

name_type!(
    /// A container group name (`Microsoft.ContainerInstance/containerGroups`).
    ///
    /// Rule: 1–63 lowercase ASCII letters, digits and hyphens; must not start or end with a
    /// hyphen; no consecutive hyphens. Uppercase input is rejected rather than lowercased,
    /// because ACI rejects it too.
    ///
    /// ```
    /// use aci_cmk_core::names::ContainerGroupName;
    ///
    /// assert!("cg-1".parse::<ContainerGroupName>().is_ok());
    /// assert_eq!(
    ///     "cg--1".parse::<ContainerGroupName>().unwrap_err().to_string(),
    ///     r#"container group name "cg--1" must not contain consecutive hyphens"#,
    /// );
    /// ```
    ContainerGroupName,
    CONTAINER_GROUP_NAME
);

name_type!(
    /// The name of a container inside a container group.
    ///
    /// Rule: the same as [`ContainerGroupName`]: 1–63 lowercase ASCII letters, digits and
    /// hyphens, not starting or ending with a hyphen, no consecutive hyphens.
    ContainerName,
    CONTAINER_NAME
);

// ---------------------------------------------------------------------------------------------
// Key Vault names
// ---------------------------------------------------------------------------------------------

name_type!(
    /// A Key Vault name; it becomes the first DNS label of the vault URL.
    ///
    /// Rule: 3–24 ASCII letters, digits and hyphens (spec pattern `^[a-zA-Z0-9-]{3,24}$`);
    /// starts with a letter; ends with a letter or digit; no consecutive hyphens (the last three
    /// as enforced by the Terraform provider and the Key Vault docs). Case-insensitive.
    ///
    /// ```
    /// use aci_cmk_core::names::VaultName;
    ///
    /// let vault: VaultName = "MyVault-1".parse()?;
    /// assert_eq!(vault, "myvault-1".parse()?);
    /// assert_eq!(
    ///     "a--b".parse::<VaultName>().unwrap_err().to_string(),
    ///     r#"vault name "a--b" must not contain consecutive hyphens"#,
    /// );
    /// assert!("1vault".parse::<VaultName>().is_err());
    /// # Ok::<(), aci_cmk_core::names::NameError>(())
    /// ```
    VaultName,
    VAULT_NAME,
    case_insensitive
);

name_type!(
    /// A Key Vault key name.
    ///
    /// Rule: 1–127 ASCII letters, digits and hyphens (`^[0-9a-zA-Z-]+$`, Key Vault spec and
    /// docs). Some older revisions of the docs add "starting with a letter"; the spec pattern and
    /// the current docs do not, so neither does this type. Key Vault object identifiers compare
    /// case-insensitively, and so does this type.
    ///
    /// ```
    /// use aci_cmk_core::names::KeyName;
    ///
    /// let key: KeyName = "aci-cmk".parse()?;
    /// assert_eq!(key, "ACI-CMK".parse()?);
    /// assert!("aci_cmk".parse::<KeyName>().is_err());
    /// # Ok::<(), aci_cmk_core::names::NameError>(())
    /// ```
    KeyName,
    KEY_NAME,
    case_insensitive
);

/// A Key Vault key version, as Key Vault issues it: 32 hexadecimal digits.
///
/// Rule: exactly 32 hex digits. Uppercase input is accepted and lowercased (Key Vault issues
/// lowercase versions and compares identifiers case-insensitively), so equality is
/// case-insensitive and the string form is always lowercase.
///
/// ```
/// use aci_cmk_core::names::KeyVersion;
///
/// let v: KeyVersion = "78DEEBED173B48E48F55ABF87ED4CF71".parse()?;
/// assert_eq!(v.as_str(), "78deebed173b48e48f55abf87ed4cf71");
/// assert!("78deebed".parse::<KeyVersion>().is_err());
/// # Ok::<(), aci_cmk_core::names::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyVersion(String);

impl KeyVersion {
    fn parse_str(s: &str) -> Result<Self, NameError> {
        KEY_VERSION.check(s)?;
        Ok(Self(s.to_ascii_lowercase()))
    }

    fn text(&self) -> &str {
        &self.0
    }
}

string_impls!(KeyVersion);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    type Check = fn(&NameError) -> bool;

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        h.finish()
    }

    /// Asserts that each `ok` input parses and round-trips through Display, and that each `bad`
    /// input fails with an error matching the predicate.
    fn check_table<T>(ok: &[&str], bad: &[(&str, Check)])
    where
        T: FromStr<Err = NameError> + fmt::Display + fmt::Debug + PartialEq,
    {
        for input in ok {
            let parsed: T = input
                .parse()
                .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
            let again: T = parsed.to_string().parse().unwrap();
            assert_eq!(parsed, again, "round trip of {input:?}");
        }
        for (input, matches) in bad {
            let err = input
                .parse::<T>()
                .expect_err(&format!("{input:?} should be rejected"));
            assert!(matches(&err), "{input:?} gave unexpected error {err:?}");
            let message = err.to_string();
            if !matches!(err, NameError::Empty { .. }) {
                assert!(
                    message.contains(&format!("{input:?}")),
                    "message {message:?} quotes the input"
                );
            }
        }
    }

    fn empty(e: &NameError) -> bool {
        matches!(e, NameError::Empty { .. })
    }
    fn too_short(e: &NameError) -> bool {
        matches!(e, NameError::TooShort { .. })
    }
    fn too_long(e: &NameError) -> bool {
        matches!(e, NameError::TooLong { .. })
    }
    fn wrong_length(e: &NameError) -> bool {
        matches!(e, NameError::WrongLength { .. })
    }
    fn bad_char(e: &NameError) -> bool {
        matches!(e, NameError::InvalidCharacter { .. })
    }
    fn bad_start(e: &NameError) -> bool {
        matches!(e, NameError::MustStartWith { .. })
    }
    fn bad_end(e: &NameError) -> bool {
        matches!(e, NameError::MustEndWith { .. })
    }
    fn ends_with_period(e: &NameError) -> bool {
        matches!(e, NameError::MustNotEndWith { ch: '.', .. })
    }
    fn double_hyphen(e: &NameError) -> bool {
        matches!(e, NameError::ConsecutiveHyphens { .. })
    }
    fn not_guid(e: &NameError) -> bool {
        matches!(e, NameError::NotAGuid { .. })
    }

    #[test]
    fn vault_name_rules() {
        let max = "a".repeat(24);
        let over = "a".repeat(25);
        check_table::<VaultName>(
            &["abc", "a-b", "a1b", "ABC", "Vault-9", &max],
            &[
                ("", empty),
                ("ab", too_short),
                (&over, too_long),
                ("1ab", bad_start),
                ("-ab", bad_start),
                ("ab-", bad_end),
                ("a--b", double_hyphen),
                ("a_b", bad_char),
                ("a.b", bad_char),
                ("aéb", bad_char),
                ("a b", bad_char),
            ],
        );
    }

    #[test]
    fn vault_name_messages() {
        let cases: &[(&str, &str)] = &[
            (
                "a--b",
                r#"vault name "a--b" must not contain consecutive hyphens"#,
            ),
            (
                "ab",
                r#"vault name "ab" has 2 characters but must have at least 3"#,
            ),
            ("1ab", r#"vault name "1ab" must start with a letter"#),
            ("ab-", r#"vault name "ab-" must end with a letter or digit"#),
            (
                "a_b",
                r#"vault name "a_b" contains '_' at position 1, but only ASCII letters, digits and hyphens are allowed"#,
            ),
            ("", "vault name must not be empty"),
        ];
        for (input, expected) in cases {
            let err = input.parse::<VaultName>().unwrap_err();
            assert_eq!(err.to_string(), *expected);
        }
    }

    #[test]
    fn invalid_character_position_counts_chars() {
        let err = "aé_b".parse::<VaultName>().unwrap_err();
        assert_eq!(
            err,
            NameError::InvalidCharacter {
                kind: "vault name",
                input: "aé_b".into(),
                ch: 'é',
                position: 1,
                allowed: "ASCII letters, digits and hyphens",
            }
        );
    }

    #[test]
    fn resource_group_rules() {
        let max = "r".repeat(90);
        let over = "r".repeat(91);
        let unicode_max = "é".repeat(90);
        check_table::<ResourceGroupName>(
            &[
                "a",
                "rg",
                "my-rg_1.(x)",
                "(rg)",
                ".rg",
                "-rg",
                "_",
                "ресурсы",
                "日本",
                &max,
                &unicode_max,
            ],
            &[
                ("", empty),
                (&over, too_long),
                ("rg.", ends_with_period),
                (".", ends_with_period),
                ("rg/x", bad_char),
                ("rg x", bad_char),
                ("rg#", bad_char),
                ("rg!", bad_char),
            ],
        );
    }

    #[test]
    fn case_insensitive_names_hash_alike() {
        let a: ResourceGroupName = "My-RG".parse().unwrap();
        let b: ResourceGroupName = "my-rg".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(a.as_str(), "My-RG");

        let u1: ResourceGroupName = "ÄRG".parse().unwrap();
        let u2: ResourceGroupName = "ärg".parse().unwrap();
        assert_eq!(u1, u2);
        assert_eq!(hash_of(&u1), hash_of(&u2));

        let v1: VaultName = "MyVault".parse().unwrap();
        let v2: VaultName = "myvault".parse().unwrap();
        assert_eq!(v1, v2);
        assert_eq!(hash_of(&v1), hash_of(&v2));
        assert_ne!(v1, "myvault2".parse::<VaultName>().unwrap());

        let i1: IdentityName = "Id-One".parse().unwrap();
        assert_eq!(i1, "id-one".parse::<IdentityName>().unwrap());
        let k1: KeyName = "Key".parse().unwrap();
        assert_eq!(hash_of(&k1), hash_of(&"KEY".parse::<KeyName>().unwrap()));
    }

    #[test]
    fn location_rules() {
        check_table::<Location>(
            &[
                "eastus",
                "westeurope",
                "eastus2",
                "East US",
                "East US 2",
                " westus ",
            ],
            &[
                ("", empty),
                ("   ", empty),
                ("east-us", bad_char),
                ("east_us", bad_char),
                ("2east", bad_start),
                ("éast", bad_char),
                (&"a".repeat(65), too_long),
            ],
        );
        let cases = [
            ("East US", "eastus"),
            ("East US 2", "eastus2"),
            ("WESTEUROPE", "westeurope"),
            ("  North  Europe ", "northeurope"),
        ];
        for (input, normal) in cases {
            assert_eq!(input.parse::<Location>().unwrap().as_str(), normal);
        }
        assert!("a".repeat(64).parse::<Location>().is_ok());
    }

    #[test]
    fn key_name_rules() {
        let max = "k".repeat(127);
        let over = "k".repeat(128);
        check_table::<KeyName>(
            &["k", "aci-cmk", "1key", "-key-", "Key--1", &max],
            &[
                ("", empty),
                (&over, too_long),
                ("aci_cmk", bad_char),
                ("aci.cmk", bad_char),
                ("aci/cmk", bad_char),
                ("ключ", bad_char),
            ],
        );
    }

    #[test]
    fn key_version_rules() {
        let v = "78deebed173b48e48f55abf87ed4cf71";
        check_table::<KeyVersion>(
            &[v, "78DEEBED173B48E48F55ABF87ED4CF71", &"0".repeat(32)],
            &[
                ("", empty),
                (&v[..31], wrong_length),
                (&format!("{v}0"), wrong_length),
                ("78deebed173b48e48f55abf87ed4cf7g", bad_char),
                ("78deebed-173b-48e4-8f55-abf87ed4", bad_char),
            ],
        );
        let upper: KeyVersion = v.to_uppercase().parse().unwrap();
        assert_eq!(upper.as_str(), v);
        assert_eq!(upper, v.parse().unwrap());
    }

    #[test]
    fn identity_name_rules() {
        let max = "i".repeat(128);
        let over = "i".repeat(129);
        check_table::<IdentityName>(
            &["abc", "1ab", "a_b-c", "ab_", "ab-", &max],
            &[
                ("", empty),
                ("ab", too_short),
                (&over, too_long),
                ("_ab", bad_start),
                ("-ab", bad_start),
                ("a.b", bad_char),
                ("a b", bad_char),
                ("äbc", bad_char),
            ],
        );
    }

    #[test]
    fn container_group_and_container_name_rules() {
        let max = "c".repeat(63);
        let over = "c".repeat(64);
        let ok: &[&str] = &["a", "1", "cg-1", "my-container-group", &max];
        let bad: &[(&str, Check)] = &[
            ("", empty),
            (&over, too_long),
            ("-cg", bad_start),
            ("cg-", bad_end),
            ("-", bad_start),
            ("cg--1", double_hyphen),
            ("Cg", bad_char),
            ("cg_1", bad_char),
            ("cg.1", bad_char),
            ("çg", bad_char),
        ];
        check_table::<ContainerGroupName>(ok, bad);
        check_table::<ContainerName>(ok, bad);
        let err = "Cg".parse::<ContainerName>().unwrap_err();
        assert!(err.to_string().starts_with("container name "), "{err}");
    }

    #[test]
    fn guid_rules() {
        let g = "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9";
        let bad: &[(&str, Check)] = &[
            ("", empty),
            ("not-a-guid", not_guid),
            ("6bb8e274af5d4df298a34fd78b4cafd9", not_guid),
            ("{6bb8e274-af5d-4df2-98a3-4fd78b4cafd9}", not_guid),
            ("urn:uuid:6bb8e274-af5d-4df2-98a3-4fd78b4cafd9", not_guid),
            ("6bb8e274-af5d-4df2-98a3-4fd78b4cafdg", not_guid),
            ("6bb8e274-af5d-4df2-98a3-4fd78b4cafd", not_guid),
            (" 6bb8e274-af5d-4df2-98a3-4fd78b4cafd9", not_guid),
            ("contoso.onmicrosoft.com", not_guid),
        ];
        let ok: &[&str] = &[g, "6BB8E274-AF5D-4DF2-98A3-4FD78B4CAFD9"];
        check_table::<SubscriptionId>(ok, bad);
        check_table::<TenantId>(ok, bad);
        check_table::<PrincipalId>(ok, bad);
        check_table::<ClientId>(ok, bad);
        check_table::<AppId>(ok, bad);

        let upper: AppId = g.to_uppercase().parse().unwrap();
        assert_eq!(upper.as_str(), g);
        assert_eq!(upper, g.parse().unwrap());
        assert_eq!(upper.as_uuid(), Uuid::parse_str(g).unwrap());
        assert_eq!(AppId::from(upper.as_uuid()), upper);
        assert_eq!(
            "x".parse::<TenantId>().unwrap_err().to_string(),
            r#"tenant id "x" is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"#
        );
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let vault: VaultName = serde_json::from_str(r#""MyVault""#).unwrap();
        assert_eq!(serde_json::to_string(&vault).unwrap(), r#""MyVault""#);
        let err = serde_json::from_str::<VaultName>(r#""a--b""#).unwrap_err();
        assert!(err.to_string().contains("consecutive hyphens"), "{err}");

        let sub: SubscriptionId =
            serde_json::from_str(r#""00000000-0000-0000-0000-00000000000A""#).unwrap();
        assert_eq!(
            serde_json::to_string(&sub).unwrap(),
            r#""00000000-0000-0000-0000-00000000000a""#
        );
        assert!(serde_json::from_str::<SubscriptionId>(r#""nope""#).is_err());
        assert!(serde_json::from_str::<SubscriptionId>("42").is_err());

        let loc: Location = serde_json::from_str(r#""East US""#).unwrap();
        assert_eq!(serde_json::to_string(&loc).unwrap(), r#""eastus""#);
        assert!(serde_json::from_str::<ContainerGroupName>(r#""CG""#).is_err());
        assert!(serde_json::from_str::<KeyVersion>(r#""abc""#).is_err());
        let rg: ResourceGroupName = serde_json::from_str(r#""rg(1)""#).unwrap();
        assert_eq!(serde_json::to_value(&rg).unwrap(), "rg(1)");
    }

    #[test]
    fn conversions() {
        let name = KeyName::try_from("k1".to_owned()).unwrap();
        assert_eq!(name.as_ref(), "k1");
        assert_eq!(String::from(name.clone()), "k1");
        assert_eq!(KeyName::try_from("k1").unwrap(), name);
        assert!(KeyName::try_from("k_1").is_err());
    }
}
