//! The embedded store: one redb file in the data directory. redb's commit
//! returns after fsync (`Durability::Immediate`, its default), which is what
//! lets the server acknowledge only what is on disk (DESIGN.md, promise 2).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Account, Device, FORMAT_VERSION, Store, StoreError, StoreResult};

const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
/// Account name -> Account (JSON).
const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
/// Lower-case e-mail address -> account name, for logins by address.
const ADDRESSES: TableDefinition<&str, &str> = TableDefinition::new("addresses");
/// (account, DeviceId) -> Device (JSON).
const DEVICES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("devices");
/// (account, DeviceId or "" for all its devices) traced by the administrator.
const TRACES: TableDefinition<(&str, &str), ()> = TableDefinition::new("traces");

#[derive(Debug)]
pub struct RedbStore {
    pub(super) db: Database,
}

/// A redb error as the store's. An I/O error latches the store (see
/// [`super::failure`]): redb refuses everything after it.
pub(super) fn backend(e: impl Into<redb::Error>) -> StoreError {
    let e: redb::Error = e.into();
    let message = e.to_string();
    if matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo) {
        super::failure::latch(&message);
        return StoreError::Failed(message);
    }
    StoreError::Backend(message)
}

pub(super) fn encode<T: Serialize>(value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl RedbStore {
    /// Opens the store at `path`, creating it (and writing its format
    /// version) if it does not exist.
    pub fn open(path: &Path) -> StoreResult<RedbStore> {
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            // Not the latch: nothing was open to fail.
            other => StoreError::Backend(other.to_string()),
        })?;
        let txn = db.begin_write().map_err(backend)?;
        {
            let mut meta = txn.open_table(META).map_err(backend)?;
            let found = meta.get("format").map_err(backend)?.map(|v| v.value());
            match found {
                None => {
                    meta.insert("format", FORMAT_VERSION).map_err(backend)?;
                }
                Some(v) if v > FORMAT_VERSION => return Err(StoreError::NewerFormat { found: v }),
                Some(_) => {}
            }
            txn.open_table(ACCOUNTS).map_err(backend)?;
            txn.open_table(ADDRESSES).map_err(backend)?;
            txn.open_table(DEVICES).map_err(backend)?;
            txn.open_table(TRACES).map_err(backend)?;
            super::redb_mailbox::open_tables(&txn)?;
            super::redb_sync::open_tables(&txn)?;
            super::redb_directory::open_tables(&txn)?;
            super::redb_outbox::open_tables(&txn)?;
        }
        txn.commit().map_err(backend)?;
        Ok(RedbStore { db })
    }
}

