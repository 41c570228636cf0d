//! `serve --demo`: an empty data directory gets demo users and a few hundred
//! varied messages, so a phone or a test harness can connect at once.
//!
//! The users' passwords are made at random and printed. The mail is
//! generated here (plain and HTML, attachments, read and unread, spread over
//! weeks, a user folder), plus four S/MIME messages built by openssl as a
//! client would (fixtures/demo/make-smime.sh; their demo keys sit beside
//! them), embedded in the binary so it needs nothing at run time.

use anyhow::Context as _;

use crate::auth::{self, Password};
use crate::mail::summary::summarize;
use crate::store::mailbox::folder_type;
use crate::store::{Account, NewMail, Store};
use crate::time;

/// The demo users: (login, e-mail address, display name).
const USERS: [(&str, &str, &str); 3] = [
    ("alice", "alice@example.com", "Alice Example"),
    ("bob", "bob@example.com", "Bob Example"),
    ("carol", "carol@example.com", "Carol Example"),
];

/// The S/MIME messages from bob to alice, as openssl made them.
const SMIME: [&[u8]; 4] = [
    include_bytes!("../../fixtures/demo/smime/01-clear-signed.eml"),
    include_bytes!("../../fixtures/demo/smime/02-opaque-signed.eml"),
    include_bytes!("../../fixtures/demo/smime/03-encrypted.eml"),
    include_bytes!("../../fixtures/demo/smime/04-signed-encrypted.eml"),
];

/// How many generated messages each user gets in the Inbox.
const MESSAGES: usize = 240;

/// Loads the demo into an empty store. Returns the users and their
/// passwords, or `None` when the store already has accounts (nothing is
/// touched then).
pub fn load(store: &dyn Store) -> anyhow::Result<Option<Vec<(String, String)>>> {
    if !store.list_accounts()?.is_empty() {
        return Ok(None);
    }
    let now = time::now();
    let mut credentials = Vec::new();
    for (name, email, display) in USERS {
        let password: String = (0..4)
            .map(|_| format!("{:04x}", rand::random::<u16>()))
            .collect::<Vec<_>>()
            .join("-");
        store
            .create_account(&Account {
                name: name.into(),
                email: email.into(),
                display_name: display.into(),
                password_hash: auth::hash_password(&Password::new(password.clone()))?,
                created: now,
                oof: Default::default(),
            })
            .with_context(|| format!("creating the demo user {name}"))?;
        credentials.push((name.to_owned(), password));

        let raws: Vec<Vec<u8>> = (0..MESSAGES)
            .map(|i| message(i, email, display, now))
            .collect();
        let mut mails: Vec<NewMail<'_>> = raws
            .iter()
            .enumerate()
            .map(|(i, raw)| NewMail {
                raw,
                summary: summarize(raw),
                // Newest first in a phone's list: spread over six weeks.
                received: now.saturating_sub((i as u64) * 4 * 3600 + 600),
                // Older mail has been read.
                read: i > 12 && i % 5 != 0,
            })
            .collect();
        if name == "alice" {
            for (i, raw) in SMIME.iter().enumerate() {
                mails.push(NewMail {
                    raw,
                    summary: summarize(raw),
                    received: now.saturating_sub(300 + i as u64 * 60),
                    read: false,
                });
            }
        }
        let (inbox_mails, project_mails): (Vec<_>, Vec<_>) =
            mails.into_iter().enumerate().partition(|(i, _)| i % 9 != 4);
        let inbox: Vec<NewMail<'_>> = inbox_mails.into_iter().map(|(_, m)| m).collect();
        let projects: Vec<NewMail<'_>> = project_mails.into_iter().map(|(_, m)| m).collect();
        store.deliver(name, 1, &inbox)?;
        let folder = store.create_folder(name, 1, "Projects", folder_type::USER_MAIL)?;
        store.deliver(name, folder.id, &projects)?;
    }
    Ok(Some(credentials))
}

