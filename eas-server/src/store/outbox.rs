//! The outbound queue: messages users sent (SendMail, SmartReply,
//! SmartForward) and the server's own auto-replies, kept until every
//! recipient has them or has refused them.
//!
//! A submission is one durable transaction: the message joins the queue,
//! its copy lands in Sent Items when asked, and its ClientId is remembered,
//! all or nothing. Only then does the client hear "sent" (DESIGN.md,
//! promise 2). Delivery to a local recipient marks that recipient done in
//! the same transaction that stores the message in its Inbox, and a
//! failure report lands in the sender's Inbox in the same transaction that
//! records the failure: a crash at any instant neither loses nor doubles a
//! delivery or a report.

use serde::{Deserialize, Serialize};

use super::StoreResult;
use super::mailbox::{MailItem, NewMail};

/// How far one recipient of a queued message got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientState {
    /// Not delivered yet; tried again later.
    Pending,
    /// Delivered: into a local Inbox, or accepted by the smarthost.
    Delivered { at: u64, detail: String },
    /// Refused for good: a permanent error, or the queue lifetime ran out.
    Failed {
        at: u64,
        /// The enhanced status code (RFC 3463), such as `5.1.1`.
        status: String,
        /// What the remote server said, or why the server gave up.
        diagnostic: String,
        /// The host that said it, when one did.
        remote: Option<String>,
        /// Whether the sender was told (a report is written once).
        reported: bool,
    },
}

/// One recipient (envelope address) of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedRecipient {
    pub address: String,
    pub state: RecipientState,
}

impl QueuedRecipient {
    pub fn is_pending(&self) -> bool {
        self.state == RecipientState::Pending
    }
}

/// A message in the outbound queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    pub id: u64,
    /// The account that sent it: failure reports go to its Inbox.
    pub account: String,
    /// The envelope sender (`MAIL FROM`); empty for an auto-reply, which
    /// never causes a report (RFC 3834 3.3, RFC 5321 4.5.5).
    pub sender: String,
    pub recipients: Vec<QueuedRecipient>,
    /// When it was queued, seconds since the epoch.
    pub created: u64,
    pub attempts: u32,
    /// Not tried again before this time.
    pub next_attempt: u64,
    pub last_error: Option<String>,
    pub size: u64,
    pub subject: String,
    pub message_id: String,
    /// Hex SHA-256 of the bytes recipients get: the blob's key.
    pub blob: String,
}

impl QueuedMail {
    pub fn pending(&self) -> impl Iterator<Item = &QueuedRecipient> {
        self.recipients.iter().filter(|r| r.is_pending())
    }

    pub fn is_done(&self) -> bool {
        self.pending().next().is_none()
    }
}

/// A copy of a submission to store in one of the sender's folders.
#[derive(Debug, Clone)]
pub struct FolderCopy<'a> {
    pub folder: u32,
    pub mail: NewMail<'a>,
}

/// How long ClientIds are remembered, per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIdLimits {
    /// Forgotten after this many seconds.
    pub retention_secs: u64,
    /// At most this many per account; the oldest go first.
    pub max: usize,
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub account: &'a str,
    /// The envelope sender; empty for an auto-reply.
    pub sender: &'a str,
    pub recipients: &'a [String],
    /// The bytes every recipient gets.
    pub raw: &'a [u8],
    pub subject: &'a str,
    pub message_id: &'a str,
    /// The client's id for the message: a second submission with the same
    /// id from the same account is not queued again.
    pub client_id: Option<&'a str>,
    pub client_ids: ClientIdLimits,
    /// The copy for Sent Items, when the client asked for one.
    pub sent_copy: Option<FolderCopy<'a>>,
    pub now: u64,
}

/// What [`Outbox::enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Queued {
        id: u64,
        /// The Sent Items copy, when one was asked for.
        sent_item: Option<Box<MailItem>>,
    },
    /// The account used this ClientId before, at this time: nothing was
    /// queued or stored.
    Duplicate { first_seen: u64 },
}

/// The outbound queue, ClientIds seen, and auto-replies sent.
pub trait Outbox {
    /// Queues a message, stores its Sent Items copy and remembers its
    /// ClientId, in one durable transaction.
    fn enqueue(&self, submission: &Submission<'_>) -> StoreResult<Enqueued>;
    /// Every queued message, oldest first.
    fn queued(&self) -> StoreResult<Vec<QueuedMail>>;
    fn queued_mail(&self, id: u64) -> StoreResult<Option<QueuedMail>>;
    /// The bytes of a queued message, exactly as queued.
    fn queued_mime(&self, id: u64) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a queued message in a local account's folder and marks
    /// `recipient` delivered, in one transaction. Fails with `NotFound` when
    /// the entry, the recipient or the folder is gone.
    fn deliver_queued(
        &self,
        id: u64,
        recipient: &str,
        account: &str,
        copy: &FolderCopy<'_>,
    ) -> StoreResult<MailItem>;
    /// Saves an entry after an attempt, or removes it (and its bytes) when
    /// no recipient is pending any more. A `report` is stored in the
    /// entry's account in the same transaction; it is dropped when that
    /// account or folder no longer exists. Returns the report's item.
    fn record_attempt(
        &self,
        mail: &QueuedMail,
        report: Option<&FolderCopy<'_>>,
    ) -> StoreResult<Option<MailItem>>;
    /// Makes queued messages due now: one, or all. Returns how many.
    fn retry_queued(&self, id: Option<u64>) -> StoreResult<usize>;
    /// Removes a queued message without telling anyone; false if there was none.
    fn remove_queued(&self, id: u64) -> StoreResult<bool>;
    /// Whether `account` may send an automatic reply to `sender` now, at
    /// most one per `period_secs`; records it when so.
    fn note_auto_reply(
        &self,
        account: &str,
        sender: &str,
        now: u64,
        period_secs: u64,
    ) -> StoreResult<bool>;
}
