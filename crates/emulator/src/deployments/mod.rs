//! Microsoft.Resources/deployments at resource-group scope: template deployments.
//!
//! - `PUT …/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}` validates
//!   the request, records the deployment `Running` with an operation to poll and answers 201
//!   `Accepted` with `Azure-AsyncOperation` and `Location` at once; the template (the
//!   `aci_cmk_arm_template` engine) then runs as a background task, independent of the request
//!   (a client that hangs up does not stop it): each resource goes through the same ARM routing
//!   as a direct request (the router's `ResourceRouter`, with the caller's claims), so the same
//!   validation and CMK rules apply; a long-running sub-PUT is followed in-process through its
//!   operation. The terminal state shows the timing profile's settle time ([`records::settle_ms`]) after
//!   the run ends.
//!   `POST …/cancel` stops the run before its next resource; a panic fails the deployment; a
//!   deployment a stopped emulator left `Running` is `Failed` when the emulator starts again
//!   ([`records::fail_interrupted`]).
//! - `GET`/`HEAD`/`DELETE` the deployment, list (`$filter=provisioningState eq 'X'`, `$top`),
//!   `POST …/validate`, `POST …/cancel`, and the deployment operations
//!   (`GET /subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations[/{id}]`,
//!   also under `providers/Microsoft.Resources`).
//!
//! - `POST …/deployments/{name}/whatIf` ([`what_if`]): what the template would change
//!   (`Create`, `Modify` with its `delta`, `NoChange`, `Ignore`, `Unsupported`), changing nothing.
//!
//! Bodies are parsed leniently (JSON5: comments, trailing commas, bare keys), as the Azure CLI
//! sends them. Secure parameter values are never stored.
//!
//! [`records`] holds the deployments; [`request`] reads requests; [`run`] deploys a template's
//! resources; [`render`] answers; [`handlers`] serves the other routes.

pub mod delta;
pub mod handlers;
pub mod records;
pub mod render;
pub mod request;
pub mod run;
pub mod what_if;

#[cfg(test)]
mod tests;
