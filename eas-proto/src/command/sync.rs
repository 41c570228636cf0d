//! Sync (MS-ASCMD 2.2.1.21), protocol 12.0 to 16.1: the client sends, per
//! collection, the key of the state it holds, its own changes and what it
//! wants back; the server answers with a new key, the outcome of the
//! client's changes (`Responses`) and its own changes (`Commands`).
//!
//! Item contents (`ApplicationData`) depend on the collection's class, so
//! the generic types keep them as owned [`Element`]s (the
//! `ApplicationData` element itself); [`super::email::Email`] reads and
//! writes the Email class.
//!
//! A response can hold hundreds of items. [`SyncResponseWriter`] writes it
//! through [`Writer`] collection by collection and item by item, so it is
//! never built as a tree; it produces the same bytes as
//! [`Response::to_element`] would.
//!
//! Element order. In a request MS-ASCMD 2.2.3.29.2 prescribes a "strict
//! ordering" inside `Collection` (SyncKey, CollectionId, Supported,
//! DeletesAsMoves, GetChanges, WindowSize, ConversationMode, Options,
//! Commands); the 12.x `Class` comes first. Requests are written in that
//! order and read in any order. Responses are written in the order the same
//! section lists a response `Collection`'s children: Class, SyncKey,
//! CollectionId, Status, MoreAvailable, Commands, Responses.

use std::io::Write;

use super::airsyncbase::BodyPreference;
use super::fields::{Sink, Tree, all, flag, keep, num, opt, req, string};
use super::ids::{ClientId, CollectionId, ServerId, SyncKey};
use super::{CommandError, expect_root};
use crate::codepages::{airsync as a, airsyncbase as b, email2, rightsmanagement as rm};
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError, Tag, Writer};

number_enum! {
    /// Every `Status` of a Sync response (MS-ASCMD 2.2.3.177.17): at the
    /// top level, per collection and per item.
    pub struct Status(u8) {
        SUCCESS = 1,
        /// The collection's key is unknown or mismatched: the client goes
        /// back to key 0 for it.
        INVALID_SYNC_KEY = 3,
        /// The request breaks the spec (item or whole request).
        PROTOCOL_ERROR = 4,
        /// A transient server fault; the client retries.
        SERVER_ERROR = 5,
        /// The client sent a malformed or invalid item.
        CONVERSION_ERROR = 6,
        /// The client changed an item the conflict policy gives to the
        /// server.
        CONFLICT = 7,
        /// The item of a Fetch or Change is gone.
        OBJECT_NOT_FOUND = 8,
        /// The command cannot be completed (the mailbox may be full).
        CANNOT_COMPLETE = 9,
        /// The folders changed: the client runs FolderSync first.
        FOLDER_HIERARCHY_CHANGED = 12,
        /// An empty or partial request and no cached request to complete
        /// it with.
        INCOMPLETE_REQUEST = 13,
        /// `Wait` or `HeartbeatInterval` out of range; `Limit` says the
        /// bound.
        INVALID_WAIT_OR_HEARTBEAT = 14,
        /// Too many collections in one request.
        TOO_MANY_COLLECTIONS = 15,
        /// A retriable server error: send the request again.
        RETRY = 16,
    }
}

number_enum! {
    /// How far back to synchronize (MS-ASCMD `FilterType`): 0 to 5 for
    /// email, 0 and 4 to 7 for calendars, 0 and 8 for tasks.
    pub struct FilterType(u8) {
        ALL = 0,
        ONE_DAY = 1,
        THREE_DAYS = 2,
        ONE_WEEK = 3,
        TWO_WEEKS = 4,
        ONE_MONTH = 5,
        THREE_MONTHS = 6,
        SIX_MONTHS = 7,
        INCOMPLETE_TASKS = 8,
    }
}

number_enum! {
    /// `MIMESupport`: when to send bodies as MIME.
    pub struct MimeSupport(u8) {
        NEVER = 0,
        /// For S/MIME messages only.
        SMIME_ONLY = 1,
        ALWAYS = 2,
    }
}

number_enum! {
    /// `MIMETruncation`: where to cut a MIME body, in characters.
    pub struct MimeTruncation(u8) {
        TRUNCATE_ALL = 0,
        OVER_4096 = 1,
        OVER_5120 = 2,
        OVER_7168 = 3,
        OVER_10240 = 4,
        OVER_20480 = 5,
        OVER_51200 = 6,
        OVER_102400 = 7,
        DO_NOT_TRUNCATE = 8,
    }
}

