//! An ARM template engine: the template expression language and its functions, parameters,
//! variables, `copy` loops, resource ids, `dependsOn` ordering and outputs.
//!
//! [`Engine::prepare`] reads a template and the deployment's parameter values, checks them,
//! evaluates every parameter and variable, expands `copy` loops and nested child resources,
//! computes each resource's id, resolves `dependsOn` (and the implicit dependencies of
//! `reference()` and of nested children) and orders the resources. A deployment then asks
//! for each resource's request body ([`Engine::body`]) in [`Engine::order`], records what the
//! resource provider answered ([`Engine::record`]) so later `reference()` calls see it, and
//! finally evaluates the outputs ([`Engine::outputs`]). The engine deploys nothing itself.
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use aci_cmk_arm_template::{Engine, Scope, parse_json_text, parse_template};
//! use serde_json::{Map, json};
//!
//! let text = r#"{
//!   // JSON5 is accepted, as ARM does.
//!   "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
//!   "contentVersion": "1.0.0.0",
//!   "parameters": {
//!     "prefix": {"type": "string", "defaultValue": "kv"},
//!     "secret": {"type": "secureString"},
//!   },
//!   "variables": {"name": "[concat(parameters('prefix'), '-', uniqueString(resourceGroup().id))]"},
//!   "resources": [],
//!   "outputs": {
//!     "name": {"type": "string", "value": "[variables('name')]"},
//!     "id": {"type": "string", "value": "[resourceId('Microsoft.KeyVault/vaults', variables('name'))]"},
//!     "length": {"type": "int", "value": "[length(parameters('secret'))]"},
//!   },
//! }"#;
//! let template = parse_template(&parse_json_text(text)?)?;
//! let mut parameters = Map::new();
//! parameters.insert("secret".to_owned(), json!({"value": "s3cret"}));
//! let scope = Scope {
//!     subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
//!     subscription_name: "sub".to_owned(),
//!     tenant_id: "00000000-0000-0000-0000-0000000000aa".to_owned(),
//!     resource_group: "rg".to_owned(),
//!     location: "westeurope".to_owned(),
//!     tags: BTreeMap::new(),
//!     deployment_name: "example".to_owned(),
//!     deployed_at: time::macros::datetime!(2026-12-01 12:00 UTC),
//! };
//! let engine = Engine::prepare(&template, &parameters, scope)?;
//! let outputs = engine.outputs()?;
//! let name = outputs["name"]["value"].as_str().unwrap_or_default();
//! assert!(name.starts_with("kv-") && name.len() == 16);
//! assert!(outputs["id"]["value"].as_str().unwrap_or_default().ends_with(name));
//! assert_eq!(outputs["length"]["value"], json!(6));
//! // Secure parameters are never returned.
//! assert_eq!(engine.parameters_json()["secret"], json!({"type": "SecureString"}));
//! # Ok::<(), aci_cmk_arm_template::TemplateError>(())
//! ```
//!
//! Modules: [`expr`] (tokenizer and parser), [`eval`] (evaluation, the [`eval::Host`] trait),
//! [`limits`] (how deep, large and costly a template may be); parameters, variables,
//! resource expansion, dependencies and outputs are internal.
//!
//! Supported: `$schema`, `contentVersion`, `parameters` (string, int, bool, object, array,
//! secureString, secureObject; defaultValue, allowedValues, minValue, maxValue, minLength,
//! maxLength), `variables` (with variable `copy` loops), `resources` (array, or an object of
//! symbolic names with `languageVersion` 2.0; type, apiVersion, name, location, dependsOn,
//! condition, copy, scope, nested `resources`, `existing`), `outputs` (type, value, condition,
//! copy).
//!
//! Robustness: every limit in [`limits`] holds for any input, and no input makes the engine
//! panic. A secure parameter's value never appears in an error message: each value carries
//! the secure parameters it derives from, and an error on such a value names them instead of
//! quoting it.

mod engine;
mod env;
mod error;
pub mod eval;
mod expand;
pub mod expr;
mod functions;
mod host;
mod json;
pub mod limits;
mod outputs;
mod parameters;
mod public_body;
mod resources;
mod scope;
mod secure;
mod text;
mod variables;

pub use engine::Engine;
pub use error::{EvalError, TemplateError, ValueError};
pub use parameters::ParamType;
pub use public_body::PublicBody;
pub use resources::{Resource, norm_id};
pub use scope::Scope;
pub use text::{parse_json_text, parse_template};
pub use variables::eval_standalone;
