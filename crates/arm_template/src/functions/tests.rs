//! Tests of the template functions through [`crate::eval_standalone`]: results (ported from
//! the emulator's engine tests), then every argument check — each bad call fails with a
//! message naming the function, none panics.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{deterministic_guid, unique_string};
use crate::scope::Scope;
use crate::variables::eval_standalone;

fn scope() -> Scope {
    Scope {
        subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        subscription_name: "sub".to_owned(),
        tenant_id: "tenant-1".to_owned(),
        resource_group: "rg-A".to_owned(),
        location: "westeurope".to_owned(),
        tags: BTreeMap::new(),
        deployment_name: "dep1".to_owned(),
        deployed_at: time::macros::datetime!(2026-12-01 12:00 UTC),
    }
}

fn ev(s: &str) -> Value {
    eval_standalone(s, &scope()).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn ev_err(s: &str) -> String {
    eval_standalone(s, &scope()).expect_err(s).message
}

#[test]
fn string_functions() {
    assert_eq!(ev("[concat('a', 'b', 1, true)]"), json!("ab1True"));
    assert_eq!(
        ev("[format('{0}-{1}-{0} {{x}}', 'a', 2)]"),
        json!("a-2-a {x}")
    );
    assert_eq!(ev("[format('{0:N2}', 5)]"), json!("5"));
    assert_eq!(ev("[toLower('AbC')]"), json!("abc"));
    assert_eq!(ev("[toUpper('AbC')]"), json!("ABC"));
    assert_eq!(ev("[trim('  x ')]"), json!("x"));
    assert_eq!(ev("[replace('a-b-c', '-', '')]"), json!("abc"));
    assert_eq!(ev("[split('a,b', ',')]"), json!(["a", "b"]));
    assert_eq!(
        ev("[split('a,b;c', createArray(',', ';'))]"),
        json!(["a", "b", "c"])
    );
    assert_eq!(ev("[substring('abcdef', 1, 3)]"), json!("bcd"));
    assert_eq!(ev("[substring('abcdef', 4)]"), json!("ef"));
    assert_eq!(ev("[substring('äöü', 1, 1)]"), json!("ö"));
    assert_eq!(ev("[startsWith('Hello', 'he')]"), json!(true));
    assert_eq!(ev("[endsWith('Hello', 'LO')]"), json!(true));
    assert_eq!(ev("[indexOf('abcabc', 'c')]"), json!(2));
    assert_eq!(ev("[lastIndexOf('abcabc', 'c')]"), json!(5));
    assert_eq!(ev("[indexOf('abc', 'z')]"), json!(-1));
    assert_eq!(ev("[padLeft('7', 3, '0')]"), json!("007"));
    assert_eq!(ev("[padLeft(7, 2)]"), json!(" 7"));
    assert_eq!(ev("[padLeft('abc', 2)]"), json!("abc"));
    assert_eq!(ev("[string(5)]"), json!("5"));
    assert_eq!(ev("[string(createArray(1))]"), json!("[1]"));
    assert_eq!(ev("[json('{\"x\": {\"y\": 5}}').x['y']]"), json!(5));
    assert_eq!(ev("[base64ToString(base64('hi'))]"), json!("hi"));
}

#[test]
fn collection_numeric_and_logical_functions() {
    assert_eq!(
        ev("[concat(createArray(1), createArray(2, 3))]"),
        json!([1, 2, 3])
    );
    assert_eq!(ev("[if(equals(1, 1), 'yes', 'no')]"), json!("yes"));
    // if() is lazy: the branch not taken is not evaluated.
    assert_eq!(ev("[if(false, parameters('nope'), 'ok')]"), json!("ok"));
    assert_eq!(ev("[not(equals('a', 'b'))]"), json!(true));
    assert_eq!(ev("[and(true, true, false)]"), json!(false));
    assert_eq!(ev("[or(false, true)]"), json!(true));
    assert_eq!(ev("[empty('')]"), json!(true));
    assert_eq!(ev("[empty(createArray(1))]"), json!(false));
    assert_eq!(ev("[empty(json('{}'))]"), json!(true));
    assert_eq!(ev("[length('abcd')]"), json!(4));
    assert_eq!(ev("[length(createArray(1, 2))]"), json!(2));
    assert_eq!(ev("[contains('hello', 'ell')]"), json!(true));
    assert_eq!(ev("[contains(createArray('a', 'b'), 'b')]"), json!(true));
    assert_eq!(ev("[contains(createObject('Key', 1), 'key')]"), json!(true));
    assert_eq!(
        ev("[union(createObject('a', 1), createObject('b', 2, 'a', 3))]"),
        json!({"a": 3, "b": 2})
    );
    assert_eq!(
        ev("[union(createArray(1, 2), createArray(2, 3))]"),
        json!([1, 2, 3])
    );
    assert_eq!(
        ev(
            "[union(createArray(json('{\"a\":1,\"b\":2}')), createArray(json('{\"b\":2,\"a\":1}')))]"
        ),
        json!([{"a": 1, "b": 2}])
    );
    assert_eq!(ev("[first(createArray(1, 2))]"), json!(1));
    assert_eq!(ev("[last('abc')]"), json!("c"));
    assert_eq!(ev("[take(createArray(1, 2, 3), 2)]"), json!([1, 2]));
    assert_eq!(ev("[skip('abc', 1)]"), json!("bc"));
    assert_eq!(ev("[range(5, 3)]"), json!([5, 6, 7]));
    assert_eq!(ev("[coalesce(null, 'x')]"), json!("x"));
    assert_eq!(ev("[add(2, mul(3, 4))]"), json!(14));
    assert_eq!(ev("[sub(2, 5)]"), json!(-3));
    assert_eq!(ev("[div(7, 2)]"), json!(3));
    assert_eq!(ev("[mod(-7, 2)]"), json!(-1));
    assert_eq!(ev("[min(createArray(3, 1, 2))]"), json!(1));
    assert_eq!(ev("[max(3, 1, 2)]"), json!(3));
    assert_eq!(ev("[int('12')]"), json!(12));
    assert_eq!(ev("[bool('TRUE')]"), json!(true));
    assert_eq!(ev("[greater('b', 'a')]"), json!(true));
    assert_eq!(ev("[lessOrEquals(2, 2)]"), json!(true));
}

#[test]
fn literals_escapes_and_scope_functions() {
    assert_eq!(ev("plain"), json!("plain"));
    assert_eq!(ev("[[not an expression]"), json!("[not an expression]"));
    assert_eq!(ev("['it''s']"), json!("it's"));
    assert_eq!(ev("[-7]"), json!(-7));
    assert_eq!(ev("[resourceGroup().LOCATION]"), json!("westeurope"));
    assert_eq!(ev("[subscription().tenantId]"), json!("tenant-1"));
    assert_eq!(ev("[tenant().tenantId]"), json!("tenant-1"));
    assert_eq!(ev("[deployment().name]"), json!("dep1"));
    assert_eq!(
        ev("[createObject('a', createArray(1, 2, 3)).a[1]]"),
        json!(2)
    );
    assert_eq!(
        ev("[utcNow()]"),
        json!("20261201T120000Z"),
        "the scope's time, no clock"
    );
    assert_eq!(ev("[length(newGuid())]"), json!(36));
}

#[test]
fn unique_string_and_guid_are_deterministic_like_arm() {
    assert_eq!(unique_string("test"), "rbgf3xv4ufgzg");
    assert_eq!(unique_string("abc"), "cgtzqvhu4i23s");
    assert_eq!(
        ev("[uniqueString('hello', 'world')]"),
        json!("a7wkljktk6wne")
    );
    assert_eq!(
        ev("[uniqueString('foo', 'bar', 'baz')]"),
        json!("xzi4ioaxtmth4")
    );
    assert_eq!(
        unique_string("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"),
        "bmg7c6xu4tw46"
    );
    assert_eq!(
        deterministic_guid("a-b-c"),
        "a98fa280-e03f-5afa-8d8e-92d0a9c201e8"
    );
    assert_eq!(
        ev("[guid('a', 'b', 'c')]"),
        json!("a98fa280-e03f-5afa-8d8e-92d0a9c201e8")
    );
}

#[test]
fn resource_id_family() {
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-A";
    assert_eq!(
        ev("[resourceId('Microsoft.KeyVault/vaults/accessPolicies', 'kv1', 'add')]"),
        json!(format!(
            "{rg}/providers/Microsoft.KeyVault/vaults/kv1/accessPolicies/add"
        ))
    );
    assert_eq!(
        ev("[resourceId('sub2', 'rg2', 'Microsoft.KeyVault/vaults', 'kv')]"),
        json!("/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv")
    );
    assert_eq!(
        ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]"),
        json!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r1"
        )
    );
    assert_eq!(
        ev("[tenantResourceId('Microsoft.Billing/accounts', 'b')]"),
        json!("/providers/Microsoft.Billing/accounts/b")
    );
    assert_eq!(
        ev(
            "[extensionResourceId(resourceId('Microsoft.KeyVault/vaults', 'kv1'), 'Microsoft.Authorization/roleAssignments', 'g')]"
        ),
        json!(format!(
            "{rg}/providers/Microsoft.KeyVault/vaults/kv1/providers/Microsoft.Authorization/roleAssignments/g"
        ))
    );
}

