//! Unit tests of the module.

use super::body::*;
use super::records::*;

#[test]
fn vault_names_follow_the_rules_on_both_sides_of_each_edge() {
    for ok in [
        "abc",
        "a-b",
        "a1b2c3",
        "abcdefghijklmnopqrstuvwx",
        "Vault-01",
    ] {
        assert!(valid_vault_name(ok), "{ok} should be valid");
    }
    for bad in [
        "ab",
        "abcdefghijklmnopqrstuvwxy",
        "1ab",
        "-ab",
        "ab-",
        "a--b",
        "a_b",
        "a.b",
        "ab c",
        "",
    ] {
        assert!(!valid_vault_name(bad), "{bad} should be invalid");
    }
}

#[test]
fn ip_rules_normalise_to_cidr() {
    assert_eq!(
        normalize_ip_rule("203.0.113.7").as_deref(),
        Some("203.0.113.7/32")
    );
    assert_eq!(
        normalize_ip_rule("10.1.2.3/16").as_deref(),
        Some("10.1.0.0/16")
    );
    assert_eq!(normalize_ip_rule("0.0.0.0/0").as_deref(), Some("0.0.0.0/0"));
    for bad in ["300.1.1.1", "10.0.0.0/33", "::1", "abc", "10.0.0.1/"] {
        assert_eq!(normalize_ip_rule(bad), None, "{bad}");
    }
    let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
    assert!(cidr_contains("127.0.0.0/8", ip("127.0.0.1")));
    assert!(cidr_contains("203.0.113.7/32", ip("203.0.113.7")));
    assert!(!cidr_contains("203.0.113.7/32", ip("203.0.113.8")));
    assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
    assert!(!cidr_contains("0.0.0.0/0", ip("::1")));
}

#[test]
fn permissions_are_checked_case_insensitively() {
    let p = |keys: &[&str]| serde_json::json!([{"tenantId": "00000000-0000-0000-0000-000000000001", "objectId": "x", "permissions": {"keys": keys}}]);
    let ok = p(&["Get", "WRAPKEY", "all", "getrotationpolicy"]);
    assert!(parse_policies(ok.as_array().expect("array")).is_ok());
    let bad = p(&["get", "frob"]);
    assert!(parse_policies(bad.as_array().expect("array")).is_err());
    let no_tenant = serde_json::json!([{"objectId": "x", "permissions": {}}]);
    assert!(parse_policies(no_tenant.as_array().expect("array")).is_err());
}
