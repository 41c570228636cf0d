//! The outbound queue tables of [`RedbStore`]. A queued message's bytes
//! are a content-addressed blob like any item's, so a Sent Items copy
//! without Bcc shares them.

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::mailbox::MailItem;
use super::outbox::{Enqueued, FolderCopy, Outbox, QueuedMail, RecipientState, Submission};
use super::redb_mailbox::{
    BLOBS, COUNTERS, deliver_in, hash_bytes, load_folder, next, release_blob, retain_blob,
};
use super::redb_store::{RedbStore, backend, decode, encode};
use super::{StoreError, StoreResult};

/// Queue id -> QueuedMail (JSON).
const QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("queue");
/// (account, ClientId) -> when it was first seen.
const CLIENT_IDS: TableDefinition<(&str, &str), u64> = TableDefinition::new("client_ids");
/// (account, lower-case sender) -> when an automatic reply last went to it.
const AUTO_REPLIES: TableDefinition<(&str, &str), u64> = TableDefinition::new("auto_replies");

/// The queue's id counter lives among the per-account counters under an
/// account name no account can have.
const QUEUE_COUNTER: (&str, &str) = ("", "queue");

pub(super) fn open_tables(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(QUEUE).map_err(backend)?;
    txn.open_table(CLIENT_IDS).map_err(backend)?;
    txn.open_table(AUTO_REPLIES).map_err(backend)?;
    Ok(())
}

/// Forgets an account's ClientIds and auto-reply log. Its queued messages
/// stay: what it sent before it was removed still goes out.
pub(super) fn purge_account(txn: &WriteTransaction, account: &str) -> StoreResult<()> {
    txn.open_table(CLIENT_IDS)
        .map_err(backend)?
        .retain_in((account, "")..(account, "\u{10FFFF}"), |_, _| false)
        .map_err(backend)?;
    txn.open_table(AUTO_REPLIES)
        .map_err(backend)?
        .retain_in((account, "")..(account, "\u{10FFFF}"), |_, _| false)
        .map_err(backend)?;
    Ok(())
}

fn load(txn: &WriteTransaction, id: u64) -> StoreResult<Option<QueuedMail>> {
    let queue = txn.open_table(QUEUE).map_err(backend)?;
    let found = queue.get(id).map_err(backend)?;
    found.map(|v| decode(v.value())).transpose()
}

fn save(txn: &WriteTransaction, mail: &QueuedMail) -> StoreResult<()> {
    txn.open_table(QUEUE)
        .map_err(backend)?
        .insert(mail.id, encode(mail)?.as_slice())
        .map_err(backend)?;
    Ok(())
}

fn remove(txn: &WriteTransaction, mail: &QueuedMail) -> StoreResult<()> {
    txn.open_table(QUEUE)
        .map_err(backend)?
        .remove(mail.id)
        .map_err(backend)?;
    release_blob(txn, &hash_bytes(&mail.blob)?)
}

/// Remembers a ClientId, forgetting the account's old ones beyond the
/// limits. Returns when it was seen first if it was seen before.
fn remember_client_id(
    txn: &WriteTransaction,
    submission: &Submission<'_>,
    client_id: &str,
) -> StoreResult<Option<u64>> {
    let account = submission.account;
    let mut ids = txn.open_table(CLIENT_IDS).map_err(backend)?;
    if let Some(seen) = ids.get((account, client_id)).map_err(backend)? {
        return Ok(Some(seen.value()));
    }
    ids.insert((account, client_id), submission.now)
        .map_err(backend)?;
    let limits = submission.client_ids;
    let oldest_kept = submission.now.saturating_sub(limits.retention_secs);
    let mut all: Vec<(u64, String)> = Vec::new();
    for entry in ids
        .range((account, "")..(account, "\u{10FFFF}"))
        .map_err(backend)?
    {
        let (k, v) = entry.map_err(backend)?;
        all.push((v.value(), k.value().1.to_owned()));
    }
    all.sort_unstable();
    let excess = all.len().saturating_sub(limits.max.max(1));
    for (i, (seen, id)) in all.iter().enumerate() {
        if i < excess || *seen < oldest_kept {
            ids.remove((account, id.as_str())).map_err(backend)?;
        }
    }
    Ok(None)
}

