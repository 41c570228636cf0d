//! SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
//! 2.2.1.19) in their 14.0 and later WBXML form: the client hands the
//! server a whole MIME message (`Mime`, opaque bytes) and, for a reply or a
//! forward, names the message it answers (`Source`).
//!
//! Before 14.0 the same commands post the message itself as
//! `message/rfc822` with the source in the query (`ItemId`,
//! `CollectionId`, `LongId`, `Occurrence`, `SaveInSent`); that form has no
//! document and is read by the server from the request line.
//!
//! A success has no body at all; a failure is the command's root holding a
//! `Status` (MS-ASCMD 2.2.3.177.14 and 2.2.3.177.16: the values of the
//! common status table, 2.2.2).

use super::{CommandError, DateTime, child, child_text, number, required, text};
use crate::codepages::composemail as c;
use crate::wbxml::{Element, NodeRef, Tag};

/// The `Status` of a failed SendMail, SmartReply or SmartForward: these
/// commands use the common status values (MS-ASCMD 2.2.2) and no others,
/// so their type is the common one. `SUCCESS` is never sent (success has
/// no body); the server keeps it for its own bookkeeping.
pub use crate::status::Status;

/// Which of the three commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    SendMail,
    SmartReply,
    SmartForward,
}

impl Kind {
    pub fn root(self) -> Tag {
        match self {
            Kind::SendMail => c::SendMail,
            Kind::SmartReply => c::SmartReply,
            Kind::SmartForward => c::SmartForward,
        }
    }

    fn of_root(tag: Tag) -> Option<Kind> {
        [Kind::SendMail, Kind::SmartReply, Kind::SmartForward]
            .into_iter()
            .find(|k| k.root() == tag)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::SendMail => "SendMail",
            Kind::SmartReply => "SmartReply",
            Kind::SmartForward => "SmartForward",
        }
    }
}

/// The message a reply or forward answers (MS-ASCMD 2.2.3.165): an item
/// of a folder, or a Search result by its LongId.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub folder_id: Option<String>,
    pub item_id: Option<String>,
    pub long_id: Option<String>,
    /// One occurrence of a recurring meeting.
    pub instance_id: Option<DateTime>,
}

/// A recipient SmartForward adds by itself (16.0 `Forwardee`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwardee {
    pub name: Option<String>,
    pub email: String,
}

/// The longest ClientId the spec allows (MS-ASCMD 2.2.3.28.1).
pub const MAX_CLIENT_ID: usize = 40;

/// A SendMail, SmartReply or SmartForward request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: Kind,
    /// The client's id for this message; a second request with the same id
    /// is the same message (MS-ASCMD 2.2.3.28.1).
    pub client_id: String,
    /// 14.1: the account the message is sent from.
    pub account_id: Option<String>,
    pub save_in_sent_items: bool,
    /// SmartReply and SmartForward only.
    pub source: Option<Source>,
    /// The client sends the whole message: the server adds nothing of the
    /// source (SmartReply, SmartForward).
    pub replace_mime: bool,
    /// The message, exactly as the client built it.
    pub mime: Vec<u8>,
    /// RightsManagement `TemplateID`, kept as text (IRM is not offered).
    pub template_id: Option<String>,
    /// SmartForward, 16.0 and later.
    pub forwardees: Vec<Forwardee>,
}

