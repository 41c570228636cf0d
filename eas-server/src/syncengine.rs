//! The Sync state machine for one collection of one device, over the store:
//! which key the client holds, what to send next, what the device then
//! knows. No sockets and no WBXML: `cmd::sync` renders what this decides.
//!
//! Keys (DESIGN.md, promise 3): key 0 starts over; the current key gets
//! the next batch; the previous key (the client lost our answer) gets the
//! same batch again; anything else is Status 3.
//!
//! What to send is decided from the folder's change log, not by scanning:
//! every change after the state's position is looked at once, and its item's
//! present state against the set of items the device knows decides Add,
//! Change or Delete. The initial enumeration (newest first, as phones show
//! mail) is a snapshot of ids taken at key 0 and sent window by window.

use std::collections::{HashMap, HashSet};

use crate::store::{
    Change, ChangeKind, CollectionState, KnownUpdate, LastBatch, MailItem, SavedResponse, SentOp,
    Store, StoreResult,
};
use crate::synckey;
use crate::time;

/// Where the client's key stands.
#[derive(Debug)]
pub enum Position {
    /// Key 0: a new state was made; the answer is the key alone.
    Initial(CollectionState),
    Current(CollectionState),
    /// The previous key: answer the last batch again.
    Replay(CollectionState),
    /// An older key of this state: Status 3, and the device is flagged.
    Stale(u32),
    /// Status 3.
    Invalid,
}

/// How long ago a FilterType reaches, in seconds (MS-ASCMD FilterType).
pub fn filter_window(filter: u8) -> Option<u64> {
    const DAY: u64 = 86_400;
    match filter {
        1 => Some(DAY),
        2 => Some(3 * DAY),
        3 => Some(7 * DAY),
        4 => Some(14 * DAY),
        5 => Some(31 * DAY),
        6 => Some(92 * DAY),
        7 => Some(183 * DAY),
        _ => None,
    }
}

fn in_window(item: &MailItem, filter: u8, now: u64) -> bool {
    filter_window(filter).is_none_or(|w| item.received.saturating_add(w) >= now)
}

pub fn position(
    store: &dyn Store,
    account: &str,
    device: &str,
    folder: u32,
    key: &str,
    filter: u8,
) -> StoreResult<Position> {
    if key == "0" {
        let mut items = store.folder_items(account, folder)?;
        let now = time::now();
        items.retain(|i| in_window(i, filter, now));
        // Newest first; ids break ties so the order is stable.
        items.sort_by(|a, b| b.received.cmp(&a.received).then(b.id.cmp(&a.id)));
        let state = CollectionState {
            epoch: synckey::new_epoch(),
            key: 1,
            // Changes up to now are in the snapshot already.
            synced: store.modseq(account)?,
            snapshot: items.iter().map(|i| i.id).collect(),
            filter,
            last: None,
            options: None,
            replays: 0,
            deferred: Vec::new(),
        };
        store.put_collection_state(
            account,
            device,
            folder,
            &state,
            KnownUpdate {
                reset: true,
                add: &[],
                remove: &[],
            },
        )?;
        return Ok(Position::Initial(state));
    }
    let Some(state) = store.collection_state(account, device, folder)? else {
        return Ok(Position::Invalid);
    };
    Ok(match synckey::parse(key, &state.epoch) {
        Some(n) if n == state.key => Position::Current(state),
        // The key before the last answer: that answer was lost, or the
        // device could not take it (then the batch is narrowed, under a
        // fresh key, still answering this same key).
        Some(n) if state.last.as_ref().is_some_and(|l| l.key_before == n) => {
            Position::Replay(state)
        }
        // A key of this lineage from further back: another installation
        // with the same DeviceId, or a device restored from a backup.
        Some(n) if n < state.key => Position::Stale(n),
        _ => Position::Invalid,
    })
}

/// What one request makes of a collection.
#[derive(Debug, Default)]
pub struct Batch {
    pub ops: Vec<SentOp>,
    pub more_available: bool,
}

/// One collection of one device of one account.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub store: &'a dyn Store,
    pub account: &'a str,
    pub device: &'a str,
    pub folder: u32,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.account, self.device, self.folder)
    }
}

