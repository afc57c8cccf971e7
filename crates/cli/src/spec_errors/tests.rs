//! Each way a spec is refused, placed at its line and column.

use super::*;

const SPEC: &str = r#"subscription_id = "00000000-0000-0000-0000-000000000001"
resource_group = "rg-cmk"
location = "westeurope"
flow = "standard"

[vault]
name = "cmk-vault"

[key.create]
name = "aci-cmk"

[container_group]
name = "hello"

[[container_group.containers]]
name = "app"
image = "nginx"
"#;

fn refused(text: &str, file: &str) -> SpecProblem {
    let error = if file.ends_with(".toml") {
        DeploymentSpec::from_toml_str(text)
    } else {
        DeploymentSpec::from_json_str(text)
    }
    .expect_err("refused");
    explain(file, text, error)
}

#[test]
fn the_base_spec_is_valid() {
    DeploymentSpec::from_toml_str(SPEC).expect("valid");
}

#[test]
fn toml_problems_are_placed_with_their_rule() {
    // (change from, change to, rule, line, column, message part, did you mean)
    type Case<'a> = (
        &'a str,
        &'a str,
        SpecRule,
        usize,
        usize,
        &'a str,
        Option<&'a str>,
    );
    let cases: &[Case<'_>] = &[
        (
            "name = \"cmk-vault\"",
            "nmae = \"cmk-vault\"",
            SpecRule::UnknownField,
            7,
            1,
            "unknown field `nmae`",
            Some("name"),
        ),
        (
            "location = \"westeurope\"",
            "locaton = \"westeurope\"",
            SpecRule::UnknownField,
            3,
            1,
            "unknown field `locaton`",
            Some("location"),
        ),
        (
            "image = \"nginx\"",
            "image = \"nginx\"\nsecure_envs = {}",
            SpecRule::UnknownField,
            18,
            1,
            "unknown field `secure_envs`",
            Some("secure_env"),
        ),
        (
            "flow = \"standard\"",
            "flow = \"standart\"",
            SpecRule::UnknownVariant,
            4,
            8,
            "unknown variant `standart`",
            Some("standard"),
        ),
        (
            "name = \"cmk-vault\"",
            "name = \"cmk--vault\"",
            SpecRule::InvalidValue,
            7,
            8,
            "consecutive hyphens",
            None,
        ),
        (
            "name = \"cmk-vault\"",
            "name = \"cmk-vault\"\nsoft_delete_retention_days = 3",
            SpecRule::Inconsistent,
            8,
            1,
            "must be 7 to 90",
            None,
        ),
        (
            "resource_group = \"rg-cmk\"\n",
            "",
            SpecRule::MissingField,
            1,
            1,
            "missing field `resource_group`",
            None,
        ),
        ("[vault]", "[vault", SpecRule::Syntax, 6, 7, "", None),
    ];
    for (from, to, rule, line, column, message, did_you_mean) in cases {
        let text = SPEC.replacen(from, to, 1);
        let problem = refused(&text, "spec.toml");
        assert_eq!(problem.rule, *rule, "{to}: {problem}");
        assert_eq!(
            problem.position,
            Some(Position {
                line: *line,
                column: *column
            }),
            "{to}: {problem}"
        );
        assert!(problem.message.contains(message), "{to}: {problem}");
        assert_eq!(
            problem.did_you_mean.as_deref(),
            *did_you_mean,
            "{to}: {problem}"
        );
        let shown = problem.to_string();
        assert!(
            shown.starts_with(&format!("spec.toml:{line}:{column}: ")),
            "{shown}"
        );
    }
}

#[test]
fn json_problems_are_placed_with_their_rule() {
    let text = r#"{"subscription_id": "00000000-0000-0000-0000-000000000001",
 "resource_group": "rg", "location": "westeurope", "flow": "standard",
 "vault": {"name": "cmk-vault", "purge_protecton": true}}"#;
    let problem = refused(text, "spec.json");
    assert_eq!(problem.rule, SpecRule::UnknownField);
    assert_eq!(problem.position.map(|p| p.line), Some(3));
    assert_eq!(problem.did_you_mean.as_deref(), Some("purge_protection"));
    assert!(!problem.message.contains(" at line "), "{problem}");
    assert!(problem.to_string().starts_with("spec.json:3:"), "{problem}");
}

#[test]
fn a_name_far_from_every_field_suggests_none() {
    assert_eq!(
        nearest_name("unknown field `zzz`, expected `name` or `sku`"),
        None
    );
    assert_eq!(
        nearest_name("unknown field `skus`, expected `name` or `sku`").as_deref(),
        Some("sku")
    );
}

#[test]
fn positions_count_characters_from_one() {
    assert_eq!(position_of("ab\ncé\nx", 7), Position { line: 3, column: 1 });
    assert_eq!(position_of("ab\ncéd", 6), Position { line: 2, column: 3 });
    assert_eq!(position_of("", 0), Position { line: 1, column: 1 });
}
