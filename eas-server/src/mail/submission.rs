//! What the server does to a message a client sends before it goes out:
//! the edits an MTA makes, and nothing else (DESIGN.md, promise 1).
//!
//! - The Sent Items copy is the client's message with `Message-ID`, `Date`
//!   and `From` added when it lacks them (RFC 5322 3.6; RFC 6409 8.1-8.3
//!   lets a submission server do this).
//! - What recipients get is that copy without its `Bcc` fields (RFC 5322
//!   3.6.3), under a `Received` line (RFC 5321 4.4).
//!
//! Every edit is made on the bytes of the header block: fields are cut out
//! or put in whole, in the message's own line ending, and the body is never
//! touched. An S/MIME entity (multipart/signed, application/pkcs7-mime)
//! therefore reaches its recipients byte for byte; for an opaque or
//! encrypted message the entity's headers are the message's, and only the
//! fields above change there.
//!
//! The envelope recipients come from the To, Cc and Bcc fields.

use mail_parser::{Address, MessageParser};

/// A message prepared for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// For the sender's Sent Items: the message with any missing
    /// Message-ID, Date and From added.
    pub sent_copy: Vec<u8>,
    /// For the recipients: the Sent Items copy without Bcc, under a
    /// Received line.
    pub outbound: Vec<u8>,
    /// Envelope recipients, each once (compared without letter case), in
    /// the order the fields name them.
    pub recipients: Vec<String>,
    pub message_id: String,
    pub subject: String,
}

/// Why a message cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    #[error("the message has no header fields")]
    NoHeaders,
    #[error("the message names no recipient in To, Cc or Bcc")]
    NoRecipients,
    #[error("{0:?} is not an e-mail address")]
    BadRecipient(String),
}

/// Who sends, for the fields the server may have to add.
#[derive(Debug, Clone)]
pub struct Sender<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
}

/// What the Received line says about the submission.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    /// The server's own name.
    pub host: &'a str,
    /// The account that sent it.
    pub account: &'a str,
    /// The device, as it named itself.
    pub device: &'a str,
    /// `SendMail`, `SmartReply`, `SmartForward`.
    pub command: &'a str,
    /// The queue id is not known yet; the ClientId, when there is one.
    pub id: Option<&'a str>,
    pub now: u64,
}

/// Prepares a client's message for the queue.
pub fn prepare(
    raw: &[u8],
    sender: &Sender<'_>,
    trace: &Trace<'_>,
    extra_recipients: &[String],
) -> Result<Prepared, Unsendable> {
    let block = HeaderBlock::split(raw);
    if block.fields.is_empty() {
        return Err(Unsendable::NoHeaders);
    }
    // The header block alone, closed by an empty line, is what is read.
    let eol = block.eol();
    let mut head = raw.get(..block.end).unwrap_or_default().to_vec();
    if !head.ends_with(b"\n") {
        head.extend_from_slice(eol);
    }
    head.extend_from_slice(eol);
    let msg = MessageParser::default()
        .parse_headers(&head)
        .ok_or(Unsendable::NoHeaders)?;
    let mut recipients: Vec<String> = Vec::new();
    for addr in [msg.to(), msg.cc(), msg.bcc()].into_iter().flatten() {
        push_addresses(addr, &mut recipients)?;
    }
    for extra in extra_recipients {
        let extra = extra.trim();
        if !is_address(extra) {
            return Err(Unsendable::BadRecipient(extra.to_owned()));
        }
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(extra)) {
            recipients.push(extra.to_owned());
        }
    }
    if recipients.is_empty() {
        return Err(Unsendable::NoRecipients);
    }

    let mut added: Vec<u8> = Vec::new();
    let message_id = match msg.message_id() {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => {
            let id = new_message_id(sender.email, trace.now);
            push_field(&mut added, "Message-ID", &format!("<{id}>"), eol);
            id
        }
    };
    if block.field("date").is_none() {
        push_field(&mut added, "Date", &rfc5322_date(trace.now), eol);
    }
    if block.field("from").is_none() {
        push_field(&mut added, "From", &mailbox(sender), eol);
    }
    let sent_copy = block.rebuild(&[], &added, &[]);

    let copy_block = HeaderBlock::split(&sent_copy);
    let received = received_line(trace, &recipients);
    let mut top = Vec::new();
    push_field(&mut top, "Received", &received, eol);
    let outbound = copy_block.rebuild(&top, &[], &["bcc"]);

    Ok(Prepared {
        sent_copy,
        outbound,
        recipients,
        message_id,
        subject: msg.subject().unwrap_or("").to_owned(),
    })
}

