//! A string that must not end up in logs: client secrets, ACI `secureValue` environment values,
//! identity headers.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use azure_core::credentials::Secret;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What `Debug` and `Display` print instead of the value.
const REDACTED: &str = "***";

/// A secret string whose `Debug` and `Display` print `***`.
///
/// It wraps [`azure_core::credentials::Secret`], so it converts to and from the type that
/// `azure_identity` credentials take, and inherits its constant-time `PartialEq`. The wrapper
/// exists because `Secret` prints `Secret` rather than `***`, has no `Display` (so a secret in a
/// format string is a compile error there, but `{}` in an error message is common here and must
/// be safe), only converts from `&'static str`, and serializes as a newtype.
///
/// Serde writes and reads the real value, because it has to go on the wire (ACI
/// `secureValue`, a token request's `client_secret`). Keep that in mind before serializing a
/// struct holding one into a log line. `Hash` is deliberately not implemented.
///
/// ```
/// use aci_cmk_core::secret::SecretString;
///
/// let secret = SecretString::from("hunter2");
/// assert_eq!(format!("{secret:?} {secret}"), "*** ***");
/// assert_eq!(secret.expose_secret(), "hunter2");
/// assert_eq!(serde_json::to_string(&secret)?, r#""hunter2""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Secret);

impl SecretString {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Secret::new(value.into()))
    }

    /// The secret value. Call this only where the value is sent or compared, never to log it.
    pub fn expose_secret(&self) -> &str {
        self.0.secret()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose_secret().is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<Secret> for SecretString {
    fn from(value: Secret) -> Self {
        Self(value)
    }
}

impl From<SecretString> for Secret {
    fn from(value: SecretString) -> Self {
        value.0
    }
}

/// Never fails; lets a `SecretString` be parsed from an environment variable or a CLI flag.
impl FromStr for SecretString {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const CANARY: &str = "s3cr3t-canary-value";

    #[derive(Debug, Serialize, Deserialize)]
    struct EnvVar {
        name: String,
        #[serde(rename = "secureValue")]
        secure_value: SecretString,
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = SecretString::from(CANARY);
        let cases = [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret}"),
            format!("{:?}", Some(secret.clone())),
            format!(
                "{:?}",
                EnvVar {
                    name: "X".into(),
                    secure_value: secret.clone(),
                }
            ),
        ];
        for printed in cases {
            assert!(!printed.contains(CANARY), "{printed}");
            assert!(printed.contains("***"), "{printed}");
        }
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(secret.to_string(), "***");
    }

    #[test]
    fn exposes_and_converts() {
        let from_string = SecretString::from(CANARY.to_owned());
        let from_str = SecretString::from(CANARY);
        let parsed: SecretString = CANARY.parse().unwrap_or_else(|e: Infallible| match e {});
        assert_eq!(from_string.expose_secret(), CANARY);
        assert_eq!(from_string, from_str);
        assert_eq!(from_str, parsed);
        assert_ne!(from_str, SecretString::from("other"));
        assert_ne!(from_str, SecretString::from(&CANARY[1..]));
        assert!(SecretString::from("").is_empty());
        assert!(!from_str.is_empty());

        let azure: Secret = from_str.clone().into();
        assert_eq!(azure.secret(), CANARY);
        assert_eq!(SecretString::from(azure), from_str);
    }

    #[test]
    fn serde_writes_and_reads_the_value() {
        let json = format!(r#"{{"name":"X","secureValue":"{CANARY}"}}"#);
        let var: EnvVar = serde_json::from_str(&json).unwrap();
        assert_eq!(var.secure_value.expose_secret(), CANARY);
        assert_eq!(serde_json::to_string(&var).unwrap(), json);
        assert!(serde_json::from_str::<SecretString>("42").is_err());
    }
}