impl Request {
    pub fn new(kind: Kind, client_id: impl Into<String>, mime: Vec<u8>) -> Request {
        Request {
            kind,
            client_id: client_id.into(),
            account_id: None,
            save_in_sent_items: false,
            source: None,
            replace_mime: false,
            mime,
            template_id: None,
            forwardees: Vec::new(),
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        let kind = Kind::of_root(el.tag).ok_or(CommandError::WrongRoot {
            expected: c::SendMail,
            found: el.tag,
        })?;
        let client_id = text(required(el, c::ClientId)?)?.to_owned();
        if client_id.is_empty()
            || client_id.chars().count() > MAX_CLIENT_ID
            || client_id.chars().any(char::is_control)
        {
            return Err(CommandError::invalid(
                c::ClientId,
                &client_id,
                "1 to 40 characters, none a control character",
            ));
        }
        let mime = mime_bytes(required(el, c::Mime)?)?;
        let source = match child(el, c::Source)? {
            Some(s) if kind != Kind::SendMail => Some(Source {
                folder_id: child_text(s, c::FolderId)?,
                item_id: child_text(s, c::ItemId)?,
                long_id: child_text(s, c::LongId)?,
                instance_id: child(s, c::InstanceId)?
                    .map(DateTime::from_element)
                    .transpose()?,
            }),
            _ => None,
        };
        let forwardees = match child(el, c::Forwardees)? {
            Some(list) if kind == Kind::SmartForward => list
                .children_with(c::Forwardee)
                .map(|f| {
                    Ok(Forwardee {
                        name: child_text(f, c::Name)?,
                        email: text(required(f, c::Email)?)?.to_owned(),
                    })
                })
                .collect::<Result<_, CommandError>>()?,
            _ => Vec::new(),
        };
        // TemplateID lives on the RightsManagement page (24, token 0x14).
        let template_id = el
            .elements()
            .find(|e| e.tag == crate::codepages::rightsmanagement::TemplateID)
            .map(|e| text(e).map(str::to_owned))
            .transpose()?;
        Ok(Request {
            kind,
            client_id,
            account_id: child_text(el, c::AccountId)?,
            save_in_sent_items: child(el, c::SaveInSentItems)?.is_some(),
            source,
            replace_mime: kind != Kind::SendMail && child(el, c::ReplaceMime)?.is_some(),
            mime,
            template_id,
            forwardees,
        })
    }

    /// The document in schema order (MS-ASCMD 6: ComposeMail request
    /// schemas): ClientId, Source, AccountId, SaveInSentItems, ReplaceMime,
    /// Mime, TemplateID, Forwardees.
    pub fn to_element(&self) -> Element<'static> {
        let mut el =
            Element::new(self.kind.root()).with(Element::text(c::ClientId, self.client_id.clone()));
        if let (Some(s), true) = (&self.source, self.kind != Kind::SendMail) {
            let mut src = Element::new(c::Source);
            for (tag, value) in [
                (c::FolderId, &s.folder_id),
                (c::ItemId, &s.item_id),
                (c::LongId, &s.long_id),
            ] {
                if let Some(v) = value {
                    src.push(Element::text(tag, v.clone()));
                }
            }
            if let Some(i) = &s.instance_id {
                src.push(Element::text(c::InstanceId, i.as_str().to_owned()));
            }
            el.push(src);
        }
        if let Some(a) = &self.account_id {
            el.push(Element::text(c::AccountId, a.clone()));
        }
        if self.save_in_sent_items {
            el.push(Element::new(c::SaveInSentItems));
        }
        if self.replace_mime && self.kind != Kind::SendMail {
            el.push(Element::new(c::ReplaceMime));
        }
        el.push(Element::opaque(c::Mime, self.mime.clone()));
        if let Some(t) = &self.template_id {
            el.push(Element::text(
                crate::codepages::rightsmanagement::TemplateID,
                t.clone(),
            ));
        }
        if self.kind == Kind::SmartForward && !self.forwardees.is_empty() {
            let mut list = Element::new(c::Forwardees);
            for f in &self.forwardees {
                let mut one = Element::new(c::Forwardee);
                if let Some(n) = &f.name {
                    one.push(Element::text(c::Name, n.clone()));
                }
                one.push(Element::text(c::Email, f.email.clone()));
                list.push(one);
            }
            el.push(list);
        }
        el
    }
}

/// The bytes of `Mime`: opaque as the spec says, but a client that sends
/// it as a string is understood too (the bytes of the string).
fn mime_bytes(el: &Element<'_>) -> Result<Vec<u8>, CommandError> {
    let mut out = Vec::new();
    for node in el.nodes() {
        match node {
            NodeRef::Opaque(d) => out.extend_from_slice(d),
            NodeRef::Text(t) => out.extend_from_slice(t.as_bytes()),
            NodeRef::Element(_) => return Err(CommandError::NotText { tag: el.tag }),
        }
    }
    Ok(out)
}

/// The answer to a failed request. A request that succeeds is answered
/// with an empty body, which has no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub kind: Kind,
    pub status: Status,
}

