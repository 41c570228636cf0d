//! One account's index: an inverted index from terms to the messages that
//! hold them, with the few properties a query filters on (folder, date
//! received, conversation), kept current from the store's change log.
//!
//! Documents are numbered in the order they were indexed; a term's
//! postings are in that order, so adding a message appends. A message that
//! leaves the mailbox is marked dead and its postings stay until dead
//! documents outnumber live ones, when the postings are compacted. A move
//! changes a document's folder only: the bytes of a message never change
//! (DESIGN.md, promise 1), so neither do its terms. An item whose blob
//! changes (a draft edited in place) is indexed again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use sha2::{Digest, Sha256};

use super::text;
use crate::store::{MailItem, Store, StoreResult};

/// The parts of a message a term was found in, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fields(pub u8);

impl Fields {
    pub const FROM: Fields = Fields(1);
    pub const TO: Fields = Fields(2);
    pub const CC: Fields = Fields(4);
    pub const SUBJECT: Fields = Fields(8);
    pub const BODY: Fields = Fields(16);
    pub const ATTACHMENTS: Fields = Fields(32);
    pub const ALL: Fields = Fields(63);

    pub fn union(self, other: Fields) -> Fields {
        Fields(self.0 | other.0)
    }

    fn meets(self, other: Fields) -> bool {
        self.0 & other.0 != 0
    }
}

/// What a query asks of a message, evaluated over the whole index at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    Nothing,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    /// Every word begins a term in one of `fields`.
    Words {
        words: Vec<String>,
        fields: Fields,
    },
    /// In one of these folders.
    Folders(BTreeSet<u32>),
    /// Received strictly after this many milliseconds since the epoch.
    ReceivedAfter(u64),
    /// Received strictly before this many milliseconds since the epoch.
    ReceivedBefore(u64),
    /// In the conversation with this ConversationId.
    Conversation([u8; 16]),
}

/// A set of document numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    fn empty(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn full(len: usize) -> Bits {
        let mut b = Bits::empty(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }

    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    fields: Fields,
}

#[derive(Debug, Clone)]
struct Doc {
    item: u64,
    folder: u32,
    /// Seconds since the epoch.
    received: u64,
    conversation: [u8; 16],
    /// The first 8 bytes of the blob's hash: a changed blob is new content.
    blob: u64,
    live: bool,
}

/// The ConversationId `mail::content` sends for a thread topic: the first
/// 16 bytes of SHA-256 of it, lower-cased.
pub fn conversation_id(thread_topic: &str) -> [u8; 16] {
    let digest: [u8; 32] = Sha256::digest(thread_topic.to_lowercase().as_bytes()).into();
    let mut out = [0u8; 16];
    for (o, d) in out.iter_mut().zip(digest) {
        *o = d;
    }
    out
}

fn blob_key(hex: &str) -> u64 {
    hex.get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// One account's index.
#[derive(Debug)]
pub struct AccountIndex {
    account: String,
    /// The account's creation time: a recreated account is a new mailbox.
    created: u64,
    /// The modification sequence the index reflects; none before it is
    /// built.
    seen: Option<u64>,
    docs: Vec<Doc>,
    by_item: HashMap<u64, u32>,
    terms: BTreeMap<Box<str>, Vec<Posting>>,
    dead: usize,
    /// Every folder an indexed item was ever in: their change logs are
    /// read even after the folder is deleted.
    folders: BTreeSet<u32>,
}

/// What [`AccountIndex::refresh`] did, for the trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refresh {
    pub rebuilt: bool,
    /// Items looked at again because their folder logs named them.
    pub touched: usize,
}

impl AccountIndex {
    pub fn new(account: &str, created: u64) -> AccountIndex {
        AccountIndex {
            account: account.to_owned(),
            created,
            seen: None,
            docs: Vec::new(),
            by_item: HashMap::new(),
            terms: BTreeMap::new(),
            dead: 0,
            folders: BTreeSet::new(),
        }
    }

    pub fn created(&self) -> u64 {
        self.created
    }

    /// How many messages the index holds.
    pub fn len(&self) -> usize {
        self.by_item.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_item.is_empty()
    }

