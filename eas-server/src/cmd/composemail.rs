//! SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
//! 2.2.1.19), in both forms: 14.0 and later post a ComposeMail document
//! whose `Mime` is the message; 12.x posts the message itself
//! (`message/rfc822`) with the source in the query.
//!
//! What goes out:
//! - SendMail: the client's message.
//! - SmartReply/SmartForward with `ReplaceMime`, or whose message is S/MIME:
//!   the client's message as it is (the client built the whole thing, and a
//!   signature must not be touched).
//! - SmartReply/SmartForward of a plain message otherwise: the client's
//!   message with the original quoted (reply) or attached byte for byte
//!   (forward), built by `mail::compose`. When the original is S/MIME the
//!   server refuses with Status 117 instead: quoting or re-wrapping signed
//!   or encrypted content would hand recipients a broken signature or an
//!   empty body; the client can send the whole message with ReplaceMime.
//!
//! Only MTA edits are made (`mail::submission`): Message-ID, Date, From
//! when missing, Bcc removed from what recipients get, a Received line.
//! The message is acknowledged only after it is in the durable queue and,
//! when asked, in Sent Items (one transaction, DESIGN.md promise 2); the
//! queue worker delivers it.
//!
//! Every refusal carries its reason in the trace.

use eas_proto::ProtocolVersion;
use eas_proto::command::composemail::{Kind, Request, Response, Status};
use eas_proto::http::Command;
use eas_proto::wbxml::Element;
use hyper::StatusCode;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::mail::submission::{self, Sender, Trace, Unsendable};
use crate::mail::{compose, summary::summarize};
use crate::store::mailbox::{default_folder, folder_type};
use crate::store::outbox::{ClientIdLimits, FolderCopy, Submission};
use crate::store::{Account, Enqueued, MailItem, NewMail, Store};

/// The message a reply or forward answers, as the client named it.
#[derive(Debug, Clone)]
enum SourceRef {
    Item {
        folder: Option<String>,
        item: String,
    },
    /// A Search result.
    LongId(String),
}

/// A request in whichever form it came.
#[derive(Debug)]
struct Asked {
    kind: Kind,
    client_id: Option<String>,
    account_id: Option<String>,
    save_in_sent: bool,
    source: Option<SourceRef>,
    replace_mime: bool,
    mime: Vec<u8>,
    forwardees: Vec<String>,
}

/// Why the request is refused, and the status that says so.
#[derive(Debug)]
struct Refusal {
    status: Status,
    note: String,
}

fn refusal(status: Status, note: impl Into<String>) -> Refusal {
    Refusal {
        status,
        note: note.into(),
    }
}

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let kind = match ctx.line.command {
        Command::SMART_REPLY => Kind::SmartReply,
        Command::SMART_FORWARD => Kind::SmartForward,
        _ => Kind::SendMail,
    };
    let asked = match read(ctx, kind, request) {
        Ok(a) => a,
        Err(r) => return answer(ctx, kind, r),
    };
    let store = ctx.state.store.clone();
    let account = ctx.account.clone();
    let config = &ctx.state.config;
    let job = Job {
        host: crate::mail::queue::host_name(config),
        device: ctx.device.device_id.clone(),
        limits: ClientIdLimits {
            retention_secs: config.queue.client_id_retention_secs,
            max: config.queue.client_id_max,
        },
        now: crate::time::now(),
    };
    let done = blocking(move || submit(store.as_ref(), &account, &asked, &job)).await;
    match done {
        Some(Ok(done)) => {
            ctx.notes.extend(done.notes);
            if let Some(item) = &done.sent_item {
                ctx.state.hub.notify(&ctx.account.name, &[item.folder]);
            }
            ctx.state.outbound.kick();
            Outcome::Empty
        }
        Some(Err(r)) => answer(ctx, kind, r),
        None => answer(
            ctx,
            kind,
            refusal(Status::SERVER_ERROR, "the submission task failed"),
        ),
    }
}

