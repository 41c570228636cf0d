//! Non-delivery reports (RFC 3464, in the RFC 6522 multipart/report
//! container): what the sender of a message finds in its Inbox when some
//! recipients could not get it. The report is written by the server and
//! stored directly in the sender's Inbox; it never enters the queue, so a
//! report can never bounce.
//!
//! The third part is `text/rfc822-headers`: the original's header block
//! only, so an encrypted message is not copied back in full.

use super::submission::{HeaderBlock, header_text, new_message_id, push_field, rfc5322_date};
use crate::store::QueuedMail;

/// One recipient the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure<'a> {
    pub address: &'a str,
    /// RFC 3463 status, such as `5.1.1`.
    pub status: &'a str,
    pub diagnostic: &'a str,
    /// The host that refused it, when one did.
    pub remote: Option<&'a str>,
}

/// The report for `failures` of `mail`, whose bytes are `original`.
pub fn report(
    mail: &QueuedMail,
    failures: &[Failure<'_>],
    original: &[u8],
    host: &str,
    now: u64,
) -> Vec<u8> {
    let eol: &[u8] = b"\r\n";
    let boundary = format!("=_eas_report_{:032x}", rand::random::<u128>());
    let mut out = Vec::new();
    push_field(
        &mut out,
        "From",
        &format!("Mail Delivery System <MAILER-DAEMON@{host}>"),
        eol,
    );
    push_field(&mut out, "To", &format!("<{}>", mail.sender), eol);
    push_field(
        &mut out,
        "Subject",
        &header_text(&format!("Undeliverable: {}", mail.subject)),
        eol,
    );
    push_field(&mut out, "Date", &rfc5322_date(now), eol);
    push_field(
        &mut out,
        "Message-ID",
        &format!("<{}>", new_message_id(&format!("x@{host}"), now)),
        eol,
    );
    if !mail.message_id.is_empty() {
        push_field(
            &mut out,
            "In-Reply-To",
            &format!("<{}>", mail.message_id),
            eol,
        );
    }
    push_field(&mut out, "Auto-Submitted", "auto-replied", eol);
    push_field(&mut out, "MIME-Version", "1.0", eol);
    push_field(
        &mut out,
        "Content-Type",
        &format!("multipart/report; report-type=delivery-status; boundary=\"{boundary}\""),
        eol,
    );
    out.extend_from_slice(eol);

    let mut human = format!(
        "This is the mail system at {host}.\r\n\r\nYour message could not be delivered to {}:\r\n\r\n",
        if failures.len() == 1 {
            "one recipient".to_owned()
        } else {
            format!("{} recipients", failures.len())
        }
    );
    for f in failures {
        human.push_str(&format!(
            "  <{}>: {}\r\n",
            f.address,
            one_line(f.diagnostic)
        ));
    }
    human.push_str("\r\nThe message's header is attached below.\r\n");
    part(&mut out, &boundary);
    push_field(&mut out, "Content-Type", "text/plain; charset=utf-8", eol);
    push_field(&mut out, "Content-Transfer-Encoding", "8bit", eol);
    out.extend_from_slice(eol);
    out.extend_from_slice(human.as_bytes());

    part(&mut out, &boundary);
    push_field(&mut out, "Content-Type", "message/delivery-status", eol);
    out.extend_from_slice(eol);
    let mut status = format!(
        "Reporting-MTA: dns; {host}\r\nArrival-Date: {}\r\n",
        rfc5322_date(mail.created)
    );
    for f in failures {
        status.push_str("\r\n");
        status.push_str(&format!("Final-Recipient: rfc822; {}\r\n", f.address));
        status.push_str("Action: failed\r\n");
        status.push_str(&format!("Status: {}\r\n", f.status));
        if let Some(remote) = f.remote {
            let host = remote.rsplit_once(':').map_or(remote, |(h, _)| h);
            status.push_str(&format!("Remote-MTA: dns; {host}\r\n"));
        }
        let kind = if f.remote.is_some() { "smtp" } else { "x-eas" };
        status.push_str(&format!(
            "Diagnostic-Code: {kind}; {}\r\n",
            one_line(f.diagnostic)
        ));
        status.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc5322_date(now)));
    }
    out.extend_from_slice(status.as_bytes());

    part(&mut out, &boundary);
    push_field(&mut out, "Content-Type", "text/rfc822-headers", eol);
    out.extend_from_slice(eol);
    let block = HeaderBlock::split(original);
    out.extend_from_slice(original.get(..block.end).unwrap_or_default());
    out.extend_from_slice(eol);
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

fn part(out: &mut Vec<u8>, boundary: &str) {
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A diagnostic on one line, printable.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{QueuedRecipient, RecipientState};

    #[test]
    fn a_report_has_the_three_parts_of_rfc_3464() {
        let mail = QueuedMail {
            id: 1,
            account: "alice".into(),
            sender: "alice@example.com".into(),
            recipients: vec![QueuedRecipient {
                address: "x@remote.example".into(),
                state: RecipientState::Pending,
            }],
            created: 1_795_975_200,
            attempts: 1,
            next_attempt: 0,
            last_error: None,
            size: 10,
            subject: "caf\u{e9}".into(),
            message_id: "m@example.com".into(),
            blob: String::new(),
        };
        let original = b"Subject: caf\xc3\xa9\r\nTo: x@remote.example\r\n\r\nsecret body\r\n";
        let raw = report(
            &mail,
            &[Failure {
                address: "x@remote.example",
                status: "5.1.1",
                diagnostic: "550 5.1.1 no such user",
                remote: Some("relay.example:25"),
            }],
            original,
            "mail.example.com",
            1_795_975_260,
        );
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Undeliverable: caf\u{e9}"));
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("report-type=delivery-status"), "{text}");
        assert!(text.contains("Final-Recipient: rfc822; x@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; relay.example\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: text/rfc822-headers\r\n\r\nSubject: caf"),
            "{text}"
        );
        assert!(!text.contains("secret body"), "{text}");
        assert_eq!(
            smime_core::classify(&raw),
            smime_core::Classification::Plain
        );
    }
}
