//! The directory tables of [`RedbStore`].

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::directory::{DirectoryEntry, DirectoryStore, TrustedCertificate};
use super::redb_store::{RedbStore, backend, decode, encode};
use super::{StoreError, StoreResult};

/// Entry id (lower case) -> DirectoryEntry (JSON).
const ENTRIES: TableDefinition<&str, &[u8]> = TableDefinition::new("directory_entries");
/// Lower-case address -> entry id.
const ENTRY_ADDRESSES: TableDefinition<&str, &str> = TableDefinition::new("directory_addresses");
/// Fingerprint -> TrustedCertificate (JSON).
const TRUST: TableDefinition<&str, &[u8]> = TableDefinition::new("smime_trust");

pub(super) fn open_tables(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(ENTRIES).map_err(backend)?;
    txn.open_table(ENTRY_ADDRESSES).map_err(backend)?;
    txn.open_table(TRUST).map_err(backend)?;
    Ok(())
}

fn addresses(entry: &DirectoryEntry) -> Vec<String> {
    let mut out = vec![entry.email.to_ascii_lowercase()];
    for a in &entry.addresses {
        let a = a.to_ascii_lowercase();
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out.retain(|a| !a.is_empty());
    out
}

impl DirectoryStore for RedbStore {
    fn put_directory_entry(&self, entry: &DirectoryEntry) -> StoreResult<()> {
        let id = entry.id.to_ascii_lowercase();
        if id.is_empty() {
            return Err(StoreError::Backend("a directory entry needs an id".into()));
        }
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut entries = txn.open_table(ENTRIES).map_err(backend)?;
            let mut index = txn.open_table(ENTRY_ADDRESSES).map_err(backend)?;
            let old: Option<DirectoryEntry> = entries
                .get(id.as_str())
                .map_err(backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            if let Some(old) = old {
                for a in addresses(&old) {
                    index.remove(a.as_str()).map_err(backend)?;
                }
            }
            for a in addresses(entry) {
                let owner = index
                    .get(a.as_str())
                    .map_err(backend)?
                    .map(|v| v.value().to_owned());
                if let Some(owner) = owner {
                    if owner != id {
                        return Err(StoreError::Exists(format!(
                            "address {a} (it belongs to directory entry {owner})"
                        )));
                    }
                }
                index.insert(a.as_str(), id.as_str()).map_err(backend)?;
            }
            entries
                .insert(id.as_str(), encode(entry)?.as_slice())
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn directory_entry(&self, id: &str) -> StoreResult<Option<DirectoryEntry>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        let found = entries
            .get(id.to_ascii_lowercase().as_str())
            .map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn directory_entry_by_address(&self, address: &str) -> StoreResult<Option<DirectoryEntry>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let index = txn.open_table(ENTRY_ADDRESSES).map_err(backend)?;
        let Some(id) = index
            .get(address.trim().to_ascii_lowercase().as_str())
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        let found = entries.get(id.value()).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn directory_entries(&self) -> StoreResult<Vec<DirectoryEntry>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        let mut out = Vec::new();
        for item in entries.iter().map_err(backend)? {
            let (_, v) = item.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    fn delete_directory_entry(&self, id: &str) -> StoreResult<()> {
        let id = id.to_ascii_lowercase();
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut entries = txn.open_table(ENTRIES).map_err(backend)?;
            let old: DirectoryEntry = match entries.remove(id.as_str()).map_err(backend)? {
                Some(v) => decode(v.value())?,
                None => return Err(StoreError::NotFound(format!("directory entry {id}"))),
            };
            let mut index = txn.open_table(ENTRY_ADDRESSES).map_err(backend)?;
            for a in addresses(&old) {
                index.remove(a.as_str()).map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)
    }

    fn put_trusted(&self, cert: &TrustedCertificate) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        txn.open_table(TRUST)
            .map_err(backend)?
            .insert(cert.fingerprint.as_str(), encode(cert)?.as_slice())
            .map_err(backend)?;
        txn.commit().map_err(backend)
    }

    fn trusted(&self) -> StoreResult<Vec<TrustedCertificate>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(TRUST).map_err(backend)?;
        let mut out = Vec::new();
        for item in table.iter().map_err(backend)? {
            let (_, v) = item.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_id_and_every_address() {
        let dir = std::env::temp_dir().join(format!("eas-directory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = RedbStore::open(&dir.join("eas.redb")).unwrap();
        let mut alice = DirectoryEntry {
            id: "alice".into(),
            display_name: "Alice Archer".into(),
            email: "alice@example.com".into(),
            addresses: vec!["a.archer@example.com".into()],
            smime_certificates: vec![vec![1, 2, 3]],
            ..Default::default()
        };
        store.put_directory_entry(&alice).unwrap();
        assert_eq!(
            store
                .directory_entry_by_address("A.Archer@example.com")
                .unwrap()
                .unwrap()
                .id,
            "alice"
        );
        alice.addresses.clear();
        store.put_directory_entry(&alice).unwrap();
        assert!(
            store
                .directory_entry_by_address("a.archer@example.com")
                .unwrap()
                .is_none()
        );
        let bob = DirectoryEntry {
            id: "bob".into(),
            email: "alice@example.com".into(),
            ..Default::default()
        };
        assert!(matches!(
            store.put_directory_entry(&bob),
            Err(StoreError::Exists(_))
        ));
        assert_eq!(store.directory_entries().unwrap().len(), 1);
        store.delete_directory_entry("ALICE").unwrap();
        assert!(store.directory_entry("alice").unwrap().is_none());
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
