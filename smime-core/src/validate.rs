//! Path validation in the spirit of RFC 5280 6, for S/MIME (RFC 8550):
//! a chain from the certificate to one of the trust anchors, built and
//! checked by rustls-webpki (signatures RSA PKCS#1 v1.5 and PSS, ECDSA
//! P-256 and P-384; validity periods; basic constraints and path length;
//! name constraints; the emailProtection extended key usage on every
//! certificate that has one; revocation from the CRLs given), plus what
//! webpki leaves to us: the key usage the purpose needs, and the e-mail
//! address. Every failure is a [`Failure`] that says which check failed.

use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{
    EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth, RevocationOptionsBuilder,
    UnknownStatusPolicy,
};

use crate::certificate::{Certificate, KeyKind};
use crate::crl::Crl;

/// The DER content of id-kp-emailProtection, as webpki wants it.
const EMAIL_PROTECTION_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];

/// The signature algorithms accepted in a chain.
static ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_3072_8192_SHA384,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
];

/// The trust anchors (roots) and the intermediates known to the server:
/// Exchange's "virtual certificate collection".
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    intermediates: Vec<Certificate>,
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    pub fn add_anchor(&mut self, cert: Certificate) {
        if !self.anchors.contains(&cert) {
            self.anchors.push(cert);
        }
    }

    pub fn add_intermediate(&mut self, cert: Certificate) {
        if !self.intermediates.contains(&cert) {
            self.intermediates.push(cert);
        }
    }

    /// A self-issued CA certificate becomes an anchor, any other CA an
    /// intermediate; what is not a CA is refused (false).
    pub fn add(&mut self, cert: Certificate) -> bool {
        if !cert.is_ca() {
            return false;
        }
        if cert.is_self_issued() {
            self.add_anchor(cert);
        } else {
            self.add_intermediate(cert);
        }
        true
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    pub fn intermediates(&self) -> &[Certificate] {
        &self.intermediates
    }
}

/// What the certificate is to be used for: the key usage it must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Verifying a signed message: digitalSignature or nonRepudiation.
    Signing,
    /// Encrypting to the holder: keyEncipherment (RSA) or keyAgreement (EC).
    Encryption,
}

/// How to validate.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The time to validate at, in seconds since the Unix epoch.
    pub time: u64,
    pub purpose: Purpose,
    /// The address the certificate must be for, when known.
    pub address: Option<&'a str>,
    /// Intermediates the peer sent along (ValidateCert's CertificateChain).
    pub extra_intermediates: &'a [Certificate],
    /// The CRLs to check every certificate of the chain against, or
    /// `None` not to check revocation. A certificate no CRL speaks for is
    /// [`Failure::RevocationUnknown`].
    pub revocation: Option<&'a [Crl]>,
}

/// Why a certificate is not valid. Each names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    #[error("the certificate is malformed: {0}")]
    Malformed(String),
    #[error("the certificate expired at {not_after} (unix time)")]
    Expired { not_after: u64 },
    #[error("the certificate is not valid before {not_before} (unix time)")]
    NotYetValid { not_before: u64 },
    #[error("a certificate of the chain is outside its validity period")]
    ChainTime,
    #[error("no chain to a trusted root")]
    UntrustedRoot,
    #[error("a signature in the chain does not verify")]
    BadSignature,
    #[error("a signature algorithm of the chain is not supported")]
    UnsupportedAlgorithm,
    #[error("wrong usage: {0}")]
    WrongUsage(String),
    #[error("a CA certificate cannot be a user's certificate")]
    CaAsEndEntity,
    #[error("a certificate of the chain is used incorrectly: {0}")]
    ChainMisuse(String),
    #[error("the certificate names no e-mail address")]
    NoAddress,
    #[error("the certificate is for {found}, not {wanted}")]
    AddressMismatch { wanted: String, found: String },
    #[error("the certificate is revoked")]
    Revoked,
    #[error("a certificate of the chain is revoked")]
    ChainRevoked,
    #[error("the revocation status cannot be determined: {0}")]
    RevocationUnknown(String),
}

