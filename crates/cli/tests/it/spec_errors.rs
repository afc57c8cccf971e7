//! A spec with a typo is refused before anything connects: exit 1, `spec.toml:LINE:COLUMN`,
//! the rule and the nearest field name, in text and JSON.

use crate::support::WorkDir;

#[test]
fn a_typo_is_placed_and_named_before_anything_connects() {
    let dir = WorkDir::new("typo");
    dir.run(&[
        "init",
        "spec.toml",
        "--subscription",
        "00000000-0000-0000-0000-00000000abcd",
    ])
    .exits(0);
    let spec = std::fs::read_to_string(dir.path("spec.toml")).expect("spec");
    let line = 1 + spec
        .lines()
        .position(|l| l.starts_with("image = "))
        .expect("an image line");
    std::fs::write(
        dir.path("spec.toml"),
        spec.replace("\nimage = ", "\nimgae = "),
    )
    .expect("written");

    let text = dir.run(&["plan", "spec.toml", "--emulator"]).exits(1);
    assert!(
        text.stderr
            .starts_with(&format!("error: spec.toml:{line}:1: unknown field `imgae`")),
        "{text}"
    );
    assert!(text.stderr.contains("(did you mean `image`?)"), "{text}");
    assert!(text.stdout.is_empty(), "{text}");

    let json = dir
        .run(&["apply", "spec.toml", "--emulator", "--output", "json"])
        .exits(1);
    let document = json.document();
    let error = &document["error"];
    assert_eq!(document["ok"], false);
    assert_eq!(document["exit_code"], 1);
    assert_eq!(error["kind"], "spec");
    assert_eq!(error["rule"], "unknown_field");
    assert_eq!(error["line"], line);
    assert_eq!(error["column"], 1);
    assert_eq!(error["did_you_mean"], "image");
    assert!(json.stderr.is_empty(), "{json}");

    assert!(
        !dir.path(".aci-cmk").exists(),
        "no emulator was started for a refused spec"
    );
}