impl MimeTruncation {
    /// The number of characters kept: `Some(None)` for no truncation,
    /// `None` for a value the spec does not define.
    pub fn limit(self) -> Option<Option<usize>> {
        match self.0 {
            0 => Some(Some(0)),
            1 => Some(Some(4096)),
            2 => Some(Some(5120)),
            3 => Some(Some(7168)),
            4 => Some(Some(10240)),
            5 => Some(Some(20480)),
            6 => Some(Some(51200)),
            7 => Some(Some(102_400)),
            8 => Some(None),
            _ => None,
        }
    }
}

number_enum! {
    /// `Conflict`: whose version wins when both sides changed an item.
    /// The default is the server's.
    pub struct Conflict(u8) {
        CLIENT_WINS = 0,
        SERVER_WINS = 1,
    }
}

/// The largest window a collection or request may ask for.
pub const MAX_WINDOW_SIZE: u32 = 512;

/// A boolean that older clients send as an empty tag: `<GetChanges/>` and
/// `<DeletesAsMoves/>` mean 1 (MS-ASCMD GetChanges, DeletesAsMoves), and
/// the form is kept so that a request is written back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Toggle {
    Empty,
    Set(bool),
}

impl Toggle {
    /// The value the element stands for: an empty one is true.
    pub fn is_on(self) -> bool {
        match self {
            Toggle::Empty => true,
            Toggle::Set(b) => b,
        }
    }

    fn from_element(el: &Element<'_>) -> Result<Toggle, CommandError> {
        if el.is_empty() {
            Ok(Toggle::Empty)
        } else {
            flag(el).map(Toggle::Set)
        }
    }

    fn emit<S: Sink>(self, s: &mut S, tag: Tag) -> Result<(), EncodeError> {
        match self {
            Toggle::Empty => s.empty(tag),
            Toggle::Set(b) => s.boolean(tag, b),
        }
    }
}

impl From<bool> for Toggle {
    fn from(b: bool) -> Toggle {
        Toggle::Set(b)
    }
}

fn class(el: &Element<'_>) -> Result<String, CommandError> {
    string(el)
}

/// One `Options` of a collection. A collection may carry two, one per
/// class (Email and SMS, MS-ASCMD Class (Sync)). GetItemEstimate uses the
/// same element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The class these options are for (14.0; absent for the folder's
    /// own class).
    pub class: Option<String>,
    pub filter_type: Option<FilterType>,
    pub body_preferences: Vec<BodyPreference>,
    /// `BodyPartPreference` (14.1), the same shape as `BodyPreference`.
    pub body_part_preferences: Vec<BodyPreference>,
    pub conflict: Option<Conflict>,
    pub mime_support: Option<MimeSupport>,
    pub mime_truncation: Option<MimeTruncation>,
    /// For the recipient information cache: the most items to send.
    pub max_items: Option<u32>,
    pub rights_management_support: Option<bool>,
}

impl Options {
    pub fn from_element(el: &Element<'_>) -> Result<Options, CommandError> {
        Ok(Options {
            class: opt(el, a::Class, class)?,
            filter_type: opt(el, a::FilterType, num("a filter type"))?,
            body_preferences: all(el, b::BodyPreference, BodyPreference::from_element)?,
            body_part_preferences: all(el, b::BodyPartPreference, BodyPreference::from_element)?,
            conflict: opt(el, a::Conflict, num("0 or 1"))?,
            mime_support: opt(el, a::MIMESupport, num("0, 1 or 2"))?,
            mime_truncation: opt(el, a::MIMETruncation, num("0 to 8"))?,
            max_items: opt(el, a::MaxItems, num("a number of items"))?,
            rights_management_support: opt(el, rm::RightsManagementSupport, flag)?,
        })
    }

    pub(crate) fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(a::Options)?;
        s.opt_text(a::Class, self.class.as_deref())?;
        s.opt_number(a::FilterType, self.filter_type.map(|v| v.0))?;
        for p in &self.body_preferences {
            p.emit(s, b::BodyPreference)?;
        }
        for p in &self.body_part_preferences {
            p.emit(s, b::BodyPartPreference)?;
        }
        s.opt_number(a::Conflict, self.conflict.map(|v| v.0))?;
        s.opt_number(a::MIMESupport, self.mime_support.map(|v| v.0))?;
        s.opt_number(a::MIMETruncation, self.mime_truncation.map(|v| v.0))?;
        s.opt_number(a::MaxItems, self.max_items)?;
        s.opt_bool(rm::RightsManagementSupport, self.rights_management_support)?;
        s.end()
    }
}

