//! Mailbox search for Search (MS-ASCMD 2.2.1.16) and Find (2.2.1.2): a
//! per-account index, the result sets clients page through, and LongIds.
//!
//! # The index, and why this one
//!
//! Each account gets an in-memory inverted index ([`index::AccountIndex`])
//! over what a person searches a message by: From, Reply-To, To, Cc and
//! Subject from the summary taken at delivery, and the text of the body
//! and the attachments' names, extracted once when the message is first
//! indexed. Terms are prefix-matched through a sorted map; sets of
//! messages are bitsets, so And, Or, folders and dates cost a pass over
//! machine words. Built lazily on an account's first search, it is kept
//! current by reading the store's change log before every query.
//!
//! That last point is the design. Every write to a mailbox (LMTP and
//! import deliveries, Sync changes and deletes, MoveItems, ItemOperations,
//! SendMail's copy to Sent Items, folder deletion) already records itself
//! in the per-folder change log, in the same transaction, under the
//! account's modification sequence. The index remembers the sequence it
//! has seen; a query first reads one counter, and only when it moved reads
//! the logs since then and looks at each item named once. So the index is
//! never behind what was committed when the query starts, no writer has to
//! remember to call it (nor can forget), and the import CLI, which writes
//! through the server from another process, is covered like the rest. A
//! push-hub subscription would have needed the same reading anyway after
//! a missed wake-up or a restart.
//!
//! The other candidate, redb tables holding the postings, would persist
//! the index across restarts but put postings writes (and an fsync) into
//! every delivery, on the path promise 2 makes slow by design, to save a
//! rebuild that takes about a second per 10,000 messages once per process
//! (BENCHMARKS.md). Memory is bounded instead: at most
//! [`MAX_RESIDENT_ACCOUNTS`] indexes stay resident, the least recently
//! searched dropped first, and a message contributes at most
//! [`text::MAX_BODY_BYTES`] of body text.
//!
//! Isolation: an index is built from one account's store calls only and
//! keyed by the account's name and creation time; results are resolved
//! through the same account's store calls; LongIds carry a tag bound to
//! the account ([`longid`]).
//!
//! # Result sets
//!
//! MS-ASCMD RebuildResults: the server keeps a search's result set so that
//! a client paging through it with new Ranges sees the same set; only a
//! new query or `RebuildResults` builds it again. Deleted items drop out
//! of a kept set at once. One set is kept per device and command (Search,
//! or Find by `SearchId`), for [`RESULT_SET_MAX_AGE`].

pub mod index;
pub mod longid;
pub mod query;
pub mod text;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use index::{AccountIndex, Filter, Refresh};

use crate::store::{Account, Store, StoreResult};

/// How many accounts' indexes stay in memory.
pub const MAX_RESIDENT_ACCOUNTS: usize = 64;
/// How many result sets are kept, over all devices.
pub const MAX_RESULT_SETS: usize = 4096;
/// How long a result set is served without being rebuilt.
pub const RESULT_SET_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Which command a result set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Search,
    Find,
}

/// Whether a query may answer from the kept result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Build the set again (a new search, RebuildResults).
    Never,
    /// Use the kept set if it is of the same query, else build it.
    IfSame,
    /// Use the kept set of the same query, or answer `None`.
    Only,
}

/// One query of one device.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub device: &'a str,
    pub kind: Kind,
    /// A fingerprint of the request: a kept set serves only the same one.
    pub query: &'a str,
    pub reuse: Reuse,
    pub filter: &'a Filter,
}

/// The items of a query, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hits {
    pub items: Vec<u64>,
    /// Whether they came from a kept result set.
    pub reused: bool,
    pub refresh: Refresh,
}

#[derive(Debug)]
struct Resident {
    index: Arc<Mutex<AccountIndex>>,
    used: Instant,
}

#[derive(Debug)]
struct ResultSet {
    query: String,
    items: Vec<u64>,
    built: Instant,
}

/// (account, device, command).
type ResultKey = (String, String, Kind);

/// The indexes and result sets of every account; one per server.
#[derive(Debug, Default)]
pub struct SearchIndex {
    accounts: Mutex<HashMap<String, Resident>>,
    results: Mutex<HashMap<ResultKey, ResultSet>>,
}

