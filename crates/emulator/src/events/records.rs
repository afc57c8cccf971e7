//! [`Event`]: one published event, stored under its sequence number; [`emit`] appends one,
//! [`since`] reads the feed.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::store::{Record, Tables};

/// One event, in the Event Grid schema, with its place in the feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Position in the feed, from 1.
    pub sequence: u64,
    /// Event id (a GUID).
    pub id: String,
    /// The resource the event is about (a vault's resource id).
    pub topic: String,
    /// The object's name (a key's name, or the vault's).
    pub subject: String,
    /// `Microsoft.KeyVault.KeyNewVersionCreated`, …
    pub event_type: String,
    /// When it happened (unix seconds, the emulator's clock).
    pub event_time: i64,
    /// The event's data.
    pub data: Value,
}

impl Record for Event {
    const TABLE: &'static str = "events";
}

impl Event {
    /// The event as Event Grid delivers it, with its `sequence` in the feed.
    pub fn to_json(&self) -> Value {
        json!({
            "sequence": self.sequence,
            "id": self.id,
            "topic": self.topic,
            "subject": self.subject,
            "eventType": self.event_type,
            "eventTime": crate::config::rfc3339_secs(self.event_time),
            "data": self.data,
            "dataVersion": "1",
            "metadataVersion": "1",
        })
    }
}

/// Table key of sequence `n`: zero-padded, so the table's order is the feed's.
fn key(n: u64) -> String {
    format!("{n:020}")
}

/// Appends an event of `event_type` about `subject` on `topic` at `event_time`.
pub fn emit(
    st: &mut Tables,
    topic: &str,
    subject: &str,
    event_type: &str,
    event_time: i64,
    data: Value,
) {
    let sequence = st
        .table::<Event>()
        .values()
        .next_back()
        .map_or(1, |e| e.sequence + 1);
    let event = Event {
        sequence,
        id: uuid::Uuid::new_v4().to_string(),
        topic: topic.to_owned(),
        subject: subject.to_owned(),
        event_type: event_type.to_owned(),
        event_time,
        data,
    };
    st.table_mut::<Event>().insert(key(sequence), event);
}

/// The events after sequence number `after`, in order.
pub fn since(st: &Tables, after: u64) -> Vec<Event> {
    // Keys are the zero-padded sequence numbers: the events after `after` are a range, read
    // without visiting the earlier ones (the webhook reads the feed on every write).
    let from = (after > 0).then(|| key(after));
    st.table::<Event>()
        .after(from.as_deref())
        .map(|(_, e)| e.clone())
        .collect()
}
