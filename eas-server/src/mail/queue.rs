//! The queue worker: takes messages from the durable outbound queue
//! (`store::outbox`) to their recipients.
//!
//! - A recipient who is a user of this server (by e-mail address) gets the
//!   message in their Inbox at once; the store marks the recipient done in
//!   the same transaction, and the push hub wakes their devices. An
//!   out-of-office reply may follow (`mail::oof`).
//! - Every other recipient goes to the smarthost (`mail::smtp`), all in one
//!   SMTP transaction.
//! - A temporary failure (no connection, a 4xx) is retried after
//!   `[queue] retry_min_secs`, twice as late each time, at most
//!   `retry_max_secs` apart, until `lifetime_secs` have passed; a 5xx, or
//!   the end of the lifetime, fails the recipient, and the sender gets a
//!   non-delivery report (`mail::dsn`) in its Inbox, stored in the same
//!   transaction that records the failure.
//!
//! The worker wakes when a message is queued ([`Kick`]), when the next one
//! is due, and every five minutes in any case. A message the smarthost
//! took but whose acceptance was not recorded (the server stopped in
//! between) is sent again after a restart: at least once, never lost.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::dsn::{self, Failure};
use super::smtp::{self, Outcome};
use super::summary::summarize;
use crate::cmd::blocking;
use crate::config::Config;
use crate::state::AppState;
use crate::store::mailbox::{default_folder, folder_type};
use crate::store::outbox::FolderCopy;
use crate::store::{NewMail, QueuedMail, RecipientState, StoreError};
use crate::time;

/// Wakes the worker: something was queued or made due.
#[derive(Debug, Default)]
pub struct Kick(Notify);

impl Kick {
    pub fn kick(&self) {
        // A permit is kept when the worker is busy, so no kick is lost.
        self.0.notify_one();
    }
}

/// The name the server gives itself to other mail servers.
pub fn host_name(config: &Config) -> String {
    let configured = config.smtp.helo_name.trim();
    if !configured.is_empty() {
        return configured.to_owned();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        })
        .unwrap_or_else(|| "localhost".into())
}

fn inbox() -> u32 {
    default_folder(folder_type::INBOX).unwrap_or(1)
}

/// Starts the worker.
pub fn spawn(state: Arc<AppState>) {
    tokio::spawn(async move { run(state).await });
}

async fn run(state: Arc<AppState>) {
    let mut stopping = state.stopping.subscribe();
    loop {
        let store = state.store.clone();
        let queue = match blocking(move || store.queued()).await {
            Some(Ok(q)) => q,
            Some(Err(e)) => {
                tracing::error!("queue: reading the queue: {e}");
                Vec::new()
            }
            None => Vec::new(),
        };
        let mut next_due: Option<u64> = None;
        for mail in queue {
            if *stopping.borrow() {
                return;
            }
            let due = if mail.next_attempt <= time::now() {
                attempt(&state, mail).await
            } else {
                Some(mail.next_attempt)
            };
            if let Some(t) = due {
                next_due = Some(next_due.map_or(t, |n| n.min(t)));
            }
        }
        let wait = next_due
            .map_or(300, |t| t.saturating_sub(time::now()))
            .clamp(1, 300);
        tokio::select! {
            () = state.outbound.0.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(wait)) => {}
            _ = stopping.changed() => return,
        }
    }
}

/// The wait before the next try after `attempts` tries.
fn backoff(config: &Config, attempts: u32) -> u64 {
    let min = config.queue.retry_min_secs.max(1);
    let max = config.queue.retry_max_secs.max(min);
    let doublings = attempts.saturating_sub(1).min(32);
    min.saturating_mul(1u64 << doublings).min(max)
}

