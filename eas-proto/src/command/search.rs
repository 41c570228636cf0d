//! Search (MS-ASCMD 2.2.1.16): finding entries in the mailbox, the Global
//! Address List or a document library. The client names one store, a
//! query and options; the server answers with the matching entries of the
//! range asked for and the total.
//!
//! The query is kept as the client built it ([`Condition`], a tree of
//! `And`, `Or` and leaves): the spec gives statuses to shapes ("FreeText
//! outside And is Status 8, SearchTooComplex"; an Email property in the
//! query is Status 2), so judging the shape is the server's business, not
//! this reader's. An element the query does not allow is kept as
//! [`Condition::Unknown`] for the same reason.
//!
//! `Options` is an unbounded choice in Search.xsd, and Exchange accepts a
//! repeated `Range`, `DeepTraversal`, `RebuildResults` or `MIMESupport`
//! (MS-ASCMD Appendix A; the protocol test suite's S14 TC06 to TC09): the
//! options are kept in the order sent ([`SearchOptions`]) and the accessors
//! take the first of each.
//!
//! A mailbox result's `Properties` holds an item's class elements, with a
//! body chosen by `BodyPreference` that may be the raw MIME of a message;
//! [`SearchResponseWriter`] streams such results through a [`Writer`] so
//! those bytes are never re-encoded, and produces the bytes
//! [`SearchResponse::to_element`] encodes for the same content.

use std::io::Write;

use super::airsyncbase::BodyPreference;
use super::fields::{Sink, Tree, flag, keep, num, opt, req, string};
use super::ids::CollectionId;
use super::sync::MimeSupport;
use super::{CommandError, Secret, expect_root, text};
use crate::codepages::{
    airsync as a, airsyncbase as b, documentlibrary as dl, email as e, rightsmanagement as rm,
    search as s,
};
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError, Tag, Writer};

number_enum! {
    /// `Status` of a Search response (MS-ASCMD 2.2.3.177.13). At the top
    /// level only 1 and 3 are defined; the others are a `Store`'s. 173 to
    /// 175 are a `gal:Picture`'s.
    pub struct SearchStatus(u8) {
        SUCCESS = 1,
        /// One or more of the client's search parameters was invalid.
        INVALID_REQUEST = 2,
        SERVER_ERROR = 3,
        /// Document library: a bad link.
        BAD_LINK = 4,
        ACCESS_DENIED = 5,
        NOT_FOUND = 6,
        CONNECTION_FAILED = 7,
        /// The query was too complex (SearchTooComplex).
        TOO_COMPLEX = 8,
        TIMED_OUT = 10,
        /// The folder hierarchy is out of date: FolderSync, then retry.
        FOLDER_SYNC_REQUIRED = 11,
        /// The requested range has gone past the end of the range of
        /// retrievable results.
        END_OF_RANGE = 12,
        /// Access is blocked to the specified resource.
        ACCESS_BLOCKED = 13,
        CREDENTIALS_REQUIRED = 14,
        /// `gal:Picture`: the user has no contact photo.
        NO_PICTURE = 173,
        /// `gal:Picture`: the photo is larger than `MaxSize`.
        PICTURE_TOO_LARGE = 174,
        /// `gal:Picture`: more photos than `MaxPictures`.
        TOO_MANY_PICTURES = 175,
    }
}

/// The stores a Search may name (MS-ASCMD Name (Search)).
pub const STORE_MAILBOX: &str = "Mailbox";
pub const STORE_GAL: &str = "GAL";
pub const STORE_DOCUMENT_LIBRARY: &str = "DocumentLibrary";

/// The `m-n` of a result range (MS-ASCMD Range (Search) and Range (Find)):
/// zero-based indexes of the first and last entry, both inclusive, with
/// `0 <= m <= n <= 999` (Search.xsd: `[0-9]{1,3}-[0-9]{1,3}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultRange {
    pub start: u16,
    pub end: u16,
}

impl ResultRange {
    /// The largest index a range may name.
    pub const MAX_INDEX: u16 = 999;

    pub fn new(start: u16, end: u16) -> Option<ResultRange> {
        (start <= end && end <= Self::MAX_INDEX).then_some(ResultRange { start, end })
    }

