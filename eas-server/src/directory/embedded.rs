//! The embedded directory: the store's users (each a person with the
//! address and display name it was added with) and the entries published
//! with `cert publish` or imported from LDIF, which add certificates,
//! other addresses, and groups. An entry whose id is a user's name
//! describes that user.

use std::sync::Arc;

use super::{BoxFuture, Directory, DirectoryError, Matches, Query, matches_prefix};
use crate::store::{Account, DirectoryEntry, EntryKind, Store, StoreError};

pub struct Embedded {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedded")
    }
}

impl Embedded {
    pub fn new(store: Arc<dyn Store>) -> Embedded {
        Embedded { store }
    }
}

/// A user as a directory entry.
pub fn entry_for_account(account: &Account) -> DirectoryEntry {
    DirectoryEntry {
        id: account.name.clone(),
        kind: EntryKind::Person,
        display_name: account.display_name.clone(),
        email: account.email.clone(),
        addresses: vec![account.email.clone()],
        alias: Some(account.name.clone()),
        ..Default::default()
    }
}

fn unavailable(e: StoreError) -> DirectoryError {
    DirectoryError::Unavailable(format!("the store: {e}"))
}

fn find_blocking(store: &dyn Store, query: &Query, limit: usize) -> Result<Matches, StoreError> {
    match query {
        Query::Address(address) => {
            if let Some(entry) = store.directory_entry_by_address(address)? {
                return Ok(Matches {
                    entries: vec![entry],
                    total: 1,
                });
            }
            let Some(account) = store.account_by_login(address)? else {
                return Ok(Matches::default());
            };
            // A login name is not an address: only the address counts.
            if !account.email.eq_ignore_ascii_case(address) {
                return Ok(Matches::default());
            }
            let entry = store
                .directory_entry(&account.name)?
                .unwrap_or_else(|| entry_for_account(&account));
            Ok(Matches {
                entries: vec![entry],
                total: 1,
            })
        }
        Query::Prefix(prefix) => {
            let mut all: Vec<DirectoryEntry> = store.directory_entries()?;
            for account in store.list_accounts()? {
                if !all.iter().any(|e| e.id.eq_ignore_ascii_case(&account.name)) {
                    all.push(entry_for_account(&account));
                }
            }
            all.retain(|e| matches_prefix(e, prefix));
            all.sort_by(|a, b| {
                a.display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase())
                    .then_with(|| a.id.cmp(&b.id))
            });
            let total = all.len();
            all.truncate(limit);
            Ok(Matches {
                entries: all,
                total,
            })
        }
    }
}

fn members_blocking(
    store: &dyn Store,
    group: &DirectoryEntry,
    limit: usize,
) -> Result<Vec<DirectoryEntry>, StoreError> {
    let mut out = Vec::new();
    for id in group.members.iter().take(limit) {
        // A member given by a DN that was not imported (a user of this
        // server, say) is looked for by its first RDN's value.
        let short = first_rdn_value(id)
            .unwrap_or(id.as_str())
            .to_ascii_lowercase();
        let found = match store.directory_entry(id)? {
            Some(e) => Some(e),
            None => match store.directory_entry(&short)? {
                Some(e) => Some(e),
                None => match store.account(&short)? {
                    Some(a) => Some(
                        store
                            .directory_entry(&a.name)?
                            .unwrap_or_else(|| entry_for_account(&a)),
                    ),
                    None => store.directory_entry_by_address(id)?,
                },
            },
        };
        if let Some(e) = found {
            out.push(e);
        }
    }
    Ok(out)
}

/// `alice` of `uid=alice,ou=people,dc=example,dc=com`.
fn first_rdn_value(dn: &str) -> Option<&str> {
    let first = dn.split(',').next()?;
    let (_, value) = first.split_once('=')?;
    Some(value.trim())
}

impl Directory for Embedded {
    fn find<'a>(
        &'a self,
        query: &'a Query,
        limit: usize,
    ) -> BoxFuture<'a, Result<Matches, DirectoryError>> {
        Box::pin(async move {
            let store = self.store.clone();
            let query = query.clone();
            tokio::task::spawn_blocking(move || find_blocking(store.as_ref(), &query, limit))
                .await
                .map_err(|e| DirectoryError::Unavailable(e.to_string()))?
                .map_err(unavailable)
        })
    }

    fn members<'a>(
        &'a self,
        group: &'a DirectoryEntry,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DirectoryEntry>, DirectoryError>> {
        Box::pin(async move {
            let store = self.store.clone();
            let group = group.clone();
            tokio::task::spawn_blocking(move || members_blocking(store.as_ref(), &group, limit))
                .await
                .map_err(|e| DirectoryError::Unavailable(e.to_string()))?
                .map_err(unavailable)
        })
    }

    fn describe(&self) -> String {
        "the embedded directory".into()
    }
}