impl Outbox for RedbStore {
    fn enqueue(&self, submission: &Submission<'_>) -> StoreResult<Enqueued> {
        let txn = self.db.begin_write().map_err(backend)?;
        if let Some(client_id) = submission.client_id {
            if let Some(first_seen) = remember_client_id(&txn, submission, client_id)? {
                // Nothing written: dropping the transaction aborts it.
                return Ok(Enqueued::Duplicate { first_seen });
            }
        }
        let sent_item = match &submission.sent_copy {
            Some(copy) => deliver_in(
                &txn,
                submission.account,
                copy.folder,
                std::slice::from_ref(&copy.mail),
            )?
            .into_iter()
            .next()
            .map(Box::new),
            None => None,
        };
        let id = {
            let mut counters = txn.open_table(COUNTERS).map_err(backend)?;
            next(&mut counters, QUEUE_COUNTER.0, QUEUE_COUNTER.1, 0)?
        };
        let blob = retain_blob(&txn, submission.raw)?;
        let mail = QueuedMail {
            id,
            account: submission.account.to_owned(),
            sender: submission.sender.to_owned(),
            recipients: submission
                .recipients
                .iter()
                .map(|address| super::outbox::QueuedRecipient {
                    address: address.clone(),
                    state: RecipientState::Pending,
                })
                .collect(),
            created: submission.now,
            attempts: 0,
            next_attempt: submission.now,
            last_error: None,
            size: submission.raw.len() as u64,
            subject: submission.subject.to_owned(),
            message_id: submission.message_id.to_owned(),
            blob,
        };
        save(&txn, &mail)?;
        txn.commit().map_err(backend)?;
        Ok(Enqueued::Queued { id, sent_item })
    }

    fn queued(&self) -> StoreResult<Vec<QueuedMail>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let queue = txn.open_table(QUEUE).map_err(backend)?;
        let mut out = Vec::new();
        for entry in queue.iter().map_err(backend)? {
            let (_, v) = entry.map_err(backend)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    fn queued_mail(&self, id: u64) -> StoreResult<Option<QueuedMail>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let queue = txn.open_table(QUEUE).map_err(backend)?;
        let found = queue.get(id).map_err(backend)?;
        found.map(|v| decode(v.value())).transpose()
    }

