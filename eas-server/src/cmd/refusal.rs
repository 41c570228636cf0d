//! How a request is refused before, or instead of, its command's work:
//! the command's own root holding only a Status from 14.0 on, the HTTP
//! status before. The gate uses it for blocked, wiped and unprovisioned
//! devices, and a held Ping or Sync again when it wakes.

use eas_proto::ProtocolVersion;
use eas_proto::codepages::{
    airsync, composemail, find, folderhierarchy, getitemestimate, itemoperations, meetingresponse,
    moveitems, ping, resolverecipients, search, settings, validatecert,
};
use eas_proto::http::Command;
use eas_proto::status::Status;
use eas_proto::wbxml::{Element, Tag};
use hyper::StatusCode;

use super::Outcome;

/// The command's own root element holding only a Status: how 14.0 and
/// later answer a request the server refuses before running it.
fn status_only(command: Command, status: Status) -> Option<Element<'static>> {
    let (root, status_tag): (Tag, Tag) = match command {
        Command::SYNC => (airsync::Sync, airsync::Status),
        Command::FOLDER_SYNC => (folderhierarchy::FolderSync, folderhierarchy::Status),
        Command::FOLDER_CREATE => (folderhierarchy::FolderCreate, folderhierarchy::Status),
        Command::FOLDER_DELETE => (folderhierarchy::FolderDelete, folderhierarchy::Status),
        Command::FOLDER_UPDATE => (folderhierarchy::FolderUpdate, folderhierarchy::Status),
        Command::GET_ITEM_ESTIMATE => (getitemestimate::GetItemEstimate, getitemestimate::Status),
        Command::MOVE_ITEMS => (moveitems::MoveItems, moveitems::Status),
        Command::MEETING_RESPONSE => (meetingresponse::MeetingResponse, meetingresponse::Status),
        Command::SEARCH => (search::Search, search::Status),
        Command::SETTINGS => (settings::Settings, settings::Status),
        Command::PING => (ping::Ping, ping::Status),
        Command::ITEM_OPERATIONS => (itemoperations::ItemOperations, itemoperations::Status),
        Command::SEND_MAIL => (composemail::SendMail, composemail::Status),
        Command::SMART_FORWARD => (composemail::SmartForward, composemail::Status),
        Command::SMART_REPLY => (composemail::SmartReply, composemail::Status),
        Command::RESOLVE_RECIPIENTS => (
            resolverecipients::ResolveRecipients,
            resolverecipients::Status,
        ),
        Command::VALIDATE_CERT => (validatecert::ValidateCert, validatecert::Status),
        Command::FIND => (find::Find, find::Status),
        _ => return None,
    };
    Some(Element::new(root).with(Element::text(status_tag, status.as_text())))
}

/// A refusal in the form the client's protocol version expects: 12.x gets
/// the HTTP status, 14.0 and later the command's Status element (MS-ASPROV
/// 3.2.5.1.2; MS-ASCMD 2.2.2), where the command has a WBXML response.
pub fn refuse(
    command: Command,
    version: ProtocolVersion,
    http: StatusCode,
    status: Status,
) -> Outcome {
    if version >= ProtocolVersion::V14_0 {
        if let Some(el) = status_only(command, status) {
            return Outcome::Wbxml(el);
        }
    }
    Outcome::Http(http)
}

pub fn status_449() -> StatusCode {
    StatusCode::from_u16(449).unwrap_or(StatusCode::FORBIDDEN)
}