/// What a client does to one item of a collection. `application_data` is
/// the `airsync:ApplicationData` element itself, as
/// [`super::email::Email::to_element`] builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// A new item, under the client's temporary id.
    Add {
        /// The item's class where it is not the folder's (SMS in the Inbox).
        class: Option<String>,
        client_id: ClientId,
        application_data: Element<'static>,
        /// 16.0 `email2:Send`: send the draft instead of saving it.
        send: bool,
    },
    Change {
        server_id: ServerId,
        /// 16.0: the occurrence of a recurring series this change is for.
        instance_id: Option<String>,
        /// Only the properties that changed, and for ghosted classes the
        /// ones the client manages (MS-ASCMD Supported).
        application_data: Element<'static>,
        send: bool,
    },
    Delete {
        server_id: ServerId,
        instance_id: Option<String>,
    },
    /// The whole of an item earlier sent truncated.
    Fetch { server_id: ServerId },
}

/// The known children of the list element `tag`, read in order; others
/// are skipped.
fn list<T>(
    el: &Element<'_>,
    tag: Tag,
    read: fn(&Element<'_>) -> Result<Option<T>, CommandError>,
) -> Result<Vec<T>, CommandError> {
    match super::child(el, tag)? {
        Some(list) => list
            .elements()
            .map(read)
            .filter_map(Result::transpose)
            .collect(),
        None => Ok(Vec::new()),
    }
}

fn server_id(el: &Element<'_>) -> Result<ServerId, CommandError> {
    ServerId::from_element(el)
}

impl ClientCommand {
    fn from_element(el: &Element<'_>) -> Result<Option<ClientCommand>, CommandError> {
        let send = || Ok::<_, CommandError>(super::child(el, email2::Send)?.is_some());
        Ok(Some(match el.tag {
            a::Add => ClientCommand::Add {
                class: opt(el, a::Class, class)?,
                client_id: req(el, a::ClientId, ClientId::from_element)?,
                application_data: req(el, a::ApplicationData, keep)?,
                send: send()?,
            },
            a::Change => ClientCommand::Change {
                server_id: req(el, a::ServerId, server_id)?,
                instance_id: opt(el, b::InstanceId, string)?,
                application_data: req(el, a::ApplicationData, keep)?,
                send: send()?,
            },
            a::Delete => ClientCommand::Delete {
                server_id: req(el, a::ServerId, server_id)?,
                instance_id: opt(el, b::InstanceId, string)?,
            },
            a::Fetch => ClientCommand::Fetch {
                server_id: req(el, a::ServerId, server_id)?,
            },
            _ => return Ok(None),
        }))
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        match self {
            ClientCommand::Add {
                class,
                client_id,
                application_data,
                send,
            } => {
                s.start(a::Add)?;
                s.opt_text(a::Class, class.as_deref())?;
                s.text(a::ClientId, client_id.as_str())?;
                s.element(application_data)?;
                s.marker(email2::Send, *send)?;
            }
            ClientCommand::Change {
                server_id,
                instance_id,
                application_data,
                send,
            } => {
                s.start(a::Change)?;
                s.text(a::ServerId, server_id.as_str())?;
                s.opt_text(b::InstanceId, instance_id.as_deref())?;
                s.element(application_data)?;
                s.marker(email2::Send, *send)?;
            }
            ClientCommand::Delete {
                server_id,
                instance_id,
            } => {
                s.start(a::Delete)?;
                s.text(a::ServerId, server_id.as_str())?;
                s.opt_text(b::InstanceId, instance_id.as_deref())?;
            }
            ClientCommand::Fetch { server_id } => {
                s.start(a::Fetch)?;
                s.text(a::ServerId, server_id.as_str())?;
            }
        }
        s.end()
    }
}

/// One `Collection` of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// 12.x only: the collection's class.
    pub class: Option<String>,
    pub sync_key: SyncKey,
    pub collection_id: CollectionId,
    /// `Supported`: the ghosted properties the client manages itself
    /// (contacts and calendars), by tag. `Some(vec![])` is an empty
    /// `<Supported/>`, which is not the same as none (MS-ASCMD Supported).
    pub supported: Option<Vec<Tag>>,
    /// Absent or empty means true: deleted items go to Deleted Items.
    pub deletes_as_moves: Option<Toggle>,
    /// Absent means "unless the key is 0" (MS-ASCMD GetChanges).
    pub get_changes: Option<Toggle>,
    pub window_size: Option<u32>,
    pub conversation_mode: Option<bool>,
    pub options: Vec<Options>,
    pub commands: Vec<ClientCommand>,
}

