//! ResolveRecipients (MS-ASCMD 2.2.1.15): the client names recipients (an
//! address or the start of a name), the server answers who they are, and,
//! when asked, their S/MIME certificates (full, or mini), their free/busy
//! data and their photos.

use base64::Engine as _;

use super::{
    CommandError, DateTime, child, child_text, expect_root, number, required, text, text_element,
};
use crate::codepages::resolverecipients as r;
use crate::number::number_enum;
use crate::wbxml::Element;

number_enum! {
    /// Every `Status` of a ResolveRecipients response (MS-ASCMD
    /// 2.2.3.177.12): the command's (1, 5, 6), a Response's (1 to 4), a
    /// Certificates' (1, 7, 8), an Availability's (1, 160 to 163) and a
    /// Picture's (1, 173 to 175).
    pub struct Status(u8) {
        SUCCESS = 1,
        /// The recipient is ambiguous: the Recipients are suggestions.
        AMBIGUOUS = 2,
        /// Ambiguous, and the suggestions are only some of the matches
        /// (`RecipientCount` says how many there are).
        AMBIGUOUS_PARTIAL = 3,
        /// Nothing in the directory or the contacts matched.
        NOT_FOUND = 4,
        PROTOCOL_ERROR = 5,
        SERVER_ERROR = 6,
        /// The recipient has no valid S/MIME certificate.
        NO_VALID_CERTIFICATE = 7,
        /// MaxCertificates was reached; `CertificateCount` says how many
        /// were not returned.
        CERTIFICATE_LIMIT = 8,
        /// Availability asked for more than 100 recipients.
        AVAILABILITY_TOO_MANY_RECIPIENTS = 160,
        /// A distribution list of more than 20 members.
        AVAILABILITY_LIST_TOO_LARGE = 161,
        /// Free/busy data could not be had now; the client may retry.
        AVAILABILITY_TRANSIENT_FAILURE = 162,
        /// Free/busy data cannot be had for this recipient.
        AVAILABILITY_FAILURE = 163,
        /// The recipient has no photo.
        NO_PICTURE = 173,
        PICTURE_TOO_LARGE = 174,
        PICTURE_LIMIT_REACHED = 175,
    }
}

number_enum! {
    /// `CertificateRetrieval` (MS-ASCMD 2.2.3.22).
    pub struct CertificateRetrieval(u8) {
        /// Do not return certificates (the default).
        NONE = 1,
        /// Full certificates.
        FULL = 2,
        /// Mini certificates.
        MINI = 3,
    }
}

number_enum! {
    /// `Type` of a Recipient (MS-ASCMD 2.2.3.186.5).
    pub struct RecipientType(u8) {
        /// An entry of the global address list.
        GAL = 1,
        /// A contact of the user's.
        CONTACT = 2,
    }
}

/// `Availability` in a request: the free/busy window wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityRequest {
    pub start_time: Option<DateTime>,
    pub end_time: Option<DateTime>,
}

/// `Picture` in a request: photos wanted, and their limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PictureRequest {
    /// The largest photo wanted, in bytes.
    pub max_size: Option<u32>,
    /// The most photos wanted per recipient.
    pub max_pictures: Option<u32>,
}

/// The request's `Options`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub certificate_retrieval: Option<CertificateRetrieval>,
    pub max_certificates: Option<u32>,
    pub max_ambiguous_recipients: Option<u32>,
    pub availability: Option<AvailabilityRequest>,
    pub picture: Option<PictureRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The recipients, as the user typed them.
    pub to: Vec<String>,
    pub options: Options,
}