/// The request's parts, from the document or, for the 12.x form, from the
/// message body and the query.
fn read(
    ctx: &mut Context<'_>,
    kind: Kind,
    request: Option<&Element<'_>>,
) -> Result<Asked, Refusal> {
    if let Some(raw) = ctx.raw_body {
        let p = &ctx.line.params;
        if p.occurrence.is_some() {
            ctx.notes
                .push("Occurrence ignored: this server keeps no calendar items".into());
        }
        let source = if kind == Kind::SendMail {
            None
        } else {
            Some(match (&p.item_id, &p.long_id) {
                (Some(item), None) => SourceRef::Item {
                    folder: p.collection_id.clone(),
                    item: item.clone(),
                },
                (None, Some(long)) => SourceRef::LongId(long.clone()),
                (Some(_), Some(_)) => {
                    return Err(refusal(
                        Status::INVALID_COMBINATION_OF_IDS,
                        "the query names both ItemId and LongId",
                    ));
                }
                (None, None) => {
                    return Err(refusal(
                        Status::INVALID_COMBINATION_OF_IDS,
                        "the query names no ItemId or LongId of the source message",
                    ));
                }
            })
        };
        return Ok(Asked {
            kind,
            client_id: None,
            account_id: None,
            save_in_sent: p.save_in_sent == Some(true),
            source,
            replace_mime: false,
            mime: raw.to_vec(),
            forwardees: Vec::new(),
        });
    }
    let r = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return Err(refusal(
                Status::INVALID_XML,
                format!("request refused: {e}"),
            ));
        }
        None => {
            return Err(refusal(
                Status::INVALID_CONTENT,
                "no ComposeMail document and no message/rfc822 body",
            ));
        }
    };
    if r.kind != kind {
        return Err(refusal(
            Status::INVALID_XML,
            format!("a {} document sent as {}", r.kind.name(), kind.name()),
        ));
    }
    if r.template_id.is_some() {
        ctx.notes
            .push("TemplateID ignored: rights management is not offered".into());
    }
    let source = match (kind, &r.source) {
        (Kind::SendMail, _) => None,
        (_, None) => {
            return Err(refusal(
                Status::INVALID_COMBINATION_OF_IDS,
                "no Source names the message replied to or forwarded",
            ));
        }
        (_, Some(s)) => {
            if s.instance_id.is_some() {
                ctx.notes
                    .push("InstanceId ignored: this server keeps no calendar items".into());
            }
            Some(match (&s.item_id, &s.long_id) {
                (Some(item), None) => SourceRef::Item {
                    folder: s.folder_id.clone(),
                    item: item.clone(),
                },
                (None, Some(long)) => SourceRef::LongId(long.clone()),
                (Some(_), Some(_)) => {
                    return Err(refusal(
                        Status::INVALID_COMBINATION_OF_IDS,
                        "Source names both ItemId and LongId",
                    ));
                }
                (None, None) => {
                    return Err(refusal(
                        Status::INVALID_COMBINATION_OF_IDS,
                        "Source names no ItemId or LongId",
                    ));
                }
            })
        }
    };
    Ok(Asked {
        kind,
        client_id: Some(r.client_id),
        account_id: r.account_id,
        save_in_sent: r.save_in_sent_items,
        source,
        replace_mime: r.replace_mime,
        mime: r.mime,
        forwardees: r.forwardees.into_iter().map(|f| f.email).collect(),
    })
}

