//! ARM resource ids: no panic; canonical display round-trips; the parent chain ends.
#![no_main]

use aci_cmk_core::resource_id::ResourceId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(id) = s.parse::<ResourceId>() {
        let shown = id.to_string();
        let again: ResourceId = shown.parse().expect("the canonical form parses");
        assert_eq!(again, id);
        assert_eq!(again.to_string(), shown);
        let _ = (id.name(), id.resource_type(), id.provider_namespace());
        let mut next = id.parent();
        let mut hops = 0;
        while let Some(parent) = next {
            hops += 1;
            assert!(hops < 1024, "the parent chain of {s:?} does not end");
            next = parent.parent();
        }
    }
});
