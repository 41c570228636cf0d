//! The directory: who recipients are, and their S/MIME certificates.
//!
//! One [`Directory`] trait with two backends: [`embedded::Embedded`] (the
//! store's users, `cert publish`, LDIF imports) and [`ldap::Ldap`]
//! (OpenLDAP, Active Directory). [`DirectoryService`] puts a cache with a
//! time-to-live in front of whichever is configured, so a busy server does
//! not ask the directory the same question twice a second, and holds the
//! S/MIME trust store and the CRL cache ([`smime::Smime`]).
//!
//! For the GAL branch of Search: [`DirectoryService::search`] returns the
//! entries a query matches, and [`gal::properties`] turns one into the
//! `Properties` element of a Search result.

pub mod admin;
pub mod cli;
pub mod config;
pub mod crl;
pub mod embedded;
pub mod gal;
pub mod ldap;
pub mod ldif;
pub mod smime;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use config::{Backend, CrlConfig, DirectoryConfig, LdapConfig};

use crate::config::Config;
use crate::store::{DirectoryEntry, Store};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Query {
    /// An e-mail address, matched exactly (any of an entry's addresses).
    Address(String),
    /// The start of a name (display name, first or last name, alias) or
    /// of an address.
    Prefix(String),
}

impl Query {
    /// How a ResolveRecipients `To` is read: with an `@` it is an address
    /// (angle brackets and a display name around it are dropped).
    pub fn for_recipient(to: &str) -> Query {
        let to = to.trim();
        let inner = match (to.rfind('<'), to.rfind('>')) {
            (Some(a), Some(b)) if a < b => to.get(a + 1..b).unwrap_or(to),
            _ => to,
        };
        if inner.contains('@') {
            Query::Address(inner.trim().to_ascii_lowercase())
        } else {
            Query::Prefix(to.to_owned())
        }
    }
}

/// The entries a query matched: at most the limit asked for, and how many
/// there are in all (at least `entries.len()`; a backend that cannot count
/// past the limit says limit + 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    pub entries: Vec<DirectoryEntry>,
    pub total: usize,
}

/// Why the directory could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The directory server cannot be reached.
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// It was reached but did not answer within the configured time-out;
    /// GAL search tells the client so with its own status.
    #[error("the directory did not answer in time: {0}")]
    TimedOut(String),
    /// It answered with an error (bad credentials, bad base DN...).
    #[error("the directory refused the request: {0}")]
    Refused(String),
}

/// A directory backend.
pub trait Directory: Send + Sync + 'static {
    /// The entries `query` matches, at most `limit`.
    fn find<'a>(
        &'a self,
        query: &'a Query,
        limit: usize,
    ) -> BoxFuture<'a, Result<Matches, DirectoryError>>;
    /// The members of a group (people and groups), at most `limit`.
    fn members<'a>(
        &'a self,
        group: &'a DirectoryEntry,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DirectoryEntry>, DirectoryError>>;
    /// Names the backend, for logs.
    fn describe(&self) -> String;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CacheKey {
    Find(Query, usize),
    Members(String, usize),
}

#[derive(Debug, Clone)]
enum Cached {
    Find(Matches),
    Members(Vec<DirectoryEntry>),
}

/// The configured directory behind a cache, and the S/MIME trust and CRLs.
pub struct DirectoryService {
    backend: Arc<dyn Directory>,
    ttl: Duration,
    max_cached: usize,
    cache: Mutex<HashMap<CacheKey, (Instant, Cached)>>,
    pub config: DirectoryConfig,
    pub smime: smime::Smime,
}