/// Chooses the next server changes for a device, at most `window`, updating
/// `state` (not saved yet) and `known_now`. `skip` are modification
/// sequences of the client's own changes in this request, which are not
/// echoed back.
pub fn next_batch(
    scope: Scope<'_>,
    state: &mut CollectionState,
    window: usize,
    skip: &HashSet<u64>,
    known_now: &mut Known,
) -> StoreResult<Batch> {
    let Scope {
        store,
        account,
        folder,
        ..
    } = scope;
    let mut batch = Batch::default();
    let now = time::now();
    // Operations held back from a batch the device could not take come
    // first, as they were decided.
    while batch.ops.len() < window && !state.deferred.is_empty() {
        let op = state.deferred.remove(0);
        let still_here = |id: u64| -> StoreResult<bool> {
            Ok(store.item(account, id)?.is_some_and(|i| i.folder == folder))
        };
        let keep = match op {
            SentOp::Add(id) | SentOp::Change(id) | SentOp::Replace(id) => still_here(id)?,
            SentOp::Delete(_) | SentOp::SoftDelete(_) => true,
        };
        if keep {
            batch.ops.push(op);
        }
    }
    if !state.deferred.is_empty() {
        batch.more_available = true;
        return Ok(batch);
    }
    // The initial enumeration first.
    while batch.ops.len() < window {
        let Some(&id) = state.snapshot.first() else {
            break;
        };
        state.snapshot.remove(0);
        match store.item(account, id)? {
            Some(item) if item.folder == folder && !known_now.contains(scope, id)? => {
                known_now.add(id);
                batch.ops.push(SentOp::Add(id));
            }
            _ => {}
        }
    }
    if !state.snapshot.is_empty() {
        batch.more_available = true;
        return Ok(batch);
    }
    // Then the change log.
    let synced_before = state.synced;
    let fetch = window.saturating_mul(2).saturating_add(64);
    let changes = store.changes(account, folder, state.synced, fetch)?;
    let exhausted = changes.len() < fetch;
    let mut decided: HashSet<u64> = HashSet::new();
    for change in &changes {
        if skip.contains(&change.modseq) || decided.contains(&change.item) {
            state.synced = change.modseq;
            continue;
        }
        let item = store.item(account, change.item)?;
        let in_folder = item.as_ref().filter(|i| i.folder == folder);
        let present = in_folder.is_some_and(|i| in_window(i, state.filter, now));
        let known = known_now.contains(scope, change.item)?;
        let op = decide(change, present, in_folder.is_some(), known).map(|op| match op {
            // Content replaced since this device's position: the whole
            // item, not only its flags.
            SentOp::Change(id) if in_folder.is_some_and(|i| i.content_modseq > synced_before) => {
                SentOp::Replace(id)
            }
            op => op,
        });
        if let Some(op) = op {
            if batch.ops.len() >= window {
                batch.more_available = true;
                return Ok(batch);
            }
            match op {
                SentOp::Add(id) => known_now.add(id),
                SentOp::Delete(id) | SentOp::SoftDelete(id) => known_now.remove(id),
                SentOp::Change(_) | SentOp::Replace(_) => {}
            }
            batch.ops.push(op);
        }
        decided.insert(change.item);
        state.synced = change.modseq;
    }
    if !exhausted {
        batch.more_available = true;
    }
    Ok(batch)
}

/// What one change of the log means to a device: `present` says the item is
/// in the folder and within the filter, `in_folder` that it is in the
/// folder at all, `known` that the device holds it.
fn decide(change: &Change, present: bool, in_folder: bool, known: bool) -> Option<SentOp> {
    match (present, known, change.kind) {
        (true, false, _) => Some(SentOp::Add(change.item)),
        (true, true, ChangeKind::Changed | ChangeKind::Added) => Some(SentOp::Change(change.item)),
        (true, true, ChangeKind::Removed) => None,
        // Still in the folder but older than the filter: a soft delete.
        (false, true, _) if in_folder => Some(SentOp::SoftDelete(change.item)),
        (false, true, _) => Some(SentOp::Delete(change.item)),
        (false, false, _) => None,
    }
}

