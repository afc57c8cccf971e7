//! Property tests of the parsers that take outside input: names, resource ids, key ids and the
//! error envelopes. Arbitrary input never panics and fails with a typed error; generated valid
//! values round-trip through `Display` and `FromStr`; case-insensitive equality agrees with
//! hashing.

use aci_cmk_core::{
    Error, ServiceError,
    key_id::{KeyId, VaultUrl},
    names::{
        AppId, ClientId, ContainerGroupName, ContainerName, IdentityName, KeyName, KeyVersion,
        Location, PrincipalId, ResourceGroupName, SubscriptionId, TenantId, VaultName,
    },
    resource_id::ResourceId,
};
use azure_core::http::{StatusCode, headers::Headers};
use proptest::prelude::*;
use serde_json::Value;
use std::{
    collections::hash_map::DefaultHasher,
    fmt::{Debug, Display},
    hash::{Hash, Hasher},
    str::FromStr,
};

/// Modest case counts: the whole workspace's tests run on two cores.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Strings that reach past the first checks: mostly name-like characters, path separators,
/// URL punctuation, a few non-ASCII letters and controls.
fn near_valid() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9_.()/: ?#%-]{0,140}",
        "[a-zA-Z0-9éÄßİ\u{212A}日\u{0}\u{7f}-]{0,40}",
    ]
}

/// Parsing `s` never panics; when it succeeds, the value's display parses back to an equal
/// value with the same display.
fn parse_is_total<T>(s: &str)
where
    T: FromStr + Display + PartialEq + Debug,
    T::Err: Display + Debug,
{
    match s.parse::<T>() {
        Ok(value) => {
            let shown = value.to_string();
            let again: T = shown
                .parse()
                .unwrap_or_else(|e| panic!("{s:?} parsed, but its display {shown:?} did not: {e}"));
            assert_eq!(again, value, "{s:?}");
            assert_eq!(again.to_string(), shown, "display is canonical for {s:?}");
        }
        Err(e) => {
            // The error's message names what went wrong; rendering it must not panic either.
            assert!(!e.to_string().is_empty());
            let _ = format!("{e:?}");
        }
    }
}

/// `valid` parses, displays as `expected`, and round-trips.
fn round_trips<T>(valid: &str, expected: &str)
where
    T: FromStr + Display + PartialEq + Debug,
    T::Err: Display,
{
    let value: T = valid
        .parse()
        .unwrap_or_else(|e| panic!("{valid:?} should parse: {e}"));
    assert_eq!(value.to_string(), expected);
    let again: T = expected.parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, value);
}

/// Flips the case of the ASCII letters of `s` where `mask` says so.
fn flip_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask.rotate_left(i as u32) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Case-insensitive equality: every case spelling of `s` is equal and hashes alike, keeps its
/// own spelling, and a value is equal to another exactly when their lowercase forms are.
fn caseless<T>(s: &str, mask: u64, other: &str)
where
    T: FromStr + Display + PartialEq + Hash + Debug,
    T::Err: Display,
{
    let a: T = s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
    let flipped = flip_case(s, mask);
    let b: T = flipped
        .parse()
        .unwrap_or_else(|e| panic!("{flipped:?}: {e}"));
    assert_eq!(a, b);
    assert_eq!(hash_of(&a), hash_of(&b));
    assert_eq!(b.to_string(), flipped, "the caller's spelling is kept");
    if let Ok(c) = other.parse::<T>() {
        assert_eq!(
            a == c,
            s.to_lowercase() == other.to_lowercase(),
            "{s:?} vs {other:?}"
        );
        if a == c {
            assert_eq!(hash_of(&a), hash_of(&c));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators of valid values
// ---------------------------------------------------------------------------------------------

fn vault_name() -> impl Strategy<Value = String> {
    "[a-zA-Z](-?[a-zA-Z0-9]){2,11}"
}

fn key_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9-]{1,127}"
}

fn key_version() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{32}"
}

fn identity_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}"
}

fn container_group_name() -> impl Strategy<Value = String> {
    "[a-z0-9](-?[a-z0-9]){0,30}"
}