#[test]
fn errors_say_where_they_are() {
    let e = eval_standalone("[concat('a', 'b']", &scope()).expect_err("syntax");
    assert_eq!(e.pos, Some(16));
    let e = eval_standalone("[resourceGroup().locaton]", &scope()).expect_err("property");
    assert_eq!(e.pos, Some(17));
    assert!(e.message.contains("'locaton' doesn't exist"), "{e}");
    let e = eval_standalone("[concat('a', nosuch())]", &scope()).expect_err("function");
    assert_eq!(e.pos, Some(13));
    assert!(e.message.contains("'nosuch' is not valid"), "{e}");
    assert!(ev_err("[toLower(1)]").contains("argument 1 to be a String"));
    assert!(ev_err("[createArray(1)[3]]").contains("out of bounds"));
    assert!(ev_err("[listKeys('x', '2020-01-01')]").contains("not supported by the emulator"));
    assert!(ev_err("[copyIndex()]").contains("copyIndex"));
}

/// Bad arguments found by fuzzing (old engine: panics in debug — `attempt to add with
/// overflow` in `range`, `substring` and `copyIndex` — or wrong answers in release), and
/// the rest of every function's checks. Each fails, naming the function.
#[test]
fn every_bad_argument_is_an_error_naming_the_function() {
    let max = i64::MAX;
    let min = i64::MIN;
    let cases: Vec<(String, &str)> = vec![
        (format!("[range({max}, 2)]"), "range"),
        (format!("[range(1, {max})]"), "range"),
        ("[range(0, -1)]".into(), "range"),
        ("[range(2147483647, 1)]".into(), "range"),
        (format!("[range({min}, 10)]"), ""),
        (format!("[substring('abc', {max}, {max})]"), "substring"),
        (format!("[substring('abc', 1, {max})]"), "substring"),
        ("[substring('abc', -1, 1)]".into(), "substring"),
        ("[substring('abc', 1, -1)]".into(), "substring"),
        ("[substring('abc', 4)]".into(), "substring"),
        (format!("[substring('abc', {min})]"), "substring"),
        ("[substring('abc', 'x')]".into(), "substring"),
        (format!("[padLeft('a', {max}, 'x')]"), "padLeft"),
        ("[padLeft('a', 5000000)]".into(), "padLeft"),
        ("[padLeft('a', -1)]".into(), "padLeft"),
        ("[padLeft('a', 3, 'xy')]".into(), "padLeft"),
        ("[padLeft('a', 3, '')]".into(), "padLeft"),
        ("[padLeft(createArray(), 3)]".into(), "padLeft"),
        ("[int('x')]".into(), "int"),
        ("[int('99999999999999999999')]".into(), "int"),
        ("[int(createArray())]".into(), "int"),
        ("[div(1, 0)]".into(), "div"),
        ("[mod(1, 0)]".into(), "mod"),
        (format!("[div({min}, -1)]"), "div"),
        (format!("[mod({min}, -1)]"), "mod"),
        (format!("[add({max}, 1)]"), "add"),
        (format!("[sub({min}, 1)]"), "sub"),
        (format!("[mul({max}, 2)]"), "mul"),
        ("[add(1)]".into(), "add"),
        ("[add('1', 2)]".into(), "add"),
        ("[min()]".into(), "min"),
        ("[max(createArray('a'))]".into(), "max"),
        ("[replace('abc', '', 'x')]".into(), "replace"),
        ("[replace('abc', 'b')]".into(), "replace"),
        ("[split('abc', 1)]".into(), "split"),
        ("[format('{0')]".into(), "format"),
        ("[format('}')]".into(), "format"),
        ("[format('{x}', 1)]".into(), "format"),
        ("[format('{99999999999999999999999}', 1)]".into(), "format"),
        ("[format('{5}', 1)]".into(), "format"),
        ("[json('{')]".into(), "json"),
        ("[base64ToString('!!')]".into(), "base64ToString"),
        ("[take('abc', 'x')]".into(), "take"),
        ("[skip(1, 1)]".into(), "skip"),
        ("[first(1)]".into(), "first"),
        ("[length(1)]".into(), "length"),
        ("[contains(1, 1)]".into(), "contains"),
        (
            "[contains(createArray(), createArray(), 1)]".into(),
            "contains",
        ),
        ("[union(createArray(), createObject())]".into(), "union"),
        ("[createObject('a')]".into(), "createObject"),
        ("[createObject(1, 2)]".into(), "createObject"),
        ("[bool('maybe')]".into(), "bool"),
        ("[not(1)]".into(), "not"),
        ("[if(1, 2, 3)]".into(), "if"),
        ("[if(true, 2)]".into(), "if"),
        ("[and(true)]".into(), "and"),
        ("[or(false, 1)]".into(), "or"),
        ("[greater('a', 1)]".into(), "greater"),
        ("[equals(1)]".into(), "equals"),
        ("[resourceId('a')]".into(), "resourceId"),
        ("[resourceId('a', 'b')]".into(), "resourceId"),
        (
            "[resourceId('Microsoft.KeyVault/vaults/accessPolicies', 'kv1')]".into(),
            "resourceId",
        ),
        (
            "[resourceId('s', 'r', 'x', 'Microsoft.A/b', 'n')]".into(),
            "resourceId",
        ),
        (
            "[subscriptionResourceId('a', 'b')]".into(),
            "subscriptionResourceId",
        ),
        ("[tenantResourceId('a', 'b')]".into(), "tenantResourceId"),
        (
            "[extensionResourceId('a', 'b')]".into(),
            "extensionResourceId",
        ),
        ("[copyIndex('a', 'b', 'c')]".into(), "copyIndex"),
        ("[reference(1)]".into(), "reference"),
        ("[parameters(1)]".into(), "parameters"),
        ("[variables('nope')]".into(), "variables"),
        ("[uniqueString()]".into(), "uniqueString"),
        ("[guid(1)]".into(), "guid"),
        ("[utcNow('u')]".into(), "utcNow"),
        ("[newGuid(1)]".into(), "newGuid"),
        ("[tolower()]".into(), "tolower"),
        ("[resourceGroup(1)]".into(), "resourceGroup"),
        ("[createArray(1)[-1]]".into(), "index"),
        (format!("[createArray(1)[{max}]]"), "index"),
        ("[createArray(1)['a']]".into(), "index"),
        ("[createObject('a', 1).b]".into(), "'b'"),
        ("[createArray(1).b]".into(), "'b'"),
    ];
    for (expr, name) in cases {
        let r = std::panic::catch_unwind(|| eval_standalone(&expr, &scope()));
        let r = r.unwrap_or_else(|_| panic!("{expr} panicked"));
        if name.is_empty() {
            // Valid in ARM: only no panic is asked.
            continue;
        }
        let e = r.expect_err(&expr);
        assert!(
            e.message.to_lowercase().contains(&name.to_lowercase()),
            "{expr}: {}",
            e.message
        );
        assert!(e.message.len() < 600, "{expr}: {}", e.message);
    }
}