    pub fn parse(text: &str) -> Option<ResultRange> {
        let (start, end) = text.split_once('-')?;
        let digits = |s: &str| (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(start) || !digits(end) {
            return None;
        }
        ResultRange::new(start.parse().ok()?, end.parse().ok()?)
    }

    /// How many entries the range spans.
    pub fn len(self) -> usize {
        usize::from(self.end - self.start) + 1
    }

    /// Never: a range holds at least one entry.
    pub fn is_empty(self) -> bool {
        false
    }

    pub fn as_text(self) -> String {
        format!("{}-{}", self.start, self.end)
    }

    pub(crate) fn from_element(el: &Element<'_>) -> Result<ResultRange, CommandError> {
        let t = text(el)?;
        ResultRange::parse(t)
            .ok_or_else(|| CommandError::invalid(el.tag, t, "a range m-n with 0 <= m <= n <= 999"))
    }
}

/// A comparison in a query: `GreaterThan` and `LessThan` name
/// `email:DateReceived`, `EqualTo` names `documentlibrary:LinkId`; the
/// value is compared with that property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The property element, sent empty before `Value`.
    pub property: Tag,
    /// `Value`, up to 1024 bytes: a date for DateReceived, a link for
    /// LinkId.
    pub value: String,
}

impl Comparison {
    fn from_element(el: &Element<'_>, expected: Tag) -> Result<Comparison, CommandError> {
        let property = el
            .elements()
            .find(|c| c.tag != s::Value)
            .map(|c| c.tag)
            .ok_or(CommandError::Missing {
                parent: el.tag,
                missing: expected,
            })?;
        Ok(Comparison {
            property,
            value: req(el, s::Value, string)?,
        })
    }

    fn emit<S: Sink>(&self, sink: &mut S, tag: Tag) -> Result<(), EncodeError> {
        sink.start(tag)?;
        sink.empty(self.property)?;
        sink.text(s::Value, &self.value)?;
        sink.end()
    }
}

/// One element of a query, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    FreeText(String),
    /// `airsync:Class`: Email, Calendar, Contacts, Tasks, Notes or SMS.
    Class(String),
    CollectionId(CollectionId),
    /// `ConversationId` (14.0), a GUID as a string.
    ConversationId(String),
    GreaterThan(Comparison),
    LessThan(Comparison),
    /// Document library only.
    EqualTo(Comparison),
    /// An element a query does not allow, such as `email:To`.
    Unknown(Tag),
}

impl Condition {
    fn from_element(el: &Element<'_>) -> Result<Condition, CommandError> {
        let children = |el: &Element<'_>| -> Result<Vec<Condition>, CommandError> {
            el.elements().map(Condition::from_element).collect()
        };
        Ok(match el.tag {
            s::And => Condition::And(children(el)?),
            s::Or => Condition::Or(children(el)?),
            s::FreeText => Condition::FreeText(string(el)?),
            a::Class => Condition::Class(string(el)?),
            a::CollectionId => Condition::CollectionId(CollectionId::from_element(el)?),
            s::ConversationId => Condition::ConversationId(string(el)?),
            s::GreaterThan => {
                Condition::GreaterThan(Comparison::from_element(el, e::DateReceived)?)
            }
            s::LessThan => Condition::LessThan(Comparison::from_element(el, e::DateReceived)?),
            s::EqualTo => Condition::EqualTo(Comparison::from_element(el, dl::LinkId)?),
            other => Condition::Unknown(other),
        })
    }

    fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), EncodeError> {
        let group = |sink: &mut S, tag: Tag, items: &[Condition]| {
            sink.start(tag)?;
            for c in items {
                c.emit(sink)?;
            }
            sink.end()
        };
        match self {
            Condition::And(items) => group(sink, s::And, items),
            Condition::Or(items) => group(sink, s::Or, items),
            Condition::FreeText(t) => sink.text(s::FreeText, t),
            Condition::Class(c) => sink.text(a::Class, c),
            Condition::CollectionId(c) => sink.text(a::CollectionId, c.as_str()),
            Condition::ConversationId(c) => sink.text(s::ConversationId, c),
            Condition::GreaterThan(c) => c.emit(sink, s::GreaterThan),
            Condition::LessThan(c) => c.emit(sink, s::LessThan),
            Condition::EqualTo(c) => c.emit(sink, s::EqualTo),
            Condition::Unknown(tag) => sink.empty(*tag),
        }
    }
}

/// The `Query` of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// GAL: the text to match, a prefix of a name or address.
    Text(String),
    /// Mailbox and document library: the conditions, in the order sent.
    Conditions(Vec<Condition>),
}

