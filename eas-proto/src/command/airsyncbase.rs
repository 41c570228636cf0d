//! The AirSyncBase elements every class shares (MS-ASAIRS): what a client
//! asks of bodies (`BodyPreference`, `BodyPartPreference`), the body and
//! attachments an item carries, and the 16.0 attachment edits of drafts.
//!
//! Sync, ItemOperations and Search all use them, so they live apart from
//! any one command.

use super::fields::{Sink, bytes, flag, num, opt, req, string};
use super::{CommandError, number};
use crate::codepages::{airsyncbase as b, email2, itemoperations as io};
use crate::number::number_enum;
use crate::status::Status as CommonStatus;
use crate::wbxml::{Element, EncodeError, Tag};

number_enum! {
    /// The format of a body (MS-ASAIRS `Type`, and `NativeBodyType`).
    pub struct BodyType(u8) {
        PLAIN_TEXT = 1,
        HTML = 2,
        RTF = 3,
        MIME = 4,
    }
}

number_enum! {
    /// How an attachment is attached (MS-ASAIRS `Method`). 2 to 4 are
    /// reserved; in an attachment `Add` only 1 and 5 are valid.
    pub struct AttachmentMethod(u8) {
        NORMAL = 1,
        /// An email message, its file ending in `.eml`.
        EMBEDDED_MESSAGE = 5,
        /// An embedded OLE object, such as an inline image.
        OLE = 6,
    }
}

/// One `BodyPreference` or `BodyPartPreference` of a request: the same
/// four children (MS-ASAIRS BodyPreference, BodyPartPreference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPreference {
    pub body_type: BodyType,
    /// The most bytes of body to send; absent, the whole body.
    pub truncation_size: Option<u32>,
    /// Send all of the body or none of it (only with `truncation_size`).
    pub all_or_none: Option<bool>,
    /// The most characters of plain-text preview wanted (0 to 255; 14.0).
    pub preview: Option<u8>,
}

impl BodyPreference {
    pub fn new(body_type: BodyType) -> BodyPreference {
        BodyPreference {
            body_type,
            truncation_size: None,
            all_or_none: None,
            preview: None,
        }
    }

    /// Reads a `BodyPreference` or a `BodyPartPreference`.
    pub fn from_element(el: &Element<'_>) -> Result<BodyPreference, CommandError> {
        Ok(BodyPreference {
            body_type: req(el, b::Type, num("a body type"))?,
            truncation_size: opt(el, b::TruncationSize, num("a size in bytes"))?,
            all_or_none: opt(el, b::AllOrNone, flag)?,
            preview: opt(el, b::Preview, num("a preview length of 0 to 255"))?,
        })
    }

    pub(crate) fn emit<S: Sink>(&self, s: &mut S, tag: Tag) -> Result<(), EncodeError> {
        s.start(tag)?;
        s.number(b::Type, self.body_type.0)?;
        s.opt_number(b::TruncationSize, self.truncation_size)?;
        s.opt_bool(b::AllOrNone, self.all_or_none)?;
        s.opt_number(b::Preview, self.preview)?;
        s.end()
    }
}

/// An item's body (MS-ASAIRS `Body`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub body_type: BodyType,
    /// The size of the whole body in the store, in bytes.
    pub estimated_data_size: Option<u32>,
    pub truncated: Option<bool>,
    /// The body, or its first `TruncationSize` bytes, in `body_type`'s
    /// format (RTF as base64).
    pub data: Option<String>,
    /// ItemOperations multipart only: the index of the part holding the
    /// body instead of `data` (MS-ASCMD 2.2.1.10.1).
    pub part: Option<u32>,
    /// Plain-text preview (14.0).
    pub preview: Option<String>,
}

impl Body {
    pub fn new(body_type: BodyType) -> Body {
        Body {
            body_type,
            estimated_data_size: None,
            truncated: None,
            data: None,
            part: None,
            preview: None,
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Body, CommandError> {
        Ok(Body {
            body_type: req(el, b::Type, num("a body type"))?,
            estimated_data_size: opt(el, b::EstimatedDataSize, num("a size in bytes"))?,
            truncated: opt(el, b::Truncated, flag)?,
            data: opt(el, b::Data, string)?,
            part: opt(el, io::Part, num("a part number"))?,
            preview: opt(el, b::Preview, string)?,
        })
    }

    /// Children in the order MS-ASAIRS `Body` requires: Type,
    /// EstimatedDataSize, Truncated, Data, Part, Preview.
    pub(crate) fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(b::Body)?;
        s.number(b::Type, self.body_type.0)?;
        s.opt_number(b::EstimatedDataSize, self.estimated_data_size)?;
        s.opt_bool(b::Truncated, self.truncated)?;
        s.opt_text(b::Data, self.data.as_deref())?;
        s.opt_number(io::Part, self.part)?;
        s.opt_text(b::Preview, self.preview.as_deref())?;
        s.end()
    }
}

/// The message part of a conversation item (MS-ASAIRS `BodyPart`, 14.1),
/// sent when the client asked with `BodyPartPreference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    /// 1, or 176 when the conversation is too large.
    pub status: CommonStatus,
    pub body_type: BodyType,
    pub estimated_data_size: u32,
    pub truncated: Option<bool>,
    pub data: Option<String>,
    pub preview: Option<String>,
}