#[test]
fn huge_counts_take_or_skip_everything_or_nothing() {
    let max = i64::MAX;
    let min = i64::MIN;
    assert_eq!(ev(&format!("[take('abc', {max})]")), json!("abc"));
    assert_eq!(ev(&format!("[skip('abc', {max})]")), json!(""));
    assert_eq!(ev(&format!("[take(createArray(1, 2), {min})]")), json!([]));
    assert_eq!(
        ev(&format!("[skip(createArray(1, 2), {min})]")),
        json!([1, 2])
    );
    assert_eq!(ev(&format!("[div({min}, 1)]")), json!(min));
    assert_eq!(ev(&format!("[range({min}, 2)]")), json!([min, min + 1]));
}

/// Functions whose result can be much larger than their arguments check the size first.
#[test]
fn results_larger_than_the_limit_are_refused_before_they_are_built() {
    let m = crate::limits::MAX_VALUE_BYTES;
    for expr in [
        format!("[padLeft('a', {m}, 'é')]"),
        "[replace(padLeft('', 100000, 'a'), 'a', padLeft('', 100, 'b'))]".to_owned(),
        format!(
            "[format('{{0}}{{0}}{{0}}{{0}}{{0}}', padLeft('', {}, 'x'))]",
            m / 4
        ),
        format!(
            "[concat(padLeft('', {}, 'x'), padLeft('', {}, 'x'))]",
            m / 2,
            m / 2 + 1
        ),
        format!("[base64(padLeft('', {m}, 'x'))]"),
        "[string(range(0, 10000))]".to_owned(),
    ] {
        let r = eval_standalone(&expr, &scope());
        match r {
            Ok(v) => assert!(crate::limits::measure(&v).is_ok(), "{}", &expr[..40]),
            Err(e) => assert!(
                e.message.contains("limit of one value"),
                "{}: {e}",
                &expr[..40]
            ),
        }
    }
    let e = ev_err(&format!("[padLeft('a', {}, 'x')]", m + 1));
    assert!(e.contains("'padLeft' would produce a value"), "{e}");
}

#[test]
fn union_of_large_arrays_is_not_quadratic() {
    let started = std::time::Instant::now();
    let v = ev("[length(union(range(0, 10000), range(5000, 10000), range(0, 10000)))]");
    assert_eq!(v, json!(15000));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
