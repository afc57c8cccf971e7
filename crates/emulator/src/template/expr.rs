//! The template expression language: a tokenizer and a recursive-descent parser producing an
//! [`Expr`] tree.
//!
//! A JSON string is an expression when it starts with `[` and ends with `]` (see
//! [`classify`]); `[[` at the start escapes a literal `[`. Inside, the grammar is
//!
//! ```text
//! expr    := primary ( '.' ident | '[' expr ']' )*
//! primary := string | integer | 'true' | 'false' | 'null' | call | '(' expr ')'
//! call    := ident ( '.' ident )? '(' ( expr ( ',' expr )* )? ')'
//! string  := "'" ( any char except "'" | "''" )* "'"
//! ```
//!
//! Positions are 0-based character offsets into the whole JSON string (the leading `[`
//! included), so an error can point at the exact spot.

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A function call.
    Call {
        /// Function name as written (matched case-insensitively).
        name: String,
        /// Arguments.
        args: Vec<Expr>,
        /// Position of the name.
        pos: usize,
    },
    /// Property access `target.name`.
    Member {
        /// The object.
        target: Box<Expr>,
        /// Property name.
        name: String,
        /// Position of the name.
        pos: usize,
    },
    /// Index access `target[index]`.
    Index {
        /// The array or object.
        target: Box<Expr>,
        /// The index (integer for arrays, string for objects).
        index: Box<Expr>,
        /// Position of the `[`.
        pos: usize,
    },
}

impl Expr {
    /// Visits this node and every sub-expression.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Call { args, .. } => {
                for a in args {
                    a.walk(f);
                }
            }
            Expr::Member { target, .. } => target.walk(f),
            Expr::Index { target, index, .. } => {
                target.walk(f);
                index.walk(f);
            }
            _ => {}
        }
    }
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 0-based character offset in the JSON string.
    pub pos: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at position {})", self.message, self.pos)
    }
}

/// What a JSON string holds.
#[derive(Debug, Clone, PartialEq)]
pub enum StringKind<'a> {
    /// A plain string (possibly with a `[[` escape already removed).
    Literal(std::borrow::Cow<'a, str>),
    /// An expression: the text between the outer brackets, and its offset in the string.
    Expression(&'a str),
}

/// Classifies a JSON string value: literal, escaped literal or expression.
pub fn classify(s: &str) -> StringKind<'_> {
    if s.starts_with("[[") {
        return StringKind::Literal(std::borrow::Cow::Owned(s[1..].to_owned()));
    }
    if s.len() >= 2 && s.starts_with('[') && s.ends_with(']') {
        return StringKind::Expression(&s[1..s.len() - 1]);
    }
    StringKind::Literal(std::borrow::Cow::Borrowed(s))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(s) => format!("the string '{s}'"),
            Tok::Int(i) => format!("the integer {i}"),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::LBracket => "'['".to_owned(),
            Tok::RBracket => "']'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Dot => "'.'".to_owned(),
            Tok::End => "the end of the expression".to_owned(),
        }
    }
}

/// Splits the text of an expression into tokens; `base` is the offset of its first character.
fn tokenize(src: &str, base: usize) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = base + i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((Tok::LParen, pos));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, pos));
                i += 1;
            }
            '[' => {
                out.push((Tok::LBracket, pos));
                i += 1;
            }
            ']' => {
                out.push((Tok::RBracket, pos));
                i += 1;
            }
            ',' => {
                out.push((Tok::Comma, pos));
                i += 1;
            }
            '.' => {
                out.push((Tok::Dot, pos));
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(SyntaxError {
                                pos,
                                message:
                                    "The string literal is not terminated (a closing ' is missing)."
                                        .to_owned(),
                            });
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((Tok::Str(s), pos));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text.parse::<i64>().map_err(|_| SyntaxError {
                    pos,
                    message: format!("The integer literal '{text}' is out of range."),
                })?;
                out.push((Tok::Int(n), pos));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    i += 1;
                }
                out.push((Tok::Ident(chars[start..i].iter().collect()), pos));
            }
            other => {
                return Err(SyntaxError {
                    pos,
                    message: format!("The character '{other}' is not expected here."),
                });
            }
        }
    }
    out.push((Tok::End, base + chars.len()));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
}

