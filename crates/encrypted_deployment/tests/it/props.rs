//! Property tests of the inputs a user hands the orchestrator: the template injector on
//! arbitrary JSON, and the spec reader on arbitrary JSON and TOML text. No panic; a typed
//! error, or a result that holds its invariants.

use aci_cmk_encrypted_deployment::{
    spec::DeploymentSpec,
    template::{TemplateEncryption, TemplateError, inject_encryption},
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id";

/// Any JSON value, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Floats that serde_json's default (not `float_roundtrip`) parser reads back exactly.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 4.0)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one field of a container group: mostly plausible, sometimes anything.
fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(values).prop_map(|s| Value::String(s.to_owned())),
        1 => any_json(),
    ]
}

/// A resource of an ARM template: a container group (in any case) or another type, with
/// plausible and implausible api versions, skus, properties and identity blocks, and
/// sometimes nested resources.
fn resource() -> impl Strategy<Value = Value> {
    let leaf = (
        one_of(&[
            "Microsoft.ContainerInstance/containerGroups",
            "microsoft.containerinstance/CONTAINERGROUPS",
            "Microsoft.Storage/storageAccounts",
            "Microsoft.Resources/deployments",
        ]),
        prop::option::of(one_of(&[
            "2018-10-01",
            "2019-12-01",
            "2021-10-01",
            "2022-09-01",
            "2023-05-01",
            "2022-10-01-preview",
            "[variables('api')]",
            "2022-9-1",
            "",
            "２０２２-０９-０１",
        ])),
        prop::option::of(one_of(&["cg", "[parameters('name')]", ""])),
        prop::option::of(prop_oneof![
            4 => prop::option::of(one_of(&[
                "Standard",
                "standard",
                "Dedicated",
                "Confidential",
                "[parameters('sku')]",
            ]))
            .prop_map(|sku| {
                let mut props = json!({"osType": "Linux", "containers": []});
                if let Some(sku) = sku {
                    props["sku"] = sku;
                }
                props
            }),
            1 => any_json(),
        ]),
        prop::option::of(prop_oneof![
            3 => (
                one_of(&[
                    "None",
                    "SystemAssigned",
                    "UserAssigned",
                    "SystemAssigned,UserAssigned",
                    "SystemAssigned, UserAssigned",
                    "Magic",
                ]),
                prop::option::of(prop_oneof![
                    Just(json!({})),
                    Just(json!({ UAI: {} })),
                    Just(json!({ UAI.to_uppercase(): {} })),
                    any_json(),
                ]),
            )
                .prop_map(|(kind, ids)| {
                    let mut block = json!({ "type": kind });
                    if let Some(ids) = ids {
                        block["userAssignedIdentities"] = ids;
                    }
                    block
                }),
            1 => any_json(),
        ]),
    )
        .prop_map(|(kind, api, name, properties, identity)| {
            let mut object = Map::new();
            object.insert("type".into(), kind);
            for (key, value) in [
                ("apiVersion", api),
                ("name", name),
                ("properties", properties),
                ("identity", identity),
            ] {
                if let Some(value) = value {
                    object.insert(key.into(), value);
                }
            }
            Value::Object(object)
        });
    leaf.prop_recursive(3, 12, 3, |inner| {
        (inner.clone(), prop::collection::vec(inner, 0..3)).prop_map(|(mut parent, children)| {
            if let Some(object) = parent.as_object_mut() {
                object.insert("resources".into(), Value::Array(children));
            }
            parent
        })
    })
}

/// A template: usually an object with a resources array, sometimes any JSON at all.
fn template() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (prop::collection::vec(resource(), 0..4), any_json()).prop_map(|(resources, extra)| {
            json!({
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "parameters": extra,
                "resources": resources,
            })
        }),
        1 => any_json(),
    ]
}