/// Resource group names, with letters whose case maps round-trip (`é`/`É`, `ё`/`Ё`) and one
/// without case (`日`).
fn resource_group_name() -> impl Strategy<Value = String> {
    "[-a-zA-Z0-9_.()éÄёЖ日]{0,89}[-a-zA-Z0-9_()éÄёЖ日]"
}

fn location() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z]", "[a-zA-Z][a-zA-Z0-9 ]{0,60}[a-zA-Z0-9]"]
}

fn guid(upper: bool) -> impl Strategy<Value = String> {
    any::<u128>().prop_map(move |n| {
        let text = uuid::Uuid::from_u128(n).hyphenated().to_string();
        if upper { text.to_uppercase() } else { text }
    })
}

/// A provider namespace such as `Microsoft.KeyVault`.
fn namespace() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{0,8}(\\.[A-Za-z0-9]{1,8}){0,2}"
}

/// A resource type segment; never the keyword `providers`.
fn resource_type() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,10}"
        .prop_filter("not a keyword", |t| !t.eq_ignore_ascii_case("providers"))
}

/// A resource name: anything but `/`, `?`, `#` and control characters.
fn resource_name(wide: bool) -> BoxedStrategy<String> {
    if wide {
        "[^/?#\\p{Cc}]{1,12}".boxed()
    } else {
        "[a-zA-Z0-9 ._()éЖ~!$&'*+,;=:@-]{1,12}".boxed()
    }
}

/// A valid resource id (keywords in random case, subscription upper-cased, maybe a trailing
/// slash) and its canonical form. `wide` names use any allowed character; narrow ones only
/// characters whose case maps round-trip.
fn resource_id(wide: bool) -> impl Strategy<Value = (String, String)> {
    let block = (
        namespace(),
        prop::collection::vec((resource_type(), resource_name(wide)), 1..3),
    );
    (
        guid(false),
        prop::option::of(resource_group_name()),
        prop::collection::vec(block, 0..3),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(sub, rg, blocks, trailing, mask)| {
            let mut canonical = format!("/subscriptions/{sub}");
            let mut input = format!(
                "/{}/{}",
                flip_case("subscriptions", mask),
                sub.to_uppercase()
            );
            if let Some(rg) = &rg {
                canonical.push_str(&format!("/resourceGroups/{rg}"));
                input.push_str(&format!("/{}/{rg}", flip_case("resourcegroups", mask >> 7)));
            }
            for (namespace, types) in &blocks {
                canonical.push_str(&format!("/providers/{namespace}"));
                input.push_str(&format!(
                    "/{}/{namespace}",
                    flip_case("providers", mask >> 3)
                ));
                for (ty, name) in types {
                    canonical.push_str(&format!("/{ty}/{name}"));
                    input.push_str(&format!("/{ty}/{name}"));
                }
            }
            if trailing {
                input.push('/');
            }
            (input, canonical)
        })
}

/// Random path segments of resource-id vocabulary, to reach every branch of the parser.
fn resource_id_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("subscriptions".to_owned()),
        Just("resourceGroups".to_owned()),
        Just("RESOURCEGROUPS".to_owned()),
        Just("providers".to_owned()),
        Just("Microsoft.KeyVault".to_owned()),
        Just("vaults".to_owned()),
        Just(String::new()),
        guid(false),
        "[a-zA-Z0-9._()%-]{1,8}",
        any::<String>(),
    ];
    (
        prop::collection::vec(segment, 0..10),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(segments, lead, trail)| {
            let mut s = if lead { "/".to_owned() } else { String::new() };
            s.push_str(&segments.join("/"));
            if trail {
                s.push('/');
            }
            s
        })
}

/// A DNS suffix: labels starting with a letter (an all-digit last label reads as IPv4).
fn dns_suffix() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,8}(\\.[a-z][a-z0-9]{0,8}){0,3}"
}