impl Collection {
    /// A collection with only its key and id.
    pub fn new(sync_key: SyncKey, collection_id: CollectionId) -> Collection {
        Collection {
            class: None,
            sync_key,
            collection_id,
            supported: None,
            deletes_as_moves: None,
            get_changes: None,
            window_size: None,
            conversation_mode: None,
            options: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// Whether the server should send its changes, with the default of
    /// MS-ASCMD GetChanges: on unless the key is 0.
    pub fn wants_changes(&self) -> bool {
        self.get_changes
            .map_or(!self.sync_key.is_initial(), Toggle::is_on)
    }

    /// Whether deleted items go to Deleted Items rather than away for
    /// good: the default, absent or empty (MS-ASCMD DeletesAsMoves).
    pub fn deletes_are_moves(&self) -> bool {
        self.deletes_as_moves.is_none_or(Toggle::is_on)
    }

    /// The most changes to send for this collection: 100 when absent, and
    /// 512 for 0 or anything above 512 (MS-ASCMD WindowSize and
    /// MoreAvailable).
    pub fn window(&self) -> u32 {
        match self.window_size {
            None => 100,
            Some(0) => MAX_WINDOW_SIZE,
            Some(n) => n.min(MAX_WINDOW_SIZE),
        }
    }

    /// The options for items of `class`: those naming it, or for the
    /// folder's own class (`folder_class`) those naming none.
    pub fn options_for(&self, class: &str, folder_class: &str) -> Option<&Options> {
        self.options.iter().find(|o| match &o.class {
            Some(c) => c == class,
            None => class == folder_class,
        })
    }

    /// Whether two `Options` name the same class, which MS-ASCMD Class
    /// (Sync) answers with status 4. Options without a class count as one.
    pub fn redefines_options(&self) -> bool {
        self.options.iter().enumerate().any(|(i, o)| {
            self.options
                .iter()
                .skip(i + 1)
                .any(|other| other.class == o.class)
        })
    }

    fn from_element(el: &Element<'_>) -> Result<Collection, CommandError> {
        Ok(Collection {
            class: opt(el, a::Class, class)?,
            sync_key: req(el, a::SyncKey, SyncKey::from_element)?,
            collection_id: req(el, a::CollectionId, CollectionId::from_element)?,
            supported: opt(el, a::Supported, |s| {
                Ok(s.elements().map(|e| e.tag).collect())
            })?,
            deletes_as_moves: opt(el, a::DeletesAsMoves, Toggle::from_element)?,
            get_changes: opt(el, a::GetChanges, Toggle::from_element)?,
            window_size: opt(el, a::WindowSize, num("a window size"))?,
            conversation_mode: opt(el, a::ConversationMode, flag)?,
            options: all(el, a::Options, Options::from_element)?,
            commands: list(el, a::Commands, ClientCommand::from_element)?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(a::Collection)?;
        s.opt_text(a::Class, self.class.as_deref())?;
        s.text(a::SyncKey, self.sync_key.as_str())?;
        s.text(a::CollectionId, self.collection_id.as_str())?;
        if let Some(supported) = &self.supported {
            s.start(a::Supported)?;
            for tag in supported {
                s.empty(*tag)?;
            }
            s.end()?;
        }
        if let Some(t) = self.deletes_as_moves {
            t.emit(s, a::DeletesAsMoves)?;
        }
        if let Some(t) = self.get_changes {
            t.emit(s, a::GetChanges)?;
        }
        s.opt_number(a::WindowSize, self.window_size)?;
        s.opt_bool(a::ConversationMode, self.conversation_mode)?;
        for o in &self.options {
            o.emit(s)?;
        }
        if !self.commands.is_empty() {
            s.start(a::Commands)?;
            for c in &self.commands {
                c.emit(s)?;
            }
            s.end()?;
        }
        s.end()
    }
}

/// A Sync request. All parts are optional: `<Sync/>` with `Partial`, or
/// an empty body, repeats the previous request (MS-ASCMD Partial).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub collections: Vec<Collection>,
    /// Minutes to hold the request when nothing changed (1 to 59).
    pub wait: Option<u32>,
    /// Seconds to hold it (14.0; 60 to 3540 on Exchange). A request with
    /// both `wait` and this gets status 4, which is the server's to send.
    pub heartbeat_interval: Option<u32>,
    /// The most changes to send over all collections.
    pub window_size: Option<u32>,
    /// The collections listed complete those of the cached request.
    pub partial: bool,
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, a::Sync)?;
        let collections = match super::child(el, a::Collections)? {
            Some(c) => all(c, a::Collection, Collection::from_element)?,
            None => Vec::new(),
        };
        Ok(Request {
            collections,
            wait: opt(el, a::Wait, num("a number of minutes"))?,
            heartbeat_interval: opt(el, a::HeartbeatInterval, num("a number of seconds"))?,
            window_size: opt(el, a::WindowSize, num("a window size"))?,
            partial: super::child(el, a::Partial)?.is_some(),
        })
    }

    /// In the order of SyncRequest.xsd: Collections, Wait,
    /// HeartbeatInterval, WindowSize, Partial.
    pub fn to_element(&self) -> Element<'static> {
        Tree::build(a::Sync, |s| {
            if !self.collections.is_empty() {
                s.start(a::Collections)?;
                for c in &self.collections {
                    c.emit(s)?;
                }
                s.end()?;
            }
            s.opt_number(a::Wait, self.wait)?;
            s.opt_number(a::HeartbeatInterval, self.heartbeat_interval)?;
            s.opt_number(a::WindowSize, self.window_size)?;
            s.marker(a::Partial, self.partial)
        })
    }
}

