//! FolderUpdate (MS-ASCMD 2.2.1.6): rename or move a user folder.

use eas_proto::command::folder::{FolderUpdateRequest, FolderUpdateResponse, FolderUpdateStatus};
use eas_proto::wbxml::Element;

use super::hierarchy::{self, Failure, KeyCheck};
use super::{Context, Outcome};
use crate::push::HIERARCHY;
use crate::store::{Store, StoreError, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    hierarchy::run_command(
        ctx,
        request,
        FolderUpdateRequest::from_element,
        answer,
        |(resp, note)| {
            let wake = if resp.status == FolderUpdateStatus::SUCCESS {
                vec![HIERARCHY]
            } else {
                vec![]
            };
            (resp.to_element(), note, wake)
        },
        |failure| {
            status(match failure {
                Failure::Malformed => FolderUpdateStatus::MALFORMED_REQUEST,
                Failure::Server => FolderUpdateStatus::SERVER_ERROR,
            })
        },
    )
    .await
}

fn status(status: FolderUpdateStatus) -> Element<'static> {
    FolderUpdateResponse {
        status,
        sync_key: None,
    }
    .to_element()
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
