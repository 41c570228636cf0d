//! ItemOperations (MS-ASCMD 2.2.1.10): fetching an item, an attachment or
//! a search result; emptying a folder; moving a conversation.
//!
//! - Fetch of an item (Store `Mailbox`, CollectionId + ServerId) sends the
//!   Email properties with the body the Options ask for. A MIME body is the
//!   stored bytes, never re-encoded (DESIGN.md, promise 1): the response is
//!   streamed with `Writer::text_bytes`, since the tree form holds only
//!   UTF-8.
//! - Fetch of an attachment (`FileReference` `{item}:{index}`, the index in
//!   `mail_parser`'s `attachments()` order, as Sync gives them) sends its
//!   decoded bytes, base64 in `Data`, or a `Range` of them.
//! - With `MS-ASAcceptMultiPart: T` (or the base64 query's flag) the
//!   response is multipart (2.2.1.10.1): bodies and files go in parts after
//!   the WBXML, referenced by `Part`, byte for byte.
//! - Fetch of a Search result (`LongId`, `search::longid`) sends the item
//!   as a fetch by ServerId does, wherever the item is now; a LongId of
//!   another account, or of an item since deleted, is Status 6. A document
//!   library is not offered: Status 9.
//! - EmptyFolderContents deletes every item of a folder, and with
//!   `DeleteSubFolders` its subfolders (MS-ASCMD 2.2.3.44), in place: there
//!   is no dumpster.
//! - Move takes a conversation (our ConversationId: the first 16 bytes of
//!   SHA-256 of the lower-cased thread topic, as `mail::content` sends it)
//!   to a mail folder. MS-ASCMD 2.2.3.114 requires `MoveAlways` (Status 155
//!   without it). The messages of the conversation in the Inbox and the
//!   user's mail folders move; Drafts, Outbox, Sent Items and Deleted
//!   Items keep theirs. Later messages of the conversation are not moved:
//!   delivery has no rules yet.
//!
//! Every lookup is by the authenticated account: an id of another account
//! is simply not found.

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::codepages::{airsync as a, airsyncbase as b, itemoperations as io, search};
use eas_proto::command::airsyncbase::{Body, BodyType};
use eas_proto::command::email::Email;
use eas_proto::command::ids::{CollectionId, ServerId};
use eas_proto::command::items::{
    ByteRange, Fetch, FetchOptions, FileProperties, ItemOperationsRequest,
    ItemOperationsStatus as Status, Operation, STORE_DOCUMENT_LIBRARY, STORE_MAILBOX,
    encode_multipart,
};
use eas_proto::wbxml::{Element, EncodeError, Writer};
use mail_parser::MessageParser;
use sha2::{Digest, Sha256};

use super::moveitems::is_mail_folder;
use super::{Context, Outcome, blocking, note_bad_request};
use crate::mail::content::{self, BodyRequest, ChosenBody, ItemContent};
use crate::store::mailbox::folder_type;
use crate::store::{Store, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(ItemOperationsRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return global(Status::PROTOCOL_ERROR);
        }
        None => {
            ctx.notes.push("ItemOperations without a body".into());
            return global(Status::PROTOCOL_ERROR);
        }
    };
    let most = ctx.state.config.limits.max_item_operations;
    if request.operations.len() > most {
        // The spec has no status for "too many"; 2 is what a request the
        // server will not take gets, and nothing of it is performed.
        let note = format!(
            "{} operations, more than [limits] max_item_operations = {most}",
            request.operations.len()
        );
        tracing::info!(account = %ctx.account.name, device = %ctx.device.device_id, "ItemOperations refused: {note}");
        ctx.notes.push(note);
        return global(Status::PROTOCOL_ERROR);
    }
    let multipart = ctx.line.params.accept_multipart == Some(true);
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let version = ctx.version;
    let done = blocking(move || {
        let mut fx = Effects::default();
        let answers = request
            .operations
            .iter()
            .map(|op| perform(store.as_ref(), &account, version, op, &mut fx))
            .collect::<StoreResult<Vec<_>>>();
        (answers, fx)
    })
    .await;
    let Some((answers, fx)) = done else {
        return global(Status::SERVER_ERROR);
    };
    ctx.notes.extend(fx.notes);
    let mut touched = fx.touched;
    if fx.hierarchy {
        touched.push(crate::push::HIERARCHY);
    }
    if !touched.is_empty() {
        touched.sort_unstable();
        touched.dedup();
        ctx.state.hub.notify(&ctx.account.name, &touched);
    }
    let answers = match answers {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(account = %ctx.account.name, error = %e, "ItemOperations failed in the store");
            ctx.notes.push(format!("server error: {e}"));
            return global(Status::SERVER_ERROR);
        }
    };
    match render(&answers, multipart) {
        Ok((wbxml, parts)) if multipart => {
            let mut all: Vec<&[u8]> = vec![&wbxml];
            all.extend(parts.iter().map(Vec::as_slice));
            match encode_multipart(&all) {
                Ok(body) => Outcome::Multipart(body),
                Err(e) => {
                    ctx.notes.push(format!("the multipart response: {e}"));
                    global(Status::TOO_LARGE)
                }
            }
        }
        Ok((wbxml, _)) => Outcome::Encoded(wbxml),
        Err(e) => {
            tracing::error!(error = %e, "writing an ItemOperations response");
            global(Status::SERVER_ERROR)
        }
    }
}

