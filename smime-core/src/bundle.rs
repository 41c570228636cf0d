//! Certificates out of the forms they are published in: one DER
//! certificate, PEM (one or many), a PKCS#7 / CMS certs-only SignedData
//! (RFC 8551 3.6, what userSMIMECertificate usually holds), and Outlook's
//! security-settings blob (MS-OXOABK 2.2.4.36, the other thing Active
//! Directory's userSMIMECertificate may hold).

use base64::Engine as _;
use der::Decode as _;

use crate::certificate::Certificate;
use crate::error::CertError;

/// The most certificates one value may hold: a user's certificates and
/// their chain, with room to spare; beyond it the value is refused.
pub const MAX_CERTIFICATES: usize = 64;

/// id-signedData (RFC 5652 5.1).
const ID_SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// MS-OXOABK 2.2.4.36.3 KeyExchangeCertificate and 2.2.4.36.8
/// SignCertificate: the two settings of the blob that hold a DER
/// certificate. Every other setting is skipped, as the spec says.
const OUTLOOK_KEY_EXCHANGE_CERTIFICATE: u16 = 0x0003;
const OUTLOOK_SIGN_CERTIFICATE: u16 = 0x0008;

/// Every certificate in `data`, whatever its form: PEM text, a DER
/// certificate, a DER certs-only SignedData, or an Outlook blob (whose
/// first byte is not 0x30, MS-OXOABK 2.2.4.36).
pub fn parse_any(data: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let trimmed = trim_ascii_start(data);
    if trimmed.starts_with(b"-----BEGIN") {
        return from_pem(trimmed);
    }
    match data.first() {
        None => Err(CertError::Empty),
        Some(0x30) => match Certificate::from_der(data) {
            Ok(cert) => Ok(vec![cert]),
            Err(cert_err) => certs_only(data).map_err(|p7_err| {
                // Say what is wrong with the form it most looks like.
                if looks_like_content_info(data) {
                    p7_err
                } else {
                    cert_err
                }
            }),
        },
        Some(_) => outlook_blob(data),
    }
}

/// The certificates of a certs-only (or any) SignedData, in its order.
pub fn certs_only(der: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let info = cms::content_info::ContentInfo::from_der(der).map_err(CertError::der)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CertError::NotSignedData(info.content_type.to_string()));
    }
    let signed: cms::signed_data::SignedData = info.content.decode_as().map_err(CertError::der)?;
    let mut out = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(cert) = choice {
            if out.len() == MAX_CERTIFICATES {
                return Err(CertError::TooMany {
                    limit: MAX_CERTIFICATES,
                });
            }
            out.push(Certificate::from_parsed(cert.clone())?);
        }
    }
    if out.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(out)
}

/// The certificates of every PEM block: CERTIFICATE (and the older X509
/// CERTIFICATE) blocks, and PKCS7 / CMS blocks holding certs-only data.
/// Blocks of other kinds (keys, CRLs) are skipped.
pub fn from_pem(text: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let text = std::str::from_utf8(text).map_err(|_| CertError::Pem("not UTF-8 text".into()))?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + 11..).unwrap_or("");
        let Some(label_end) = after.find("-----") else {
            return Err(CertError::Pem(
                "a BEGIN line without its closing dashes".into(),
            ));
        };
        let label = after.get(..label_end).unwrap_or("");
        let body_start = after.get(label_end + 5..).unwrap_or("");
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else {
            return Err(CertError::Pem(format!("no END line for {label}")));
        };
        let body = body_start.get(..body_end).unwrap_or("");
        rest = body_start.get(body_end + end_marker.len()..).unwrap_or("");
        let decode = || -> Result<Vec<u8>, CertError> {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| CertError::Pem(format!("{label}: {e}")))
        };
        match label {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                out.push(Certificate::from_der(&decode()?)?)
            }
            "PKCS7" | "CMS" => out.extend(certs_only(&decode()?)?),
            _ => continue,
        }
        if out.len() > MAX_CERTIFICATES {
            return Err(CertError::TooMany {
                limit: MAX_CERTIFICATES,
            });
        }
    }
    if out.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(out)
}