/// Tries every pending recipient of one message once; returns when it is
/// due again, or `None` when it left the queue.
async fn attempt(state: &Arc<AppState>, mut mail: QueuedMail) -> Option<u64> {
    let config = &state.config;
    let store = state.store.clone();
    let id = mail.id;
    let raw = match blocking(move || store.queued_mime(id)).await {
        Some(Ok(Some(raw))) => Arc::new(raw),
        Some(Ok(None)) => return None,
        Some(Err(e)) => {
            tracing::error!(queue_id = id, "queue: reading the message: {e}");
            return Some(time::now() + backoff(config, 1));
        }
        None => return Some(time::now() + backoff(config, 1)),
    };
    let now = time::now();
    mail.attempts += 1;
    let mut errors: Vec<String> = Vec::new();
    let mut remote: Vec<usize> = Vec::new();
    let summary = {
        let raw = raw.clone();
        blocking(move || summarize(&raw)).await.unwrap_or_default()
    };

    for i in 0..mail.recipients.len() {
        let Some(r) = mail.recipients.get(i).filter(|r| r.is_pending()) else {
            continue;
        };
        let address = r.address.clone();
        let store = state.store.clone();
        let login = address.clone();
        let account = match blocking(move || store.account_by_login(&login)).await {
            Some(Ok(Some(a))) if a.email.eq_ignore_ascii_case(&address) => a,
            Some(Ok(_)) => {
                remote.push(i);
                continue;
            }
            Some(Err(e)) => {
                errors.push(format!("<{address}>: looking the user up: {e}"));
                continue;
            }
            None => continue,
        };
        let store = state.store.clone();
        let (raw2, summary2, name, address2) = (
            raw.clone(),
            summary.clone(),
            account.name.clone(),
            address.clone(),
        );
        let stored = blocking(move || {
            store.deliver_queued(
                id,
                &address2,
                &name,
                &FolderCopy {
                    folder: inbox(),
                    mail: NewMail {
                        raw: &raw2,
                        summary: summary2,
                        received: now,
                        read: false,
                    },
                },
            )
        })
        .await;
        let state_now = match stored {
            Some(Ok(item)) => {
                state.hub.notify(&account.name, &[inbox()]);
                tracing::info!(
                    queue_id = id,
                    account = %account.name,
                    "queue: delivered locally as item {}",
                    item.id
                );
                super::oof::after_delivery(state, &account.name, &mail.sender, raw.clone());
                RecipientState::Delivered {
                    at: now,
                    detail: format!("stored as item {} of {}", item.id, account.name),
                }
            }
            Some(Err(StoreError::NotFound(what))) => {
                let store = state.store.clone();
                if !matches!(
                    blocking(move || store.queued_mail(id)).await,
                    Some(Ok(Some(_)))
                ) {
                    // Removed by the administrator meanwhile.
                    return None;
                }
                RecipientState::Failed {
                    at: now,
                    status: "5.1.1".into(),
                    diagnostic: format!("no such user here ({what})"),
                    remote: None,
                    reported: false,
                }
            }
            Some(Err(e)) => {
                errors.push(format!("<{address}>: storing the message: {e}"));
                continue;
            }
            None => continue,
        };
        if let Some(r) = mail.recipients.get_mut(i) {
            r.state = state_now;
        }
    }

    if !remote.is_empty() {
        // `queue remove` may have taken the message while this attempt read
        // it and delivered locally: once removed, nothing more goes out.
        let store = state.store.clone();
        if !matches!(
            blocking(move || store.queued_mail(id)).await,
            Some(Ok(Some(_)))
        ) {
            tracing::info!(
                queue_id = id,
                "queue: removed while being tried; not relayed"
            );
            return None;
        }
        relay(state, &mut mail, &remote, &raw, now, &mut errors).await;
    }

    if !mail.is_done() {
        mail.last_error = Some(errors.join("; ")).filter(|e| !e.is_empty());
        if now.saturating_sub(mail.created) >= config.queue.lifetime_secs {
            let why = format!(
                "gave up after {} attempts over {} hours; the last error: {}",
                mail.attempts,
                now.saturating_sub(mail.created) / 3600,
                mail.last_error.as_deref().unwrap_or("none recorded")
            );
            for r in mail.recipients.iter_mut().filter(|r| r.is_pending()) {
                r.state = RecipientState::Failed {
                    at: now,
                    status: "4.4.7".into(),
                    diagnostic: why.clone(),
                    remote: None,
                    reported: false,
                };
            }
        } else {
            mail.next_attempt = now + backoff(config, mail.attempts);
            tracing::info!(
                queue_id = id,
                attempts = mail.attempts,
                "queue: deferred until {}: {}",
                time::rfc3339(mail.next_attempt),
                mail.last_error.as_deref().unwrap_or("")
            );
        }
    }

    let host = host_name(config);
    let report = {
        let failures: Vec<Failure<'_>> = mail
            .recipients
            .iter()
            .filter_map(|r| match &r.state {
                RecipientState::Failed {
                    status,
                    diagnostic,
                    remote,
                    reported: false,
                    ..
                } => Some(Failure {
                    address: &r.address,
                    status,
                    diagnostic,
                    remote: remote.as_deref(),
                }),
                _ => None,
            })
            .collect();
        for f in &failures {
            tracing::warn!(
                queue_id = id,
                "queue: <{}> failed: {} {}",
                f.address,
                f.status,
                f.diagnostic
            );
        }
        (!failures.is_empty() && !mail.sender.is_empty())
            .then(|| dsn::report(&mail, &failures, &raw, &host, now))
    };
    for r in &mut mail.recipients {
        if let RecipientState::Failed { reported, .. } = &mut r.state {
            *reported = true;
        }
    }
    let store = state.store.clone();
    let done = mail.is_done();
    let next = mail.next_attempt;
    let account = mail.account.clone();
    let recorded = blocking(move || {
        let report = report.as_deref().map(|raw| FolderCopy {
            folder: inbox(),
            mail: NewMail {
                raw,
                summary: summarize(raw),
                received: now,
                read: false,
            },
        });
        store.record_attempt(&mail, report.as_ref())
    })
    .await;
    match recorded {
        Some(Ok(Some(item))) => {
            tracing::info!(queue_id = id, account = %account, "queue: non-delivery report stored as item {}", item.id);
            state.hub.notify(&account, &[inbox()]);
        }
        Some(Ok(None)) => {}
        Some(Err(e)) => {
            tracing::error!(queue_id = id, "queue: recording an attempt: {e}");
            return Some(now + backoff(config, 1));
        }
        None => return Some(now + backoff(config, 1)),
    }
    (!done).then_some(next)
}

