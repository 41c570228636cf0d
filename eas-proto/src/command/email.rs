//! The Email class (MS-ASEMAIL 2.2.2, with the AirSyncBase body and
//! attachments of MS-ASAIRS): the `ApplicationData` of a mail item in Sync,
//! and the `Properties` of one in ItemOperations and Search.
//!
//! Every field is an `Option`, because a client's `Change` carries only
//! what it changes (`Read`, `Flag`, `Categories`) and absence means "leave
//! it". Present but empty is a different thing: an empty `<Flag/>` clears
//! the flag ([`Flag::default`]), an empty `<Categories/>` removes every
//! category (`Some(vec![])`), an empty `<Subject/>` is `Some("")`.
//!
//! Element order. The schemas let the children come in any order
//! (`xs:choice maxOccurs="unbounded"` in MS-ASEMAIL 6.1 and MS-ASCMD's
//! SyncResponse.xsd). Responses are written in the order Exchange and the
//! MS-ASEMAIL examples use (To, Cc, From, Subject, ReplyTo, DateReceived,
//! DisplayTo, ThreadTopic, Importance, Read, Attachments, Body,
//! MessageClass, MeetingRequest, InternetCPID, Flag, ContentClass,
//! NativeBodyType, then the Email2 elements), since some clients are known
//! to be sensitive to it. Inside `Flag` the order is that of the schema.
//! Elements this type does not model (`rm:RightsManagementLicense`,
//! `email2:UmCallerID`, ...) are kept in [`Email::other`] and written last.

use std::io::Write;

use super::airsyncbase::{Attachments, Body, BodyPart, BodyType, body_type};
use super::fields::{Sink, Tree, bytes, date, flag, num, once, owned, string};
use super::{CommandError, DateTime};
use crate::codepages::{airsync as a, airsyncbase as b, email as e, email2 as e2, tasks as t};
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError, Tag, Writer};

number_enum! {
    /// `Importance` (MS-ASEMAIL Importance).
    pub struct Importance(u8) {
        LOW = 0,
        NORMAL = 1,
        HIGH = 2,
    }
}

number_enum! {
    /// The `Status` child of `Flag` (MS-ASEMAIL Status).
    pub struct FlagStatus(u8) {
        CLEARED = 0,
        COMPLETE = 1,
        ACTIVE = 2,
    }
}

number_enum! {
    /// `email2:LastVerbExecuted` (14.0): the last reply or forward.
    pub struct LastVerb(u8) {
        UNKNOWN = 0,
        REPLY_TO_SENDER = 1,
        REPLY_TO_ALL = 2,
        FORWARD = 3,
    }
}

/// A follow-up flag (MS-ASEMAIL `Flag`). Some of its children are on the
/// Tasks code page: `tasks:Subject`, the dates but `CompleteTime`,
/// `ReminderSet`, `ReminderTime`, `OrdinalDate`, `SubOrdinalDate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flag {
    /// `tasks:Subject`: the flag's subject in a task list.
    pub subject: Option<String>,
    pub status: Option<FlagStatus>,
    /// Free text, "for Follow Up" in practice.
    pub flag_type: Option<String>,
    pub date_completed: Option<DateTime>,
    pub complete_time: Option<DateTime>,
    pub start_date: Option<DateTime>,
    pub due_date: Option<DateTime>,
    pub utc_start_date: Option<DateTime>,
    pub utc_due_date: Option<DateTime>,
    pub reminder_set: Option<bool>,
    pub reminder_time: Option<DateTime>,
    pub ordinal_date: Option<DateTime>,
    pub sub_ordinal_date: Option<String>,
}

impl Flag {
    /// Whether this is the empty `<Flag/>`, which clears the flag.
    pub fn is_cleared(&self) -> bool {
        *self == Flag::default()
    }