fn push_addresses(addr: &Address<'_>, out: &mut Vec<String>) -> Result<(), Unsendable> {
    for a in addr.iter() {
        let Some(email) = a.address.as_deref() else {
            continue;
        };
        let email = email.trim();
        if email.is_empty() {
            continue;
        }
        if !is_address(email) {
            return Err(Unsendable::BadRecipient(email.to_owned()));
        }
        if !out.iter().any(|r| r.eq_ignore_ascii_case(email)) {
            out.push(email.to_owned());
        }
    }
    Ok(())
}

/// An address an SMTP path can carry: local@domain, no spaces, controls
/// or brackets.
pub fn is_address(s: &str) -> bool {
    s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && s.rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// `"Name" <email>`, or the bare address when the name cannot be written
/// as a plain quoted string.
pub fn mailbox(sender: &Sender<'_>) -> String {
    let name = sender.display_name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        format!("<{}>", sender.email)
    } else {
        format!("\"{name}\" <{}>", sender.email)
    }
}

/// A new Message-ID (without brackets) in the sender's domain.
pub fn new_message_id(email: &str, now: u64) -> String {
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
        .unwrap_or("eas.invalid");
    let random: u64 = rand::random();
    format!("{now:x}.{random:016x}@{domain}")
}

/// A date as RFC 5322 3.3 writes it, in UTC: `Sun, 29 Nov 2026 18:00:00 +0000`.
pub fn rfc5322_date(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = crate::time::civil(unix);
    let weekday = DAYS
        .get(((unix / 86_400) % 7) as usize)
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS
        .get(m.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    let secs = unix % 86_400;
    format!(
        "{weekday}, {d} {month} {y} {:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// RFC 5321 4.4's time-stamp line, without its field name.
fn received_line(trace: &Trace<'_>, recipients: &[String]) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')' | ';' | '\\'))
            .collect()
    };
    let mut line = format!(
        "from {} ({} {}) by {} (eas-server) with HTTPS ({})",
        clean(trace.device),
        "authenticated as",
        clean(trace.account),
        clean(trace.host),
        clean(trace.command)
    );
    if let Some(id) = trace.id {
        line.push_str(&format!(" id {}", clean(id)));
    }
    // Naming the recipient would disclose Bcc recipients; only one is named,
    // as MTAs do, and only when there is exactly one.
    if let [only] = recipients {
        line.push_str(&format!(" for <{only}>"));
    }
    line.push_str(&format!("; {}", rfc5322_date(trace.now)));
    line
}

/// Appends `Name: value` and a line ending, folding at spaces so that no
/// line passes 78 characters where it can be helped (RFC 5322 2.2.3).
pub fn push_field(out: &mut Vec<u8>, name: &str, value: &str, eol: &[u8]) {
    let mut line_len = name.len() + 1;
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    for (i, word) in value.split(' ').enumerate() {
        if i > 0 && line_len + 1 + word.len() > 78 {
            out.extend_from_slice(eol);
            out.push(b'\t');
            line_len = 1;
        } else {
            out.push(b' ');
            line_len += 1;
        }
        out.extend_from_slice(word.as_bytes());
        line_len += word.len();
    }
    out.extend_from_slice(eol);
}

/// Text for an unstructured header field (a Subject): as it is when it is
/// printable ASCII, else RFC 2047 encoded words of UTF-8 in base64.
pub fn header_text(text: &str) -> String {
    use base64::Engine as _;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.is_ascii() && !clean.contains("=?") {
        return clean;
    }
    // At most 45 bytes of text per word keeps each word within 75 characters.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A message's header block, as byte ranges of the original.
#[derive(Debug, Clone)]
pub struct HeaderBlock<'a> {
    raw: &'a [u8],
    /// Each field: its lower-case name and its bytes, continuation lines
    /// and line ending included.
    pub fields: Vec<(String, std::ops::Range<usize>)>,
    /// Where the header block ends: the empty line (if any) starts here.
    pub end: usize,
}

impl<'a> HeaderBlock<'a> {
    /// Reads the header block: lines up to the first empty one. A line
    /// that is neither a field nor a continuation ends it too, as a
    /// message without a separator line would.
    pub fn split(raw: &'a [u8]) -> HeaderBlock<'a> {
        let mut fields: Vec<(String, std::ops::Range<usize>)> = Vec::new();
        let mut pos = 0;
        while pos < raw.len() {
            let rest = raw.get(pos..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let line = rest.get(..len).unwrap_or_default();
            let content = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(line);
            if content.is_empty() {
                break;
            }
            match content.first() {
                Some(b' ' | b'\t') => match fields.last_mut() {
                    Some((_, range)) => range.end = pos + len,
                    None => break,
                },
                _ => {
                    let Some(colon) = content.iter().position(|&b| b == b':') else {
                        break;
                    };
                    let name = content.get(..colon).unwrap_or_default();
                    if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
                        break;
                    }
                    fields.push((
                        String::from_utf8_lossy(name).to_ascii_lowercase(),
                        pos..pos + len,
                    ));
                }
            }
            pos += len;
        }
        HeaderBlock {
            raw,
            fields,
            end: pos,
        }
    }

    /// The line ending the message uses: CRLF unless its first line ends
    /// in a bare LF.
    pub fn eol(&self) -> &'static [u8] {
        let first = self
            .raw
            .iter()
            .position(|&b| b == b'\n')
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.raw.get(i));
        match first {
            Some(b'\r') | None => b"\r\n",
            Some(_) => b"\n",
        }
    }

    /// The first field with this (lower-case) name.
    pub fn field(&self, name: &str) -> Option<&'a [u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, r)| self.raw.get(r.clone()))
    }

    /// The value of the first field with this name, unfolded, trimmed.
    pub fn value(&self, name: &str) -> Option<String> {
        let field = self.field(name)?;
        let text = String::from_utf8_lossy(field);
        let value = text.split_once(':').map_or("", |(_, v)| v);
        Some(
            value
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// The fields whose names satisfy `keep`, in order, as bytes.
    pub fn fields_where(&self, keep: impl Fn(&str) -> bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, range) in &self.fields {
            if keep(name) {
                out.extend_from_slice(self.raw.get(range.clone()).unwrap_or_default());
            }
        }
        out
    }

    /// The bytes after the header block: the empty line and the body.
    pub fn rest(&self) -> &'a [u8] {
        self.raw.get(self.end..).unwrap_or_default()
    }

    /// The body without the separating empty line.
    pub fn body(&self) -> &'a [u8] {
        let rest = self.rest();
        rest.strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .unwrap_or(rest)
    }

    /// The message again: `top` first, then every field not named in
    /// `drop`, then `bottom`, then the rest exactly as it was.
    pub fn rebuild(&self, top: &[u8], bottom: &[u8], drop: &[&str]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.raw.len() + top.len() + bottom.len());
        out.extend_from_slice(top);
        let mut pos = 0;
        for (name, range) in &self.fields {
            if drop.contains(&name.as_str()) {
                out.extend_from_slice(self.raw.get(pos..range.start).unwrap_or_default());
                pos = range.end;
            }
        }
        out.extend_from_slice(self.raw.get(pos..self.end).unwrap_or_default());
        // A last field without a line ending (a message of headers only)
        // gets one before anything is added after it.
        if !bottom.is_empty() && self.end > 0 && !out.ends_with(b"\n") {
            out.extend_from_slice(self.eol());
        }
        out.extend_from_slice(bottom);
        out.extend_from_slice(self.rest());
        out
    }
}

