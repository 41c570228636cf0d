//! Search (MS-ASCMD 2.2.1.16) of the mailbox: the query is compiled by
//! `search::query` (which decides Statuses 2, 8 and 11), run on the
//! account's index (`search`), and each result in the range asked for is
//! sent as the Email class elements with the body the client's
//! BodyPreference and MIMESupport choose, as ItemOperations sends them
//! (`mail::content`); a MIME body is the stored bytes, so the response is
//! streamed. Each result carries a LongId (`search::longid`) that
//! ItemOperations, SmartReply and SmartForward accept.
//!
//! - Range: at most 100 entries per response (MS-ASCMD Range (Search):
//!   "maximum results returned 100", default 0-99). A wider range is
//!   answered with its first 100 entries and Status 12, the spec's "the
//!   maximum range has been exceeded"; a range that starts past the last
//!   match gets Status 12 and no results. Total is the number of matches.
//! - No match: one empty `Result`, as Exchange sends (the protocol test
//!   suite's S14 TC12).
//! - Without a BodyPreference a result's body is announced (type, size,
//!   truncated) but not sent: a list of results should not carry a hundred
//!   bodies nobody asked for.
//! - Only the first `Store` is searched (more than one is "undefined";
//!   Exchange answers the first too).
//! - Store `GAL` is answered by the directory (`directory::gal::search`).
//!   `DocumentLibrary` is not offered here yet: it gets Status 13, "access is blocked to the
//!   specified resource", which tells a client not to retry; Search has no
//!   status of its own for an unsupported store (ItemOperations' 9 has no
//!   Search counterpart). An unknown store name is Status 2.
//! - A request that does not read as a Search gets Status 2 in its Store:
//!   the top-level Status has only 1 and 3.

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::ids::CollectionId;
use eas_proto::command::search::{
    Query, ResultRange, STORE_DOCUMENT_LIBRARY, STORE_GAL, STORE_MAILBOX, SearchOptions,
    SearchRequest, SearchResponse, SearchResponseWriter, SearchResult, SearchStatus,
};
use eas_proto::wbxml::{Element, EncodeError};

use super::{Context, Outcome, blocking, note_bad_request};
use crate::mail::content::{self, BodyRequest, ChosenBody};
use crate::search::query::{Folders, Refusal, search_filter};
use crate::search::{Ask, Kind, Reuse, SearchIndex, longid};
use crate::store::{Account, Store, StoreError};

/// The most entries one response carries.
pub const MAX_RESULTS: usize = 100;
/// The range of a request that names none (MS-ASCMD Range (Search)).
pub const DEFAULT_RANGE: ResultRange = ResultRange { start: 0, end: 99 };

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(SearchRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return refused(SearchStatus::INVALID_REQUEST);
        }
        None => {
            ctx.notes.push("Search without a body".into());
            return refused(SearchStatus::INVALID_REQUEST);
        }
    };
    if request.stores.len() > 1 {
        ctx.notes.push(format!(
            "{} Stores: only the first is searched",
            request.stores.len()
        ));
    }
    let Some(store_request) = request.stores.into_iter().next() else {
        return refused(SearchStatus::INVALID_REQUEST);
    };
    let name = store_request.name.as_str();
    if name.eq_ignore_ascii_case(STORE_GAL) {
        return crate::directory::gal::search(ctx, store_request).await;
    }
    if name.eq_ignore_ascii_case(STORE_DOCUMENT_LIBRARY) {
        ctx.notes.push(format!(
            "Search of {name}: not offered by this server yet; Status {}",
            SearchStatus::ACCESS_BLOCKED.0
        ));
        return refused(SearchStatus::ACCESS_BLOCKED);
    }
    if !name.eq_ignore_ascii_case(STORE_MAILBOX) {
        ctx.notes
            .push(format!("Search of an unknown store {name:?}"));
        return refused(SearchStatus::INVALID_REQUEST);
    }
    let Query::Conditions(conditions) = store_request.query else {
        ctx.notes
            .push("a Mailbox query holds conditions, not text; Status 2".into());
        return refused(SearchStatus::INVALID_REQUEST);
    };
    let options = store_request.options.unwrap_or_default();
    let job = Job {
        account: ctx.account.clone(),
        device: ctx.device.device_id.clone(),
        version: ctx.version,
        conditions,
        options,
    };
    let store = ctx.state.store.clone();
    let index = ctx.state.search.clone();
    let done = blocking(move || {
        let mut notes = Vec::new();
        let answer = job.run(store.as_ref(), &index, &mut notes);
        (answer, notes)
    })
    .await;
    let Some((answer, notes)) = done else {
        return failed();
    };
    ctx.notes.extend(notes);
    match answer {
        Ok(bytes) => Outcome::Encoded(bytes),
        Err(Failure::Refused(status)) => refused(status),
        Err(Failure::Store(e)) => {
            tracing::error!(account = %ctx.account.name, error = %e, "Search failed in the store");
            ctx.notes.push(format!("server error: {e}"));
            failed()
        }
        Err(Failure::Encode(e)) => {
            tracing::error!(account = %ctx.account.name, error = %e, "writing a Search response");
            failed()
        }
    }
}

/// A processed request whose store answered `status`.
fn refused(status: SearchStatus) -> Outcome {
    Outcome::Wbxml(SearchResponse::store_status(status).to_element())
}

/// The top-level server error.
fn failed() -> Outcome {
    Outcome::Wbxml(
        SearchResponse {
            status: SearchStatus::SERVER_ERROR,
            store: None,
        }
        .to_element(),
    )
}