impl Response {
    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        let kind = Kind::of_root(el.tag).ok_or(CommandError::WrongRoot {
            expected: c::SendMail,
            found: el.tag,
        })?;
        Ok(Response {
            kind,
            status: Status(number::<u16>(
                required(el, c::Status)?,
                "a ComposeMail status",
            )?),
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Element::new(self.kind.root()).with(Element::text(c::Status, self.status.as_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;

    const SENDMAIL: &[u8] = include_bytes!("../../../fixtures/wbxml/sendmail-request.wbxml");
    const SENDMAIL_RESPONSE: &[u8] =
        include_bytes!("../../../fixtures/wbxml/sendmail-response.wbxml");
    const SMARTREPLY: &[u8] = include_bytes!("../../../fixtures/wbxml/smartreply-request.wbxml");
    const SMARTFORWARD: &[u8] =
        include_bytes!("../../../fixtures/wbxml/smartforward-request.wbxml");
    const SMARTFORWARD_RESPONSE: &[u8] =
        include_bytes!("../../../fixtures/wbxml/smartforward-response.wbxml");

    fn read(bytes: &[u8]) -> Request {
        Request::from_element(&Element::decode(bytes, Limits::default()).unwrap()).unwrap()
    }

    #[test]
    fn the_fixtures_read_and_write_back() {
        let send = read(SENDMAIL);
        assert_eq!(send.kind, Kind::SendMail);
        assert_eq!(send.client_id, "633916348086136194");
        assert!(send.save_in_sent_items);
        assert_eq!(send.mime.len(), 217);
        assert!(send.mime.starts_with(b"From: chris@contoso.com\r\n"));
        assert_eq!(send.to_element().encode().unwrap(), SENDMAIL);

        let reply = read(SMARTREPLY);
        assert_eq!(reply.kind, Kind::SmartReply);
        let source = reply.source.clone().unwrap();
        assert_eq!(source.folder_id.as_deref(), Some("5"));
        assert_eq!(source.item_id.as_deref(), Some("5:1"));
        assert!(!reply.replace_mime);
        assert_eq!(reply.to_element().encode().unwrap(), SMARTREPLY);

        let forward = read(SMARTFORWARD);
        assert_eq!(forward.kind, Kind::SmartForward);
        assert!(forward.replace_mime);
        assert_eq!(
            forward
                .source
                .as_ref()
                .and_then(|s| s.instance_id.as_ref())
                .map(DateTime::as_str),
            Some("2009-11-19T19:00:00.000Z")
        );
        assert_eq!(forward.to_element().encode().unwrap(), SMARTFORWARD);

        for (bytes, kind, status) in [
            (
                SENDMAIL_RESPONSE,
                Kind::SendMail,
                Status::MAIL_SUBMISSION_FAILED,
            ),
            (
                SMARTFORWARD_RESPONSE,
                Kind::SmartForward,
                Status::ITEM_NOT_FOUND,
            ),
        ] {
            let el = Element::decode(bytes, Limits::default()).unwrap();
            let r = Response::from_element(&el).unwrap();
            assert_eq!((r.kind, r.status), (kind, status));
            assert_eq!(r.to_element().encode().unwrap(), bytes);
        }
    }

    #[test]
    fn forwardees_account_id_and_a_string_mime_round_trip() {
        let mut r = Request::new(Kind::SmartForward, "c-1", b"To: a@b.c\r\n\r\nx".to_vec());
        r.account_id = Some("alice@example.com".into());
        r.source = Some(Source {
            long_id: Some("RgAAAA".into()),
            ..Default::default()
        });
        r.forwardees = vec![
            Forwardee {
                name: Some("Bob".into()),
                email: "bob@example.com".into(),
            },
            Forwardee {
                name: None,
                email: "carol@example.com".into(),
            },
        ];
        let back = Request::from_element(&r.to_element()).unwrap();
        assert_eq!(back, r);

        let texty = Element::new(c::SendMail)
            .with(Element::text(c::ClientId, "1"))
            .with(Element::text(c::Mime, "Subject: s\r\n\r\nbody"));
        assert_eq!(
            Request::from_element(&texty).unwrap().mime,
            b"Subject: s\r\n\r\nbody"
        );
    }

    #[test]
    fn what_is_refused() {
        let no_mime = Element::new(c::SendMail).with(Element::text(c::ClientId, "1"));
        assert!(matches!(
            Request::from_element(&no_mime),
            Err(CommandError::Missing { .. })
        ));
        let long_id = Element::new(c::SendMail)
            .with(Element::text(c::ClientId, "x".repeat(41)))
            .with(Element::opaque(c::Mime, b"x".to_vec()));
        assert!(Request::from_element(&long_id).is_err());
        let wrong = Element::new(c::Status);
        assert!(Request::from_element(&wrong).is_err());
        // A Source on SendMail is not a SendMail element: it is ignored.
        let send = Element::new(c::SendMail)
            .with(Element::text(c::ClientId, "1"))
            .with(Element::new(c::Source).with(Element::text(c::LongId, "x")))
            .with(Element::new(c::ReplaceMime))
            .with(Element::opaque(c::Mime, b"x".to_vec()));
        let r = Request::from_element(&send).unwrap();
        assert_eq!((r.source, r.replace_mime), (None, false));
        assert_eq!(
            format!("{}", Status::MESSAGE_PREVIOUSLY_SENT),
            "118(MESSAGE_PREVIOUSLY_SENT)"
        );
    }
}