    pub fn from_element(el: &Element<'_>) -> Result<Flag, CommandError> {
        let mut f = Flag::default();
        for c in el.elements() {
            match c.tag {
                t::Subject => once(&mut f.subject, el, c, string)?,
                e::Status => once(&mut f.status, el, c, num("a flag status"))?,
                e::FlagType => once(&mut f.flag_type, el, c, string)?,
                t::DateCompleted => once(&mut f.date_completed, el, c, date)?,
                e::CompleteTime => once(&mut f.complete_time, el, c, date)?,
                t::StartDate => once(&mut f.start_date, el, c, date)?,
                t::DueDate => once(&mut f.due_date, el, c, date)?,
                t::UtcStartDate => once(&mut f.utc_start_date, el, c, date)?,
                t::UtcDueDate => once(&mut f.utc_due_date, el, c, date)?,
                t::ReminderSet => once(&mut f.reminder_set, el, c, flag)?,
                t::ReminderTime => once(&mut f.reminder_time, el, c, date)?,
                t::OrdinalDate => once(&mut f.ordinal_date, el, c, date)?,
                t::SubOrdinalDate => once(&mut f.sub_ordinal_date, el, c, string)?,
                _ => {}
            }
        }
        Ok(f)
    }

    /// In the order of Email.xsd's `Flag`.
    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(e::Flag)?;
        s.opt_text(t::Subject, self.subject.as_deref())?;
        s.opt_number(e::Status, self.status.map(|v| v.0))?;
        s.opt_text(e::FlagType, self.flag_type.as_deref())?;
        s.opt_date(t::DateCompleted, self.date_completed.as_ref())?;
        s.opt_date(e::CompleteTime, self.complete_time.as_ref())?;
        s.opt_date(t::StartDate, self.start_date.as_ref())?;
        s.opt_date(t::DueDate, self.due_date.as_ref())?;
        s.opt_date(t::UtcStartDate, self.utc_start_date.as_ref())?;
        s.opt_date(t::UtcDueDate, self.utc_due_date.as_ref())?;
        s.opt_bool(t::ReminderSet, self.reminder_set)?;
        s.opt_date(t::ReminderTime, self.reminder_time.as_ref())?;
        s.opt_date(t::OrdinalDate, self.ordinal_date.as_ref())?;
        s.opt_text(t::SubOrdinalDate, self.sub_ordinal_date.as_deref())?;
        s.end()
    }
}

/// One mail item, or the changes to one.
///
/// Addresses (`to`, `cc`, `from`, `reply_to`, `sender`, `bcc`) are the
/// header values as RFC 5322 writes them (`"Chris Gray" <chris@contoso.com>`,
/// comma-separated), which is how the protocol carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    pub to: Option<String>,
    pub cc: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Option<String>,
    pub date_received: Option<DateTime>,
    /// The display names of the `To` recipients, separated by semicolons.
    pub display_to: Option<String>,
    pub thread_topic: Option<String>,
    pub importance: Option<Importance>,
    pub read: Option<bool>,
    /// `airsyncbase:Attachments`; in a 16.0 draft also attachments added
    /// and deleted.
    pub attachments: Option<Attachments>,
    /// `airsyncbase:Body`.
    pub body: Option<Body>,
    /// `airsyncbase:BodyPart` (14.1).
    pub body_part: Option<BodyPart>,
    /// `IPM.Note`, `IPM.Note.SMIME`, `IPM.Note.SMIME.MultipartSigned`,
    /// `IPM.Schedule.Meeting.Request`, ...
    pub message_class: Option<String>,
    /// `MeetingRequest`, kept whole: it is the Calendar class's business.
    pub meeting_request: Option<Element<'static>>,
    /// The code page of the original message, as a Windows code page
    /// number in decimal (`20127` for US-ASCII, `65001` for UTF-8).
    pub internet_cpid: Option<String>,
    pub flag: Option<Flag>,
    /// `urn:content-classes:message`, or `...:calendarmessage` for meeting
    /// requests.
    pub content_class: Option<String>,
    /// `airsyncbase:NativeBodyType`: the format the body is stored in.
    pub native_body_type: Option<BodyType>,
    /// `email2:ConversationId` (14.0), a byte array sent opaque.
    pub conversation_id: Option<Vec<u8>>,
    /// `email2:ConversationIndex` (14.0), a byte array sent opaque.
    pub conversation_index: Option<Vec<u8>>,
    pub last_verb_executed: Option<LastVerb>,
    pub last_verb_execution_time: Option<DateTime>,
    pub received_as_bcc: Option<bool>,
    /// `email2:Sender`: who sent on behalf of `from`.
    pub sender: Option<String>,
    /// `Categories/Category`; `Some(vec![])` is an empty `<Categories/>`.
    pub categories: Option<Vec<String>>,
    /// `email2:Bcc` (16.0, drafts).
    pub bcc: Option<String>,
    /// `email2:IsDraft` (16.0, server to client only).
    pub is_draft: Option<bool>,
    /// Children this type does not model, as they came.
    pub other: Vec<Element<'static>>,
}

