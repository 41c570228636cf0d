//! Find (MS-ASCMD 2.2.1.2, 16.1) of the mailbox: a KQL `FreeText`
//! (compiled by `search::query`) run on the account's index, the results
//! as Find sends them: Class, the item's `ServerId` and `CollectionId`
//! (which ItemOperations, SmartReply and SmartForward take as they are),
//! and Subject, DateReceived, DisplayTo, DisplayCc, Importance, Read,
//! IsDraft, a 255-character Preview, HasAttachments and From.
//!
//! - Paging: Range `0-n` starts a search (and builds its result set
//!   again); a later range pages through the set kept for the same
//!   `SearchId` and query. A range that does not start at 0 for a search
//!   the server does not hold gets Status 4 in `Response`, as the spec
//!   says. At most 100 results per response ("the server can return fewer
//!   results than requested"); Total counts them all.
//! - Status 2 (top level) for a request that does not read as a Find, an
//!   empty `SearchId`, a `Class` other than Email, a FreeText with nothing
//!   to search for; Status 3 for a CollectionId that is not the account's
//!   folder (FolderSync required).
//! - `GALSearchCriterion` belongs to the directory issue: Status 2 for
//!   now, with a note in the trace.

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::email::Importance;
use eas_proto::command::find::{
    Criterion, FindProperties, FindRequest, FindResponse, FindResult, FindStatus, FindStoreResponse,
};
use eas_proto::command::ids::{CollectionId, ServerId};
use eas_proto::command::search::ResultRange;
use eas_proto::wbxml::Element;

use super::search::{DEFAULT_RANGE, MAX_RESULTS};
use super::{Context, Outcome, blocking, note_bad_request};
use crate::mail::content::{self, BodyRequest, ChosenBody};
use crate::search::query::{Folders, Refusal, find_filter};
use crate::search::{Ask, Kind, Reuse, SearchIndex, text};
use crate::store::mailbox::folder_type;
use crate::store::{Account, MailItem, Store, StoreError};

/// The longest SearchId kept (a GUID is 36 characters, 38 in braces).
const MAX_SEARCH_ID: usize = 128;
const PREVIEW_CHARS: u8 = 255;
const MAILBOX: &str = "Mailbox";

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(FindRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return status(FindStatus::INVALID_REQUEST);
        }
        None => {
            ctx.notes.push("Find without a body".into());
            return status(FindStatus::INVALID_REQUEST);
        }
    };
    let search_id = request.search_id.trim();
    if search_id.is_empty() || search_id.chars().count() > MAX_SEARCH_ID {
        ctx.notes
            .push("Find: a SearchId must be given (a GUID); Status 2".into());
        return status(FindStatus::INVALID_REQUEST);
    }
    let Criterion::Mailbox {
        class,
        collection_id,
        free_text,
        options,
    } = request.criterion
    else {
        ctx.notes.push(
            "Find of the GAL: not offered by this server yet (directory issue); Status 2".into(),
        );
        return status(FindStatus::INVALID_REQUEST);
    };
    if let Some(class) = class
        .as_deref()
        .filter(|c| !c.trim().eq_ignore_ascii_case("Email"))
    {
        ctx.notes
            .push(format!("Find of class {class:?}: only Email is; Status 2"));
        return status(FindStatus::INVALID_REQUEST);
    }
    let options = options.unwrap_or_default();
    let job = Job {
        account: ctx.account.clone(),
        device: ctx.device.device_id.clone(),
        search_id: search_id.to_owned(),
        collection_id,
        free_text,
        range: options.range.unwrap_or(DEFAULT_RANGE),
        deep: options.deep_traversal,
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
        return status(FindStatus::INVALID_REQUEST);
    };
    ctx.notes.extend(notes);
    match answer {
        Ok(response) => Outcome::Wbxml(response.to_element()),
        Err(e) => {
            tracing::error!(account = %ctx.account.name, error = %e, "Find failed in the store");
            ctx.notes.push(format!("server error: {e}"));
            // Find has no server-error status; 2 makes the client stop.
            status(FindStatus::INVALID_REQUEST)
        }
    }
}

fn status(s: FindStatus) -> Outcome {
    Outcome::Wbxml(
        FindResponse {
            status: s,
            response: None,
        }
        .to_element(),
    )
}

#[derive(Debug)]
struct Job {
    account: Account,
    device: String,
    search_id: String,
    collection_id: Option<CollectionId>,
    free_text: String,
    range: ResultRange,
    deep: bool,
}

