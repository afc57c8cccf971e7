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
//!
//! An expression is at most [`MAX_EXPRESSION_CHARS`] characters long and nests at most
//! [`MAX_EXPRESSION_DEPTH`] levels, where calls, parentheses and every `.property` and
//! `[index]` of a chain count: the tree it produces is walked, evaluated and dropped by
//! recursion, so its depth is what the stack pays for.

use std::fmt;

use crate::limits::{MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH};

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

    fn too_deep(&self) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: format!(
                "The expression is nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels of calls, parentheses, properties and indexes."
            ),
        }
    }

    /// Parses an expression `depth` levels below the root; answers it and its height (the
    /// depth of its tree), both bounded by [`MAX_EXPRESSION_DEPTH`].
    fn expr(&mut self, depth: usize) -> Result<(Expr, usize), SyntaxError> {
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.too_deep());
        }
        let (mut e, mut height) = self.primary(depth)?;
        loop {
            // Each `.name` and `[index]` wraps the tree once more.
            if matches!(self.peek(), Tok::Dot | Tok::LBracket) && height >= MAX_EXPRESSION_DEPTH {
                return Err(self.too_deep());
            }
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
                            height += 1;
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
                    let (index, h) = self.expr(depth + 1)?;
                    self.expect(&Tok::RBracket, "']'")?;
                    e = Expr::Index {
                        target: Box::new(e),
                        index: Box::new(index),
                        pos,
                    };
                    height = height.max(h) + 1;
                    if height > MAX_EXPRESSION_DEPTH {
                        return Err(self.too_deep());
                    }
                }
                _ => return Ok((e, height)),
            }
        }
    }

    fn primary(&mut self, depth: usize) -> Result<(Expr, usize), SyntaxError> {
        let (t, pos) = self.next();
        match t {
            Tok::Str(s) => Ok((Expr::Str(s), 1)),
            Tok::Int(n) => Ok((Expr::Int(n), 1)),
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
                        "true" => Ok((Expr::Bool(true), 1)),
                        "false" => Ok((Expr::Bool(false), 1)),
                        "null" => Ok((Expr::Null, 1)),
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
                let mut height = 1;
                if self.peek() == &Tok::RParen {
                    self.i += 1;
                } else {
                    loop {
                        let (arg, h) = self.expr(depth + 1)?;
                        args.push(arg);
                        height = height.max(h + 1);
                        if height > MAX_EXPRESSION_DEPTH {
                            return Err(self.too_deep());
                        }
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
                Ok((
                    Expr::Call {
                        name: full,
                        args,
                        pos,
                    },
                    height,
                ))
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
    // `base` + 1 for the closing bracket: the whole JSON string is what ARM measures.
    if src.len() > MAX_EXPRESSION_CHARS && src.chars().count() + base + 1 > MAX_EXPRESSION_CHARS {
        return Err(SyntaxError {
            pos: base,
            message: format!(
                "The template language expression is longer than {MAX_EXPRESSION_CHARS} characters, the limit of one expression."
            ),
        });
    }
    let toks = tokenize(src, base)?;
    let mut p = Parser { toks, i: 0 };
    if p.peek() == &Tok::End {
        return Err(SyntaxError {
            pos: base,
            message: "The expression is empty.".to_owned(),
        });
    }
    let (e, _) = p.expr(0)?;
    if p.peek() != &Tok::End {
        return p.err("the end of the expression");
    }
    Ok(e)
}

#[cfg(test)]
mod tests;