/// A response holding only the global Status.
fn global(status: Status) -> Outcome {
    Outcome::Wbxml(
        eas_proto::command::items::ItemOperationsResponse {
            status,
            responses: vec![],
        }
        .to_element(),
    )
}

/// What the operations did besides their answers.
#[derive(Debug, Default)]
struct Effects {
    notes: Vec<String>,
    /// Folders whose items changed, for the push hub.
    touched: Vec<u32>,
    /// Whether folders were deleted.
    hierarchy: bool,
}

/// One operation's answer, ready to write.
#[derive(Debug)]
enum Answer {
    Fetch(Fetched),
    EmptyFolderContents {
        status: Status,
        collection_id: CollectionId,
    },
    Move {
        status: Status,
        conversation_id: Vec<u8>,
    },
}

/// A Fetch's answer: the ids as asked (or found), and what was fetched.
#[derive(Debug)]
struct Fetched {
    status: Status,
    collection_id: Option<CollectionId>,
    server_id: Option<ServerId>,
    long_id: Option<String>,
    file_reference: Option<String>,
    content: Option<Content>,
}

#[derive(Debug)]
enum Content {
    Item(Box<ItemContent>),
    File {
        content_type: String,
        /// The bytes sent and the whole size, when a range was asked.
        range: Option<(ByteRange, u64)>,
        data: Vec<u8>,
    },
}

fn perform(
    store: &dyn Store,
    account: &str,
    version: ProtocolVersion,
    op: &Operation,
    fx: &mut Effects,
) -> StoreResult<Answer> {
    Ok(match op {
        Operation::Fetch(f) => Answer::Fetch(fetch(store, account, version, f, fx)?),
        Operation::EmptyFolderContents {
            collection_id,
            delete_sub_folders,
        } => Answer::EmptyFolderContents {
            status: empty_folder(store, account, collection_id, *delete_sub_folders, fx)?,
            collection_id: collection_id.clone(),
        },
        Operation::Move {
            conversation_id,
            dst_fld_id,
            move_always,
        } => Answer::Move {
            status: move_conversation(
                store,
                account,
                conversation_id,
                dst_fld_id,
                *move_always,
                fx,
            )?,
            conversation_id: conversation_id.clone(),
        },
    })
}

