//! An item as a client sees it: the Email class ApplicationData built from
//! the stored summary and, for the body and attachments, the raw MIME, per
//! the client's BodyPreference and MIMESupport (MS-ASAIRS 3.2.5.1,
//! MS-ASEMAIL 3.2.5).
//!
//! A MIME body (type 4) is a slice of the stored bytes, never re-encoded:
//! S/MIME signatures survive it, and `Writer::text_bytes` sends it as it is.

use eas_proto::ProtocolVersion;
use eas_proto::codepages::airsyncbase as b;
use eas_proto::command::DateTime;
use eas_proto::command::airsyncbase::{
    Attachment, AttachmentMethod, Attachments, Body, BodyPreference, BodyType,
};
use eas_proto::command::email::{Email, Flag, FlagStatus, Importance};
use eas_proto::command::sync::{MimeSupport, MimeTruncation};
use eas_proto::wbxml::{EncodeError, Writer};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, MessageParser, MessagePart, MimeHeaders as _, PartType};
use sha2::{Digest, Sha256};
use smime_core::Classification;

use crate::store::mailbox::{default_folder, folder_type};
use crate::store::{FlagState, MailItem};
use crate::time;

/// What the client asked for in Options (or ItemOperations Options).
#[derive(Debug, Clone, Default)]
pub struct BodyRequest {
    pub preferences: Vec<BodyPreference>,
    pub mime_support: Option<MimeSupport>,
    pub mime_truncation: Option<MimeTruncation>,
}

/// The body chosen for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenBody {
    /// Text or HTML, possibly truncated.
    Text(Body),
    /// The stored MIME: `data` is a prefix of it (all of it unless
    /// truncated).
    Mime {
        estimated: u32,
        truncated: bool,
        data: Vec<u8>,
    },
}

/// An item's ApplicationData: `email` holds everything, a text body
/// included; a MIME body, which the tree form cannot hold byte for byte,
/// is in `body` and written in its place.
#[derive(Debug, Clone)]
pub struct ItemContent {
    pub email: Email,
    pub body: Option<ChosenBody>,
}

impl ItemContent {
    /// Writes the children of ApplicationData, the body in its place.
    pub fn write<W: std::io::Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        match &self.body {
            Some(ChosenBody::Mime {
                estimated,
                truncated,
                data,
            }) => self.email.write_children_with_body(w, |w| {
                w.start(b::Body)?;
                w.text_element(b::Type, "4")?;
                w.text_element(b::EstimatedDataSize, &estimated.to_string())?;
                if *truncated {
                    w.text_element(b::Truncated, "1")?;
                }
                if !data.is_empty() {
                    w.start(b::Data)?;
                    w.text_bytes(data)?;
                    w.end()?;
                }
                w.end()
            }),
            _ => self.email.write_children(w),
        }
    }
}

pub fn server_id(item: &MailItem) -> String {
    format!("{}:{}", item.folder, item.id)
}

/// `2026-11-29T18:00:00.000Z` (MS-ASDTYPE 2.3).
pub fn date_time(unix: u64) -> Option<DateTime> {
    DateTime::parse(&format!(
        "{}.000Z",
        time::rfc3339(unix).trim_end_matches('Z')
    ))
}

/// The properties a Change carries: the ones a client or another device can
/// change (MS-ASEMAIL 3.2.5.3).
pub fn changed_properties(item: &MailItem) -> Email {
    Email {
        read: Some(item.read),
        flag: Some(flag(item.flag.as_ref())),
        categories: Some(item.categories.clone()),
        ..Default::default()
    }
}

fn flag(state: Option<&FlagState>) -> Flag {
    let Some(state) = state else {
        return Flag::default();
    };
    let date = |s: &Option<String>| s.as_deref().and_then(DateTime::parse);
    Flag {
        status: Some(FlagStatus(state.status)),
        flag_type: (!state.flag_type.is_empty()).then(|| state.flag_type.clone()),
        start_date: date(&state.start_date),
        utc_start_date: date(&state.start_date),
        due_date: date(&state.due_date),
        utc_due_date: date(&state.due_date),
        date_completed: date(&state.date_completed),
        complete_time: date(&state.date_completed),
        reminder_set: Some(state.reminder_set),
        reminder_time: date(&state.reminder_time),
        ..Default::default()
    }
}

