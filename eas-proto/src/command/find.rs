//! Find (MS-ASCMD 2.2.1.2, protocol 16.1): a search of the mailbox, by a
//! Keyword Query Language string, or of the Global Address List. Results
//! carry a mail item's `ServerId` and `CollectionId`, with which the client
//! fetches it (ItemOperations) or replies to it, and a fixed set of
//! properties with a preview.
//!
//! The client pages through one search by sending the same `SearchId` with
//! a higher `Range`; a new search starts at 0 (Status 4 otherwise).
//!
//! Element order follows Find.xsd and FindResponse.xsd (MS-ASCMD 6.7 and
//! 6.8): `Query` holds Class, CollectionId, FreeText; `Result` holds Class,
//! ServerId, CollectionId, Properties; `Properties` holds Subject,
//! DateReceived, DisplayTo, DisplayCc, DisplayBcc, Importance, Read,
//! IsDraft, Preview, HasAttachments, From.

use super::email::Importance;
use super::fields::{Sink, Tree, date, flag, num, once, opt, owned, req, string};
use super::ids::{CollectionId, ServerId};
use super::search::ResultRange;
use super::{CommandError, DateTime, expect_root};
use crate::codepages::{airsync as a, email as e, email2 as e2, find as f, itemoperations as io};
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError};

number_enum! {
    /// `Status` of a Find response (MS-ASCMD 2.2.3.177.2), at the top
    /// level and in `Response`.
    pub struct FindStatus(u8) {
        SUCCESS = 1,
        /// One or more of the client's search parameters was invalid.
        INVALID_REQUEST = 2,
        /// The folder hierarchy is out of date (top level only).
        FOLDER_SYNC_REQUIRED = 3,
        /// The range of a new search does not begin at 0 (in `Response`).
        RANGE_NOT_FROM_ZERO = 4,
    }
}

/// `Options` of either criterion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindOptions {
    pub range: Option<ResultRange>,
    /// Search the subfolders of the folder named too.
    pub deep_traversal: bool,
    /// GAL only: contact photos, `MaxSize` and `MaxPictures`.
    pub picture: Option<super::search::Picture>,
}

impl FindOptions {
    fn from_element(el: &Element<'_>) -> Result<FindOptions, CommandError> {
        Ok(FindOptions {
            range: opt(el, f::Range, ResultRange::from_element)?,
            deep_traversal: super::child(el, f::DeepTraversal)?.is_some(),
            picture: opt(el, f::Picture, |p| {
                Ok(super::search::Picture {
                    max_size: opt(p, f::MaxSize, num("a size in bytes"))?,
                    max_pictures: opt(p, f::MaxPictures, num("a number of pictures"))?,
                })
            })?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(f::Options)?;
        s.opt_text(f::Range, self.range.map(ResultRange::as_text).as_deref())?;
        s.marker(f::DeepTraversal, self.deep_traversal)?;
        if let Some(p) = &self.picture {
            s.start(f::Picture)?;
            s.opt_number(f::MaxSize, p.max_size)?;
            s.opt_number(f::MaxPictures, p.max_pictures)?;
            s.end()?;
        }
        s.end()
    }
}

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    /// `MailBoxSearchCriterion`.
    Mailbox {
        /// `airsync:Class`; "Email" is the only value the spec supports.
        class: Option<String>,
        /// The folder to search; absent, every folder.
        collection_id: Option<CollectionId>,
        /// A KQL string: words, and restrictions such as `from:` or
        /// `subject:`.
        free_text: String,
        options: Option<FindOptions>,
    },
    /// `GALSearchCriterion`.
    Gal {
        free_text: String,
        options: Option<FindOptions>,
    },
}

impl Criterion {
    /// The options, or none.
    pub fn options(&self) -> FindOptions {
        match self {
            Criterion::Mailbox { options, .. } | Criterion::Gal { options, .. } => {
                options.clone().unwrap_or_default()
            }
        }
    }
}

/// A Find request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindRequest {
    /// The client's id for this search (a GUID), the same while it pages.
    pub search_id: String,
    pub criterion: Criterion,
}

