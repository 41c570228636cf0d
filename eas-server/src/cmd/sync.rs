//! Sync (MS-ASCMD 2.2.1.21): the client's changes in, the server's changes
//! out, per collection, under sync keys that are a state machine. The
//! decisions are `syncengine`'s; this module reads the request, applies the
//! client's commands, saves the state durably, and streams the response.

use std::collections::HashSet;
use std::time::Duration;

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::BodyPreference;
use eas_proto::command::email::Email;
use eas_proto::command::ids::{ClientId, CollectionId, ServerId, SyncKey};
use eas_proto::command::sync::{
    ClientCommand, Collection, CollectionHeader, ItemResponse, MimeSupport, MimeTruncation,
    Options, Request, Response, Status, SyncResponseWriter,
};
use eas_proto::wbxml::Element;

use super::{Context, Outcome, blocking, note_bad_request, sync_drafts};
use crate::mail::content::{self, BodyRequest, ChosenBody};
use crate::store::mailbox::{FlagState, folder_type};
use crate::store::outbox::ClientIdLimits;
use crate::store::{ItemUpdate, MailItem, SavedOptions, SavedResponse, SentOp, Store, StoreResult};
use crate::syncengine::{self, Known, Position, Replay, Scope};
use crate::synckey;

/// Bounds of Wait (minutes) and HeartbeatInterval (seconds) (MS-ASCMD
/// 2.2.3.198, 2.2.3.83).
const WAIT_MINUTES: std::ops::RangeInclusive<u32> = 1..=59;
const HEARTBEAT_SECONDS: std::ops::RangeInclusive<u32> = 60..=3540;

/// Sent Items, where a draft sent from Sync leaves its copy.
fn sent_items() -> u32 {
    crate::store::mailbox::default_folder(folder_type::SENT_ITEMS).unwrap_or(4)
}

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return failure(Status::PROTOCOL_ERROR);
        }
        None => Request {
            partial: true,
            ..Default::default()
        },
    };
    let cache_key = (ctx.account.name.clone(), ctx.device.device_id.clone());
    // An empty or partial request completes the cached one (MS-ASCMD Partial).
    let request = if request.partial {
        let cached = ctx
            .state
            .sync_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
            .cloned();
        match cached {
            Some(mut cached) => {
                for c in request.collections {
                    cached
                        .collections
                        .retain(|old| old.collection_id != c.collection_id);
                    cached.collections.push(c);
                }
                if request.wait.is_some() || request.heartbeat_interval.is_some() {
                    cached.wait = request.wait;
                    cached.heartbeat_interval = request.heartbeat_interval;
                }
                cached
            }
            None if request.collections.is_empty() => {
                ctx.notes
                    .push("an empty Sync with no earlier request to repeat".into());
                return failure(Status::INCOMPLETE_REQUEST);
            }
            None => request,
        }
    } else {
        request
    };
    if request.wait.is_some() && request.heartbeat_interval.is_some() {
        ctx.notes.push("Wait and HeartbeatInterval together".into());
        return failure(Status::PROTOCOL_ERROR);
    }
    // Out of range: Status 14 with the nearest bound (MS-ASCMD Limit).
    let out_of_range = [
        (request.wait, &WAIT_MINUTES),
        (request.heartbeat_interval, &HEARTBEAT_SECONDS),
    ]
    .into_iter()
    .find_map(|(value, range)| {
        value
            .filter(|v| !range.contains(v))
            .map(|v| v.clamp(*range.start(), *range.end()))
    });
    if let Some(limit) = out_of_range {
        return Outcome::Wbxml(
            Response {
                status: Some(Status::INVALID_WAIT_OR_HEARTBEAT),
                limit: Some(limit),
                collections: vec![],
            }
            .to_element(),
        );
    }
    ctx.state
        .sync_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(cache_key, request.clone());

    let hold = request
        .wait
        .map(|m| Duration::from_secs(u64::from(m) * 60))
        .or(request
            .heartbeat_interval
            .map(|s| Duration::from_secs(u64::from(s))));
    let hub = ctx.state.hub.account(&ctx.account.name);
    let folders: Vec<u32> = request
        .collections
        .iter()
        .filter_map(|c| c.collection_id.as_str().parse().ok())
        .collect();
    let mut baseline = hub.versions(&folders);
    let deadline = hold.map(|h| tokio::time::Instant::now() + h);
    loop {
        // Registered before the work, so a change during it is not missed.
        let notified = hub.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let results = match process(ctx, &request).await {
            Some(r) => r,
            None => return failure(Status::SERVER_ERROR),
        };
        let anything = results.iter().any(|r| {
            !r.ops.is_empty()
                || !r.responses.is_empty()
                || r.header.status != Status::SUCCESS
                || r.header.more_available
                || r.initial
        });
        match deadline {
            Some(deadline) if !anything => {
                // Hold the request until a watched folder changes (MS-ASCMD
                // Wait): a task and a Notify registration, no polling.
                if hub.changed(&folders, &baseline).is_empty() {
                    tracing::debug!(account = %ctx.account.name, device = %ctx.device.device_id, "sync: waiting for a change");
                    let mut stopping = ctx.state.stopping.subscribe();
                    tokio::select! {
                        () = &mut notified => {}
                        _ = stopping.wait_for(|s| *s) => {
                            ctx.notes.push("the server is stopping".into());
                            return Outcome::Empty;
                        }
                        () = tokio::time::sleep_until(deadline) => {
                            ctx.notes.push("nothing changed while waiting".into());
                            // An empty response: nothing changed (MS-ASCMD 2.2.3.198).
                            return Outcome::Empty;
                        }
                    }
                    if let Some(refusal) = super::refused_while_held(ctx).await {
                        return refusal;
                    }
                }
                baseline = hub.versions(&folders);
            }
            _ => return render(ctx, results),
        }
    }
}

