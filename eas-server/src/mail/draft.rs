//! Drafts a client writes through Sync (MS-ASEMAIL 16.0: a Sync Add or
//! Change of an Email in the Drafts folder, MS-ASCMD 2.2.3.7.2 and
//! 2.2.3.24): the properties and attachments the client sends become a
//! real RFC 5322 message, stored like any other, so every device, Search,
//! ItemOperations and a later SendMail see the same bytes.
//!
//! A draft is not a message that arrived: the server is its author, so it
//! is built anew on every save (DESIGN.md promise 1 is about bytes that
//! came from elsewhere). A Change reads the stored draft back
//! ([`Draft::read`]), applies what the client changed ([`Draft::apply`]) and
//! builds it again ([`Draft::to_mime`]). Header values are kept in their
//! encoded form, so one the client did not touch is written back as it was.
//!
//! Shape: one `text/plain` or `text/html` part (the body, MS-ASAIRS Body
//! Type 1 or 2) in UTF-8 quoted-printable; with attachments, a
//! `multipart/mixed` whose first part is the body, then each attachment
//! (MS-ASAIRS 2.2.2.2 Add) in base64, or, for an embedded message, as it
//! came (RFC 2046 5.2.1 does not allow base64 on message/rfc822).

use base64::Engine as _;
use eas_proto::command::airsyncbase::{AttachmentAdd, AttachmentMethod, BodyType};
use eas_proto::command::email::Email;
use mail_parser::{MessageParser, MimeHeaders as _};

use super::compose::{boundary, quoted_printable};
use super::content::{attachment_bytes, attachment_content_type};
use super::submission::{HeaderBlock, header_text, needs, push_field, rfc5322_date};
use crate::store::{AttachmentNumbers, MailItem};

/// Why a client's draft cannot be saved; each is the client's fault
/// (MS-ASCMD Sync Status 6, an invalid item).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("a draft body of Type {0} (only 1, plain text, and 2, HTML, can be written)")]
    BodyType(u8),
    #[error("no attachment {0} on this draft to delete")]
    NoSuchAttachment(String),
    #[error("the stored draft cannot be read back")]
    Unreadable,
}

/// One attachment of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftAttachment {
    /// The number in its FileReference, `{item}:{number}`.
    pub number: u32,
    pub display_name: String,
    pub content_type: String,
    /// The attachment's bytes, transfer encoding undone.
    pub content: Vec<u8>,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub inline: bool,
}

/// A draft as the server holds it between saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// (Field name, encoded value) of From, To, Cc, Bcc, Subject,
    /// Importance, Message-ID: ready to write.
    fields: Vec<(&'static str, String)>,
    html: bool,
    body: String,
    pub attachments: Vec<DraftAttachment>,
    next_number: u32,
}

/// The fields a draft keeps, in the order they are written.
const FIELDS: [&str; 7] = [
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Importance",
    "Message-ID",
];

impl Draft {
    /// An empty draft from `from` (a mailbox, `"Name" <addr>`).
    pub fn new(from: &str, message_id: &str) -> Draft {
        Draft {
            fields: vec![
                ("From", from.to_owned()),
                ("Message-ID", format!("<{message_id}>")),
            ],
            html: false,
            body: String::new(),
            attachments: Vec::new(),
            next_number: 0,
        }
    }

    /// The stored draft `raw` of `item`, to be changed.
    pub fn read(raw: &[u8], item: &MailItem) -> Result<Draft, DraftError> {
        let msg = MessageParser::default()
            .parse(raw)
            .ok_or(DraftError::Unreadable)?;
        let block = HeaderBlock::split(raw);
        let fields = FIELDS
            .iter()
            .filter_map(|name| {
                let value = block.value(&name.to_ascii_lowercase())?;
                Some((*name, value))
            })
            .collect();
        let html = item.summary.native_body_type == 2;
        let body = if html {
            msg.body_html(0)
        } else {
            msg.body_text(0)
        }
        .map(|b| b.into_owned())
        .unwrap_or_default();
        let mut attachments = Vec::new();
        for (position, part) in msg.attachments().enumerate() {
            attachments.push(DraftAttachment {
                number: item.attachment_number(position),
                display_name: part
                    .attachment_name()
                    .map_or_else(|| format!("attachment-{}", position + 1), str::to_owned),
                content_type: attachment_content_type(part),
                content: attachment_bytes(raw, part),
                content_id: part
                    .content_id()
                    .map(|c| c.trim_matches(['<', '>']).to_owned()),
                content_location: part.content_location().map(str::to_owned),
                inline: part.content_disposition().is_some_and(|d| d.is_inline()),
            });
        }
        let next_number = attachments
            .iter()
            .map(|a| a.number.saturating_add(1))
            .max()
            .unwrap_or(0)
            .max(item.attachment_numbers.next);
        Ok(Draft {
            fields,
            html,
            body,
            attachments,
            next_number,
        })
    }