/// A server change to one item, in a response's `Commands`.
/// `application_data` is the `airsync:ApplicationData` element itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCommand {
    Add {
        /// Only where the item's class is not the folder's (MS-ASCMD
        /// Class (Sync)).
        class: Option<String>,
        server_id: ServerId,
        application_data: Element<'static>,
    },
    Change {
        class: Option<String>,
        server_id: ServerId,
        application_data: Element<'static>,
    },
    Delete {
        class: Option<String>,
        server_id: ServerId,
    },
    /// The item left the filter window; the client drops its copy.
    SoftDelete { server_id: ServerId },
}

impl ServerCommand {
    fn from_element(el: &Element<'_>) -> Result<Option<ServerCommand>, CommandError> {
        Ok(Some(match el.tag {
            a::Add => ServerCommand::Add {
                class: opt(el, a::Class, class)?,
                server_id: req(el, a::ServerId, server_id)?,
                application_data: req(el, a::ApplicationData, keep)?,
            },
            a::Change => ServerCommand::Change {
                class: opt(el, a::Class, class)?,
                server_id: req(el, a::ServerId, server_id)?,
                application_data: req(el, a::ApplicationData, keep)?,
            },
            a::Delete => ServerCommand::Delete {
                class: opt(el, a::Class, class)?,
                server_id: req(el, a::ServerId, server_id)?,
            },
            a::SoftDelete => ServerCommand::SoftDelete {
                server_id: req(el, a::ServerId, server_id)?,
            },
            _ => return Ok(None),
        }))
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        match self {
            ServerCommand::Add {
                class,
                server_id,
                application_data,
            } => {
                emit_command_head(s, a::Add, class.as_deref(), server_id)?;
                s.element(application_data)?;
            }
            ServerCommand::Change {
                class,
                server_id,
                application_data,
            } => {
                emit_command_head(s, a::Change, class.as_deref(), server_id)?;
                s.element(application_data)?;
            }
            ServerCommand::Delete { class, server_id } => {
                emit_command_head(s, a::Delete, class.as_deref(), server_id)?;
            }
            ServerCommand::SoftDelete { server_id } => {
                emit_command_head(s, a::SoftDelete, None, server_id)?;
            }
        }
        s.end()
    }
}

fn emit_command_head<S: Sink>(
    s: &mut S,
    tag: Tag,
    class: Option<&str>,
    server_id: &ServerId,
) -> Result<(), EncodeError> {
    s.start(tag)?;
    s.opt_text(a::Class, class)?;
    s.text(a::ServerId, server_id.as_str())
}

/// The outcome of one client command, in a response's `Responses`. The
/// server answers successful adds and fetches, and failed changes and
/// deletes; silence means success (MS-ASCMD Responses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemResponse {
    Add {
        class: Option<String>,
        client_id: ClientId,
        /// The item's id from now on; absent when the add failed.
        server_id: Option<ServerId>,
        status: Status,
        /// 16.0: `Attachments/Attachment` with the `ClientId` and new
        /// `FileReference` of each attachment the client added.
        application_data: Option<Element<'static>>,
    },
    Change {
        class: Option<String>,
        server_id: ServerId,
        status: Status,
        /// 16.0, as for `Add`.
        application_data: Option<Element<'static>>,
    },
    Delete {
        server_id: ServerId,
        status: Status,
    },
    Fetch {
        server_id: Option<ServerId>,
        status: Status,
        /// The whole item, when the fetch succeeded.
        application_data: Option<Element<'static>>,
    },
}