/// What a transport must offer to carry a message unchanged (RFC 6152,
/// RFC 3030).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A byte above 127.
    pub eight_bit: bool,
    /// A NUL byte or a line longer than 998 octets: BINARYMIME only.
    pub binary: bool,
    /// A CR or LF that is not part of CRLF: DATA cannot carry it unchanged
    /// (RFC 5321 2.3.8), BDAT can.
    pub bare_line_breaks: bool,
}

pub fn needs(raw: &[u8]) -> Needs {
    let mut n = Needs::default();
    let mut line_len = 0usize;
    let mut prev = 0u8;
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\n' => {
                if prev != b'\r' {
                    n.bare_line_breaks = true;
                }
                line_len = 0;
            }
            b'\r' if raw.get(i + 1) != Some(&b'\n') => n.bare_line_breaks = true,
            0 => n.binary = true,
            b if b >= 0x80 => n.eight_bit = true,
            _ => {}
        }
        if b != b'\n' && b != b'\r' {
            line_len += 1;
            if line_len > 998 {
                n.binary = true;
            }
        }
        prev = b;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: Sender<'static> = Sender {
        email: "alice@example.com",
        display_name: "Alice Example",
    };

    fn trace() -> Trace<'static> {
        Trace {
            host: "mail.example.com",
            account: "alice",
            device: "Phone1",
            command: "SendMail",
            id: Some("c-1"),
            now: 1_795_975_200,
        }
    }

    #[test]
    fn only_bcc_goes_and_only_missing_fields_come() {
        let raw = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.org\r\nBcc: dan@example.net,\r\n  BOB@example.com\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nBcc: not a header\r\n";
        let p = prepare(raw, &SENDER, &trace(), &[]).unwrap();
        assert_eq!(
            p.recipients,
            ["bob@example.com", "carol@example.org", "dan@example.net"]
        );
        // Message-ID and Date were missing; From was not.
        let copy = String::from_utf8(p.sent_copy.clone()).unwrap();
        assert!(copy.starts_with("From: Alice <alice@example.com>\r\nTo: Bob"));
        assert!(copy.contains(&format!(
            "Content-Type: text/plain\r\nMessage-ID: <{}>\r\nDate: Sun, 29 Nov 2026 18:00:00 +0000\r\n\r\nBcc: not a header\r\n",
            p.message_id
        )));
        assert!(p.message_id.ends_with("@example.com"));
        let out = String::from_utf8(p.outbound.clone()).unwrap();
        assert!(
            out.starts_with("Received: from Phone1 (authenticated as alice) by mail.example.com"),
            "{out}"
        );
        assert!(out.contains("id c-1;"), "{out}");
        let without_received = out.split_once("\r\nFrom: ").unwrap().1;
        assert_eq!(
            format!("From: {without_received}"),
            copy.replace("Bcc: dan@example.net,\r\n  BOB@example.com\r\n", "")
        );
        assert_eq!(p.subject, "hi");
    }

    #[test]
    fn the_body_is_never_touched_and_line_endings_are_kept() {
        let body = b"\n--b\nContent-Type: text/plain\n\nsigned\n--b--\n";
        let mut raw = b"Message-ID: <x@y>\nDate: Sun, 29 Nov 2026 18:00:00 +0000\nFrom: a@example.com\nTo: b@example.com\nBcc: c@example.com\nContent-Type: multipart/signed; boundary=b\n".to_vec();
        raw.extend_from_slice(body);
        let p = prepare(&raw, &SENDER, &trace(), &[]).unwrap();
        assert_eq!(p.sent_copy, raw);
        assert!(p.outbound.ends_with(body));
        assert!(p.outbound.starts_with(b"Received: from Phone1"));
        assert!(!p.outbound.windows(4).any(|w| w == b"Bcc:"));
        assert!(!p.outbound.windows(2).any(|w| w == b"\r\n"));
        assert_eq!(p.message_id, "x@y");
    }

    #[test]
    fn refusals() {
        assert_eq!(
            prepare(b"", &SENDER, &trace(), &[]),
            Err(Unsendable::NoHeaders)
        );
        assert_eq!(
            prepare(b"Subject: x\r\n\r\nbody", &SENDER, &trace(), &[]),
            Err(Unsendable::NoRecipients)
        );
        assert!(matches!(
            prepare(
                b"To: a@b\r\n\r\n",
                &SENDER,
                &trace(),
                &["not an address".into()]
            ),
            Err(Unsendable::BadRecipient(_))
        ));
        // A From is added when missing; a header-only message gets its fields.
        let p = prepare(b"To: x@example.org", &SENDER, &trace(), &[]).unwrap();
        let copy = String::from_utf8(p.sent_copy).unwrap();
        assert!(
            copy.starts_with("To: x@example.org\r\nMessage-ID: <"),
            "{copy}"
        );
        assert!(
            copy.ends_with("From: \"Alice Example\" <alice@example.com>\r\n"),
            "{copy}"
        );
    }

    #[test]
    fn dates_and_needs() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(needs(b"a\r\nb\r\n"), Needs::default());
        assert!(needs(b"caf\xc3\xa9\r\n").eight_bit);
        assert!(needs(b"a\nb").bare_line_breaks);
        assert!(needs(b"a\rb").bare_line_breaks);
        assert!(needs(b"a\0b").binary);
        assert!(needs(&[b'x'; 999]).binary);
        assert!(!needs(&[b'x'; 998]).binary);
    }
}