/// The whole item, as an Add or a Fetch sends it.
pub fn item_content(
    item: &MailItem,
    raw: &[u8],
    req: &BodyRequest,
    version: ProtocolVersion,
) -> ItemContent {
    let s = &item.summary;
    let class = smime_core::classify(raw);
    let parsed = MessageParser::default().parse(raw);
    let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let mut email = Email {
        to: some(&s.to),
        cc: some(&s.cc),
        from: some(&s.from),
        subject: Some(s.subject.clone()),
        reply_to: some(&s.reply_to),
        date_received: date_time(item.received),
        display_to: some(&s.display_to),
        thread_topic: Some(s.thread_topic.clone()),
        importance: Some(Importance(s.importance)),
        read: Some(item.read),
        message_class: Some(s.message_class.clone()),
        internet_cpid: Some("65001".into()),
        flag: Some(flag(item.flag.as_ref())),
        content_class: Some("urn:content-classes:message".into()),
        native_body_type: Some(BodyType(s.native_body_type.max(1))),
        categories: Some(item.categories.clone()),
        ..Default::default()
    };
    if version >= ProtocolVersion::V14_0 {
        let topic: [u8; 32] = Sha256::digest(s.thread_topic.to_lowercase().as_bytes()).into();
        email.conversation_id = topic.get(..16).map(<[u8]>::to_vec);
    }
    if let Some(msg) = parsed.as_ref().filter(|_| !class.is_smime()) {
        let list: Vec<Attachment> = msg
            .attachments()
            .enumerate()
            .map(|(i, part)| Attachment {
                display_name: Some(
                    part.attachment_name()
                        .map_or_else(|| format!("attachment-{}", i + 1), str::to_owned),
                ),
                file_reference: format!("{}:{}", item.id, item.attachment_number(i)),
                method: Some(if part.is_message() {
                    AttachmentMethod::EMBEDDED_MESSAGE
                } else {
                    AttachmentMethod::NORMAL
                }),
                estimated_data_size: Some(u32::try_from(part.contents().len()).unwrap_or(u32::MAX)),
                content_id: part
                    .content_id()
                    .map(|c| c.trim_matches(['<', '>']).to_owned()),
                is_inline: Some(part.content_disposition().is_some_and(|d| d.is_inline())),
                ..Default::default()
            })
            .collect();
        if !list.is_empty() {
            email.attachments = Some(Attachments {
                attachments: list,
                ..Default::default()
            });
        }
    }
    // A draft at 16.0+ (MS-ASEMAIL 2.2.2.42 IsDraft, 2.2.2.10 Bcc): the
    // account's other devices edit it, so they need its Bcc too.
    if version >= ProtocolVersion::V16_0 && Some(item.folder) == default_folder(folder_type::DRAFTS)
    {
        email.is_draft = Some(true);
        email.bcc = parsed
            .as_ref()
            .and_then(|m| m.header_raw("Bcc"))
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty());
    }
    let body = choose_body(raw, class, parsed.as_ref(), req, version);
    if let ChosenBody::Text(b) = &body {
        email.body = Some(b.clone());
    }
    ItemContent {
        email,
        body: Some(body),
    }
}

/// Whether the client gets MIME (MS-ASCMD MIMESupport; MS-ASAIRS 3.2.5.1.1).
fn wants_mime(class: Classification, req: &BodyRequest) -> bool {
    let asked_type_4 = req
        .preferences
        .iter()
        .any(|p| p.body_type == BodyType::MIME);
    match req.mime_support {
        Some(MimeSupport::ALWAYS) => true,
        Some(MimeSupport::SMIME_ONLY) => class.is_smime(),
        _ => asked_type_4 && req.mime_support.is_none(),
    }
}