fn status(el: &Element<'_>) -> Result<Status, CommandError> {
    super::number(el, "a Sync status")
}

impl ItemResponse {
    fn from_element(el: &Element<'_>) -> Result<Option<ItemResponse>, CommandError> {
        Ok(Some(match el.tag {
            a::Add => ItemResponse::Add {
                class: opt(el, a::Class, class)?,
                client_id: req(el, a::ClientId, ClientId::from_element)?,
                server_id: opt(el, a::ServerId, server_id)?,
                status: req(el, a::Status, status)?,
                application_data: opt(el, a::ApplicationData, keep)?,
            },
            a::Change => ItemResponse::Change {
                class: opt(el, a::Class, class)?,
                server_id: req(el, a::ServerId, server_id)?,
                status: req(el, a::Status, status)?,
                application_data: opt(el, a::ApplicationData, keep)?,
            },
            a::Delete => ItemResponse::Delete {
                server_id: req(el, a::ServerId, server_id)?,
                status: req(el, a::Status, status)?,
            },
            a::Fetch => ItemResponse::Fetch {
                server_id: opt(el, a::ServerId, server_id)?,
                status: req(el, a::Status, status)?,
                application_data: opt(el, a::ApplicationData, keep)?,
            },
            _ => return Ok(None),
        }))
    }

    /// In the order of SyncResponse.xsd: Class, ClientId, ServerId, Status,
    /// then the item.
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        let data = match self {
            ItemResponse::Add {
                class,
                client_id,
                server_id,
                status,
                application_data,
            } => {
                s.start(a::Add)?;
                s.opt_text(a::Class, class.as_deref())?;
                s.text(a::ClientId, client_id.as_str())?;
                s.opt_text(a::ServerId, server_id.as_ref().map(ServerId::as_str))?;
                s.number(a::Status, status.0)?;
                application_data
            }
            ItemResponse::Change {
                class,
                server_id,
                status,
                application_data,
            } => {
                s.start(a::Change)?;
                s.opt_text(a::Class, class.as_deref())?;
                s.text(a::ServerId, server_id.as_str())?;
                s.number(a::Status, status.0)?;
                application_data
            }
            ItemResponse::Delete { server_id, status } => {
                s.start(a::Delete)?;
                s.text(a::ServerId, server_id.as_str())?;
                s.number(a::Status, status.0)?;
                &None
            }
            ItemResponse::Fetch {
                server_id,
                status,
                application_data,
            } => {
                s.start(a::Fetch)?;
                s.opt_text(a::ServerId, server_id.as_ref().map(ServerId::as_str))?;
                s.number(a::Status, status.0)?;
                application_data
            }
        };
        if let Some(data) = data {
            s.element(data)?;
        }
        s.end()
    }
}

/// The part of a response `Collection` written before its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionHeader {
    /// 12.x: the collection's class.
    pub class: Option<String>,
    /// The new key; some failures (status 3 among them) go without one.
    pub sync_key: Option<SyncKey>,
    pub collection_id: CollectionId,
    pub status: Status,
    /// More changes wait than this response carries. It precedes
    /// `Commands` (MS-ASCMD 2.2.3.29.2), so the server decides it before
    /// writing them, by reading one change beyond the window.
    pub more_available: bool,
}

impl CollectionHeader {
    pub fn new(sync_key: SyncKey, collection_id: CollectionId, status: Status) -> Self {
        CollectionHeader {
            class: None,
            sync_key: Some(sync_key),
            collection_id,
            status,
            more_available: false,
        }
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(a::Collection)?;
        s.opt_text(a::Class, self.class.as_deref())?;
        s.opt_text(a::SyncKey, self.sync_key.as_ref().map(SyncKey::as_str))?;
        s.text(a::CollectionId, self.collection_id.as_str())?;
        s.number(a::Status, self.status.0)?;
        s.marker(a::MoreAvailable, self.more_available)
    }
}

/// One `Collection` of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionResponse {
    pub header: CollectionHeader,
    pub commands: Vec<ServerCommand>,
    pub responses: Vec<ItemResponse>,
}

