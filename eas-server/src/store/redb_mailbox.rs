//! The mailbox tables of [`RedbStore`].

use redb::{ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};
use sha2::{Digest, Sha256};

use super::mailbox::{
    Change, ChangeKind, DEFAULT_FOLDERS, Folder, HierarchyChange, ItemUpdate, MailItem, Mailbox,
    NewContent, NewMail,
};
use super::redb_store::{RedbStore, backend, decode, encode};
use super::{StoreError, StoreResult};

/// (account, folder id) -> Folder (JSON).
pub(super) const FOLDERS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("folders");
/// (account, hierarchy sequence) -> (0 upserted | 1 deleted, folder id).
pub(super) const HIERARCHY: TableDefinition<(&str, u64), (u8, u32)> =
    TableDefinition::new("hierarchy");
/// (account, counter name) -> last value handed out.
pub(super) const COUNTERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters");
/// (account, item id) -> MailItem (JSON).
pub(super) const ITEMS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("items");
/// (account, folder id, item id): the items of each folder.
pub(super) const FOLDER_ITEMS: TableDefinition<(&str, u32, u64), ()> =
    TableDefinition::new("folder_items");
/// (account, folder id, modseq) -> (item id, 0 added | 1 changed | 2 removed).
pub(super) const CHANGES: TableDefinition<(&str, u32, u64), (u64, u8)> =
    TableDefinition::new("changes");
/// SHA-256 of raw MIME -> the raw MIME.
pub(super) const BLOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blobs");
/// SHA-256 -> how many items use the blob.
pub(super) const BLOB_REFS: TableDefinition<&[u8], u64> = TableDefinition::new("blob_refs");

/// The first id a user folder gets; below are the defaults.
const FIRST_USER_FOLDER: u64 = 100;

pub(super) fn open_tables(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(FOLDERS).map_err(backend)?;
    txn.open_table(HIERARCHY).map_err(backend)?;
    txn.open_table(COUNTERS).map_err(backend)?;
    txn.open_table(ITEMS).map_err(backend)?;
    txn.open_table(FOLDER_ITEMS).map_err(backend)?;
    txn.open_table(CHANGES).map_err(backend)?;
    txn.open_table(BLOBS).map_err(backend)?;
    txn.open_table(BLOB_REFS).map_err(backend)?;
    Ok(())
}

pub(super) fn next(
    counters: &mut Table<'_, (&str, &str), u64>,
    account: &str,
    name: &str,
    floor: u64,
) -> StoreResult<u64> {
    let current = counters
        .get((account, name))
        .map_err(backend)?
        .map_or(floor, |v| v.value().max(floor));
    let value = current + 1;
    counters.insert((account, name), value).map_err(backend)?;
    Ok(value)
}

fn log_hierarchy(
    txn: &WriteTransaction,
    account: &str,
    deleted: bool,
    folder: u32,
) -> StoreResult<()> {
    let mut counters = txn.open_table(COUNTERS).map_err(backend)?;
    let seq = next(&mut counters, account, "hseq", 0)?;
    txn.open_table(HIERARCHY)
        .map_err(backend)?
        .insert((account, seq), (u8::from(deleted), folder))
        .map_err(backend)?;
    Ok(())
}

fn kind_code(kind: ChangeKind) -> u8 {
    match kind {
        ChangeKind::Added => 0,
        ChangeKind::Changed => 1,
        ChangeKind::Removed => 2,
    }
}

fn kind_of(code: u8) -> ChangeKind {
    match code {
        0 => ChangeKind::Added,
        1 => ChangeKind::Changed,
        _ => ChangeKind::Removed,
    }
}

/// Logs a change of an item in a folder under the next modseq.
fn log_change(
    txn: &WriteTransaction,
    account: &str,
    folder: u32,
    item: u64,
    kind: ChangeKind,
) -> StoreResult<u64> {
    let mut counters = txn.open_table(COUNTERS).map_err(backend)?;
    let modseq = next(&mut counters, account, "modseq", 0)?;
    txn.open_table(CHANGES)
        .map_err(backend)?
        .insert((account, folder, modseq), (item, kind_code(kind)))
        .map_err(backend)?;
    Ok(modseq)
}