fn opt_number(
    el: &Element<'_>,
    tag: crate::wbxml::Tag,
    what: &'static str,
) -> Result<Option<u32>, CommandError> {
    child(el, tag)?.map(|c| number(c, what)).transpose()
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, r::ResolveRecipients)?;
        let to: Vec<String> = el
            .children_with(r::To)
            .map(|t| text(t).map(str::to_owned))
            .collect::<Result<_, _>>()?;
        if to.is_empty() {
            return Err(CommandError::Missing {
                parent: r::ResolveRecipients,
                missing: r::To,
            });
        }
        let options = match child(el, r::Options)? {
            None => Options::default(),
            Some(o) => Options {
                certificate_retrieval: child(o, r::CertificateRetrieval)?
                    .map(|c| number(c, "1, 2 or 3"))
                    .transpose()?,
                max_certificates: opt_number(o, r::MaxCertificates, "a count")?,
                max_ambiguous_recipients: opt_number(o, r::MaxAmbiguousRecipients, "a count")?,
                availability: child(o, r::Availability)?
                    .map(|a| {
                        Ok::<_, CommandError>(AvailabilityRequest {
                            start_time: child(a, r::StartTime)?
                                .map(DateTime::from_element)
                                .transpose()?,
                            end_time: child(a, r::EndTime)?
                                .map(DateTime::from_element)
                                .transpose()?,
                        })
                    })
                    .transpose()?,
                picture: child(o, r::Picture)?
                    .map(|p| {
                        Ok::<_, CommandError>(PictureRequest {
                            max_size: opt_number(p, r::MaxSize, "a size in bytes")?,
                            max_pictures: opt_number(p, r::MaxPictures, "a count")?,
                        })
                    })
                    .transpose()?,
            },
        };
        Ok(Request { to, options })
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(r::ResolveRecipients);
        for t in &self.to {
            el.push(text_element(r::To, t.clone()));
        }
        let o = &self.options;
        if *o != Options::default() {
            let mut opts = Element::new(r::Options);
            if let Some(c) = o.certificate_retrieval {
                opts.push(text_element(r::CertificateRetrieval, c.as_text()));
            }
            if let Some(m) = o.max_certificates {
                opts.push(text_element(r::MaxCertificates, m.to_string()));
            }
            if let Some(m) = o.max_ambiguous_recipients {
                opts.push(text_element(r::MaxAmbiguousRecipients, m.to_string()));
            }
            if let Some(a) = &o.availability {
                let mut av = Element::new(r::Availability);
                if let Some(s) = &a.start_time {
                    av.push(text_element(r::StartTime, s.as_str()));
                }
                if let Some(e) = &a.end_time {
                    av.push(text_element(r::EndTime, e.as_str()));
                }
                opts.push(av);
            }
            if let Some(p) = &o.picture {
                let mut pic = Element::new(r::Picture);
                if let Some(m) = p.max_size {
                    pic.push(text_element(r::MaxSize, m.to_string()));
                }
                if let Some(m) = p.max_pictures {
                    pic.push(text_element(r::MaxPictures, m.to_string()));
                }
                opts.push(pic);
            }
            el.push(opts);
        }
        el
    }
}

/// A recipient's certificates (`Certificates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificates {
    pub status: Status,
    /// Valid certificates found; with [`Status::CERTIFICATE_LIMIT`], how
    /// many were not returned.
    pub certificate_count: Option<u32>,
    /// For a distribution list: how many members it has.
    pub recipient_count: Option<u32>,
    /// DER certificates (base64 on the wire).
    pub certificates: Vec<Vec<u8>>,
    /// Mini certificates (base64 on the wire).
    pub mini_certificates: Vec<Vec<u8>>,
}

impl Certificates {
    pub fn status(status: Status) -> Certificates {
        Certificates {
            status,
            certificate_count: None,
            recipient_count: None,
            certificates: Vec::new(),
            mini_certificates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub status: Status,
    /// One digit per slot of the window (MS-ASCMD 2.2.3.101).
    pub merged_free_busy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub status: Status,
    pub data: Option<Vec<u8>>,
}

/// One resolved (or suggested) recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub kind: RecipientType,
    pub display_name: String,
    pub email_address: String,
    pub availability: Option<Availability>,
    pub certificates: Option<Certificates>,
    pub picture: Option<Picture>,
}

/// The answer for one `To`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientResponse {
    pub to: String,
    pub status: Status,
    pub recipient_count: Option<u32>,
    pub recipients: Vec<Recipient>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    pub responses: Vec<RecipientResponse>,
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn unb64(el: &Element<'_>) -> Result<Vec<u8>, CommandError> {
    let t = text(el)?;
    let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| CommandError::invalid(el.tag, t, "base64"))
}

impl Response {
    pub fn new(status: Status) -> Response {
        Response {
            status,
            responses: Vec::new(),
        }
    }