fn failure(status: Status) -> Outcome {
    Outcome::Wbxml(Response::failure(status).to_element())
}

/// A server change to send, with its item (and raw MIME for an Add).
type LoadedOp = (SentOp, Option<MailItem>, Option<Vec<u8>>);
/// An answer to a client command, with the item a Fetch returns.
type LoadedResponse = (SavedResponse, Option<(MailItem, Vec<u8>)>);

/// One collection's answer, with everything needed to write it.
#[derive(Debug)]
struct CollectionResult {
    header: CollectionHeader,
    /// The server's changes, each with its item (and raw MIME for an Add).
    ops: Vec<LoadedOp>,
    responses: Vec<LoadedResponse>,
    body: BodyRequest,
    initial: bool,
    /// An item this device failed on again and again, now held back.
    held: Option<(u32, u64)>,
    /// The device sent a key from further back than the previous one.
    stale: bool,
}

async fn process(ctx: &mut Context<'_>, request: &Request) -> Option<Vec<CollectionResult>> {
    let store = ctx.state.store.clone();
    let account = ctx.account.name.clone();
    let device = ctx.device.device_id.clone();
    let version = ctx.version;
    let config = &ctx.state.config;
    let outgoing = sync_drafts::Outgoing {
        host: crate::mail::queue::host_name(config),
        limits: ClientIdLimits {
            retention_secs: config.queue.client_id_retention_secs,
            max: config.queue.client_id_max,
        },
    };
    let collections = request.collections.clone();
    // MS-ASCMD 2.2.3.199: WindowSize 0 or over 512 means 512; the
    // configured cap may lower it (a phone asking for 512 of a slow
    // store's items waits for all of them).
    let cap = ctx.state.config.limits.max_sync_window.clamp(1, 512);
    let total_window = request
        .window_size
        .map(|w| if w == 0 { cap } else { w.min(cap) } as usize);
    let out = blocking(move || {
        let mut window = Window {
            cap,
            remaining: total_window.unwrap_or(usize::MAX),
        };
        let mut results = Vec::new();
        let mut notes = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        for c in &collections {
            let r = collection(store.as_ref(), &account, &device, version, c, &outgoing, &mut window, &mut notes, &mut touched);
            match r {
                Ok(r) => results.push(r),
                Err(e) => {
                    tracing::error!(account = %account, device = %device, error = %e, "Sync failed in the store");
                    notes.push(format!("collection {}: server error {e}", c.collection_id.as_str()));
                    let mut header = CollectionHeader::new(c.sync_key.clone(), c.collection_id.clone(), Status::SERVER_ERROR);
                    header.sync_key = None;
                    results.push(CollectionResult { header, ops: vec![], responses: vec![], body: BodyRequest::default(), initial: false, held: None, stale: false });
                }
            }
        }
        (results, notes, touched)
    })
    .await?;
    let (results, notes, touched) = out;
    ctx.notes.extend(notes);
    let mut device_changed = false;
    for r in &results {
        if let Some((folder, item)) = r.held {
            ctx.device.held.push(crate::store::HeldItem {
                folder,
                item,
                since: crate::time::now(),
            });
            device_changed = true;
        }
        if r.stale && !ctx.device.suspected_clone {
            ctx.device.suspected_clone = true;
            device_changed = true;
        }
    }
    if device_changed {
        let store = ctx.state.store.clone();
        let device = ctx.device.clone();
        if !matches!(
            blocking(move || store.put_device(&device)).await,
            Some(Ok(()))
        ) {
            tracing::error!(device = %ctx.device.device_id, "could not record held items on the device");
        }
    }
    if !touched.is_empty() {
        ctx.state.hub.notify(&ctx.account.name, &touched);
    }
    // A draft sent (email2:Send) put a copy in Sent Items and a message in
    // the queue; any other change there only wakes the worker for nothing.
    if touched.contains(&sent_items()) {
        ctx.state.outbound.kick();
    }
    Some(results)
}

