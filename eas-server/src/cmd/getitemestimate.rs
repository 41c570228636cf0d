//! GetItemEstimate (MS-ASCMD 2.2.1.9): how many changes the next Sync of
//! each collection would bring from the key the device holds. The count is
//! `syncengine::estimate`, the decision Sync makes, with nothing written:
//! the key stays where it is (MS-ASCMD 2.2.3.181.3).
//!
//! 12.x puts `Class` and `FilterType` directly in `Collection` and gets
//! `Class` back; 14.0 and later put the filter in `airsync:Options`. Either
//! way the filter that counts is the one the Sync state was primed with
//! (a different one takes effect only from key 0, as in Sync).

use eas_proto::ProtocolVersion;
use eas_proto::command::items::{
    Estimate, EstimateCollection, EstimateResponse, GetItemEstimateRequest,
    GetItemEstimateResponse, GetItemEstimateStatus, MAX_ESTIMATE_COLLECTIONS,
};
use eas_proto::wbxml::Element;
use hyper::StatusCode;

use super::sync::folder_class;
use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{Store, StoreResult};
use crate::syncengine::{self, Position, Scope};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(GetItemEstimateRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return malformed(ctx.version);
        }
        None => {
            ctx.notes.push("GetItemEstimate without a body".into());
            return malformed(ctx.version);
        }
    };
    if request.collections.len() > MAX_ESTIMATE_COLLECTIONS {
        ctx.notes.push(format!(
            "{} collections, more than the {MAX_ESTIMATE_COLLECTIONS} allowed",
            request.collections.len()
        ));
        return global(GetItemEstimateStatus::INVALID_COLLECTION);
    }
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let device = ctx.device.device_id.clone();
    let version = ctx.version;
    let answer = blocking(move || {
        let mut notes = Vec::new();
        let responses = request
            .collections
            .iter()
            .map(|c| estimate(store.as_ref(), &account, &device, version, c, &mut notes))
            .collect::<StoreResult<Vec<_>>>();
        responses.map(|r| (r, notes))
    })
    .await;
    match answer {
        Some(Ok((responses, notes))) => {
            ctx.notes.extend(notes);
            Outcome::Wbxml(
                GetItemEstimateResponse {
                    status: None,
                    responses,
                }
                .to_element(),
            )
        }
        Some(Err(e)) => {
            tracing::error!(account = %ctx.account.name, error = %e, "GetItemEstimate failed in the store");
            ctx.notes.push(format!("server error: {e}"));
            Outcome::Http(StatusCode::INTERNAL_SERVER_ERROR)
        }
        None => Outcome::Http(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// A request that is not a GetItemEstimate: 14.0 and later get the common
/// status InvalidXML (MS-ASCMD 2.2.2), 12.x an HTTP 400.
fn malformed(version: ProtocolVersion) -> Outcome {
    if version >= ProtocolVersion::V14_0 {
        let invalid_xml = eas_proto::status::Status::INVALID_XML.0;
        global(GetItemEstimateStatus(
            u8::try_from(invalid_xml).unwrap_or(u8::MAX),
        ))
    } else {
        Outcome::Http(StatusCode::BAD_REQUEST)
    }
}

fn global(status: GetItemEstimateStatus) -> Outcome {
    Outcome::Wbxml(
        GetItemEstimateResponse {
            status: Some(status),
            responses: vec![],
        }
        .to_element(),
    )
}

fn estimate(
    store: &dyn Store,
    account: &str,
    device: &str,
    version: ProtocolVersion,
    c: &EstimateCollection,
    notes: &mut Vec<String>,
) -> StoreResult<EstimateResponse> {
    let id = c.collection_id.as_str();
    let answer = |status, class: Option<&str>, estimate| EstimateResponse {
        status,
        collection: Some(Estimate {
            class: class
                .filter(|_| version < ProtocolVersion::V14_0)
                .map(str::to_owned),
            collection_id: c.collection_id.clone(),
            estimate,
        }),
    };
    let Some(folder) = id
        .parse::<u32>()
        .ok()
        .map(|f| store.folder(account, f))
        .transpose()?
        .flatten()
    else {
        notes.push(format!("collection {id}: no such folder; Status 2"));
        return Ok(answer(
            GetItemEstimateStatus::INVALID_COLLECTION,
            None,
            None,
        ));
    };
    let class = folder_class(folder.kind);
    if let Some(asked) = c.class.as_deref().filter(|asked| *asked != class) {
        notes.push(format!(
            "collection {id}: Class {asked}, but the folder holds {class}; Status 2"
        ));
        return Ok(answer(
            GetItemEstimateStatus::INVALID_COLLECTION,
            None,
            None,
        ));
    }
    let key = c.sync_key.as_str();
    let state = if key == "0" {
        None
    } else {
        store.collection_state(account, device, folder.id)?
    };
    let Some(state) = state else {
        notes.push(format!(
            "collection {id}: key {key}, no Sync state yet; Status 3"
        ));
        return Ok(answer(
            GetItemEstimateStatus::SYNC_STATE_NOT_PRIMED,
            Some(class),
            None,
        ));
    };
    let asked_filter = c.filter_type.or_else(|| {
        c.options
            .iter()
            .find(|o| o.class.as_deref().is_none_or(|k| k == class))
            .and_then(|o| o.filter_type)
    });
    if let Some(f) = asked_filter.filter(|f| f.0 != state.filter) {
        notes.push(format!(
            "collection {id}: FilterType {} asked; the Sync state counts with {}",
            f.0, state.filter
        ));
    }
    let scope = Scope {
        store,
        account,
        device,
        folder: folder.id,
    };
    let (count, how) =
        match syncengine::position(store, account, device, folder.id, key, state.filter)? {
            Position::Current(state) => (syncengine::estimate(scope, &state)?, ""),
            // The client lost our last answer: it will get that batch again,
            // then the rest.
            Position::Replay(state) => {
                let again = state.last.as_ref().map_or(0, |l| l.ops.len() as u64);
                (
                    again + syncengine::estimate(scope, &state)?,
                    " (the previous key: the last batch again and the rest)",
                )
            }
            Position::Invalid | Position::Stale(_) | Position::Initial(_) => {
                notes.push(format!(
                    "collection {id}: key {key} is not this device's; Status 4"
                ));
                return Ok(answer(
                    GetItemEstimateStatus::INVALID_SYNC_KEY,
                    Some(class),
                    None,
                ));
            }
        };
    notes.push(format!("collection {id}: estimate {count}{how}"));
    Ok(answer(
        GetItemEstimateStatus::SUCCESS,
        Some(class),
        Some(u32::try_from(count).unwrap_or(u32::MAX)),
    ))
}