/// A generated message, one of several shapes by `i`.
fn message(i: usize, to: &str, to_name: &str, now: u64) -> Vec<u8> {
    const SENDERS: [(&str, &str); 6] = [
        ("Dana Ortiz", "dana@example.org"),
        ("Build Robot", "ci@builds.example.net"),
        ("Kenji Sato", "kenji@example.jp"),
        ("Accounts Payable", "invoices@supplier.example"),
        ("Mia Müller", "mia@example.de"),
        ("Team Calendar", "calendar@example.com"),
    ];
    const SUBJECTS: [&str; 8] = [
        "Quarterly numbers for review",
        "Re: Lunch on Thursday?",
        "Build #{n} failed on main",
        "Invoice 2026-{n}",
        "Fwd: Offsite agenda (final)",
        "Café opening hours next week",
        "Your order #{n} has shipped",
        "Notes from the design review",
    ];
    let (from_name, from) = SENDERS.iter().cycle().nth(i).copied().unwrap_or(SENDERS[0]);
    let subject = SUBJECTS
        .iter()
        .cycle()
        .nth(i)
        .copied()
        .unwrap_or(SUBJECTS[0])
        .replace("{n}", &(4800 + i).to_string());
    let date = rfc2822(now.saturating_sub((i as u64) * 4 * 3600 + 600));
    let head = format!(
        "From: \"{from_name}\" <{from}>\r\nTo: \"{to_name}\" <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <demo-{i}-{to}>\r\nMIME-Version: 1.0\r\n"
    );
    let text = format!(
        "Hello {to_name},\r\n\r\nThis is demo message {i}. It stands in for the mail of a busy week: \r\nreviews, invoices, builds and lunch plans.\r\n\r\nBest,\r\n{from_name}\r\n"
    );
    match i % 8 {
        0 | 3 => {
            let html = format!(
                "<html><body><p>Hello {to_name},</p><p>This is demo message <b>{i}</b>, in <i>HTML</i>.</p><ul><li>reviews</li><li>invoices</li><li>builds</li></ul><p>Best,<br>{from_name}</p></body></html>"
            );
            format!(
                "{head}Content-Type: multipart/alternative; boundary=\"alt-{i}\"\r\n\r\n--alt-{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}--alt-{i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--alt-{i}--\r\n"
            )
        }
        5 => format!(
            "{head}Content-Type: multipart/mixed; boundary=\"mix-{i}\"\r\n\r\n--mix-{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}--mix-{i}\r\nContent-Type: text/csv; name=\"figures-{i}.csv\"\r\nContent-Disposition: attachment; filename=\"figures-{i}.csv\"\r\n\r\nquarter,revenue\r\nQ1,120\r\nQ2,135\r\nQ3,150\r\n--mix-{i}--\r\n"
        ),
        _ => format!("{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"),
    }
    .into_bytes()
}

/// `Sun, 29 Nov 2026 18:00:00 +0000`.
fn rfc2822(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = time::civil(unix);
    let day = DAYS
        .get(((unix / 86_400) % 7) as usize)
        .copied()
        .unwrap_or("Mon");
    let month = MONTHS
        .get(m.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    let secs = unix % 86_400;
    format!(
        "{day}, {d} {month} {y} {:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc2822_and_messages_parse() {
        assert_eq!(rfc2822(1_795_975_200), "Sun, 29 Nov 2026 18:00:00 +0000");
        for i in 0..16 {
            let raw = message(i, "alice@example.com", "Alice", 1_795_975_200);
            let s = summarize(&raw);
            assert!(!s.subject.is_empty() && s.from.contains('@'), "{i}: {s:?}");
            assert_eq!(s.has_attachments, i % 8 == 5, "{i}");
        }
        for raw in SMIME {
            assert!(summarize(raw).message_class.starts_with("IPM.Note.SMIME"));
        }
    }
}
