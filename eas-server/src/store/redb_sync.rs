//! The sync-state tables of [`RedbStore`].

use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

use super::StoreResult;
use super::redb_store::{RedbStore, backend, decode, encode};
use super::sync_state::{CollectionState, HierarchyState, KnownUpdate, SyncStates};

/// (account, device) -> HierarchyState (JSON).
const HSTATE: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("hierarchy_state");
/// (account, device, collection) -> CollectionState (JSON).
const CSTATE: TableDefinition<(&str, &str, u32), &[u8]> = TableDefinition::new("collection_state");
/// (account, device, collection, item): the items a device holds.
const KNOWN: TableDefinition<(&str, &str, u32, u64), ()> = TableDefinition::new("known");

pub(super) fn open_tables(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(HSTATE).map_err(backend)?;
    txn.open_table(CSTATE).map_err(backend)?;
    txn.open_table(KNOWN).map_err(backend)?;
    Ok(())
}

/// Forgets the sync state of a device (`Some`) or of every device of an
/// account (`None`).
pub(super) fn purge(
    txn: &WriteTransaction,
    account: &str,
    device: Option<&str>,
) -> StoreResult<()> {
    let (lo, hi) = match device {
        Some(d) => (d, d),
        None => ("", "\u{10FFFF}"),
    };
    txn.open_table(HSTATE)
        .map_err(backend)?
        .retain_in((account, lo)..=(account, hi), |_, _| false)
        .map_err(backend)?;
    txn.open_table(CSTATE)
        .map_err(backend)?
        .retain_in((account, lo, 0)..=(account, hi, u32::MAX), |_, _| false)
        .map_err(backend)?;
    txn.open_table(KNOWN)
        .map_err(backend)?
        .retain_in(
            (account, lo, 0, 0)..=(account, hi, u32::MAX, u64::MAX),
            |_, _| false,
        )
        .map_err(backend)?;
    Ok(())
}

impl SyncStates for RedbStore {
    fn hierarchy_state(&self, account: &str, device: &str) -> StoreResult<Option<HierarchyState>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(HSTATE).map_err(backend)?;
        let found = table.get((account, device)).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn put_hierarchy_state(
        &self,
        account: &str,
        device: &str,
        state: &HierarchyState,
    ) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        txn.open_table(HSTATE)
            .map_err(backend)?
            .insert((account, device), encode(state)?.as_slice())
            .map_err(backend)?;
        txn.commit().map_err(backend)
    }

    fn collection_state(
        &self,
        account: &str,
        device: &str,
        collection: u32,
    ) -> StoreResult<Option<CollectionState>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(CSTATE).map_err(backend)?;
        let found = table.get((account, device, collection)).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn put_collection_state(
        &self,
        account: &str,
        device: &str,
        collection: u32,
        state: &CollectionState,
        update: KnownUpdate<'_>,
    ) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut known = txn.open_table(KNOWN).map_err(backend)?;
            if update.reset {
                known
                    .retain_in(
                        (account, device, collection, 0)..=(account, device, collection, u64::MAX),
                        |_, _| false,
                    )
                    .map_err(backend)?;
            }
            for item in update.remove {
                known
                    .remove((account, device, collection, *item))
                    .map_err(backend)?;
            }
            for item in update.add {
                known
                    .insert((account, device, collection, *item), ())
                    .map_err(backend)?;
            }
            txn.open_table(CSTATE)
                .map_err(backend)?
                .insert((account, device, collection), encode(state)?.as_slice())
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn known(
        &self,
        account: &str,
        device: &str,
        collection: u32,
        items: &[u64],
    ) -> StoreResult<Vec<bool>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let known = txn.open_table(KNOWN).map_err(backend)?;
        items
            .iter()
            .map(|item| {
                Ok(known
                    .get((account, device, collection, *item))
                    .map_err(backend)?
                    .is_some())
            })
            .collect()
    }

    fn known_items(&self, account: &str, device: &str, collection: u32) -> StoreResult<Vec<u64>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let known = txn.open_table(KNOWN).map_err(backend)?;
        let mut out = Vec::new();
        for entry in known
            .range((account, device, collection, 0)..=(account, device, collection, u64::MAX))
            .map_err(backend)?
        {
            out.push(entry.map_err(backend)?.0.value().3);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sync_state::{LastBatch, SentOp};

    #[test]
    fn state_and_known_set_are_saved_together_and_scoped_per_device() {
        let dir = std::env::temp_dir().join(format!("eas-sync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = RedbStore::open(&dir.join("eas.redb")).unwrap();
        let state = CollectionState {
            epoch: "e".into(),
            key: 2,
            synced: 7,
            snapshot: vec![5, 4],
            filter: 0,
            last: Some(LastBatch {
                key_before: 1,
                ops: vec![SentOp::Add(6)],
                responses: vec![],
                more_available: true,
                commands: None,
            }),
            options: None,
            replays: 0,
            deferred: Vec::new(),
        };
        store
            .put_collection_state(
                "alice",
                "d1",
                1,
                &state,
                KnownUpdate {
                    reset: true,
                    add: &[6, 7],
                    remove: &[],
                },
            )
            .unwrap();
        assert_eq!(
            store.collection_state("alice", "d1", 1).unwrap(),
            Some(state.clone())
        );
        assert_eq!(
            store.known("alice", "d1", 1, &[6, 5, 7]).unwrap(),
            vec![true, false, true]
        );
        assert_eq!(store.known("alice", "d2", 1, &[6]).unwrap(), vec![false]);
        store
            .put_collection_state(
                "alice",
                "d1",
                1,
                &state,
                KnownUpdate {
                    reset: false,
                    add: &[8],
                    remove: &[6],
                },
            )
            .unwrap();
        assert_eq!(store.known_items("alice", "d1", 1).unwrap(), vec![7, 8]);
        store
            .put_collection_state(
                "alice",
                "d1",
                1,
                &state,
                KnownUpdate {
                    reset: true,
                    add: &[9],
                    remove: &[],
                },
            )
            .unwrap();
        assert_eq!(store.known_items("alice", "d1", 1).unwrap(), vec![9]);

        let h = HierarchyState {
            epoch: "x".into(),
            key: 3,
            hseq: 12,
            known: vec![1, 2],
            previous: None,
            next_key: 3,
        };
        store.put_hierarchy_state("alice", "d1", &h).unwrap();
        assert_eq!(store.hierarchy_state("alice", "d1").unwrap(), Some(h));
        assert_eq!(store.hierarchy_state("alice", "d2").unwrap(), None);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