    /// Whether the item is in the index, that is, in the mailbox as of the
    /// last refresh.
    pub fn contains(&self, item: u64) -> bool {
        self.by_item.contains_key(&item)
    }

    /// Brings the index up to the store's current state: reads the change
    /// logs of every folder since the last refresh and looks at each item
    /// they name once, or builds the index from nothing the first time.
    ///
    /// Every writer (delivery, import, Sync, MoveItems, ItemOperations,
    /// folder deletion) logs its changes in the transaction that makes
    /// them, so nothing can change the mailbox without the index seeing
    /// it here; the upsert reads the item's current state, so applying a
    /// change twice, or a later state early, is harmless.
    pub fn refresh(&mut self, store: &dyn Store) -> StoreResult<Refresh> {
        let account = self.account.clone();
        let now = store.modseq(&account)?;
        let since = match self.seen {
            Some(seen) if seen == now => return Ok(Refresh::default()),
            Some(seen) if seen < now => seen,
            // Never built, or the sequence went back: a new mailbox.
            _ => return self.rebuild(store, now),
        };
        let mut folders = self.folders.clone();
        folders.extend(store.folders(&account)?.iter().map(|f| f.id));
        let mut touched = BTreeSet::new();
        for folder in folders {
            for change in store.changes(&account, folder, since, usize::MAX)? {
                touched.insert(change.item);
            }
        }
        for &item in &touched {
            match store.item(&account, item)? {
                Some(it) => self.upsert(store, &it)?,
                None => self.remove(item),
            }
        }
        self.seen = Some(now);
        self.compact_if_needed();
        Ok(Refresh {
            rebuilt: false,
            touched: touched.len(),
        })
    }

    fn rebuild(&mut self, store: &dyn Store, now: u64) -> StoreResult<Refresh> {
        *self = AccountIndex::new(&self.account, self.created);
        let account = self.account.clone();
        for folder in store.folders(&account)? {
            for item in store.folder_items(&account, folder.id)? {
                self.upsert(store, &item)?;
            }
        }
        // Changes made during the scan have a later modseq and are looked
        // at again by the next refresh.
        self.seen = Some(now);
        Ok(Refresh {
            rebuilt: true,
            touched: self.len(),
        })
    }

    fn upsert(&mut self, store: &dyn Store, item: &MailItem) -> StoreResult<()> {
        let blob = blob_key(&item.blob);
        self.folders.insert(item.folder);
        if let Some(&n) = self.by_item.get(&item.id) {
            if let Some(doc) = self.docs.get_mut(n as usize) {
                if doc.blob == blob {
                    doc.folder = item.folder;
                    doc.received = item.received;
                    return Ok(());
                }
            }
            self.remove(item.id);
        }
        let raw = store.item_mime(&self.account, item.id)?.unwrap_or_default();
        self.add(item, &raw, blob);
        Ok(())
    }

    /// Indexes one message whose raw MIME is `raw`.
    fn add(&mut self, item: &MailItem, raw: &[u8], blob: u64) {
        let Ok(n) = u32::try_from(self.docs.len()) else {
            return;
        };
        let s = &item.summary;
        let (body, attachments) = text::message_text(raw);
        let mut found: HashMap<String, Fields> = HashMap::new();
        for (value, field) in [
            (s.from.as_str(), Fields::FROM),
            (s.reply_to.as_str(), Fields::FROM),
            (s.to.as_str(), Fields::TO),
            (s.cc.as_str(), Fields::CC),
            (s.subject.as_str(), Fields::SUBJECT),
            (body.as_str(), Fields::BODY),
            (attachments.as_str(), Fields::ATTACHMENTS),
        ] {
            for term in text::terms(value) {
                let f = found.entry(term).or_insert(Fields(0));
                *f = f.union(field);
            }
        }
        for (term, fields) in found {
            self.terms
                .entry(term.into_boxed_str())
                .or_default()
                .push(Posting { doc: n, fields });
        }
        self.docs.push(Doc {
            item: item.id,
            folder: item.folder,
            received: item.received,
            conversation: conversation_id(&s.thread_topic),
            blob,
            live: true,
        });
        self.by_item.insert(item.id, n);
    }

    fn remove(&mut self, item: u64) {
        if let Some(n) = self.by_item.remove(&item) {
            if let Some(doc) = self.docs.get_mut(n as usize) {
                doc.live = false;
                self.dead += 1;
            }
        }
    }