#[derive(Debug)]
enum Failure {
    Refused(SearchStatus),
    Store(StoreError),
    Encode(EncodeError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl From<EncodeError> for Failure {
    fn from(e: EncodeError) -> Failure {
        Failure::Encode(e)
    }
}

/// What a refusal of the query answers, and the note saying why.
pub(crate) fn refusal_status(r: &Refusal) -> SearchStatus {
    match r {
        Refusal::Invalid(_) => SearchStatus::INVALID_REQUEST,
        Refusal::TooComplex(_) => SearchStatus::TOO_COMPLEX,
        Refusal::UnknownFolder(_) => SearchStatus::FOLDER_SYNC_REQUIRED,
    }
}

/// One mailbox search, run off the reactor.
#[derive(Debug)]
struct Job {
    account: Account,
    device: String,
    version: ProtocolVersion,
    conditions: Vec<eas_proto::command::search::Condition>,
    options: SearchOptions,
}

impl Job {
    fn run(
        &self,
        store: &dyn Store,
        index: &SearchIndex,
        notes: &mut Vec<String>,
    ) -> Result<Vec<u8>, Failure> {
        let name = &self.account.name;
        let deep = self.options.deep_traversal();
        let all = store.folders(name)?;
        let filter = search_filter(&self.conditions, &Folders { all: &all, deep }, self.version)
            .map_err(|r| {
                let status = refusal_status(&r);
                notes.push(format!("Search refused, {r}; Status {}", status.0));
                Failure::Refused(status)
            })?;
        let fingerprint = format!("{:?} deep={deep}", self.conditions);
        let reuse = if self.options.rebuild_results() {
            Reuse::Never
        } else {
            Reuse::IfSame
        };
        let ask = Ask {
            device: &self.device,
            kind: Kind::Search,
            query: &fingerprint,
            reuse,
            filter: &filter,
        };
        let hits = index
            .query(store, &self.account, &ask)?
            .ok_or(Failure::Refused(SearchStatus::SERVER_ERROR))?;
        let total = hits.items.len();
        notes.push(format!(
            "Search: {total} matches{}{}",
            if hits.reused {
                ", from the kept result set"
            } else {
                ""
            },
            match (hits.refresh.rebuilt, hits.refresh.touched) {
                (true, n) => format!("; index built ({n} messages)"),
                (false, 0) => String::new(),
                (false, n) => format!("; index caught up ({n} items)"),
            }
        ));

        let asked = self.options.range().unwrap_or(DEFAULT_RANGE);
        let mut status = SearchStatus::SUCCESS;
        let mut last = usize::from(asked.end);
        if asked.len() > MAX_RESULTS {
            last = usize::from(asked.start) + MAX_RESULTS - 1;
            status = SearchStatus::END_OF_RANGE;
            notes.push(format!(
                "Range {} is more than {MAX_RESULTS} entries; Status 12",
                asked.as_text()
            ));
        }
        let first = usize::from(asked.start);
        if total > 0 && first >= total {
            notes.push(format!(
                "Range {} starts past the {total} matches; Status 12",
                asked.as_text()
            ));
            status = SearchStatus::END_OF_RANGE;
        }
        let page: Vec<u64> = hits
            .items
            .iter()
            .skip(first)
            .take((last + 1).saturating_sub(first))
            .copied()
            .collect();

        let request = self.body_request();
        let mut w = SearchResponseWriter::new(Vec::with_capacity(4096), status)?;
        let mut sent = 0usize;
        for id in page {
            let Some(item) = store.item(name, id)? else {
                continue;
            };
            let Some(raw) = store.item_mime(name, id)? else {
                continue;
            };
            let mut c = content::item_content(&item, &raw, &request, self.version);
            // A WBXML string cannot hold a NUL: such a MIME body is
            // announced, not sent (ItemOperations can send it whole).
            if let Some(ChosenBody::Mime {
                estimated, data, ..
            }) = &c.body
            {
                if data.contains(&0) {
                    c.body = Some(ChosenBody::Mime {
                        estimated: *estimated,
                        truncated: true,
                        data: Vec::new(),
                    });
                }
            }
            let folder = CollectionId::new(item.folder.to_string()).ok();
            let long_id = longid::encode(&self.account, item.id);
            w.result(Some("Email"), Some(&long_id), folder.as_ref(), |w| {
                c.write(w)
            })?;
            sent += 1;
        }
        let range = match sent {
            0 => None,
            n => u16::try_from(n - 1)
                .ok()
                .and_then(|more| ResultRange::new(asked.start, asked.start.saturating_add(more))),
        };
        if sent == 0 && status == SearchStatus::SUCCESS {
            w.built(&SearchResult::default())?;
        }
        Ok(w.finish(range, Some(u32::try_from(total).unwrap_or(u32::MAX)))?)
    }

    /// The client's body preferences; without any, the body is announced
    /// with its size and not sent.
    fn body_request(&self) -> BodyRequest {
        let mut preferences = self.options.body_preferences();
        if preferences.is_empty() && self.options.mime_support().is_none() {
            preferences.push(BodyPreference {
                body_type: BodyType::PLAIN_TEXT,
                truncation_size: Some(0),
                all_or_none: Some(true),
                preview: None,
            });
        }
        BodyRequest {
            preferences,
            mime_support: self.options.mime_support(),
            mime_truncation: None,
        }
    }
}
