//! `cargo xtask tidy`: rust-analyzer's `tidy`, small. Every Rust file of the project opens with
//! a `//!` doc line, none holds a construct of [`FORBIDDEN`], and the modules of the crates in
//! [`ACYCLIC_CRATES`] import each other in no circle (read by [`module_graph`]).

use crate::module_graph;
use std::{path::Path, process::Command};

/// What `tidy` refuses anywhere in the project's Rust sources, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "danger_accept_invalid",
        "certificate validation is never turned off",
    ),
    (".dangerous()", "certificate validation is never turned off"),
    ("todo!(", "no stubs"),
    ("unimplemented!(", "no stubs"),
    ("dbg!(", "no stray debugging output"),
];

/// This file, which names the needles of [`FORBIDDEN`] to look for them.
const THIS_FILE: &str = "xtask/src/tidy.rs";

/// Crates whose modules must not import each other in a circle (checked from their `use` lines
/// and paths by [`module_graph`]): every crate of ours with a `src` directory. (`examples/` and
/// `tests/` hold several crates side by side, each a file or two.)
pub const ACYCLIC_CRATES: &[&str] = &[
    "crates/core",
    "crates/keyvault",
    "crates/identity",
    "crates/aci",
    "crates/encrypted_deployment",
    "crates/posture",
    "crates/emulator",
    "crates/arm_template",
    "crates/cli",
    "bench",
    "xtask",
];

/// Runs the checks over `git ls-files`, so it sees what is committed and staged, not build
/// output; an error listing every problem found.
pub fn run() -> Result<(), String> {
    let out = Command::new("git")
        .args(["ls-files", "*.rs"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let files = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in files.lines().filter(|f| !f.starts_with("fuzz/")) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        checked += 1;
        let opens_with_doc = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.starts_with("//!"));
        if !opens_with_doc {
            problems.push(format!(
                "{file}: no `//!` line saying what the module holds"
            ));
        }
        for (needle, why) in FORBIDDEN {
            if file != THIS_FILE && text.contains(needle) {
                problems.push(format!("{file}: contains `{needle}` ({why})"));
            }
        }
    }
    for krate in ACYCLIC_CRATES {
        let src = Path::new(krate).join("src");
        if !src.exists() {
            continue;
        }
        for cycle in module_graph::cycles(&src)? {
            problems.push(format!(
                "{krate}: modules import each other in a circle: {}",
                cycle.join(" → ")
            ));
        }
    }
    if problems.is_empty() {
        eprintln!(
            "xtask tidy: {checked} files, every module documented, nothing forbidden, no import cycle in {}",
            ACYCLIC_CRATES.join(", ")
        );
        Ok(())
    } else {
        Err(format!("tidy:\n  {}", problems.join("\n  ")))
    }
}