fn fetch(
    store: &dyn Store,
    account: &str,
    version: ProtocolVersion,
    f: &Fetch,
    fx: &mut Effects,
) -> StoreResult<Fetched> {
    let mut out = Fetched {
        status: Status::SUCCESS,
        collection_id: f.collection_id.clone(),
        server_id: f.server_id.clone(),
        long_id: f.long_id.clone(),
        file_reference: f.file_reference.clone(),
        content: None,
    };
    if f.store.eq_ignore_ascii_case(STORE_DOCUMENT_LIBRARY) {
        return failed(
            out,
            fx,
            Status::UNKNOWN_STORE,
            "this server offers no document library".into(),
        );
    }
    if !f.store.eq_ignore_ascii_case(STORE_MAILBOX) {
        return failed(
            out,
            fx,
            Status::UNKNOWN_STORE,
            format!("unknown store {:?}", f.store),
        );
    }
    let options = f.options.clone().unwrap_or_default();
    if let Some(reference) = &f.file_reference {
        return attachment(store, account, reference, &options, out, fx);
    }
    if let Some(long_id) = &f.long_id {
        // A Search result: the LongId names an item of this account
        // wherever it is now (search::longid).
        let found = match crate::search::longid::resolve(store, account, long_id)? {
            Some(item) => store.item_mime(account, item.id)?.map(|raw| (item, raw)),
            None => None,
        };
        let Some((item, raw)) = found else {
            return failed(
                out,
                fx,
                Status::NOT_FOUND,
                format!("LongId {long_id}: no such item here"),
            );
        };
        fx.notes
            .push(format!("Fetch of LongId {long_id}: item {}", item.id));
        out.content = Some(item_fetch(&item, &raw, &options, version, fx));
        return Ok(out);
    }
    let Some(server_id) = &f.server_id else {
        return failed(
            out,
            fx,
            Status::PROTOCOL_ERROR,
            "a Mailbox fetch names no ServerId, FileReference or LongId".into(),
        );
    };
    let parsed = server_id
        .as_str()
        .split_once(':')
        .and_then(|(f, i)| Some((f.parse::<u32>().ok()?, i.parse::<u64>().ok()?)));
    let asked_folder = match &f.collection_id {
        Some(c) => c.as_str().parse::<u32>().ok(),
        None => parsed.map(|(folder, _)| folder),
    };
    let item = match parsed {
        Some((folder, id)) if Some(folder) == asked_folder => {
            store.item(account, id)?.filter(|i| i.folder == folder)
        }
        _ => None,
    };
    let found = match item {
        Some(item) => store.item_mime(account, item.id)?.map(|raw| (item, raw)),
        None => None,
    };
    let Some((item, raw)) = found else {
        return failed(
            out,
            fx,
            Status::NOT_FOUND,
            format!("no item {} here", server_id.as_str()),
        );
    };
    fx.notes.push(format!("Fetch of {}", server_id.as_str()));
    out.collection_id = CollectionId::new(item.folder.to_string()).ok();
    out.content = Some(item_fetch(&item, &raw, &options, version, fx));
    Ok(out)
}

/// An item's properties, with the body the Options ask for.
fn item_fetch(
    item: &crate::store::MailItem,
    raw: &[u8],
    options: &FetchOptions,
    version: ProtocolVersion,
    fx: &mut Effects,
) -> Content {
    if options.range.is_some() {
        fx.notes
            .push("Fetch: Range applies to files; the item is sent whole".into());
    }
    if options.schema.is_some() {
        fx.notes
            .push("Fetch: Schema is not applied; every property is sent".into());
    }
    let request = BodyRequest {
        preferences: options.body_preferences.clone(),
        mime_support: options.mime_support,
        mime_truncation: None,
    };
    let c = content::item_content(item, raw, &request, version);
    fx.notes.push(match &c.body {
        Some(ChosenBody::Mime { data, .. }) => format!("Fetch: MIME, {} bytes", data.len()),
        _ => "Fetch: text body".to_owned(),
    });
    Content::Item(Box::new(c))
}

fn failed(
    mut out: Fetched,
    fx: &mut Effects,
    status: Status,
    note: String,
) -> StoreResult<Fetched> {
    fx.notes.push(format!("Fetch: {note}; Status {}", status.0));
    out.status = status;
    Ok(out)
}

fn attachment(
    store: &dyn Store,
    account: &str,
    reference: &str,
    options: &FetchOptions,
    mut out: Fetched,
    fx: &mut Effects,
) -> StoreResult<Fetched> {
    let parsed = reference
        .split_once(':')
        .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u32>().ok()?)));
    // The number names an attachment, not a position: a draft's stay with
    // their files as others are deleted (`MailItem::attachment_position`).
    let position = match parsed {
        Some((id, number)) => store
            .item(account, id)?
            .and_then(|item| Some((id, item.attachment_position(number)?))),
        None => None,
    };
    let raw = match position {
        Some((id, _)) => store.item_mime(account, id)?,
        None => None,
    };
    // S/MIME messages list no attachments (mail::content): their parts are
    // inside the signature or the envelope.
    let found = raw
        .filter(|raw| !smime_core::classify(raw).is_smime())
        .zip(position)
        .and_then(|(raw, (_, index))| {
            let msg = MessageParser::default().parse(&raw)?;
            let part = msg.attachments().nth(index)?;
            Some((
                content::attachment_content_type(part),
                content::attachment_bytes(&raw, part),
            ))
        });
    let Some((content_type, bytes)) = found else {
        return failed(
            out,
            fx,
            Status::INVALID_ATTACHMENT,
            format!("no attachment {reference} here"),
        );
    };
    let total = bytes.len() as u64;
    let (data, range) = match options.range {
        None => (bytes, None),
        Some(r) => {
            let start = u64::from(r.start);
            let end = u64::from(r.end).min(total.saturating_sub(1));
            let slice = usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .filter(|_| r.start <= r.end && start < total)
                .and_then(|(s, e)| bytes.get(s..=e));
            let Some(slice) = slice else {
                return failed(
                    out,
                    fx,
                    Status::INVALID_RANGE,
                    format!("range {}-{} of {reference} ({total} bytes)", r.start, r.end),
                );
            };
            let sent = ByteRange {
                start: r.start,
                end: u32::try_from(end).unwrap_or(r.end),
            };
            (slice.to_vec(), Some((sent, total)))
        }
    };
    fx.notes.push(format!(
        "Fetch of attachment {reference}: {content_type}, {} of {total} bytes",
        data.len()
    ));
    out.content = Some(Content::File {
        content_type,
        range,
        data,
    });
    Ok(out)
}