    /// In the order of ResolveRecipientsResponse.xsd.
    pub fn to_element(&self) -> Element<'static> {
        let mut el =
            Element::new(r::ResolveRecipients).with(text_element(r::Status, self.status.as_text()));
        for resp in &self.responses {
            let mut re = Element::new(r::Response)
                .with(text_element(r::To, resp.to.clone()))
                .with(text_element(r::Status, resp.status.as_text()));
            if let Some(n) = resp.recipient_count {
                re.push(text_element(r::RecipientCount, n.to_string()));
            }
            for rc in &resp.recipients {
                re.push(rc.to_element());
            }
            el.push(re);
        }
        el
    }

    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, r::ResolveRecipients)?;
        Ok(Response {
            status: number(required(el, r::Status)?, "a status")?,
            responses: el
                .children_with(r::Response)
                .map(|re| {
                    Ok(RecipientResponse {
                        to: child_text(re, r::To)?.unwrap_or_default(),
                        status: number(required(re, r::Status)?, "a status")?,
                        recipient_count: opt_number(re, r::RecipientCount, "a count")?,
                        recipients: re
                            .children_with(r::Recipient)
                            .map(Recipient::from_element)
                            .collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, CommandError>>()?,
        })
    }
}

impl Recipient {
    fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(r::Recipient)
            .with(text_element(r::Type, self.kind.as_text()))
            .with(text_element(r::DisplayName, self.display_name.clone()))
            .with(text_element(r::EmailAddress, self.email_address.clone()));
        if let Some(a) = &self.availability {
            let mut av =
                Element::new(r::Availability).with(text_element(r::Status, a.status.as_text()));
            if let Some(m) = &a.merged_free_busy {
                av.push(text_element(r::MergedFreeBusy, m.clone()));
            }
            el.push(av);
        }
        if let Some(c) = &self.certificates {
            let mut ce =
                Element::new(r::Certificates).with(text_element(r::Status, c.status.as_text()));
            if let Some(n) = c.certificate_count {
                ce.push(text_element(r::CertificateCount, n.to_string()));
            }
            if let Some(n) = c.recipient_count {
                ce.push(text_element(r::RecipientCount, n.to_string()));
            }
            for der in &c.certificates {
                ce.push(text_element(r::Certificate, b64(der)));
            }
            for mini in &c.mini_certificates {
                ce.push(text_element(r::MiniCertificate, b64(mini)));
            }
            el.push(ce);
        }
        if let Some(p) = &self.picture {
            let mut pe = Element::new(r::Picture).with(text_element(r::Status, p.status.as_text()));
            if let Some(d) = &p.data {
                pe.push(Element::opaque(r::Data, d.clone()));
            }
            el.push(pe);
        }
        el
    }

    fn from_element(el: &Element<'_>) -> Result<Recipient, CommandError> {
        Ok(Recipient {
            kind: number(required(el, r::Type)?, "1 or 2")?,
            display_name: child_text(el, r::DisplayName)?.unwrap_or_default(),
            email_address: child_text(el, r::EmailAddress)?.unwrap_or_default(),
            availability: child(el, r::Availability)?
                .map(|a| {
                    Ok::<_, CommandError>(Availability {
                        status: number(required(a, r::Status)?, "a status")?,
                        merged_free_busy: child_text(a, r::MergedFreeBusy)?,
                    })
                })
                .transpose()?,
            certificates: child(el, r::Certificates)?
                .map(|c| {
                    Ok::<_, CommandError>(Certificates {
                        status: number(required(c, r::Status)?, "a status")?,
                        certificate_count: opt_number(c, r::CertificateCount, "a count")?,
                        recipient_count: opt_number(c, r::RecipientCount, "a count")?,
                        certificates: c
                            .children_with(r::Certificate)
                            .map(unb64)
                            .collect::<Result<_, _>>()?,
                        mini_certificates: c
                            .children_with(r::MiniCertificate)
                            .map(unb64)
                            .collect::<Result<_, _>>()?,
                    })
                })
                .transpose()?,
            picture: child(el, r::Picture)?
                .map(|p| {
                    Ok::<_, CommandError>(Picture {
                        status: number(required(p, r::Status)?, "a status")?,
                        data: child(p, r::Data)?.map(|d| {
                            d.opaque_content()
                                .map(<[u8]>::to_vec)
                                .or_else(|| d.text_content().map(|t| t.as_bytes().to_vec()))
                                .unwrap_or_default()
                        }),
                    })
                })
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;

    const REQUEST: &[u8] =
        include_bytes!("../../../fixtures/wbxml/resolverecipients-request.wbxml");
    const RESPONSE: &[u8] =
        include_bytes!("../../../fixtures/wbxml/resolverecipients-response.wbxml");

    #[test]
    fn the_fixtures_read_and_write_back() {
        let el = Element::decode(REQUEST, Limits::default()).unwrap();
        let req = Request::from_element(&el).unwrap();
        assert_eq!(req.to, vec!["chris@contoso.com"]);
        assert_eq!(
            req.options.certificate_retrieval,
            Some(CertificateRetrieval::FULL)
        );
        assert_eq!(req.options.max_certificates, Some(9999));
        assert_eq!(req.options.max_ambiguous_recipients, Some(9999));
        assert_eq!(req.to_element().encode().unwrap(), REQUEST);

        let el = Element::decode(RESPONSE, Limits::default()).unwrap();
        let resp = Response::from_element(&el).unwrap();
        let first = &resp.responses[0];
        assert_eq!(first.status, Status::SUCCESS);
        assert_eq!(first.recipient_count, Some(1));
        let rc = &first.recipients[0];
        assert_eq!(rc.kind, RecipientType::GAL);
        assert_eq!(rc.display_name, "Chris Gray");
        let certs = rc.certificates.as_ref().unwrap();
        assert_eq!(certs.certificate_count, Some(1));
        assert_eq!(certs.certificates.len(), 1);
        assert_eq!(resp.to_element().encode().unwrap(), RESPONSE);
    }

    #[test]
    fn everything_round_trips() {
        let req = Request {
            to: vec!["Ann".into(), "bob@example.com".into()],
            options: Options {
                certificate_retrieval: Some(CertificateRetrieval::MINI),
                max_certificates: Some(3),
                max_ambiguous_recipients: Some(0),
                availability: Some(AvailabilityRequest {
                    start_time: DateTime::parse("2026-12-01T08:00:00.000Z"),
                    end_time: DateTime::parse("2026-12-01T18:00:00.000Z"),
                }),
                picture: Some(PictureRequest {
                    max_size: Some(1024),
                    max_pictures: Some(2),
                }),
            },
        };
        assert_eq!(Request::from_element(&req.to_element()).unwrap(), req);
        let resp = Response {
            status: Status::SUCCESS,
            responses: vec![RecipientResponse {
                to: "team".into(),
                status: Status::SUCCESS,
                recipient_count: Some(1),
                recipients: vec![Recipient {
                    kind: RecipientType::GAL,
                    display_name: "Team".into(),
                    email_address: "team@example.com".into(),
                    availability: Some(Availability {
                        status: Status::AVAILABILITY_FAILURE,
                        merged_free_busy: None,
                    }),
                    certificates: Some(Certificates {
                        status: Status::CERTIFICATE_LIMIT,
                        certificate_count: Some(2),
                        recipient_count: Some(3),
                        certificates: vec![vec![1, 2, 3]],
                        mini_certificates: vec![vec![4]],
                    }),
                    picture: Some(Picture {
                        status: Status::NO_PICTURE,
                        data: None,
                    }),
                }],
            }],
        };
        let bytes = resp.to_element().encode().unwrap();
        let el = Element::decode(&bytes, Limits::default()).unwrap();
        assert_eq!(Response::from_element(&el).unwrap(), resp);
    }

    #[test]
    fn malformed_requests_are_errors() {
        assert!(Request::from_element(&Element::new(r::ResolveRecipients)).is_err());
        let bad = Element::new(r::ResolveRecipients)
            .with(text_element(r::To, "a"))
            .with(Element::new(r::Options).with(text_element(r::MaxCertificates, "many")));
        assert!(Request::from_element(&bad).is_err());
        let bad_time =
            Element::new(r::ResolveRecipients)
                .with(text_element(r::To, "a"))
                .with(Element::new(r::Options).with(
                    Element::new(r::Availability).with(text_element(r::StartTime, "tomorrow")),
                ));
        assert!(Request::from_element(&bad_time).is_err());
    }
}
