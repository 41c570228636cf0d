//! What each device holds of each collection: the sync key it was given,
//! how far into the change log it is, the items it knows, and the last batch
//! sent, so a response lost on the way is sent again the same (DESIGN.md,
//! promise 3: sync keys are a state machine).

use serde::{Deserialize, Serialize};

use super::StoreResult;

/// FolderSync state of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HierarchyState {
    /// Random per state lineage, so a key from a state that was reset (a
    /// device removed and back) is not mistaken for a current one.
    pub epoch: String,
    /// The key the device holds: `{epoch}:{key}` on the wire.
    pub key: u32,
    /// The hierarchy log position the key stands for.
    pub hseq: u64,
    /// The folders the device holds, so a change goes out as Add or Update.
    #[serde(default)]
    pub known: Vec<u32>,
    /// The state of the key before: a client that lost the response
    /// re-sends that key and is answered from it again.
    #[serde(default)]
    pub previous: Option<PreviousHierarchy>,
    /// The highest key number handed out in this epoch, so a replay never
    /// hands out a number twice.
    #[serde(default)]
    pub next_key: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousHierarchy {
    pub key: u32,
    pub hseq: u64,
    pub known: Vec<u32>,
}

/// One item operation sent in a Sync response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SentOp {
    Add(u64),
    /// A Change of flags, read state and categories.
    Change(u64),
    Delete(u64),
    SoftDelete(u64),
    /// A Change carrying the whole item: its content was replaced since
    /// the device last had it (a draft edited on another device).
    Replace(u64),
}

impl SentOp {
    /// The item the operation is about.
    pub fn item(self) -> u64 {
        match self {
            SentOp::Add(id)
            | SentOp::Change(id)
            | SentOp::Delete(id)
            | SentOp::SoftDelete(id)
            | SentOp::Replace(id) => id,
        }
    }
}

/// The answer to one client command, kept for a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SavedResponse {
    /// An Add: the client's id, the item created (if any), the status.
    Add {
        client_id: String,
        item: Option<u64>,
        status: u8,
        /// 16.0 drafts: (ClientId, FileReference) of each attachment the
        /// client added (MS-ASAIRS 2.2.2.14).
        #[serde(default)]
        attachments: Vec<(String, String)>,
    },
    /// A Change of a draft that added attachments: their (ClientId,
    /// FileReference), which the client must record (MS-ASAIRS 2.2.2.24.1).
    Changed {
        server_id: String,
        attachments: Vec<(String, String)>,
    },
    /// A Change or Delete that failed (successes are silent).
    Failed {
        server_id: String,
        status: u8,
        delete: bool,
    },
    /// A Fetch: the item sent, or the status when it failed.
    Fetch { server_id: String, status: u8 },
}

/// The last Sync batch of a collection, for answering a retry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBatch {
    /// The key the client sent.
    pub key_before: u32,
    pub ops: Vec<SentOp>,
    pub responses: Vec<SavedResponse>,
    pub more_available: bool,
    /// A digest of the client's commands in the request this batch
    /// answered (none when it had none): the previous key with other
    /// commands is not a retry.
    #[serde(default)]
    pub commands: Option<String>,
}

/// Sync state of one collection on one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionState {
    pub epoch: String,
    pub key: u32,
    /// Every change of the folder's log up to here has been handled.
    pub synced: u64,
    /// Items of the initial enumeration not sent yet, newest first.
    pub snapshot: Vec<u64>,
    /// The FilterType the state was built for.
    pub filter: u8,
    pub last: Option<LastBatch>,
    /// The client's Options as last sent: they hold until it sends others
    /// (MS-ASCMD Options).
    #[serde(default)]
    pub options: Option<SavedOptions>,
    /// How many times in a row the client re-sent the previous key: a
    /// device that cannot take a batch sends it forever (loop protection).
    #[serde(default)]
    pub replays: u32,
    /// Operations taken out of a batch the device could not take, sent
    /// before anything new.
    #[serde(default)]
    pub deferred: Vec<SentOp>,
}

/// One BodyPreference: (Type, TruncationSize, AllOrNone, Preview).
pub type SavedBodyPreference = (u8, Option<u32>, Option<bool>, Option<u8>);

/// Sync Options kept between requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedOptions {
    pub filter_type: Option<u8>,
    pub mime_support: Option<u8>,
    pub mime_truncation: Option<u8>,
    pub body_preferences: Vec<SavedBodyPreference>,
}

/// Changes to the set of items a device knows in a collection.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnownUpdate<'a> {
    /// Forget the whole set first (a sync from key 0).
    pub reset: bool,
    pub add: &'a [u64],
    pub remove: &'a [u64],
}

pub trait SyncStates {
    fn hierarchy_state(&self, account: &str, device: &str) -> StoreResult<Option<HierarchyState>>;
    fn put_hierarchy_state(
        &self,
        account: &str,
        device: &str,
        state: &HierarchyState,
    ) -> StoreResult<()>;

    fn collection_state(
        &self,
        account: &str,
        device: &str,
        collection: u32,
    ) -> StoreResult<Option<CollectionState>>;
    /// Saves a collection's state with the changes to the set of items the
    /// device knows, in one durable transaction.
    fn put_collection_state(
        &self,
        account: &str,
        device: &str,
        collection: u32,
        state: &CollectionState,
        known: KnownUpdate<'_>,
    ) -> StoreResult<()>;
    /// Which of `items` the device knows in this collection.
    fn known(
        &self,
        account: &str,
        device: &str,
        collection: u32,
        items: &[u64],
    ) -> StoreResult<Vec<bool>>;
    /// Every item the device knows in this collection.
    fn known_items(&self, account: &str, device: &str, collection: u32) -> StoreResult<Vec<u64>>;
}
