//! Template text: [`parse_json_text`] reads JSON, or JSON5 (comments, trailing commas, bare
//! keys, single quotes) as ARM accepts it, never deeper than
//! [`crate::limits::MAX_JSON_DEPTH`]; [`parse_template`] takes a template given as an object
//! or as such text.
//!
//! Strict JSON goes to serde_json, which refuses nesting deeper than 128 on its own. JSON5
//! goes to `json5`, whose parser recurses without a limit, so the text's nesting is measured
//! first, without recursion, by a scan that knows JSON5's strings and comments.

use serde_json::{Map, Value};

use crate::error::TemplateError;
use crate::json::{normalize_numbers, type_name};
use crate::limits::MAX_JSON_DEPTH;

/// Parses template (or request) text: strict JSON first, then JSON5. Errors quote no part of
/// the text (only positions), so a secret in it is not echoed.
pub fn parse_json_text(text: &str) -> Result<Value, TemplateError> {
    parse_text(text, "template text")
}

/// [`parse_json_text`], with messages about `subject`.
fn parse_text(text: &str, subject: &str) -> Result<Value, TemplateError> {
    if text.trim().is_empty() {
        return Err(TemplateError::invalid(format!("The {subject} is empty.")));
    }
    let strict = match serde_json::from_str::<Value>(text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if nests_deeper_than(text, MAX_JSON_DEPTH) {
        return Err(TemplateError::invalid(format!(
            "The {subject} is nested deeper than {MAX_JSON_DEPTH} levels."
        )));
    }
    json5::from_str::<Value>(text)
        .map(normalize_numbers)
        .map_err(|e| {
            let json5::Error::Message { location, .. } = e;
            let at = location.map_or_else(String::new, |l| {
                format!(" (as JSON5: at line {}, column {})", l.line, l.column)
            });
            TemplateError::invalid(format!("The {subject} is not valid JSON: {strict}{at}."))
        })
}

/// Parses a template given as an object or as JSON(5) text.
pub fn parse_template(v: &Value) -> Result<Map<String, Value>, TemplateError> {
    let v = match v {
        Value::String(s) => parse_text(s, "template string")?,
        other => other.clone(),
    };
    match v {
        Value::Object(o) => Ok(o),
        other => Err(TemplateError::invalid(format!(
            "The template must be a JSON object, not '{}'.",
            type_name(&other)
        ))),
    }
}

/// Whether JSON5 `text` opens more than `max` arrays or objects at once. Brackets inside
/// strings (single- or double-quoted, with `\` escapes) and comments do not count. Where the
/// scan and a JSON5 parser could disagree, the scan counts more, never less.
fn nests_deeper_than(text: &str, max: usize) -> bool {
    enum State {
        Code,
        Str(char),
        LineComment,
        BlockComment,
    }
    let mut state = State::Code;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > max {
                        return true;
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                '"' | '\'' => state = State::Str(c),
                '/' => match chars.peek() {
                    Some('/') => {
                        chars.next();
                        state = State::LineComment;
                    }
                    Some('*') => {
                        chars.next();
                        state = State::BlockComment;
                    }
                    _ => {}
                },
                _ => {}
            },
            State::Str(quote) => {
                if c == '\\' {
                    chars.next();
                } else if c == quote {
                    state = State::Code;
                }
            }
            // Any JSON5 line terminator ends it (ending early only counts more).
            State::LineComment => {
                if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    state = State::Code;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_json_then_json5() {
        assert_eq!(
            parse_json_text(r#"{"a": [1, 2]}"#),
            Ok(json!({"a": [1, 2]}))
        );
        assert_eq!(
            parse_json_text("{a: [1, 2.0,], // note\n 'b': 'x' /* c */}"),
            Ok(json!({"a": [1, 2], "b": "x"}))
        );
        let e = parse_json_text("{a: ").expect_err("not JSON5 either");
        assert!(e.message.contains("line 1"), "{e}");
        assert!(parse_json_text("  ").is_err());
    }

    #[test]
    fn errors_quote_no_part_of_the_text() {
        let e = parse_json_text("{\"p\": {\"value\": 'TOPSECRET-123' ]}").expect_err("bad");
        assert!(!e.message.contains("TOPSECRET"), "{e}");
    }

    /// json5 recursed without a limit: `[` x 1100 overflowed the stack (old emulator code
    /// path `lenient_json` and `parse_template` on a string).
    #[test]
    fn deep_json5_is_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(1100), "]".repeat(1100));
        let e = parse_json_text(&deep).expect_err("too deep");
        assert!(e.message.contains("nested deeper"), "{e}");
        let deep5 = format!("{{a: {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_json_text(&deep5).is_err());
        let as_template = Value::String(deep);
        assert!(parse_template(&as_template).is_err());
        // At the limit, JSON5 still parses.
        let ok = format!(
            "// c\n{}1,{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(parse_json_text(&ok).is_ok());
    }

    #[test]
    fn the_scan_skips_strings_and_comments_but_never_undercounts() {
        let max = 3;
        assert!(!nests_deeper_than("[[['[[[[', \"[[[[\"]]]", max));
        assert!(!nests_deeper_than("[[[ // [[[[\n ]]]", max));
        assert!(!nests_deeper_than("[[[ /* [[[[ */ ]]]", max));
        assert!(nests_deeper_than("[[[[", max));
        // Closers hidden in strings or comments do not lower the count.
        assert!(nests_deeper_than("[[ ']]' [[", max));
        assert!(nests_deeper_than("[[ /* ]] */ [[", max));
        assert!(nests_deeper_than("[[ // ]]\r [[", max));
        assert!(nests_deeper_than("[[ \"\\\"]]\" [[", max));
    }
}