/// A valid certificate and the chain that proved it: the certificate,
/// then the intermediates, issuer by issuer (the anchor not included).
#[derive(Debug, Clone)]
pub struct Verified {
    pub chain: Vec<Certificate>,
}

impl Verified {
    /// Where the CRLs of the certificate and its intermediates are.
    pub fn crl_distribution_points(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for cert in &self.chain {
            for url in cert.crl_distribution_points() {
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
        out
    }
}

/// Validates `cert` for `options.purpose` against `store`.
pub fn validate(
    cert: &Certificate,
    store: &TrustStore,
    options: &Options<'_>,
) -> Result<Verified, Failure> {
    if options.time < cert.not_before() {
        return Err(Failure::NotYetValid {
            not_before: cert.not_before(),
        });
    }
    if options.time > cert.not_after() {
        return Err(Failure::Expired {
            not_after: cert.not_after(),
        });
    }
    if cert.is_ca() {
        return Err(Failure::CaAsEndEntity);
    }
    let addresses = cert.email_addresses();
    if addresses.is_empty() {
        return Err(Failure::NoAddress);
    }
    if let Some(wanted) = options.address {
        if !cert.matches_address(wanted) {
            return Err(Failure::AddressMismatch {
                wanted: wanted.to_ascii_lowercase(),
                found: addresses.join(", "),
            });
        }
    }
    if !cert.allows_email_protection() {
        return Err(Failure::WrongUsage(
            "the extended key usage does not include emailProtection".into(),
        ));
    }
    check_key_usage(cert, options.purpose)?;

    let anchor_ders: Vec<CertificateDer<'_>> = store
        .anchors
        .iter()
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let anchors: Vec<_> = anchor_ders
        .iter()
        .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
        .collect();
    let intermediates: Vec<CertificateDer<'_>> = store
        .intermediates
        .iter()
        .chain(options.extra_intermediates)
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let ee_der = CertificateDer::from(cert.der());
    let ee = EndEntityCert::try_from(&ee_der).map_err(|e| Failure::Malformed(format!("{e:?}")))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(options.time));
    let eku = KeyUsage::required_if_present(EMAIL_PROTECTION_DER);

    let path = ee
        .verify_for_usage(ALGORITHMS, &anchors, &intermediates, time, eku, None, None)
        .map_err(map_error)?;
    let mut chain = vec![cert.clone()];
    for inter in path.intermediate_certificates() {
        if let Ok(c) = Certificate::from_der(inter.der().as_ref()) {
            chain.push(c);
        }
    }
    let verified = Verified { chain };

    let Some(crls) = options.revocation else {
        return Ok(verified);
    };
    let lists: Vec<&webpki::CertRevocationList<'_>> = crls
        .iter()
        .map(|c| {
            let list: &webpki::CertRevocationList<'_> = &c.owned_list;
            list
        })
        .collect();
    let revocation = |depth, policy| {
        RevocationOptionsBuilder::new(&lists).map(|b| {
            b.with_depth(depth)
                .with_status_policy(policy)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        })
    };
    let Ok(full) = revocation(RevocationCheckDepth::Chain, UnknownStatusPolicy::Deny) else {
        return Err(Failure::RevocationUnknown("no CRL could be had".into()));
    };
    match ee.verify_for_usage(
        ALGORITHMS,
        &anchors,
        &intermediates,
        time,
        eku,
        Some(full),
        None,
    ) {
        Ok(_) => Ok(verified),
        Err(webpki::Error::CertRevoked) => {
            // Which certificate? Ask again about the end entity alone.
            let ee_only = revocation(RevocationCheckDepth::EndEntity, UnknownStatusPolicy::Allow)
                .map_err(|_| Failure::Revoked)?;
            match ee.verify_for_usage(
                ALGORITHMS,
                &anchors,
                &intermediates,
                time,
                eku,
                Some(ee_only),
                None,
            ) {
                Err(webpki::Error::CertRevoked) => Err(Failure::Revoked),
                _ => Err(Failure::ChainRevoked),
            }
        }
        Err(e) => Err(map_error(e)),
    }
}

fn check_key_usage(cert: &Certificate, purpose: Purpose) -> Result<(), Failure> {
    let ku = match cert.key_usage() {
        None => return Ok(()),
        Some(Err(e)) => return Err(Failure::Malformed(format!("key usage: {e}"))),
        Some(Ok(ku)) => ku,
    };
    let ok = match purpose {
        Purpose::Signing => ku.digital_signature() || ku.non_repudiation(),
        Purpose::Encryption => match cert.key_kind() {
            KeyKind::Rsa => ku.key_encipherment(),
            KeyKind::Ec => ku.key_agreement(),
            KeyKind::Other => ku.key_encipherment() || ku.key_agreement(),
        },
    };
    if ok {
        Ok(())
    } else {
        Err(Failure::WrongUsage(match purpose {
            Purpose::Signing => "the key usage allows no signatures".into(),
            Purpose::Encryption => "the key usage allows no encryption to this key".into(),
        }))
    }
}

#[allow(deprecated)]
fn map_error(e: webpki::Error) -> Failure {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => Failure::UntrustedRoot,
        E::InvalidSignatureForPublicKey => Failure::BadSignature,
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | E::SignatureAlgorithmMismatch => Failure::UnsupportedAlgorithm,
        E::CertExpired { .. } | E::CertNotValidYet { .. } | E::InvalidCertValidity => {
            Failure::ChainTime
        }
        E::CaUsedAsEndEntity => Failure::CaAsEndEntity,
        E::EndEntityUsedAsCa => {
            Failure::ChainMisuse("an end-entity certificate issued another".into())
        }
        E::PathLenConstraintViolated => {
            Failure::ChainMisuse("a path length constraint is exceeded".into())
        }
        E::NameConstraintViolation => Failure::ChainMisuse("a name constraint is violated".into()),
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            Failure::WrongUsage(
                "an issuer's extended key usage does not include emailProtection".into(),
            )
        }
        E::CertRevoked => Failure::Revoked,
        E::UnknownRevocationStatus => {
            Failure::RevocationUnknown("no CRL covers a certificate of the chain".into())
        }
        E::CrlExpired { .. } => Failure::RevocationUnknown("a CRL is past its nextUpdate".into()),
        E::InvalidCrlSignatureForPublicKey
        | E::IssuerNotCrlSigner
        | E::UnsupportedCrlSignatureAlgorithm
        | E::UnsupportedCrlSignatureAlgorithmContext(_)
        | E::UnsupportedCrlSignatureAlgorithmForPublicKey
        | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
        | E::UnsupportedIndirectCrl
        | E::UnsupportedDeltaCrl
        | E::UnsupportedCrlIssuingDistributionPoint
        | E::UnsupportedRevocationReasonsPartitioning
        | E::InvalidCrlNumber
        | E::UnsupportedCrlVersion => {
            Failure::RevocationUnknown(format!("a CRL is unusable: {e:?}"))
        }
        E::MaximumPathBuildCallsExceeded
        | E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumNameConstraintComparisonsExceeded => {
            Failure::ChainMisuse(format!("the chain is too complex: {e:?}"))
        }
        other => Failure::Malformed(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2030-03-17: inside every valid certificate's period, far from edges.
    const NOW: u64 = 1_900_000_000;

    fn cert(name: &str) -> Certificate {
        Certificate::from_der(&fixture(name)).unwrap()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../fixtures/pki/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn store() -> TrustStore {
        let mut store = TrustStore::new();
        assert!(store.add(cert("root.der")));
        for c in crate::bundle::parse_any(&fixture("intermediates.pem")).unwrap() {
            assert!(store.add(c));
        }
        store
    }

    fn crls() -> Vec<Crl> {
        [
            "root.crl",
            "intermediate.crl",
            "ec-intermediate.crl",
            "revoked-intermediate.crl",
        ]
        .iter()
        .map(|n| Crl::from_bytes(&fixture(n)).unwrap())
        .collect()
    }

    fn check(name: &str, purpose: Purpose, crls: Option<&[Crl]>) -> Result<Verified, Failure> {
        let der = std::fs::read(format!(
            "{}/../fixtures/pki/{name}.der",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let c = match Certificate::from_der(&der) {
            Ok(c) => c,
            Err(e) => return Err(Failure::Malformed(e.to_string())),
        };
        validate(
            &c,
            &store(),
            &Options {
                time: NOW,
                purpose,
                address: None,
                extra_intermediates: &[],
                revocation: crls,
            },
        )
    }

    #[test]
    fn every_certificate_of_the_test_pki() {
        let crls = crls();
        let with = Some(crls.as_slice());
        let s = Purpose::Signing;
        let e = Purpose::Encryption;
        assert!(check("alice", s, with).is_ok());
        assert!(check("alice", e, with).is_ok());
        assert!(check("alice-pss", e, with).is_ok());
        assert!(check("bob", e, with).is_ok());
        assert!(check("olivia-dnemail", e, with).is_ok());
        assert!(check("grace-wrongaddr", s, with).is_ok());
        assert!(matches!(
            check("carol-expired", s, None),
            Err(Failure::Expired { .. })
        ));
        assert!(matches!(
            check("dave-notyet", s, None),
            Err(Failure::NotYetValid { .. })
        ));
        assert!(check("erin-revoked", s, None).is_ok());
        assert_eq!(
            check("erin-revoked", s, with).unwrap_err(),
            Failure::Revoked
        );
        assert!(matches!(
            check("frank-wrongeku", s, None),
            Err(Failure::WrongUsage(_))
        ));
        assert_eq!(
            check("heidi-noaddr", s, None).unwrap_err(),
            Failure::NoAddress
        );
        assert_eq!(
            check("ivan-untrusted", s, None).unwrap_err(),
            Failure::UntrustedRoot
        );
        assert_eq!(
            check("judy-badsig", s, None).unwrap_err(),
            Failure::BadSignature
        );
        assert!(check("mallory-revokedca", s, None).is_ok());
        assert_eq!(
            check("mallory-revokedca", s, with).unwrap_err(),
            Failure::ChainRevoked
        );
        assert!(check("nina-signonly", s, with).is_ok());
        assert!(matches!(
            check("nina-signonly", e, with),
            Err(Failure::WrongUsage(_))
        ));
        assert_eq!(
            check("intermediate", s, None).unwrap_err(),
            Failure::CaAsEndEntity
        );
        // kevin's CRL lives on a server that cannot be reached: the caller
        // has only the root's list, which does not cover his certificate.
        assert!(matches!(
            check("kevin-crldown", s, Some(&crls[..1])),
            Err(Failure::RevocationUnknown(_))
        ));
        assert!(matches!(
            check("alice", s, Some(&[])),
            Err(Failure::RevocationUnknown(_))
        ));
    }

    #[test]
    fn the_address_must_match_and_the_chain_is_reported() {
        let alice = cert("alice.der");
        let mut opts = Options {
            time: NOW,
            purpose: Purpose::Encryption,
            address: Some("ALICE@example.com"),
            extra_intermediates: &[],
            revocation: None,
        };
        let verified = validate(&alice, &store(), &opts).unwrap();
        assert_eq!(verified.chain.len(), 2);
        assert_eq!(
            verified.crl_distribution_points(),
            vec![
                "http://crl.eas.test/intermediate.crl",
                "http://crl.eas.test/root.crl"
            ]
        );
        opts.address = Some("bob@example.com");
        assert!(matches!(
            validate(&alice, &store(), &opts),
            Err(Failure::AddressMismatch { .. })
        ));
    }

    #[test]
    fn the_peer_may_bring_the_intermediate() {
        let mut only_root = TrustStore::new();
        assert!(only_root.add(cert("root.der")));
        let alice = cert("alice.der");
        let mut opts = Options {
            time: NOW,
            purpose: Purpose::Signing,
            address: None,
            extra_intermediates: &[],
            revocation: None,
        };
        assert_eq!(
            validate(&alice, &only_root, &opts).unwrap_err(),
            Failure::UntrustedRoot
        );
        let inter = [cert("intermediate.der")];
        opts.extra_intermediates = &inter;
        assert!(validate(&alice, &only_root, &opts).is_ok());
    }
}