    /// Applies what the client sent: the properties present replace the
    /// draft's (an absent one stays, MS-ASCMD 2.2.3.24), attachments are
    /// deleted by FileReference (MS-ASAIRS 2.2.2.21) and added (2.2.2.2).
    /// Returns the (ClientId, number) of each attachment added.
    pub fn apply(&mut self, item_id: u64, email: &Email) -> Result<Vec<(String, u32)>, DraftError> {
        for (name, value) in [("To", &email.to), ("Cc", &email.cc), ("Bcc", &email.bcc)] {
            if let Some(v) = value {
                self.set(name, address_list(v));
            }
        }
        if let Some(subject) = &email.subject {
            self.set("Subject", header_text(subject));
        }
        if let Some(importance) = email.importance {
            let word = match importance.0 {
                0 => "low",
                2 => "high",
                _ => "normal",
            };
            self.set("Importance", word.to_owned());
        }
        if let Some(body) = &email.body {
            self.html = match body.body_type {
                BodyType::PLAIN_TEXT => false,
                BodyType::HTML => true,
                other => return Err(DraftError::BodyType(other.0)),
            };
            self.body = body.data.clone().unwrap_or_default();
        }
        let mut added = Vec::new();
        if let Some(changes) = &email.attachments {
            for reference in &changes.delete {
                let number = reference
                    .split_once(':')
                    .filter(|(item, _)| item.parse::<u64>().ok() == Some(item_id))
                    .and_then(|(_, n)| n.parse::<u32>().ok());
                let before = self.attachments.len();
                self.attachments.retain(|a| Some(a.number) != number);
                if self.attachments.len() == before {
                    return Err(DraftError::NoSuchAttachment(reference.clone()));
                }
            }
            for add in &changes.add {
                let number = self.next_number;
                self.next_number = self.next_number.saturating_add(1);
                self.attachments.push(attachment(add, number));
                added.push((add.client_id.clone(), number));
            }
        }
        Ok(added)
    }

    /// The FileReference numbers to store with the item.
    pub fn numbers(&self) -> AttachmentNumbers {
        AttachmentNumbers {
            numbers: self.attachments.iter().map(|a| a.number).collect(),
            next: self.next_number,
        }
    }

    fn set(&mut self, name: &'static str, value: String) {
        self.fields.retain(|(n, _)| *n != name);
        if !value.is_empty() {
            self.fields.push((name, value));
        }
    }

    /// The draft as RFC 5322 MIME, dated `now`.
    pub fn to_mime(&self, now: u64) -> Vec<u8> {
        const EOL: &[u8] = b"\r\n";
        let mut out = Vec::new();
        for name in FIELDS {
            if let Some((_, value)) = self.fields.iter().find(|(n, _)| *n == name) {
                push_field(&mut out, name, value, EOL);
            }
        }
        push_field(&mut out, "Date", &rfc5322_date(now), EOL);
        push_field(&mut out, "MIME-Version", "1.0", EOL);
        let body_part = {
            let mut part = Vec::new();
            let kind = if self.html { "html" } else { "plain" };
            push_field(
                &mut part,
                "Content-Type",
                &format!("text/{kind}; charset=utf-8"),
                EOL,
            );
            push_field(
                &mut part,
                "Content-Transfer-Encoding",
                "quoted-printable",
                EOL,
            );
            part.extend_from_slice(EOL);
            let mut text = quoted_printable(&self.body, EOL);
            // Only a body that ends a line ends with a line break: the
            // client's text comes back as it was sent.
            if !self.body.ends_with('\n') {
                text.truncate(text.len().saturating_sub(EOL.len()));
            }
            part.extend_from_slice(&text);
            part
        };
        if self.attachments.is_empty() {
            out.extend_from_slice(&body_part);
            return out;
        }
        let parts: Vec<Vec<u8>> = std::iter::once(body_part)
            .chain(self.attachments.iter().map(attachment_part))
            .collect();
        let contents: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let boundary = boundary(&contents);
        push_field(
            &mut out,
            "Content-Type",
            &format!("multipart/mixed; boundary=\"{boundary}\""),
            EOL,
        );
        out.extend_from_slice(EOL);
        for part in &parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(EOL);
            out.extend_from_slice(part);
            // The line break before a delimiter belongs to it (RFC 2046 5.1.1).
            out.extend_from_slice(EOL);
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--");
        out.extend_from_slice(EOL);
        out
    }
}

