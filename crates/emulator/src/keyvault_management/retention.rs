//! Soft delete, retention and purge: a deleted vault is kept (its keys with it) until its
//! scheduled purge date on the emulator's clock, or an explicit purge.

use super::records::{DeletedInfo, Vault};
use crate::keyvault_data::records::KeyRecord;
use crate::store::Tables;

/// Purges soft-deleted vaults whose retention has ended (and their keys).
pub fn expire_deleted(st: &mut Tables, now: i64) {
    let gone: Vec<String> = st
        .table::<Vault>()
        .iter()
        .filter(|(_, v)| {
            v.deleted
                .as_ref()
                .is_some_and(|d| d.scheduled_purge_date <= now)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in gone {
        purge_vault(st, &k);
    }
}

pub fn purge_vault(st: &mut Tables, key: &str) {
    st.table_mut::<Vault>().remove(key);
    let prefix = format!("{key}/");
    st.table_mut::<KeyRecord>()
        .retain(|k, _| !k.starts_with(&prefix));
}

/// Deletes the live vault `key`: soft-deleted until its retention ends, or purged at once when
/// its soft delete is off. Whether there was a live vault to delete.
pub fn soft_delete(st: &mut Tables, key: &str, now: i64) -> bool {
    let Some(v) = st.table_mut::<Vault>().get_mut(key) else {
        return false;
    };
    if v.deleted.is_some() {
        return false;
    }
    // Without soft delete a deleted vault is gone at once, its keys with it.
    if v.props.soft_delete_disabled {
        purge_vault(st, key);
        return true;
    }
    v.deleted = Some(DeletedInfo {
        deletion_date: now,
        scheduled_purge_date: now + v.props.soft_delete_retention_days * 86_400,
    });
    true
}

/// Soft-deletes the vaults of a deleted resource group.
pub fn on_resource_group_deleted(st: &mut Tables, now: i64, sub: &str, rg: &str) {
    let keys: Vec<String> = st
        .table::<Vault>()
        .iter()
        .filter(|(_, v)| {
            v.deleted.is_none()
                && v.subscription.eq_ignore_ascii_case(sub)
                && v.resource_group.eq_ignore_ascii_case(rg)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        soft_delete(st, &k, now);
    }
}
