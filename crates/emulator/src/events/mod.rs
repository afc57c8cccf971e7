//! The event feed: what Key Vault publishes to Event Grid (`Microsoft.KeyVault.KeyNewVersionCreated`,
//! `KeyNearExpiry`, `KeyExpired`, `VaultAccessPolicyChanged`), kept in order with a sequence
//! number and read through the admin API (`GET /_admin/events?since=N`) or in process
//! ([`crate::Admin::events`]). Each event is in the Event Grid schema: `id`, `topic` (the
//! vault's resource id), `subject` (the object's name), `eventType`, `eventTime`, `data`
//! (`Id`, `VaultName`, `ObjectType`, `ObjectName`, `Version`, `NBF`, `EXP`), `dataVersion`,
//! `metadataVersion`. With `--event-webhook URL` (a loopback `http` URL) each event is also
//! POSTed there as Event Grid delivers it ([`webhook`]).

pub mod records;
pub mod webhook;

pub use records::{Event, emit, since};
pub use webhook::WebhookUrl;

/// Registers this service's tables.
pub fn register_tables(schema: &mut crate::store::Schema) {
    schema.table::<Event>();
}