impl BodyPart {
    pub fn from_element(el: &Element<'_>) -> Result<BodyPart, CommandError> {
        let status: u16 = req(el, b::Status, num("a status"))?;
        Ok(BodyPart {
            status: CommonStatus(status),
            body_type: req(el, b::Type, num("a body type"))?,
            estimated_data_size: req(el, b::EstimatedDataSize, num("a size in bytes"))?,
            truncated: opt(el, b::Truncated, flag)?,
            data: opt(el, b::Data, string)?,
            preview: opt(el, b::Preview, string)?,
        })
    }

    /// In the order MS-ASAIRS `BodyPart` requires.
    pub(crate) fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(b::BodyPart)?;
        s.number(b::Status, self.status.0)?;
        s.number(b::Type, self.body_type.0)?;
        s.number(b::EstimatedDataSize, self.estimated_data_size)?;
        s.opt_bool(b::Truncated, self.truncated)?;
        s.opt_text(b::Data, self.data.as_deref())?;
        s.opt_text(b::Preview, self.preview.as_deref())?;
        s.end()
    }
}

/// One attachment of an item (MS-ASAIRS `Attachment`). The children may
/// come in any order; they are written in the order the spec lists them.
///
/// In a Sync response to a client's attachment `Add` (16.0) an attachment
/// carries only `ClientId` and `FileReference`, so `method` and
/// `estimated_data_size`, required elsewhere, are optional here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub display_name: Option<String>,
    /// The server's name for the attachment, for ItemOperations Fetch.
    pub file_reference: String,
    /// 16.0: the client's id of an attachment it added.
    pub client_id: Option<String>,
    pub method: Option<AttachmentMethod>,
    pub estimated_data_size: Option<u32>,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub is_inline: Option<bool>,
    /// Voice mail only: the recording's length in seconds.
    pub um_att_duration: Option<u32>,
    /// Voice mail only: the attachment's rank among the recordings.
    pub um_att_order: Option<u32>,
}

impl Attachment {
    fn from_element(el: &Element<'_>) -> Result<Attachment, CommandError> {
        Ok(Attachment {
            display_name: opt(el, b::DisplayName, string)?,
            file_reference: req(el, b::FileReference, string)?,
            client_id: opt(el, b::ClientId, string)?,
            method: opt(el, b::Method, num("an attachment method"))?,
            estimated_data_size: opt(el, b::EstimatedDataSize, num("a size in bytes"))?,
            content_id: opt(el, b::ContentId, string)?,
            content_location: opt(el, b::ContentLocation, string)?,
            is_inline: opt(el, b::IsInline, flag)?,
            um_att_duration: opt(el, email2::UmAttDuration, num("a duration in seconds"))?,
            um_att_order: opt(el, email2::UmAttOrder, num("a number"))?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(b::Attachment)?;
        s.opt_text(b::DisplayName, self.display_name.as_deref())?;
        s.text(b::FileReference, &self.file_reference)?;
        s.opt_text(b::ClientId, self.client_id.as_deref())?;
        s.opt_number(b::Method, self.method.map(|m| m.0))?;
        s.opt_number(b::EstimatedDataSize, self.estimated_data_size)?;
        s.opt_text(b::ContentId, self.content_id.as_deref())?;
        s.opt_text(b::ContentLocation, self.content_location.as_deref())?;
        s.opt_bool(b::IsInline, self.is_inline)?;
        s.opt_number(email2::UmAttDuration, self.um_att_duration)?;
        s.opt_number(email2::UmAttOrder, self.um_att_order)?;
        s.end()
    }
}

/// An attachment a client adds to a draft or a calendar item (MS-ASAIRS
/// `Add`, 16.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentAdd {
    /// The client's id for it, which the server's answer repeats with the
    /// new `FileReference`.
    pub client_id: String,
    pub method: AttachmentMethod,
    pub content_type: Option<String>,
    /// The attachment itself, sent as opaque bytes.
    pub content: Vec<u8>,
    pub display_name: String,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub is_inline: Option<bool>,
}

impl AttachmentAdd {
    fn from_element(el: &Element<'_>) -> Result<AttachmentAdd, CommandError> {
        Ok(AttachmentAdd {
            client_id: req(el, b::ClientId, string)?,
            method: req(el, b::Method, num("an attachment method"))?,
            content_type: opt(el, b::ContentType, string)?,
            content: req(el, b::Content, bytes)?,
            display_name: req(el, b::DisplayName, string)?,
            content_id: opt(el, b::ContentId, string)?,
            content_location: opt(el, b::ContentLocation, string)?,
            is_inline: opt(el, b::IsInline, flag)?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(b::Add)?;
        s.text(b::ClientId, &self.client_id)?;
        s.number(b::Method, self.method.0)?;
        s.opt_text(b::ContentType, self.content_type.as_deref())?;
        s.opaque(b::Content, &self.content)?;
        s.text(b::DisplayName, &self.display_name)?;
        s.opt_text(b::ContentId, self.content_id.as_deref())?;
        s.opt_text(b::ContentLocation, self.content_location.as_deref())?;
        s.opt_bool(b::IsInline, self.is_inline)?;
        s.end()
    }
}

/// `Attachments`: in a response the item's attachments; in a 16.0 request
/// the attachments a client adds to or deletes from a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachments {
    pub attachments: Vec<Attachment>,
    pub add: Vec<AttachmentAdd>,
    /// `Delete/FileReference`: attachments to remove.
    pub delete: Vec<String>,
}

impl Attachments {
    pub fn from_element(el: &Element<'_>) -> Result<Attachments, CommandError> {
        let mut out = Attachments::default();
        for child in el.elements() {
            match child.tag {
                b::Attachment => out.attachments.push(Attachment::from_element(child)?),
                b::Add => out.add.push(AttachmentAdd::from_element(child)?),
                b::Delete => out.delete.push(req(child, b::FileReference, string)?),
                _ => {}
            }
        }
        Ok(out)
    }

