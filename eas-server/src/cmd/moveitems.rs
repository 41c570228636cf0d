//! MoveItems (MS-ASCMD 2.2.1.12): items to another folder of the same
//! account. Each move is its own durable transaction and its own answer;
//! the item keeps its number, so its new ServerId is the destination folder
//! and the same number. Other devices learn of a move from their next Sync
//! (a Delete in the source, an Add in the destination); so does the moving
//! device, for the source folder, unless it removed the item itself.

use eas_proto::ProtocolVersion;
use eas_proto::command::ids::ServerId;
use eas_proto::command::items::{
    Move, MoveItemsRequest, MoveItemsResponse, MoveItemsStatus, MoveResponse,
};
use eas_proto::wbxml::Element;
use hyper::StatusCode;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::mailbox::folder_type;
use crate::store::{Folder, Store, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(MoveItemsRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return malformed(ctx.version);
        }
        None => {
            ctx.notes.push("MoveItems without a body".into());
            return malformed(ctx.version);
        }
    };
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let answer = blocking(move || {
        let mut notes = Vec::new();
        let mut touched = Vec::new();
        let mut responses = Vec::new();
        let mut failed = false;
        for mv in &request.moves {
            match move_one(store.as_ref(), &account, mv, &mut notes, &mut touched) {
                Ok(r) => responses.push(r),
                Err(e) => {
                    // What moved before stays moved and is reported; the
                    // rest is not tried.
                    tracing::error!(account = %account, error = %e, "MoveItems failed in the store");
                    notes.push(format!("{}: server error {e}", mv.src_msg_id.as_str()));
                    failed = true;
                    break;
                }
            }
        }
        (responses, failed, notes, touched)
    })
    .await;
    let Some((responses, failed, notes, touched)) = answer else {
        return Outcome::Http(StatusCode::INTERNAL_SERVER_ERROR);
    };
    ctx.notes.extend(notes);
    if !touched.is_empty() {
        ctx.state.hub.notify(&ctx.account.name, &touched);
    }
    let server_error = eas_proto::status::Status::SERVER_ERROR.0;
    Outcome::Wbxml(
        MoveItemsResponse {
            // The common ServerError (MS-ASCMD 2.2.2): MoveItems has none.
            status: failed.then(|| MoveItemsStatus(u8::try_from(server_error).unwrap_or(u8::MAX))),
            responses,
        }
        .to_element(),
    )
}

/// A request that is not a MoveItems: 14.0 and later get the common status
/// InvalidXML (MS-ASCMD 2.2.2), 12.x an HTTP 400.
fn malformed(version: ProtocolVersion) -> Outcome {
    if version >= ProtocolVersion::V14_0 {
        let invalid_xml = eas_proto::status::Status::INVALID_XML.0;
        Outcome::Wbxml(
            MoveItemsResponse {
                status: Some(MoveItemsStatus(
                    u8::try_from(invalid_xml).unwrap_or(u8::MAX),
                )),
                responses: vec![],
            }
            .to_element(),
        )
    } else {
        Outcome::Http(StatusCode::BAD_REQUEST)
    }
}

/// Whether a folder holds mail (its class is Email and it is not a
/// journal), so that a message may be moved into it.
pub(crate) fn is_mail_folder(folder: &Folder) -> bool {
    matches!(
        folder.kind,
        folder_type::USER_GENERIC
            | folder_type::INBOX
            | folder_type::DRAFTS
            | folder_type::DELETED_ITEMS
            | folder_type::SENT_ITEMS
            | folder_type::OUTBOX
            | folder_type::USER_MAIL
    )
}

fn move_one(
    store: &dyn Store,
    account: &str,
    mv: &Move,
    notes: &mut Vec<String>,
    touched: &mut Vec<u32>,
) -> StoreResult<MoveResponse> {
    let src = mv.src_msg_id.as_str();
    let answer = |status, dst_msg_id| MoveResponse {
        src_msg_id: mv.src_msg_id.clone(),
        status,
        dst_msg_id,
    };
    // The item must be in SrcFldId, by its ServerId and in the store, of
    // this account (MS-ASCMD Status 1).
    let src_folder = mv.src_fld_id.as_str().parse::<u32>().ok();
    let item_id = src
        .split_once(':')
        .filter(|(f, _)| f.parse::<u32>().ok().is_some_and(|f| Some(f) == src_folder))
        .and_then(|(_, i)| i.parse::<u64>().ok());
    let item = match (src_folder, item_id) {
        (Some(folder), Some(id)) => store.item(account, id)?.filter(|i| i.folder == folder),
        _ => None,
    };
    let Some(item) = item else {
        notes.push(format!(
            "{src}: not an item of folder {}; Status 1",
            mv.src_fld_id.as_str()
        ));
        return Ok(answer(MoveItemsStatus::INVALID_SOURCE, None));
    };
    let dst = mv
        .dst_fld_id
        .as_str()
        .parse::<u32>()
        .ok()
        .map(|f| store.folder(account, f))
        .transpose()?
        .flatten();
    let Some(dst) = dst.filter(is_mail_folder) else {
        notes.push(format!(
            "{src}: destination {} is not a mail folder here; Status 2",
            mv.dst_fld_id.as_str()
        ));
        return Ok(answer(MoveItemsStatus::INVALID_DESTINATION, None));
    };
    if dst.id == item.folder {
        notes.push(format!(
            "{src}: source and destination are one folder; Status 4"
        ));
        return Ok(answer(MoveItemsStatus::SAME_SOURCE_AND_DESTINATION, None));
    }
    let moved = store.move_item(account, item.id, dst.id)?;
    touched.extend([item.folder, dst.id]);
    let new_id = format!("{}:{}", moved.folder, moved.id);
    notes.push(format!("{src}: moved to {new_id}"));
    // A ServerId we make from two numbers is always valid.
    Ok(answer(MoveItemsStatus::SUCCESS, ServerId::new(new_id).ok()))
}