impl Job {
    fn run(
        &self,
        store: &dyn Store,
        index: &SearchIndex,
        notes: &mut Vec<String>,
    ) -> Result<FindResponse, StoreError> {
        let name = &self.account.name;
        let all = store.folders(name)?;
        let folders = Folders {
            all: &all,
            deep: self.deep,
        };
        let filter = match find_filter(&self.free_text, self.collection_id.as_ref(), &folders) {
            Ok(f) => f,
            Err(r) => {
                let s = match r {
                    Refusal::UnknownFolder(_) => FindStatus::FOLDER_SYNC_REQUIRED,
                    Refusal::Invalid(_) | Refusal::TooComplex(_) => FindStatus::INVALID_REQUEST,
                };
                notes.push(format!("Find refused, {r}; Status {}", s.0));
                return Ok(FindResponse {
                    status: s,
                    response: None,
                });
            }
        };
        let fingerprint = format!(
            "{}|{}|{:?}|{}",
            self.search_id, self.free_text, self.collection_id, self.deep
        );
        let reuse = if self.range.start == 0 {
            Reuse::Never
        } else {
            Reuse::Only
        };
        let ask = Ask {
            device: &self.device,
            kind: Kind::Find,
            query: &fingerprint,
            reuse,
            filter: &filter,
        };
        let found = index.query(store, &self.account, &ask)?;
        let Some(hits) = found else {
            notes.push(format!(
                "Find: range {} of a search this server does not hold; Status 4",
                self.range.as_text()
            ));
            return Ok(FindResponse {
                status: FindStatus::SUCCESS,
                response: Some(FindStoreResponse::status(
                    Some(MAILBOX),
                    FindStatus::RANGE_NOT_FROM_ZERO,
                )),
            });
        };
        let total = hits.items.len();
        notes.push(format!(
            "Find {}: {total} matches{}",
            self.search_id,
            if hits.reused {
                ", from the kept result set"
            } else {
                ""
            }
        ));
        let first = usize::from(self.range.start);
        let count = self.range.len().min(MAX_RESULTS);
        let drafts: Vec<u32> = all
            .iter()
            .filter(|f| f.kind == folder_type::DRAFTS)
            .map(|f| f.id)
            .collect();
        let mut results = Vec::new();
        for &id in hits.items.iter().skip(first).take(count) {
            let Some(item) = store.item(name, id)? else {
                continue;
            };
            let Some(raw) = store.item_mime(name, id)? else {
                continue;
            };
            results.push(self.result(&item, &raw, drafts.contains(&item.folder)));
        }
        let range = match results.len() {
            0 => None,
            n => u16::try_from(n - 1).ok().and_then(|more| {
                ResultRange::new(self.range.start, self.range.start.saturating_add(more))
            }),
        };
        Ok(FindResponse {
            status: FindStatus::SUCCESS,
            response: Some(FindStoreResponse {
                results,
                range,
                total: Some(u32::try_from(total).unwrap_or(u32::MAX)),
                ..FindStoreResponse::status(Some(MAILBOX), FindStatus::SUCCESS)
            }),
        })
    }

    fn result(&self, item: &MailItem, raw: &[u8], is_draft: bool) -> FindResult {
        let s = &item.summary;
        let request = BodyRequest {
            preferences: vec![BodyPreference {
                body_type: BodyType::PLAIN_TEXT,
                truncation_size: Some(0),
                all_or_none: Some(true),
                preview: Some(PREVIEW_CHARS),
            }],
            mime_support: None,
            mime_truncation: None,
        };
        let preview = match content::item_content(item, raw, &request, ProtocolVersion::V16_1).body
        {
            Some(ChosenBody::Text(body)) => body.preview,
            _ => None,
        };
        let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        FindResult {
            class: Some("Email".into()),
            server_id: ServerId::new(content::server_id(item)).ok(),
            collection_id: CollectionId::new(item.folder.to_string()).ok(),
            properties: FindProperties {
                subject: Some(s.subject.clone()),
                date_received: content::date_time(item.received),
                display_to: some(&s.display_to),
                display_cc: some(&text::display_names(&s.cc)),
                display_bcc: None,
                importance: Some(Importance(s.importance)),
                read: Some(item.read),
                is_draft: Some(is_draft),
                preview,
                has_attachments: Some(s.has_attachments),
                from: some(&s.from),
                other: Vec::new(),
            },
        }
    }
}