impl CollectionResponse {
    fn from_element(el: &Element<'_>) -> Result<CollectionResponse, CommandError> {
        Ok(CollectionResponse {
            header: CollectionHeader {
                class: opt(el, a::Class, class)?,
                sync_key: opt(el, a::SyncKey, SyncKey::from_element)?,
                collection_id: req(el, a::CollectionId, CollectionId::from_element)?,
                status: req(el, a::Status, status)?,
                more_available: super::child(el, a::MoreAvailable)?.is_some(),
            },
            commands: list(el, a::Commands, ServerCommand::from_element)?,
            responses: list(el, a::Responses, ItemResponse::from_element)?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        self.header.emit(s)?;
        if !self.commands.is_empty() {
            s.start(a::Commands)?;
            for c in &self.commands {
                c.emit(s)?;
            }
            s.end()?;
        }
        if !self.responses.is_empty() {
            s.start(a::Responses)?;
            for r in &self.responses {
                r.emit(s)?;
            }
            s.end()?;
        }
        s.end()
    }
}

/// A Sync response. A failure of the whole request carries only `status`
/// (and `limit` with status 14 or 15); otherwise the collections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: Option<Status>,
    /// With status 14, the bound the `Wait` or `HeartbeatInterval`
    /// crossed; with status 15, the most collections allowed.
    pub limit: Option<u32>,
    pub collections: Vec<CollectionResponse>,
}

impl Response {
    /// A response to the whole request failing.
    pub fn failure(status: Status) -> Response {
        Response {
            status: Some(status),
            limit: None,
            collections: Vec::new(),
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, a::Sync)?;
        let collections = match super::child(el, a::Collections)? {
            Some(c) => all(c, a::Collection, CollectionResponse::from_element)?,
            None => Vec::new(),
        };
        Ok(Response {
            status: opt(el, a::Status, status)?,
            limit: opt(el, a::Limit, num("a limit"))?,
            collections,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(a::Sync, |s| {
            s.opt_number(a::Status, self.status.map(|v| v.0))?;
            s.opt_number(a::Limit, self.limit)?;
            if !self.collections.is_empty() {
                s.start(a::Collections)?;
                for c in &self.collections {
                    c.emit(s)?;
                }
                s.end()?;
            }
            Ok(())
        })
    }
}

/// Why a streamed response could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A call out of the response's order, such as an item outside a
    /// collection, or an item closure that closed more than it opened.
    /// Always a bug in the caller.
    #[error("{call} is out of order here ({state})")]
    OutOfOrder {
        call: &'static str,
        state: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `<Sync>` open, nothing in it yet.
    Started,
    /// Between collections.
    Collections,
    /// A collection's header written.
    Header,
    Commands,
    Responses,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Started => "before the first collection",
            State::Collections => "between collections",
            State::Header => "after a collection's header",
            State::Commands => "in Commands",
            State::Responses => "in Responses",
        }
    }
}

/// Writes a Sync response through a [`Writer`] as it is produced:
///
/// ```text
/// let mut w = SyncResponseWriter::new(out)?;
/// w.begin_collection(&header)?;          // Class, SyncKey, CollectionId, Status, MoreAvailable
/// w.add(&server_id, |w| email.write_children(w))?;
/// w.delete(&other_id)?;
/// w.response(&ItemResponse::Add { .. })?;  // after the commands
/// w.end_collection()?;
/// let out = w.finish()?;
/// ```
///
/// The output is what [`Response::to_element`] encodes for the same
/// content. Calls out of that order are refused with
/// [`WriteError::OutOfOrder`]. A failure of the whole request (a top-level
/// `Status`, with `Limit`) is small: build it with [`Response::failure`].
#[derive(Debug)]
pub struct SyncResponseWriter<W: Write> {
    w: Writer<W>,
    state: State,
    commands: usize,
}

impl<W: Write> SyncResponseWriter<W> {
    /// Writes the WBXML header and opens `Sync`.
    pub fn new(out: W) -> Result<Self, WriteError> {
        let mut w = Writer::new(out)?;
        w.start(a::Sync)?;
        Ok(SyncResponseWriter {
            w,
            state: State::Started,
            commands: 0,
        })
    }

    fn out_of_order(&self, call: &'static str) -> WriteError {
        WriteError::OutOfOrder {
            call,
            state: self.state.name(),
        }
    }

    /// Opens a collection and writes everything that precedes its items.
    pub fn begin_collection(&mut self, header: &CollectionHeader) -> Result<(), WriteError> {
        match self.state {
            State::Started => self.w.start(a::Collections)?,
            State::Collections => {}
            _ => return Err(self.out_of_order("begin_collection")),
        }
        header.emit(&mut self.w)?;
        self.state = State::Header;
        self.commands = 0;
        Ok(())
    }

