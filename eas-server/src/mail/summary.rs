//! The header summary of a message, taken once at delivery so that syncing
//! a folder does not parse every message again.

use mail_parser::{Address, HeaderValue, MessageParser};
use smime_core::Classification;

use crate::store::MailSummary;

/// Summarises raw MIME. Never fails: a message mail-parser cannot read gets
/// an empty summary, and is still stored and served as it came.
pub fn summarize(raw: &[u8]) -> MailSummary {
    let class = smime_core::classify(raw);
    let Some(msg) = MessageParser::default().parse(raw) else {
        return MailSummary {
            message_class: class.message_class().to_owned(),
            native_body_type: 1,
            ..Default::default()
        };
    };
    let subject = msg.subject().unwrap_or("").to_owned();
    let (native_body_type, body_size) = match class {
        // The readable body of an encrypted or opaque-signed message is
        // inside the CMS: clients read the MIME.
        Classification::Enveloped | Classification::OpaqueSigned | Classification::CertsOnly => {
            (4, raw.len() as u64)
        }
        _ => {
            if msg.html_body_count() > 0
                && msg.body_html(0).is_some()
                && !html_is_converted_text(&msg)
            {
                (2, msg.body_html(0).map_or(0, |b| b.len() as u64))
            } else {
                (1, msg.body_text(0).map_or(0, |b| b.len() as u64))
            }
        }
    };
    MailSummary {
        from: addresses(msg.from()),
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        reply_to: addresses(msg.reply_to()),
        display_to: display_names(msg.to()),
        thread_topic: thread_topic(&subject),
        subject,
        importance: importance(&msg),
        message_class: class.message_class().to_owned(),
        date: msg
            .date()
            .map(|d| d.to_timestamp())
            .and_then(|t| u64::try_from(t).ok()),
        message_id: msg.message_id().unwrap_or("").to_owned(),
        // A signature is a part, not an attachment the user sees.
        has_attachments: !class.is_smime() && msg.attachment_count() > 0,
        native_body_type,
        body_size,
    }
}

/// mail-parser offers an HTML body for every text-only message (converted
/// from the text); the message's own type is what counts.
fn html_is_converted_text(msg: &mail_parser::Message<'_>) -> bool {
    msg.html_body.first() == msg.text_body.first()
        && msg
            .html_body
            .first()
            .and_then(|&i| msg.part(i))
            .is_some_and(|p| !p.is_text_html())
}

/// Addresses as EAS shows them: `"Name" <addr>` joined by `, `.
fn addresses(addr: Option<&Address<'_>>) -> String {
    let Some(addr) = addr else {
        return String::new();
    };
    addr.iter()
        .filter_map(|a| {
            let email = a.address.as_deref()?;
            Some(match a.name.as_deref().filter(|n| !n.is_empty()) {
                Some(name) => format!("\"{}\" <{email}>", name.replace('"', "'")),
                None => email.to_owned(),
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// DisplayTo (MS-ASEMAIL 2.2.2.23): the recipients' names, `; ` apart.
fn display_names(addr: Option<&Address<'_>>) -> String {
    let Some(addr) = addr else {
        return String::new();
    };
    addr.iter()
        .filter_map(|a| {
            a.name
                .as_deref()
                .filter(|n| !n.is_empty())
                .or(a.address.as_deref())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The subject without reply and forward prefixes (ThreadTopic).
fn thread_topic(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s.get(n..).unwrap_or("").trim_start(),
            None => return s.to_owned(),
        }
    }
}

/// Importance (MS-ASEMAIL 2.2.2.39): 0 low, 1 normal, 2 high, from the
/// Importance header or, failing that, X-Priority.
fn importance(msg: &mail_parser::Message<'_>) -> u8 {
    let text = |name: &str| match msg.header(name) {
        Some(HeaderValue::Text(t)) => Some(t.to_ascii_lowercase()),
        _ => None,
    };
    if let Some(v) = text("Importance") {
        return match v.trim() {
            "high" => 2,
            "low" => 0,
            _ => 1,
        };
    }
    match text("X-Priority")
        .as_deref()
        .map(str::trim)
        .and_then(|v| v.chars().next())
    {
        Some('1' | '2') => 2,
        Some('4' | '5') => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_headers() {
        let raw = b"From: \"Alice Example\" <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.com\r\nCc: \"Dan\" <dan@example.com>\r\nSubject: Re: Fwd: =?utf-8?q?Caf=C3=A9?= plans\r\nDate: Sun, 29 Nov 2026 18:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nX-Priority: 1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n";
        let s = summarize(raw);
        assert_eq!(s.from, "\"Alice Example\" <alice@example.com>");
        assert_eq!(s.to, "\"Bob\" <bob@example.com>, carol@example.com");
        assert_eq!(s.cc, "\"Dan\" <dan@example.com>");
        assert_eq!(s.display_to, "Bob; carol@example.com");
        assert_eq!(s.subject, "Re: Fwd: Café plans");
        assert_eq!(s.thread_topic, "Café plans");
        assert_eq!(s.importance, 2);
        assert_eq!(s.date, Some(1_795_975_200));
        assert_eq!(s.message_id, "1@example.com");
        assert_eq!(s.message_class, "IPM.Note");
        assert_eq!(s.native_body_type, 2);
    }

    #[test]
    fn plain_text_is_native_type_one_and_smime_is_classified() {
        let s = summarize(b"Subject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n");
        assert_eq!((s.native_body_type, s.has_attachments), (1, false));
        let enc = summarize(b"Subject: secret\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIBAA==\r\n");
        assert_eq!(enc.message_class, "IPM.Note.SMIME");
        assert_eq!(enc.native_body_type, 4);
        assert_eq!(enc.subject, "secret");
    }

    #[test]
    fn garbage_still_summarises() {
        let s = summarize(b"\xff\xfe\x00");
        assert_eq!(s.message_class, "IPM.Note");
    }
}
