//! Out-of-office replies (Settings Oof, MS-ASCMD 2.2.3.119): when a user's
//! Oof is on, a message delivered to them locally (over LMTP, or from
//! another user of this server) is answered once per sender and period
//! (`[oof] period_secs`).
//!
//! RFC 3834 decides who never gets one: a null or automatic sender
//! (MAILER-DAEMON, `owner-…`, `…-request`), a message that is automatic
//! itself (`Auto-Submitted` other than `no`), a list or bulk message
//! (`List-Id`, `Precedence: bulk/list/junk`), a report
//! (`multipart/report`), a sender who asked for none
//! (`X-Auto-Response-Suppress: OOF` or `All`), and the user themself. The
//! reply goes through the outbound queue with a null envelope sender, so it
//! can never cause a report or a reply in turn.

use std::sync::Arc;

use super::compose::quoted_printable;
use super::submission::{HeaderBlock, header_text, new_message_id, push_field, rfc5322_date};
use crate::state::AppState;
use crate::store::outbox::{ClientIdLimits, Submission};
use crate::store::{Account, Enqueued, Store, StoreResult};

/// Answers a message just delivered to `account` from `envelope_sender`, if
/// an out-of-office reply is due; runs off the reactor and never delays the
/// delivery.
pub fn after_delivery(
    state: &Arc<AppState>,
    account: &str,
    envelope_sender: &str,
    raw: Arc<Vec<u8>>,
) {
    let state = state.clone();
    let account = account.to_owned();
    let sender = envelope_sender.to_owned();
    tokio::spawn(async move {
        let state2 = state.clone();
        let queued = tokio::task::spawn_blocking(move || {
            auto_reply(
                state2.store.as_ref(),
                state2.config.oof.period_secs,
                &account,
                &sender,
                &raw,
                crate::time::now(),
            )
        })
        .await;
        match queued {
            Ok(Ok(Some(id))) => {
                tracing::info!("oof: automatic reply queued as {id}");
                state.outbound.kick();
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!("oof: {e}"),
            Err(e) => tracing::error!("oof: {e}"),
        }
    });
}

/// Decides, records and queues an out-of-office reply; returns its queue id.
pub fn auto_reply(
    store: &dyn Store,
    period_secs: u64,
    account: &str,
    envelope_sender: &str,
    raw: &[u8],
    now: u64,
) -> StoreResult<Option<u64>> {
    let Some(account) = store.account(account)? else {
        return Ok(None);
    };
    if !is_active(&account, now) {
        return Ok(None);
    }
    let sender = envelope_sender.trim();
    if !answerable(sender, &account, raw) {
        return Ok(None);
    }
    let local = store
        .account_by_login(sender)?
        .is_some_and(|a| a.email.eq_ignore_ascii_case(sender));
    let audience = if local { "Internal" } else { "ExternalUnknown" };
    let Some(message) = account
        .oof
        .messages
        .get(audience)
        .filter(|m| m.enabled && !m.reply.trim().is_empty())
    else {
        return Ok(None);
    };
    if !store.note_auto_reply(&account.name, sender, now, period_secs)? {
        return Ok(None);
    }
    let reply = compose(
        &account,
        sender,
        raw,
        &message.reply,
        &message.body_type,
        now,
    );
    let recipients = [sender.to_owned()];
    let submission = Submission {
        account: &account.name,
        sender: "",
        recipients: &recipients,
        raw: &reply.raw,
        subject: &reply.subject,
        message_id: &reply.message_id,
        client_id: None,
        client_ids: ClientIdLimits {
            retention_secs: 0,
            max: 1,
        },
        sent_copy: None,
        now,
    };
    Ok(match store.enqueue(&submission)? {
        Enqueued::Queued { id, .. } => Some(id),
        Enqueued::Duplicate { .. } => None,
    })
}

/// Whether the account's Oof is on now: global, or time-based and inside
/// its window (MS-ASCMD 2.2.3.118).
fn is_active(account: &Account, now: u64) -> bool {
    let oof = &account.oof;
    match oof.state {
        1 => true,
        2 => {
            // MS-ASDTYPE date-times compare as text down to the second.
            let now = crate::time::rfc3339(now);
            let now = now.get(..19).unwrap_or("");
            let cut =
                |t: &Option<String>| t.as_deref().and_then(|t| t.get(..19)).map(str::to_owned);
            match (cut(&oof.start_time), cut(&oof.end_time)) {
                (Some(start), Some(end)) => start.as_str() <= now && now < end.as_str(),
                _ => false,
            }
        }
        _ => false,
    }
}

/// RFC 3834 section 2 and 5: whether this message may be answered at all.
fn answerable(sender: &str, account: &Account, raw: &[u8]) -> bool {
    if sender.is_empty() || sender == "<>" || sender.eq_ignore_ascii_case(&account.email) {
        return false;
    }
    let local = sender
        .rsplit_once('@')
        .map_or(sender, |(l, _)| l)
        .to_ascii_lowercase();
    if local == "mailer-daemon"
        || local == "postmaster"
        || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.ends_with("-bounces")
    {
        return false;
    }
    let block = HeaderBlock::split(raw);
    let value = |name: &str| block.value(name).map(|v| v.to_ascii_lowercase());
    if value("auto-submitted").is_some_and(|v| v.split(';').next().map(str::trim) != Some("no")) {
        return false;
    }
    if value("precedence").is_some_and(|v| matches!(v.trim(), "bulk" | "list" | "junk")) {
        return false;
    }
    if block.field("list-id").is_some() || block.field("list-post").is_some() {
        return false;
    }
    if value("content-type").is_some_and(|v| v.trim_start().starts_with("multipart/report")) {
        return false;
    }
    if value("x-auto-response-suppress").is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|t| t == "oof" || t == "all")
    }) {
        return false;
    }
    true
}