/// Creates the default folders of a new account.
pub(super) fn init_account(txn: &WriteTransaction, account: &str) -> StoreResult<()> {
    let mut folders = txn.open_table(FOLDERS).map_err(backend)?;
    for (id, name, kind) in DEFAULT_FOLDERS {
        let folder = Folder {
            id,
            parent: 0,
            name: name.to_owned(),
            kind,
        };
        folders
            .insert((account, id), encode(&folder)?.as_slice())
            .map_err(backend)?;
    }
    drop(folders);
    for (id, _, _) in DEFAULT_FOLDERS {
        log_hierarchy(txn, account, false, id)?;
    }
    Ok(())
}

/// Removes everything an account's mailbox holds.
pub(super) fn purge_account(txn: &WriteTransaction, account: &str) -> StoreResult<()> {
    let mut items = txn.open_table(ITEMS).map_err(backend)?;
    let mut blobs_used: Vec<Vec<u8>> = Vec::new();
    for entry in items
        .range((account, 0)..=(account, u64::MAX))
        .map_err(backend)?
    {
        let (_, v) = entry.map_err(backend)?;
        let item: MailItem = decode(v.value())?;
        blobs_used.push(hash_bytes(&item.blob)?);
    }
    items
        .retain_in((account, 0)..=(account, u64::MAX), |_, _| false)
        .map_err(backend)?;
    drop(items);
    for hash in blobs_used {
        release_blob(txn, &hash)?;
    }
    txn.open_table(FOLDERS)
        .map_err(backend)?
        .retain_in((account, 0)..=(account, u32::MAX), |_, _| false)
        .map_err(backend)?;
    txn.open_table(HIERARCHY)
        .map_err(backend)?
        .retain_in((account, 0)..=(account, u64::MAX), |_, _| false)
        .map_err(backend)?;
    txn.open_table(COUNTERS)
        .map_err(backend)?
        .retain_in((account, "")..(account, "\u{10FFFF}"), |_, _| false)
        .map_err(backend)?;
    txn.open_table(FOLDER_ITEMS)
        .map_err(backend)?
        .retain_in((account, 0, 0)..=(account, u32::MAX, u64::MAX), |_, _| {
            false
        })
        .map_err(backend)?;
    txn.open_table(CHANGES)
        .map_err(backend)?
        .retain_in((account, 0, 0)..=(account, u32::MAX, u64::MAX), |_, _| {
            false
        })
        .map_err(backend)?;
    Ok(())
}

pub(super) fn hash_bytes(hex: &str) -> StoreResult<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("blob key {hex:?}")))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores raw MIME once per content, counting its users.
pub(super) fn retain_blob(txn: &WriteTransaction, raw: &[u8]) -> StoreResult<String> {
    let hash: [u8; 32] = Sha256::digest(raw).into();
    let mut refs = txn.open_table(BLOB_REFS).map_err(backend)?;
    let count = refs
        .get(hash.as_slice())
        .map_err(backend)?
        .map_or(0, |v| v.value());
    if count == 0 {
        txn.open_table(BLOBS)
            .map_err(backend)?
            .insert(hash.as_slice(), raw)
            .map_err(backend)?;
    }
    refs.insert(hash.as_slice(), count + 1).map_err(backend)?;
    Ok(hex(&hash))
}

pub(super) fn release_blob(txn: &WriteTransaction, hash: &[u8]) -> StoreResult<()> {
    let mut refs = txn.open_table(BLOB_REFS).map_err(backend)?;
    let count = refs.get(hash).map_err(backend)?.map_or(0, |v| v.value());
    if count <= 1 {
        refs.remove(hash).map_err(backend)?;
        txn.open_table(BLOBS)
            .map_err(backend)?
            .remove(hash)
            .map_err(backend)?;
    } else {
        refs.insert(hash, count - 1).map_err(backend)?;
    }
    Ok(())
}

fn load_item(txn: &WriteTransaction, account: &str, id: u64) -> StoreResult<MailItem> {
    let items = txn.open_table(ITEMS).map_err(backend)?;
    let found = items.get((account, id)).map_err(backend)?;
    match found {
        Some(v) => decode(v.value()),
        None => Err(StoreError::NotFound(format!("item {id}"))),
    }
}

fn save_item(txn: &WriteTransaction, account: &str, item: &MailItem) -> StoreResult<()> {
    txn.open_table(ITEMS)
        .map_err(backend)?
        .insert((account, item.id), encode(item)?.as_slice())
        .map_err(backend)?;
    Ok(())
}