    /// The server changes written in the current collection so far.
    pub fn commands_written(&self) -> usize {
        self.commands
    }

    fn enter_commands(&mut self, call: &'static str) -> Result<(), WriteError> {
        match self.state {
            State::Header => {
                self.w.start(a::Commands)?;
                self.state = State::Commands;
            }
            State::Commands => {}
            _ => return Err(self.out_of_order(call)),
        }
        self.commands += 1;
        Ok(())
    }

    fn item<F>(
        &mut self,
        call: &'static str,
        tag: Tag,
        class: Option<&str>,
        server_id: &ServerId,
        data: F,
    ) -> Result<(), WriteError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.enter_commands(call)?;
        emit_command_head(&mut self.w, tag, class, server_id)?;
        self.w.start(a::ApplicationData)?;
        let depth = self.w.depth();
        data(&mut self.w)?;
        if self.w.depth() != depth {
            return Err(WriteError::OutOfOrder {
                call,
                state: "the closure left elements open or closed too many",
            });
        }
        self.w.end()?;
        self.w.end()?;
        Ok(())
    }

    /// `Commands/Add`: `data` writes the children of `ApplicationData`.
    pub fn add<F>(&mut self, server_id: &ServerId, data: F) -> Result<(), WriteError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.item("add", a::Add, None, server_id, data)
    }

    /// `Commands/Add` of an item whose class is not the folder's.
    pub fn add_of_class<F>(
        &mut self,
        class: &str,
        server_id: &ServerId,
        data: F,
    ) -> Result<(), WriteError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.item("add", a::Add, Some(class), server_id, data)
    }

    /// `Commands/Change`: `data` writes the children of `ApplicationData`.
    pub fn change<F>(&mut self, server_id: &ServerId, data: F) -> Result<(), WriteError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.item("change", a::Change, None, server_id, data)
    }

    /// `Commands/Change` of an item whose class is not the folder's.
    pub fn change_of_class<F>(
        &mut self,
        class: &str,
        server_id: &ServerId,
        data: F,
    ) -> Result<(), WriteError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.item("change", a::Change, Some(class), server_id, data)
    }

    /// `Commands/Delete`.
    pub fn delete(&mut self, server_id: &ServerId) -> Result<(), WriteError> {
        self.command(&ServerCommand::Delete {
            class: None,
            server_id: server_id.clone(),
        })
    }

    /// `Commands/SoftDelete`.
    pub fn soft_delete(&mut self, server_id: &ServerId) -> Result<(), WriteError> {
        self.command(&ServerCommand::SoftDelete {
            server_id: server_id.clone(),
        })
    }

    /// Any server command, its application data already built.
    pub fn command(&mut self, command: &ServerCommand) -> Result<(), WriteError> {
        self.enter_commands("command")?;
        command.emit(&mut self.w)?;
        Ok(())
    }

    /// One entry of `Responses`, after the collection's commands.
    pub fn response(&mut self, response: &ItemResponse) -> Result<(), WriteError> {
        match self.state {
            State::Header => {}
            State::Commands => self.w.end()?,
            State::Responses => {
                response.emit(&mut self.w)?;
                return Ok(());
            }
            _ => return Err(self.out_of_order("response")),
        }
        self.w.start(a::Responses)?;
        self.state = State::Responses;
        response.emit(&mut self.w)?;
        Ok(())
    }

    /// Closes the current collection.
    pub fn end_collection(&mut self) -> Result<(), WriteError> {
        match self.state {
            State::Header => {}
            State::Commands | State::Responses => self.w.end()?,
            _ => return Err(self.out_of_order("end_collection")),
        }
        self.w.end()?;
        self.state = State::Collections;
        Ok(())
    }

    /// A whole collection built beforehand, such as a failed one.
    pub fn collection(&mut self, collection: &CollectionResponse) -> Result<(), WriteError> {
        self.begin_collection(&collection.header)?;
        for c in &collection.commands {
            self.command(c)?;
        }
        for r in &collection.responses {
            self.response(r)?;
        }
        self.end_collection()
    }

    /// Closes the document and hands back the output.
    pub fn finish(mut self) -> Result<W, WriteError> {
        match self.state {
            State::Started => {}
            State::Collections => self.w.end()?,
            _ => return Err(self.out_of_order("finish")),
        }
        self.w.end()?;
        Ok(self.w.finish()?)
    }
}

#[cfg(test)]
mod tests;