fn choose_body(
    raw: &[u8],
    class: Classification,
    msg: Option<&mail_parser::Message<'_>>,
    req: &BodyRequest,
    version: ProtocolVersion,
) -> ChosenBody {
    if wants_mime(class, req) {
        let pref = req
            .preferences
            .iter()
            .find(|p| p.body_type == BodyType::MIME);
        let limit = pref
            .and_then(|p| p.truncation_size)
            .map(|n| n as usize)
            .or_else(|| {
                req.mime_truncation
                    .and_then(MimeTruncation::limit)
                    .flatten()
            });
        let all_or_none = pref.and_then(|p| p.all_or_none).unwrap_or(false);
        let estimated = u32::try_from(raw.len()).unwrap_or(u32::MAX);
        return match limit {
            Some(n) if n < raw.len() => ChosenBody::Mime {
                estimated,
                truncated: true,
                data: if all_or_none {
                    Vec::new()
                } else {
                    raw.get(..n).unwrap_or_default().to_vec()
                },
            },
            _ => ChosenBody::Mime {
                estimated,
                truncated: false,
                data: raw.to_vec(),
            },
        };
    }
    let html = msg
        .and_then(|m| (m.html_body_count() > 0).then(|| m.body_html(0)).flatten())
        .map(|c| c.into_owned());
    let text = match class {
        // What a client that cannot read CMS needs to know, not base64.
        Classification::Enveloped => "This message is encrypted (S/MIME). Open it in a mail app that holds your certificate and private key.".to_owned(),
        Classification::OpaqueSigned => "This message is digitally signed (S/MIME, opaque signing). Open it in a mail app that supports S/MIME to read and verify it.".to_owned(),
        Classification::CertsOnly => "This message carries certificates (S/MIME certs-only) and no text.".to_owned(),
        _ => msg.and_then(|m| m.body_text(0)).map(|c| c.into_owned()).unwrap_or_default(),
    };
    let native_html = matches!(class, Classification::Plain | Classification::ClearSigned)
        && msg.is_some_and(|m| {
            m.html_body.first() != m.text_body.first() || m.html_body_count() > m.text_body_count()
        });
    let wants = |t: BodyType| req.preferences.iter().find(|p| p.body_type == t);
    let (pref, body_type, data) = match (wants(BodyType::HTML), wants(BodyType::PLAIN_TEXT)) {
        (Some(p), _) if native_html && html.is_some() => {
            (Some(p), BodyType::HTML, html.unwrap_or_default())
        }
        (_, Some(p)) => (Some(p), BodyType::PLAIN_TEXT, text.clone()),
        (Some(p), None) => (
            Some(p),
            BodyType::HTML,
            html.filter(|_| native_html)
                .unwrap_or_else(|| text_to_html(&text)),
        ),
        (None, None) => (req.preferences.first(), BodyType::PLAIN_TEXT, text.clone()),
    };
    let full_len = data.len();
    let (data, truncated) = match pref.and_then(|p| p.truncation_size).map(|n| n as usize) {
        Some(n) if n < full_len => {
            if pref.and_then(|p| p.all_or_none).unwrap_or(false) {
                (None, true)
            } else {
                (Some(cut(&data, n).to_owned()), true)
            }
        }
        _ => (Some(data), false),
    };
    let preview = pref
        .and_then(|p| p.preview)
        .filter(|n| *n > 0 && version >= ProtocolVersion::V14_0)
        .map(|n| preview(&text, usize::from(n)));
    ChosenBody::Text(Body {
        body_type,
        estimated_data_size: Some(u32::try_from(full_len).unwrap_or(u32::MAX)),
        truncated: Some(truncated),
        data,
        part: None,
        preview,
    })
}

/// The longest prefix of at most `n` bytes that ends on a character.
fn cut(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn preview(text: &str, chars: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(chars)
        .collect()
}

fn text_to_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<html><body><pre>{escaped}</pre></body></html>")
}

/// An attachment's media type, `type/subtype`.
pub fn attachment_content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{sub}", ct.ctype()),
            None => ct.ctype().to_owned(),
        },
        None if part.is_message() => "message/rfc822".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