/// How many changes a Sync from `state` would bring if its window were
/// unbounded: the snapshot items still to send, then the change log, each
/// decided as [`next_batch`] decides it. Reads only; nothing is saved
/// (GetItemEstimate, MS-ASCMD 2.2.1.9: "the server does not update the
/// SyncKey"). A Sync in windows may send an item twice (an Add, then a
/// Change in a later window), so this can be a little lower than what a
/// windowed Sync sends.
pub fn estimate(scope: Scope<'_>, state: &CollectionState) -> StoreResult<u64> {
    const PAGE: usize = 1024;
    let Scope {
        store,
        account,
        device,
        folder,
    } = scope;
    let now = time::now();
    let here: HashMap<u64, MailItem> = store
        .folder_items(account, folder)?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let mut changes: Vec<Change> = Vec::new();
    let mut since = state.synced;
    loop {
        let page = store.changes(account, folder, since, PAGE)?;
        let full = page.len() >= PAGE;
        if let Some(last) = page.last() {
            since = last.modseq;
        }
        changes.extend(page);
        if !full {
            break;
        }
    }
    let mut asked: Vec<u64> = state
        .snapshot
        .iter()
        .copied()
        .chain(changes.iter().map(|c| c.item))
        .collect();
    asked.sort_unstable();
    asked.dedup();
    let flags = store.known(account, device, folder, &asked)?;
    let mut known: HashSet<u64> = asked
        .iter()
        .zip(flags)
        .filter_map(|(id, k)| k.then_some(*id))
        .collect();
    let mut count = 0u64;
    for id in &state.snapshot {
        if here.contains_key(id) && known.insert(*id) {
            count += 1;
        }
    }
    let mut decided: HashSet<u64> = HashSet::new();
    for change in &changes {
        if !decided.insert(change.item) {
            continue;
        }
        let in_folder = here.get(&change.item);
        let present = in_folder.is_some_and(|i| in_window(i, state.filter, now));
        let op = decide(
            change,
            present,
            in_folder.is_some(),
            known.contains(&change.item),
        );
        match op {
            Some(SentOp::Add(id)) => {
                known.insert(id);
            }
            Some(SentOp::Delete(id) | SentOp::SoftDelete(id)) => {
                known.remove(&id);
            }
            _ => {}
        }
        count += u64::from(op.is_some());
    }
    Ok(count)
}

/// The device's known set as this request changes it: looked up in the
/// store, with this request's additions and removals on top.
#[derive(Debug, Default)]
pub struct Known {
    pub added: Vec<u64>,
    pub removed: Vec<u64>,
}

impl Known {
    pub fn add(&mut self, id: u64) {
        self.removed.retain(|r| *r != id);
        self.added.push(id);
    }

    pub fn remove(&mut self, id: u64) {
        self.added.retain(|a| *a != id);
        self.removed.push(id);
    }

    pub fn contains(&self, scope: Scope<'_>, id: u64) -> StoreResult<bool> {
        if self.added.contains(&id) {
            return Ok(true);
        }
        if self.removed.contains(&id) {
            return Ok(false);
        }
        let known = scope
            .store
            .known(scope.account, scope.device, scope.folder, &[id])?;
        Ok(known.first().copied().unwrap_or(false))
    }

    pub fn update(&self) -> KnownUpdate<'_> {
        KnownUpdate {
            reset: false,
            add: &self.added,
            remove: &self.removed,
        }
    }
}

/// How many times the same batch is sent again before it is narrowed.
pub const LOOP_RETRIES: u32 = 2;

/// What a replay answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// The last batch again, under the same key: a lost response.
    Same(LastBatch),
    /// The device keeps failing on the last batch: a narrower one under a
    /// fresh key, the rest deferred.
    Narrowed(LastBatch),
    /// A single item the device cannot take: held back; an empty batch
    /// under a fresh key lets the device move on.
    Held(u64, LastBatch),
}

