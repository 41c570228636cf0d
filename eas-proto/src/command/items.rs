//! The item commands around Sync: GetItemEstimate (MS-ASCMD 2.2.1.9), how
//! many changes a Sync would bring; MoveItems (2.2.1.12), items to another
//! folder; ItemOperations (2.2.1.10), fetching items, attachments and
//! documents, emptying folders and moving conversations, with its
//! multipart response form (2.2.1.10.1).

use super::airsyncbase::BodyPreference;
use super::fields::{Sink, Tree, all, bytes, date, flag, keep, num, opt, req, string};
use super::ids::{CollectionId, ServerId, SyncKey};
use super::sync::{FilterType, MimeSupport, Options};
use super::{CommandError, DateTime, Secret, expect_root, text};
use crate::codepages::{
    airsync as a, airsyncbase as b, documentlibrary as dl, getitemestimate as g,
    itemoperations as io, moveitems as m, rightsmanagement as rm, search,
};
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError};

fn collection_id(el: &Element<'_>) -> Result<CollectionId, CommandError> {
    CollectionId::from_element(el)
}

fn server_id(el: &Element<'_>) -> Result<ServerId, CommandError> {
    ServerId::from_element(el)
}

// ---------------------------------------------------------------------------
// GetItemEstimate

number_enum! {
    /// `Status` of a GetItemEstimate response (MS-ASCMD 2.2.3.177.7), at the
    /// top level for the whole request or per `Response`.
    pub struct GetItemEstimateStatus(u8) {
        SUCCESS = 1,
        /// A collection id is invalid or unknown.
        INVALID_COLLECTION = 2,
        /// The collection has not been synchronized yet (its key is 0).
        SYNC_STATE_NOT_PRIMED = 3,
        INVALID_SYNC_KEY = 4,
    }
}

/// The most collections one GetItemEstimate request may name (MS-ASCMD
/// Collection (GetItemEstimate)).
pub const MAX_ESTIMATE_COLLECTIONS: usize = 300;

/// One collection to estimate.
///
/// 14.0 and later put the filter in `airsync:Options` (possibly one per
/// class); 12.x instead puts `getitemestimate:Class` and `airsync:FilterType`
/// directly in `Collection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimateCollection {
    /// 12.x only.
    pub class: Option<String>,
    pub sync_key: SyncKey,
    pub collection_id: CollectionId,
    /// 12.x only.
    pub filter_type: Option<FilterType>,
    pub conversation_mode: Option<bool>,
    pub options: Vec<Options>,
}

impl EstimateCollection {
    pub fn new(sync_key: SyncKey, collection_id: CollectionId) -> EstimateCollection {
        EstimateCollection {
            class: None,
            sync_key,
            collection_id,
            filter_type: None,
            conversation_mode: None,
            options: Vec::new(),
        }
    }

    fn from_element(el: &Element<'_>) -> Result<EstimateCollection, CommandError> {
        Ok(EstimateCollection {
            class: opt(el, g::Class, string)?,
            sync_key: req(el, a::SyncKey, SyncKey::from_element)?,
            collection_id: req(el, g::CollectionId, collection_id)?,
            filter_type: opt(el, a::FilterType, num("a filter type"))?,
            conversation_mode: opt(el, a::ConversationMode, flag)?,
            options: all(el, a::Options, Options::from_element)?,
        })
    }

    /// In the order MS-ASCMD lists the children: Class, SyncKey,
    /// CollectionId, FilterType, ConversationMode, Options.
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(g::Collection)?;
        s.opt_text(g::Class, self.class.as_deref())?;
        s.text(a::SyncKey, self.sync_key.as_str())?;
        s.text(g::CollectionId, self.collection_id.as_str())?;
        s.opt_number(a::FilterType, self.filter_type.map(|v| v.0))?;
        s.opt_bool(a::ConversationMode, self.conversation_mode)?;
        for o in &self.options {
            o.emit(s)?;
        }
        s.end()
    }
}