/// Nesting limit, so a hostile template cannot overflow the stack.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::End, |t| &t.0)
    }

    fn pos(&self) -> usize {
        self.toks
            .get(self.i)
            .or_else(|| self.toks.last())
            .map_or(0, |t| t.1)
    }

    fn next(&mut self) -> (Tok, usize) {
        let t = self
            .toks
            .get(self.i)
            .cloned()
            .unwrap_or((Tok::End, self.pos()));
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn err<T>(&self, what: &str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            pos: self.pos(),
            message: format!("Expected {what} but found {}.", self.peek().describe()),
        })
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == t {
            self.i += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                pos: self.pos(),
                message: "The expression is nested too deeply.".to_owned(),
            });
        }
        let mut e = self.primary(depth)?;
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.i += 1;
                    let (t, pos) = self.next();
                    match t {
                        Tok::Ident(name) => {
                            e = Expr::Member {
                                target: Box::new(e),
                                name,
                                pos,
                            };
                        }
                        other => {
                            return Err(SyntaxError {
                                pos,
                                message: format!(
                                    "Expected a property name after '.' but found {}.",
                                    other.describe()
                                ),
                            });
                        }
                    }
                }
                Tok::LBracket => {
                    let pos = self.pos();
                    self.i += 1;
                    let index = self.expr(depth + 1)?;
                    self.expect(&Tok::RBracket, "']'")?;
                    e = Expr::Index {
                        target: Box::new(e),
                        index: Box::new(index),
                        pos,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, SyntaxError> {
        let (t, pos) = self.next();
        match t {
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Int(n) => Ok(Expr::Int(n)),
            Tok::LParen => {
                let e = self.expr(depth + 1)?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                // A user-defined function is called as `namespace.name(...)`.
                let mut full = name.clone();
                if self.peek() == &Tok::Dot
                    && matches!(self.toks.get(self.i + 1), Some((Tok::Ident(_), _)))
                    && matches!(self.toks.get(self.i + 2), Some((Tok::LParen, _)))
                {
                    self.i += 1;
                    if let (Tok::Ident(second), _) = self.next() {
                        full = format!("{name}.{second}");
                    }
                }
                if self.peek() != &Tok::LParen {
                    return match name.to_ascii_lowercase().as_str() {
                        "true" => Ok(Expr::Bool(true)),
                        "false" => Ok(Expr::Bool(false)),
                        "null" => Ok(Expr::Null),
                        _ => Err(SyntaxError {
                            pos,
                            message: format!(
                                "'{name}' is not a function call: expected '(' after it (string literals are written in single quotes)."
                            ),
                        }),
                    };
                }
                self.i += 1;
                let mut args = Vec::new();
                if self.peek() == &Tok::RParen {
                    self.i += 1;
                } else {
                    loop {
                        args.push(self.expr(depth + 1)?);
                        match self.peek() {
                            Tok::Comma => self.i += 1,
                            Tok::RParen => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("',' or ')'"),
                        }
                    }
                }
                Ok(Expr::Call {
                    name: full,
                    args,
                    pos,
                })
            }
            other => Err(SyntaxError {
                pos,
                message: format!(
                    "Expected a value or a function call but found {}.",
                    other.describe()
                ),
            }),
        }
    }
}

/// Parses the text of an expression (the part between the outer brackets). `base` is the
/// offset of that text in the JSON string (1 for `"[...]"`).
pub fn parse(src: &str, base: usize) -> Result<Expr, SyntaxError> {
    let toks = tokenize(src, base)?;
    let mut p = Parser { toks, i: 0 };
    if p.peek() == &Tok::End {
        return Err(SyntaxError {
            pos: base,
            message: "The expression is empty.".to_owned(),
        });
    }
    let e = p.expr(0)?;
    if p.peek() != &Tok::End {
        return p.err("the end of the expression");
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
