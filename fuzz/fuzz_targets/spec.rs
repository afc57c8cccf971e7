//! The spec reader on any text, as JSON and as TOML: no panic; a spec reads back from its
//! own JSON.
#![no_main]

use aci_cmk_encrypted_deployment::spec::DeploymentSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for spec in [
        DeploymentSpec::from_json_str(text),
        DeploymentSpec::from_toml_str(text),
    ]
    .into_iter()
    .flatten()
    {
        let json = serde_json::to_string(&spec).expect("serializes");
        let again = DeploymentSpec::from_json_str(&json).expect("reads back");
        assert_eq!(again, spec);
    }
});
