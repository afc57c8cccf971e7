//! `cargo xtask deps`: the dependency checks, from `cargo tree`, offline: one TLS stack and one
//! crypto provider (none of [`BANNED`] beside rustls on aws-lc-rs), and every third-party
//! license on the allow-list ([`licenses`](crate::licenses)).

use crate::{cargo, licenses::license_allowed};
use std::time::Instant;

/// Packages that would be a second TLS stack or crypto provider beside rustls on aws-lc-rs.
const BANNED: &[(&str, &str)] = &[
    ("openssl", "OpenSSL bindings: a second TLS stack"),
    ("openssl-sys", "OpenSSL bindings: a second TLS stack"),
    ("native-tls", "the platform TLS stack: a second TLS stack"),
    ("ring", "a second crypto provider beside aws-lc-rs"),
];

/// Checks the resolved dependency graph of the workspace (normal, build and dev dependencies,
/// for the host platform, with features resolved as cargo builds them):
///
/// - one TLS stack and one crypto provider: none of [`BANNED`] is built;
/// - every third-party package's license expression is satisfied by
///   [`ALLOWED_LICENSES`](crate::licenses::ALLOWED_LICENSES) and
///   [`ALLOWED_EXCEPTIONS`](crate::licenses::ALLOWED_EXCEPTIONS). Our own path crates are not
///   checked (they are MIT, or unpublished).
///
/// The graph comes from `cargo tree`, not `cargo metadata`: metadata's `resolve` (like
/// `Cargo.lock`) also lists optional dependencies that a weak feature (`ring?/alloc` in
/// rustls-webpki) names without enabling, so it shows `ring` although nothing builds it.
/// Offline first; with `--locked` only when the registry cache lacks a package.
pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let args = [
        "tree",
        "--workspace",
        "--locked",
        "--edges",
        "normal,build,dev",
        "--prefix",
        "none",
        "--format",
        "{p}\t{l}",
    ];
    let run = |offline: bool| {
        let mut command = cargo::command();
        command.args(args);
        if offline {
            command.arg("--offline");
        }
        command
            .output()
            .map_err(|e| format!("cannot run cargo tree: {e}"))
    };
    let mut output = run(true)?;
    if !output.status.success() {
        eprintln!("xtask deps: the offline registry cache is incomplete; resolving with --locked");
        output = run(false)?;
    }
    if !output.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|e| format!("cargo tree printed something that is not UTF-8: {e}"))?;
    let packages = parse_tree(&text);
    let report = check_packages(&packages);
    if !report.problems.is_empty() {
        for problem in &report.problems {
            eprintln!("xtask deps: {problem}");
        }
        return Err(format!(
            "{} dependency problem(s); `cargo tree -i <package>` shows who pulls a package in",
            report.problems.len()
        ));
    }
    eprintln!(
        "xtask deps: {} packages ({} third-party), TLS {}, crypto {}, licenses ok ({} by exception) in {:.0?}",
        packages.len(),
        report.third_party,
        report.tls.join(" + "),
        report.crypto.join(" + "),
        report.exceptions,
        started.elapsed()
    );
    Ok(())
}

/// One package of the graph, as `cargo tree --format "{p}\t{l}"` prints it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Package {
    name: String,
    version: String,
    /// Built from a local path: one of ours.
    local: bool,
    /// The SPDX expression, empty when the package declares none.
    license: String,
}

/// The distinct packages of `cargo tree --prefix none --format "{p}\t{l}"` output.
fn parse_tree(text: &str) -> Vec<Package> {
    let mut packages: Vec<Package> = text
        .lines()
        .filter_map(|line| {
            // A package with no license ends in the tab: trim nothing else.
            let line = line.trim_end_matches(['\r', '\n']);
            let line = line.strip_suffix(" (*)").unwrap_or(line);
            let (id, license) = line.split_once('\t')?;
            let mut words = id.splitn(3, ' ');
            let name = words.next()?.to_owned();
            let version = words.next()?.trim_start_matches('v').to_owned();
            let source = words.next().unwrap_or("");
            let source = source.trim_start_matches('(').trim_end_matches(')');
            let local = !source.is_empty()
                && source != "proc-macro"
                && !source.contains("://")
                && !source.starts_with("registry+");
            Some(Package {
                name,
                version,
                local,
                license: license.trim().to_owned(),
            })
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// What [`check_packages`] found.
#[derive(Debug, Default)]
struct DepsReport {
    problems: Vec<String>,
    third_party: usize,
    exceptions: usize,
    tls: Vec<String>,
    crypto: Vec<String>,
}

fn check_packages(packages: &[Package]) -> DepsReport {
    let mut report = DepsReport::default();
    for package in packages {
        let id = format!("{} {}", package.name, package.version);
        if let Some((_, why)) = BANNED.iter().find(|(name, _)| *name == package.name) {
            report.problems.push(format!("{id} is in the tree: {why}"));
        }
        match package.name.as_str() {
            "rustls" => report.tls.push(id.clone()),
            "aws-lc-rs" => report.crypto.push(id.clone()),
            _ => {}
        }
        if package.local {
            continue;
        }
        report.third_party += 1;
        match license_allowed(&package.license) {
            Ok(false) => report.problems.push(format!(
                "{id} has license {:?}, which the allow-list does not cover",
                package.license
            )),
            Ok(true) => {
                if package.license.contains(" WITH ") {
                    report.exceptions += 1;
                }
            }
            Err(e) => report.problems.push(format!(
                "{id}: cannot read its license {:?}: {e}",
                package.license
            )),
        }
    }
    if report.tls.is_empty() {
        report
            .problems
            .push("rustls is not in the tree: which TLS stack is?".to_owned());
    }
    if report.crypto.is_empty() {
        report
            .problems
            .push("aws-lc-rs is not in the tree: which crypto provider is?".to_owned());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_lines() {
        let text = "aci_cmk_core v0.1.0 (/work/main/crates/core)\tMIT\n\
                    ring v0.17.14\tApache-2.0 AND ISC\n\
                    ring v0.17.14\tApache-2.0 AND ISC (*)\n\
                    async-trait v0.1.92 (proc-macro)\tMIT OR Apache-2.0\n\
                    \n\
                    xtask v0.1.0 (/work/main/xtask)\t\n\
                    gitdep v1.0.0 (https://example.invalid/x#abc)\tGPL-3.0\n";
        let packages = parse_tree(text);
        let names: Vec<(&str, bool)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.local))
            .collect();
        assert_eq!(
            names,
            [
                ("aci_cmk_core", true),
                ("async-trait", false),
                ("gitdep", false),
                ("ring", false),
                ("xtask", true),
            ]
        );
        let report = check_packages(&packages);
        assert_eq!(report.problems.len(), 4, "{:?}", report.problems);
        assert!(report.problems[0].contains("gitdep 1.0.0 has license"));
        assert!(report.problems[1].contains("ring 0.17.14 is in the tree"));
        assert!(report.problems[2].contains("rustls is not in the tree"));
        assert!(report.problems[3].contains("aws-lc-rs is not in the tree"));
        assert_eq!(
            report.third_party, 3,
            "our path crates are not license-checked"
        );
    }
}