/// A valid key id (random case, optional version, port and trailing slash) and its
/// canonical form.
fn key_id() -> impl Strategy<Value = (String, String)> {
    (
        vault_name(),
        dns_suffix(),
        prop::option::of(1u16..),
        key_name(),
        prop::option::of(key_version()),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(vault, suffix, port, name, version, trailing, mask)| {
            let port_text = match port {
                Some(443) | None => String::new(),
                Some(p) => format!(":{p}"),
            };
            let host = format!("{}.{suffix}", vault.to_lowercase());
            let mut canonical = format!("https://{host}{port_text}/keys/{name}");
            let mut input = format!(
                "{}://{}{}/{}/{name}",
                flip_case("https", mask),
                flip_case(&host, mask >> 5),
                port.map(|p| format!(":{p}")).unwrap_or_default(),
                flip_case("keys", mask >> 11),
            );
            if let Some(v) = &version {
                canonical.push_str(&format!("/{}", v.to_lowercase()));
                input.push_str(&format!("/{v}"));
            }
            if trailing {
                input.push('/');
            }
            (input, canonical)
        })
}

/// Strings shaped like key ids, with the parts that break them.
fn key_id_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("")
    ];
    let host = prop_oneof![
        "[a-z0-9-]{0,26}(\\.[a-z0-9]{0,6}){0,3}",
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        any::<String>(),
    ];
    let port = prop_oneof![Just(String::new()), "\\:[0-9]{0,6}"];
    let segment = prop_oneof![
        Just("keys".to_owned()),
        Just("secrets".to_owned()),
        key_name(),
        key_version(),
        Just(String::new()),
        Just("..".to_owned()),
        "[a-zA-Z0-9%?#@.-]{0,8}",
    ];
    (
        scheme,
        host,
        port,
        prop::collection::vec(segment, 0..5),
        any::<bool>(),
    )
        .prop_map(|(scheme, host, port, segments, user)| {
            let user = if user { "u:p@" } else { "" };
            format!("{scheme}{user}{host}{port}/{}", segments.join("/"))
        })
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn name_parsers_are_total(s in near_valid()) {
        parse_is_total::<ResourceGroupName>(&s);
        parse_is_total::<Location>(&s);
        parse_is_total::<IdentityName>(&s);
        parse_is_total::<ContainerGroupName>(&s);
        parse_is_total::<ContainerName>(&s);
        parse_is_total::<VaultName>(&s);
        parse_is_total::<KeyName>(&s);
        parse_is_total::<KeyVersion>(&s);
        parse_is_total::<SubscriptionId>(&s);
        parse_is_total::<TenantId>(&s);
        parse_is_total::<PrincipalId>(&s);
        parse_is_total::<ClientId>(&s);
        parse_is_total::<AppId>(&s);
    }

    #[test]
    fn names_deserialize_from_any_json_string_without_panic(s in near_valid()) {
        let json = Value::String(s);
        let _ = serde_json::from_value::<VaultName>(json.clone());
        let _ = serde_json::from_value::<ResourceGroupName>(json.clone());
        let _ = serde_json::from_value::<Location>(json.clone());
        let _ = serde_json::from_value::<KeyVersion>(json.clone());
        let _ = serde_json::from_value::<SubscriptionId>(json);
    }

    #[test]
    fn valid_names_round_trip(
        vault in vault_name(),
        key in key_name(),
        identity in identity_name(),
        group in container_group_name(),
        rg in resource_group_name(),
    ) {
        round_trips::<VaultName>(&vault, &vault);
        round_trips::<KeyName>(&key, &key);
        round_trips::<IdentityName>(&identity, &identity);
        round_trips::<ContainerGroupName>(&group, &group);
        round_trips::<ContainerName>(&group, &group);
        round_trips::<ResourceGroupName>(&rg, &rg);
    }

    #[test]
    fn normalised_names_round_trip(
        version in key_version(),
        loc in location(),
        sub in guid(true),
        padding in " {0,3}",
    ) {
        round_trips::<KeyVersion>(&version, &version.to_lowercase());
        let normal: String = loc.chars().filter(|c| *c != ' ').collect::<String>().to_lowercase();
        round_trips::<Location>(&format!("{padding}{loc}{padding}"), &normal);
        round_trips::<SubscriptionId>(&sub, &sub.to_lowercase());
        round_trips::<TenantId>(&sub, &sub.to_lowercase());
        round_trips::<PrincipalId>(&sub, &sub.to_lowercase());
        round_trips::<ClientId>(&sub, &sub.to_lowercase());
        round_trips::<AppId>(&sub, &sub.to_lowercase());
    }

    #[test]
    fn case_insensitive_names(
        vault in vault_name(),
        key in key_name(),
        identity in identity_name(),
        rg in resource_group_name(),
        mask in any::<u64>(),
        other in "[a-zA-Z][a-zA-Z0-9]{2,6}",
    ) {
        caseless::<VaultName>(&vault, mask, &other);
        caseless::<KeyName>(&key, mask, &other);
        caseless::<IdentityName>(&identity, mask, &other);
        caseless::<ResourceGroupName>(&rg, mask, &other);
        // Unicode letters of a resource group name compare ignoring case too.
        let upper = rg.to_uppercase();
        let a: ResourceGroupName = rg.parse().expect("valid");
        let b: ResourceGroupName = upper.parse().expect("upper-cased is valid");
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(hash_of(&a), hash_of(&b));
        // Normalised names: every spelling gives the same text.
        let version = "0123456789abcdefABCDEF0123456789";
        let v1: KeyVersion = flip_case(version, mask).parse().expect("valid");
        let v2: KeyVersion = version.parse().expect("valid");
        prop_assert_eq!(v1.as_str(), v2.as_str());
        prop_assert_eq!(hash_of(&v1), hash_of(&v2));
    }

    // -----------------------------------------------------------------------------------------
    // Resource ids
    // -----------------------------------------------------------------------------------------

    #[test]
    fn resource_id_parser_is_total(s in prop_oneof![resource_id_like(), near_valid()]) {
        parse_is_total::<ResourceId>(&s);
        if let Ok(id) = s.parse::<ResourceId>() {
            // The accessors and the walk up to the subscription never panic either.
            let _ = (id.name(), id.resource_type(), id.provider_namespace());
            let mut next = id.parent();
            let mut hops = 0;
            while let Some(parent) = next {
                hops += 1;
                prop_assert!(hops < 64, "parent chain of {s:?} does not end");
                parse_is_total::<ResourceId>(parent.as_str());
                next = parent.parent();
            }
        }
    }

    #[test]
    fn valid_resource_ids_round_trip((input, canonical) in resource_id(true)) {
        let id: ResourceId = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        prop_assert_eq!(id.as_str(), canonical.as_str());
        round_trips::<ResourceId>(&canonical, &canonical);
        let json = serde_json::to_value(&id).expect("serializes");
        prop_assert_eq!(serde_json::from_value::<ResourceId>(json).expect("deserializes"), id);
    }

    #[test]
    fn resource_ids_compare_ignoring_case(
        (input, canonical) in resource_id(false),
        (other, _) in resource_id(false),
    ) {
        let id: ResourceId = canonical.parse().expect("valid");
        let upper: ResourceId = input.to_uppercase().parse().expect("upper-cased is valid");
        let lower: ResourceId = input.to_lowercase().parse().expect("lower-cased is valid");
        prop_assert_eq!(&id, &upper);
        prop_assert_eq!(&id, &lower);
        prop_assert_eq!(hash_of(&id), hash_of(&upper));
        prop_assert_eq!(hash_of(&id), hash_of(&lower));
        let other: ResourceId = other.parse().expect("valid");
        prop_assert_eq!(
            id == other,
            id.as_str().to_lowercase() == other.as_str().to_lowercase()
        );
    }

    #[test]
    fn resource_id_builders_are_total(
        sub in guid(false),
        rg in resource_group_name(),
        namespace in near_valid(),
        ty in near_valid(),
        name in near_valid(),
    ) {
        let sub: SubscriptionId = sub.parse().expect("valid");
        let rg: ResourceGroupName = rg.parse().expect("valid");
        if let Ok(id) = ResourceId::resource(&sub, &rg, &namespace, &ty, &name) {
            round_trips::<ResourceId>(id.as_str(), id.as_str());
            if let Ok(child) = id.child(&ty, &name) {
                round_trips::<ResourceId>(child.as_str(), child.as_str());
                prop_assert_eq!(child.parent(), Some(id));
            }
        }
        prop_assert!(ResourceId::subscription(&sub).child("x", "y").is_err());
    }

    // -----------------------------------------------------------------------------------------
    // Key ids and vault URLs
    // -----------------------------------------------------------------------------------------

    #[test]
    fn key_id_parsers_are_total(s in prop_oneof![key_id_like(), near_valid()]) {
        parse_is_total::<KeyId>(&s);
        parse_is_total::<VaultUrl>(&s);
    }

    #[test]
    fn valid_key_ids_round_trip((input, canonical) in key_id(), mask in any::<u64>()) {
        let kid: KeyId = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        prop_assert_eq!(kid.as_str(), canonical.as_str());
        round_trips::<KeyId>(&canonical, &canonical);
        // The vault part is a vault URL of its own, and the versionless id is a prefix.
        round_trips::<VaultUrl>(kid.vault_url().as_str(), kid.vault_url().as_str());
        prop_assert!(canonical.starts_with(kid.versionless().as_str()));
        // Key Vault compares identifiers ignoring case; so do we, hashes included.
        let recased: KeyId = flip_case(&canonical, mask).parse().expect("re-cased is valid");
        prop_assert_eq!(&recased, &kid);
        prop_assert_eq!(hash_of(&recased), hash_of(&kid));
    }

    // -----------------------------------------------------------------------------------------
    // Error envelopes
    // -----------------------------------------------------------------------------------------

    #[test]
    fn error_parser_takes_any_bytes(body in prop::collection::vec(any::<u8>(), 0..700), status in 100u16..600) {
        let _ = ServiceError::from_body(&body);
        check_error(status, &body);
    }

    #[test]
    fn error_parser_takes_any_json(value in envelope_like(), status in 100u16..600) {
        let body = serde_json::to_vec(&value).expect("serializes");
        let parsed = ServiceError::from_body(&body);
        // Only an object with an `error` object or code is an envelope (or serde's positional
        // array form of one); anything else falls back to the body text (see `check_error`).
        if parsed.is_some() {
            prop_assert!(value.is_object() || value.is_array(), "{}", value);
        }
        if let Some(Value::Object(detail)) = value.get("error")
            && detail.values().all(Value::is_null)
            && value.get("error_description").is_none_or(Value::is_null)
        {
            prop_assert!(parsed.is_some(), "{} is an envelope", value);
        }
        check_error(status, &body);
    }
}

