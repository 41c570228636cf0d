//! Sync's client Add and Change of an Email in Drafts (MS-ASEMAIL 16.0
//! drafts; MS-ASCMD 2.2.3.7.2 Add, 2.2.3.24 Change): the client's
//! properties and attachments become a stored message (`mail::draft`),
//! which the account's other devices get as any change of the folder.
//!
//! - Add: a new item in Drafts; the answer carries its ServerId and, in
//!   ApplicationData, each added attachment's ClientId with the
//!   FileReference the server gave it (MS-ASAIRS 2.2.2.14, 2.2.2.24.1).
//! - Change: the draft's content is replaced in one durable transaction
//!   (`Mailbox::replace_content`); other devices get a Change with the
//!   whole item (`SentOp::Replace`), the device that made it none.
//! - `email2:Send` (MS-ASEMAIL 2.2.2.69): the draft, with this command's
//!   changes, goes out as SendMail sends (`mail::submission`: only MTA
//!   edits, Bcc removed from what recipients get), queued with its Sent
//!   Items copy in one durable transaction. A sent Change removes the
//!   draft, and the device is told with a Delete like every other device;
//!   a sent Add stores no draft and is answered without a ServerId. The
//!   queue and the draft's removal are two transactions: a crash between
//!   them leaves the draft in place after it was sent, never the reverse.

use eas_proto::command::airsyncbase::{Attachment, Attachments};
use eas_proto::command::email::Email;
use eas_proto::command::ids::ClientId;
use eas_proto::command::sync::Status;
use eas_proto::wbxml::Element;

use crate::mail::draft::Draft;
use crate::mail::submission::{self, Sender, Trace, mailbox, new_message_id};
use crate::mail::summary::summarize;
use crate::store::mailbox::{default_folder, folder_type};
use crate::store::outbox::{ClientIdLimits, FolderCopy, Submission};
use crate::store::{
    Enqueued, MailItem, NewContent, NewMail, SavedResponse, StoreError, StoreResult,
};
use crate::syncengine::{Known, Scope};

/// Whether a Change carries a draft's content, not only its flags.
pub(super) fn changes_content(email: &Email) -> bool {
    email.to.is_some()
        || email.cc.is_some()
        || email.bcc.is_some()
        || email.subject.is_some()
        || email.importance.is_some()
        || email.body.is_some()
        || email.attachments.is_some()
}

/// What one client command did to the store, for the caller's bookkeeping.
pub(super) struct Applied {
    pub response: Option<SavedResponse>,
    /// The modseq of the write, not to be echoed to this device.
    pub modseq: Option<u64>,
}

/// An answer with no write of this device's to skip.
fn answer_only(response: SavedResponse) -> Applied {
    Applied {
        response: Some(response),
        modseq: None,
    }
}

/// What sending from Sync needs besides the store: the server's name for
/// the Received line and the ClientId limits of the queue.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub host: String,
    pub limits: ClientIdLimits,
}

/// Queues `raw` with its Sent Items copy (MS-ASEMAIL 2.2.2.69 Send).
/// `Err` is the status for a message that cannot be sent.
fn send(
    scope: Scope<'_>,
    outgoing: &Outgoing,
    raw: &[u8],
    client_id: Option<&str>,
    notes: &mut Vec<String>,
) -> StoreResult<Result<(), Status>> {
    let Scope {
        store,
        account,
        device,
        ..
    } = scope;
    let owner = store
        .account(account)?
        .ok_or_else(|| StoreError::NotFound(format!("account {account}")))?;
    let now = crate::time::now();
    let prepared = match submission::prepare(
        raw,
        &Sender {
            email: &owner.email,
            display_name: &owner.display_name,
        },
        &Trace {
            host: &outgoing.host,
            account,
            device,
            command: "Sync",
            id: client_id,
            now,
        },
        &[],
    ) {
        Ok(p) => p,
        Err(e) => {
            // Status 6: the item as the client made it cannot be sent.
            notes.push(format!("Send: {e}; Status 6"));
            return Ok(Err(Status::CONVERSION_ERROR));
        }
    };
    let sent_folder = default_folder(folder_type::SENT_ITEMS).unwrap_or(4);
    // A ClientId makes a retried Add (its answer lost) not send twice.
    let queue_id = client_id.map(|c| format!("sync-send:{device}:{c}"));
    let queued = store.enqueue(&Submission {
        account,
        sender: &owner.email,
        recipients: &prepared.recipients,
        raw: &prepared.outbound,
        subject: &prepared.subject,
        message_id: &prepared.message_id,
        client_id: queue_id.as_deref(),
        client_ids: outgoing.limits,
        sent_copy: Some(FolderCopy {
            folder: sent_folder,
            mail: NewMail {
                raw: &prepared.sent_copy,
                summary: summarize(&prepared.sent_copy),
                received: now,
                read: true,
            },
        }),
        now,
    })?;
    match queued {
        Enqueued::Queued { id, .. } => notes.push(format!(
            "Send: queued as {id} for {} recipients, a copy in Sent Items",
            prepared.recipients.len()
        )),
        Enqueued::Duplicate { .. } => notes.push("Send: sent before, not again".into()),
    }
    Ok(Ok(()))
}

fn file_references(item: u64, added: &[(String, u32)]) -> Vec<(String, String)> {
    added
        .iter()
        .map(|(client_id, number)| (client_id.clone(), format!("{item}:{number}")))
        .collect()
}