pub(super) fn load_folder(
    txn: &WriteTransaction,
    account: &str,
    id: u32,
) -> StoreResult<Option<Folder>> {
    let folders = txn.open_table(FOLDERS).map_err(backend)?;
    let found = folders.get((account, id)).map_err(backend)?;
    found.map(|v| decode(v.value())).transpose()
}

/// Removes an item: from its folder, its blob reference, with a log entry.
fn remove_item(txn: &WriteTransaction, account: &str, item: &MailItem) -> StoreResult<()> {
    txn.open_table(ITEMS)
        .map_err(backend)?
        .remove((account, item.id))
        .map_err(backend)?;
    txn.open_table(FOLDER_ITEMS)
        .map_err(backend)?
        .remove((account, item.folder, item.id))
        .map_err(backend)?;
    release_blob(txn, &hash_bytes(&item.blob)?)?;
    log_change(txn, account, item.folder, item.id, ChangeKind::Removed)?;
    Ok(())
}

/// Stores messages in a folder within `txn`: [`Mailbox::deliver`] without
/// the commit, for writes that must land together with others.
pub(super) fn deliver_in(
    txn: &WriteTransaction,
    account: &str,
    folder: u32,
    mails: &[NewMail<'_>],
) -> StoreResult<Vec<MailItem>> {
    if load_folder(txn, account, folder)?.is_none() {
        return Err(StoreError::NotFound(format!("folder {folder}")));
    }
    let mut out = Vec::with_capacity(mails.len());
    for mail in mails {
        let blob = retain_blob(txn, mail.raw)?;
        let id = next(
            &mut txn.open_table(COUNTERS).map_err(backend)?,
            account,
            "item",
            0,
        )?;
        let modseq = log_change(txn, account, folder, id, ChangeKind::Added)?;
        let item = MailItem {
            id,
            folder,
            modseq,
            blob,
            size: mail.raw.len() as u64,
            received: mail.received,
            read: mail.read,
            flag: None,
            categories: Vec::new(),
            summary: mail.summary.clone(),
            content_modseq: 0,
            attachment_numbers: Default::default(),
        };
        save_item(txn, account, &item)?;
        txn.open_table(FOLDER_ITEMS)
            .map_err(backend)?
            .insert((account, folder, id), ())
            .map_err(backend)?;
        out.push(item);
    }
    Ok(out)
}

impl Mailbox for RedbStore {
    fn folders(&self, account: &str) -> StoreResult<Vec<Folder>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let folders = txn.open_table(FOLDERS).map_err(backend)?;
        let mut out = Vec::new();
        for entry in folders
            .range((account, 0)..=(account, u32::MAX))
            .map_err(backend)?
        {
            let (_, v) = entry.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    fn folder(&self, account: &str, id: u32) -> StoreResult<Option<Folder>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let folders = txn.open_table(FOLDERS).map_err(backend)?;
        let found = folders.get((account, id)).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn create_folder(
        &self,
        account: &str,
        parent: u32,
        name: &str,
        kind: u8,
    ) -> StoreResult<Folder> {
        let txn = self.db.begin_write().map_err(backend)?;
        let folder = {
            if parent != 0 && load_folder(&txn, account, parent)?.is_none() {
                return Err(StoreError::NotFound(format!("parent folder {parent}")));
            }
            if self_siblings(&txn, account, parent)?
                .iter()
                .any(|f| f.name == name)
            {
                return Err(StoreError::Exists(format!("folder {name:?}")));
            }
            let mut counters = txn.open_table(COUNTERS).map_err(backend)?;
            let id = next(&mut counters, account, "folder", FIRST_USER_FOLDER)?;
            drop(counters);
            let id = u32::try_from(id)
                .map_err(|_| StoreError::Backend("folder ids exhausted".into()))?;
            let folder = Folder {
                id,
                parent,
                name: name.to_owned(),
                kind,
            };
            txn.open_table(FOLDERS)
                .map_err(backend)?
                .insert((account, id), encode(&folder)?.as_slice())
                .map_err(backend)?;
            log_hierarchy(&txn, account, false, id)?;
            folder
        };
        txn.commit().map_err(backend)?;
        Ok(folder)
    }

    fn update_folder(
        &self,
        account: &str,
        id: u32,
        parent: u32,
        name: &str,
    ) -> StoreResult<Folder> {
        let txn = self.db.begin_write().map_err(backend)?;
        let folder = {
            let mut folder = load_folder(&txn, account, id)?
                .ok_or_else(|| StoreError::NotFound(format!("folder {id}")))?;
            if parent != 0 && load_folder(&txn, account, parent)?.is_none() {
                return Err(StoreError::NotFound(format!("parent folder {parent}")));
            }
            // A folder cannot move below itself.
            let mut up = parent;
            while up != 0 {
                if up == id {
                    return Err(StoreError::Exists("a folder inside itself".into()));
                }
                up = load_folder(&txn, account, up)?.map_or(0, |f| f.parent);
            }
            if self_siblings(&txn, account, parent)?
                .iter()
                .any(|f| f.name == name && f.id != id)
            {
                return Err(StoreError::Exists(format!("folder {name:?}")));
            }
            folder.parent = parent;
            folder.name = name.to_owned();
            txn.open_table(FOLDERS)
                .map_err(backend)?
                .insert((account, id), encode(&folder)?.as_slice())
                .map_err(backend)?;
            log_hierarchy(&txn, account, false, id)?;
            folder
        };
        txn.commit().map_err(backend)?;
        Ok(folder)
    }

    fn delete_folder(&self, account: &str, id: u32) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            if load_folder(&txn, account, id)?.is_none() {
                return Err(StoreError::NotFound(format!("folder {id}")));
            }
            // The folder and everything below it, children first.
            let mut doomed = vec![id];
            let mut i = 0;
            while let Some(&f) = doomed.get(i) {
                doomed.extend(self_siblings(&txn, account, f)?.iter().map(|c| c.id));
                i += 1;
            }
            for &f in doomed.iter().rev() {
                let ids: Vec<u64> = {
                    let index = txn.open_table(FOLDER_ITEMS).map_err(backend)?;
                    let mut ids = Vec::new();
                    for entry in index
                        .range((account, f, 0)..=(account, f, u64::MAX))
                        .map_err(backend)?
                    {
                        ids.push(entry.map_err(backend)?.0.value().2);
                    }
                    ids
                };
                for item in ids {
                    let item = load_item(&txn, account, item)?;
                    remove_item(&txn, account, &item)?;
                }
                txn.open_table(FOLDERS)
                    .map_err(backend)?
                    .remove((account, f))
                    .map_err(backend)?;
                log_hierarchy(&txn, account, true, f)?;
            }
        }
        txn.commit().map_err(backend)
    }

    fn hierarchy_changes(
        &self,
        account: &str,
        since: u64,
    ) -> StoreResult<(u64, Vec<HierarchyChange>)> {
        let txn = self.db.begin_read().map_err(backend)?;
        let log = txn.open_table(HIERARCHY).map_err(backend)?;
        let folders = txn.open_table(FOLDERS).map_err(backend)?;
        let mut newest = since;
        // Later entries for a folder supersede earlier ones.
        let mut last: Vec<(u32, bool)> = Vec::new();
        for entry in log
            .range((account, since.saturating_add(1))..=(account, u64::MAX))
            .map_err(backend)?
        {
            let (k, v) = entry.map_err(backend)?;
            newest = k.value().1;
            let (deleted, folder) = v.value();
            last.retain(|(f, _)| *f != folder);
            last.push((folder, deleted == 1));
        }
        let mut out = Vec::new();
        for (folder, deleted) in last {
            let current = folders.get((account, folder)).map_err(backend)?;
            match (deleted, current) {
                (false, Some(v)) => out.push(HierarchyChange::Upserted(decode(v.value())?)),
                _ => out.push(HierarchyChange::Deleted(folder)),
            }
        }
        Ok((newest, out))
    }

    fn deliver(
        &self,
        account: &str,
        folder: u32,
        mails: &[NewMail<'_>],
    ) -> StoreResult<Vec<MailItem>> {
        let txn = self.db.begin_write().map_err(backend)?;
        let out = deliver_in(&txn, account, folder, mails)?;
        txn.commit().map_err(backend)?;
        Ok(out)
    }

    fn item(&self, account: &str, id: u64) -> StoreResult<Option<MailItem>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        let found = items.get((account, id)).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn folder_items(&self, account: &str, folder: u32) -> StoreResult<Vec<MailItem>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let index = txn.open_table(FOLDER_ITEMS).map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        let mut out = Vec::new();
        for entry in index
            .range((account, folder, 0)..=(account, folder, u64::MAX))
            .map_err(backend)?
        {
            let id = entry.map_err(backend)?.0.value().2;
            if let Some(v) = items.get((account, id)).map_err(backend)? {
                out.push(decode(v.value())?);
            }
        }
        Ok(out)
    }

    fn folder_count(&self, account: &str, folder: u32) -> StoreResult<u64> {
        let txn = self.db.begin_read().map_err(backend)?;
        let index = txn.open_table(FOLDER_ITEMS).map_err(backend)?;
        let mut n = 0;
        for entry in index
            .range((account, folder, 0)..=(account, folder, u64::MAX))
            .map_err(backend)?
        {
            entry.map_err(backend)?;
            n += 1;
        }
        Ok(n)
    }

    fn changes(
        &self,
        account: &str,
        folder: u32,
        since: u64,
        limit: usize,
    ) -> StoreResult<Vec<Change>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let log = txn.open_table(CHANGES).map_err(backend)?;
        let mut out = Vec::new();
        for entry in log
            .range((account, folder, since.saturating_add(1))..=(account, folder, u64::MAX))
            .map_err(backend)?
            .take(limit)
        {
            let (k, v) = entry.map_err(backend)?;
            let (item, kind) = v.value();
            out.push(Change {
                modseq: k.value().2,
                item,
                kind: kind_of(kind),
            });
        }
        Ok(out)
    }

    fn modseq(&self, account: &str) -> StoreResult<u64> {
        let txn = self.db.begin_read().map_err(backend)?;
        let counters = txn.open_table(COUNTERS).map_err(backend)?;
        let found = counters.get((account, "modseq")).map_err(backend)?;
        Ok(found.map_or(0, |v| v.value()))
    }

    fn update_item(&self, account: &str, id: u64, update: &ItemUpdate) -> StoreResult<MailItem> {
        let txn = self.db.begin_write().map_err(backend)?;
        let item = {
            let mut item = load_item(&txn, account, id)?;
            if let Some(read) = update.read {
                item.read = read;
            }
            if let Some(flag) = &update.flag {
                item.flag = flag.clone();
            }
            if let Some(categories) = &update.categories {
                item.categories = categories.clone();
            }
            item.modseq = log_change(&txn, account, item.folder, id, ChangeKind::Changed)?;
            save_item(&txn, account, &item)?;
            item
        };
        txn.commit().map_err(backend)?;
        Ok(item)
    }

    fn replace_content(
        &self,
        account: &str,
        id: u64,
        content: &NewContent<'_>,
    ) -> StoreResult<MailItem> {
        let txn = self.db.begin_write().map_err(backend)?;
        let item = {
            let mut item = load_item(&txn, account, id)?;
            // Retained before the old one is released: content that did not
            // change keeps its blob.
            let blob = retain_blob(&txn, content.raw)?;
            release_blob(&txn, &hash_bytes(&item.blob)?)?;
            item.blob = blob;
            item.size = content.raw.len() as u64;
            item.summary = content.summary.clone();
            item.attachment_numbers = content.attachment_numbers.clone();
            item.modseq = log_change(&txn, account, item.folder, id, ChangeKind::Changed)?;
            item.content_modseq = item.modseq;
            save_item(&txn, account, &item)?;
            item
        };
        txn.commit().map_err(backend)?;
        Ok(item)
    }

    fn move_item(&self, account: &str, id: u64, to_folder: u32) -> StoreResult<MailItem> {
        let txn = self.db.begin_write().map_err(backend)?;
        let item = {
            let mut item = load_item(&txn, account, id)?;
            if load_folder(&txn, account, to_folder)?.is_none() {
                return Err(StoreError::NotFound(format!("folder {to_folder}")));
            }
            if item.folder != to_folder {
                let mut index = txn.open_table(FOLDER_ITEMS).map_err(backend)?;
                index.remove((account, item.folder, id)).map_err(backend)?;
                index
                    .insert((account, to_folder, id), ())
                    .map_err(backend)?;
                drop(index);
                log_change(&txn, account, item.folder, id, ChangeKind::Removed)?;
                item.folder = to_folder;
                item.modseq = log_change(&txn, account, to_folder, id, ChangeKind::Added)?;
                save_item(&txn, account, &item)?;
            }
            item
        };
        txn.commit().map_err(backend)?;
        Ok(item)
    }

    fn delete_item(&self, account: &str, id: u64) -> StoreResult<()> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let item = load_item(&txn, account, id)?;
            remove_item(&txn, account, &item)?;
        }
        txn.commit().map_err(backend)
    }

    fn empty_folder(&self, account: &str, folder: u32) -> StoreResult<u64> {
        let txn = self.db.begin_write().map_err(backend)?;
        let count = {
            if load_folder(&txn, account, folder)?.is_none() {
                return Err(StoreError::NotFound(format!("folder {folder}")));
            }
            let ids: Vec<u64> = {
                let index = txn.open_table(FOLDER_ITEMS).map_err(backend)?;
                let mut ids = Vec::new();
                for entry in index
                    .range((account, folder, 0)..=(account, folder, u64::MAX))
                    .map_err(backend)?
                {
                    ids.push(entry.map_err(backend)?.0.value().2);
                }
                ids
            };
            for &id in &ids {
                let item = load_item(&txn, account, id)?;
                remove_item(&txn, account, &item)?;
            }
            ids.len() as u64
        };
        txn.commit().map_err(backend)?;
        Ok(count)
    }

    fn item_mime(&self, account: &str, id: u64) -> StoreResult<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        let Some(v) = items.get((account, id)).map_err(backend)? else {
            return Ok(None);
        };
        let item: MailItem = decode(v.value())?;
        let blobs = txn.open_table(BLOBS).map_err(backend)?;
        let found = blobs
            .get(hash_bytes(&item.blob)?.as_slice())
            .map_err(backend)?;
        match found {
            Some(raw) => Ok(Some(raw.value().to_vec())),
            None => Err(StoreError::Corrupt(format!(
                "the MIME of item {id} is missing"
            ))),
        }
    }
}