fn empty_folder(
    store: &dyn Store,
    account: &str,
    collection_id: &CollectionId,
    delete_sub_folders: bool,
    fx: &mut Effects,
) -> StoreResult<Status> {
    let id = collection_id.as_str();
    let Some(folder) = id
        .parse::<u32>()
        .ok()
        .map(|f| store.folder(account, f))
        .transpose()?
        .flatten()
    else {
        fx.notes.push(format!(
            "EmptyFolderContents: no folder {id}; Status {}",
            Status::NOT_FOUND.0
        ));
        return Ok(Status::NOT_FOUND);
    };
    let deleted = store.empty_folder(account, folder.id)?;
    fx.touched.push(folder.id);
    let mut subfolders = 0;
    if delete_sub_folders {
        let children: Vec<u32> = store
            .folders(account)?
            .into_iter()
            .filter(|f| f.parent == folder.id && !f.is_default())
            .map(|f| f.id)
            .collect();
        for child in children {
            store.delete_folder(account, child)?;
            fx.touched.push(child);
            fx.hierarchy = true;
            subfolders += 1;
        }
    }
    fx.notes.push(format!(
        "EmptyFolderContents of {id}: {deleted} items deleted{}",
        if delete_sub_folders {
            format!(", {subfolders} subfolders")
        } else {
            String::new()
        }
    ));
    Ok(Status::SUCCESS)
}

/// Our ConversationId of a message (as `mail::content::item_content`
/// sends it): the first 16 bytes of SHA-256 of its lower-cased thread topic.
fn conversation_id(thread_topic: &str) -> Vec<u8> {
    let digest = Sha256::digest(thread_topic.to_lowercase().as_bytes());
    digest.get(..16).map(<[u8]>::to_vec).unwrap_or_default()
}

fn move_conversation(
    store: &dyn Store,
    account: &str,
    conversation: &[u8],
    dst_fld_id: &CollectionId,
    move_always: bool,
    fx: &mut Effects,
) -> StoreResult<Status> {
    let fail = |fx: &mut Effects, status: Status, note: String| {
        fx.notes.push(format!(
            "Move of a conversation: {note}; Status {}",
            status.0
        ));
        Ok(status)
    };
    if !move_always {
        // MS-ASCMD 2.2.3.114: MoveAlways MUST be there; 155 without it.
        return fail(fx, Status::MOVE_OPTIONS_MISSING, "no MoveAlways".into());
    }
    let dst = dst_fld_id
        .as_str()
        .parse::<u32>()
        .ok()
        .map(|f| store.folder(account, f))
        .transpose()?
        .flatten();
    let Some(dst) = dst else {
        return fail(
            fx,
            Status::NOT_FOUND,
            format!("no folder {}", dst_fld_id.as_str()),
        );
    };
    if !is_mail_folder(&dst) {
        return fail(
            fx,
            Status::ACTION_NOT_SUPPORTED,
            format!("folder {} does not hold mail", dst.id),
        );
    }
    let kept = [
        folder_type::DRAFTS,
        folder_type::OUTBOX,
        folder_type::SENT_ITEMS,
        folder_type::DELETED_ITEMS,
    ];
    let mut found = 0;
    let mut moved = 0;
    for folder in store.folders(account)?.iter().filter(|f| is_mail_folder(f)) {
        for item in store.folder_items(account, folder.id)? {
            if conversation_id(&item.summary.thread_topic) != conversation {
                continue;
            }
            found += 1;
            if folder.id == dst.id || kept.contains(&folder.kind) {
                continue;
            }
            store.move_item(account, item.id, dst.id)?;
            fx.touched.extend([folder.id, dst.id]);
            moved += 1;
        }
    }
    if found == 0 {
        return fail(fx, Status::NOT_FOUND, "no message of it here".into());
    }
    fx.notes.push(format!(
        "Move of a conversation to {}: {moved} of its {found} messages moved; later ones are not (no delivery rules yet)",
        dst.id
    ));
    Ok(Status::SUCCESS)
}