/// A client's Add of a draft.
pub(super) fn add(
    scope: Scope<'_>,
    client_id: &ClientId,
    application_data: &Element<'_>,
    send: bool,
    outgoing: &Outgoing,
    known: &mut Known,
    notes: &mut Vec<String>,
) -> StoreResult<Applied> {
    let Scope {
        store,
        account,
        folder,
        ..
    } = scope;
    let failed = |status: Status| SavedResponse::Add {
        client_id: client_id.as_str().to_owned(),
        item: None,
        status: status.0,
        attachments: Vec::new(),
    };
    let email = match Email::from_element(application_data) {
        Ok(e) => e,
        Err(e) => {
            notes.push(format!("Add {}: {e}", client_id.as_str()));
            return Ok(answer_only(failed(Status::CONVERSION_ERROR)));
        }
    };
    let owner = store
        .account(account)?
        .ok_or_else(|| StoreError::NotFound(format!("account {account}")))?;
    let now = crate::time::now();
    let from = mailbox(&Sender {
        email: &owner.email,
        display_name: &owner.display_name,
    });
    let mut draft = Draft::new(&from, &new_message_id(&owner.email, now));
    // A new draft has no attachment to delete: a Delete in an Add names
    // none of item 0's, and is Status 6.
    let added = match draft.apply(0, &email) {
        Ok(a) => a,
        Err(e) => {
            notes.push(format!("Add {}: {e}; Status 6", client_id.as_str()));
            return Ok(answer_only(failed(Status::CONVERSION_ERROR)));
        }
    };
    let raw = draft.to_mime(now);
    if send {
        return Ok(answer_only(
            match self::send(scope, outgoing, &raw, Some(client_id.as_str()), notes)? {
                // Sent, not kept: there is no draft to name.
                Ok(()) => SavedResponse::Add {
                    client_id: client_id.as_str().to_owned(),
                    item: None,
                    status: Status::SUCCESS.0,
                    attachments: Vec::new(),
                },
                Err(status) => failed(status),
            },
        ));
    }
    let mail = NewMail {
        raw: &raw,
        summary: summarize(&raw),
        received: now,
        read: true,
    };
    let Some(item) = store.deliver(account, folder, &[mail])?.into_iter().next() else {
        return Err(StoreError::Backend("a draft was not stored".into()));
    };
    known.add(item.id);
    notes.push(format!(
        "Add {}: draft {} with {} attachments",
        client_id.as_str(),
        item.id,
        added.len()
    ));
    Ok(Applied {
        response: Some(SavedResponse::Add {
            client_id: client_id.as_str().to_owned(),
            item: Some(item.id),
            status: Status::SUCCESS.0,
            attachments: file_references(item.id, &added),
        }),
        modseq: Some(item.modseq),
    })
}

/// A client's Change of a draft's content.
pub(super) fn change(
    scope: Scope<'_>,
    item: &MailItem,
    email: &Email,
    send: bool,
    outgoing: &Outgoing,
    notes: &mut Vec<String>,
) -> StoreResult<Applied> {
    let Scope { store, account, .. } = scope;
    let server_id = crate::mail::content::server_id(item);
    let failed = |status: Status| SavedResponse::Failed {
        server_id: server_id.clone(),
        status: status.0,
        delete: false,
    };
    let Some(raw) = store.item_mime(account, item.id)? else {
        return Ok(answer_only(failed(Status::OBJECT_NOT_FOUND)));
    };
    let mut draft = match Draft::read(&raw, item) {
        Ok(d) => d,
        Err(e) => {
            notes.push(format!("Change of {server_id}: {e}; Status 6"));
            return Ok(answer_only(failed(Status::CONVERSION_ERROR)));
        }
    };
    let added = match draft.apply(item.id, email) {
        Ok(a) => a,
        Err(e) => {
            notes.push(format!("Change of {server_id}: {e}; Status 6"));
            return Ok(answer_only(failed(Status::CONVERSION_ERROR)));
        }
    };
    let raw = draft.to_mime(crate::time::now());
    if send {
        return Ok(match self::send(scope, outgoing, &raw, None, notes)? {
            Ok(()) => {
                // Its removal is not skipped: this device, like the
                // others, gets a Delete for the draft that went.
                store.delete_item(account, item.id)?;
                Applied {
                    response: None,
                    modseq: None,
                }
            }
            Err(status) => answer_only(failed(status)),
        });
    }
    let updated = store.replace_content(
        account,
        item.id,
        &NewContent {
            raw: &raw,
            summary: summarize(&raw),
            attachment_numbers: draft.numbers(),
        },
    )?;
    notes.push(format!(
        "Change of {server_id}: draft saved, {} attachments now, {} added",
        draft.attachments.len(),
        added.len()
    ));
    let response = if added.is_empty() {
        None
    } else {
        Some(SavedResponse::Changed {
            server_id,
            attachments: file_references(item.id, &added),
        })
    };
    Ok(Applied {
        response,
        modseq: Some(updated.modseq),
    })
}

/// The ApplicationData of an Add or Change response: each added
/// attachment's ClientId and FileReference (MS-ASAIRS 2.2.2.7, in a
/// Responses element).
pub(super) fn added_attachments(attachments: &[(String, String)]) -> Option<Element<'static>> {
    if attachments.is_empty() {
        return None;
    }
    let email = Email {
        attachments: Some(Attachments {
            attachments: attachments
                .iter()
                .map(|(client_id, file_reference)| Attachment {
                    file_reference: file_reference.clone(),
                    client_id: Some(client_id.clone()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    Some(email.to_element())
}
