//! Mailboxes: folders, the items in them, their raw MIME in content-addressed
//! blobs, and the change logs the sync engine reads.
//!
//! Every item change takes the next value of the account's modification
//! sequence and is written to its folder's change log in the same
//! transaction, so "what changed in this folder since N" is a range read,
//! never a scan. Folder changes go to the account's hierarchy log the same
//! way. Raw MIME is stored exactly as it arrived and never rewritten
//! (DESIGN.md, promise 1).

use serde::{Deserialize, Serialize};

use super::StoreResult;

/// The folder types of FolderSync (MS-ASCMD 2.2.3.186.3).
pub mod folder_type {
    pub const USER_GENERIC: u8 = 1;
    pub const INBOX: u8 = 2;
    pub const DRAFTS: u8 = 3;
    pub const DELETED_ITEMS: u8 = 4;
    pub const SENT_ITEMS: u8 = 5;
    pub const OUTBOX: u8 = 6;
    pub const TASKS: u8 = 7;
    pub const CALENDAR: u8 = 8;
    pub const CONTACTS: u8 = 9;
    pub const NOTES: u8 = 10;
    pub const JOURNAL: u8 = 11;
    pub const USER_MAIL: u8 = 12;
    pub const USER_CALENDAR: u8 = 13;
    pub const USER_CONTACTS: u8 = 14;
    pub const USER_TASKS: u8 = 15;
    pub const USER_JOURNAL: u8 = 16;
    pub const USER_NOTES: u8 = 17;
}

/// The folders every account starts with, ids 1 to 10, as Exchange offers
/// them (DESIGN and the sync issue): (id, name, type).
pub const DEFAULT_FOLDERS: [(u32, &str, u8); 10] = [
    (1, "Inbox", folder_type::INBOX),
    (2, "Drafts", folder_type::DRAFTS),
    (3, "Deleted Items", folder_type::DELETED_ITEMS),
    (4, "Sent Items", folder_type::SENT_ITEMS),
    (5, "Outbox", folder_type::OUTBOX),
    (6, "Calendar", folder_type::CALENDAR),
    (7, "Contacts", folder_type::CONTACTS),
    (8, "Tasks", folder_type::TASKS),
    (9, "Notes", folder_type::NOTES),
    (10, "Journal", folder_type::JOURNAL),
];

/// The id of the folder `kind` among the defaults.
pub fn default_folder(kind: u8) -> Option<u32> {
    DEFAULT_FOLDERS
        .iter()
        .find(|(_, _, k)| *k == kind)
        .map(|(id, _, _)| *id)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub id: u32,
    /// 0 for a folder at the top.
    pub parent: u32,
    pub name: String,
    pub kind: u8,
}

impl Folder {
    pub fn is_default(&self) -> bool {
        DEFAULT_FOLDERS.iter().any(|(id, _, _)| *id == self.id)
    }
}

/// One entry of an account's folder hierarchy log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HierarchyChange {
    /// Added or changed: the folder as it is now.
    Upserted(Folder),
    Deleted(u32),
}

/// What the sync engine and the commands need of a message without reading
/// its MIME: taken from the headers once, at delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSummary {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub reply_to: String,
    pub subject: String,
    /// The names of the To recipients, for DisplayTo.
    pub display_to: String,
    pub thread_topic: String,
    /// 0 low, 1 normal, 2 high.
    pub importance: u8,
    /// IPM.Note, IPM.Note.SMIME, IPM.Note.SMIME.MultipartSigned, ...
    pub message_class: String,
    /// The Date header as seconds since the epoch, when it parses.
    pub date: Option<u64>,
    pub message_id: String,
    pub has_attachments: bool,
    /// The body's own type: 1 plain text, 2 HTML, 4 MIME (MS-ASAIRS NativeBodyType).
    pub native_body_type: u8,
    /// Bytes of the body in its native type, for EstimatedDataSize.
    pub body_size: u64,
}

/// A follow-up flag (MS-ASEMAIL 2.2.2.34).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagState {
    /// 0 cleared, 1 complete, 2 active.
    pub status: u8,
    pub flag_type: String,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub date_completed: Option<String>,
    pub reminder_set: bool,
    pub reminder_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    pub id: u64,
    pub folder: u32,
    /// The account-wide modification sequence of its last change.
    pub modseq: u64,
    /// Hex SHA-256 of the raw MIME: the blob's key.
    pub blob: String,
    pub size: u64,
    /// When it arrived, seconds since the epoch.
    pub received: u64,
    pub read: bool,
    #[serde(default)]
    pub flag: Option<FlagState>,
    #[serde(default)]
    pub categories: Vec<String>,
    pub summary: MailSummary,
    /// The modseq at which the item's content (its blob) was last replaced,
    /// 0 if never: a device that synced before it needs the whole item
    /// again in a Change, not only its flags (a draft edited elsewhere).
    #[serde(default)]
    pub content_modseq: u64,
    #[serde(default)]
    pub attachment_numbers: AttachmentNumbers,
}