fn saved_options(o: &Options) -> SavedOptions {
    SavedOptions {
        filter_type: o.filter_type.map(|f| f.0),
        mime_support: o.mime_support.map(|m| m.0),
        mime_truncation: o.mime_truncation.map(|m| m.0),
        body_preferences: o
            .body_preferences
            .iter()
            .map(|p| (p.body_type.0, p.truncation_size, p.all_or_none, p.preview))
            .collect(),
    }
}

fn body_request(o: &SavedOptions) -> BodyRequest {
    BodyRequest {
        preferences: o
            .body_preferences
            .iter()
            .map(|(t, size, all, preview)| BodyPreference {
                body_type: eas_proto::command::airsyncbase::BodyType(*t),
                truncation_size: *size,
                all_or_none: *all,
                preview: *preview,
            })
            .collect(),
        mime_support: o.mime_support.map(MimeSupport),
        mime_truncation: o.mime_truncation.map(MimeTruncation),
    }
}

pub(super) fn folder_class(kind: u8) -> &'static str {
    match kind {
        folder_type::CALENDAR | folder_type::USER_CALENDAR => "Calendar",
        folder_type::CONTACTS | folder_type::USER_CONTACTS => "Contacts",
        folder_type::TASKS | folder_type::USER_TASKS => "Tasks",
        folder_type::NOTES | folder_type::USER_NOTES => "Notes",
        _ => "Email",
    }
}

fn parse_server_id(id: &ServerId, folder: u32) -> Option<u64> {
    let (f, i) = id.as_str().split_once(':')?;
    (f.parse::<u32>().ok()? == folder).then_some(())?;
    i.parse().ok()
}

/// How many more items a response may carry: at most `cap` per
/// collection, `remaining` in all.
struct Window {
    cap: u32,
    remaining: usize,
}