fn attachment(add: &AttachmentAdd, number: u32) -> DraftAttachment {
    let content_type = add
        .content_type
        .clone()
        .filter(|t| is_media_type(t))
        .unwrap_or_else(|| {
            if add.method == AttachmentMethod::EMBEDDED_MESSAGE {
                "message/rfc822".to_owned()
            } else {
                "application/octet-stream".to_owned()
            }
        });
    DraftAttachment {
        number,
        display_name: add.display_name.clone(),
        content_type,
        content: add.content.clone(),
        content_id: add.content_id.clone(),
        content_location: add.content_location.clone(),
        inline: add.is_inline.unwrap_or(false),
    }
}

/// `type/subtype` of token characters (RFC 2045 5.1), nothing else: what
/// a client sends is written into a header field.
fn is_media_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    t.split_once('/').is_some_and(|(a, b)| token(a) && token(b))
}

fn attachment_part(a: &DraftAttachment) -> Vec<u8> {
    const EOL: &[u8] = b"\r\n";
    let mut part = Vec::new();
    push_field(
        &mut part,
        "Content-Type",
        &format!("{}; {}", a.content_type, parameter("name", &a.display_name)),
        EOL,
    );
    let disposition = if a.inline { "inline" } else { "attachment" };
    push_field(
        &mut part,
        "Content-Disposition",
        &format!("{disposition}; {}", parameter("filename", &a.display_name)),
        EOL,
    );
    if let Some(id) = a.content_id.as_deref().map(clean).filter(|i| !i.is_empty()) {
        push_field(&mut part, "Content-ID", &format!("<{id}>"), EOL);
    }
    if let Some(location) = a
        .content_location
        .as_deref()
        .map(clean)
        .filter(|l| !l.is_empty())
    {
        push_field(&mut part, "Content-Location", &location, EOL);
    }
    if a.content_type.eq_ignore_ascii_case("message/rfc822") {
        // RFC 2046 5.2.1: 7bit, 8bit or binary; the message goes as it came.
        let n = needs(&a.content);
        if n.binary || n.bare_line_breaks {
            push_field(&mut part, "Content-Transfer-Encoding", "binary", EOL);
        } else if n.eight_bit {
            push_field(&mut part, "Content-Transfer-Encoding", "8bit", EOL);
        }
        part.extend_from_slice(EOL);
        part.extend_from_slice(&a.content);
        return part;
    }
    push_field(&mut part, "Content-Transfer-Encoding", "base64", EOL);
    part.extend_from_slice(EOL);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&a.content);
    for line in encoded.as_bytes().chunks(76) {
        part.extend_from_slice(line);
        part.extend_from_slice(EOL);
    }
    // The last line break belongs to the delimiter that follows.
    part.truncate(part.len().saturating_sub(EOL.len()));
    part
}

/// Printable ASCII without angle brackets: what a client sent for a
/// Content-ID or Content-Location, made safe for a header field.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '<' && *c != '>')
        .collect()
}

/// `name="value"`, or RFC 2231 `name*=utf-8''%XX` for a value that is not
/// printable ASCII.
fn parameter(name: &str, value: &str) -> String {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("{name}=\"{escaped}\"");
    }
    let mut encoded = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{name}*=utf-8''{encoded}")
}

