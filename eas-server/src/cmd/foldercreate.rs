//! FolderCreate (MS-ASCMD 2.2.1.3): a user folder under any folder.

use eas_proto::command::folder::{FolderCreateRequest, FolderCreateResponse, FolderCreateStatus};
use eas_proto::wbxml::Element;

use super::hierarchy::{self, Failure, KeyCheck};
use super::{Context, Outcome};
use crate::push::HIERARCHY;
use crate::store::{Store, StoreError, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    hierarchy::run_command(
        ctx,
        request,
        FolderCreateRequest::from_element,
        answer,
        |(resp, note)| {
            let wake = if resp.status == FolderCreateStatus::SUCCESS {
                vec![HIERARCHY]
            } else {
                vec![]
            };
            (resp.to_element(), note, wake)
        },
        |failure| {
            status(match failure {
                Failure::Malformed => FolderCreateStatus::MALFORMED_REQUEST,
                Failure::Server => FolderCreateStatus::SERVER_ERROR,
            })
        },
    )
    .await
}

fn status(status: FolderCreateStatus) -> Element<'static> {
    FolderCreateResponse {
        status,
        sync_key: None,
        server_id: None,
    }
    .to_element()
}

fn answer(
    store: &dyn Store,
    account: &str,
    device: &str,
    req: &FolderCreateRequest,
) -> StoreResult<(FolderCreateResponse, String)> {
    let fail = |status, why: String| {
        Ok((
            FolderCreateResponse {
                status,
                sync_key: None,
                server_id: None,
            },
            why,
        ))
    };
    let KeyCheck::Current(state) =
        hierarchy::check(&req.sync_key, store.hierarchy_state(account, device)?)
    else {
        return fail(
            FolderCreateStatus::INVALID_SYNC_KEY,
            format!("hierarchy key {} is not current", req.sync_key.as_str()),
        );
    };
    if !req.folder_type.is_user_created() {
        return fail(
            FolderCreateStatus::MALFORMED_REQUEST,
            format!("type {} is not a user folder type", req.folder_type),
        );
    }
    let name = req.display_name.trim();
    if name.is_empty() {
        return fail(
            FolderCreateStatus::MALFORMED_REQUEST,
            "an empty folder name".into(),
        );
    }
    let Some(parent) = hierarchy::parse_folder_id(&req.parent_id) else {
        return fail(
            FolderCreateStatus::PARENT_NOT_FOUND,
            format!("no folder {}", req.parent_id.as_str()),
        );
    };
    let folder = match store.create_folder(account, parent, name, req.folder_type.0) {
        Ok(f) => f,
        Err(StoreError::Exists(_)) => {
            return fail(
                FolderCreateStatus::ALREADY_EXISTS,
                format!("{name:?} exists there"),
            );
        }
        Err(StoreError::NotFound(_)) => {
            return fail(
                FolderCreateStatus::PARENT_NOT_FOUND,
                format!("no folder {parent}"),
            );
        }
        Err(e) => return Err(e),
    };
    let mut known = state.known.clone();
    known.push(folder.id);
    let next = hierarchy::advance(&state, state.hseq, known);
    store.put_hierarchy_state(account, device, &next)?;
    Ok((
        FolderCreateResponse {
            status: FolderCreateStatus::SUCCESS,
            sync_key: Some(hierarchy::wire_key(&next)),
            server_id: Some(hierarchy::collection_id(folder.id)),
        },
        format!("created folder {} {name:?} under {parent}", folder.id),
    ))
}
