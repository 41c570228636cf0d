//! FolderUpdate (MS-ASCMD 2.2.1.6): rename or move a user folder.

use eas_proto::command::folder::{FolderUpdateRequest, FolderUpdateResponse, FolderUpdateStatus};
use eas_proto::wbxml::Element;

use super::hierarchy::{self, KeyCheck};
use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{Store, StoreError, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(FolderUpdateRequest::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return status(FolderUpdateStatus::MALFORMED_REQUEST);
        }
        None => return status(FolderUpdateStatus::MALFORMED_REQUEST),
    };
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let device = ctx.device.device_id.clone();
    match blocking(move || answer(store.as_ref(), &account, &device, &request)).await {
        Some(Ok((resp, note))) => {
            ctx.notes.push(note);
            if resp.status == FolderUpdateStatus::SUCCESS {
                ctx.state
                    .hub
                    .notify(&ctx.account.name, &[crate::push::HIERARCHY]);
            }
            Outcome::Wbxml(resp.to_element())
        }
        _ => status(FolderUpdateStatus::SERVER_ERROR),
    }
}

fn status(status: FolderUpdateStatus) -> Outcome {
    Outcome::Wbxml(
        FolderUpdateResponse {
            status,
            sync_key: None,
        }
        .to_element(),
    )
}

fn answer(
    store: &dyn Store,
    account: &str,
    device: &str,
    req: &FolderUpdateRequest,
) -> StoreResult<(FolderUpdateResponse, String)> {
    let fail = |status, why: String| {
        Ok((
            FolderUpdateResponse {
                status,
                sync_key: None,
            },
            why,
        ))
    };
    let KeyCheck::Current(state) =
        hierarchy::check(&req.sync_key, store.hierarchy_state(account, device)?)
    else {
        return fail(
            FolderUpdateStatus::INVALID_SYNC_KEY,
            format!("hierarchy key {} is not current", req.sync_key.as_str()),
        );
    };
    let Some(folder) = hierarchy::parse_folder_id(&req.server_id)
        .map(|id| store.folder(account, id))
        .transpose()?
        .flatten()
    else {
        return fail(
            FolderUpdateStatus::NOT_FOUND,
            format!("no folder {}", req.server_id.as_str()),
        );
    };
    if folder.is_default() {
        return fail(
            FolderUpdateStatus::ALREADY_EXISTS_OR_SPECIAL,
            format!("{} is a default folder", folder.name),
        );
    }
    let Some(parent) = hierarchy::parse_folder_id(&req.parent_id) else {
        return fail(
            FolderUpdateStatus::PARENT_NOT_FOUND,
            format!("no folder {}", req.parent_id.as_str()),
        );
    };
    let name = req.display_name.trim();
    if name.is_empty() {
        return fail(
            FolderUpdateStatus::MALFORMED_REQUEST,
            "an empty folder name".into(),
        );
    }
    match store.update_folder(account, folder.id, parent, name) {
        Ok(_) => {}
        Err(StoreError::Exists(_)) => {
            return fail(
                FolderUpdateStatus::ALREADY_EXISTS_OR_SPECIAL,
                format!("{name:?} exists there"),
            );
        }
        Err(StoreError::NotFound(_)) => {
            return fail(
                FolderUpdateStatus::PARENT_NOT_FOUND,
                format!("no folder {parent}"),
            );
        }
        Err(e) => return Err(e),
    }
    let next = hierarchy::advance(&state, state.hseq, state.known.clone());
    store.put_hierarchy_state(account, device, &next)?;
    Ok((
        FolderUpdateResponse {
            status: FolderUpdateStatus::SUCCESS,
            sync_key: Some(hierarchy::wire_key(&next)),
        },
        format!("folder {} is now {name:?} under {parent}", folder.id),
    ))
}
