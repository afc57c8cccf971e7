//! Every name and GUID parser: no panic; a parsed value's display parses back to it.
#![no_main]

use aci_cmk_core::names::{
    AppId, ClientId, ContainerGroupName, ContainerName, IdentityName, KeyName, KeyVersion,
    Location, PrincipalId, ResourceGroupName, SubscriptionId, TenantId, VaultName,
};
use libfuzzer_sys::fuzz_target;
use std::{fmt::Display, str::FromStr};

fn check<T: FromStr + Display + PartialEq>(s: &str) {
    if let Ok(value) = s.parse::<T>() {
        let shown = value.to_string();
        let again = shown.parse::<T>().ok();
        assert!(again.as_ref() == Some(&value), "{s:?} -> {shown:?} does not round-trip");
    }
}

fuzz_target!(|s: &str| {
    check::<ResourceGroupName>(s);
    check::<Location>(s);
    check::<IdentityName>(s);
    check::<ContainerGroupName>(s);
    check::<ContainerName>(s);
    check::<VaultName>(s);
    check::<KeyName>(s);
    check::<KeyVersion>(s);
    check::<SubscriptionId>(s);
    check::<TenantId>(s);
    check::<PrincipalId>(s);
    check::<ClientId>(s);
    check::<AppId>(s);
});
