//! The CMK posture of a subscription, audited and remediated: `cargo run --example posture`.
//!
//! Against the embedded emulator: seeds a messy subscription (`aci_cmk_posture::seed`) with
//! every kind of finding beside clean resources; audits it — prints the table and writes
//! `target/posture/audit.sarif` and `target/posture/audit.json`; plans the remediation;
//! remediates in place, then with disruptive steps allowed (re-creating groups); audits again
//! and prints, per kind, found → remaining.
//!
//! Exits non-zero if the first audit misses a seeded finding or reports one on a clean
//! resource, if a step fails, or if the last audit still has a finding a step could fix.

use aci_cmk_core::cloud::EmulatorProfile;
use aci_cmk_emulator::{Emulator, EmulatorOptions, TimingProfile};
use aci_cmk_encrypted_deployment::{Backends, Connection};
use aci_cmk_posture::{
    AuditOptions, AuditReport, AuditScope, Auditor, Clock, FindingKind, RemediateOptions,
    RemediationOptions, Remediator,
    remediation::{CmkTarget, Disruption},
    remediation_plan,
    seed::{Messy, target_spec},
};
use std::{
    collections::{BTreeMap, BTreeSet},
    error::Error,
    path::Path,
    process::ExitCode,
};

/// What went wrong, one line each.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, holds: bool, problem: impl FnOnce() -> String) {
        if !holds {
            let problem = problem();
            println!("  [FAILED] {problem}");
            self.0.push(problem);
        }
    }
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn Error>> {
    let emulator = Emulator::start(EmulatorOptions {
        timing: TimingProfile::Instant,
        ..EmulatorOptions::default()
    })
    .await?;
    let profile = EmulatorProfile::from_ready_line(&emulator.info().to_ready_line())?;
    let backends = Backends::connect(&Connection::emulator(&profile)?).await?;
    let admin = emulator.admin().clone();
    let mut problems = Problems::default();

    println!("== seed: a messy subscription beside clean resources");
    let mut messy = Messy::build(&backends, &admin).await?;
    messy.remove_aci_principal(&admin)?;
    println!(
        "  {} groups, {} findings to find",
        messy.group_specs.len(),
        messy.expected.len()
    );

    // The audit reads the emulator's clock; the deployer may unwrap (it manages the keys).
    let clock_admin = admin.clone();
    let clock = Clock::from_fn(move || clock_admin.now());
    let auditor = Auditor::new(
        backends.clone(),
        AuditOptions::default()
            .with_clock(clock.clone())
            .with_min_rsa_key_bits(3072)
            .with_allowed_unwrap_principal(backends.deployer.object_id.clone()),
    );
    let scope = AuditScope::subscription().with_specs(messy.specs.clone());

    println!("\n== audit");
    let first = auditor.audit(&scope).await?;
    println!("{first}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/posture");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("audit.sarif"), first.to_sarif_json()?)?;
    std::fs::write(dir.join("audit.json"), first.to_json()?)?;
    println!("  written: {}", dir.join("audit.{sarif,json}").display());
    check_first_audit(&first, &messy, &mut problems);

    println!("\n== plan");
    let subscription = profile.subscription_id.clone();
    let mut options = RemediationOptions::default()
        .with_cmk_target(CmkTarget::Deploy(Box::new(target_spec(&subscription)?)));
    // The seed knows each group's spec, secure values included: what Azure never returns.
    for (id, spec) in &messy.group_specs {
        options = options.with_group_spec(id, spec.clone());
    }
    let plan = remediation_plan(&first, &options);
    println!("{plan}");

    let remediator = Remediator::new(backends.clone());
    let applying = RemediateOptions::default().applying().with_clock(clock);
    println!("== remediate in place");
    let in_place = remediator.remediate(&plan, applying.clone()).await;
    println!("{in_place}");
    println!("== remediate, disruptive steps allowed");
    let all = remediator
        .remediate(&plan, applying.with_disruptive(true))
        .await;
    println!("{all}");
    for report in [&in_place, &all] {
        for step in report.failed() {
            problems.check(false, || {
                format!("step {} failed: {}", step.id, step.outcome)
            });
        }
    }
    let in_place_ok = in_place
        .steps
        .iter()
        .filter(|s| s.disruption == Disruption::InPlace)
        .all(|s| s.outcome.succeeded());
    problems.check(in_place_ok, || "an in-place step did not succeed".into());

    println!("\n== audit again");
    let last = auditor.audit(&scope).await?;
    println!("{last}");
    print_found_remaining(&first, &last);

    // Every finding a step fixed is gone; nothing is left that a step could fix.
    let left: BTreeSet<&str> = last
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    for step in all.steps.iter().filter(|s| s.outcome.succeeded()) {
        for fixed in &step.fixes {
            problems.check(!left.contains(fixed.fingerprint.as_str()), || {
                format!(
                    "{} on {} is still there after {}",
                    fixed.kind, fixed.resource_id, step.id
                )
            });
        }
    }
    let again = remediation_plan(&last, &options);
    for step in &again.steps {
        problems.check(false, || {
            format!("still remediable: {} ({})", step.id, step.summary)
        });
    }

    emulator.shutdown().await;
    if problems.0.is_empty() {
        println!("\nposture: every seeded finding found, every remediable one fixed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nposture: {} problem(s)", problems.0.len());
        Ok(ExitCode::FAILURE)
    }
}

/// The first audit finds every seeded finding, every kind, and nothing else on the clean
/// resources.
fn check_first_audit(report: &AuditReport, messy: &Messy, problems: &mut Problems) {
    let found: BTreeSet<(FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.resource_id.to_ascii_lowercase()))
        .collect();
    for want in &messy.expected {
        problems.check(found.contains(want), || {
            format!("the audit missed {} on {}", want.0, want.1)
        });
    }
    let kinds: BTreeSet<FindingKind> = report.findings.iter().map(|f| f.kind).collect();
    for kind in FindingKind::ALL {
        problems.check(kinds.contains(kind), || format!("no {kind} finding"));
    }
    let expected: BTreeSet<&(FindingKind, String)> = messy.expected.iter().collect();
    for f in &report.findings {
        let resource = f.resource_id.to_ascii_lowercase();
        let on_clean = messy.clean.contains(&resource);
        problems.check(
            !on_clean || expected.contains(&(f.kind, resource.clone())),
            || format!("{} on the clean resource {}", f.kind, f.resource_id),
        );
    }
}

/// Per kind, how many findings the first audit had and the last one has.
fn print_found_remaining(first: &AuditReport, last: &AuditReport) {
    let before = first.count_by_kind();
    let after: BTreeMap<FindingKind, usize> = last.count_by_kind();
    println!("  {:<34} found → remaining", "KIND");
    for kind in FindingKind::ALL {
        let (b, a) = (
            before.get(kind).copied().unwrap_or(0),
            after.get(kind).copied().unwrap_or(0),
        );
        if b > 0 || a > 0 {
            println!("  {:<34} {b:>5} → {a}", kind.id());
        }
    }
}