/// An attachment's bytes with only the transfer encoding undone. A text
/// part is cut from the stored MIME, so its charset stays as it was sent
/// (`mail_parser` would hand it over converted to UTF-8).
pub fn attachment_bytes(raw: &[u8], part: &MessagePart<'_>) -> Vec<u8> {
    if matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        let body = usize::try_from(part.raw_body_offset())
            .ok()
            .zip(usize::try_from(part.raw_end_offset()).ok())
            .and_then(|(s, e)| raw.get(s..e));
        let decoded = body.and_then(|body| match part.encoding {
            Encoding::None => Some(body.to_vec()),
            Encoding::QuotedPrintable => quoted_printable_decode(body),
            Encoding::Base64 => base64_decode(body),
        });
        if let Some(d) = decoded {
            return d;
        }
    }
    part.contents().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::summary::summarize;
    use eas_proto::wbxml::{Element, Limits};

    fn item(raw: &[u8]) -> MailItem {
        MailItem {
            id: 7,
            folder: 1,
            modseq: 1,
            blob: String::new(),
            size: raw.len() as u64,
            received: 1_795_975_200,
            read: false,
            flag: None,
            categories: vec!["Red".into()],
            summary: summarize(raw),
            content_modseq: 0,
            attachment_numbers: Default::default(),
        }
    }

    fn pref(t: BodyType, size: Option<u32>) -> BodyPreference {
        BodyPreference {
            body_type: t,
            truncation_size: size,
            all_or_none: None,
            preview: None,
        }
    }

    const HTML_MAIL: &[u8] = b"From: A <a@example.com>\r\nTo: B <b@example.com>\r\nSubject: Hello\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nHi there, plain.\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>Hi there, <b>html</b>.</p>\r\n--x--\r\n";

    #[test]
    fn picks_html_when_asked_and_native_and_truncates_at_characters() {
        let req = BodyRequest {
            preferences: vec![pref(BodyType::HTML, None), pref(BodyType::PLAIN_TEXT, None)],
            ..Default::default()
        };
        let c = item_content(&item(HTML_MAIL), HTML_MAIL, &req, ProtocolVersion::V16_1);
        let Some(ChosenBody::Text(body)) = &c.body else {
            panic!("{:?}", c.body)
        };
        assert_eq!(
            c.email.body.as_ref(),
            Some(body),
            "a text body is in the Email too"
        );
        assert_eq!(body.body_type, BodyType::HTML);
        assert!(body.data.as_deref().unwrap().contains("<b>html</b>"));
        assert_eq!(c.email.subject.as_deref(), Some("Hello"));
        assert_eq!(
            c.email.date_received.as_ref().map(|d| d.as_str()),
            Some("2026-11-29T18:00:00.000Z")
        );

        let req = BodyRequest {
            preferences: vec![pref(BodyType::PLAIN_TEXT, Some(5))],
            ..Default::default()
        };
        let c = item_content(&item(HTML_MAIL), HTML_MAIL, &req, ProtocolVersion::V16_1);
        let Some(ChosenBody::Text(body)) = &c.body else {
            panic!()
        };
        assert_eq!(
            (body.data.as_deref(), body.truncated),
            (Some("Hi th"), Some(true))
        );
        assert_eq!(cut("héllo", 2), "h");
    }

    #[test]
    fn mime_is_the_stored_bytes_and_smime_text_explains() {
        let raw = b"Subject: s\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\xe9\r\n";
        let req = BodyRequest {
            preferences: vec![pref(BodyType::MIME, None)],
            mime_support: Some(MimeSupport::ALWAYS),
            ..Default::default()
        };
        let c = item_content(&item(raw), raw, &req, ProtocolVersion::V14_1);
        assert_eq!(
            c.body,
            Some(ChosenBody::Mime {
                estimated: raw.len() as u32,
                truncated: false,
                data: raw.to_vec()
            })
        );
        // Written out, the Data string holds exactly the stored bytes.
        let mut w = Writer::new(Vec::new()).unwrap();
        w.start(eas_proto::codepages::airsync::ApplicationData)
            .unwrap();
        c.write(&mut w).unwrap();
        w.end().unwrap();
        let bytes = w.finish().unwrap();
        assert!(bytes.windows(raw.len()).any(|win| win == raw));
        // Not UTF-8, so our own strict decoder refuses it: clients take it.
        assert!(Element::decode(&bytes, Limits::default()).is_err());

        let req = BodyRequest {
            preferences: vec![pref(BodyType::PLAIN_TEXT, None)],
            mime_support: Some(MimeSupport::NEVER),
            ..Default::default()
        };
        let c = item_content(&item(raw), raw, &req, ProtocolVersion::V14_1);
        let Some(ChosenBody::Text(body)) = &c.body else {
            panic!()
        };
        assert!(body.data.as_deref().unwrap().contains("encrypted (S/MIME)"));
        assert_eq!(c.email.message_class.as_deref(), Some("IPM.Note.SMIME"));
        assert!(c.email.attachments.is_none());
    }

    #[test]
    fn attachments_get_file_references() {
        let raw = b"Subject: a\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--y\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--y--\r\n";
        let c = item_content(
            &item(raw),
            raw,
            &BodyRequest::default(),
            ProtocolVersion::V16_1,
        );
        let atts = c.email.attachments.unwrap().attachments;
        assert_eq!(atts.len(), 1);
        assert_eq!(atts[0].display_name.as_deref(), Some("r.pdf"));
        assert_eq!(atts[0].file_reference, "7:0");
        assert_eq!(atts[0].estimated_data_size, Some(5));
    }
}