#[allow(clippy::too_many_arguments)]
fn collection(
    store: &dyn Store,
    account: &str,
    device: &str,
    version: ProtocolVersion,
    c: &Collection,
    outgoing: &sync_drafts::Outgoing,
    window: &mut Window,
    notes: &mut Vec<String>,
    touched: &mut Vec<u32>,
) -> StoreResult<CollectionResult> {
    let fail = |status: Status, note: String, notes: &mut Vec<String>| {
        notes.push(note);
        let mut header = CollectionHeader::new(c.sync_key.clone(), c.collection_id.clone(), status);
        header.sync_key = None;
        CollectionResult {
            header,
            ops: vec![],
            responses: vec![],
            body: BodyRequest::default(),
            initial: false,
            held: None,
            stale: false,
        }
    };
    let Some(folder) = c
        .collection_id
        .as_str()
        .parse::<u32>()
        .ok()
        .map(|id| store.folder(account, id))
        .transpose()?
        .flatten()
    else {
        // The device's hierarchy is out of date (MS-ASCMD Status 12).
        return Ok(fail(
            Status::FOLDER_HIERARCHY_CHANGED,
            format!("no folder {}", c.collection_id.as_str()),
            notes,
        ));
    };
    if c.redefines_options() {
        return Ok(fail(
            Status::PROTOCOL_ERROR,
            "two Options for one class".into(),
            notes,
        ));
    }
    let class = folder_class(folder.kind);
    let new_options = c.options_for(class, class).map(saved_options);
    let filter = new_options
        .as_ref()
        .and_then(|o| o.filter_type)
        .unwrap_or(0);
    let scope = Scope {
        store,
        account,
        device,
        folder: folder.id,
    };
    let position = syncengine::position(
        store,
        account,
        device,
        folder.id,
        c.sync_key.as_str(),
        filter,
    )?;
    let header_for = |key: String, more: bool| {
        let mut h = CollectionHeader::new(
            SyncKey::new(key).unwrap_or_else(|_| SyncKey::initial()),
            c.collection_id.clone(),
            Status::SUCCESS,
        );
        h.more_available = more;
        if version < ProtocolVersion::V14_0 {
            h.class = Some(class.to_owned());
        }
        h
    };
    match position {
        Position::Invalid => Ok(fail(
            Status::INVALID_SYNC_KEY,
            format!(
                "collection {}: key {} is not this device's; Status 3",
                folder.id,
                c.sync_key.as_str()
            ),
            notes,
        )),
        Position::Initial(mut state) => {
            state.options = new_options;
            store.put_collection_state(
                account,
                device,
                folder.id,
                &state,
                Known::default().update(),
            )?;
            notes.push(format!(
                "collection {}: key 0, {} items to send",
                folder.id,
                state.snapshot.len()
            ));
            let body = state.options.as_ref().map(body_request).unwrap_or_default();
            Ok(CollectionResult {
                header: header_for(syncengine::wire_key(&state), false),
                ops: vec![],
                responses: vec![],
                body,
                initial: true,
                held: None,
                stale: false,
            })
        }
        // The previous key with commands other than those its lost answer
        // was for is not a retry: answering the saved batch would report
        // the new commands done without doing them. Status 3 instead.
        Position::Replay(state)
            if !c.commands.is_empty()
                && state.last.as_ref().and_then(|l| l.commands.as_deref())
                    != commands_digest(c).as_deref() =>
        {
            Ok(fail(
                Status::INVALID_SYNC_KEY,
                format!(
                    "collection {}: the previous key with other commands than its lost answer was for; Status 3",
                    folder.id
                ),
                notes,
            ))
        }
        Position::Replay(mut state) => {
            let client_key = synckey::parse(c.sync_key.as_str(), &state.epoch).unwrap_or(0);
            let (batch, held) = match syncengine::replay(&mut state, client_key) {
                Replay::Same(batch) => {
                    notes.push(format!(
                        "collection {}: the previous key again; the last batch is sent again",
                        folder.id
                    ));
                    (batch, None)
                }
                Replay::Narrowed(batch) => {
                    notes.push(format!(
                        "collection {}: the device keeps re-sending key {client_key}; the batch is narrowed to {} items",
                        folder.id,
                        batch.ops.len()
                    ));
                    (batch, None)
                }
                Replay::Held(item, batch) => {
                    notes.push(format!(
                        "collection {}: the device cannot take item {item}; it is held back (`eas-server device release` sends it again)",
                        folder.id
                    ));
                    tracing::warn!(
                        account,
                        device,
                        folder = folder.id,
                        item,
                        "loop protection: holding back an item the device keeps failing on"
                    );
                    (batch, Some((folder.id, item)))
                }
            };
            store.put_collection_state(
                account,
                device,
                folder.id,
                &state,
                Known::default().update(),
            )?;
            let body = state.options.as_ref().map(body_request).unwrap_or_default();
            let ops = load_ops(store, account, &batch.ops)?;
            let responses = load_responses(store, account, &batch.responses)?;
            Ok(CollectionResult {
                header: header_for(syncengine::wire_key(&state), batch.more_available),
                ops,
                responses,
                body,
                initial: false,
                held,
                stale: false,
            })
        }
        Position::Stale(n) => {
            tracing::warn!(
                account,
                device,
                folder = folder.id,
                key = n,
                "a sync key from further back: two installations with one DeviceId?"
            );
            let mut r = fail(
                Status::INVALID_SYNC_KEY,
                format!(
                    "collection {}: key {} is older than the previous one; two installations may share this DeviceId; Status 3",
                    folder.id,
                    c.sync_key.as_str()
                ),
                notes,
            );
            r.stale = true;
            Ok(r)
        }
        Position::Current(mut state) => {
            if let Some(o) = new_options {
                if o.filter_type.is_some_and(|f| f != state.filter) {
                    notes.push(format!(
                        "collection {}: FilterType changed without key 0; kept {}",
                        folder.id, state.filter
                    ));
                }
                state.options = Some(o);
            }
            let body = state.options.as_ref().map(body_request).unwrap_or_default();
            let mut known = Known::default();
            let mut skip = HashSet::new();
            let position_before = (state.synced, state.snapshot.len());
            let drafts = (version >= ProtocolVersion::V16_0 && folder.kind == folder_type::DRAFTS)
                .then_some(outgoing);
            let responses =
                apply_client_commands(scope, c, drafts, &mut known, &mut skip, notes, touched)?;
            let size = (c.window().min(window.cap) as usize).min(window.remaining);
            let batch = if c.wants_changes() {
                syncengine::next_batch(scope, &mut state, size, &skip, &mut known)?
            } else {
                syncengine::Batch::default()
            };
            window.remaining = window.remaining.saturating_sub(batch.ops.len());
            // The key moves whenever anything does: items sent, client
            // commands applied, or the log position passed own changes.
            let unchanged = batch.ops.is_empty()
                && c.commands.is_empty()
                && !batch.more_available
                && position_before == (state.synced, state.snapshot.len());
            if unchanged {
                // Nothing to say: the device keeps its key and nothing is
                // written, so an idle poll costs no fsync.
                let key = syncengine::wire_key(&state);
                return Ok(CollectionResult {
                    header: header_for(key, false),
                    ops: vec![],
                    responses: vec![],
                    body,
                    initial: false,
                    held: None,
                    stale: false,
                });
            }
            let saved: Vec<SavedResponse> = responses.clone();
            syncengine::advance(&mut state, &batch, saved);
            if let Some(last) = state.last.as_mut() {
                last.commands = commands_digest(c);
            }
            store.put_collection_state(account, device, folder.id, &state, known.update())?;
            notes.push(format!(
                "collection {}: {} server changes{}, {} client commands answered",
                folder.id,
                batch.ops.len(),
                if batch.more_available {
                    " (more available)"
                } else {
                    ""
                },
                responses.len()
            ));
            let ops = load_ops(store, account, &batch.ops)?;
            let responses = load_responses(store, account, &responses)?;
            Ok(CollectionResult {
                header: header_for(syncengine::wire_key(&state), batch.more_available),
                ops,
                responses,
                body,
                initial: false,
                held: None,
                stale: false,
            })
        }
    }
}

