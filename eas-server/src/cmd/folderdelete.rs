//! FolderDelete (MS-ASCMD 2.2.1.4): a user folder, its subfolders and items.

use eas_proto::command::folder::{FolderDeleteRequest, FolderDeleteResponse, FolderDeleteStatus};
use eas_proto::wbxml::Element;

use super::hierarchy::{self, Failure, KeyCheck};
use super::{Context, Outcome};
use crate::push::HIERARCHY;
use crate::store::{Store, StoreResult};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    hierarchy::run_command(
        ctx,
        request,
        FolderDeleteRequest::from_element,
        answer,
        |(resp, note, folder)| {
            let wake = folder.map_or_else(Vec::new, |f| vec![HIERARCHY, f]);
            (resp.to_element(), note, wake)
        },
        |failure| {
            status(match failure {
                Failure::Malformed => FolderDeleteStatus::MALFORMED_REQUEST,
                Failure::Server => FolderDeleteStatus::SERVER_ERROR,
            })
        },
    )
    .await
}

fn status(status: FolderDeleteStatus) -> Element<'static> {
    FolderDeleteResponse {
        status,
        sync_key: None,
    }
    .to_element()
}

type Answer = (FolderDeleteResponse, String, Option<u32>);

fn answer(
    store: &dyn Store,
    account: &str,
    device: &str,
    req: &FolderDeleteRequest,
) -> StoreResult<Answer> {
    let fail = |status, why: String| {
        Ok((
            FolderDeleteResponse {
                status,
                sync_key: None,
            },
            why,
            None,
        ))
    };
    let KeyCheck::Current(state) =
        hierarchy::check(&req.sync_key, store.hierarchy_state(account, device)?)
    else {
        return fail(
            FolderDeleteStatus::INVALID_SYNC_KEY,
            format!("hierarchy key {} is not current", req.sync_key.as_str()),
        );
    };
    let Some(folder) = hierarchy::parse_folder_id(&req.server_id)
        .map(|id| store.folder(account, id))
        .transpose()?
        .flatten()
    else {
        return fail(
            FolderDeleteStatus::NOT_FOUND,
            format!("no folder {}", req.server_id.as_str()),
        );
    };
    if folder.is_default() {
        return fail(
            FolderDeleteStatus::SPECIAL_FOLDER,
            format!("{} is a default folder", folder.name),
        );
    }
    store.delete_folder(account, folder.id)?;
    let remaining: Vec<u32> = store.folders(account)?.iter().map(|f| f.id).collect();
    let known = state
        .known
        .iter()
        .copied()
        .filter(|id| remaining.contains(id))
        .collect();
    let next = hierarchy::advance(&state, state.hseq, known);
    store.put_hierarchy_state(account, device, &next)?;
    Ok((
        FolderDeleteResponse {
            status: FolderDeleteStatus::SUCCESS,
            sync_key: Some(hierarchy::wire_key(&next)),
        },
        format!(
            "deleted folder {} {:?} and everything in it",
            folder.id, folder.name
        ),
        Some(folder.id),
    ))
}