/// A refusal in the version's form: the Status document from 14.0 on, an
/// HTTP status before (12.x SendMail has no response document).
fn answer(ctx: &mut Context<'_>, kind: Kind, r: Refusal) -> Outcome {
    ctx.notes.push(format!(
        "{} refused with Status {}: {}",
        kind.name(),
        r.status,
        r.note
    ));
    tracing::info!(account = %ctx.account.name, device = %ctx.device.device_id, status = %r.status, "{}: {}", kind.name(), r.note);
    if ctx.version >= ProtocolVersion::V14_0 {
        return Outcome::Wbxml(
            Response {
                kind,
                status: r.status,
            }
            .to_element(),
        );
    }
    Outcome::Http(match r.status {
        Status::INVALID_CONTENT
        | Status::INVALID_XML
        | Status::INVALID_COMBINATION_OF_IDS
        | Status::INVALID_MIME
        | Status::MESSAGE_RECIPIENT_UNRESOLVED
        | Status::MESSAGE_HAS_NO_RECIPIENT
        | Status::INVALID_ACCOUNT_ID => StatusCode::BAD_REQUEST,
        Status::MESSAGE_REPLY_NOT_ALLOWED => StatusCode::FORBIDDEN,
        Status::ITEM_NOT_FOUND => StatusCode::NOT_FOUND,
        Status::SERVER_ERROR_RETRY_LATER => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    })
}

/// What the submission needs besides the request.
#[derive(Debug)]
struct Job {
    host: String,
    device: String,
    limits: ClientIdLimits,
    now: u64,
}

#[derive(Debug)]
struct Done {
    sent_item: Option<Box<MailItem>>,
    notes: Vec<String>,
}