/// The response's WBXML and, when `multipart`, the parts it refers to
/// (part 1 first: part 0 is the WBXML itself).
fn render(answers: &[Answer], multipart: bool) -> Result<(Vec<u8>, Vec<Vec<u8>>), EncodeError> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut w = Writer::new(Vec::with_capacity(4096))?;
    w.start(io::ItemOperations)?;
    w.text_element(io::Status, &Status::SUCCESS.0.to_string())?;
    if !answers.is_empty() {
        w.start(io::Response)?;
        for answer in answers {
            match answer {
                Answer::Fetch(f) => write_fetch(&mut w, f, multipart.then_some(&mut parts))?,
                Answer::EmptyFolderContents {
                    status,
                    collection_id,
                } => {
                    w.start(io::EmptyFolderContents)?;
                    w.text_element(io::Status, &status.0.to_string())?;
                    w.text_element(a::CollectionId, collection_id.as_str())?;
                    w.end()?;
                }
                Answer::Move {
                    status,
                    conversation_id,
                } => {
                    w.start(io::Move)?;
                    w.text_element(io::Status, &status.0.to_string())?;
                    w.start(io::ConversationId)?;
                    w.opaque(conversation_id)?;
                    w.end()?;
                    w.end()?;
                }
            }
        }
        w.end()?;
    }
    w.end()?;
    Ok((w.finish()?, parts))
}

/// Adds a part; its index in the multipart body.
fn add_part(parts: &mut Vec<Vec<u8>>, data: Vec<u8>) -> Option<u32> {
    parts.push(data);
    u32::try_from(parts.len()).ok()
}

/// A Fetch in the order of ItemOperationsResponse.xsd: Status,
/// CollectionId, ServerId, LongId, Class, FileReference, Properties.
fn write_fetch(
    w: &mut Writer<Vec<u8>>,
    f: &Fetched,
    parts: Option<&mut Vec<Vec<u8>>>,
) -> Result<(), EncodeError> {
    w.start(io::Fetch)?;
    w.text_element(io::Status, &f.status.0.to_string())?;
    if let Some(c) = &f.collection_id {
        w.text_element(a::CollectionId, c.as_str())?;
    }
    if let Some(s) = &f.server_id {
        w.text_element(a::ServerId, s.as_str())?;
    }
    if let Some(l) = &f.long_id {
        w.text_element(search::LongId, l)?;
    }
    if matches!(f.content, Some(Content::Item(_))) {
        w.text_element(a::Class, "Email")?;
    }
    if let Some(r) = &f.file_reference {
        w.text_element(b::FileReference, r)?;
    }
    match (&f.content, parts) {
        (Some(Content::Item(c)), None) => {
            w.start(io::Properties)?;
            match &c.body {
                // A WBXML string cannot hold a NUL: such a message is sent
                // truncated to nothing; a multipart fetch carries it whole.
                Some(ChosenBody::Mime {
                    estimated, data, ..
                }) if data.contains(&0) => {
                    let mut c = (**c).clone();
                    c.body = Some(ChosenBody::Mime {
                        estimated: *estimated,
                        truncated: true,
                        data: Vec::new(),
                    });
                    c.write(w)?;
                }
                _ => c.write(w)?,
            }
            w.end()?;
        }
        (Some(Content::Item(c)), Some(parts)) => {
            w.start(io::Properties)?;
            body_in_part(c, parts).write_children(w)?;
            w.end()?;
        }
        (
            Some(Content::File {
                content_type,
                range,
                data,
            }),
            parts,
        ) => {
            let mut props = FileProperties {
                content_type: Some(content_type.clone()),
                range: range.map(|(r, _)| r),
                total: range.map(|(_, t)| t),
                ..Default::default()
            };
            match parts {
                Some(parts) => props.part = add_part(parts, data.clone()),
                None => {
                    props.data = Some(base64::engine::general_purpose::STANDARD.encode(data));
                }
            }
            props.to_element().write_to(w)?;
        }
        (None, _) => {}
    }
    w.end()
}

