//! Microsoft.Resources/deployments at resource-group scope: template deployments.
//!
//! - `PUT …/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}` runs the
//!   template (the `aci_cmk_arm_template` engine) inside the request: each resource goes through the same
//!   ARM routing as a direct request (the private `arm::route`, with the caller's claims), so the same
//!   validation and CMK rules apply; a long-running sub-PUT is followed in-process through its
//!   [`super::lro`] operation. The answer is 201 `Accepted` with `Azure-AsyncOperation` and
//!   `Location`; the deployment (and its operation) shows `Running` for
//!   [`COMPLETION_DELAY_MS`], then its terminal state.
//! - `GET`/`HEAD`/`DELETE` the deployment, list (`$filter=provisioningState eq 'X'`, `$top`),
//!   `POST …/validate`, `POST …/cancel`, and the deployment operations
//!   (`GET /subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations[/{id}]`,
//!   also under `providers/Microsoft.Resources`).
//!
//! Bodies are parsed leniently (JSON5: comments, trailing commas, bare keys), as the Azure CLI
//! sends them. Secure parameter values are never stored.
//!
//! [`records`] holds the deployments; [`request`] reads requests; [`run`] deploys a template's
//! resources; [`render`] answers; [`handlers`] serves the other routes.

pub mod handlers;
pub mod records;
pub mod render;
pub mod request;
pub mod run;
