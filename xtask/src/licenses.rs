//! The license allow-list of `cargo xtask deps`, and the reader of SPDX license expressions
//! that holds a package's license against it.

/// License identifiers any dependency may use (alone or as one side of an `OR`).
pub const ALLOWED_LICENSES: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Zlib",
    "CC0-1.0",
];

/// `license WITH exception` pairs allowed, with the reason.
pub const ALLOWED_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "Apache-2.0",
    "LLVM-exception",
    "the exception only waives Apache-2.0 conditions for binaries (ar_archive_writer)",
)];

/// Whether the SPDX expression `expr` can be satisfied with the allowed licenses. `/` is read
/// as `OR` (old crates.io style); `AND` binds tighter than `OR`.
pub fn license_allowed(expr: &str) -> Result<bool, String> {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    if tokens.is_empty() {
        return Err("no license declared".to_owned());
    }
    let mut parser = Spdx { tokens, at: 0 };
    let allowed = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(allowed),
        Some(extra) => Err(format!("unexpected {extra:?}")),
    }
}

/// A recursive-descent reader of SPDX license expressions, evaluating as it reads.
struct Spdx<'a> {
    tokens: Vec<&'a str>,
    at: usize,
}

impl<'a> Spdx<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let token = self.tokens.get(self.at).copied();
        self.at += 1;
        token
    }

    fn peek_is(&self, word: &str) -> bool {
        self.tokens
            .get(self.at)
            .is_some_and(|t| t.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.peek_is("OR") {
            self.at += 1;
            value |= self.and()?;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.atom()?;
        while self.peek_is("AND") {
            self.at += 1;
            value &= self.atom()?;
        }
        Ok(value)
    }

    fn atom(&mut self) -> Result<bool, String> {
        match self.next() {
            Some("(") => {
                let value = self.or()?;
                match self.next() {
                    Some(")") => Ok(value),
                    _ => Err("unbalanced parentheses".to_owned()),
                }
            }
            Some(id) if !matches!(id, ")" | "AND" | "OR" | "WITH") => {
                let id = id.trim_end_matches('+');
                if self.peek_is("WITH") {
                    self.at += 1;
                    let exception = self.next().ok_or("WITH without an exception")?;
                    return Ok(ALLOWED_EXCEPTIONS
                        .iter()
                        .any(|(license, exc, _)| *license == id && *exc == exception));
                }
                Ok(ALLOWED_LICENSES.contains(&id))
            }
            other => Err(format!("expected a license, found {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions() {
        let cases = [
            ("MIT", Ok(true)),
            ("MIT OR Apache-2.0", Ok(true)),
            ("MIT/Apache-2.0", Ok(true)),
            ("Apache-2.0 / MIT", Ok(true)),
            ("Unlicense OR MIT", Ok(true)),
            ("GPL-3.0", Ok(false)),
            ("GPL-3.0 OR MIT", Ok(true)),
            ("GPL-3.0 AND MIT", Ok(false)),
            ("(MIT OR Apache-2.0) AND Unicode-3.0", Ok(true)),
            (
                "ISC AND (Apache-2.0 OR ISC) AND Apache-2.0 AND MIT AND BSD-3-Clause AND (Apache-2.0 OR ISC OR MIT) AND (Apache-2.0 OR ISC OR MIT-0)",
                Ok(true),
            ),
            ("MIT AND (GPL-2.0 OR LGPL-2.1)", Ok(false)),
            ("Apache-2.0 WITH LLVM-exception", Ok(true)),
            ("GPL-2.0 WITH Classpath-exception-2.0", Ok(false)),
            ("OpenSSL", Ok(false)),
        ];
        for (expr, expected) in cases {
            assert_eq!(license_allowed(expr), expected, "{expr}");
        }
        for bad in ["", "(MIT", "MIT OR", "AND MIT", "MIT MIT", "MIT WITH"] {
            assert!(license_allowed(bad).is_err(), "{bad:?}");
        }
    }
}