fn encryption() -> impl Strategy<Value = TemplateEncryption> {
    (
        prop_oneof![
            Just("https://v.vault.azure.net".to_owned()),
            any::<String>()
        ],
        prop_oneof![Just("k".to_owned()), any::<String>()],
        prop_oneof![
            Just("0123456789abcdef0123456789abcdef".to_owned()),
            Just("[parameters('keyVersion')]".to_owned()),
            any::<String>(),
        ],
        prop::option::of(prop_oneof![Just(UAI.to_owned()), any::<String>()]),
    )
        .prop_map(|(url, key, version, identity)| {
            let encryption = TemplateEncryption::standard(url, key, version);
            match identity {
                Some(identity) => encryption.with_identity(identity),
                None => encryption,
            }
        })
}

/// Every container group of `resources` (nested ones too).
fn groups(resources: &Value, out: &mut Vec<Value>) {
    for resource in resources.as_array().into_iter().flatten() {
        let is_group = resource["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.ContainerInstance/containerGroups"));
        if is_group {
            out.push(resource.clone());
        }
        groups(&resource["resources"], out);
    }
}

/// A valid TOML spec; `{secure}` is the secure environment value.
const SPEC_TOML: &str = r#"
subscription_id = "00000000-0000-0000-0000-000000000001"
resource_group = "rg-cmk"
location = "East US"

[vault]
name = "contoso-cmk"
ip_rules = ["10.0.0.1"]

[key.create]
name = "aci-cmk"

[flow.network_protected]
identity_name = "aci-cmk-id"

[container_group]
name = "hello"
public_ports = [80]

[[container_group.containers]]
name = "app"
image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
cpu = 0.5
env = { GREETING = "hi" }
secure_env = { TOKEN = "{secure}" }
"#;

