//! One module per EAS command. A handler takes the account, the device and
//! the decoded request and returns a typed outcome; it never sees bytes,
//! headers or sockets (DESIGN.md, "One request, end to end").

pub mod composemail;
pub mod find;
pub mod foldercreate;
pub mod folderdelete;
pub mod foldersync;
pub mod folderupdate;
pub mod getitemestimate;
pub mod hierarchy;
pub mod itemoperations;
pub mod moveitems;
pub mod ping;
pub mod provision;
mod refusal;
pub mod resolverecipients;
pub mod search;
pub mod settings;
pub mod sync;
mod sync_drafts;
pub mod validatecert;

pub use refusal::{refuse, status_449};

use eas_proto::ProtocolVersion;
use eas_proto::command::CommandError;
use eas_proto::http::{Command, RequestLine};
use eas_proto::wbxml::Element;
use hyper::StatusCode;

use crate::state::AppState;
use crate::store::{Access, Account, Device, StoreResult};

/// The commands this server answers today; OPTIONS advertises exactly these.
pub const IMPLEMENTED: &[Command] = &[
    Command::SYNC,
    Command::FOLDER_SYNC,
    Command::FOLDER_CREATE,
    Command::FOLDER_DELETE,
    Command::FOLDER_UPDATE,
    Command::GET_ITEM_ESTIMATE,
    Command::MOVE_ITEMS,
    Command::ITEM_OPERATIONS,
    Command::PING,
    Command::SETTINGS,
    Command::PROVISION,
    Command::SEND_MAIL,
    Command::SMART_REPLY,
    Command::SMART_FORWARD,
    Command::SEARCH,
    Command::FIND,
    Command::RESOLVE_RECIPIENTS,
    Command::VALIDATE_CERT,
];

/// What a handler works with.
#[derive(Debug)]
pub struct Context<'a> {
    pub state: &'a AppState,
    pub account: &'a Account,
    pub device: &'a mut Device,
    pub version: ProtocolVersion,
    pub line: &'a RequestLine,
    /// The body as sent, when it is a message rather than WBXML: 12.x
    /// SendMail, SmartReply and SmartForward post `message/rfc822`
    /// (MS-ASCMD 2.2.1.17), which is carried untouched.
    pub raw_body: Option<&'a [u8]>,
    /// Why the server answered as it did, for the trace.
    pub notes: &'a mut Vec<String>,
}

/// How a command answers.
#[derive(Debug)]
pub enum Outcome {
    Wbxml(Element<'static>),
    /// A response already encoded (streamed, or holding raw MIME bytes).
    Encoded(Vec<u8>),
    /// A multipart ItemOperations response (MS-ASCMD 2.2.1.10.1): the
    /// head, the WBXML, then the parts, sent as
    /// `application/vnd.ms-sync.multipart`.
    Multipart(Vec<u8>),
    /// 200 with no body.
    Empty,
    /// A bare HTTP status.
    Http(StatusCode),
}

/// Runs the command, or `None` if this server does not implement it yet.
pub async fn dispatch(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Option<Outcome> {
    Some(match ctx.line.command {
        Command::PROVISION => provision::run(ctx, request).await,
        Command::SETTINGS => settings::run(ctx, request).await,
        Command::SYNC => sync::run(ctx, request).await,
        Command::FOLDER_SYNC => foldersync::run(ctx, request).await,
        Command::FOLDER_CREATE => foldercreate::run(ctx, request).await,
        Command::FOLDER_UPDATE => folderupdate::run(ctx, request).await,
        Command::FOLDER_DELETE => folderdelete::run(ctx, request).await,
        Command::GET_ITEM_ESTIMATE => getitemestimate::run(ctx, request).await,
        Command::MOVE_ITEMS => moveitems::run(ctx, request).await,
        Command::ITEM_OPERATIONS => itemoperations::run(ctx, request).await,
        Command::PING => ping::run(ctx, request).await,
        Command::SEND_MAIL | Command::SMART_REPLY | Command::SMART_FORWARD => {
            composemail::run(ctx, request).await
        }
        Command::RESOLVE_RECIPIENTS => resolverecipients::run(ctx, request).await,
        Command::VALIDATE_CERT => validatecert::run(ctx, request).await,
        Command::SEARCH => search::run(ctx, request).await,
        Command::FIND => find::run(ctx, request).await,
        _ => return None,
    })
}

/// Notes a request the command could not read, for the trace.
pub fn note_bad_request(ctx: &mut Context<'_>, err: &CommandError) {
    ctx.notes.push(format!("request refused: {err}"));
    tracing::info!(account = %ctx.account.name, device = %ctx.device.device_id, error = %err, "malformed {} request", ctx.line.command);
}

/// Runs a store operation off the async reactor: redb commits fsync.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// The answer for a device that an administrator blocked, or asked to
/// wipe, while its request was held (a Ping, a Sync with Wait). The gate
/// let the request in; what wakes it must not tell the device of changes,
/// or send it items, that it may no longer have. Reads the device again:
/// `None` while it is still let in.
pub async fn refused_while_held(ctx: &mut Context<'_>) -> Option<Outcome> {
    let store = ctx.state.store.clone();
    let (account, device) = (ctx.account.name.clone(), ctx.device.device_id.clone());
    let now = blocking(move || store.device(&account, &device)).await;
    refusal_after_hold(ctx, now)
}

/// [`refused_while_held`] for a device the command has read again itself
/// (Ping reads it with the folders it watches, in one trip to the store).
/// The refusal is the gate's ([`refuse`]).
pub fn refusal_after_hold(
    ctx: &mut Context<'_>,
    now: Option<StoreResult<Option<Device>>>,
) -> Option<Outcome> {
    use eas_proto::status::Status;

    let (status, http, why) = match now {
        Some(Ok(Some(d))) if d.wipe.is_some() => (
            Status::REMOTE_WIPE_REQUESTED,
            status_449(),
            "a wipe was asked for",
        ),
        Some(Ok(Some(d))) if d.access != Access::Allowed => (
            Status::DEVICE_IS_BLOCKED_FOR_THIS_USER,
            StatusCode::FORBIDDEN,
            "the device was blocked",
        ),
        Some(Ok(Some(_))) => return None,
        // Removed, or unreadable: nothing goes out on a guess.
        _ => (
            Status::DEVICE_IS_BLOCKED_FOR_THIS_USER,
            StatusCode::FORBIDDEN,
            "the device could not be read again",
        ),
    };
    ctx.notes.push(format!("{why} while the request was held"));
    tracing::info!(account = %ctx.account.name, device = %ctx.device.device_id, "held {} ended: {why}", ctx.line.command);
    Some(refuse(ctx.line.command, ctx.version, http, status))
}