/// The folders directly below `parent`.
fn self_siblings(txn: &WriteTransaction, account: &str, parent: u32) -> StoreResult<Vec<Folder>> {
    let folders = txn.open_table(FOLDERS).map_err(backend)?;
    let mut out = Vec::new();
    for entry in folders
        .range((account, 0)..=(account, u32::MAX))
        .map_err(backend)?
    {
        let (_, v) = entry.map_err(backend)?;
        let f: Folder = decode(v.value())?;
        if f.parent == parent {
            out.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::mailbox::{MailSummary, folder_type};

    fn store() -> (RedbStore, std::path::PathBuf) {
        crate::store::scratch::with_accounts("mbox", &["alice", "bob"])
    }

    fn mail(raw: &[u8]) -> NewMail<'_> {
        NewMail {
            raw,
            summary: MailSummary {
                subject: "s".into(),
                ..Default::default()
            },
            received: 1,
            read: false,
        }
    }

    #[test]
    fn accounts_start_with_the_default_folders() {
        let (store, dir) = store();
        let folders = store.folders("alice").unwrap();
        assert_eq!(folders.len(), 10);
        assert_eq!(
            store.folder("alice", 1).unwrap().unwrap().kind,
            folder_type::INBOX
        );
        let (seq, changes) = store.hierarchy_changes("alice", 0).unwrap();
        assert_eq!(changes.len(), 10);
        assert!(store.hierarchy_changes("alice", seq).unwrap().1.is_empty());
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn items_log_every_change_and_blobs_are_shared_and_freed() {
        let (store, dir) = store();
        let raw = b"Subject: s\r\n\r\nbody\r\n";
        let items = store.deliver("alice", 1, &[mail(raw), mail(raw)]).unwrap();
        assert_eq!(items.len(), 2);
        let bob = store.deliver("bob", 1, &[mail(raw)]).unwrap();
        // Bob's item has the same id as Alice's first but is another item.
        assert_eq!(bob[0].id, items[0].id);
        assert_eq!(store.item_mime("alice", items[0].id).unwrap().unwrap(), raw);
        assert_eq!(store.folder_count("alice", 1).unwrap(), 2);

        let start = store.modseq("alice").unwrap();
        let updated = store
            .update_item(
                "alice",
                items[0].id,
                &ItemUpdate {
                    read: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(updated.read && updated.modseq > start);
        store.move_item("alice", items[1].id, 3).unwrap();
        let inbox = store.changes("alice", 1, start, 100).unwrap();
        assert_eq!(
            inbox.iter().map(|c| (c.item, c.kind)).collect::<Vec<_>>(),
            vec![
                (items[0].id, ChangeKind::Changed),
                (items[1].id, ChangeKind::Removed)
            ]
        );
        let deleted = store.changes("alice", 3, 0, 100).unwrap();
        assert_eq!(
            deleted.iter().map(|c| c.kind).collect::<Vec<_>>(),
            vec![ChangeKind::Added]
        );

        store.delete_item("alice", items[0].id).unwrap();
        store.delete_item("alice", items[1].id).unwrap();
        assert!(store.item("alice", items[0].id).unwrap().is_none());
        // Bob still holds the shared blob.
        assert_eq!(store.item_mime("bob", bob[0].id).unwrap().unwrap(), raw);
        store.delete_item("bob", bob[0].id).unwrap();
        let txn = store.db.begin_read().unwrap();
        assert_eq!(txn.open_table(BLOBS).unwrap().iter().unwrap().count(), 0);
        drop(txn);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_folder_removes_every_item_in_one_go_and_logs_each() {
        let (store, dir) = store();
        let raw = b"Subject: s\r\n\r\nbody\r\n";
        let items = store
            .deliver("alice", 3, &[mail(raw), mail(b"Subject: t\r\n\r\nx\r\n")])
            .unwrap();
        let bob = store.deliver("bob", 3, &[mail(raw)]).unwrap();
        let start = store.modseq("alice").unwrap();
        assert_eq!(store.empty_folder("alice", 3).unwrap(), 2);
        assert_eq!(store.folder_count("alice", 3).unwrap(), 0);
        assert!(store.item("alice", items[0].id).unwrap().is_none());
        assert_eq!(
            store
                .changes("alice", 3, start, 100)
                .unwrap()
                .iter()
                .map(|c| (c.item, c.kind))
                .collect::<Vec<_>>(),
            vec![
                (items[0].id, ChangeKind::Removed),
                (items[1].id, ChangeKind::Removed)
            ]
        );
        // Bob's Deleted Items are his own.
        assert_eq!(store.item_mime("bob", bob[0].id).unwrap().unwrap(), raw);
        assert_eq!(store.empty_folder("alice", 3).unwrap(), 0);
        assert!(matches!(
            store.empty_folder("alice", 999),
            Err(StoreError::NotFound(_))
        ));
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn folders_are_created_renamed_and_deleted_with_their_items() {
        let (store, dir) = store();
        let (seq, _) = store.hierarchy_changes("alice", 0).unwrap();
        let work = store
            .create_folder("alice", 1, "Work", folder_type::USER_MAIL)
            .unwrap();
        let sub = store
            .create_folder("alice", work.id, "Projects", folder_type::USER_MAIL)
            .unwrap();
        assert!(matches!(
            store.create_folder("alice", 1, "Work", folder_type::USER_MAIL),
            Err(StoreError::Exists(_))
        ));
        assert!(matches!(
            store.create_folder("alice", 999, "X", 12),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.update_folder("alice", work.id, sub.id, "Loop"),
            Err(StoreError::Exists(_))
        ));
        store.update_folder("alice", work.id, 0, "Jobs").unwrap();
        store.deliver("alice", sub.id, &[mail(b"x")]).unwrap();
        store.delete_folder("alice", work.id).unwrap();
        assert!(store.folder("alice", sub.id).unwrap().is_none());
        let (_, changes) = store.hierarchy_changes("alice", seq).unwrap();
        assert_eq!(
            changes,
            vec![
                HierarchyChange::Deleted(sub.id),
                HierarchyChange::Deleted(work.id)
            ]
        );
        // Bob's hierarchy never saw any of it.
        assert_eq!(store.folders("bob").unwrap().len(), 10);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn removing_an_account_removes_its_mailbox() {
        let (store, dir) = store();
        store.deliver("alice", 1, &[mail(b"only alice")]).unwrap();
        store.delete_account("alice").unwrap();
        assert!(store.folders("alice").unwrap().is_empty());
        let txn = store.db.begin_read().unwrap();
        assert_eq!(txn.open_table(BLOBS).unwrap().iter().unwrap().count(), 0);
        assert_eq!(txn.open_table(ITEMS).unwrap().iter().unwrap().count(), 0);
        drop(txn);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