impl SearchIndex {
    /// The account's index, made resident if it was not.
    fn resident(&self, account: &Account) -> Arc<Mutex<AccountIndex>> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(r) = accounts.get_mut(&account.name) {
            r.used = now;
            return r.index.clone();
        }
        if accounts.len() >= MAX_RESIDENT_ACCOUNTS {
            let oldest = accounts
                .iter()
                .min_by_key(|(_, r)| r.used)
                .map(|(name, _)| name.clone());
            if let Some(name) = oldest {
                accounts.remove(&name);
            }
        }
        let index = Arc::new(Mutex::new(AccountIndex::new(
            &account.name,
            account.created,
        )));
        accounts.insert(
            account.name.clone(),
            Resident {
                index: index.clone(),
                used: now,
            },
        );
        index
    }

    /// Runs `f` on the account's index, first brought up to date with the
    /// store. Blocks: call it off the async reactor.
    pub fn with_index<T>(
        &self,
        store: &dyn Store,
        account: &Account,
        f: impl FnOnce(&AccountIndex) -> T,
    ) -> StoreResult<(T, Refresh)> {
        let slot = self.resident(account);
        let mut index = slot.lock().unwrap_or_else(|e| e.into_inner());
        if index.created() != account.created {
            *index = AccountIndex::new(&account.name, account.created);
        }
        let refresh = index.refresh(store)?;
        Ok((f(&index), refresh))
    }

    /// The items a query asks for, from the device's kept result set when
    /// the query allows and is the kept set's. Blocks.
    pub fn query(
        &self,
        store: &dyn Store,
        account: &Account,
        ask: &Ask<'_>,
    ) -> StoreResult<Option<Hits>> {
        let Ask {
            device,
            kind,
            query,
            reuse,
            filter,
        } = *ask;
        let key = (account.name.clone(), device.to_owned(), kind);
        let (hits, refresh) = self.with_index(store, account, |ix| {
            let kept = if reuse == Reuse::Never {
                None
            } else {
                let results = self.results.lock().unwrap_or_else(|e| e.into_inner());
                results
                    .get(&key)
                    .filter(|r| r.query == query && r.built.elapsed() < RESULT_SET_MAX_AGE)
                    .map(|r| {
                        r.items
                            .iter()
                            .copied()
                            .filter(|i| ix.contains(*i))
                            .collect()
                    })
            };
            match (kept, reuse) {
                (Some(items), _) => Some((items, true)),
                (None, Reuse::Only) => None,
                (None, _) => Some((ix.search(filter), false)),
            }
        })?;
        let Some((items, reused)) = hits else {
            return Ok(None);
        };
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if !reused {
            if results.len() >= MAX_RESULT_SETS && !results.contains_key(&key) {
                let oldest = results
                    .iter()
                    .min_by_key(|(_, r)| r.built)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    results.remove(&k);
                }
            }
            results.insert(
                key,
                ResultSet {
                    query: query.to_owned(),
                    items: items.clone(),
                    built: Instant::now(),
                },
            );
        }
        Ok(Some(Hits {
            items,
            reused,
            refresh,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::index::Fields;
    use super::*;
    use crate::mail::summary::summarize;
    use crate::store::mailbox::folder_type;
    use crate::store::{Mailbox as _, NewMail, RedbStore};

    fn store() -> (RedbStore, std::path::PathBuf) {
        crate::store::scratch::empty("search")
    }

    fn account(store: &RedbStore, name: &str, created: u64) -> Account {
        let a = Account {
            name: name.into(),
            email: format!("{name}@example.com"),
            display_name: name.into(),
            password_hash: String::new(),
            created,
            oof: Default::default(),
        };
        store.create_account(&a).unwrap();
        a
    }

    fn deliver(store: &RedbStore, account: &str, folder: u32, subject: &str) -> u64 {
        let raw = format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n");
        let mail = NewMail {
            raw: raw.as_bytes(),
            summary: summarize(raw.as_bytes()),
            received: 1,
            read: false,
        };
        store.deliver(account, folder, &[mail]).unwrap()[0].id
    }

    fn words(w: &str) -> Filter {
        Filter::Words {
            words: vec![w.into()],
            fields: Fields::ALL,
        }
    }

    fn find(ix: &SearchIndex, store: &RedbStore, a: &Account, w: &str) -> Vec<u64> {
        let filter = words(w);
        let ask = Ask {
            device: "d",
            kind: Kind::Search,
            query: w,
            reuse: Reuse::Never,
            filter: &filter,
        };
        ix.query(store, a, &ask).unwrap().unwrap().items
    }

    #[test]
    fn the_index_follows_every_writer_and_keeps_accounts_apart() {
        let (store, dir) = store();
        let alice = account(&store, "alice", 1);
        let bob = account(&store, "bob", 1);
        let ix = SearchIndex::default();
        let a1 = deliver(&store, "alice", 1, "apple");
        deliver(&store, "bob", 1, "apple");
        assert_eq!(find(&ix, &store, &alice, "apple"), vec![a1]);

        // Delivery, move, update, delete, a folder's deletion.
        let a2 = deliver(&store, "alice", 1, "apricot");
        assert_eq!(find(&ix, &store, &alice, "ap").len(), 2);
        let folder = store
            .create_folder("alice", 1, "Fruit", folder_type::USER_MAIL)
            .unwrap();
        store.move_item("alice", a1, folder.id).unwrap();
        let in_fruit = Filter::Folders([folder.id].into());
        let (moved, refresh) = ix
            .with_index(&store, &alice, |i| i.search(&in_fruit))
            .unwrap();
        assert_eq!((moved, refresh.touched), (vec![a1], 1));
        store
            .update_item(
                "alice",
                a2,
                &crate::store::ItemUpdate {
                    read: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(find(&ix, &store, &alice, "apricot"), vec![a2]);
        store.delete_item("alice", a2).unwrap();
        assert_eq!(find(&ix, &store, &alice, "apricot"), Vec::<u64>::new());
        store.delete_folder("alice", folder.id).unwrap();
        assert_eq!(find(&ix, &store, &alice, "apple"), Vec::<u64>::new());
        let (_, idle) = ix.with_index(&store, &alice, |_| ()).unwrap();
        assert_eq!(idle, Refresh::default(), "nothing changed, nothing read");

        // Bob's index is his own.
        assert_eq!(find(&ix, &store, &bob, "apple").len(), 1);
        assert_eq!(find(&ix, &store, &bob, "apricot"), Vec::<u64>::new());

        // A kept result set: deletions drop out, additions wait.
        let filter = words("banana");
        let b1 = deliver(&store, "alice", 1, "banana");
        let ask = |reuse| Ask {
            device: "d",
            kind: Kind::Find,
            query: "banana",
            reuse,
            filter: &filter,
        };
        assert_eq!(ix.query(&store, &alice, &ask(Reuse::Only)).unwrap(), None);
        let first = ix
            .query(&store, &alice, &ask(Reuse::Never))
            .unwrap()
            .unwrap();
        assert_eq!((first.items, first.reused), (vec![b1], false));
        let b2 = deliver(&store, "alice", 1, "banana split");
        let kept = ix
            .query(&store, &alice, &ask(Reuse::IfSame))
            .unwrap()
            .unwrap();
        assert_eq!((kept.items, kept.reused), (vec![b1], true));
        store.delete_item("alice", b1).unwrap();
        let kept = ix
            .query(&store, &alice, &ask(Reuse::Only))
            .unwrap()
            .unwrap();
        assert!(kept.items.is_empty());
        let rebuilt = ix
            .query(&store, &alice, &ask(Reuse::Never))
            .unwrap()
            .unwrap();
        assert_eq!(rebuilt.items, vec![b2]);

        // An account removed and made again is a new mailbox.
        store.delete_account("alice").unwrap();
        let alice2 = account(&store, "alice", 2);
        let fresh = deliver(&store, "alice", 1, "cherry");
        assert_eq!(find(&ix, &store, &alice2, "banana"), Vec::<u64>::new());
        assert_eq!(find(&ix, &store, &alice2, "cherry"), vec![fresh]);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