/// Builds the message, queues it and stores its Sent Items copy.
fn submit(store: &dyn Store, account: &Account, asked: &Asked, job: &Job) -> Result<Done, Refusal> {
    let mut notes = Vec::new();
    if let Some(id) = &asked.account_id {
        if !id.eq_ignore_ascii_case(&account.email) && !id.eq_ignore_ascii_case(&account.name) {
            return Err(refusal(
                Status::INVALID_ACCOUNT_ID,
                format!("AccountId {id:?} is not this user's account"),
            ));
        }
    }
    let server_error = |what: &str, e: crate::store::StoreError| {
        tracing::error!(account = %account.name, "{what}: {e}");
        // A store that cannot write (a full disk) stops the server; the
        // same message sent again once it is back goes through: 111 (HTTP
        // 503 for 12.x) tells the client to retry, 110 not to.
        let status = if matches!(e, crate::store::StoreError::Failed(_)) {
            Status::SERVER_ERROR_RETRY_LATER
        } else {
            Status::SERVER_ERROR
        };
        refusal(status, format!("{what}: {e}"))
    };
    // The source item, and how to say it was not found.
    let source = match &asked.source {
        None => None,
        Some(SourceRef::LongId(id)) => {
            // A LongId from Search or Find (MS-ASCMD 2.2.3.93.1) carries
            // its own folder; it is checked against this account's key, so
            // another account's LongId names nothing here.
            let found = match crate::search::longid::item_id(account, id) {
                Some(item) => store
                    .item(&account.name, item)
                    .map_err(|e| server_error("looking up the source", e))?,
                None => None,
            };
            Some((
                found,
                format!("LongId {id:?}: no such item in this mailbox"),
            ))
        }
        Some(SourceRef::Item { folder, item }) => {
            let parsed = item
                .split_once(':')
                .and_then(|(f, i)| Some((f.parse::<u32>().ok()?, i.parse::<u64>().ok()?)));
            let wanted_folder = match folder {
                Some(f) => f.parse::<u32>().ok(),
                None => parsed.map(|(f, _)| f),
            };
            let found = match parsed {
                Some((f, id)) if Some(f) == wanted_folder => store
                    .item(&account.name, id)
                    .map_err(|e| server_error("looking up the source", e))?
                    .filter(|i| i.folder == f),
                _ => None,
            };
            let missing = format!(
                "no item {item} in folder {}",
                folder.as_deref().unwrap_or("(none named)")
            );
            Some((found, missing))
        }
    };
    let original = match source {
        None => None,
        Some((found, missing)) => {
            let raw = match found {
                Some(i) => store
                    .item_mime(&account.name, i.id)
                    .map_err(|e| server_error("reading the source", e))?,
                None => None,
            };
            match raw {
                Some(raw) => Some(raw),
                None => return Err(refusal(Status::ITEM_NOT_FOUND, missing)),
            }
        }
    };

    let client_class = smime_core::classify(&asked.mime);
    let message: std::borrow::Cow<'_, [u8]> = match &original {
        None => (&asked.mime[..]).into(),
        Some(_) if asked.replace_mime => {
            notes.push("ReplaceMime: the client's message goes as it is".into());
            (&asked.mime[..]).into()
        }
        Some(_) if client_class.is_smime() => {
            notes.push(format!(
                "the client's message is S/MIME ({client_class:?}): it goes as it is"
            ));
            (&asked.mime[..]).into()
        }
        Some(orig) => {
            let orig_class = smime_core::classify(orig);
            if orig_class.is_smime() {
                return Err(refusal(
                    Status::MESSAGE_REPLY_NOT_ALLOWED,
                    format!(
                        "the original is S/MIME ({orig_class:?}): quoting or re-wrapping it would break its signature or leave an empty body; send the whole message with ReplaceMime"
                    ),
                ));
            }
            let built = if asked.kind == Kind::SmartReply {
                compose::reply(&asked.mime, orig)
            } else {
                compose::forward(&asked.mime, orig)
            };
            let built = built.map_err(|e| {
                refusal(
                    Status::MESSAGE_REPLY_FAILED,
                    format!("the {} could not be built: {e}", asked.kind.name()),
                )
            })?;
            notes.push(format!(
                "{}: the server added the original ({} bytes)",
                asked.kind.name(),
                orig.len()
            ));
            built.into()
        }
    };

    let prepared = submission::prepare(
        &message,
        &Sender {
            email: &account.email,
            display_name: &account.display_name,
        },
        &Trace {
            host: &job.host,
            account: &account.name,
            device: &job.device,
            command: asked.kind.name(),
            id: asked.client_id.as_deref(),
            now: job.now,
        },
        &asked.forwardees,
    )
    .map_err(|e| {
        let status = match e {
            Unsendable::NoHeaders => Status::INVALID_MIME,
            Unsendable::NoRecipients => Status::MESSAGE_HAS_NO_RECIPIENT,
            Unsendable::BadRecipient(_) => Status::MESSAGE_RECIPIENT_UNRESOLVED,
        };
        refusal(status, e.to_string())
    })?;

    let sent_folder = default_folder(folder_type::SENT_ITEMS).unwrap_or(4);
    let sent_copy = asked.save_in_sent.then(|| FolderCopy {
        folder: sent_folder,
        mail: NewMail {
            raw: &prepared.sent_copy,
            summary: summarize(&prepared.sent_copy),
            received: job.now,
            read: true,
        },
    });
    let queued = store
        .enqueue(&Submission {
            account: &account.name,
            sender: &account.email,
            recipients: &prepared.recipients,
            raw: &prepared.outbound,
            subject: &prepared.subject,
            message_id: &prepared.message_id,
            client_id: asked.client_id.as_deref(),
            client_ids: job.limits,
            sent_copy,
            now: job.now,
        })
        .map_err(|e| server_error("queueing the message", e))?;
    match queued {
        Enqueued::Queued { id, sent_item } => {
            notes.push(format!(
                "queued as {id} for {} recipients{}",
                prepared.recipients.len(),
                if sent_item.is_some() {
                    ", a copy in Sent Items"
                } else {
                    ""
                }
            ));
            tracing::info!(account = %account.name, queue_id = id, recipients = prepared.recipients.len(), "{}: queued", asked.kind.name());
            Ok(Done { sent_item, notes })
        }
        // MS-ASCMD 2.2.3.28.1: the server uses ClientId to recognise a
        // message it has seen; Exchange answers such a request with 118
        // MessagePreviouslySent (its SendMail status table, 2.2.2) and sends
        // nothing. A client that retried after a lost response learns this
        // way that the first attempt went through.
        Enqueued::Duplicate { first_seen } => Err(refusal(
            Status::MESSAGE_PREVIOUSLY_SENT,
            format!(
                "ClientId {:?} was used at {}: not sent again",
                asked.client_id.as_deref().unwrap_or(""),
                crate::time::rfc3339(first_seen)
            ),
        )),
    }
}