/// Sends to the recipients at `indexes` through the smarthost and records
/// each one's outcome in `mail`.
async fn relay(
    state: &Arc<AppState>,
    mail: &mut QueuedMail,
    indexes: &[usize],
    raw: &[u8],
    now: u64,
    errors: &mut Vec<String>,
) {
    let config = &state.config;
    let addresses: Vec<String> = indexes
        .iter()
        .filter_map(|&i| mail.recipients.get(i).map(|r| r.address.clone()))
        .collect();
    if config.smtp.host.trim().is_empty() {
        for &i in indexes {
            if let Some(r) = mail.recipients.get_mut(i) {
                r.state = RecipientState::Failed {
                    at: now,
                    status: "5.4.4".into(),
                    diagnostic: "not a user of this server, and the server has no smarthost for other addresses ([smtp] host)".into(),
                    remote: None,
                    reported: false,
                };
            }
        }
        return;
    }
    let host = host_name(config);
    let attempt = smtp::relay(&config.smtp, &host, &mail.sender, &addresses, raw).await;
    for (&i, outcome) in indexes.iter().zip(attempt.outcomes) {
        let Some(r) = mail.recipients.get_mut(i) else {
            continue;
        };
        match outcome {
            Outcome::Delivered(reply) => {
                tracing::info!(
                    queue_id = mail.id,
                    "queue: <{}> relayed to {}: {reply}",
                    r.address,
                    attempt.remote
                );
                r.state = RecipientState::Delivered {
                    at: now,
                    detail: format!("relayed to {}: {reply}", attempt.remote),
                };
            }
            Outcome::Deferred(why) => {
                errors.push(format!("<{}>: {}: {why}", r.address, attempt.remote))
            }
            Outcome::Failed { status, diagnostic } => {
                r.state = RecipientState::Failed {
                    at: now,
                    status,
                    diagnostic,
                    remote: Some(attempt.remote.clone()),
                    reported: false,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let mut config = Config::default();
        config.queue.retry_min_secs = 60;
        config.queue.retry_max_secs = 1000;
        let waits: Vec<u64> = (1..=7).map(|a| backoff(&config, a)).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1000, 1000]);
        assert_eq!(backoff(&config, u32::MAX), 1000);
    }
}
