//! Reading a spec file, and saying where it is wrong: `FILE:LINE:COLUMN: the rule`, with the
//! nearest known name for an unknown field or variant. TOML errors carry a byte span (mapped
//! to line and column here), JSON errors a line and column; a rule checked after parsing
//! (`DeploymentSpec::check`) is located by the field path its message names.

use aci_cmk_encrypted_deployment::spec::{DeploymentSpec, SpecError};
use serde::Serialize;
use std::{fmt, path::Path};

/// Which rule of the spec failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SpecRule {
    /// The file could not be read.
    Unreadable,
    /// Not valid TOML or JSON.
    Syntax,
    /// A field the spec does not have.
    UnknownField,
    /// A value that is not one of the allowed names.
    UnknownVariant,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong type, or one its rule refuses (a vault name, a GUID, a size).
    InvalidValue,
    /// The parts do not fit together.
    Inconsistent,
}

/// A line and column in the spec file, both counted from 1 (the column in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

/// Why a spec file was refused, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub struct SpecProblem {
    /// The file as given on the command line.
    pub file: String,
    /// Where in it, when known.
    pub position: Option<Position>,
    /// Which rule failed.
    pub rule: SpecRule,
    /// What is wrong, in the parser's words.
    pub message: String,
    /// The nearest known name, for an unknown field or variant.
    pub did_you_mean: Option<String>,
    /// The line at fault with a caret under the place, as compilers show it.
    pub excerpt: Option<String>,
    /// The spec's own error.
    #[source]
    pub source: SpecError,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: ", self.file, p.line, p.column)?,
            None => write!(f, "{}: ", self.file)?,
        }
        write!(f, "{}", self.message)?;
        if let Some(name) = &self.did_you_mean {
            write!(f, " (did you mean `{name}`?)")?;
        }
        Ok(())
    }
}

impl SpecProblem {
    /// The problem as JSON: file, line, column, rule, message, did_you_mean.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file,
            "line": self.position.map(|p| p.line),
            "column": self.position.map(|p| p.column),
            "rule": self.rule,
            "message": self.message,
            "did_you_mean": self.did_you_mean,
        })
    }
}

/// Reads the spec at `path` (TOML when it ends in `.toml`, else JSON), or says where and why
/// it is refused.
pub fn load(path: &Path) -> Result<DeploymentSpec, Box<SpecProblem>> {
    DeploymentSpec::from_file(path).map_err(|source| {
        // The text again, to place the error; the spec has just read it.
        let text = std::fs::read_to_string(path).unwrap_or_default();
        Box::new(explain(&path.display().to_string(), &text, source))
    })
}

/// Places `error`, raised reading `text` from `file`.
pub fn explain(file: &str, text: &str, error: SpecError) -> SpecProblem {
    let mut width = 1;
    let (position, rule, message) = match &error {
        SpecError::Io { source, .. } => (None, SpecRule::Unreadable, source.to_string()),
        SpecError::Toml(e) => {
            let message = e.message().trim().to_owned();
            let rule = if toml::de::DeTable::parse(text).is_err() {
                SpecRule::Syntax
            } else {
                classify(&message)
            };
            let position = e.span().map(|span| {
                width = text
                    .get(span.clone())
                    .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1));
                position_of(text, span.start)
            });
            (position, rule, message)
        }
        SpecError::Json(e) => {
            let position = (e.line() > 0).then(|| Position {
                line: e.line(),
                column: e.column(),
            });
            let full = e.to_string();
            // serde_json appends " at line L column C": the position says it already.
            let message = match full.rfind(" at line ") {
                Some(i) => full[..i].to_owned(),
                None => full,
            };
            let rule = match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    SpecRule::Syntax
                }
                _ => classify(&message),
            };
            (position, rule, message)
        }
        SpecError::Inconsistent(message) => {
            let toml = file.to_ascii_lowercase().ends_with(".toml");
            let position = toml.then(|| locate_rule(text, message)).flatten();
            (position, SpecRule::Inconsistent, message.clone())
        }
        // A variant added to the spec's errors later: its message, without a place.
        _ => (None, SpecRule::InvalidValue, error.to_string()),
    };
    let did_you_mean = match rule {
        SpecRule::UnknownField | SpecRule::UnknownVariant => nearest_name(&message),
        _ => None,
    };
    SpecProblem {
        file: file.to_owned(),
        position,
        rule,
        message,
        did_you_mean,
        excerpt: position.and_then(|p| excerpt(text, p, width)),
        source: error,
    }
}

/// Line `p.line` of `text` with `width` carets under column `p.column`.
fn excerpt(text: &str, p: Position, width: usize) -> Option<String> {
    let line = text.lines().nth(p.line.checked_sub(1)?)?;
    let number = p.line.to_string();
    let pad = " ".repeat(number.len());
    let indent = " ".repeat(p.column.saturating_sub(1));
    Some(format!(
        "{pad} |\n{number} | {line}\n{pad} | {indent}{}",
        "^".repeat(width)
    ))
}

/// The rule a serde message names.
fn classify(message: &str) -> SpecRule {
    if message.starts_with("unknown field") {
        SpecRule::UnknownField
    } else if message.starts_with("unknown variant") {
        SpecRule::UnknownVariant
    } else if message.starts_with("missing field") {
        SpecRule::MissingField
    } else {
        SpecRule::InvalidValue
    }
}

/// Line and column of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant …"): the
/// expected name nearest to `x`, when one is near enough to be what was meant.
pub fn nearest_name(message: &str) -> Option<String> {
    let mut quoted = message.split('`').skip(1).step_by(2);
    let given = quoted.next()?;
    quoted
        .map(|candidate| (strsim::jaro_winkler(given, candidate), candidate))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.to_owned())
}

/// Where in a TOML `text` the rule of `message` (from `DeploymentSpec::check`) applies: the
/// first dotted field path it names that the document has (`vault.soft_delete_retention_days`,
/// `key.existing.id`), else the table a few known rules are about.
fn locate_rule(text: &str, message: &str) -> Option<Position> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let paths = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|word| word.trim_matches('.'))
        .filter(|word| word.contains('.') && !word.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned);
    let known = [
        ("has no containers", "container_group.containers"),
        ("key lifecycle", "key.create.lifecycle"),
        ("key lifecycle", "key.existing.lifecycle"),
        ("template", "template"),
    ]
    .into_iter()
    .filter(|(phrase, _)| message.contains(phrase))
    .map(|(_, path)| path.to_owned());
    paths
        .chain(known)
        .find_map(|path| span_of(document.get_ref(), &path))
        .map(|offset| position_of(text, offset))
}

/// The byte offset of the key at dotted `path` in `table`.
fn span_of(table: &toml::de::DeTable<'_>, path: &str) -> Option<usize> {
    let (first, rest) = match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let (key, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == first)?;
    match (rest, value.get_ref()) {
        (None, _) => Some(key.span().start),
        (Some(rest), toml::de::DeValue::Table(inner)) => span_of(inner, rest),
        (Some(rest), toml::de::DeValue::Array(items)) => {
            items.iter().find_map(|item| match item.get_ref() {
                toml::de::DeValue::Table(inner) => span_of(inner, rest),
                _ => None,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
