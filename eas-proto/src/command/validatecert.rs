//! ValidateCert (MS-ASCMD 2.2.1.22): the client sends certificates (from
//! signed mail it received), optionally the intermediates it has
//! (`CertificateChain`) and whether to check revocation (`CheckCRL`); the
//! server answers a status for each certificate, in order.

use base64::Engine as _;

use super::{CommandError, boolean, child, expect_root, number, required, text, text_element};
use crate::codepages::validatecert as v;
use crate::number::number_enum;
use crate::wbxml::Element;

number_enum! {
    /// ValidateCert `Status` (MS-ASCMD 2.2.3.177.18): the command's (1 or
    /// 17) and each certificate's.
    pub struct Status(u8) {
        SUCCESS = 1,
        PROTOCOL_ERROR = 2,
        /// The signature in the certificate (or its chain) is invalid.
        BAD_SIGNATURE = 3,
        /// The chain ends at a root the server does not trust.
        UNTRUSTED = 4,
        /// The chain could not be built: a malformed certificate.
        CHAIN_MALFORMED = 5,
        /// Not valid for signing e-mail (key usage, extended key usage).
        NOT_FOR_EMAIL = 6,
        /// Expired, or not yet valid.
        EXPIRED = 7,
        /// The validity periods of the chain are not consistent.
        CHAIN_TIME = 8,
        /// A certificate is used incorrectly (a CA as a user's).
        USED_INCORRECTLY = 9,
        /// Information in the certificate is missing or incorrect (no
        /// e-mail address).
        INFORMATION_MISSING = 10,
        /// A certificate of the chain is used incorrectly.
        CHAIN_USED_INCORRECTLY = 11,
        /// The certificate does not match the e-mail address.
        ADDRESS_MISMATCH = 12,
        REVOKED = 13,
        /// The server that says whether it is revoked cannot be reached.
        REVOCATION_SERVER_UNREACHABLE = 14,
        /// A certificate of the chain is revoked.
        CHAIN_REVOKED = 15,
        /// The revocation status cannot be determined.
        REVOCATION_UNKNOWN = 16,
        /// An unknown server error.
        SERVER_ERROR = 17,
    }
}

/// Decodes a base64 certificate as clients send it; white space (line
/// breaks) forgiven. `None` when it is not base64.
pub fn decode_certificate(b64: &str) -> Option<Vec<u8>> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

pub fn encode_certificate(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// A ValidateCert request. Certificates stay as the base64 text the
/// client sent: one that is not base64 gets its own status, not a
/// protocol error for the whole request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Intermediates the client offers for building chains.
    pub chain: Vec<String>,
    /// The certificates to validate, in the order their statuses go back.
    pub certificates: Vec<String>,
    /// Check revocation (`CheckCRL` 1).
    pub check_crl: bool,
}

fn certificate_list(el: &Element<'_>) -> Result<Vec<String>, CommandError> {
    el.children_with(v::Certificate)
        .map(|c| text(c).map(str::to_owned))
        .collect()
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, v::ValidateCert)?;
        let certificates = certificate_list(required(el, v::Certificates)?)?;
        if certificates.is_empty() {
            return Err(CommandError::Missing {
                parent: v::Certificates,
                missing: v::Certificate,
            });
        }
        Ok(Request {
            chain: child(el, v::CertificateChain)?
                .map(certificate_list)
                .transpose()?
                .unwrap_or_default(),
            certificates,
            check_crl: child(el, v::CheckCRL)?
                .map(boolean)
                .transpose()?
                .unwrap_or(false),
        })
    }

    /// CertificateChain, Certificates, CheckCRL, as ValidateCert.xsd orders
    /// them.
    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(v::ValidateCert);
        if !self.chain.is_empty() {
            let mut chain = Element::new(v::CertificateChain);
            for c in &self.chain {
                chain.push(text_element(v::Certificate, c.clone()));
            }
            el.push(chain);
        }
        let mut certs = Element::new(v::Certificates);
        for c in &self.certificates {
            certs.push(text_element(v::Certificate, c.clone()));
        }
        el.push(certs);
        if self.check_crl {
            el.push(text_element(v::CheckCRL, "1"));
        }
        el
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    /// One per requested certificate, in the request's order.
    pub certificates: Vec<Status>,
}

impl Response {
    pub fn new(status: Status) -> Response {
        Response {
            status,
            certificates: Vec::new(),
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, v::ValidateCert)?;
        Ok(Response {
            status: number(required(el, v::Status)?, "a ValidateCert status")?,
            certificates: el
                .children_with(v::Certificate)
                .map(|c| number(required(c, v::Status)?, "a ValidateCert status"))
                .collect::<Result<_, _>>()?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el =
            Element::new(v::ValidateCert).with(text_element(v::Status, self.status.as_text()));
        for s in &self.certificates {
            el.push(Element::new(v::Certificate).with(text_element(v::Status, s.as_text())));
        }
        el
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;

    const REQUEST: &[u8] = include_bytes!("../../../fixtures/wbxml/validatecert-request.wbxml");
    const RESPONSE: &[u8] = include_bytes!("../../../fixtures/wbxml/validatecert-response.wbxml");

    #[test]
    fn the_fixtures_read_and_write_back() {
        let el = Element::decode(REQUEST, Limits::default()).unwrap();
        let req = Request::from_element(&el).unwrap();
        assert_eq!(req.certificates.len(), 1);
        assert!(req.check_crl);
        assert!(req.chain.is_empty());
        assert!(decode_certificate(&req.certificates[0]).is_some());
        assert_eq!(req.to_element().encode().unwrap(), REQUEST);
        let el = Element::decode(RESPONSE, Limits::default()).unwrap();
        let resp = Response::from_element(&el).unwrap();
        assert_eq!(resp.status, Status::SUCCESS);
        assert_eq!(resp.certificates, vec![Status::SUCCESS]);
        assert_eq!(resp.to_element().encode().unwrap(), RESPONSE);
    }

    #[test]
    fn chains_round_trip_and_errors_are_typed() {
        let req = Request {
            chain: vec!["AAAA".into()],
            certificates: vec!["BBBB".into(), "not base64!".into()],
            check_crl: false,
        };
        let back = Request::from_element(&req.to_element()).unwrap();
        assert_eq!(back, req);
        assert_eq!(decode_certificate("not base64!"), None);
        assert_eq!(decode_certificate("AA\r\nAA"), Some(vec![0, 0, 0]));
        let empty = Element::new(v::ValidateCert).with(Element::new(v::Certificates));
        assert!(Request::from_element(&empty).is_err());
        let bad_crl = Element::new(v::ValidateCert)
            .with(Element::new(v::Certificates).with(text_element(v::Certificate, "AAAA")))
            .with(text_element(v::CheckCRL, "yes"));
        assert!(Request::from_element(&bad_crl).is_err());
        let unknown = Response {
            status: Status::SUCCESS,
            certificates: vec![Status(99)],
        };
        assert_eq!(
            Response::from_element(&unknown.to_element()).unwrap(),
            unknown
        );
    }
}