/// `Error::from_response` on `body` gives a typed error carrying `status`, whose renderings
/// do not panic, and whose message of a non-envelope body is bounded.
fn check_error(status: u16, body: &[u8]) {
    let error = Error::from_response(StatusCode::from(status), &Headers::new(), body);
    assert_eq!(error.status(), Some(status));
    let expected_variant = match status {
        404 => error.is_not_found(),
        409 => error.is_conflict(),
        401 => matches!(error, Error::Unauthenticated(_)),
        429 => matches!(error, Error::Throttled(_)),
        403 => error.is_forbidden(),
        400 | 422 => matches!(error, Error::InvalidInput(_) | Error::NotFound(_)),
        _ => matches!(error, Error::Service(_)),
    };
    assert!(expected_variant, "{status} gave {error:?}");
    let service = error.service_error().expect("a service error");
    let _ = (service.root_cause(), service.codes().count());
    assert!(!error.to_string().is_empty());
    let _ = format!("{error:?}");
    if ServiceError::from_body(body).is_none() {
        assert!(service.message.len() <= 512 + '…'.len_utf8(), "bounded");
    }
}

/// Arbitrary JSON, and JSON shaped like the error envelopes (ARM, Key Vault, Entra) with
/// wrong types, deep `details` and `innererror` chains.
fn envelope_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    let key = prop_oneof![
        Just("error".to_owned()),
        Just("code".to_owned()),
        Just("message".to_owned()),
        Just("target".to_owned()),
        Just("details".to_owned()),
        Just("innererror".to_owned()),
        Just("innerError".to_owned()),
        Just("error_description".to_owned()),
        "[a-z]{1,6}",
    ];
    let json = leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        json.clone(),
        json.clone()
            .prop_map(|error| serde_json::json!({ "error": error })),
        (json.clone(), json).prop_map(|(error, description)| {
            serde_json::json!({ "error": error, "error_description": description })
        }),
    ]
}