/// The item's properties with its body's data moved to a part, as a
/// multipart response sends it (MS-ASCMD 2.2.1.10.1, `Part` in `Body`).
fn body_in_part(c: &ItemContent, parts: &mut Vec<Vec<u8>>) -> Email {
    let mut email = c.email.clone();
    email.body = match &c.body {
        Some(ChosenBody::Mime {
            estimated,
            truncated,
            data,
        }) => Some(Body {
            body_type: BodyType::MIME,
            estimated_data_size: Some(*estimated),
            truncated: Some(*truncated),
            data: None,
            part: if data.is_empty() {
                None
            } else {
                add_part(parts, data.clone())
            },
            preview: None,
        }),
        Some(ChosenBody::Text(body)) => {
            let mut body = body.clone();
            if let Some(text) = body.data.take().filter(|t| !t.is_empty()) {
                body.part = add_part(parts, text.into_bytes());
            }
            Some(body)
        }
        None => email.body,
    };
    email
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::summary::summarize;
    use crate::store::MailItem;

    #[test]
    fn conversation_ids_are_the_ones_sync_sends() {
        let raw = b"Subject: RE: Plans\r\nThread-Topic: Plans\r\n\r\nx\r\n";
        let item = MailItem {
            id: 1,
            folder: 1,
            modseq: 1,
            blob: String::new(),
            size: raw.len() as u64,
            received: 0,
            read: false,
            flag: None,
            categories: vec![],
            summary: summarize(raw),
            content_modseq: 0,
            attachment_numbers: Default::default(),
        };
        let c = content::item_content(&item, raw, &BodyRequest::default(), ProtocolVersion::V16_1);
        assert_eq!(
            c.email.conversation_id,
            Some(conversation_id(&item.summary.thread_topic))
        );
    }

    #[test]
    fn a_mime_body_with_a_nul_goes_whole_only_in_a_part() {
        let raw = b"Subject: n\r\nContent-Type: application/octet-stream\r\n\r\na\0b\r\n";
        let item = MailItem {
            id: 4,
            folder: 1,
            modseq: 1,
            blob: String::new(),
            size: raw.len() as u64,
            received: 0,
            read: false,
            flag: None,
            categories: vec![],
            summary: summarize(raw),
            content_modseq: 0,
            attachment_numbers: Default::default(),
        };
        let request = BodyRequest {
            preferences: vec![eas_proto::command::airsyncbase::BodyPreference {
                body_type: BodyType::MIME,
                truncation_size: None,
                all_or_none: None,
                preview: None,
            }],
            mime_support: Some(eas_proto::command::sync::MimeSupport::ALWAYS),
            mime_truncation: None,
        };
        let c = content::item_content(&item, raw, &request, ProtocolVersion::V16_1);
        let answers = [Answer::Fetch(Fetched {
            status: Status::SUCCESS,
            collection_id: CollectionId::new("1").ok(),
            server_id: ServerId::new("1:4").ok(),
            long_id: None,
            file_reference: None,
            content: Some(Content::Item(Box::new(c))),
        })];
        let (inline, parts) = render(&answers, false).unwrap();
        assert!(parts.is_empty());
        let el = Element::decode(&inline, eas_proto::wbxml::Limits::default()).unwrap();
        let r = eas_proto::command::items::ItemOperationsResponse::from_element(&el).unwrap();
        let eas_proto::command::items::OperationResponse::Fetch(f) = &r.responses[0] else {
            panic!("{r:?}")
        };
        let body = Email::from_element(f.properties.as_ref().unwrap())
            .unwrap()
            .body
            .unwrap();
        assert_eq!((body.truncated, body.data), (Some(true), None));
        let (_, parts) = render(&answers, true).unwrap();
        assert_eq!(parts, vec![raw.to_vec()]);
    }

    #[test]
    fn attachments_are_their_original_bytes() {
        // A Latin-1 text attachment in quoted-printable and a binary one in
        // base64: the bytes come back as they were before encoding.
        let raw = b"Subject: a\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--y\r\nContent-Type: text/plain; charset=iso-8859-1; name=\"n.txt\"\r\nContent-Disposition: attachment; filename=\"n.txt\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n--y\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\nLjQK\r\n--y--\r\n";
        let msg = MessageParser::default().parse(raw).unwrap();
        let parts: Vec<_> = msg.attachments().collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(content::attachment_bytes(raw, parts[0]), b"caf\xe9");
        assert_eq!(content::attachment_content_type(parts[0]), "text/plain");
        assert_eq!(content::attachment_bytes(raw, parts[1]), b"%PDF-1.4\n");
        assert_eq!(
            content::attachment_content_type(parts[1]),
            "application/pdf"
        );
    }
}
