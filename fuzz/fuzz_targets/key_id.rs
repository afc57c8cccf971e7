//! Key Vault key ids and vault URLs: no panic; canonical display round-trips.
#![no_main]

use aci_cmk_core::key_id::{KeyId, VaultUrl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(kid) = s.parse::<KeyId>() {
        let shown = kid.to_string();
        let again: KeyId = shown.parse().expect("the canonical form parses");
        assert_eq!(again, kid);
        let _ = kid.versionless();
    }
    if let Ok(url) = s.parse::<VaultUrl>() {
        let again: VaultUrl = url.to_string().parse().expect("the canonical form parses");
        assert_eq!(again, url);
    }
});