impl FindRequest {
    pub fn from_element(el: &Element<'_>) -> Result<FindRequest, CommandError> {
        expect_root(el, f::Find)?;
        let search_id = req(el, f::SearchId, string)?;
        let execute = super::required(el, f::ExecuteSearch)?;
        let mailbox = super::child(execute, f::MailBoxSearchCriterion)?;
        let gal = super::child(execute, f::GalSearchCriterion)?;
        let criterion = match (mailbox, gal) {
            (Some(_), Some(_)) => {
                return Err(CommandError::Conflict {
                    parent: f::ExecuteSearch,
                    first: f::MailBoxSearchCriterion,
                    second: f::GalSearchCriterion,
                });
            }
            (None, None) => {
                return Err(CommandError::Missing {
                    parent: f::ExecuteSearch,
                    missing: f::MailBoxSearchCriterion,
                });
            }
            (Some(m), None) => {
                let query = super::required(m, f::Query)?;
                Criterion::Mailbox {
                    class: opt(query, a::Class, string)?,
                    collection_id: opt(query, a::CollectionId, CollectionId::from_element)?,
                    free_text: req(query, f::FreeText, string)?,
                    options: opt(m, f::Options, FindOptions::from_element)?,
                }
            }
            (None, Some(g)) => Criterion::Gal {
                free_text: req(super::required(g, f::Query)?, f::FreeText, string)?,
                options: opt(g, f::Options, FindOptions::from_element)?,
            },
        };
        Ok(FindRequest {
            search_id,
            criterion,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::Find, |s| {
            s.text(f::SearchId, &self.search_id)?;
            s.start(f::ExecuteSearch)?;
            match &self.criterion {
                Criterion::Mailbox {
                    class,
                    collection_id,
                    free_text,
                    options,
                } => {
                    s.start(f::MailBoxSearchCriterion)?;
                    s.start(f::Query)?;
                    s.opt_text(a::Class, class.as_deref())?;
                    s.opt_text(
                        a::CollectionId,
                        collection_id.as_ref().map(CollectionId::as_str),
                    )?;
                    s.text(f::FreeText, free_text)?;
                    s.end()?;
                    if let Some(o) = options {
                        o.emit(s)?;
                    }
                }
                Criterion::Gal { free_text, options } => {
                    s.start(f::GalSearchCriterion)?;
                    s.start(f::Query)?;
                    s.text(f::FreeText, free_text)?;
                    s.end()?;
                    if let Some(o) = options {
                        o.emit(s)?;
                    }
                }
            }
            s.end()?;
            s.end()
        })
    }
}

/// The `Properties` of a result: a mail item's, or a GAL entry's (kept as
/// elements in `other`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindProperties {
    pub subject: Option<String>,
    pub date_received: Option<DateTime>,
    pub display_to: Option<String>,
    pub display_cc: Option<String>,
    pub display_bcc: Option<String>,
    pub importance: Option<Importance>,
    pub read: Option<bool>,
    pub is_draft: Option<bool>,
    /// Up to 255 characters of the body as plain text.
    pub preview: Option<String>,
    pub has_attachments: Option<bool>,
    pub from: Option<String>,
    /// Children this type does not model (the `gal:` properties), as
    /// they came; written last.
    pub other: Vec<Element<'static>>,
}