/// Edits of a valid text: cut a range, insert text, or replace a range.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let insert = prop_oneof![
        any::<String>(),
        prop::sample::select(
            &[
                "\"",
                "[",
                "]",
                "{",
                "}",
                "=",
                "\n",
                "[[",
                "]]",
                ",",
                ":",
                "\\",
                "\\u",
                "1e999",
                "-1",
                "null",
                "true",
                "nan",
                "inf",
                "[key.existing]",
                "id = \"https://x.vault.azure.net/keys/k\"",
                "[template]",
                "deployment_name = \"d\"",
                "template = {}",
            ][..]
        )
        .prop_map(str::to_owned),
    ];
    (0..=base.len(), 0..=base.len(), insert, 0..3u8).prop_map(move |(a, b, text, op)| {
        let (lo, hi) = (a.min(b), a.max(b));
        let (lo, hi) = (floor_char(base, lo), floor_char(base, hi));
        match op {
            0 => format!("{}{}", &base[..lo], &base[hi..]),
            1 => format!("{}{text}{}", &base[..lo], &base[lo..]),
            _ => format!("{}{text}{}", &base[..lo], &base[hi..]),
        }
    })
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A JSON spec whose fields are sometimes replaced by arbitrary JSON.
fn json_spec() -> impl Strategy<Value = String> {
    let base: Value = {
        let spec = DeploymentSpec::from_toml_str(&SPEC_TOML.replace("{secure}", "s3cret"))
            .expect("the base spec is valid");
        serde_json::to_value(&spec).expect("serializes")
    };
    let paths: &'static [&'static [&'static str]] = &[
        &["subscription_id"],
        &["location"],
        &["tags"],
        &["vault"],
        &["vault", "name"],
        &["vault", "soft_delete_retention_days"],
        &["vault", "ip_rules"],
        &["key"],
        &["flow"],
        &["container_group", "containers"],
        &["container_group", "public_ports"],
        &["template"],
    ];
    prop::collection::vec((prop::sample::select(paths), any_json()), 0..3).prop_map(move |edits| {
        let mut spec = base.clone();
        for (path, value) in edits {
            let mut at = &mut spec;
            for key in &path[..path.len() - 1] {
                at = &mut at[*key];
            }
            if let Some(object) = at.as_object_mut() {
                object.insert(path[path.len() - 1].to_owned(), value);
            }
        }
        spec.to_string()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn injector_is_total_and_idempotent(template in template(), encryption in encryption()) {
        match inject_encryption(&template, &encryption) {
            Err(error) => {
                prop_assert!(!error.to_string().is_empty());
                if !template["resources"].is_array() {
                    prop_assert_eq!(error, TemplateError::NoResources);
                }
            }
            Ok((patched, changes)) => {
                // The result is JSON that reads back as itself.
                let text = serde_json::to_string(&patched).expect("serializes");
                let reread: Value = serde_json::from_str(&text).expect("parses");
                prop_assert_eq!(&reread, &patched);
                // Only container groups changed, and each now has what the key needs.
                for change in &changes {
                    prop_assert!(!change.to_string().is_empty());
                }
                let mut found = Vec::new();
                groups(&patched["resources"], &mut found);
                prop_assert!(!found.is_empty());
                for group in &found {
                    prop_assert!(
                        group["properties"]["sku"]
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case("Standard")),
                        "{}", group
                    );
                    prop_assert_eq!(
                        &group["properties"]["encryptionProperties"]["keyName"],
                        &json!(encryption.key_name)
                    );
                    if let Some(identity) = &encryption.identity {
                        let ids = group["identity"]["userAssignedIdentities"]
                            .as_object()
                            .expect("an identity map");
                        prop_assert!(ids.keys().any(|k| k.eq_ignore_ascii_case(identity)));
                    }
                }
                let without_resources = |v: &Value| {
                    let mut v = v.clone();
                    if let Some(object) = v.as_object_mut() {
                        object.remove("resources");
                    }
                    v
                };
                prop_assert_eq!(
                    without_resources(&template),
                    without_resources(&patched),
                    "only resources change"
                );
                // Idempotent: injecting again changes nothing.
                let (again, more) = inject_encryption(&patched, &encryption)
                    .expect("an injected template takes the same encryption again");
                prop_assert!(more.is_empty(), "{:?}", more);
                prop_assert_eq!(again, patched);
            }
        }
    }

    #[test]
    fn spec_reader_takes_any_text(text in any::<String>()) {
        check_spec_text(&text);
    }

    #[test]
    fn spec_reader_takes_edited_toml(text in mutated(SPEC_TOML)) {
        check_spec_text(&text.replace("{secure}", "s3cret"));
    }

    #[test]
    fn spec_reader_takes_edited_json(text in json_spec()) {
        check_spec_text(&text);
    }

    #[test]
    fn spec_reader_takes_cut_json(text in json_spec(), cut in any::<prop::sample::Index>()) {
        let at = floor_char(&text, cut.index(text.len() + 1));
        check_spec_text(&text[..at]);
    }
}

/// Both readers on `text`: no panic; an error that renders; a spec that hides its secure
/// values, reads back from its own JSON, and passes its own check.
fn check_spec_text(text: &str) {
    for result in [
        DeploymentSpec::from_json_str(text),
        DeploymentSpec::from_toml_str(text),
    ] {
        match result {
            Err(error) => {
                assert!(!error.to_string().is_empty());
                let _ = format!("{error:?}");
            }
            Ok(spec) => {
                assert!(spec.check().is_ok());
                if let Some(group) = spec.workload.container_group() {
                    for container in &group.containers {
                        for value in container.secure_env.values() {
                            let secret = value.expose_secret();
                            let shown = format!("{value:?} {value}");
                            assert!(
                                secret.is_empty()
                                    || "***".contains(secret)
                                    || !shown.contains(secret),
                                "secure values never print: {shown}"
                            );
                        }
                    }
                }
                let json = serde_json::to_string(&spec).expect("serializes");
                let again = DeploymentSpec::from_json_str(&json)
                    .unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
                assert_eq!(again, spec);
            }
        }
    }
}
