//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: the one gate CI runs: format check, the dependency checks, clippy with
//!   warnings denied, the whole test suite, and the docs with warnings denied. If it passes
//!   locally, CI is green.
//! - `cargo xtask deps`: the dependency checks alone (see [`deps`]).
//! - `cargo xtask emulator [ARGS]`: runs the local Azure emulator (`--port 0`, `--state-dir DIR`).
//! - `cargo xtask tidy`: every module documented, nothing forbidden, no import cycle in the
//!   crates [`ACYCLIC_CRATES`] names.
//! - `cargo xtask bench [ARGS]`: builds the emulator and the benchmarks with `--release` and runs
//!   them (see `bench/`); writes `target/bench/results.json` and prints a table.
//! - `cargo xtask chaos [--runs N] [--seed S] [--timing P]`: random flows on random fault schedules, killed at
//!   a random point and run again; every run must converge (release build). `ci` runs a few.
//!
//! xtask has no dependencies so that it compiles in a second.

mod module_graph;

use std::{
    env,
    process::{Command, ExitCode},
    time::Instant,
};

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("ci") => ci(),
        Some("deps") => deps(),
        Some("tidy") => tidy(),
        Some("emulator") => emulator(&rest),
        Some("bench") => bench(&rest),
        Some("chaos") => chaos(&rest),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci                 fmt check, deps, clippy -D warnings, tests, docs -D warnings\n  \
         deps               one TLS stack and crypto provider; licenses on the allow-list\n  \
         tidy               every module documented; no disabled TLS checks, todo! or dbg!; no import cycles\n  \
         emulator [ARGS]    run the local Azure emulator (e.g. --port 0 --state-dir DIR)\n  \
         bench [ARGS]       release-build and run the benchmarks (target/bench/results.json + a table)\n  \
         chaos [ARGS]       --runs N --seed S --timing instant|fast|azure: random faults and kills; every run must converge"
    );
}

/// One step of a task: a cargo command with extra environment.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