fn categories(el: &Element<'_>) -> Result<Vec<String>, CommandError> {
    el.children_with(e::Category).map(string).collect()
}

fn keep(el: &Element<'_>) -> Result<Element<'static>, CommandError> {
    Ok(owned(el))
}

impl Email {
    /// Reads the children of `el`: an `ApplicationData` of Sync, or the
    /// `Properties` of an ItemOperations fetch or a Search result.
    pub fn from_element(el: &Element<'_>) -> Result<Email, CommandError> {
        let mut m = Email::default();
        for c in el.elements() {
            match c.tag {
                e::To => once(&mut m.to, el, c, string)?,
                e::Cc => once(&mut m.cc, el, c, string)?,
                e::From => once(&mut m.from, el, c, string)?,
                e::Subject => once(&mut m.subject, el, c, string)?,
                e::ReplyTo => once(&mut m.reply_to, el, c, string)?,
                e::DateReceived => once(&mut m.date_received, el, c, date)?,
                e::DisplayTo => once(&mut m.display_to, el, c, string)?,
                e::ThreadTopic => once(&mut m.thread_topic, el, c, string)?,
                e::Importance => once(&mut m.importance, el, c, num("0, 1 or 2"))?,
                e::Read => once(&mut m.read, el, c, flag)?,
                b::Attachments => once(&mut m.attachments, el, c, Attachments::from_element)?,
                b::Body => once(&mut m.body, el, c, Body::from_element)?,
                b::BodyPart => once(&mut m.body_part, el, c, BodyPart::from_element)?,
                e::MessageClass => once(&mut m.message_class, el, c, string)?,
                e::MeetingRequest => once(&mut m.meeting_request, el, c, keep)?,
                e::InternetCPID => once(&mut m.internet_cpid, el, c, string)?,
                e::Flag => once(&mut m.flag, el, c, Flag::from_element)?,
                e::ContentClass => once(&mut m.content_class, el, c, string)?,
                b::NativeBodyType => once(&mut m.native_body_type, el, c, body_type)?,
                e2::ConversationId => once(&mut m.conversation_id, el, c, bytes)?,
                e2::ConversationIndex => once(&mut m.conversation_index, el, c, bytes)?,
                e2::LastVerbExecuted => {
                    once(&mut m.last_verb_executed, el, c, num("0 to 3"))?;
                }
                e2::LastVerbExecutionTime => {
                    once(&mut m.last_verb_execution_time, el, c, date)?;
                }
                e2::ReceivedAsBcc => once(&mut m.received_as_bcc, el, c, flag)?,
                e2::Sender => once(&mut m.sender, el, c, string)?,
                e::Categories => once(&mut m.categories, el, c, categories)?,
                e2::Bcc => once(&mut m.bcc, el, c, string)?,
                e2::IsDraft => once(&mut m.is_draft, el, c, flag)?,
                _ => m.other.push(owned(c)),
            }
        }
        Ok(m)
    }

    /// The item as an `airsync:ApplicationData` element.
    pub fn to_element(&self) -> Element<'static> {
        self.to_element_as(a::ApplicationData)
    }

    /// The item as the children of an element `tag`, such as
    /// `itemoperations:Properties`.
    pub fn to_element_as(&self, tag: Tag) -> Element<'static> {
        Tree::build(tag, |s| self.emit_children(s))
    }

    /// Streams the children, for [`super::sync::SyncResponseWriter::add`]:
    /// the same bytes [`Email::to_element`] encodes inside its element.
    pub fn write_children<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        self.emit_children(w)
    }

    /// Streams the children with `body` writing the `airsyncbase:Body`
    /// element in its place (instead of [`Email::body`]): for a MIME body
    /// sent byte for byte with [`Writer::text_bytes`], which the tree form
    /// cannot hold.
    pub fn write_children_with_body<W, F>(
        &self,
        w: &mut Writer<W>,
        body: F,
    ) -> Result<(), EncodeError>
    where
        W: Write,
        F: FnOnce(&mut Writer<W>) -> Result<(), EncodeError>,
    {
        self.emit(w, Some(body))
    }

    fn emit_children<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        self.emit(s, None::<fn(&mut S) -> Result<(), EncodeError>>)
    }

    fn emit<S: Sink, F>(&self, s: &mut S, body_writer: Option<F>) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut S) -> Result<(), EncodeError>,
    {
        s.opt_text(e::To, self.to.as_deref())?;
        s.opt_text(e::Cc, self.cc.as_deref())?;
        s.opt_text(e::From, self.from.as_deref())?;
        s.opt_text(e::Subject, self.subject.as_deref())?;
        s.opt_text(e::ReplyTo, self.reply_to.as_deref())?;
        s.opt_date(e::DateReceived, self.date_received.as_ref())?;
        s.opt_text(e::DisplayTo, self.display_to.as_deref())?;
        s.opt_text(e::ThreadTopic, self.thread_topic.as_deref())?;
        s.opt_number(e::Importance, self.importance.map(|v| v.0))?;
        s.opt_bool(e::Read, self.read)?;
        if let Some(att) = &self.attachments {
            att.emit(s)?;
        }
        match body_writer {
            Some(write) => write(s)?,
            None => {
                if let Some(body) = &self.body {
                    body.emit(s)?;
                }
            }
        }
        if let Some(part) = &self.body_part {
            part.emit(s)?;
        }
        s.opt_text(e::MessageClass, self.message_class.as_deref())?;
        if let Some(m) = &self.meeting_request {
            s.element(m)?;
        }
        s.opt_text(e::InternetCPID, self.internet_cpid.as_deref())?;
        if let Some(f) = &self.flag {
            f.emit(s)?;
        }
        s.opt_text(e::ContentClass, self.content_class.as_deref())?;
        s.opt_number(b::NativeBodyType, self.native_body_type.map(|v| v.0))?;
        if let Some(id) = &self.conversation_id {
            s.opaque(e2::ConversationId, id)?;
        }
        if let Some(index) = &self.conversation_index {
            s.opaque(e2::ConversationIndex, index)?;
        }
        s.opt_number(e2::LastVerbExecuted, self.last_verb_executed.map(|v| v.0))?;
        s.opt_date(
            e2::LastVerbExecutionTime,
            self.last_verb_execution_time.as_ref(),
        )?;
        s.opt_bool(e2::ReceivedAsBcc, self.received_as_bcc)?;
        s.opt_text(e2::Sender, self.sender.as_deref())?;
        if let Some(cats) = &self.categories {
            s.start(e::Categories)?;
            for c in cats {
                s.text(e::Category, c)?;
            }
            s.end()?;
        }
        s.opt_text(e2::Bcc, self.bcc.as_deref())?;
        s.opt_bool(e2::IsDraft, self.is_draft)?;
        for o in &self.other {
            s.element(o)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codepages::rightsmanagement as rm;
    use crate::command::airsyncbase::{Attachment, AttachmentAdd, AttachmentMethod};
    use crate::wbxml::Limits;
    use proptest::prelude::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../fixtures/wbxml/{name}.wbxml",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The first `ApplicationData` of a Sync document.
    fn application_data(doc: &Element<'static>) -> Element<'static> {
        fn find(el: &Element<'static>) -> Option<Element<'static>> {
            if el.tag == a::ApplicationData {
                return Some(el.clone());
            }
            el.elements().find_map(find)
        }
        find(doc).unwrap()
    }

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).unwrap()
    }

    pub(crate) fn fixture_email() -> Email {
        Email {
            to: Some("\"Chris Gray\" <chris@contoso.com>".into()),
            from: Some("\"Anat Kerry\" <anat@contoso.com>".into()),
            subject: Some("Quarterly report".into()),
            date_received: Some(dt("2009-07-29T19:25:37.817Z")),
            display_to: Some("Chris Gray".into()),
            thread_topic: Some("Quarterly report".into()),
            importance: Some(Importance::NORMAL),
            read: Some(false),
            body: Some(Body {
                body_type: BodyType::HTML,
                estimated_data_size: Some(43),
                truncated: None,
                data: Some("<html><body>Numbers attached.</body></html>".into()),
                part: None,
                preview: None,
            }),
            message_class: Some("IPM.Note".into()),
            internet_cpid: Some("20127".into()),
            flag: Some(Flag::default()),
            content_class: Some("urn:content-classes:message".into()),
            native_body_type: Some(BodyType::HTML),
            conversation_id: Some(vec![
                0x2C, 0x80, 0x6E, 0x45, 0x8A, 0x6B, 0x3C, 0x4B, 0x95, 0x8F, 0x1D, 0x64, 0x57, 0xDE,
                0x0B, 0xA5,
            ]),
            conversation_index: Some(vec![0xCA, 0x2C, 0xFE, 0x10, 0x80]),
            ..Email::default()
        }
    }

    #[test]
    fn the_sync_email_response_fixture_item_both_ways() {
        let bytes = fixture("sync-email-response");
        let doc = Element::decode(&bytes, Limits::default())
            .unwrap()
            .into_owned();
        let data = application_data(&doc);
        let email = Email::from_element(&data).unwrap();
        assert_eq!(email, fixture_email());
        assert!(email.flag.as_ref().unwrap().is_cleared());
        // The fixture is in Exchange's order, so the item is written back
        // exactly, tree and stream alike.
        assert_eq!(email.to_element(), data);
        let mut w = Writer::new(Vec::new()).unwrap();
        w.start(a::ApplicationData).unwrap();
        email.write_children(&mut w).unwrap();
        w.end().unwrap();
        assert_eq!(w.finish().unwrap(), data.encode().unwrap());
    }

    #[test]
    fn the_rights_managed_fixture_keeps_what_it_does_not_model() {
        let bytes = fixture("sync-rm-response");
        let doc = Element::decode(&bytes, Limits::default())
            .unwrap()
            .into_owned();
        let data = application_data(&doc);
        let email = Email::from_element(&data).unwrap();
        assert_eq!(email.subject.as_deref(), Some("Confidential: merger plan"));
        assert_eq!(
            email.from.as_deref(),
            Some("\"Anat Kerry\" <anat@contoso.com>")
        );
        assert_eq!(email.read, Some(false));
        assert_eq!(
            email.body.as_ref().unwrap().data.as_deref(),
            Some("Do not forward this mail.")
        );
        assert_eq!(email.other.len(), 1);
        assert_eq!(email.other[0].tag, rm::RightsManagementLicense);
        // The fixture writes Subject before From, Exchange's order the
        // other way round: the same item, not the same bytes.
        assert_ne!(email.to_element(), data);
        assert_eq!(Email::from_element(&email.to_element()).unwrap(), email);
    }

    #[test]
    fn a_client_change_distinguishes_absent_from_empty() {
        let change = Element::new(a::ApplicationData)
            .with(Element::text(e::Read, "1"))
            .with(Element::new(e::Flag))
            .with(Element::new(e::Categories));
        let m = Email::from_element(&change).unwrap();
        assert_eq!(m.read, Some(true));
        assert_eq!(m.flag, Some(Flag::default()));
        assert_eq!(m.categories, Some(vec![]));
        assert_eq!(m.subject, None);
        assert_eq!(m.to_element(), change);

        let only_read = Element::new(a::ApplicationData).with(Element::text(e::Read, "0"));
        let m = Email::from_element(&only_read).unwrap();
        assert_eq!(m.flag, None);
        assert_eq!(m.categories, None);
        assert_eq!(
            m,
            Email {
                read: Some(false),
                ..Email::default()
            }
        );

        let set_flag = Element::new(a::ApplicationData).with(
            Element::new(e::Flag)
                .with(Element::text(e::Status, "2"))
                .with(Element::text(e::FlagType, "for Follow Up"))
                .with(Element::text(t::StartDate, "2009-08-03T00:00:00.000Z"))
                .with(Element::text(t::UtcStartDate, "2009-08-03T07:00:00.000Z"))
                .with(Element::text(t::DueDate, "2009-08-04T00:00:00.000Z"))
                .with(Element::text(t::UtcDueDate, "2009-08-04T07:00:00.000Z"))
                .with(Element::text(t::ReminderSet, "1"))
                .with(Element::text(t::ReminderTime, "2009-08-04T06:00:00.000Z")),
        );
        let m = Email::from_element(&set_flag).unwrap();
        let f = m.flag.clone().unwrap();
        assert_eq!(f.status, Some(FlagStatus::ACTIVE));
        assert_eq!(f.reminder_set, Some(true));
        assert_eq!(f.due_date, Some(dt("2009-08-04T00:00:00.000Z")));
        assert!(!f.is_cleared());
        // Read in any order, written in the schema's.
        assert_eq!(Email::from_element(&m.to_element()).unwrap(), m);
    }

    #[test]
    fn every_field_round_trips() {
        let full = Email {
            to: Some("a@example.com".into()),
            cc: Some("b@example.com, c@example.com".into()),
            from: Some("d@example.com".into()),
            subject: Some(String::new()),
            reply_to: Some("e@example.com".into()),
            date_received: Some(dt("2024-02-29T12:30:00Z")),
            display_to: Some("A".into()),
            thread_topic: Some("T".into()),
            importance: Some(Importance::HIGH),
            read: Some(true),
            attachments: Some(Attachments {
                attachments: vec![Attachment {
                    display_name: Some("x.pdf".into()),
                    file_reference: "5%3a1%3a0".into(),
                    method: Some(AttachmentMethod::NORMAL),
                    estimated_data_size: Some(1000),
                    content_id: Some("cid1".into()),
                    ..Attachment::default()
                }],
                add: vec![AttachmentAdd {
                    client_id: "1".into(),
                    method: AttachmentMethod::NORMAL,
                    content_type: None,
                    content: b"hello".to_vec(),
                    display_name: "h.txt".into(),
                    content_id: None,
                    content_location: None,
                    is_inline: Some(false),
                }],
                delete: vec!["5%3a1%3a1".into()],
            }),
            body: Some(Body {
                body_type: BodyType::MIME,
                estimated_data_size: Some(9),
                truncated: Some(false),
                data: Some("MIME-Version: 1.0\r\n".into()),
                part: None,
                preview: Some("p".into()),
            }),
            body_part: Some(BodyPart {
                status: crate::status::Status::SUCCESS,
                body_type: BodyType::HTML,
                estimated_data_size: 4,
                truncated: None,
                data: Some("<p/>".into()),
                preview: None,
            }),
            message_class: Some("IPM.Note.SMIME.MultipartSigned".into()),
            meeting_request: Some(
                Element::new(e::MeetingRequest).with(Element::text(e::AllDayEvent, "0")),
            ),
            internet_cpid: Some("65001".into()),
            flag: Some(Flag {
                subject: Some("s".into()),
                status: Some(FlagStatus::COMPLETE),
                flag_type: Some("for Follow Up".into()),
                date_completed: Some(dt("2009-08-05T17:00:00.000Z")),
                complete_time: Some(dt("2009-08-05T17:00:00.000Z")),
                ordinal_date: Some(dt("2009-08-05T17:00:00.000Z")),
                sub_ordinal_date: Some("5555555".into()),
                ..Flag::default()
            }),
            content_class: Some("urn:content-classes:message".into()),
            native_body_type: Some(BodyType::PLAIN_TEXT),
            conversation_id: Some(vec![0; 16]),
            conversation_index: Some(vec![1, 2, 3, 4, 5]),
            last_verb_executed: Some(LastVerb::REPLY_TO_ALL),
            last_verb_execution_time: Some(dt("2010-01-01T00:00:00.000Z")),
            received_as_bcc: Some(false),
            sender: Some("f@example.com".into()),
            categories: Some(vec!["Red".into(), "Blue".into()]),
            bcc: Some("g@example.com".into()),
            is_draft: Some(true),
            other: vec![Element::text(e2::UmCallerID, "+1555")],
        };
        let el = full.to_element();
        let bytes = el.encode().unwrap();
        let back = Element::decode(&bytes, Limits::default()).unwrap();
        assert_eq!(Email::from_element(&back).unwrap(), full);
        let props = full.to_element_as(crate::codepages::itemoperations::Properties);
        assert_eq!(Email::from_element(&props).unwrap(), full);
    }

    #[test]
    fn malformed_values_are_refused() {
        let dup = Element::new(a::ApplicationData)
            .with(Element::text(e::Read, "1"))
            .with(Element::text(e::Read, "0"));
        assert_eq!(
            Email::from_element(&dup),
            Err(CommandError::Duplicate {
                parent: a::ApplicationData,
                tag: e::Read
            })
        );
        for bad in [
            Element::new(a::ApplicationData).with(Element::text(e::Read, "yes")),
            Element::new(a::ApplicationData).with(Element::text(e::Importance, "x")),
            Element::new(a::ApplicationData).with(Element::text(e::DateReceived, "yesterday")),
            Element::new(a::ApplicationData)
                .with(Element::new(e::Flag).with(Element::text(e::Status, "-1"))),
            Element::new(a::ApplicationData).with(Element::new(b::Body)),
        ] {
            assert!(Email::from_element(&bad).is_err(), "{bad:?}");
        }
    }

    fn email_tag() -> impl Strategy<Value = Tag> {
        let tags: Vec<Tag> = [2u8, 9, 17, 22]
            .iter()
            .flat_map(|p| crate::codepages::page(*p).unwrap().tags.iter())
            .map(|d| d.tag)
            .collect();
        proptest::sample::select(tags)
    }

    fn tree() -> impl Strategy<Value = Element<'static>> {
        let leaf = (
            email_tag(),
            proptest::option::of(proptest::sample::select(vec![
                "0",
                "1",
                "2",
                "x",
                "2009-08-05T17:00:00.000Z",
            ])),
        )
            .prop_map(|(tag, t)| match t {
                Some(t) => Element::text(tag, t),
                None => Element::new(tag),
            });
        leaf.prop_recursive(4, 48, 6, |inner| {
            (email_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
                let mut el = Element::new(tag);
                for k in kids {
                    el.push(k);
                }
                el
            })
        })
    }

    proptest! {
        #[test]
        fn any_tree_is_read_without_panic(mut el in tree()) {
            el.tag = a::ApplicationData;
            if let Ok(m) = Email::from_element(&el) {
                prop_assert_eq!(Email::from_element(&m.to_element()), Ok(m));
            }
        }
    }
}