/// MS-OXOABK 2.2.4.36: settings one after another, each a little-endian
/// u16 TAG, a u16 LENGTH counting the four header bytes, and the data.
pub fn outlook_blob(data: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset < data.len() {
        let header: [u8; 4] = data
            .get(offset..offset + 4)
            .and_then(|h| h.try_into().ok())
            .ok_or(CertError::OutlookBlob {
                offset,
                message: "a setting's header is cut short",
            })?;
        let [t0, t1, l0, l1] = header;
        let tag = u16::from_le_bytes([t0, t1]);
        let len = usize::from(u16::from_le_bytes([l0, l1]));
        if len < 4 {
            return Err(CertError::OutlookBlob {
                offset,
                message: "a setting's length is shorter than its header",
            });
        }
        let value = data
            .get(offset + 4..offset + len)
            .ok_or(CertError::OutlookBlob {
                offset,
                message: "a setting runs past the end of the blob",
            })?;
        if matches!(
            tag,
            OUTLOOK_KEY_EXCHANGE_CERTIFICATE | OUTLOOK_SIGN_CERTIFICATE
        ) && !value.is_empty()
        {
            let cert = Certificate::from_der(value).map_err(|e| match e {
                CertError::Der { offset: o, message } => CertError::Der {
                    offset: Some(offset + 4 + o.unwrap_or(0)),
                    message,
                },
                other => other,
            })?;
            // The same certificate often serves both purposes.
            if !out.contains(&cert) {
                out.push(cert);
            }
        }
        offset += len;
    }
    if out.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(out)
}

fn looks_like_content_info(data: &[u8]) -> bool {
    // SEQUENCE { OBJECT IDENTIFIER 1.2.840.113549.1.7.x ...: the OID's
    // encoding appears within the first dozen bytes.
    let pkcs7_prefix = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
    data.get(..16)
        .unwrap_or(data)
        .windows(pkcs7_prefix.len())
        .any(|w| w == pkcs7_prefix)
}

fn trim_ascii_start(data: &[u8]) -> &[u8] {
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    data.get(start..).unwrap_or(&[])
}

/// Builds an Outlook blob holding `certs` as SignCertificate and
/// KeyExchangeCertificate settings, for tests and for LDIF fixtures.
pub fn outlook_blob_for(cert: &Certificate) -> Option<Vec<u8>> {
    let len = u16::try_from(cert.der().len() + 4).ok()?;
    let mut out = Vec::new();
    // A version setting first (TAG 0x0001), as Outlook writes it.
    out.extend_from_slice(&[0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00]);
    for tag in [OUTLOOK_SIGN_CERTIFICATE, OUTLOOK_KEY_EXCHANGE_CERTIFICATE] {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(cert.der());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../fixtures/pki/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn every_form_gives_the_same_der() {
        let alice = fixture("alice.der");
        let inter = fixture("intermediate.der");
        let der = parse_any(&alice).unwrap();
        assert_eq!(der.len(), 1);
        assert_eq!(der[0].der(), alice.as_slice());

        let pem = parse_any(&fixture("alice.pem")).unwrap();
        assert_eq!(pem[0].der(), alice.as_slice());

        let p7 = parse_any(&fixture("alice.p7c")).unwrap();
        let ders: Vec<&[u8]> = p7.iter().map(Certificate::der).collect();
        assert!(ders.contains(&alice.as_slice()));
        assert!(ders.contains(&inter.as_slice()));

        let blob = outlook_blob_for(&der[0]).unwrap();
        assert_ne!(blob[0], 0x30);
        let from_blob = parse_any(&blob).unwrap();
        assert_eq!(from_blob.len(), 1);
        assert_eq!(from_blob[0].der(), alice.as_slice());

        let chain = parse_any(&fixture("intermediates.pem")).unwrap();
        assert_eq!(chain.len(), 3);
    }

    #[test]
    fn damaged_input_is_a_typed_error() {
        assert_eq!(parse_any(b""), Err(CertError::Empty));
        assert!(matches!(
            parse_any(&[0x01, 0x00, 0x02, 0x00]),
            Err(CertError::OutlookBlob { .. })
        ));
        assert!(matches!(
            parse_any(&[0x08, 0x00, 0xff, 0x00, 0x30]),
            Err(CertError::OutlookBlob { offset: 0, .. })
        ));
        assert!(matches!(
            parse_any(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
            Err(CertError::Pem(_))
        ));
        assert!(matches!(
            parse_any(b"-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(CertError::Pem(_))
        ));
        let mut p7 = fixture("alice.p7c");
        p7.truncate(p7.len() / 2);
        assert!(matches!(parse_any(&p7), Err(CertError::Der { .. })));
        // A blob whose certificate setting holds garbage says where.
        let mut blob = vec![0x08, 0x00, 0x08, 0x00];
        blob.extend_from_slice(&[0x30, 0x03, 0x02, 0x01]);
        assert!(matches!(
            parse_any(&blob),
            Err(CertError::Der {
                offset: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let seeds = [
            fixture("alice.der"),
            fixture("alice.p7c"),
            fixture("alice.pem"),
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for seed in &seeds {
            for _ in 0..400 {
                let mut data = seed.clone();
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % data.len();
                data[at] ^= (state >> 32) as u8 | 1;
                let cut = (state >> 40) as usize % (data.len() + 1);
                let _ = parse_any(&data[..cut]);
                let _ = parse_any(&data);
            }
        }
    }
}
