//! One X.509 certificate: its DER exactly as it came, and what the S/MIME
//! checks read from it (addresses, usages, distribution points, dates).

use std::fmt;

use der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
};

use crate::error::CertError;

/// id-kp-emailProtection (RFC 5280 4.2.1.12).
pub const EMAIL_PROTECTION: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// anyExtendedKeyUsage (RFC 5280 4.2.1.12).
const ANY_EKU: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// PKCS#9 emailAddress, the address in the subject as older CAs put it.
const EMAIL_ADDRESS_ATTR: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const RSA_ENCRYPTION: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// The kind of key a certificate carries, which decides the key usage
/// encryption needs (keyEncipherment for RSA, keyAgreement for EC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Other,
}

/// A certificate: the DER it was read from, unchanged, and its parse.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Certificate({}, sha256 {})",
            self.subject(),
            self.fingerprint()
        )
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Certificate) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate; trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(CertError::der)?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
        })
    }

    /// From a certificate decoded out of a larger structure (PKCS#7): its
    /// DER is the re-encoding, which for DER input is the same bytes.
    pub(crate) fn from_parsed(parsed: x509_cert::Certificate) -> Result<Certificate, CertError> {
        let der = parsed.to_der().map_err(CertError::der)?;
        Ok(Certificate { der, parsed })
    }

    /// The DER, byte for byte as it was given.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Hex SHA-256 of the DER: how traces and logs name a certificate.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        sha2::Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }

    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate.issuer.to_string()
    }

    /// The subject's common name, if it has one.
    pub fn common_name(&self) -> Option<String> {
        let cn = der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");
        self.attribute_strings(cn).into_iter().next()
    }

    pub fn serial_hex(&self) -> String {
        self.parsed
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// notBefore, in seconds since the Unix epoch.
    pub fn not_before(&self) -> u64 {
        self.parsed
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs()
    }

    /// notAfter, in seconds since the Unix epoch.
    pub fn not_after(&self) -> u64 {
        self.parsed
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs()
    }

    pub fn is_self_issued(&self) -> bool {
        self.parsed.tbs_certificate.subject == self.parsed.tbs_certificate.issuer
    }

    pub fn key_kind(&self) -> KeyKind {
        let oid = self
            .parsed
            .tbs_certificate
            .subject_public_key_info
            .algorithm
            .oid;
        if oid == RSA_ENCRYPTION {
            KeyKind::Rsa
        } else if oid == EC_PUBLIC_KEY {
            KeyKind::Ec
        } else {
            KeyKind::Other
        }
    }

    /// The e-mail addresses the certificate is for: subjectAltName
    /// rfc822Name entries, and the subject's emailAddress attributes, lower
    /// case (RFC 8550 3.1 asks for the first; older CAs wrote the second).
    pub fn email_addresses(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(Ok(san)) = self.extension::<SubjectAltName>() {
            for name in san.0 {
                if let GeneralName::Rfc822Name(addr) = name {
                    out.push(addr.as_str().to_ascii_lowercase());
                }
            }
        }
        for addr in self.attribute_strings(EMAIL_ADDRESS_ATTR) {
            let addr = addr.to_ascii_lowercase();
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
        out
    }

    /// Whether `address` is one of the certificate's addresses. The local
    /// part is compared without regard to case, as Exchange does.
    pub fn matches_address(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        self.email_addresses().contains(&address)
    }

    /// The key usage extension: `None` when absent (any usage), an error
    /// when present but unreadable.
    pub fn key_usage(&self) -> Option<Result<KeyUsage, CertError>> {
        self.extension::<KeyUsage>()
    }

    /// The extended key usages, `None` when the extension is absent.
    pub fn extended_key_usage(&self) -> Option<Result<Vec<der::oid::ObjectIdentifier>, CertError>> {
        self.extension::<ExtendedKeyUsage>().map(|r| r.map(|e| e.0))
    }

    /// Whether the extended key usage allows S/MIME: absent, or holding
    /// emailProtection or anyExtendedKeyUsage.
    pub fn allows_email_protection(&self) -> bool {
        match self.extended_key_usage() {
            None => true,
            Some(Ok(ekus)) => ekus.iter().any(|o| *o == EMAIL_PROTECTION || *o == ANY_EKU),
            Some(Err(_)) => false,
        }
    }

    /// Whether basicConstraints marks this a CA.
    pub fn is_ca(&self) -> bool {
        matches!(self.extension::<BasicConstraints>(), Some(Ok(bc)) if bc.ca)
    }

    /// The http(s) URLs of the CRL distribution points (RFC 5280 4.2.1.13).
    pub fn crl_distribution_points(&self) -> Vec<String> {
        let Some(Ok(points)) = self.extension::<CrlDistributionPoints>() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for point in points.0 {
            if let Some(DistributionPointName::FullName(names)) = point.distribution_point {
                for name in names {
                    if let GeneralName::UniformResourceIdentifier(uri) = name {
                        let uri = uri.as_str();
                        if uri.starts_with("http://") || uri.starts_with("https://") {
                            out.push(uri.to_owned());
                        }
                    }
                }
            }
        }
        out
    }

    fn extension<T>(&self) -> Option<Result<T, CertError>>
    where
        T: for<'a> der::Decode<'a> + der::oid::AssociatedOid,
    {
        let extensions = self.parsed.tbs_certificate.extensions.as_ref()?;
        let ext = extensions.iter().find(|e| e.extn_id == T::OID)?;
        Some(T::from_der(ext.extn_value.as_bytes()).map_err(CertError::der))
    }

    fn attribute_strings(&self, oid: der::oid::ObjectIdentifier) -> Vec<String> {
        let mut out = Vec::new();
        for rdn in &self.parsed.tbs_certificate.subject.0 {
            for atv in rdn.0.iter() {
                if atv.oid != oid {
                    continue;
                }
                let value = &atv.value;
                let text = value
                    .decode_as::<der::asn1::Ia5StringRef<'_>>()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|_| {
                        value
                            .decode_as::<der::asn1::Utf8StringRef<'_>>()
                            .map(|s| s.as_str().to_owned())
                    })
                    .or_else(|_| {
                        value
                            .decode_as::<der::asn1::PrintableStringRef<'_>>()
                            .map(|s| s.as_str().to_owned())
                    });
                if let Ok(text) = text {
                    out.push(text);
                }
            }
        }
        out
    }
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
    fn reads_what_the_checks_need() {
        let der = fixture("alice.der");
        let cert = Certificate::from_der(&der).unwrap();
        assert_eq!(cert.der(), der.as_slice());
        assert_eq!(cert.email_addresses(), vec!["alice@example.com"]);
        assert!(cert.matches_address("Alice@Example.com"));
        assert_eq!(cert.common_name().as_deref(), Some("Alice Archer"));
        assert_eq!(cert.key_kind(), KeyKind::Rsa);
        assert!(cert.allows_email_protection());
        assert!(!cert.is_ca());
        assert_eq!(
            cert.crl_distribution_points(),
            vec!["http://crl.eas.test/intermediate.crl"]
        );
        // 2024-01-01 to 2046-12-31 23:59:59.
        assert_eq!(cert.not_before(), 1_704_067_200);
        assert_eq!(cert.not_after(), 2_429_913_599);
        let olivia = Certificate::from_der(&fixture("olivia-dnemail.der")).unwrap();
        assert_eq!(olivia.email_addresses(), vec!["olivia@example.com"]);
        let heidi = Certificate::from_der(&fixture("heidi-noaddr.der")).unwrap();
        assert!(heidi.email_addresses().is_empty());
        let frank = Certificate::from_der(&fixture("frank-wrongeku.der")).unwrap();
        assert!(!frank.allows_email_protection());
        let bob = Certificate::from_der(&fixture("bob.der")).unwrap();
        assert_eq!(bob.key_kind(), KeyKind::Ec);
        let inter = Certificate::from_der(&fixture("intermediate.der")).unwrap();
        assert!(inter.is_ca());
    }

    #[test]
    fn trailing_and_truncated_bytes_are_typed_errors() {
        let mut der = fixture("alice.der");
        der.push(0);
        assert!(matches!(
            Certificate::from_der(&der),
            Err(CertError::Der { .. })
        ));
        der.truncate(100);
        let err = Certificate::from_der(&der).unwrap_err();
        assert!(matches!(err, CertError::Der { .. }), "{err}");
        assert!(Certificate::from_der(&[]).is_err());
    }
}
