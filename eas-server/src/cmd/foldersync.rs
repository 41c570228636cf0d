//! FolderSync (MS-ASCMD 2.2.1.5): the folder hierarchy, in full from key 0,
//! then as the changes since the key the device holds.

use eas_proto::command::folder::{
    FolderChanges, FolderSyncRequest, FolderSyncResponse, FolderSyncStatus,
};
use eas_proto::wbxml::Element;

use super::hierarchy::{self, KeyCheck};
use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{HierarchyChange, HierarchyState, Store, StoreResult};
use crate::synckey;

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(FolderSyncRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return reply(FolderSyncStatus::MALFORMED_REQUEST, None);
        }
        None => {
            ctx.notes.push("FolderSync without a body".into());
            return reply(FolderSyncStatus::MALFORMED_REQUEST, None);
        }
    };
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let device = ctx.device.device_id.clone();
    let result = blocking(move || answer(store.as_ref(), &account, &device, &request)).await;
    match result {
        Some(Ok((resp, note))) => {
            ctx.notes.push(note);
            Outcome::Wbxml(resp.to_element())
        }
        _ => {
            tracing::error!(account = %ctx.account.name, "FolderSync failed in the store");
            reply(FolderSyncStatus::SERVER_ERROR, None)
        }
    }
}

fn reply(status: FolderSyncStatus, _: Option<()>) -> Outcome {
    Outcome::Wbxml(
        FolderSyncResponse {
            status,
            sync_key: None,
            changes: None,
        }
        .to_element(),
    )
}

fn answer(
    store: &dyn Store,
    account: &str,
    device: &str,
    request: &FolderSyncRequest,
) -> StoreResult<(FolderSyncResponse, String)> {
    let (base, replay) =
        match hierarchy::check(&request.sync_key, store.hierarchy_state(account, device)?) {
            KeyCheck::Initial => (
                HierarchyState {
                    epoch: synckey::new_epoch(),
                    ..Default::default()
                },
                false,
            ),
            KeyCheck::Current(state) => (state, false),
            KeyCheck::Previous(state) => (state, true),
            KeyCheck::Invalid => {
                let resp = FolderSyncResponse {
                    status: FolderSyncStatus::INVALID_SYNC_KEY,
                    sync_key: None,
                    changes: None,
                };
                return Ok((
                    resp,
                    format!(
                        "hierarchy key {} is not this device's: Status 9",
                        request.sync_key.as_str()
                    ),
                ));
            }
        };
    let (newest, changes) = store.hierarchy_changes(account, base.hseq)?;
    let mut known = base.known.clone();
    let (mut adds, mut updates, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            HierarchyChange::Upserted(folder) if known.contains(&folder.id) => {
                updates.push(hierarchy::wire_folder(&folder))
            }
            HierarchyChange::Upserted(folder) => {
                known.push(folder.id);
                adds.push(hierarchy::wire_folder(&folder));
            }
            HierarchyChange::Deleted(id) if known.contains(&id) => {
                known.retain(|k| *k != id);
                deletes.push(hierarchy::collection_id(id));
            }
            HierarchyChange::Deleted(_) => {}
        }
    }
    let nothing = adds.is_empty() && updates.is_empty() && deletes.is_empty();
    let state = if nothing && !replay && base.key > 0 {
        // Nothing new: the device keeps its key.
        base
    } else {
        let next = hierarchy::advance(&base, newest, known);
        store.put_hierarchy_state(account, device, &next)?;
        next
    };
    let note = format!(
        "FolderSync from {}{}: {} added, {} updated, {} deleted",
        request.sync_key.as_str(),
        if replay {
            " (a retry of the previous key)"
        } else {
            ""
        },
        adds.len(),
        updates.len(),
        deletes.len()
    );
    let resp = FolderSyncResponse {
        status: FolderSyncStatus::SUCCESS,
        sync_key: Some(hierarchy::wire_key(&state)),
        changes: Some(FolderChanges::new(adds, updates, deletes)),
    };
    Ok((resp, note))
}