impl Query {
    fn from_element(el: &Element<'_>) -> Result<Query, CommandError> {
        if el.elements().next().is_some() {
            return Ok(Query::Conditions(
                el.elements()
                    .map(Condition::from_element)
                    .collect::<Result<_, _>>()?,
            ));
        }
        Ok(Query::Text(string(el)?))
    }

    fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), EncodeError> {
        match self {
            Query::Text(t) => sink.text(s::Query, t),
            Query::Conditions(items) => {
                sink.start(s::Query)?;
                for c in items {
                    c.emit(sink)?;
                }
                sink.end()
            }
        }
    }
}

/// `Picture` (14.1): contact photos in GAL results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Picture {
    pub max_size: Option<u32>,
    pub max_pictures: Option<u32>,
}

/// One child of a Search `Options`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchOption {
    Range(ResultRange),
    /// Search the subfolders of the folders named too.
    DeepTraversal,
    /// Rebuild the stored result set rather than page through it.
    RebuildResults,
    MimeSupport(MimeSupport),
    BodyPreference(BodyPreference),
    BodyPartPreference(BodyPreference),
    RightsManagementSupport(bool),
    /// Document library credentials.
    UserName(String),
    Password(Secret),
    Picture(Picture),
}

/// A Search `Options`: the options in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOptions(pub Vec<SearchOption>);

impl SearchOptions {
    fn from_element(el: &Element<'_>) -> Result<SearchOptions, CommandError> {
        let mut out = Vec::new();
        for c in el.elements() {
            out.push(match c.tag {
                s::Range => SearchOption::Range(ResultRange::from_element(c)?),
                s::DeepTraversal => SearchOption::DeepTraversal,
                s::RebuildResults => SearchOption::RebuildResults,
                a::MIMESupport => SearchOption::MimeSupport(num("0, 1 or 2")(c)?),
                b::BodyPreference => SearchOption::BodyPreference(BodyPreference::from_element(c)?),
                b::BodyPartPreference => {
                    SearchOption::BodyPartPreference(BodyPreference::from_element(c)?)
                }
                rm::RightsManagementSupport => SearchOption::RightsManagementSupport(flag(c)?),
                s::UserName => SearchOption::UserName(string(c)?),
                s::Password => SearchOption::Password(Secret::new(text(c)?)),
                s::Picture => SearchOption::Picture(Picture {
                    max_size: opt(c, s::MaxSize, num("a size in bytes"))?,
                    max_pictures: opt(c, s::MaxPictures, num("a number of pictures"))?,
                }),
                _ => continue,
            });
        }
        Ok(SearchOptions(out))
    }

    fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), EncodeError> {
        sink.start(s::Options)?;
        for o in &self.0 {
            match o {
                SearchOption::Range(r) => sink.text(s::Range, &r.as_text())?,
                SearchOption::DeepTraversal => sink.empty(s::DeepTraversal)?,
                SearchOption::RebuildResults => sink.empty(s::RebuildResults)?,
                SearchOption::MimeSupport(m) => sink.number(a::MIMESupport, m.0)?,
                SearchOption::BodyPreference(p) => p.emit(sink, b::BodyPreference)?,
                SearchOption::BodyPartPreference(p) => p.emit(sink, b::BodyPartPreference)?,
                SearchOption::RightsManagementSupport(v) => {
                    sink.boolean(rm::RightsManagementSupport, *v)?;
                }
                SearchOption::UserName(u) => sink.text(s::UserName, u)?,
                SearchOption::Password(p) => sink.text(s::Password, p.expose())?,
                SearchOption::Picture(p) => {
                    sink.start(s::Picture)?;
                    sink.opt_number(s::MaxSize, p.max_size)?;
                    sink.opt_number(s::MaxPictures, p.max_pictures)?;
                    sink.end()?;
                }
            }
        }
        sink.end()
    }

    /// The first `Range`.
    pub fn range(&self) -> Option<ResultRange> {
        self.0.iter().find_map(|o| match o {
            SearchOption::Range(r) => Some(*r),
            _ => None,
        })
    }

    pub fn deep_traversal(&self) -> bool {
        self.0.contains(&SearchOption::DeepTraversal)
    }

    pub fn rebuild_results(&self) -> bool {
        self.0.contains(&SearchOption::RebuildResults)
    }

    /// The first `MIMESupport`.
    pub fn mime_support(&self) -> Option<MimeSupport> {
        self.0.iter().find_map(|o| match o {
            SearchOption::MimeSupport(m) => Some(*m),
            _ => None,
        })
    }

    /// Every `BodyPreference`, in order.
    pub fn body_preferences(&self) -> Vec<BodyPreference> {
        self.0
            .iter()
            .filter_map(|o| match o {
                SearchOption::BodyPreference(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// The first `Picture`.
    pub fn picture(&self) -> Option<Picture> {
        self.0.iter().find_map(|o| match o {
            SearchOption::Picture(p) => Some(*p),
            _ => None,
        })
    }
}

/// One `Store` of a request: which store, what to look for, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    /// [`STORE_MAILBOX`], [`STORE_GAL`] or [`STORE_DOCUMENT_LIBRARY`].
    pub name: String,
    pub query: Query,
    pub options: Option<SearchOptions>,
}

impl StoreRequest {
    fn from_element(el: &Element<'_>) -> Result<StoreRequest, CommandError> {
        Ok(StoreRequest {
            name: req(el, s::Name, string)?,
            query: req(el, s::Query, Query::from_element)?,
            options: opt(el, s::Options, SearchOptions::from_element)?,
        })
    }

    fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), EncodeError> {
        sink.start(s::Store)?;
        sink.text(s::Name, &self.name)?;
        self.query.emit(sink)?;
        if let Some(o) = &self.options {
            o.emit(sink)?;
        }
        sink.end()
    }

    /// The options, or none.
    pub fn options(&self) -> SearchOptions {
        self.options.clone().unwrap_or_default()
    }
}

/// A Search request. The spec allows one `Store`; a second one's effect is
/// undefined, so all are kept and the server decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub stores: Vec<StoreRequest>,
}