    /// Drops dead documents from the postings once they are the majority.
    fn compact_if_needed(&mut self) {
        if self.dead < 1024 || self.dead < self.by_item.len() {
            return;
        }
        let mut renumber: Vec<Option<u32>> = Vec::with_capacity(self.docs.len());
        let mut next = 0u32;
        for doc in &self.docs {
            renumber.push(doc.live.then(|| {
                next += 1;
                next - 1
            }));
        }
        self.docs.retain(|d| d.live);
        self.terms.retain(|_, postings| {
            postings.retain_mut(|p| match renumber.get(p.doc as usize).copied().flatten() {
                Some(n) => {
                    p.doc = n;
                    true
                }
                None => false,
            });
            !postings.is_empty()
        });
        for n in self.by_item.values_mut() {
            if let Some(Some(new)) = renumber.get(*n as usize) {
                *n = *new;
            }
        }
        self.dead = 0;
    }

    /// The documents a filter selects, live ones only.
    fn select(&self, filter: &Filter) -> Bits {
        let len = self.docs.len();
        let by_doc = |pred: &dyn Fn(&Doc) -> bool| {
            let mut b = Bits::empty(len);
            for (i, d) in self.docs.iter().enumerate() {
                if pred(d) {
                    b.set(i);
                }
            }
            b
        };
        match filter {
            Filter::All => Bits::full(len),
            Filter::Nothing => Bits::empty(len),
            Filter::And(parts) => {
                let mut b = Bits::full(len);
                for p in parts {
                    b.and(&self.select(p));
                }
                b
            }
            Filter::Or(parts) => {
                let mut b = Bits::empty(len);
                for p in parts {
                    b.or(&self.select(p));
                }
                b
            }
            Filter::Words { words, fields } => {
                let mut b = Bits::full(len);
                for w in words {
                    b.and(&self.prefixed(w, *fields));
                }
                b
            }
            Filter::Folders(set) => by_doc(&|d| set.contains(&d.folder)),
            Filter::ReceivedAfter(ms) => by_doc(&|d| d.received.saturating_mul(1000) > *ms),
            Filter::ReceivedBefore(ms) => by_doc(&|d| d.received.saturating_mul(1000) < *ms),
            Filter::Conversation(id) => by_doc(&|d| d.conversation == *id),
        }
    }

    /// The documents with a term that begins with `word` in `fields`.
    fn prefixed(&self, word: &str, fields: Fields) -> Bits {
        let mut b = Bits::empty(self.docs.len());
        let from = (Bound::Included(word), Bound::Unbounded);
        for (term, postings) in self.terms.range::<str, _>(from) {
            if !term.starts_with(word) {
                break;
            }
            for p in postings {
                if p.fields.meets(fields) {
                    b.set(p.doc as usize);
                }
            }
        }
        b
    }

