//! The time boundaries against the emulator, on its clock (never a sleep): a version expiring
//! exactly 30 days from the audit's time is within the warning window and one a second later is
//! not; moving the emulator's clock on brings the second in, and at `exp` the first is expired
//! (ACI can no longer unwrap it).

use crate::Env;
use aci_cmk_keyvault::keys::{CreateKeyOptions, KeySize, RsaKeyType};
use aci_cmk_posture::seed::VaultSetup;
use aci_cmk_posture::{AuditScope, Auditor, Clock, Evidence, FindingKind, evidence::Unusable};
use std::collections::BTreeSet;
use time::Duration;

fn groups_with(report: &aci_cmk_posture::AuditReport, kind: FindingKind) -> BTreeSet<String> {
    report
        .of_kind(kind)
        .filter_map(|f| f.resource_id.rsplit('/').next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn expiry_exactly_thirty_days_away_is_within_and_the_emulator_clock_moves_it() {
    let env = Env::start().await;
    let m = env.builder();
    let rg = m.rg("rg-expiry").await.expect("seeded");
    let aci = m.aci_principal().await.expect("seeded");
    let vault = m
        .vault(&rg, "kv-expiry", VaultSetup::new(false, true, false))
        .await
        .expect("seeded");
    m.grant(&vault, &aci).await.expect("seeded");
    // Key Vault keeps whole seconds.
    let now = env
        .emulator
        .admin()
        .now()
        .replace_nanosecond(0)
        .expect("whole second");
    let rsa = || CreateKeyOptions::new(RsaKeyType::Rsa, KeySize::Rsa2048);
    let at = m
        .key(&vault, "k-at", rsa().with_expires(now + Duration::days(30)))
        .await
        .expect("seeded");
    let after = m
        .key(
            &vault,
            "k-after",
            rsa().with_expires(now + Duration::days(30) + Duration::seconds(1)),
        )
        .await
        .expect("seeded");
    m.group(&rg, "g-at", Some(&at), None, &[])
        .await
        .expect("seeded");
    m.group(&rg, "g-after", Some(&after), None, &[])
        .await
        .expect("seeded");

    let fixed = Auditor::new(
        env.backends.clone(),
        env.options().with_clock(Clock::fixed(now)),
    );
    let report = fixed
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    assert_eq!(
        groups_with(&report, FindingKind::KeyVersionExpiresSoon),
        BTreeSet::from(["g-at".to_owned()])
    );
    let days: Vec<i64> = report
        .of_kind(FindingKind::KeyVersionExpiresSoon)
        .filter_map(|f| match &f.evidence {
            Evidence::KeyVersionExpiresSoon { days_left, .. } => Some(*days_left),
            _ => None,
        })
        .collect();
    assert_eq!(days, [30]);

    // A day on, by the emulator's clock: both are within.
    let admin = env.emulator.admin().clone();
    admin
        .advance(std::time::Duration::from_secs(86_400))
        .expect("clock moved");
    let live = Auditor::new(env.backends.clone(), env.options());
    let report = live
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    assert_eq!(
        groups_with(&report, FindingKind::KeyVersionExpiresSoon),
        BTreeSet::from(["g-at".to_owned(), "g-after".to_owned()])
    );

    // Exactly thirty days on (a fixed clock: the emulator's moves on with real time too): g-at's
    // version has expired — its exp is not after now — and g-after's has a second left.
    admin
        .advance(std::time::Duration::from_secs(29 * 86_400))
        .expect("clock moved");
    let exact = Auditor::new(
        env.backends.clone(),
        env.options()
            .with_clock(Clock::fixed(now + Duration::days(30))),
    );
    let report = exact
        .audit(&AuditScope::subscription())
        .await
        .expect("audited");
    assert_eq!(
        groups_with(&report, FindingKind::KeyVersionUnusable),
        BTreeSet::from(["g-at".to_owned()])
    );
    assert!(report.of_kind(FindingKind::KeyVersionUnusable).all(|f| matches!(
        &f.evidence,
        Evidence::KeyVersionUnusable { reasons, .. } if matches!(reasons[..], [Unusable::Expired { .. }])
    )));
    assert_eq!(
        groups_with(&report, FindingKind::KeyVersionExpiresSoon),
        BTreeSet::from(["g-after".to_owned()])
    );
}
