//! The `$filter` of the generic resource list: `resourceType eq '…'`, `name eq '…'` and
//! `tagName eq '…' [and tagValue eq '…']`, joined by `and`, values compared case-insensitively.
//! Anything else is refused with ARM's 400 `InvalidFilterInQueryString`: a filter silently
//! ignored would answer everything and read as a result.

use std::collections::BTreeMap;

use super::error::ArmError;

/// ARM's code for a `$filter` it cannot read.
pub const INVALID_FILTER: &str = "InvalidFilterInQueryString";

/// One condition of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// `resourceType eq '…'`.
    ResourceType(String),
    /// `name eq '…'`.
    Name(String),
    /// `tagName eq '…'`, with the `tagValue eq '…'` that follows it, if any.
    Tag {
        /// The tag's name.
        name: String,
        /// The tag's value (`None`: any value).
        value: Option<String>,
    },
}

/// A parsed `$filter`: every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// The conditions, in the order given.
    pub conditions: Vec<Condition>,
}

fn invalid(filter: &str, why: &str) -> ArmError {
    ArmError::bad(
        INVALID_FILTER,
        format!(
            "Invalid $filter '{filter}' specified in the query string. {why} The emulator supports resourceType, name, tagName and tagValue compared with eq and joined by and."
        ),
    )
}

/// A token of a filter expression.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

fn tokens(filter: &str) -> Result<Vec<Token>, ArmError> {
    let mut out = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(c) => s.push(c),
                    None => return Err(invalid(filter, "A quoted value is not closed.")),
                }
            }
            out.push(Token::Quoted(s));
        } else if c.is_ascii_alphanumeric() || c == '/' || c == '_' {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '/' || c == '_' {
                    w.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token::Word(w));
        } else {
            return Err(invalid(
                filter,
                &format!("The character '{c}' is not supported."),
            ));
        }
    }
    Ok(out)
}

impl ResourceFilter {
    /// Parses a `$filter` (an empty one filters nothing).
    pub fn parse(filter: &str) -> Result<Self, ArmError> {
        let toks = tokens(filter)?;
        let mut conditions: Vec<Condition> = Vec::new();
        let mut rest = toks.as_slice();
        while !rest.is_empty() {
            let [
                Token::Word(prop),
                Token::Word(op),
                Token::Quoted(value),
                tail @ ..,
            ] = rest
            else {
                return Err(invalid(filter, "Each condition is `property eq 'value'`."));
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(invalid(
                    filter,
                    &format!("The operator '{op}' is not supported."),
                ));
            }
            let value = value.clone();
            let condition = match prop.to_ascii_lowercase().as_str() {
                "resourcetype" => Condition::ResourceType(value),
                "name" => Condition::Name(value),
                "tagname" => Condition::Tag {
                    name: value,
                    value: None,
                },
                "tagvalue" => match conditions.last_mut() {
                    Some(Condition::Tag {
                        value: v @ None, ..
                    }) => {
                        *v = Some(value);
                        rest = after_and(filter, tail)?;
                        continue;
                    }
                    _ => {
                        return Err(invalid(
                            filter,
                            "tagValue must follow the tagName it belongs to.",
                        ));
                    }
                },
                _ => {
                    return Err(invalid(
                        filter,
                        &format!("The property '{prop}' is not supported."),
                    ));
                }
            };
            conditions.push(condition);
            rest = after_and(filter, tail)?;
        }
        Ok(Self { conditions })
    }

    /// Whether a resource of this type, name and tags meets every condition.
    pub fn matches(
        &self,
        resource_type: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::ResourceType(t) => t.eq_ignore_ascii_case(resource_type),
            Condition::Name(n) => n.eq_ignore_ascii_case(name),
            Condition::Tag { name, value } => tags.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case(name)
                    && value.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(v))
            }),
        })
    }

    /// Whether the filter names a tag (ARM then answers the resources without their tags).
    pub fn names_a_tag(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| matches!(c, Condition::Tag { .. }))
    }
}

/// The tokens after a condition: nothing, or `and` and the next condition.
fn after_and<'a>(filter: &str, tail: &'a [Token]) -> Result<&'a [Token], ArmError> {
    match tail {
        [] => Ok(tail),
        [Token::Word(w), next @ ..] if w.eq_ignore_ascii_case("and") && !next.is_empty() => {
            Ok(next)
        }
        [Token::Word(w), ..] if w.eq_ignore_ascii_case("or") => {
            Err(invalid(filter, "The operator 'or' is not supported."))
        }
        _ => Err(invalid(filter, "Conditions are joined by and.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_supported_conditions() {
        let f = ResourceFilter::parse(
            "resourceType eq 'Microsoft.KeyVault/vaults' AND name eq 'it''s' and tagName eq 'env' and tagValue eq 'prod'",
        )
        .expect("parses");
        assert_eq!(
            f.conditions,
            [
                Condition::ResourceType("Microsoft.KeyVault/vaults".into()),
                Condition::Name("it's".into()),
                Condition::Tag {
                    name: "env".into(),
                    value: Some("prod".into())
                },
            ]
        );
        let tags = BTreeMap::from([("Env".to_owned(), "PROD".to_owned())]);
        assert!(f.matches("microsoft.keyvault/VAULTS", "IT'S", &tags));
        assert!(!f.matches("microsoft.keyvault/vaults", "other", &tags));
        assert!(f.names_a_tag());
        assert_eq!(
            ResourceFilter::parse("  ").expect("empty"),
            ResourceFilter::default()
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "location eq 'westeurope'",
            "name ne 'a'",
            "name eq 'a' or name eq 'b'",
            "substringof('a', name)",
            "name eq 'a' and",
            "name eq 'a' name eq 'b'",
            "tagValue eq 'x'",
            "name eq 'unclosed",
            "name eq a",
            "(name eq 'a')",
        ] {
            let e = ResourceFilter::parse(bad).expect_err(bad);
            assert_eq!(e.code, INVALID_FILTER, "{bad}");
            assert!(e.message.contains(bad), "{}", e.message);
        }
    }
}