fn ci() -> Result<(), String> {
    let steps = [
        Step {
            name: "format",
            args: &["fmt", "--all", "--", "--check"],
            env: &[],
        },
        Step {
            name: "clippy",
            args: &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            env: &[],
        },
        Step {
            name: "tests",
            args: &["test", "--workspace"],
            env: &[],
        },
        Step {
            name: "docs",
            args: &["doc", "--workspace", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
        // A few chaos runs, on the debug build the tests already made; a fixed seed so a failure
        // replays (`cargo xtask chaos --seed 1 --runs 6 --verbose`).
        Step {
            name: "chaos",
            args: &[
                "run",
                "-q",
                "-p",
                "aci-cmk-integration-tests",
                "--bin",
                "aci-cmk-chaos",
                "--",
                "--runs",
                "6",
                "--seed",
                "1",
            ],
            env: &[],
        },
    ];
    let started = Instant::now();
    for (i, step) in steps.iter().enumerate() {
        // The dependency checks take a fraction of a second: before clippy, after fmt.
        if i == 1 {
            deps()?;
            tidy()?;
        }
        run_cargo(step)?;
    }
    eprintln!("xtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn chaos(args: &[String]) -> Result<(), String> {
    let status = Command::new(cargo())
        .args([
            "run",
            "-q",
            "--release",
            "-p",
            "aci-cmk-integration-tests",
            "--bin",
            "aci-cmk-chaos",
            "--",
        ])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("chaos runs did not all converge ({status})"))
}

fn emulator(args: &[String]) -> Result<(), String> {
    let mut command = Command::new(cargo());
    command
        .args(["run", "-q", "-p", "aci_cmk_emulator", "--"])
        .args(args);
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("the emulator exited with {status}"))
}

/// `cargo xtask bench [ARGS]`: builds the emulator and the benchmark binary with `--release`,
/// then runs `aci-cmk-bench --emulator-bin <release emulator> --out target/bench/results.json
/// ARGS` from the workspace root.
fn bench(args: &[String]) -> Result<(), String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask has no parent directory")?
        .to_path_buf();
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    run_cargo(&Step {
        name: "bench build",
        args: &[
            "build",
            "--release",
            "-p",
            "aci_cmk_emulator",
            "-p",
            "aci-cmk-bench",
        ],
        env: &[],
    })?;
    let release = target.join("release");
    let mut command = Command::new(release.join("aci-cmk-bench"));
    command
        .current_dir(&root)
        .arg("--emulator-bin")
        .arg(release.join("aci-cmk-emulator"))
        .arg("--out")
        .arg(target.join("bench").join("results.json"))
        .args(args);
    let status = command
        .status()
        .map_err(|e| format!("cannot run aci-cmk-bench: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("the benchmarks failed ({status})"))
}

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

/// Crates whose modules must not import each other in a circle (checked from their `use` lines
/// and paths by [`module_graph`]).
const ACYCLIC_CRATES: &[&str] = &["crates/emulator", "crates/arm_template"];

/// rust-analyzer's `tidy`, small: every Rust file of the project opens with a `//!` doc line,
/// and none holds a forbidden construct. Reads `git ls-files`, so it sees what is committed
/// and staged, not build output.
fn tidy() -> Result<(), String> {
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
            // This file names the needles to look for them.
            if file != "xtask/src/main.rs" && text.contains(needle) {
                problems.push(format!("{file}: contains `{needle}` ({why})"));
            }
        }
    }
    for krate in ACYCLIC_CRATES {
        let src = std::path::Path::new(krate).join("src");
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

fn run_cargo(step: &Step) -> Result<(), String> {
    eprintln!("xtask ci: {} (cargo {})", step.name, step.args.join(" "));
    let started = Instant::now();
    let status = Command::new(cargo())
        .args(step.args)
        .envs(step.env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    eprintln!("xtask ci: {} took {:.0?}", step.name, started.elapsed());
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("step {:?} failed ({status})", step.name))
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

// ---------------------------------------------------------------------------------------------
// cargo xtask deps
// ---------------------------------------------------------------------------------------------

/// Packages that would be a second TLS stack or crypto provider beside rustls on aws-lc-rs.
const BANNED: &[(&str, &str)] = &[
    ("openssl", "OpenSSL bindings: a second TLS stack"),
    ("openssl-sys", "OpenSSL bindings: a second TLS stack"),
    ("native-tls", "the platform TLS stack: a second TLS stack"),
    ("ring", "a second crypto provider beside aws-lc-rs"),
];

/// License identifiers any dependency may use (alone or as one side of an `OR`).
const ALLOWED_LICENSES: &[&str] = &[
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
const ALLOWED_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "Apache-2.0",
    "LLVM-exception",
    "the exception only waives Apache-2.0 conditions for binaries (ar_archive_writer)",
)];

/// Checks the resolved dependency graph of the workspace (normal, build and dev dependencies,
/// for the host platform, with features resolved as cargo builds them):
///
/// - one TLS stack and one crypto provider: none of [`BANNED`] is built;
/// - every third-party package's license expression is satisfied by [`ALLOWED_LICENSES`] and
///   [`ALLOWED_EXCEPTIONS`]. Our own path crates are not checked (they are MIT, or unpublished).
///
/// The graph comes from `cargo tree`, not `cargo metadata`: metadata's `resolve` (like
/// `Cargo.lock`) also lists optional dependencies that a weak feature (`ring?/alloc` in
/// rustls-webpki) names without enabling, so it shows `ring` although nothing builds it.
/// Offline first; with `--locked` only when the registry cache lacks a package.
fn deps() -> Result<(), String> {
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
        let mut command = Command::new(cargo());
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

/// Whether the SPDX expression `expr` can be satisfied with the allowed licenses. `/` is read
/// as `OR` (old crates.io style); `AND` binds tighter than `OR`.
fn license_allowed(expr: &str) -> Result<bool, String> {
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
