//! A write is a transaction: committed on `Ok`, rolled back on `Err`, on a panic and when the
//! state file cannot be written.

use super::{Record, Schema, Store, Tables};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row(u32);

impl Record for Row {
    const TABLE: &'static str = "rows";
}

fn schema() -> Schema {
    let mut s = Schema::default();
    s.table::<Row>();
    s
}

fn seeded(store: &Store) {
    store
        .write(|st| {
            st.table_mut::<Row>().insert("kept", Row(1));
            st.table_mut::<Row>().insert("changed", Row(2));
            st.table_mut::<Row>().insert("removed", Row(3));
        })
        .expect("stored");
}

/// Inserts, changes and removes rows, then refuses.
fn touch_everything_then_refuse(st: &mut Tables) -> Result<(), &'static str> {
    st.table_mut::<Row>().insert("added", Row(9));
    st.table_mut::<Row>().get_mut("changed").expect("seeded").0 = 20;
    st.table_mut::<Row>().remove("removed");
    st.table_mut::<Row>().insert("changed", Row(21));
    Err("refused")
}

fn rows(store: &Store) -> serde_json::Value {
    store.read(|st| st.dump())
}

#[test]
fn a_refused_write_changes_nothing() {
    let store = Store::in_memory(&schema());
    seeded(&store);
    let before = rows(&store);
    let out = store
        .try_write(touch_everything_then_refuse)
        .expect("stored");
    assert_eq!(out, Err("refused"));
    assert_eq!(rows(&store), before);
}

#[test]
fn an_accepted_write_is_kept_and_later_refusals_do_not_undo_it() {
    let store = Store::in_memory(&schema());
    seeded(&store);
    store
        .try_write(|st| -> Result<(), ()> {
            st.table_mut::<Row>().insert("added", Row(9));
            Ok(())
        })
        .expect("stored")
        .expect("accepted");
    let after_ok = rows(&store);
    assert_eq!(after_ok["rows"]["added"], 9);
    store
        .try_write(touch_everything_then_refuse)
        .expect("stored")
        .ok();
    assert_eq!(rows(&store), after_ok);
}

#[test]
fn a_panicking_write_changes_nothing() {
    let store = Store::in_memory(&schema());
    seeded(&store);
    let before = rows(&store);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.write(|st| {
            st.table_mut::<Row>().insert("added", Row(9));
            st.table_mut::<Row>().remove("kept");
            panic!("a bug in a handler");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(rows(&store), before);
}

#[test]
fn a_refused_write_is_not_on_disk_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("store-rollback-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let before = {
        let store = Store::open(&dir, &schema()).expect("opens");
        seeded(&store);
        store
            .try_write(touch_everything_then_refuse)
            .expect("stored")
            .ok();
        // A later accepted write must not carry the refused rows along.
        store
            .write(|st| {
                st.table_mut::<Row>().insert("later", Row(5));
            })
            .expect("stored");
        rows(&store)
    };
    let reopened = Store::open(&dir, &schema()).expect("opens");
    assert_eq!(rows(&reopened), before);
    assert!(rows(&reopened)["rows"].get("added").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "try_write")]
fn a_refusable_closure_cannot_go_through_write() {
    let store = Store::in_memory(&schema());
    let _ = store.write(|_| -> Result<(), ()> { Err(()) });
}

#[test]
fn a_watcher_of_writes_is_woken_by_each_commit_that_changed_something_only() {
    let store = Store::in_memory(&schema());
    let mut writes = store.watch_writes();
    assert_eq!(*writes.borrow_and_update(), 0);
    seeded(&store);
    assert!(writes.has_changed().expect("the store is alive"));
    assert_eq!(*writes.borrow_and_update(), 1);
    assert_eq!(store.generation(), 1);
    // A read, a write that touched nothing and a refused write are not writes.
    store.read(|st| st.dump());
    store.write(|_| ()).expect("nothing to commit");
    let refused = store
        .try_write(touch_everything_then_refuse)
        .expect("rolled back");
    assert_eq!(refused, Err("refused"));
    assert!(!writes.has_changed().expect("the store is alive"));
    assert_eq!(store.generation(), 1);
}