/// A GetItemEstimate request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetItemEstimateRequest {
    pub collections: Vec<EstimateCollection>,
}

impl GetItemEstimateRequest {
    pub fn from_element(el: &Element<'_>) -> Result<GetItemEstimateRequest, CommandError> {
        expect_root(el, g::GetItemEstimate)?;
        let collections = req(el, g::Collections, |c| {
            all(c, g::Collection, EstimateCollection::from_element)
        })?;
        Ok(GetItemEstimateRequest { collections })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(g::GetItemEstimate, |s| {
            s.start(g::Collections)?;
            for c in &self.collections {
                c.emit(s)?;
            }
            s.end()
        })
    }
}

/// The estimate for one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// 12.x only.
    pub class: Option<String>,
    pub collection_id: CollectionId,
    /// The number of changes a Sync would bring; absent on failure.
    pub estimate: Option<u32>,
}

/// One `Response` of a GetItemEstimate response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimateResponse {
    pub status: GetItemEstimateStatus,
    pub collection: Option<Estimate>,
}

impl EstimateResponse {
    fn from_element(el: &Element<'_>) -> Result<EstimateResponse, CommandError> {
        Ok(EstimateResponse {
            status: req(el, g::Status, num("a GetItemEstimate status"))?,
            collection: opt(el, g::Collection, |c| {
                Ok(Estimate {
                    class: opt(c, g::Class, string)?,
                    collection_id: req(c, g::CollectionId, collection_id)?,
                    estimate: opt(c, g::Estimate, num("a number of items"))?,
                })
            })?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(g::Response)?;
        s.number(g::Status, self.status.0)?;
        if let Some(c) = &self.collection {
            s.start(g::Collection)?;
            s.opt_text(g::Class, c.class.as_deref())?;
            s.text(g::CollectionId, c.collection_id.as_str())?;
            s.opt_number(g::Estimate, c.estimate)?;
            s.end()?;
        }
        s.end()
    }
}

/// A GetItemEstimate response: a global `status` when the whole request
/// failed, otherwise one `Response` per collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetItemEstimateResponse {
    pub status: Option<GetItemEstimateStatus>,
    pub responses: Vec<EstimateResponse>,
}

impl GetItemEstimateResponse {
    pub fn from_element(el: &Element<'_>) -> Result<GetItemEstimateResponse, CommandError> {
        expect_root(el, g::GetItemEstimate)?;
        Ok(GetItemEstimateResponse {
            status: opt(el, g::Status, num("a GetItemEstimate status"))?,
            responses: all(el, g::Response, EstimateResponse::from_element)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(g::GetItemEstimate, |s| {
            s.opt_number(g::Status, self.status.map(|v| v.0))?;
            for r in &self.responses {
                r.emit(s)?;
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// MoveItems

number_enum! {
    /// `Status` of a MoveItems response (MS-ASCMD 2.2.3.177.10). The spec
    /// defines no 6; note that success is 3.
    pub struct MoveItemsStatus(u8) {
        /// The source folder or item is invalid.
        INVALID_SOURCE = 1,
        INVALID_DESTINATION = 2,
        SUCCESS = 3,
        SAME_SOURCE_AND_DESTINATION = 4,
        /// More than one destination, or the source or destination item
        /// was locked.
        CANNOT_MOVE = 5,
        /// The source or destination item was locked.
        LOCKED = 7,
    }
}

/// One item to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub src_msg_id: ServerId,
    pub src_fld_id: CollectionId,
    pub dst_fld_id: CollectionId,
}

/// A MoveItems request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveItemsRequest {
    pub moves: Vec<Move>,
}

impl MoveItemsRequest {
    pub fn from_element(el: &Element<'_>) -> Result<MoveItemsRequest, CommandError> {
        expect_root(el, m::MoveItems)?;
        let moves = all(el, m::Move, |mv| {
            Ok(Move {
                src_msg_id: req(mv, m::SrcMsgId, server_id)?,
                src_fld_id: req(mv, m::SrcFldId, collection_id)?,
                dst_fld_id: req(mv, m::DstFldId, collection_id)?,
            })
        })?;
        Ok(MoveItemsRequest { moves })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(m::MoveItems, |s| {
            for mv in &self.moves {
                s.start(m::Move)?;
                s.text(m::SrcMsgId, mv.src_msg_id.as_str())?;
                s.text(m::SrcFldId, mv.src_fld_id.as_str())?;
                s.text(m::DstFldId, mv.dst_fld_id.as_str())?;
                s.end()?;
            }
            Ok(())
        })
    }
}

/// The outcome of one move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveResponse {
    pub src_msg_id: ServerId,
    pub status: MoveItemsStatus,
    /// The item's id in its new folder.
    pub dst_msg_id: Option<ServerId>,
}

/// A MoveItems response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveItemsResponse {
    /// For a failure of the whole request only (MoveItemsResponse.xsd).
    pub status: Option<MoveItemsStatus>,
    pub responses: Vec<MoveResponse>,
}

impl MoveItemsResponse {
    pub fn from_element(el: &Element<'_>) -> Result<MoveItemsResponse, CommandError> {
        expect_root(el, m::MoveItems)?;
        Ok(MoveItemsResponse {
            status: opt(el, m::Status, num("a MoveItems status"))?,
            responses: all(el, m::Response, |r| {
                Ok(MoveResponse {
                    src_msg_id: req(r, m::SrcMsgId, server_id)?,
                    status: req(r, m::Status, num("a MoveItems status"))?,
                    dst_msg_id: opt(r, m::DstMsgId, server_id)?,
                })
            })?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(m::MoveItems, |s| {
            s.opt_number(m::Status, self.status.map(|v| v.0))?;
            for r in &self.responses {
                s.start(m::Response)?;
                s.text(m::SrcMsgId, r.src_msg_id.as_str())?;
                s.number(m::Status, r.status.0)?;
                s.opt_text(m::DstMsgId, r.dst_msg_id.as_ref().map(ServerId::as_str))?;
                s.end()?;
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// ItemOperations

number_enum! {
    /// `Status` of an ItemOperations response (MS-ASCMD 2.2.3.177.8), at the
    /// top level and per operation.
    pub struct ItemOperationsStatus(u8) {
        SUCCESS = 1,
        /// Protocol violation or XML validation error.
        PROTOCOL_ERROR = 2,
        SERVER_ERROR = 3,
        /// Document library: the URI is bad.
        BAD_URI = 4,
        /// Document library: access denied.
        DOCUMENT_ACCESS_DENIED = 5,
        /// The object was not found, or access to it was denied.
        NOT_FOUND = 6,
        /// Document library: could not connect to the server.
        CONNECTION_FAILED = 7,
        /// The byte range is invalid or too large.
        INVALID_RANGE = 8,
        /// The store is unknown or not supported.
        UNKNOWN_STORE = 9,
        FILE_EMPTY = 10,
        /// The requested data is too large.
        TOO_LARGE = 11,
        /// Input/output failure while downloading.
        IO_FAILURE = 12,
        /// The item failed conversion.
        CONVERSION_FAILED = 14,
        /// The attachment or attachment id is invalid.
        INVALID_ATTACHMENT = 15,
        /// Access to the resource is denied.
        ACCESS_DENIED = 16,
        /// A Fetch, Move or EmptyFolderContents completed partially.
        PARTIAL_SUCCESS = 17,
        CREDENTIALS_REQUIRED = 18,
        /// A Move without `Options/MoveAlways`.
        MOVE_OPTIONS_MISSING = 155,
        ACTION_NOT_SUPPORTED = 156,
    }
}

/// The stores a Fetch may name (MS-ASCMD Store (ItemOperations)).
pub const STORE_MAILBOX: &str = "Mailbox";
/// Windows SharePoint Services and UNC documents.
pub const STORE_DOCUMENT_LIBRARY: &str = "DocumentLibrary";

/// A byte range `start-end`, both inclusive (MS-ASCMD Range
/// (ItemOperations): up to nine digits each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    pub start: u32,
    pub end: u32,
}

impl ByteRange {
    pub fn parse(text: &str) -> Option<ByteRange> {
        let (start, end) = text.split_once('-')?;
        let digits = |s: &str| (1..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(start) || !digits(end) {
            return None;
        }
        Some(ByteRange {
            start: start.parse().ok()?,
            end: end.parse().ok()?,
        })
    }

    fn from_element(el: &Element<'_>) -> Result<ByteRange, CommandError> {
        let t = text(el)?;
        ByteRange::parse(t).ok_or_else(|| CommandError::invalid(el.tag, t, "a range like 0-999"))
    }

    fn as_text(self) -> String {
        format!("{}-{}", self.start, self.end)
    }
}

/// `Options` of a Fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// `Schema`: which properties to fetch, kept whole (its children name
    /// properties of several classes).
    pub schema: Option<Element<'static>>,
    pub range: Option<ByteRange>,
    /// Credentials for a document library.
    pub user_name: Option<String>,
    pub password: Option<Secret>,
    pub mime_support: Option<MimeSupport>,
    pub body_preferences: Vec<BodyPreference>,
    pub body_part_preferences: Vec<BodyPreference>,
    pub rights_management_support: Option<bool>,
}

impl FetchOptions {
    fn from_element(el: &Element<'_>) -> Result<FetchOptions, CommandError> {
        Ok(FetchOptions {
            schema: opt(el, io::Schema, keep)?,
            range: opt(el, io::Range, ByteRange::from_element)?,
            user_name: opt(el, io::UserName, string)?,
            password: opt(el, io::Password, |p| Ok(Secret::new(text(p)?)))?,
            mime_support: opt(el, a::MIMESupport, num("0, 1 or 2"))?,
            body_preferences: all(el, b::BodyPreference, BodyPreference::from_element)?,
            body_part_preferences: all(el, b::BodyPartPreference, BodyPreference::from_element)?,
            rights_management_support: opt(el, rm::RightsManagementSupport, flag)?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(io::Options)?;
        if let Some(schema) = &self.schema {
            s.element(schema)?;
        }
        s.opt_text(io::Range, self.range.map(ByteRange::as_text).as_deref())?;
        s.opt_text(io::UserName, self.user_name.as_deref())?;
        s.opt_text(io::Password, self.password.as_ref().map(Secret::expose))?;
        s.opt_number(a::MIMESupport, self.mime_support.map(|v| v.0))?;
        for p in &self.body_preferences {
            p.emit(s, b::BodyPreference)?;
        }
        for p in &self.body_part_preferences {
            p.emit(s, b::BodyPartPreference)?;
        }
        s.opt_bool(rm::RightsManagementSupport, self.rights_management_support)?;
        s.end()
    }
}

/// A `Fetch`: an item (`collection_id` + `server_id`), a search result
/// (`long_id`), an attachment (`file_reference`) or a document (`link_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// [`STORE_MAILBOX`] or [`STORE_DOCUMENT_LIBRARY`].
    pub store: String,
    pub collection_id: Option<CollectionId>,
    pub server_id: Option<ServerId>,
    /// `search:LongId`, up to 256 characters.
    pub long_id: Option<String>,
    /// `documentlibrary:LinkId`, a URI or UNC path.
    pub link_id: Option<String>,
    /// `airsyncbase:FileReference`.
    pub file_reference: Option<String>,
    pub options: Option<FetchOptions>,
    /// `rm:RemoveRightsManagementProtection` (14.1).
    pub remove_rights_management_protection: bool,
}

impl Fetch {
    /// A fetch of nothing yet, from `store`.
    pub fn new(store: impl Into<String>) -> Fetch {
        Fetch {
            store: store.into(),
            collection_id: None,
            server_id: None,
            long_id: None,
            link_id: None,
            file_reference: None,
            options: None,
            remove_rights_management_protection: false,
        }
    }

    fn from_element(el: &Element<'_>) -> Result<Fetch, CommandError> {
        Ok(Fetch {
            store: req(el, io::Store, string)?,
            collection_id: opt(el, a::CollectionId, collection_id)?,
            server_id: opt(el, a::ServerId, server_id)?,
            long_id: opt(el, search::LongId, string)?,
            link_id: opt(el, dl::LinkId, string)?,
            file_reference: opt(el, b::FileReference, string)?,
            options: opt(el, io::Options, FetchOptions::from_element)?,
            remove_rights_management_protection: super::child(
                el,
                rm::RemoveRightsManagementProtection,
            )?
            .is_some(),
        })
    }

    /// Store first, then the ids (CollectionId before ServerId, as the
    /// MS-ASTASK and MS-ASCMD examples write them), then Options.
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(io::Fetch)?;
        s.text(io::Store, &self.store)?;
        s.opt_text(
            a::CollectionId,
            self.collection_id.as_ref().map(CollectionId::as_str),
        )?;
        s.opt_text(a::ServerId, self.server_id.as_ref().map(ServerId::as_str))?;
        s.opt_text(search::LongId, self.long_id.as_deref())?;
        s.opt_text(dl::LinkId, self.link_id.as_deref())?;
        s.opt_text(b::FileReference, self.file_reference.as_deref())?;
        if let Some(o) = &self.options {
            o.emit(s)?;
        }
        s.marker(
            rm::RemoveRightsManagementProtection,
            self.remove_rights_management_protection,
        )?;
        s.end()
    }
}

/// One operation of an ItemOperations request, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Fetch(Box<Fetch>),
    /// Deletes every item of a folder, and its subfolders when asked.
    EmptyFolderContents {
        collection_id: CollectionId,
        /// `Options/DeleteSubFolders`.
        delete_sub_folders: bool,
    },
    /// Moves a conversation (14.0).
    Move {
        /// `ConversationId`, a byte array sent opaque.
        conversation_id: Vec<u8>,
        dst_fld_id: CollectionId,
        /// `Options/MoveAlways`: future messages of the conversation too.
        move_always: bool,
    },
}

impl Operation {
    fn from_element(el: &Element<'_>) -> Result<Option<Operation>, CommandError> {
        let options_has = |tag| -> Result<bool, CommandError> {
            Ok(match super::child(el, io::Options)? {
                Some(o) => super::child(o, tag)?.is_some(),
                None => false,
            })
        };
        Ok(Some(match el.tag {
            io::Fetch => Operation::Fetch(Box::new(Fetch::from_element(el)?)),
            io::EmptyFolderContents => Operation::EmptyFolderContents {
                collection_id: req(el, a::CollectionId, collection_id)?,
                delete_sub_folders: options_has(io::DeleteSubFolders)?,
            },
            io::Move => Operation::Move {
                conversation_id: req(el, io::ConversationId, bytes)?,
                dst_fld_id: req(el, io::DstFldId, collection_id)?,
                move_always: options_has(io::MoveAlways)?,
            },
            _ => return Ok(None),
        }))
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        match self {
            Operation::Fetch(f) => f.emit(s),
            Operation::EmptyFolderContents {
                collection_id,
                delete_sub_folders,
            } => {
                s.start(io::EmptyFolderContents)?;
                s.text(a::CollectionId, collection_id.as_str())?;
                if *delete_sub_folders {
                    s.start(io::Options)?;
                    s.empty(io::DeleteSubFolders)?;
                    s.end()?;
                }
                s.end()
            }
            Operation::Move {
                conversation_id,
                dst_fld_id,
                move_always,
            } => {
                s.start(io::Move)?;
                s.opaque(io::ConversationId, conversation_id)?;
                s.text(io::DstFldId, dst_fld_id.as_str())?;
                if *move_always {
                    s.start(io::Options)?;
                    s.empty(io::MoveAlways)?;
                    s.end()?;
                }
                s.end()
            }
        }
    }
}

/// An ItemOperations request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemOperationsRequest {
    pub operations: Vec<Operation>,
}

impl ItemOperationsRequest {
    pub fn from_element(el: &Element<'_>) -> Result<ItemOperationsRequest, CommandError> {
        expect_root(el, io::ItemOperations)?;
        let operations = el
            .elements()
            .map(Operation::from_element)
            .filter_map(Result::transpose)
            .collect::<Result<_, _>>()?;
        Ok(ItemOperationsRequest { operations })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(io::ItemOperations, |s| {
            for op in &self.operations {
                op.emit(s)?;
            }
            Ok(())
        })
    }
}

/// The `Properties` of a fetched attachment or document: the data itself
/// inline (`data`, base64) or, in a multipart response, the index of the
/// part that holds it (`part`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileProperties {
    /// `airsyncbase:ContentType` of an attachment.
    pub content_type: Option<String>,
    /// The bytes sent, when the request asked for a range.
    pub range: Option<ByteRange>,
    /// The whole size in bytes, when the request asked for a range.
    pub total: Option<u64>,
    /// The content, base64-encoded.
    pub data: Option<String>,
    /// Multipart only: the index of the part with the content (MS-ASCMD
    /// Part); part 0 is the WBXML itself.
    pub part: Option<u32>,
    /// A document's last modification time.
    pub version: Option<DateTime>,
}

impl FileProperties {
    /// Reads the children of a `Properties` element.
    pub fn from_element(el: &Element<'_>) -> Result<FileProperties, CommandError> {
        Ok(FileProperties {
            content_type: opt(el, b::ContentType, string)?,
            range: opt(el, io::Range, ByteRange::from_element)?,
            total: opt(el, io::Total, num("a size in bytes"))?,
            data: opt(el, io::Data, string)?,
            part: opt(el, io::Part, num("a part number"))?,
            version: opt(el, io::Version, date)?,
        })
    }

    /// A `Properties` element. The order is that of the MS-ASDOC and
    /// MS-ASCMD examples: ContentType, Range, Total, Data or Part, Version.
    pub fn to_element(&self) -> Element<'static> {
        Tree::build(io::Properties, |s| {
            s.opt_text(b::ContentType, self.content_type.as_deref())?;
            s.opt_text(io::Range, self.range.map(ByteRange::as_text).as_deref())?;
            s.opt_number(io::Total, self.total)?;
            s.opt_text(io::Data, self.data.as_deref())?;
            s.opt_number(io::Part, self.part)?;
            s.opt_date(io::Version, self.version.as_ref())
        })
    }
}

/// The outcome of one Fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    pub status: ItemOperationsStatus,
    pub collection_id: Option<CollectionId>,
    pub server_id: Option<ServerId>,
    pub long_id: Option<String>,
    pub class: Option<String>,
    pub link_id: Option<String>,
    pub file_reference: Option<String>,
    /// The `Properties` element: an item's class-specific elements (build
    /// it with [`super::email::Email::to_element_as`]) or a file's
    /// [`FileProperties`].
    pub properties: Option<Element<'static>>,
}

impl FetchResponse {
    /// A response with only its status.
    pub fn new(status: ItemOperationsStatus) -> FetchResponse {
        FetchResponse {
            status,
            collection_id: None,
            server_id: None,
            long_id: None,
            class: None,
            link_id: None,
            file_reference: None,
            properties: None,
        }
    }

    fn from_element(el: &Element<'_>) -> Result<FetchResponse, CommandError> {
        Ok(FetchResponse {
            status: req(el, io::Status, status)?,
            collection_id: opt(el, a::CollectionId, collection_id)?,
            server_id: opt(el, a::ServerId, server_id)?,
            long_id: opt(el, search::LongId, string)?,
            class: opt(el, a::Class, string)?,
            link_id: opt(el, dl::LinkId, string)?,
            file_reference: opt(el, b::FileReference, string)?,
            properties: opt(el, io::Properties, keep)?,
        })
    }

    /// In the order of ItemOperationsResponse.xsd.
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(io::Fetch)?;
        s.number(io::Status, self.status.0)?;
        s.opt_text(
            a::CollectionId,
            self.collection_id.as_ref().map(CollectionId::as_str),
        )?;
        s.opt_text(a::ServerId, self.server_id.as_ref().map(ServerId::as_str))?;
        s.opt_text(search::LongId, self.long_id.as_deref())?;
        s.opt_text(a::Class, self.class.as_deref())?;
        s.opt_text(dl::LinkId, self.link_id.as_deref())?;
        s.opt_text(b::FileReference, self.file_reference.as_deref())?;
        if let Some(p) = &self.properties {
            s.element(p)?;
        }
        s.end()
    }
}

/// The outcome of one operation, in the order of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationResponse {
    Fetch(FetchResponse),
    EmptyFolderContents {
        status: ItemOperationsStatus,
        collection_id: CollectionId,
    },
    Move {
        status: ItemOperationsStatus,
        conversation_id: Vec<u8>,
    },
}

fn status(el: &Element<'_>) -> Result<ItemOperationsStatus, CommandError> {
    super::number(el, "an ItemOperations status")
}

impl OperationResponse {
    fn from_element(el: &Element<'_>) -> Result<Option<OperationResponse>, CommandError> {
        Ok(Some(match el.tag {
            io::Fetch => OperationResponse::Fetch(FetchResponse::from_element(el)?),
            io::EmptyFolderContents => OperationResponse::EmptyFolderContents {
                status: req(el, io::Status, status)?,
                collection_id: req(el, a::CollectionId, collection_id)?,
            },
            io::Move => OperationResponse::Move {
                status: req(el, io::Status, status)?,
                conversation_id: req(el, io::ConversationId, bytes)?,
            },
            _ => return Ok(None),
        }))
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        match self {
            OperationResponse::Fetch(f) => f.emit(s),
            OperationResponse::EmptyFolderContents {
                status,
                collection_id,
            } => {
                s.start(io::EmptyFolderContents)?;
                s.number(io::Status, status.0)?;
                s.text(a::CollectionId, collection_id.as_str())?;
                s.end()
            }
            OperationResponse::Move {
                status,
                conversation_id,
            } => {
                s.start(io::Move)?;
                s.number(io::Status, status.0)?;
                s.opaque(io::ConversationId, conversation_id)?;
                s.end()
            }
        }
    }
}

/// An ItemOperations response: the global status, then the answers to the
/// operations inside `Response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOperationsResponse {
    pub status: ItemOperationsStatus,
    pub responses: Vec<OperationResponse>,
}

impl ItemOperationsResponse {
    pub fn from_element(el: &Element<'_>) -> Result<ItemOperationsResponse, CommandError> {
        expect_root(el, io::ItemOperations)?;
        let responses = match super::child(el, io::Response)? {
            Some(r) => r
                .elements()
                .map(OperationResponse::from_element)
                .filter_map(Result::transpose)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(ItemOperationsResponse {
            status: req(el, io::Status, status)?,
            responses,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(io::ItemOperations, |s| {
            s.number(io::Status, self.status.0)?;
            if !self.responses.is_empty() {
                s.start(io::Response)?;
                for r in &self.responses {
                    r.emit(s)?;
                }
                s.end()?;
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// The multipart response (MS-ASCMD 2.2.1.10.1)

/// The `Content-Type` of a multipart ItemOperations response, sent when
/// the request carried `MS-ASAcceptMultiPart: T`.
pub const MULTIPART_CONTENT_TYPE: &str = "application/vnd.ms-sync.multipart";

/// Why a multipart body could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    #[error("a multipart body of {0} bytes is shorter than its part count")]
    Truncated(usize),
    #[error("the multipart body declares {count} parts, more than its {len} bytes can describe")]
    TooManyParts { count: u32, len: usize },
    #[error(
        "part {index} (offset {offset}, length {length}) runs past the {len} bytes of the body"
    )]
    PartOutOfBounds {
        index: usize,
        offset: u32,
        length: u32,
        len: usize,
    },
    #[error("a multipart body has no parts, not even the WBXML one")]
    NoParts,
    #[error("{0} bytes are more than a multipart body can address")]
    TooLarge(usize),
}

const COUNT_LEN: usize = 4;
const META_LEN: usize = 8;

/// The head of a multipart body whose parts have these lengths: the part
/// count and each part's offset and length, 32-bit little-endian integers
/// (MultiPartResponse and PartMetaData, 2.2.1.10.1.1). The parts follow it
/// back to back in the same order, so a server can write this head and
/// then stream each part. Part 0 is the WBXML document.
pub fn multipart_head(part_lengths: &[usize]) -> Result<Vec<u8>, MultipartError> {
    let too_large = |n: usize| MultipartError::TooLarge(n);
    if part_lengths.is_empty() {
        return Err(MultipartError::NoParts);
    }
    let count = part_lengths.len();
    let head_len = count
        .checked_mul(META_LEN)
        .and_then(|n| n.checked_add(COUNT_LEN))
        .ok_or(too_large(count))?;
    let mut head = Vec::with_capacity(head_len);
    head.extend_from_slice(
        &u32::try_from(count)
            .map_err(|_| too_large(count))?
            .to_le_bytes(),
    );
    let mut offset = head_len;
    for &len in part_lengths {
        let o = u32::try_from(offset).map_err(|_| too_large(offset))?;
        let l = u32::try_from(len).map_err(|_| too_large(len))?;
        head.extend_from_slice(&o.to_le_bytes());
        head.extend_from_slice(&l.to_le_bytes());
        offset = offset.checked_add(len).ok_or(too_large(offset))?;
    }
    // The last part must end within what a 32-bit offset can address.
    u32::try_from(offset).map_err(|_| too_large(offset))?;
    Ok(head)
}

/// A whole multipart body: the head, then the parts. `parts[0]` is the
/// WBXML document.
pub fn encode_multipart(parts: &[&[u8]]) -> Result<Vec<u8>, MultipartError> {
    let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    let mut body = multipart_head(&lengths)?;
    body.reserve(lengths.iter().sum());
    for p in parts {
        body.extend_from_slice(p);
    }
    Ok(body)
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// The parts of a multipart body, borrowed from it; the first is the
/// WBXML document. Parts may be in any order and may overlap, as the
/// format allows; each must lie within the body.
pub fn decode_multipart(body: &[u8]) -> Result<Vec<&[u8]>, MultipartError> {
    let len = body.len();
    let count = le_u32(body, 0).ok_or(MultipartError::Truncated(len))?;
    if count == 0 {
        return Err(MultipartError::NoParts);
    }
    let available = (len - COUNT_LEN) / META_LEN;
    let n = usize::try_from(count).map_err(|_| MultipartError::TooManyParts { count, len })?;
    if n > available {
        return Err(MultipartError::TooManyParts { count, len });
    }
    (0..n)
        .map(|index| {
            let at = COUNT_LEN + index * META_LEN;
            let offset = le_u32(body, at).ok_or(MultipartError::Truncated(len))?;
            let length = le_u32(body, at + 4).ok_or(MultipartError::Truncated(len))?;
            let out_of_bounds = MultipartError::PartOutOfBounds {
                index,
                offset,
                length,
                len,
            };
            let start = usize::try_from(offset).map_err(|_| out_of_bounds.clone())?;
            let size = usize::try_from(length).map_err(|_| out_of_bounds.clone())?;
            let end = start.checked_add(size).ok_or(out_of_bounds.clone())?;
            body.get(start..end).ok_or(out_of_bounds)
        })
        .collect()
}

#[cfg(test)]
mod tests;