impl FindProperties {
    fn from_element(el: &Element<'_>) -> Result<FindProperties, CommandError> {
        let mut p = FindProperties::default();
        for c in el.elements() {
            match c.tag {
                e::Subject => once(&mut p.subject, el, c, string)?,
                e::DateReceived => once(&mut p.date_received, el, c, date)?,
                e::DisplayTo => once(&mut p.display_to, el, c, string)?,
                f::DisplayCc => once(&mut p.display_cc, el, c, string)?,
                f::DisplayBcc => once(&mut p.display_bcc, el, c, string)?,
                e::Importance => once(&mut p.importance, el, c, num("0, 1 or 2"))?,
                e::Read => once(&mut p.read, el, c, flag)?,
                e2::IsDraft => once(&mut p.is_draft, el, c, flag)?,
                f::Preview => once(&mut p.preview, el, c, string)?,
                f::HasAttachments => once(&mut p.has_attachments, el, c, flag)?,
                e::From => once(&mut p.from, el, c, string)?,
                _ => p.other.push(owned(c)),
            }
        }
        Ok(p)
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(f::Properties)?;
        s.opt_text(e::Subject, self.subject.as_deref())?;
        s.opt_date(e::DateReceived, self.date_received.as_ref())?;
        s.opt_text(e::DisplayTo, self.display_to.as_deref())?;
        s.opt_text(f::DisplayCc, self.display_cc.as_deref())?;
        s.opt_text(f::DisplayBcc, self.display_bcc.as_deref())?;
        s.opt_number(e::Importance, self.importance.map(|v| v.0))?;
        s.opt_bool(e::Read, self.read)?;
        s.opt_bool(e2::IsDraft, self.is_draft)?;
        s.opt_text(f::Preview, self.preview.as_deref())?;
        s.opt_bool(f::HasAttachments, self.has_attachments)?;
        s.opt_text(e::From, self.from.as_deref())?;
        for o in &self.other {
            s.element(o)?;
        }
        s.end()
    }
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindResult {
    pub class: Option<String>,
    pub server_id: Option<ServerId>,
    pub collection_id: Option<CollectionId>,
    pub properties: FindProperties,
}

impl FindResult {
    fn from_element(el: &Element<'_>) -> Result<FindResult, CommandError> {
        Ok(FindResult {
            class: opt(el, a::Class, string)?,
            server_id: opt(el, a::ServerId, ServerId::from_element)?,
            collection_id: opt(el, a::CollectionId, CollectionId::from_element)?,
            properties: match super::child(el, f::Properties)? {
                Some(p) => FindProperties::from_element(p)?,
                None => FindProperties::default(),
            },
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(f::Result)?;
        s.opt_text(a::Class, self.class.as_deref())?;
        s.opt_text(a::ServerId, self.server_id.as_ref().map(ServerId::as_str))?;
        s.opt_text(
            a::CollectionId,
            self.collection_id.as_ref().map(CollectionId::as_str),
        )?;
        self.properties.emit(s)?;
        s.end()
    }
}

/// The `Response` of a processed Find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindStoreResponse {
    /// `itemoperations:Store`: "Mailbox" or "GAL".
    pub store: Option<String>,
    pub status: FindStatus,
    pub results: Vec<FindResult>,
    pub range: Option<ResultRange>,
    pub total: Option<u32>,
}

impl FindStoreResponse {
    /// A response with only its store and status.
    pub fn status(store: Option<&str>, status: FindStatus) -> FindStoreResponse {
        FindStoreResponse {
            store: store.map(str::to_owned),
            status,
            results: Vec::new(),
            range: None,
            total: None,
        }
    }
}

/// A Find response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindResponse {
    pub status: FindStatus,
    pub response: Option<FindStoreResponse>,
}

impl FindResponse {
    pub fn from_element(el: &Element<'_>) -> Result<FindResponse, CommandError> {
        expect_root(el, f::Find)?;
        Ok(FindResponse {
            status: req(el, f::Status, num("a Find status"))?,
            response: opt(el, f::Response, |r| {
                Ok(FindStoreResponse {
                    store: opt(r, io::Store, string)?,
                    status: req(r, f::Status, num("a Find status"))?,
                    results: r
                        .children_with(f::Result)
                        .map(FindResult::from_element)
                        .collect::<Result<_, _>>()?,
                    range: opt(r, f::Range, ResultRange::from_element)?,
                    total: opt(r, f::Total, num("a number of entries"))?,
                })
            })?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::Find, |s| {
            s.number(f::Status, self.status.0)?;
            if let Some(r) = &self.response {
                s.start(f::Response)?;
                s.opt_text(io::Store, r.store.as_deref())?;
                s.number(f::Status, r.status.0)?;
                for result in &r.results {
                    result.emit(s)?;
                }
                s.opt_text(f::Range, r.range.map(ResultRange::as_text).as_deref())?;
                s.opt_number(f::Total, r.total)?;
                s.end()?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