    /// The items that match, newest first (by the time they were received,
    /// then by id).
    pub fn search(&self, filter: &Filter) -> Vec<u64> {
        let bits = self.select(filter);
        let mut hits: Vec<&Doc> = bits
            .ones()
            .filter_map(|i| self.docs.get(i))
            .filter(|d| d.live)
            .collect();
        hits.sort_unstable_by(|a, b| b.received.cmp(&a.received).then(b.item.cmp(&a.item)));
        hits.iter().map(|d| d.item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::summary::summarize;

    fn item(id: u64, folder: u32, received: u64, raw: &[u8]) -> MailItem {
        MailItem {
            id,
            folder,
            modseq: id,
            blob: format!("{id:064x}"),
            size: raw.len() as u64,
            received,
            read: false,
            flag: None,
            categories: vec![],
            summary: summarize(raw),
            content_modseq: 0,
            attachment_numbers: Default::default(),
        }
    }

    fn words(w: &[&str]) -> Filter {
        Filter::Words {
            words: w.iter().map(|s| (*s).to_owned()).collect(),
            fields: Fields::ALL,
        }
    }

    fn index() -> AccountIndex {
        let mut ix = AccountIndex::new("alice", 1);
        let mails: [(u64, u32, u64, &[u8]); 3] = [
            (1, 1, 100, b"From: \"Anat Kerry\" <anat@contoso.com>\r\nTo: alice@example.com\r\nSubject: Presentation deck\r\n\r\nHere is the deck for Monday.\r\n"),
            (2, 1, 200, b"From: bob@example.com\r\nTo: alice@example.com\r\nCc: \"Chris Gray\" <chris@contoso.com>\r\nSubject: Lunch\r\n\r\nPresentations are boring; lunch?\r\n"),
            (3, 4, 300, b"From: alice@example.com\r\nTo: Johnson <j@example.com>\r\nSubject: Re: Lunch\r\n\r\nSure, at noon.\r\n"),
        ];
        for (id, folder, received, raw) in mails {
            ix.add(&item(id, folder, received, raw), raw, id);
        }
        ix
    }

    #[test]
    fn words_match_term_prefixes_in_the_fields_asked() {
        let ix = index();
        assert_eq!(ix.search(&words(&["presentation"])), vec![2, 1]);
        assert_eq!(
            ix.search(&words(&["PRESENT"])),
            Vec::<u64>::new(),
            "queries are lower-cased by the caller"
        );
        assert_eq!(ix.search(&words(&["present", "deck"])), vec![1]);
        assert_eq!(ix.search(&words(&["john"])), vec![3]);
        assert_eq!(ix.search(&words(&["ohnson"])), Vec::<u64>::new());
        let subject_only = Filter::Words {
            words: vec!["presentation".into()],
            fields: Fields::SUBJECT,
        };
        assert_eq!(ix.search(&subject_only), vec![1]);
        let from_contoso = Filter::Words {
            words: vec!["contoso".into()],
            fields: Fields::FROM,
        };
        assert_eq!(ix.search(&from_contoso), vec![1]);
        let cc = Filter::Words {
            words: vec!["chris".into()],
            fields: Fields::CC,
        };
        assert_eq!(ix.search(&cc), vec![2]);
    }

    #[test]
    fn filters_combine() {
        let ix = index();
        let inbox = Filter::Folders([1].into());
        assert_eq!(ix.search(&inbox), vec![2, 1]);
        assert_eq!(
            ix.search(&Filter::And(vec![inbox.clone(), words(&["lunch"])])),
            vec![2]
        );
        assert_eq!(
            ix.search(&Filter::Or(vec![words(&["deck"]), words(&["noon"])])),
            vec![3, 1]
        );
        assert_eq!(
            ix.search(&Filter::And(vec![
                Filter::ReceivedAfter(100_000),
                Filter::ReceivedBefore(300_000)
            ])),
            vec![2]
        );
        assert_eq!(
            ix.search(&Filter::Conversation(conversation_id("Lunch"))),
            vec![3, 2]
        );
        assert_eq!(ix.search(&Filter::Nothing), Vec::<u64>::new());
        assert_eq!(ix.search(&Filter::All).len(), 3);
    }

    #[test]
    fn removed_documents_vanish_and_compaction_keeps_the_rest() {
        let mut ix = index();
        ix.remove(2);
        assert_eq!(ix.search(&words(&["lunch"])), vec![3]);
        assert!(!ix.contains(2) && ix.contains(3));
        // Many dead documents: compaction renumbers the live ones.
        let raw = b"Subject: filler\r\n\r\nfiller text\r\n";
        for id in 10..2100 {
            ix.add(&item(id, 1, id, raw), raw, id);
        }
        for id in 10..2090 {
            ix.remove(id);
        }
        ix.compact_if_needed();
        assert_eq!(ix.dead, 0);
        assert_eq!(ix.docs.len(), 12);
        assert_eq!(ix.search(&words(&["filler"])).len(), 10);
        assert_eq!(ix.search(&words(&["deck"])), vec![1]);
        assert_eq!(ix.search(&words(&["lunch"])), vec![3]);
    }

    #[test]
    fn bits() {
        let mut a = Bits::empty(130);
        a.set(0);
        a.set(129);
        a.set(500);
        assert_eq!(a.ones().collect::<Vec<_>>(), vec![0, 129]);
        let full = Bits::full(3);
        assert_eq!(full.ones().collect::<Vec<_>>(), vec![0, 1, 2]);
    }
}
