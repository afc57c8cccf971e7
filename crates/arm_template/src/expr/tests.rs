//! Tests of the tokenizer and parser: the grammar, positions in errors, and the nesting and
//! length limits.

use super::*;
use crate::limits::{MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH};

fn call(name: &str, args: Vec<Expr>, pos: usize) -> Expr {
    Expr::Call {
        name: name.to_owned(),
        args,
        pos,
    }
}

#[test]
fn classify_strings() {
    assert_eq!(classify("abc"), StringKind::Literal("abc".into()));
    assert_eq!(classify("[[abc]"), StringKind::Literal("[abc]".into()));
    assert_eq!(classify("[abc"), StringKind::Literal("[abc".into()));
    assert_eq!(classify("[f()]"), StringKind::Expression("f()"));
    assert_eq!(classify("[]"), StringKind::Expression(""));
}

#[test]
fn parses_calls_members_indexes_and_literals() {
    let e = parse("concat('a''b', 12, -3, true, null).x[0]", 1).expect("parses");
    let inner = call(
        "concat",
        vec![
            Expr::Str("a'b".to_owned()),
            Expr::Int(12),
            Expr::Int(-3),
            Expr::Bool(true),
            Expr::Null,
        ],
        1,
    );
    let member = Expr::Member {
        target: Box::new(inner),
        name: "x".to_owned(),
        pos: 36,
    };
    assert_eq!(
        e,
        Expr::Index {
            target: Box::new(member),
            index: Box::new(Expr::Int(0)),
            pos: 37
        }
    );
    let e = parse(" resourceGroup ( ) . location ", 1).expect("parses");
    assert!(matches!(e, Expr::Member { ref name, .. } if name == "location"));
    let e = parse("ns.fn('x')", 1).expect("parses");
    assert!(matches!(e, Expr::Call { ref name, .. } if name == "ns.fn"));
}

#[test]
fn errors_carry_positions() {
    let e = parse("concat('a'", 1).expect_err("unterminated call");
    assert_eq!(e.pos, 11);
    assert!(e.message.contains("',' or ')'"), "{e}");
    let e = parse("concat('a)", 1).expect_err("unterminated string");
    assert_eq!(e.pos, 8);
    let e = parse("foo", 1).expect_err("bare identifier");
    assert_eq!(e.pos, 1);
    let e = parse("f() g()", 1).expect_err("trailing tokens");
    assert_eq!(e.pos, 5);
    let e = parse("f(#)", 1).expect_err("bad char");
    assert_eq!(e.pos, 3);
    let e = parse("", 1).expect_err("empty");
    assert_eq!(e.pos, 1);
    let e = parse("f().", 1).expect_err("dangling dot");
    assert!(e.message.contains("property name"), "{e}");
    let deep = format!("{}1{}", "f(".repeat(100), ")".repeat(100));
    assert!(parse(&deep, 1).is_err());
}

#[test]
fn property_and_index_chains_count_as_nesting() {
    // Old parser: the chain was a loop, so any length parsed into a tree as deep as the chain,
    // which evaluation, `walk` and drop then recursed through (a stack overflow).
    for tail in [".a", "[0]", "['k']"] {
        let long = format!("f(){}", tail.repeat(4_000));
        let e = parse(&long, 1).expect_err("a chain longer than the limit");
        assert!(e.message.contains("nested too deeply"), "{e}");
        // `f()` is one level, each link one more.
        let ok = format!("f(){}", tail.repeat(MAX_EXPRESSION_DEPTH - 1));
        assert!(
            parse(&ok, 1).is_ok(),
            "{tail} x {}",
            MAX_EXPRESSION_DEPTH - 1
        );
        let over = format!("f(){}", tail.repeat(MAX_EXPRESSION_DEPTH));
        assert!(parse(&over, 1).is_err(), "{tail} x {MAX_EXPRESSION_DEPTH}");
    }
    // Mixed: calls inside indexes inside members.
    let mixed = format!("{}1{}", "f(".repeat(40), ")".repeat(40)) + &"[0].a".repeat(20);
    assert!(parse(&mixed, 1).is_err());
}

#[test]
fn nesting_is_bounded_at_every_level() {
    let n = MAX_EXPRESSION_DEPTH - 1;
    let ok = format!("{}1{}", "f(".repeat(n), ")".repeat(n));
    assert!(parse(&ok, 1).is_ok());
    let over = format!("{}1{}", "f(".repeat(n + 1), ")".repeat(n + 1));
    assert!(parse(&over, 1).is_err());
    // Parentheses inside chains inside parentheses: the tree's height is what counts, not
    // the nesting of any one construct (old parser: ~2000 levels from 64 of each).
    let mut nested = "f()".to_owned();
    for _ in 0..MAX_EXPRESSION_DEPTH {
        nested = format!("({nested}{})", ".a".repeat(MAX_EXPRESSION_DEPTH / 2));
    }
    assert!(parse(&nested, 1).is_err());
    let parens = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&parens, 1).is_err());
    let index = format!("f(){}0{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&index, 1).is_err());
}

#[test]
fn expressions_longer_than_arm_allows_are_refused() {
    let at_limit = format!("'{}'", "x".repeat(MAX_EXPRESSION_CHARS - 4));
    assert!(parse(&at_limit, 1).is_ok());
    let over = format!("'{}'", "x".repeat(MAX_EXPRESSION_CHARS));
    let e = parse(&over, 1).expect_err("too long");
    assert!(e.message.contains("longer than"), "{e}");
}
