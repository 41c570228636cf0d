//! Ping (MS-ASCMD 2.2.1.13): held until a watched folder has something for
//! this device, the hierarchy changes, the heartbeat ends, or the device
//! sends another Ping. Waiting costs a task and a registration on the push
//! hub: the store is read when something changed, never polled.

use std::time::Duration;

use eas_proto::command::ids::CollectionId;
use eas_proto::command::ping::{Folder, Request, Response, Status};
use eas_proto::wbxml::Element;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::push::HIERARCHY;
use crate::store::{Store, StoreResult};

/// What a device last pinged with, which an empty Ping repeats.
#[derive(Debug, Clone)]
pub struct PingParams {
    pub heartbeat: u32,
    pub folders: Vec<Folder>,
}

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return reply(Response::new(Status::PROTOCOL_ERROR));
        }
        None => Request::default(),
    };
    let key = (ctx.account.name.clone(), ctx.device.device_id.clone());
    let cached = ctx
        .state
        .ping_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let (Some(heartbeat), Some(folders)) = (
        request
            .heartbeat_interval
            .or(cached.as_ref().map(|c| c.heartbeat)),
        request.folders.or(cached.map(|c| c.folders)),
    ) else {
        ctx.notes
            .push("Ping without heartbeat or folders, and no earlier Ping to repeat".into());
        return reply(Response::new(Status::MISSING_PARAMETERS));
    };
    let limits = &ctx.state.config.push;
    if heartbeat < limits.min_heartbeat_secs || heartbeat > limits.max_heartbeat_secs {
        let bound = heartbeat.clamp(limits.min_heartbeat_secs, limits.max_heartbeat_secs);
        ctx.notes.push(format!(
            "heartbeat {heartbeat} s is outside {}..={}",
            limits.min_heartbeat_secs, limits.max_heartbeat_secs
        ));
        return reply(Response {
            heartbeat_interval: Some(bound),
            ..Response::new(Status::HEARTBEAT_OUT_OF_RANGE)
        });
    }
    if folders.len() > limits.max_folders as usize {
        return reply(Response {
            max_folders: Some(limits.max_folders),
            ..Response::new(Status::TOO_MANY_FOLDERS)
        });
    }
    ctx.state
        .ping_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            key.clone(),
            PingParams {
                heartbeat,
                folders: folders.clone(),
            },
        );

    let Some(ids) = folders
        .iter()
        .map(|f| f.id.as_str().parse::<u32>().ok())
        .collect::<Option<Vec<u32>>>()
    else {
        ctx.notes
            .push("a watched folder id is not one of ours".into());
        return reply(Response::new(Status::HIERARCHY_CHANGED));
    };
    // A new Ping from the device ends the one it holds.
    let (generation, cancel) = ctx.state.hub.begin_hold(&key);
    let hub = ctx.state.hub.account(&ctx.account.name);
    let mut stopping = ctx.state.stopping.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(heartbeat));
    let mut watched = ids.clone();
    watched.push(HIERARCHY);
    let mut baseline = Vec::new();
    let mut look = true;
    let mut woken = false;
    loop {
        let notified = hub.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let cancelled = cancel.notified();
        tokio::pin!(cancelled);
        cancelled.as_mut().enable();
        if look {
            // Taken before the store is read: a change the read misses
            // moves a version past it, and the next wake reads again.
            baseline = hub.versions(&watched);
            let store = ctx.state.store.clone();
            let (account, device, check) = (
                ctx.account.name.clone(),
                ctx.device.device_id.clone(),
                ids.clone(),
            );
            // After a wake the device is read again with the folders: an
            // administrator may have blocked it meanwhile.
            let read = blocking(move || {
                let now = woken.then(|| store.device(&account, &device));
                (now, pending(store.as_ref(), &account, &device, &check))
            })
            .await;
            let Some((now, pending)) = read else {
                return reply(Response::new(Status::SERVER_ERROR));
            };
            if let Some(now) = now {
                if let Some(refusal) = super::refusal_after_hold(ctx, Some(now)) {
                    return refusal;
                }
            }
            match pending {
                Ok(Pending::Hierarchy) => {
                    ctx.notes.push("the folder hierarchy changed".into());
                    return reply(Response::new(Status::HIERARCHY_CHANGED));
                }
                Ok(Pending::Folders(changed)) if !changed.is_empty() => {
                    ctx.notes.push(format!("changes in folders {changed:?}"));
                    let folders = changed
                        .iter()
                        .filter_map(|f| CollectionId::new(f.to_string()).ok())
                        .collect();
                    return reply(Response {
                        folders,
                        ..Response::new(Status::CHANGES)
                    });
                }
                Ok(Pending::Folders(_)) => {}
                Err(e) => {
                    ctx.notes.push(format!("reading the watched folders: {e}"));
                    return reply(Response::new(Status::SERVER_ERROR));
                }
            }
        }
        if !ctx.state.hub.holds(&key, generation) {
            ctx.notes
                .push("a newer Ping from this device ended this one".into());
            return reply(Response::new(Status::EXPIRED));
        }
        if !woken {
            tracing::debug!(account = %ctx.account.name, device = %ctx.device.device_id, heartbeat, "ping: holding");
        }
        tokio::select! {
            () = &mut notified => {}
            () = &mut cancelled => {
                ctx.notes.push("a newer Ping from this device ended this one".into());
                return reply(Response::new(Status::EXPIRED));
            }
            _ = stopping.wait_for(|s| *s) => {
                ctx.notes.push("the server is stopping".into());
                return reply(Response::new(Status::EXPIRED));
            }
            () = tokio::time::sleep_until(deadline) => {
                ctx.notes.push(format!("no changes in {heartbeat} s"));
                return reply(Response::new(Status::EXPIRED));
            }
        }
        // The hub wakes every waiter of the account: the store is read
        // again only when a watched folder or the hierarchy moved.
        look = !hub.changed(&watched, &baseline).is_empty();
        woken = true;
    }
}

fn reply(resp: Response) -> Outcome {
    Outcome::Wbxml(resp.to_element())
}

enum Pending {
    Hierarchy,
    Folders(Vec<u32>),
}

/// What this device has waiting: a hierarchy it has not seen, or folders
/// with changes past its sync state (or never synced).
fn pending(
    store: &dyn Store,
    account: &str,
    device: &str,
    folders: &[u32],
) -> StoreResult<Pending> {
    let hseq = store
        .hierarchy_state(account, device)?
        .map_or(0, |h| h.hseq);
    if !store.hierarchy_changes(account, hseq)?.1.is_empty() {
        return Ok(Pending::Hierarchy);
    }
    let mut changed = Vec::new();
    for &f in folders {
        if store.folder(account, f)?.is_none() {
            return Ok(Pending::Hierarchy);
        }
        let waiting = match store.collection_state(account, device, f)? {
            // Never synced: something waits if the folder holds anything.
            None => store.folder_count(account, f)? > 0,
            Some(state) => {
                !state.snapshot.is_empty()
                    || !store.changes(account, f, state.synced, 1)?.is_empty()
            }
        };
        if waiting {
            changed.push(f);
        }
    }
    Ok(Pending::Folders(changed))
}
