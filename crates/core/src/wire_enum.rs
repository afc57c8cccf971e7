//! String enums as the services spell them: known values as variants, anything else kept as an
//! `Other(String)` variant so that a response with a value a client does not know still decodes.
//! Parsing ignores case (ARM echoes values in the caller's casing, e.g. `Get` or `UnwrapKey`
//! from the portal); serializing writes the canonical spelling.

/// Declares a wire string enum with `as_str`, `Display`, `FromStr` and serde impls.
///
/// ```
/// aci_cmk_core::wire_enum! {
///     /// A vault firewall's default action.
///     pub enum DefaultAction {
///         /// Let everyone in.
///         Allow => "Allow",
///         /// Keep everyone out but the rules.
///         Deny => "Deny",
///     }
/// }
/// assert_eq!("deny".parse::<DefaultAction>().unwrap(), DefaultAction::Deny);
/// assert_eq!(DefaultAction::parse("Maybe"), DefaultAction::Other("Maybe".into()));
/// assert_eq!(serde_json::to_string(&DefaultAction::Deny).unwrap(), r#""Deny""#);
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know, as the service spelled it.
            Other(String),
        }

        impl $name {
            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value.as_str(),
                }
            }

            /// Parses a value, ignoring case; an unknown value becomes `Other`.
            pub fn parse(value: &str) -> Self {
                $(
                    if value.eq_ignore_ascii_case($wire) {
                        return Self::$variant;
                    }
                )+
                Self::Other(value.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(value))
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::parse(&value))
            }
        }
    };
}