impl MailItem {
    /// The number in the FileReference (`{item}:{n}`) of the attachment at
    /// `position` among the message's attachments.
    pub fn attachment_number(&self, position: usize) -> u32 {
        match self.attachment_numbers.numbers.get(position) {
            Some(n) => *n,
            None => u32::try_from(position).unwrap_or(u32::MAX),
        }
    }

    /// The position among the message's attachments of FileReference
    /// number `number`.
    pub fn attachment_position(&self, number: u32) -> Option<usize> {
        if self.attachment_numbers.numbers.is_empty() {
            return usize::try_from(number).ok();
        }
        self.attachment_numbers
            .numbers
            .iter()
            .position(|n| *n == number)
    }
}

/// The numbers of an item's attachment FileReferences. A message as it
/// arrived has none stored: an attachment's number is its position. A
/// draft whose attachments a client added and deleted keeps each number
/// for the attachment it was given to, and never gives one twice: MS-ASAIRS
/// 2.2.2.24.1 has the client record the FileReference of an attachment it
/// added and name it later to delete it, so a number must not move to
/// another attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentNumbers {
    /// The number of each attachment in MIME order; empty: the positions.
    pub numbers: Vec<u32>,
    /// The number the next attachment added gets.
    pub next: u32,
}

/// New content for an item: a draft saved again (MS-ASEMAIL 16.0 drafts).
#[derive(Debug, Clone)]
pub struct NewContent<'a> {
    pub raw: &'a [u8],
    pub summary: MailSummary,
    pub attachment_numbers: AttachmentNumbers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// The item arrived in the folder (delivered, created, moved in).
    Added,
    /// Its flags, read state or categories changed.
    Changed,
    /// It left the folder (deleted, moved out).
    Removed,
}

/// One entry of a folder's change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub modseq: u64,
    pub item: u64,
    pub kind: ChangeKind,
}

/// A message to deliver.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    pub raw: &'a [u8],
    pub summary: MailSummary,
    pub received: u64,
    pub read: bool,
}

/// Client changes to an item's state; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemUpdate {
    pub read: Option<bool>,
    /// `Some(None)` clears the flag.
    pub flag: Option<Option<FlagState>>,
    pub categories: Option<Vec<String>>,
}

/// Folders, items and their change logs, per account.
pub trait Mailbox {
    fn folders(&self, account: &str) -> StoreResult<Vec<Folder>>;
    fn folder(&self, account: &str, id: u32) -> StoreResult<Option<Folder>>;
    /// Creates a user folder under `parent` (0 for the top); fails when the
    /// parent does not exist or a sibling has the name.
    fn create_folder(
        &self,
        account: &str,
        parent: u32,
        name: &str,
        kind: u8,
    ) -> StoreResult<Folder>;
    /// Renames or moves a user folder.
    fn update_folder(&self, account: &str, id: u32, parent: u32, name: &str)
    -> StoreResult<Folder>;
    /// Deletes a user folder, its subfolders and their items.
    fn delete_folder(&self, account: &str, id: u32) -> StoreResult<()>;
    /// The hierarchy log after `since`, and its newest sequence number.
    fn hierarchy_changes(
        &self,
        account: &str,
        since: u64,
    ) -> StoreResult<(u64, Vec<HierarchyChange>)>;

    /// Stores messages in one durable transaction; returns them as items.
    fn deliver(
        &self,
        account: &str,
        folder: u32,
        mails: &[NewMail<'_>],
    ) -> StoreResult<Vec<MailItem>>;
    fn item(&self, account: &str, id: u64) -> StoreResult<Option<MailItem>>;
    /// Every item of a folder.
    fn folder_items(&self, account: &str, folder: u32) -> StoreResult<Vec<MailItem>>;
    /// How many items a folder holds.
    fn folder_count(&self, account: &str, folder: u32) -> StoreResult<u64>;
    /// The folder's change log after `since`, oldest first, at most `limit`.
    fn changes(
        &self,
        account: &str,
        folder: u32,
        since: u64,
        limit: usize,
    ) -> StoreResult<Vec<Change>>;
    /// The account's newest modification sequence.
    fn modseq(&self, account: &str) -> StoreResult<u64>;
    fn update_item(&self, account: &str, id: u64, update: &ItemUpdate) -> StoreResult<MailItem>;
    /// Replaces an item's content (blob, summary, attachment numbers) in
    /// one durable transaction, logging a change whose modseq becomes the
    /// item's `content_modseq`; flags and folder stay.
    fn replace_content(
        &self,
        account: &str,
        id: u64,
        content: &NewContent<'_>,
    ) -> StoreResult<MailItem>;
    fn move_item(&self, account: &str, id: u64, to_folder: u32) -> StoreResult<MailItem>;
    fn delete_item(&self, account: &str, id: u64) -> StoreResult<()>;
    /// Deletes every item of a folder in one durable transaction; returns
    /// how many there were (ItemOperations EmptyFolderContents).
    fn empty_folder(&self, account: &str, folder: u32) -> StoreResult<u64>;
    /// The raw MIME of one of the account's items, exactly as it arrived.
    fn item_mime(&self, account: &str, id: u64) -> StoreResult<Option<Vec<u8>>>;
}