impl std::fmt::Debug for DirectoryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryService")
            .field("backend", &self.backend.describe())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl DirectoryService {
    /// The directory the configuration names, over `store` for the
    /// embedded one. Nothing is connected until the first question.
    pub fn new(config: &Config, store: Arc<dyn Store>) -> DirectoryService {
        let backend: Arc<dyn Directory> = match config.directory.backend {
            Backend::Embedded => Arc::new(embedded::Embedded::new(store.clone())),
            Backend::Ldap => Arc::new(ldap::Ldap::new(config.ldap.clone())),
        };
        DirectoryService::with_backend(config, store, backend)
    }

    pub fn with_backend(
        config: &Config,
        store: Arc<dyn Store>,
        backend: Arc<dyn Directory>,
    ) -> DirectoryService {
        DirectoryService {
            backend,
            ttl: Duration::from_secs(config.directory.cache_ttl_secs),
            max_cached: config.directory.cache_entries,
            cache: Mutex::new(HashMap::new()),
            config: config.directory.clone(),
            smime: smime::Smime::new(&config.directory, &config.crl, store.as_ref()),
        }
    }

    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Forgets every cached answer (after `cert publish`, an import).
    pub fn forget(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn cached(&self, key: &CacheKey) -> Option<Cached> {
        if self.ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, key: CacheKey, value: Cached) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.max_cached {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= self.max_cached {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), value));
    }

    /// The entries `query` matches, from the cache while it is fresh.
    pub async fn find(&self, query: &Query, limit: usize) -> Result<Matches, DirectoryError> {
        let key = CacheKey::Find(query.clone(), limit);
        if let Some(Cached::Find(m)) = self.cached(&key) {
            return Ok(m);
        }
        let found = self.backend.find(query, limit).await?;
        self.remember(key, Cached::Find(found.clone()));
        Ok(found)
    }

    /// A recipient as typed: an address exactly, else names by prefix.
    pub async fn resolve(&self, to: &str, limit: usize) -> Result<Matches, DirectoryError> {
        self.find(&Query::for_recipient(to), limit).await
    }

    /// The GAL search of the Search command: names and addresses starting
    /// with `query`, at most `limit`, and how many match in all.
    pub async fn search(&self, query: &str, limit: usize) -> Result<Matches, DirectoryError> {
        self.find(&Query::Prefix(query.trim().to_owned()), limit)
            .await
    }

    /// The members of a group, groups within it expanded (each group
    /// once), people only, at most `max_group_members`.
    pub async fn expand(
        &self,
        group: &DirectoryEntry,
    ) -> Result<Vec<DirectoryEntry>, DirectoryError> {
        let limit = self.config.max_group_members;
        let mut people: Vec<DirectoryEntry> = Vec::new();
        let mut seen_groups = vec![group.id.to_ascii_lowercase()];
        let mut pending = vec![group.clone()];
        while let Some(g) = pending.pop() {
            let key = CacheKey::Members(g.id.to_ascii_lowercase(), limit);
            let members = match self.cached(&key) {
                Some(Cached::Members(m)) => m,
                _ => {
                    let m = self.backend.members(&g, limit).await?;
                    self.remember(key, Cached::Members(m.clone()));
                    m
                }
            };
            for m in members {
                match m.kind {
                    crate::store::EntryKind::Group => {
                        let id = m.id.to_ascii_lowercase();
                        if !seen_groups.contains(&id) && seen_groups.len() < 64 {
                            seen_groups.push(id);
                            pending.push(m);
                        }
                    }
                    crate::store::EntryKind::Person => {
                        if people.len() < limit && !people.iter().any(|p| p.id == m.id) {
                            people.push(m);
                        }
                    }
                }
            }
        }
        Ok(people)
    }
}

/// Whether an entry matches a name prefix: its display name or any word
/// of it, its first or last name, alias or an address, ignoring case.
pub fn matches_prefix(entry: &DirectoryEntry, prefix: &str) -> bool {
    let prefix = prefix.trim().to_lowercase();
    if prefix.is_empty() {
        return false;
    }
    let starts = |s: &str| s.to_lowercase().starts_with(&prefix);
    starts(&entry.display_name)
        || entry.display_name.split_whitespace().any(starts)
        || entry.first_name.as_deref().is_some_and(starts)
        || entry.last_name.as_deref().is_some_and(starts)
        || entry.alias.as_deref().is_some_and(starts)
        || starts(&entry.email)
        || entry.addresses.iter().any(|a| starts(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_read_as_addresses_or_names() {
        assert_eq!(
            Query::for_recipient("Alice <Alice@Example.com>"),
            Query::Address("alice@example.com".into())
        );
        assert_eq!(
            Query::for_recipient(" bob@example.com "),
            Query::Address("bob@example.com".into())
        );
        assert_eq!(Query::for_recipient("Ali"), Query::Prefix("Ali".into()));
        let e = DirectoryEntry {
            id: "a".into(),
            display_name: "Alice Archer".into(),
            email: "alice@example.com".into(),
            ..Default::default()
        };
        assert!(matches_prefix(&e, "arch"));
        assert!(matches_prefix(&e, "ALI"));
        assert!(!matches_prefix(&e, "bob"));
        assert!(!matches_prefix(&e, " "));
    }
}