    pub(crate) fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(b::Attachments)?;
        for a in &self.attachments {
            a.emit(s)?;
        }
        for a in &self.add {
            a.emit(s)?;
        }
        for file_reference in &self.delete {
            s.start(b::Delete)?;
            s.text(b::FileReference, file_reference)?;
            s.end()?;
        }
        s.end()
    }
}

/// Reads a `NativeBodyType`.
pub(crate) fn body_type(el: &Element<'_>) -> Result<BodyType, CommandError> {
    number(el, "a body type")
}

#[cfg(test)]
mod tests {
    use super::super::fields::Tree;
    use super::*;
    use crate::wbxml::Limits;

    #[test]
    fn bodies_keep_the_spec_order_and_round_trip() {
        let body = Body {
            body_type: BodyType::HTML,
            estimated_data_size: Some(43),
            truncated: Some(true),
            data: Some("<p>x</p>".into()),
            part: Some(1),
            preview: Some("x".into()),
        };
        let el = Tree::build(b::Body, |t| {
            // `emit` writes the Body element itself; unwrap it.
            body.emit(t)
        });
        let inner = el.child(b::Body).unwrap();
        let tags: Vec<Tag> = inner.elements().map(|e| e.tag).collect();
        assert_eq!(
            tags,
            [
                b::Type,
                b::EstimatedDataSize,
                b::Truncated,
                b::Data,
                io::Part,
                b::Preview
            ]
        );
        assert_eq!(Body::from_element(inner).unwrap(), body);
        let bad = Element::new(b::Body).with(Element::text(b::Type, "html"));
        assert!(matches!(
            Body::from_element(&bad),
            Err(CommandError::Invalid { tag: b::Type, .. })
        ));
        assert_eq!(
            Body::from_element(&Element::new(b::Body)),
            Err(CommandError::Missing {
                parent: b::Body,
                missing: b::Type
            })
        );
    }

    #[test]
    fn preferences_bound_the_preview() {
        let el = Element::new(b::BodyPreference)
            .with(Element::text(b::Type, "2"))
            .with(Element::text(b::Preview, "255"));
        let pref = BodyPreference::from_element(&el).unwrap();
        assert_eq!(pref.preview, Some(255));
        assert_eq!(pref.body_type, BodyType::HTML);
        let el = Element::new(b::BodyPreference)
            .with(Element::text(b::Type, "2"))
            .with(Element::text(b::Preview, "256"));
        assert!(BodyPreference::from_element(&el).is_err());
    }

    #[test]
    fn attachments_both_ways() {
        let atts = Attachments {
            attachments: vec![Attachment {
                display_name: Some("a.txt".into()),
                file_reference: "5%3a1%3a0".into(),
                method: Some(AttachmentMethod::NORMAL),
                estimated_data_size: Some(10),
                is_inline: Some(false),
                ..Attachment::default()
            }],
            add: vec![AttachmentAdd {
                client_id: "c1".into(),
                method: AttachmentMethod::EMBEDDED_MESSAGE,
                content_type: Some("message/rfc822".into()),
                content: vec![0, 159, 255],
                display_name: "fw.eml".into(),
                content_id: None,
                content_location: None,
                is_inline: None,
            }],
            delete: vec!["5%3a1%3a1".into()],
        };
        let el = Tree::build(b::Attachments, |t| atts.emit(t));
        let el = el.child(b::Attachments).unwrap().clone();
        let bytes = el.encode().unwrap();
        let back = Element::decode(&bytes, Limits::default()).unwrap();
        assert_eq!(Attachments::from_element(&back).unwrap(), atts);
        let no_ref = Element::new(b::Attachments).with(Element::new(b::Attachment));
        assert_eq!(
            Attachments::from_element(&no_ref),
            Err(CommandError::Missing {
                parent: b::Attachment,
                missing: b::FileReference
            })
        );
    }
}