impl Store for RedbStore {
    fn create_account(&self, account: &Account) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
            let mut addresses = txn.open_table(ADDRESSES).map_err(backend)?;
            if accounts
                .get(account.name.as_str())
                .map_err(backend)?
                .is_some()
            {
                return Err(StoreError::Exists(format!("account {}", account.name)));
            }
            if addresses
                .get(account.email.as_str())
                .map_err(backend)?
                .is_some()
            {
                return Err(StoreError::Exists(format!("address {}", account.email)));
            }
            let bytes = encode(account)?;
            accounts
                .insert(account.name.as_str(), bytes.as_slice())
                .map_err(backend)?;
            addresses
                .insert(account.email.as_str(), account.name.as_str())
                .map_err(backend)?;
        }
        super::redb_mailbox::init_account(&txn, &account.name)?;
        txn.commit().map_err(backend)
    }

    fn account(&self, name: &str) -> StoreResult<Option<Account>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
        let found = accounts.get(name).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        let login = login.to_lowercase();
        let txn = self.db.begin_read().map_err(backend)?;
        let accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
        if let Some(v) = accounts.get(login.as_str()).map_err(backend)? {
            return decode(v.value()).map(Some);
        }
        let addresses = txn.open_table(ADDRESSES).map_err(backend)?;
        let Some(name) = addresses.get(login.as_str()).map_err(backend)? else {
            return Ok(None);
        };
        let found = accounts.get(name.value()).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn update_account(&self, account: &Account) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
            let old: Account = match accounts.get(account.name.as_str()).map_err(backend)? {
                Some(v) => decode(v.value())?,
                None => return Err(StoreError::NotFound(format!("account {}", account.name))),
            };
            if old.email != account.email {
                let mut addresses = txn.open_table(ADDRESSES).map_err(backend)?;
                if addresses
                    .get(account.email.as_str())
                    .map_err(backend)?
                    .is_some()
                {
                    return Err(StoreError::Exists(format!("address {}", account.email)));
                }
                addresses.remove(old.email.as_str()).map_err(backend)?;
                addresses
                    .insert(account.email.as_str(), account.name.as_str())
                    .map_err(backend)?;
            }
            let bytes = encode(account)?;
            accounts
                .insert(account.name.as_str(), bytes.as_slice())
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn delete_account(&self, name: &str) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
            let old: Account = match accounts.remove(name).map_err(backend)? {
                Some(v) => decode(v.value())?,
                None => return Err(StoreError::NotFound(format!("account {name}"))),
            };
            txn.open_table(ADDRESSES)
                .map_err(backend)?
                .remove(old.email.as_str())
                .map_err(backend)?;
            let mut devices = txn.open_table(DEVICES).map_err(backend)?;
            devices
                .retain_in((name, "")..(name, "\u{10FFFF}"), |_, _| false)
                .map_err(backend)?;
            txn.open_table(TRACES)
                .map_err(backend)?
                .retain_in((name, "")..(name, "\u{10FFFF}"), |_, _| false)
                .map_err(backend)?;
        }
        super::redb_mailbox::purge_account(&txn, name)?;
        super::redb_sync::purge(&txn, name, None)?;
        super::redb_outbox::purge_account(&txn, name)?;
        txn.commit().map_err(backend)
    }

    fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
        let mut out = Vec::new();
        for entry in accounts.iter().map_err(backend)? {
            let (_, v) = entry.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    fn device(&self, account: &str, device_id: &str) -> StoreResult<Option<Device>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let devices = txn.open_table(DEVICES).map_err(backend)?;
        let found = devices.get((account, device_id)).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn put_device(&self, device: &Device) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let accounts = txn.open_table(ACCOUNTS).map_err(backend)?;
            if accounts
                .get(device.account.as_str())
                .map_err(backend)?
                .is_none()
            {
                return Err(StoreError::NotFound(format!("account {}", device.account)));
            }
            let mut devices = txn.open_table(DEVICES).map_err(backend)?;
            let bytes = encode(device)?;
            devices
                .insert(
                    (device.account.as_str(), device.device_id.as_str()),
                    bytes.as_slice(),
                )
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn list_devices(&self, account: Option<&str>) -> StoreResult<Vec<Device>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let devices = txn.open_table(DEVICES).map_err(backend)?;
        let mut out = Vec::new();
        let iter = match account {
            Some(a) => devices.range((a, "")..(a, "\u{10FFFF}")).map_err(backend)?,
            None => devices.iter().map_err(backend)?,
        };
        for entry in iter {
            let (_, v) = entry.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    fn delete_device(&self, account: &str, device_id: &str) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut devices = txn.open_table(DEVICES).map_err(backend)?;
            if devices
                .remove((account, device_id))
                .map_err(backend)?
                .is_none()
            {
                return Err(StoreError::NotFound(format!(
                    "device {device_id} of {account}"
                )));
            }
        }
        super::redb_sync::purge(&txn, account, Some(device_id))?;
        txn.commit().map_err(backend)
    }

    fn set_trace(&self, account: &str, device: Option<&str>, on: bool) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            if txn
                .open_table(ACCOUNTS)
                .map_err(backend)?
                .get(account)
                .map_err(backend)?
                .is_none()
            {
                return Err(StoreError::NotFound(format!("account {account}")));
            }
            let mut traces = txn.open_table(TRACES).map_err(backend)?;
            let key = (account, device.unwrap_or(""));
            if on {
                traces.insert(key, ()).map_err(backend)?;
            } else {
                traces.remove(key).map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)
    }

    fn traces(&self) -> StoreResult<Vec<(String, Option<String>)>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let traces = txn.open_table(TRACES).map_err(backend)?;
        let mut out = Vec::new();
        for entry in traces.iter().map_err(backend)? {
            let (k, _) = entry.map_err(backend)?;
            let (account, device) = k.value();
            out.push((
                account.to_owned(),
                Some(device.to_owned()).filter(|d| !d.is_empty()),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Access, PolicyState};

    fn account(name: &str) -> Account {
        Account {
            name: name.into(),
            email: format!("{name}@example.com"),
            display_name: name.into(),
            password_hash: "$argon2id$x".into(),
            created: 1,
            oof: Default::default(),
        }
    }

    fn device(account: &str, id: &str) -> Device {
        Device {
            account: account.into(),
            device_id: id.into(),
            device_type: "iPhone".into(),
            user_agent: String::new(),
            first_seen: 1,
            last_seen: 2,
            protocol_version: "16.1".into(),
            info: Default::default(),
            policy: PolicyState::default(),
            access: Access::Allowed,
            access_by_admin: false,
            wipe: None,
            recovery_password: None,
            held: Vec::new(),
            suspected_clone: false,
        }
    }

    #[test]
    fn accounts_devices_and_scoping() {
        let dir = tempdir();
        let store = RedbStore::open(&dir.join("eas.redb")).unwrap();
        store.create_account(&account("alice")).unwrap();
        store.create_account(&account("bob")).unwrap();
        assert!(matches!(
            store.create_account(&account("alice")),
            Err(StoreError::Exists(_))
        ));
        assert_eq!(
            store
                .account_by_login("ALICE@example.com")
                .unwrap()
                .unwrap()
                .name,
            "alice"
        );
        assert_eq!(store.account_by_login("bob").unwrap().unwrap().name, "bob");
        assert!(store.account_by_login("carol").unwrap().is_none());

        store.put_device(&device("alice", "d1")).unwrap();
        store.put_device(&device("alice", "d2")).unwrap();
        store.put_device(&device("bob", "d1")).unwrap();
        assert!(matches!(
            store.put_device(&device("nobody", "d1")),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.list_devices(Some("alice")).unwrap().len(), 2);
        assert_eq!(store.list_devices(None).unwrap().len(), 3);
        // The same DeviceId under another account is another device.
        assert_eq!(store.device("bob", "d1").unwrap().unwrap().account, "bob");

        let mut a = store.account("alice").unwrap().unwrap();
        a.email = "alice@new.example".into();
        store.update_account(&a).unwrap();
        assert!(
            store
                .account_by_login("alice@example.com")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .account_by_login("alice@new.example")
                .unwrap()
                .unwrap()
                .name,
            "alice"
        );

        store.set_trace("alice", None, true).unwrap();
        store.set_trace("bob", Some("d1"), true).unwrap();
        assert!(matches!(
            store.set_trace("nobody", None, true),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            store.traces().unwrap(),
            vec![
                ("alice".to_owned(), None),
                ("bob".to_owned(), Some("d1".to_owned()))
            ]
        );

        store.delete_account("alice").unwrap();
        assert_eq!(
            store.traces().unwrap(),
            vec![("bob".to_owned(), Some("d1".to_owned()))]
        );
        assert!(store.list_devices(Some("alice")).unwrap().is_empty());
        assert_eq!(store.list_devices(None).unwrap().len(), 1);
        assert!(
            store
                .account_by_login("alice@new.example")
                .unwrap()
                .is_none()
        );
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_format_version_is_checked_and_the_file_is_locked() {
        let dir = tempdir();
        let path = dir.join("eas.redb");
        let store = RedbStore::open(&path).unwrap();
        assert!(matches!(RedbStore::open(&path), Err(StoreError::Locked)));
        drop(store);
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("format", FORMAT_VERSION + 1)
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(
            matches!(RedbStore::open(&path), Err(StoreError::NewerFormat { found }) if found == FORMAT_VERSION + 1)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eas-store-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