/// A digest of a collection's client commands, as they encode; `None`
/// when there are none.
fn commands_digest(c: &Collection) -> Option<String> {
    use sha2::Digest as _;
    if c.commands.is_empty() {
        return None;
    }
    let mut only = Collection::new(SyncKey::initial(), c.collection_id.clone());
    only.commands = c.commands.clone();
    let request = eas_proto::command::sync::Request {
        collections: vec![only],
        ..Default::default()
    };
    let bytes = request.to_element().encode().unwrap_or_default();
    Some(
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn load_ops(store: &dyn Store, account: &str, ops: &[SentOp]) -> StoreResult<Vec<LoadedOp>> {
    ops.iter()
        .map(|op| {
            Ok(match op {
                SentOp::Add(id) => (
                    *op,
                    store.item(account, *id)?,
                    store.item_mime(account, *id)?,
                ),
                SentOp::Change(id) => (*op, store.item(account, *id)?, None),
                SentOp::Replace(id) => (
                    *op,
                    store.item(account, *id)?,
                    store.item_mime(account, *id)?,
                ),
                SentOp::Delete(_) | SentOp::SoftDelete(_) => (*op, None, None),
            })
        })
        .collect()
}

fn load_responses(
    store: &dyn Store,
    account: &str,
    responses: &[SavedResponse],
) -> StoreResult<Vec<LoadedResponse>> {
    responses
        .iter()
        .map(|r| {
            let fetched = match r {
                SavedResponse::Fetch {
                    server_id,
                    status: 1,
                } => match server_id
                    .split_once(':')
                    .and_then(|(_, i)| i.parse::<u64>().ok())
                {
                    Some(id) => store.item(account, id)?.zip(store.item_mime(account, id)?),
                    None => None,
                },
                _ => None,
            };
            Ok((r.clone(), fetched))
        })
        .collect()
}

fn flag_state(flag: &eas_proto::command::email::Flag) -> Option<FlagState> {
    let status = flag.status.map_or(0, |s| s.0);
    if status == 0 && flag.flag_type.is_none() {
        return None;
    }
    let date = |d: &Option<eas_proto::command::DateTime>| d.as_ref().map(|d| d.as_str().to_owned());
    Some(FlagState {
        status,
        flag_type: flag.flag_type.clone().unwrap_or_default(),
        start_date: date(&flag.utc_start_date).or(date(&flag.start_date)),
        due_date: date(&flag.utc_due_date).or(date(&flag.due_date)),
        date_completed: date(&flag.date_completed).or(date(&flag.complete_time)),
        reminder_set: flag.reminder_set.unwrap_or(false),
        reminder_time: date(&flag.reminder_time),
    })
}

/// Applies the client's Commands in order; returns the answers to send.
/// `drafts`: the collection is Drafts at 16.0+, where a client writes
/// whole items and may send them (`sync_drafts`).
fn apply_client_commands(
    scope: Scope<'_>,
    c: &Collection,
    drafts: Option<&sync_drafts::Outgoing>,
    known: &mut Known,
    skip: &mut HashSet<u64>,
    notes: &mut Vec<String>,
    touched: &mut Vec<u32>,
) -> StoreResult<Vec<SavedResponse>> {
    let Scope {
        store,
        account,
        folder,
        ..
    } = scope;
    let mut out = Vec::new();
    let find = |id: &ServerId| -> StoreResult<Option<MailItem>> {
        let Some(item) = parse_server_id(id, folder) else {
            return Ok(None);
        };
        Ok(store.item(account, item)?.filter(|i| i.folder == folder))
    };
    for command in &c.commands {
        match command {
            ClientCommand::Change {
                server_id,
                application_data,
                send,
                ..
            } => {
                let Some(item) = find(server_id)? else {
                    notes.push(format!(
                        "Change of {}: no such item here",
                        server_id.as_str()
                    ));
                    out.push(SavedResponse::Failed {
                        server_id: server_id.as_str().to_owned(),
                        status: Status::OBJECT_NOT_FOUND.0,
                        delete: false,
                    });
                    continue;
                };
                let email = match Email::from_element(application_data) {
                    Ok(e) => e,
                    Err(e) => {
                        notes.push(format!("Change of {}: {e}", server_id.as_str()));
                        out.push(SavedResponse::Failed {
                            server_id: server_id.as_str().to_owned(),
                            status: Status::CONVERSION_ERROR.0,
                            delete: false,
                        });
                        continue;
                    }
                };
                let update = ItemUpdate {
                    read: email.read,
                    flag: email.flag.as_ref().map(flag_state),
                    categories: email.categories.clone(),
                };
                if update != ItemUpdate::default() {
                    let updated = store.update_item(account, item.id, &update)?;
                    skip.insert(updated.modseq);
                    touched.push(folder);
                }
                if let Some(outgoing) =
                    drafts.filter(|_| *send || sync_drafts::changes_content(&email))
                {
                    let applied =
                        sync_drafts::change(scope, &item, &email, *send, outgoing, notes)?;
                    if let Some(modseq) = applied.modseq {
                        skip.insert(modseq);
                    }
                    touched.push(folder);
                    if *send {
                        touched.push(sent_items());
                    }
                    out.extend(applied.response);
                }
            }
            ClientCommand::Delete { server_id, .. } => {
                let Some(item) = find(server_id)? else {
                    notes.push(format!(
                        "Delete of {}: no such item here",
                        server_id.as_str()
                    ));
                    out.push(SavedResponse::Failed {
                        server_id: server_id.as_str().to_owned(),
                        status: Status::OBJECT_NOT_FOUND.0,
                        delete: true,
                    });
                    continue;
                };
                let trash =
                    crate::store::mailbox::default_folder(folder_type::DELETED_ITEMS).unwrap_or(3);
                if c.deletes_are_moves() && folder != trash {
                    store.move_item(account, item.id, trash)?;
                    touched.extend([folder, trash]);
                } else {
                    store.delete_item(account, item.id)?;
                    touched.push(folder);
                }
                known.remove(item.id);
            }
            ClientCommand::Add {
                client_id,
                application_data,
                send,
                class,
            } => {
                let email_class = class.as_deref().is_none_or(|k| k == "Email");
                let Some(outgoing) = drafts.filter(|_| email_class) else {
                    // Only drafts, and only from 16.0 (MS-ASEMAIL 16.0
                    // drafts), are written by clients; other Email items
                    // come by mail.
                    notes.push(format!(
                        "Add {}: creating items from the client is not supported in this folder",
                        client_id.as_str()
                    ));
                    out.push(SavedResponse::Add {
                        client_id: client_id.as_str().to_owned(),
                        item: None,
                        status: Status::CANNOT_COMPLETE.0,
                        attachments: Vec::new(),
                    });
                    continue;
                };
                let applied = sync_drafts::add(
                    scope,
                    client_id,
                    application_data,
                    *send,
                    outgoing,
                    known,
                    notes,
                )?;
                if let Some(modseq) = applied.modseq {
                    skip.insert(modseq);
                    touched.push(folder);
                }
                if *send {
                    touched.push(sent_items());
                }
                out.extend(applied.response);
            }
            ClientCommand::Fetch { server_id } => {
                let status = if find(server_id)?.is_some() {
                    Status::SUCCESS
                } else {
                    Status::OBJECT_NOT_FOUND
                };
                out.push(SavedResponse::Fetch {
                    server_id: server_id.as_str().to_owned(),
                    status: status.0,
                });
            }
        }
    }
    Ok(out)
}

fn render(ctx: &mut Context<'_>, results: Vec<CollectionResult>) -> Outcome {
    let version = ctx.version;
    let write = || -> Result<Vec<u8>, eas_proto::command::sync::WriteError> {
        let mut w = SyncResponseWriter::new(Vec::with_capacity(4096))?;
        for r in &results {
            w.begin_collection(&r.header)?;
            for (op, item, raw) in &r.ops {
                match (op, item, raw) {
                    // An item moved away since the batch was chosen (a
                    // replay, or a move that ran between choosing and
                    // loading): not here any more, and never under another
                    // folder's ServerId. Its Delete comes in the next batch.
                    (SentOp::Add(_) | SentOp::Replace(_) | SentOp::Change(_), Some(item), _)
                        if Some(item.folder) != r.header.collection_id.as_str().parse().ok() => {}
                    (SentOp::Add(_), Some(item), Some(raw)) => {
                        let Ok(sid) = ServerId::new(content::server_id(item)) else {
                            continue;
                        };
                        let c = content::item_content(item, raw, &r.body, version);
                        w.add(&sid, |w| c.write(w))?;
                    }
                    // A replaced content: the whole item, as an Add has it.
                    (SentOp::Replace(_), Some(item), Some(raw)) => {
                        let Ok(sid) = ServerId::new(content::server_id(item)) else {
                            continue;
                        };
                        let c = content::item_content(item, raw, &r.body, version);
                        w.change(&sid, |w| c.write(w))?;
                    }
                    (SentOp::Change(_), Some(item), _) => {
                        let Ok(sid) = ServerId::new(content::server_id(item)) else {
                            continue;
                        };
                        let props = content::changed_properties(item);
                        w.change(&sid, |w| props.write_children(w))?;
                    }
                    (SentOp::Delete(id) | SentOp::SoftDelete(id), _, _) => {
                        let Ok(sid) =
                            ServerId::new(format!("{}:{id}", r.header.collection_id.as_str()))
                        else {
                            continue;
                        };
                        if matches!(op, SentOp::Delete(_)) {
                            w.delete(&sid)?;
                        } else {
                            w.soft_delete(&sid)?;
                        }
                    }
                    // The item went away since the batch was chosen (a
                    // replay): nothing to send for it.
                    _ => {}
                }
            }
            for (saved, fetched) in &r.responses {
                if let Some(resp) = item_response(
                    saved,
                    fetched.as_ref(),
                    &r.body,
                    version,
                    &r.header.collection_id,
                ) {
                    w.response(&resp)?;
                }
            }
            w.end_collection()?;
        }
        w.finish()
    };
    match write() {
        Ok(bytes) => Outcome::Encoded(bytes),
        Err(e) => {
            tracing::error!(error = %e, "writing a Sync response");
            failure(Status::SERVER_ERROR)
        }
    }
}

/// The answer to one client command; `None` if an id no longer parses
/// (never, for ids this server took from a valid request).
fn item_response(
    saved: &SavedResponse,
    fetched: Option<&(MailItem, Vec<u8>)>,
    body: &BodyRequest,
    version: ProtocolVersion,
    collection: &CollectionId,
) -> Option<ItemResponse> {
    let sid = |s: &str| ServerId::new(s).ok();
    Some(match saved {
        SavedResponse::Add {
            client_id,
            item,
            status,
            attachments,
        } => ItemResponse::Add {
            class: None,
            client_id: ClientId::new(client_id.as_str()).ok()?,
            server_id: match item {
                Some(i) => Some(sid(&format!("{}:{i}", collection.as_str()))?),
                None => None,
            },
            status: Status(*status),
            application_data: sync_drafts::added_attachments(attachments),
        },
        SavedResponse::Changed {
            server_id,
            attachments,
        } => ItemResponse::Change {
            class: None,
            server_id: sid(server_id)?,
            status: Status::SUCCESS,
            application_data: sync_drafts::added_attachments(attachments),
        },
        SavedResponse::Failed {
            server_id,
            status,
            delete: true,
        } => ItemResponse::Delete {
            server_id: sid(server_id)?,
            status: Status(*status),
        },
        SavedResponse::Failed {
            server_id,
            status,
            delete: false,
        } => ItemResponse::Change {
            class: None,
            server_id: sid(server_id)?,
            status: Status(*status),
            application_data: None,
        },
        SavedResponse::Fetch { server_id, status } => {
            let application_data = fetched.map(|(item, raw)| {
                let mut c = content::item_content(item, raw, body, version);
                // The tree form holds text only; a MIME body that is not
                // UTF-8 is marked truncated, for ItemOperations to fetch.
                if let Some(ChosenBody::Mime {
                    estimated, data, ..
                }) = &c.body
                {
                    let text = String::from_utf8(data.clone()).ok();
                    c.email.body = Some(eas_proto::command::airsyncbase::Body {
                        body_type: eas_proto::command::airsyncbase::BodyType::MIME,
                        estimated_data_size: Some(*estimated),
                        truncated: Some(text.is_none()),
                        data: text,
                        part: None,
                        preview: None,
                    });
                }
                c.email.to_element()
            });
            let found = *status == Status::SUCCESS.0 && application_data.is_some();
            ItemResponse::Fetch {
                server_id: Some(sid(server_id)?),
                status: if found {
                    Status::SUCCESS
                } else {
                    Status::OBJECT_NOT_FOUND
                },
                application_data,
            }
        }
    })
}