struct Reply {
    raw: Vec<u8>,
    subject: String,
    message_id: String,
}

fn compose(
    account: &Account,
    to: &str,
    original: &[u8],
    text: &str,
    body_type: &str,
    now: u64,
) -> Reply {
    let eol: &[u8] = b"\r\n";
    let block = HeaderBlock::split(original);
    let subject = format!(
        "Automatic reply: {}",
        block.value("subject").unwrap_or_default()
    );
    let message_id = new_message_id(&account.email, now);
    let mut out = Vec::new();
    let name = account.display_name.replace(['"', '\\', '\r', '\n'], "");
    let from = if name.is_ascii() && !name.is_empty() {
        format!("\"{name}\" <{}>", account.email)
    } else {
        format!("<{}>", account.email)
    };
    push_field(&mut out, "From", &from, eol);
    push_field(&mut out, "To", &format!("<{to}>"), eol);
    push_field(&mut out, "Subject", &header_text(&subject), eol);
    push_field(&mut out, "Date", &rfc5322_date(now), eol);
    push_field(&mut out, "Message-ID", &format!("<{message_id}>"), eol);
    if let Some(id) = block.value("message-id").filter(|v| v.starts_with('<')) {
        push_field(&mut out, "In-Reply-To", &id, eol);
        push_field(&mut out, "References", &id, eol);
    }
    push_field(&mut out, "Auto-Submitted", "auto-replied", eol);
    push_field(&mut out, "X-Auto-Response-Suppress", "All", eol);
    push_field(&mut out, "MIME-Version", "1.0", eol);
    let kind = if body_type.eq_ignore_ascii_case("HTML") {
        "text/html"
    } else {
        "text/plain"
    };
    push_field(
        &mut out,
        "Content-Type",
        &format!("{kind}; charset=utf-8"),
        eol,
    );
    push_field(
        &mut out,
        "Content-Transfer-Encoding",
        "quoted-printable",
        eol,
    );
    out.extend_from_slice(eol);
    out.extend_from_slice(&quoted_printable(text, eol));
    Reply {
        raw: out,
        subject,
        message_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Mailbox as _, OofMessage, Outbox as _, RedbStore};

    fn store() -> (RedbStore, std::path::PathBuf) {
        let (store, dir) = crate::store::scratch::empty("oof");
        let mut bob = crate::store::scratch::account("bob");
        bob.display_name = "Bob".into();
        bob.oof.state = 1;
        bob.oof.messages.insert(
            "ExternalUnknown".into(),
            OofMessage {
                enabled: true,
                reply: "Away until Monday.".into(),
                body_type: "Text".into(),
            },
        );
        store.create_account(&bob).unwrap();
        (store, dir)
    }

    const MSG: &[u8] = b"From: x@remote.example\r\nSubject: hello\r\nMessage-ID: <m1@remote.example>\r\n\r\nhi\r\n";

    #[test]
    fn once_per_sender_and_period_and_never_to_lists_or_bounces() {
        let (store, dir) = store();
        let reply = |sender: &str, raw: &[u8], now: u64| {
            auto_reply(&store, 100, "bob", sender, raw, now).unwrap()
        };
        let id = reply("x@remote.example", MSG, 1000).expect("a reply");
        let queued = store.queued_mail(id).unwrap().unwrap();
        assert_eq!(queued.sender, "");
        assert_eq!(queued.recipients[0].address, "x@remote.example");
        let raw = store.queued_mime(id).unwrap().unwrap();
        let text = String::from_utf8(raw).unwrap();
        assert!(
            text.contains("Subject: Automatic reply: hello\r\n"),
            "{text}"
        );
        assert!(
            text.contains("In-Reply-To: <m1@remote.example>\r\n"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"), "{text}");
        assert!(text.ends_with("Away until Monday.\r\n"), "{text}");
        // Once per period.
        assert_eq!(reply("X@remote.example", MSG, 1050), None);
        assert!(reply("x@remote.example", MSG, 1101).is_some());
        // Never to these.
        for (sender, raw) in [
            ("", MSG),
            ("MAILER-DAEMON@remote.example", MSG),
            ("list-request@remote.example", MSG),
            ("bob@example.com", MSG),
            (
                "y@remote.example",
                &b"Auto-Submitted: auto-replied\r\n\r\nx"[..],
            ),
            ("y@remote.example", &b"Precedence: bulk\r\n\r\nx"[..]),
            (
                "y@remote.example",
                &b"List-Id: <l.remote.example>\r\n\r\nx"[..],
            ),
            (
                "y@remote.example",
                &b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nx"[..],
            ),
            (
                "y@remote.example",
                &b"X-Auto-Response-Suppress: DR, OOF\r\n\r\nx"[..],
            ),
        ] {
            assert_eq!(
                reply(sender, raw, 5000),
                None,
                "{sender} {:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert!(reply("y@remote.example", b"Auto-Submitted: no\r\n\r\nx", 5000).is_some());
        // Off, or outside its window: nothing.
        let mut bob = store.account("bob").unwrap().unwrap();
        bob.oof.state = 2;
        bob.oof.start_time = Some("2026-01-01T00:00:00.000Z".into());
        bob.oof.end_time = Some("2026-01-02T00:00:00.000Z".into());
        store.update_account(&bob).unwrap();
        assert_eq!(reply("z@remote.example", MSG, 1_767_225_599), None);
        assert!(reply("z@remote.example", MSG, 1_767_225_600).is_some());
        assert_eq!(reply("w@remote.example", MSG, 1_767_312_000), None);
        assert_eq!(store.folder_count("bob", 4).unwrap(), 0);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
