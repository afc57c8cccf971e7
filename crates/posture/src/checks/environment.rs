//! Item 14: plain environment values whose names look like secrets. The variable is named,
//! its value never read into the inventory.

use super::Ctx;
use crate::{
    FindingKind,
    findings::{Finding, evidence::Evidence},
};

/// Whether `name` looks like a secret's: one of `markers` is one of its words (split at
/// non-alphanumerics and camelCase humps, compared case-insensitively; a marker of several
/// words, `CONNECTION_STRING`, matches them in a row), or a marker of five letters or more ends
/// one of its words (`DBPASSWORD`).
pub(crate) fn looks_secret(name: &str, markers: &[String]) -> bool {
    let words = words(name);
    markers.iter().any(|marker| {
        let wanted = words_of_marker(marker);
        if wanted.is_empty() {
            return false;
        }
        let in_a_row = words.windows(wanted.len()).any(|w| w == wanted.as_slice());
        let single = wanted.len() == 1 && wanted[0].len() >= 5;
        in_a_row || (single && words.iter().any(|w| w.ends_with(&wanted[0])))
    })
}

fn words_of_marker(marker: &str) -> Vec<String> {
    marker
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The words of a variable name, uppercase: `dbPassword` → `DB`, `PASSWORD`; `API_KEY` →
/// `API`, `KEY`.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut word = String::new();
        let mut previous_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_uppercase());
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// A [`PlainSecretEnvironmentValue`](FindingKind::PlainSecretEnvironmentValue) finding for
/// every variable with a secret-looking name and a plain value.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let kind = FindingKind::PlainSecretEnvironmentValue;
    for g in &ctx.inventory.groups {
        for var in &g.env {
            if var.plain != Some(true) || !looks_secret(&var.name, &ctx.options.secret_name_markers)
            {
                continue;
            }
            out.push(Finding::new(
                kind,
                kind.default_severity(),
                g.group.id.as_str(),
                format!(
                    "container {} of group {} sets {} as a plain value, which anyone who can read the group sees",
                    var.container, g.group.name, var.name
                ),
                format!(
                    "re-create the group with {} as a secureValue (disruptive)",
                    var.name
                ),
                Evidence::PlainSecretEnvironmentValue {
                    group: g.group.clone(),
                    container: var.container.clone(),
                    variable: var.name.clone(),
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DEFAULT_SECRET_MARKERS;

    #[test]
    fn secret_looking_names_and_their_near_misses() {
        let markers: Vec<String> = DEFAULT_SECRET_MARKERS
            .iter()
            .map(|m| (*m).to_owned())
            .collect();
        let table = [
            ("PASSWORD", true),
            ("DB_PASSWORD", true),
            ("dbPassword", true),
            ("DBPASSWORD", true),
            ("API_KEY", true),
            ("apiKey", true),
            ("KEY", true),
            ("STORAGE_ACCOUNT_KEY", true),
            ("AUTH_TOKEN", true),
            ("GITHUB-TOKEN", true),
            ("client.secret", true),
            ("CONNECTION_STRING", true),
            ("ServiceBusConnectionString", true),
            ("SQL_CONNECTIONSTRING", true),
            ("PWD", true),
            ("AZURE_CREDENTIALS", true),
            ("KEYBOARD_LAYOUT", false),
            ("MONKEY", false),
            ("SECRETARY_NAME", false),
            ("TOKENIZER_MODEL", false),
            ("CONNECTION_TIMEOUT", false),
            ("PASSAGE", false),
            ("LOG_LEVEL", false),
            ("", false),
        ];
        for (name, want) in table {
            assert_eq!(looks_secret(name, &markers), want, "{name:?}");
        }
        assert!(!looks_secret("DB_PASSWORD", &[]));
        assert!(looks_secret("MY_PIN", &["pin".to_owned()]));
    }
}