/// Answers a re-sent previous key (DESIGN.md promise 3), and protects
/// against a device that cannot take a batch and re-sends its key forever
/// (the sync issue, loop protection): after [`LOOP_RETRIES`] identical
/// answers the batch is halved until the item it chokes on is alone, and
/// that item is held back. Updates `state`; the caller saves it.
pub fn replay(state: &mut CollectionState, client_key: u32) -> Replay {
    let last = state.last.clone().unwrap_or_default();
    state.replays += 1;
    if state.replays <= LOOP_RETRIES {
        return Replay::Same(last);
    }
    let mut ops = last.ops.clone();
    let held = match ops.len() {
        0 | 1 => ops.pop().map(SentOp::item),
        n => {
            let rest = ops.split_off(n / 2);
            let mut deferred = rest;
            deferred.append(&mut state.deferred);
            state.deferred = deferred;
            None
        }
    };
    let narrowed = LastBatch {
        key_before: client_key,
        ops,
        responses: last.responses,
        more_available: last.more_available || !state.deferred.is_empty(),
        commands: last.commands,
    };
    state.last = Some(narrowed.clone());
    state.key += 1;
    // A narrowed batch that fails again is narrowed at once.
    state.replays = LOOP_RETRIES;
    match held {
        Some(id) => {
            state.replays = 0;
            Replay::Held(id, narrowed)
        }
        None => Replay::Narrowed(narrowed),
    }
}

/// The state after a batch: the next key, and the batch kept for a replay.
pub fn advance(state: &mut CollectionState, batch: &Batch, responses: Vec<SavedResponse>) {
    state.replays = 0;
    state.last = Some(LastBatch {
        key_before: state.key,
        ops: batch.ops.clone(),
        responses,
        more_available: batch.more_available,
        commands: None,
    });
    state.key += 1;
}