/// An address list as a client sends it (MS-ASEMAIL To: comma-separated
/// `"Name" <addr>`), written for a header field: display names outside
/// printable ASCII as RFC 2047 encoded words.
fn address_list(value: &str) -> String {
    let head = format!("To: {}\r\n\r\n", value.replace(['\r', '\n'], " "));
    let parsed = MessageParser::default().parse_headers(head.as_bytes());
    let Some(list) = parsed.as_ref().and_then(|m| m.to()) else {
        return String::new();
    };
    list.iter()
        .filter_map(|a| {
            let email = a.address.as_deref()?.trim();
            if email.is_empty() {
                return None;
            }
            let email = clean(email);
            Some(
                match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    Some(name) if name.is_ascii() => {
                        let escaped = name
                            .chars()
                            .filter(|c| !c.is_control())
                            .collect::<String>()
                            .replace('\\', "\\\\")
                            .replace('"', "\\\"");
                        format!("\"{escaped}\" <{email}>")
                    }
                    Some(name) => format!("{} <{email}>", header_text(name)),
                    None => email,
                },
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::mail::summary::summarize;
    use eas_proto::command::airsyncbase::{Attachments, Body};
    use eas_proto::command::email::Importance;

    fn add(client_id: &str, name: &str, content: &[u8]) -> AttachmentAdd {
        AttachmentAdd {
            client_id: client_id.into(),
            method: AttachmentMethod::NORMAL,
            content_type: Some("application/pdf".into()),
            content: content.to_vec(),
            display_name: name.into(),
            content_id: None,
            content_location: None,
            is_inline: None,
        }
    }

    fn item(raw: &[u8], numbers: AttachmentNumbers) -> MailItem {
        MailItem {
            id: 9,
            folder: 2,
            modseq: 1,
            blob: String::new(),
            size: raw.len() as u64,
            received: 0,
            read: true,
            flag: None,
            categories: vec![],
            summary: summarize(raw),
            content_modseq: 0,
            attachment_numbers: numbers,
        }
    }

    #[test]
    fn a_draft_is_real_mime_and_reads_back_with_stable_numbers() {
        let mut d = Draft::new("\"Alice\" <alice@example.com>", "x@example.com");
        let added = d
            .apply(
                9,
                &Email {
                    to: Some("\"Bob Q\" <bob@example.com>, Zoë <zoe@example.com>".into()),
                    bcc: Some("carol@example.com".into()),
                    subject: Some("Plans für morgen".into()),
                    importance: Some(Importance::HIGH),
                    body: Some(Body {
                        data: Some("Hi Bob,\nsee the two files.\n".into()),
                        ..Body::new(BodyType::PLAIN_TEXT)
                    }),
                    attachments: Some(Attachments {
                        add: vec![
                            add("c1", "one.pdf", b"%PDF-1 \x00\xff binary"),
                            add("c2", "zwei-ä.bin", &[7u8; 200]),
                        ],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(added, vec![("c1".into(), 0), ("c2".into(), 1)]);
        let raw = d.to_mime(1_795_975_200);
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(msg.subject(), Some("Plans für morgen"));
        assert_eq!(msg.to().unwrap().first().unwrap().name(), Some("Bob Q"));
        assert_eq!(msg.to().unwrap().iter().nth(1).unwrap().name(), Some("Zoë"));
        assert_eq!(
            msg.bcc().unwrap().first().unwrap().address(),
            Some("carol@example.com")
        );
        assert_eq!(
            msg.body_text(0).unwrap(),
            "Hi Bob,\r\nsee the two files.\r\n"
        );
        let atts: Vec<_> = msg.attachments().collect();
        assert_eq!(atts.len(), 2);
        assert_eq!(atts[0].contents(), b"%PDF-1 \x00\xff binary");
        assert_eq!(atts[1].attachment_name(), Some("zwei-ä.bin"));
        let s = summarize(&raw);
        assert_eq!((s.importance, s.has_attachments), (2, true));

        // Delete the first, add a third: numbers stay with their files
        // and 0 is not given again.
        let it = item(&raw, d.numbers());
        let mut again = Draft::read(&raw, &it).unwrap();
        assert_eq!(again.attachments, d.attachments);
        let added = again
            .apply(
                9,
                &Email {
                    subject: Some("Plans".into()),
                    attachments: Some(Attachments {
                        delete: vec!["9:0".into()],
                        add: vec![add("c3", "three.pdf", b"3")],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(added, vec![("c3".into(), 2)]);
        let raw2 = again.to_mime(1_795_975_300);
        let it2 = item(&raw2, again.numbers());
        assert_eq!(it2.attachment_numbers.numbers, vec![1, 2]);
        assert_eq!(it2.attachment_position(1), Some(0));
        assert_eq!(it2.attachment_position(0), None);
        let msg2 = MessageParser::default().parse(&raw2).unwrap();
        assert_eq!(msg2.subject(), Some("Plans"));
        // Untouched: recipients and body.
        assert_eq!(
            msg2.bcc().unwrap().first().unwrap().address(),
            Some("carol@example.com")
        );
        assert_eq!(
            msg2.body_text(0).unwrap(),
            "Hi Bob,\r\nsee the two files.\r\n"
        );
        assert_eq!(msg2.attachments().next().unwrap().contents(), &[7u8; 200]);

        let mut bad = Draft::read(&raw2, &it2).unwrap();
        assert_eq!(
            bad.apply(
                9,
                &Email {
                    attachments: Some(Attachments {
                        delete: vec!["9:0".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            ),
            Err(DraftError::NoSuchAttachment("9:0".into()))
        );
        assert_eq!(
            bad.apply(
                9,
                &Email {
                    body: Some(Body::new(BodyType::MIME)),
                    ..Default::default()
                }
            ),
            Err(DraftError::BodyType(4))
        );
    }

    #[test]
    fn header_injection_is_not_possible() {
        let mut d = Draft::new("<a@example.com>", "x@example.com");
        d.apply(
            1,
            &Email {
                subject: Some("hi\r\nBcc: evil@example.com".into()),
                attachments: Some(Attachments {
                    add: vec![AttachmentAdd {
                        content_type: Some("text/plain\r\nX-Evil: 1".into()),
                        content_id: Some("a>\r\nX-Evil: 2".into()),
                        ..add("c", "a\"b\r\n.txt", b"x")
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .unwrap();
        let raw = d.to_mime(0);
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("\nBcc:"), "{text}");
        assert!(!text.contains("\nX-Evil"), "{text}");
        let msg = MessageParser::default().parse(&raw).unwrap();
        let att = msg.attachments().next().unwrap();
        assert_eq!(attachment_content_type(att), "application/octet-stream");
    }
}