impl SearchRequest {
    pub fn from_element(el: &Element<'_>) -> Result<SearchRequest, CommandError> {
        expect_root(el, s::Search)?;
        let stores = el
            .children_with(s::Store)
            .map(StoreRequest::from_element)
            .collect::<Result<Vec<_>, _>>()?;
        if stores.is_empty() {
            return Err(CommandError::Missing {
                parent: s::Search,
                missing: s::Store,
            });
        }
        Ok(SearchRequest { stores })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(s::Search, |sink| {
            for store in &self.stores {
                store.emit(sink)?;
            }
            Ok(())
        })
    }
}

/// One `Result`. All fields absent is the empty `<Result/>` Exchange sends
/// when nothing matched (MS-ASCMD Result (Search); the protocol test
/// suite's S14 TC12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// `airsync:Class`: Email, ... (mailbox results).
    pub class: Option<String>,
    /// The server's id for the result, for ItemOperations, SmartReply and
    /// SmartForward: an opaque string of up to 256 characters.
    pub long_id: Option<String>,
    pub collection_id: Option<CollectionId>,
    /// The `Properties` element: an item's class elements (build it with
    /// [`super::email::Email::to_element_as`]) or a GAL entry's.
    pub properties: Option<Element<'static>>,
}

impl SearchResult {
    fn from_element(el: &Element<'_>) -> Result<SearchResult, CommandError> {
        Ok(SearchResult {
            class: opt(el, a::Class, string)?,
            long_id: opt(el, s::LongId, string)?,
            collection_id: opt(el, a::CollectionId, CollectionId::from_element)?,
            properties: opt(el, s::Properties, keep)?,
        })
    }

    /// In the order of SearchResponse.xsd: Class, LongId, CollectionId,
    /// Properties.
    fn emit<S: Sink>(&self, sink: &mut S) -> Result<(), EncodeError> {
        sink.start(s::Result)?;
        emit_result_head(
            sink,
            self.class.as_deref(),
            self.long_id.as_deref(),
            self.collection_id.as_ref(),
        )?;
        if let Some(p) = &self.properties {
            sink.element(p)?;
        }
        sink.end()
    }
}

fn emit_result_head<S: Sink>(
    sink: &mut S,
    class: Option<&str>,
    long_id: Option<&str>,
    collection_id: Option<&CollectionId>,
) -> Result<(), EncodeError> {
    sink.opt_text(a::Class, class)?;
    sink.opt_text(s::LongId, long_id)?;
    sink.opt_text(a::CollectionId, collection_id.map(CollectionId::as_str))
}

/// The answer for the store searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreResponse {
    pub status: SearchStatus,
    pub results: Vec<SearchResult>,
    /// The range of the entries returned.
    pub range: Option<ResultRange>,
    /// How many entries matched in all.
    pub total: Option<u32>,
}

impl StoreResponse {
    /// A store answer with only its status.
    pub fn status(status: SearchStatus) -> StoreResponse {
        StoreResponse {
            status,
            results: Vec::new(),
            range: None,
            total: None,
        }
    }

