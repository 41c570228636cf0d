//! Storage: every read and write the server makes goes through [`Store`], so
//! a second backend can slot in without touching command code
//! (../shared/DESIGN.md, Storage). [`RedbStore`] is the embedded default.
//!
//! Every method is keyed by the account it concerns; nothing here answers a
//! question about "any" account except the administrator's listings.

pub mod directory;
pub mod failure;
pub mod mailbox;
pub mod outbox;
mod records;
mod redb_directory;
mod redb_mailbox;
mod redb_outbox;
mod redb_store;
mod redb_sync;
#[cfg(test)]
pub(crate) mod scratch;
pub mod sync_state;

pub use directory::{DirectoryEntry, DirectoryStore, EntryKind, TrustedCertificate};
pub use mailbox::{
    AttachmentNumbers, Change, ChangeKind, FlagState, Folder, HierarchyChange, ItemUpdate,
    MailItem, MailSummary, Mailbox, NewContent, NewMail,
};
pub use outbox::{Enqueued, Outbox, QueuedMail, QueuedRecipient, RecipientState};
pub use records::{
    Access, Account, Device, HeldItem, OofMessage, OofSettings, PolicyState, RecoveryPassword,
    WipeKind, WipeState,
};
pub use redb_store::RedbStore;
pub use sync_state::{
    CollectionState, HierarchyState, KnownUpdate, LastBatch, SavedOptions, SavedResponse, SentOp,
    SyncStates,
};

/// The store's format version, written when a data directory is created and
/// checked on every open, so a newer format is never misread.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(
        "the data directory was written by a newer eas (store format {found}, this build reads {FORMAT_VERSION}); upgrade eas-server"
    )]
    NewerFormat { found: u32 },
    #[error("the store is in use by a running eas-server")]
    Locked,
    #[error("store: {0}")]
    Backend(String),
    /// The file could not be written or read: nothing more will be
    /// stored until the server starts again ([`failure`]).
    #[error("the store could not write its file: {0}")]
    Failed(String),
    #[error("a stored record is damaged: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What the server keeps. Methods block (a write returns after its commit is
/// on disk); async callers run them off the reactor.
pub trait Store: Mailbox + SyncStates + DirectoryStore + Outbox + Send + Sync + 'static {
    /// Adds an account; fails if its name or e-mail address is taken.
    fn create_account(&self, account: &Account) -> StoreResult<()>;
    fn account(&self, name: &str) -> StoreResult<Option<Account>>;
    /// The account a login names: its name or its e-mail address, in any case.
    fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>>;
    fn update_account(&self, account: &Account) -> StoreResult<()>;
    /// Removes an account and everything it owns.
    fn delete_account(&self, name: &str) -> StoreResult<()>;
    fn list_accounts(&self) -> StoreResult<Vec<Account>>;

    fn device(&self, account: &str, device_id: &str) -> StoreResult<Option<Device>>;
    fn put_device(&self, device: &Device) -> StoreResult<()>;
    /// The devices of one account, or of all accounts for the administrator.
    fn list_devices(&self, account: Option<&str>) -> StoreResult<Vec<Device>>;
    fn delete_device(&self, account: &str, device_id: &str) -> StoreResult<()>;

    /// Turns tracing on or off for an account (`device` None) or one device.
    fn set_trace(&self, account: &str, device: Option<&str>, on: bool) -> StoreResult<()>;
    /// Every (account, device) traced; device None means all its devices.
    fn traces(&self) -> StoreResult<Vec<(String, Option<String>)>>;
}