pub fn wire_key(state: &CollectionState) -> String {
    synckey::format(&state.epoch, state.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        Account, ItemUpdate, MailSummary, Mailbox, NewMail, RedbStore, Store, SyncStates,
    };

    fn setup() -> (RedbStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "eas-engine-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = RedbStore::open(&dir.join("eas.redb")).unwrap();
        store
            .create_account(&Account {
                name: "alice".into(),
                email: "alice@example.com".into(),
                display_name: "Alice".into(),
                password_hash: String::new(),
                created: 0,
                oof: Default::default(),
            })
            .unwrap();
        (store, dir)
    }

    fn deliver(store: &RedbStore, n: u64) -> Vec<u64> {
        let raws: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("Subject: {i}\r\n\r\nbody {i}\r\n").into_bytes())
            .collect();
        let mails: Vec<NewMail<'_>> = raws
            .iter()
            .enumerate()
            .map(|(i, raw)| NewMail {
                raw,
                summary: MailSummary::default(),
                received: time::now() - 1000 + i as u64,
                read: false,
            })
            .collect();
        store
            .deliver("alice", 1, &mails)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect()
    }

    /// One sync round for device `d`: the batch, with the state saved.
    fn round(store: &RedbStore, d: &str, key: &str, window: usize) -> (String, Batch) {
        let Position::Current(mut state) = position(store, "alice", d, 1, key, 0).unwrap() else {
            panic!("key {key} not current")
        };
        let mut known = Known::default();
        let scope = Scope {
            store,
            account: "alice",
            device: d,
            folder: 1,
        };
        let batch = next_batch(scope, &mut state, window, &HashSet::new(), &mut known).unwrap();
        advance(&mut state, &batch, vec![]);
        store
            .put_collection_state("alice", d, 1, &state, known.update())
            .unwrap();
        (wire_key(&state), batch)
    }

    #[test]
    fn windows_send_every_item_once_newest_first_then_changes() {
        let (store, dir) = setup();
        let ids = deliver(&store, 12);
        let Position::Initial(state) = position(&store, "alice", "d1", 1, "0", 0).unwrap() else {
            panic!()
        };
        let mut key = wire_key(&state);
        let mut sent = Vec::new();
        loop {
            let (next, batch) = round(&store, "d1", &key, 5);
            sent.extend(batch.ops.iter().map(|op| match op {
                SentOp::Add(id) => *id,
                other => panic!("{other:?}"),
            }));
            key = next;
            if !batch.more_available {
                break;
            }
        }
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(sent, newest_first);

        // A flag change and a new message arrive; then a delete.
        store
            .update_item(
                "alice",
                ids[0],
                &ItemUpdate {
                    read: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        let new = deliver(&store, 1)[0];
        let (key, batch) = round(&store, "d1", &key, 50);
        assert_eq!(batch.ops, vec![SentOp::Change(ids[0]), SentOp::Add(new)]);
        store.delete_item("alice", ids[1]).unwrap();
        let (_, batch) = round(&store, "d1", &key, 50);
        assert_eq!(batch.ops, vec![SentOp::Delete(ids[1])]);
        assert_eq!(store.known_items("alice", "d1", 1).unwrap().len(), 12);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_replaced_content_goes_out_whole_once_then_flags_alone() {
        let (store, dir) = setup();
        let ids = deliver(&store, 1);
        let Position::Initial(state) = position(&store, "alice", "d1", 1, "0", 0).unwrap() else {
            panic!()
        };
        let (key, _) = round(&store, "d1", &wire_key(&state), 10);
        let raw = b"Subject: edited\r\n\r\nnew body\r\n";
        let before = store.item("alice", ids[0]).unwrap().unwrap();
        let replaced = store
            .replace_content(
                "alice",
                ids[0],
                &crate::store::NewContent {
                    raw,
                    summary: MailSummary::default(),
                    attachment_numbers: Default::default(),
                },
            )
            .unwrap();
        assert_eq!(replaced.content_modseq, replaced.modseq);
        assert_ne!(replaced.blob, before.blob);
        assert_eq!(store.item_mime("alice", ids[0]).unwrap().unwrap(), raw);
        let (key, batch) = round(&store, "d1", &key, 10);
        assert_eq!(batch.ops, vec![SentOp::Replace(ids[0])]);
        store
            .update_item(
                "alice",
                ids[0],
                &ItemUpdate {
                    read: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        let (_, batch) = round(&store, "d1", &key, 10);
        assert_eq!(batch.ops, vec![SentOp::Change(ids[0])]);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn estimate_of(store: &RedbStore, d: &str, key: &str) -> u64 {
        let Position::Current(state) = position(store, "alice", d, 1, key, 0).unwrap() else {
            panic!("key {key} not current")
        };
        let scope = Scope {
            store,
            account: "alice",
            device: d,
            folder: 1,
        };
        estimate(scope, &state).unwrap()
    }

    #[test]
    fn estimates_count_what_the_next_sync_sends_and_change_nothing() {
        let (store, dir) = setup();
        let ids = deliver(&store, 7);
        let Position::Initial(state) = position(&store, "alice", "d1", 1, "0", 0).unwrap() else {
            panic!()
        };
        let key = wire_key(&state);
        assert_eq!(estimate_of(&store, "d1", &key), 7);
        // Asking twice changes nothing.
        assert_eq!(estimate_of(&store, "d1", &key), 7);
        let (key, batch) = round(&store, "d1", &key, 3);
        assert_eq!(batch.ops.len(), 3);
        assert_eq!(estimate_of(&store, "d1", &key), 4);
        let (key, batch) = round(&store, "d1", &key, 50);
        assert_eq!(batch.ops.len(), 4);
        assert_eq!(estimate_of(&store, "d1", &key), 0);

        // A change, a delete, a new message, and a message that came and
        // went unseen: three changes to send.
        store
            .update_item(
                "alice",
                ids[0],
                &ItemUpdate {
                    read: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        store.delete_item("alice", ids[1]).unwrap();
        deliver(&store, 1);
        let gone = deliver(&store, 1)[0];
        store.delete_item("alice", gone).unwrap();
        assert_eq!(estimate_of(&store, "d1", &key), 3);
        let (key, batch) = round(&store, "d1", &key, 50);
        assert_eq!(batch.ops.len(), 3);
        assert_eq!(estimate_of(&store, "d1", &key), 0);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keys_replay_and_reject() {
        let (store, dir) = setup();
        deliver(&store, 3);
        let Position::Initial(state) = position(&store, "alice", "d1", 1, "0", 0).unwrap() else {
            panic!()
        };
        let key1 = wire_key(&state);
        let (key2, _) = round(&store, "d1", &key1, 10);
        assert!(matches!(
            position(&store, "alice", "d1", 1, &key1, 0).unwrap(),
            Position::Replay(_)
        ));
        assert!(matches!(
            position(&store, "alice", "d1", 1, &key2, 0).unwrap(),
            Position::Current(_)
        ));
        assert!(matches!(
            position(&store, "alice", "d1", 1, "bogus:2", 0).unwrap(),
            Position::Invalid
        ));
        assert!(matches!(
            position(&store, "alice", "d2", 1, &key2, 0).unwrap(),
            Position::Invalid
        ));
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
