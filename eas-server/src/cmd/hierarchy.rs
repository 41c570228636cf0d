//! What FolderSync, FolderCreate, FolderUpdate and FolderDelete share: the
//! device's hierarchy sync key and the folders it knows.

use eas_proto::command::CommandError;
use eas_proto::command::folder::{Folder as WireFolder, FolderType};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::wbxml::Element;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{Folder, HierarchyState, Store, StoreError, StoreResult};
use crate::synckey;

/// Where a request's hierarchy key stands.
#[derive(Debug)]
pub enum KeyCheck {
    /// Key 0: start over.
    Initial,
    /// The device's current key.
    Current(HierarchyState),
    /// The key before: the client lost our last answer. The state to answer
    /// from is the one that key stood for.
    Previous(HierarchyState),
    /// Anything else: Status 9.
    Invalid,
}

/// Extra state the FolderSync engine keeps per device: the folder ids it
/// knows, so a change is sent as Add or Update correctly. Kept inside the
/// epoch string's sibling field list of [`HierarchyState`] would be opaque;
/// instead it rides in `HierarchyState::known` (see store).
pub fn check(key: &SyncKey, state: Option<HierarchyState>) -> KeyCheck {
    if key.is_initial() {
        return KeyCheck::Initial;
    }
    let Some(state) = state else {
        return KeyCheck::Invalid;
    };
    match synckey::parse(key.as_str(), &state.epoch) {
        Some(n) if n == state.key => KeyCheck::Current(state),
        Some(n) => match &state.previous {
            Some(prev) if prev.key == n => KeyCheck::Previous(HierarchyState {
                epoch: state.epoch.clone(),
                key: prev.key,
                hseq: prev.hseq,
                known: prev.known.clone(),
                previous: None,
                next_key: state.next_key,
            }),
            _ => KeyCheck::Invalid,
        },
        None => KeyCheck::Invalid,
    }
}

/// The state after a change: a fresh key number (never one handed out
/// before in this epoch), the one before kept for a retry.
pub fn advance(from: &HierarchyState, hseq: u64, known: Vec<u32>) -> HierarchyState {
    let key = from.next_key.max(from.key) + 1;
    HierarchyState {
        epoch: from.epoch.clone(),
        key,
        hseq,
        known,
        previous: Some(crate::store::sync_state::PreviousHierarchy {
            key: from.key,
            hseq: from.hseq,
            known: from.known.clone(),
        }),
        next_key: key,
    }
}

pub fn wire_key(state: &HierarchyState) -> SyncKey {
    synckey::key(&state.epoch, state.key)
}

pub fn collection_id(id: u32) -> CollectionId {
    CollectionId::new(id.to_string()).unwrap_or_else(|_| CollectionId::root())
}

/// A folder id from the client: a number we handed out, or nothing.
pub fn parse_folder_id(id: &CollectionId) -> Option<u32> {
    id.as_str().parse().ok()
}

pub fn wire_folder(f: &Folder) -> WireFolder {
    WireFolder {
        server_id: collection_id(f.id),
        parent_id: collection_id(f.parent),
        display_name: f.name.clone(),
        folder_type: FolderType(f.kind),
    }
}

/// Whether a store error is the client's (a name taken, a folder gone).
pub fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::NotFound(_))
}

/// What a folder command decided: its response, a note for the trace, and
/// the folders to wake on the push hub (the hierarchy among them).
pub type Decided = (Element<'static>, String, Vec<u32>);

/// The frame the four folder commands share: read the request (a
/// malformed one gets the command's status 10), do the work off the
/// reactor, note, wake the hub, answer (a store failure gets status 6).
pub async fn run_command<R, T>(
    ctx: &mut Context<'_>,
    request: Option<&Element<'_>>,
    parse: fn(&Element<'_>) -> Result<R, CommandError>,
    work: fn(&dyn Store, &str, &str, &R) -> StoreResult<T>,
    decided: fn(T) -> Decided,
    failure: fn(Failure) -> Element<'static>,
) -> Outcome
where
    R: Send + 'static,
    T: Send + 'static,
{
    let request = match request.map(parse) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return Outcome::Wbxml(failure(Failure::Malformed));
        }
        None => {
            ctx.notes
                .push(format!("{} without a body", ctx.line.command));
            return Outcome::Wbxml(failure(Failure::Malformed));
        }
    };
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let device = ctx.device.device_id.clone();
    match blocking(move || work(store.as_ref(), &account, &device, &request)).await {
        Some(Ok(t)) => {
            let (response, note, wake) = decided(t);
            ctx.notes.push(note);
            if !wake.is_empty() {
                ctx.state.hub.notify(&ctx.account.name, &wake);
            }
            Outcome::Wbxml(response)
        }
        Some(Err(e)) => {
            tracing::error!(account = %ctx.account.name, error = %e, "{} failed in the store", ctx.line.command);
            Outcome::Wbxml(failure(Failure::Server))
        }
        None => Outcome::Wbxml(failure(Failure::Server)),
    }
}

/// Why a folder command failed before deciding anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Status 10.
    Malformed,
    /// Status 6.
    Server,
}
