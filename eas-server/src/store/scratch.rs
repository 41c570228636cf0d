//! Throwaway stores for unit tests: a fresh redb file in the system's
//! temporary directory, and accounts with plain defaults.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Account, RedbStore, Store as _};

/// A new, empty store in a directory of its own, named after `what` so a
/// leftover directory says which test made it.
pub(crate) fn empty(what: &str) -> (RedbStore, PathBuf) {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "eas-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    (RedbStore::open(&dir.join("eas.redb")).unwrap(), dir)
}

/// `name@example.com`, no password, no out-of-office.
pub(crate) fn account(name: &str) -> Account {
    Account {
        name: name.into(),
        email: format!("{name}@example.com"),
        display_name: name.into(),
        password_hash: String::new(),
        created: 0,
        oof: Default::default(),
    }
}

/// A new store holding the accounts `names`.
pub(crate) fn with_accounts(what: &str, names: &[&str]) -> (RedbStore, PathBuf) {
    let (store, dir) = empty(what);
    for name in names {
        store.create_account(&account(name)).unwrap();
    }
    (store, dir)
}