    fn from_element(el: &Element<'_>) -> Result<StoreResponse, CommandError> {
        Ok(StoreResponse {
            status: req(el, s::Status, num("a Search status"))?,
            results: el
                .children_with(s::Result)
                .map(SearchResult::from_element)
                .collect::<Result<_, _>>()?,
            range: opt(el, s::Range, ResultRange::from_element)?,
            total: opt(el, s::Total, num("a number of entries"))?,
        })
    }
}

/// A Search response: the overall status and, when the request was
/// processed, the answer for its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResponse {
    pub status: SearchStatus,
    pub store: Option<StoreResponse>,
}

impl SearchResponse {
    /// A processed request whose store answered `status`, with nothing
    /// else: how a refused query is answered.
    pub fn store_status(status: SearchStatus) -> SearchResponse {
        SearchResponse {
            status: SearchStatus::SUCCESS,
            store: Some(StoreResponse::status(status)),
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<SearchResponse, CommandError> {
        expect_root(el, s::Search)?;
        Ok(SearchResponse {
            status: req(el, s::Status, num("a Search status"))?,
            store: opt(el, s::Response, |r| {
                req(r, s::Store, StoreResponse::from_element)
            })?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(s::Search, |sink| {
            sink.number(s::Status, self.status.0)?;
            if let Some(store) = &self.store {
                emit_store_head(sink, store.status)?;
                for r in &store.results {
                    r.emit(sink)?;
                }
                emit_store_tail(sink, store.range, store.total)?;
            }
            Ok(())
        })
    }
}

fn emit_store_head<S: Sink>(sink: &mut S, status: SearchStatus) -> Result<(), EncodeError> {
    sink.start(s::Response)?;
    sink.start(s::Store)?;
    sink.number(s::Status, status.0)
}

fn emit_store_tail<S: Sink>(
    sink: &mut S,
    range: Option<ResultRange>,
    total: Option<u32>,
) -> Result<(), EncodeError> {
    sink.opt_text(s::Range, range.map(ResultRange::as_text).as_deref())?;
    sink.opt_number(s::Total, total)?;
    sink.end()?;
    sink.end()
}

/// Writes a processed Search response result by result:
///
/// ```text
/// let mut w = SearchResponseWriter::new(out, SearchStatus::SUCCESS)?;
/// w.result(Some("Email"), Some(&long_id), Some(&collection_id), |w| content.write(w))?;
/// let out = w.finish(Some(range), Some(total))?;
/// ```
///
/// The bytes are those [`SearchResponse::to_element`] encodes for the same
/// content, with the top-level Status 1.
#[derive(Debug)]
pub struct SearchResponseWriter<W: Write> {
    w: Writer<W>,
}

impl<W: Write> SearchResponseWriter<W> {
    /// Writes everything up to the first `Result`.
    pub fn new(out: W, store_status: SearchStatus) -> Result<Self, EncodeError> {
        let mut w = Writer::new(out)?;
        w.start(s::Search)?;
        w.text_element(s::Status, &SearchStatus::SUCCESS.0.to_string())?;
        emit_store_head(&mut w, store_status)?;
        Ok(SearchResponseWriter { w })
    }

    /// One `Result`; `properties` writes the children of `Properties`.
    /// A closure that leaves elements open or closes too many is refused.
    pub fn result<F>(
        &mut self,
        class: Option<&str>,
        long_id: Option<&str>,
        collection_id: Option<&CollectionId>,
        properties: F,
    ) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.w.start(s::Result)?;
        emit_result_head(&mut self.w, class, long_id, collection_id)?;
        self.w.start(s::Properties)?;
        let depth = self.w.depth();
        properties(&mut self.w)?;
        if self.w.depth() != depth {
            return Err(EncodeError::UnbalancedEnd);
        }
        self.w.end()?;
        self.w.end()
    }

    /// A `Result` built beforehand, such as the empty one of no matches.
    pub fn built(&mut self, result: &SearchResult) -> Result<(), EncodeError> {
        result.emit(&mut self.w)
    }

    /// Writes Range and Total, closes the document, hands back the output.
    pub fn finish(
        mut self,
        range: Option<ResultRange>,
        total: Option<u32>,
    ) -> Result<W, EncodeError> {
        emit_store_tail(&mut self.w, range, total)?;
        self.w.end()?;
        self.w.finish()
    }
}

#[cfg(test)]
mod tests;
