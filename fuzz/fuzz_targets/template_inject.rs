//! The template injector on any JSON: no panic; a typed error, or a template that reads back
//! and that a second injection leaves as it is.
#![no_main]

use aci_cmk_encrypted_deployment::template::{TemplateEncryption, inject_encryption};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id";

fuzz_target!(|data: &[u8]| {
    let Some((flag, json)) = data.split_first() else {
        return;
    };
    let Ok(template) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let mut encryption = TemplateEncryption::standard(
        "https://v.vault.azure.net",
        "k",
        "0123456789abcdef0123456789abcdef",
    );
    if flag & 1 == 1 {
        encryption = encryption.with_identity(UAI);
    }
    if let Ok((patched, _)) = inject_encryption(&template, &encryption) {
        let text = serde_json::to_string(&patched).expect("serializes");
        let _: Value = serde_json::from_str(&text).expect("reads back");
        let (again, changes) =
            inject_encryption(&patched, &encryption).expect("takes the same encryption again");
        assert!(changes.is_empty(), "not idempotent: {changes:?}");
        assert_eq!(again, patched);
    }
});