    fn queued_mime(&self, id: u64) -> StoreResult<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(backend)?;
        let queue = txn.open_table(QUEUE).map_err(backend)?;
        let Some(v) = queue.get(id).map_err(backend)? else {
            return Ok(None);
        };
        let mail: QueuedMail = decode(v.value())?;
        let blobs = txn.open_table(BLOBS).map_err(backend)?;
        let found = blobs
            .get(hash_bytes(&mail.blob)?.as_slice())
            .map_err(backend)?;
        match found {
            Some(raw) => Ok(Some(raw.value().to_vec())),
            None => Err(StoreError::Corrupt(format!(
                "the bytes of queued message {id} are missing"
            ))),
        }
    }

    fn deliver_queued(
        &self,
        id: u64,
        recipient: &str,
        account: &str,
        copy: &FolderCopy<'_>,
    ) -> StoreResult<MailItem> {
        let txn = self.db.begin_write().map_err(backend)?;
        let mut mail =
            load(&txn, id)?.ok_or_else(|| StoreError::NotFound(format!("queued message {id}")))?;
        let Some(r) = mail
            .recipients
            .iter_mut()
            .find(|r| r.address == recipient && r.is_pending())
        else {
            return Err(StoreError::NotFound(format!(
                "pending recipient {recipient} of queued message {id}"
            )));
        };
        let item = deliver_in(&txn, account, copy.folder, std::slice::from_ref(&copy.mail))?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Backend("a delivery stored nothing".into()))?;
        r.state = RecipientState::Delivered {
            at: copy.mail.received,
            detail: format!("stored as item {} of {account}", item.id),
        };
        save(&txn, &mail)?;
        txn.commit().map_err(backend)?;
        Ok(item)
    }

    fn record_attempt(
        &self,
        mail: &QueuedMail,
        report: Option<&FolderCopy<'_>>,
    ) -> StoreResult<Option<MailItem>> {
        let txn = self.db.begin_write().map_err(backend)?;
        let Some(stored) = load(&txn, mail.id)? else {
            // Removed by the administrator meanwhile: nothing to record.
            return Ok(None);
        };
        if mail.is_done() {
            remove(&txn, &stored)?;
        } else {
            save(&txn, mail)?;
        }
        let item = match report {
            Some(copy) if load_folder(&txn, &mail.account, copy.folder)?.is_some() => deliver_in(
                &txn,
                &mail.account,
                copy.folder,
                std::slice::from_ref(&copy.mail),
            )?
            .into_iter()
            .next(),
            _ => None,
        };
        txn.commit().map_err(backend)?;
        Ok(item)
    }

    fn retry_queued(&self, id: Option<u64>) -> StoreResult<usize> {
        let txn = self.db.begin_write().map_err(backend)?;
        let ids: Vec<u64> = match id {
            Some(id) => vec![id],
            None => {
                let queue = txn.open_table(QUEUE).map_err(backend)?;
                let mut ids = Vec::new();
                for entry in queue.iter().map_err(backend)? {
                    ids.push(entry.map_err(backend)?.0.value());
                }
                ids
            }
        };
        let mut n = 0;
        for id in ids {
            if let Some(mut mail) = load(&txn, id)? {
                mail.next_attempt = 0;
                save(&txn, &mail)?;
                n += 1;
            }
        }
        txn.commit().map_err(backend)?;
        Ok(n)
    }

    fn remove_queued(&self, id: u64) -> StoreResult<bool> {
        let txn = self.db.begin_write().map_err(backend)?;
        let Some(mail) = load(&txn, id)? else {
            return Ok(false);
        };
        remove(&txn, &mail)?;
        txn.commit().map_err(backend)?;
        Ok(true)
    }

    fn note_auto_reply(
        &self,
        account: &str,
        sender: &str,
        now: u64,
        period_secs: u64,
    ) -> StoreResult<bool> {
        let sender = sender.to_lowercase();
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut log = txn.open_table(AUTO_REPLIES).map_err(backend)?;
            let last = log
                .get((account, sender.as_str()))
                .map_err(backend)?
                .map(|v| v.value());
            if last.is_some_and(|t| now.saturating_sub(t) < period_secs) {
                return Ok(false);
            }
            // The log only needs the senders of the current period.
            let cutoff = now.saturating_sub(period_secs);
            log.retain_in((account, "")..(account, "\u{10FFFF}"), |_, t| t >= cutoff)
                .map_err(backend)?;
            log.insert((account, sender.as_str()), now)
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mailbox::{MailSummary, Mailbox, NewMail};
    use crate::store::outbox::ClientIdLimits;

    fn store() -> (RedbStore, std::path::PathBuf) {
        crate::store::scratch::with_accounts("outbox", &["alice", "bob"])
    }

    fn new_mail(raw: &[u8]) -> NewMail<'_> {
        NewMail {
            raw,
            summary: MailSummary::default(),
            received: 5,
            read: true,
        }
    }

    const LIMITS: ClientIdLimits = ClientIdLimits {
        retention_secs: 100,
        max: 3,
    };

    fn submission<'a>(
        raw: &'a [u8],
        recipients: &'a [String],
        client_id: Option<&'a str>,
        now: u64,
    ) -> Submission<'a> {
        Submission {
            account: "alice",
            sender: "alice@example.com",
            recipients,
            raw,
            subject: "s",
            message_id: "m@x",
            client_id,
            client_ids: LIMITS,
            sent_copy: Some(FolderCopy {
                folder: 4,
                mail: new_mail(raw),
            }),
            now,
        }
    }

    #[test]
    fn a_submission_is_queued_with_its_sent_copy_and_a_client_id_only_once() {
        let (store, dir) = store();
        let raw = b"To: bob@example.com\r\n\r\nhi\r\n";
        let to = vec!["bob@example.com".to_owned(), "x@remote.example".to_owned()];
        let first = store
            .enqueue(&submission(raw, &to, Some("c1"), 10))
            .unwrap();
        let Enqueued::Queued { id, sent_item } = first else {
            panic!("{first:?}")
        };
        assert_eq!(sent_item.unwrap().folder, 4);
        assert_eq!(store.queued_mime(id).unwrap().unwrap(), raw);
        let again = store
            .enqueue(&submission(raw, &to, Some("c1"), 11))
            .unwrap();
        assert_eq!(again, Enqueued::Duplicate { first_seen: 10 });
        assert_eq!(store.queued().unwrap().len(), 1);
        assert_eq!(store.folder_count("alice", 4).unwrap(), 1);
        // Another account's ClientId space is its own.
        let mut bobs = submission(raw, &to, Some("c1"), 12);
        bobs.account = "bob";
        assert!(matches!(
            store.enqueue(&bobs).unwrap(),
            Enqueued::Queued { .. }
        ));

        // Local delivery marks the recipient in the same transaction.
        let item = store
            .deliver_queued(
                id,
                "bob@example.com",
                "bob",
                &FolderCopy {
                    folder: 1,
                    mail: new_mail(raw),
                },
            )
            .unwrap();
        assert_eq!(store.item_mime("bob", item.id).unwrap().unwrap(), raw);
        assert!(matches!(
            store.deliver_queued(
                id,
                "bob@example.com",
                "bob",
                &FolderCopy {
                    folder: 1,
                    mail: new_mail(raw)
                }
            ),
            Err(StoreError::NotFound(_))
        ));
        let mut mail = store.queued_mail(id).unwrap().unwrap();
        assert_eq!(mail.pending().count(), 1);

        // A failure with a report: the report lands, the entry goes.
        mail.recipients[1].state = RecipientState::Failed {
            at: 20,
            status: "5.1.1".into(),
            diagnostic: "550 no such user".into(),
            remote: None,
            reported: true,
        };
        let report = store
            .record_attempt(
                &mail,
                Some(&FolderCopy {
                    folder: 1,
                    mail: new_mail(b"Subject: undeliverable\r\n\r\n"),
                }),
            )
            .unwrap()
            .unwrap();
        assert_eq!(report.folder, 1);
        assert!(store.queued_mail(id).unwrap().is_none());
        assert_eq!(store.folder_count("alice", 1).unwrap(), 1);
        // The Sent Items copy keeps the shared bytes alive.
        assert_eq!(
            store
                .item_mime("alice", store.folder_items("alice", 4).unwrap()[0].id)
                .unwrap()
                .unwrap(),
            raw
        );
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn client_ids_are_bounded_by_count_and_age() {
        let (store, dir) = store();
        let raw = b"x";
        let to = vec!["bob@example.com".to_owned()];
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            store
                .enqueue(&submission(raw, &to, Some(id), 10 + i as u64))
                .unwrap();
        }
        // At most three: "a" was forgotten, "b" is remembered.
        assert!(matches!(
            store.enqueue(&submission(raw, &to, Some("a"), 20)).unwrap(),
            Enqueued::Queued { .. }
        ));
        assert!(matches!(
            store.enqueue(&submission(raw, &to, Some("c"), 21)).unwrap(),
            Enqueued::Duplicate { .. }
        ));
        // Long after, everything old is forgotten.
        store
            .enqueue(&submission(raw, &to, Some("e"), 1000))
            .unwrap();
        assert!(matches!(
            store
                .enqueue(&submission(raw, &to, Some("c"), 1001))
                .unwrap(),
            Enqueued::Queued { .. }
        ));
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn retry_remove_and_auto_reply_log() {
        let (store, dir) = store();
        let to = vec!["x@remote.example".to_owned()];
        let Enqueued::Queued { id, .. } = store.enqueue(&submission(b"q", &to, None, 10)).unwrap()
        else {
            panic!()
        };
        let mut mail = store.queued_mail(id).unwrap().unwrap();
        mail.next_attempt = 500;
        mail.attempts = 1;
        store.record_attempt(&mail, None).unwrap();
        assert_eq!(store.queued_mail(id).unwrap().unwrap().next_attempt, 500);
        assert_eq!(store.retry_queued(None).unwrap(), 1);
        assert_eq!(store.queued_mail(id).unwrap().unwrap().next_attempt, 0);
        assert!(store.remove_queued(id).unwrap());
        assert!(!store.remove_queued(id).unwrap());
        assert_eq!(store.queued_mime(id).unwrap(), None);

        assert!(store.note_auto_reply("bob", "Carol@x", 100, 50).unwrap());
        assert!(!store.note_auto_reply("bob", "carol@x", 120, 50).unwrap());
        assert!(store.note_auto_reply("alice", "carol@x", 120, 50).unwrap());
        assert!(store.note_auto_reply("bob", "carol@x", 151, 50).unwrap());
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
