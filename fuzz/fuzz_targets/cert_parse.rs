//! Certificates as a directory or a client hands them over: any bytes read
//! as a DER certificate, PEM, a PKCS#7 certs-only bundle, Outlook's
//! tag/length/data blob (MS-OXOABK 2.2.4.36), whichever `parse_any` takes
//! them for, and as a CRL. Nothing panics; every accessor of a certificate
//! that parsed answers; a parsed certificate's DER and Outlook blob parse
//! back to it; and path validation against the test PKI's root answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_core::{
    Certificate, Crl, MiniCertificate, Options, Purpose, TrustStore, bundle, validate,
};

const ROOT: &[u8] = include_bytes!("../../fixtures/pki/root.der");
/// 2026-01-01, inside the test PKI's validity.
const NOW: u64 = 1_767_225_600;

fuzz_target!(|data: &[u8]| {
    let crl = Crl::from_bytes(data).ok();
    if let Some(crl) = &crl {
        let _ = (crl.issuer(), crl.this_update(), crl.next_update());
        let again = Crl::from_bytes(crl.der()).expect("a CRL's own DER parses");
        assert_eq!(again.der(), crl.der());
    }
    let mut found = Vec::new();
    for parsed in [
        bundle::parse_any(data),
        bundle::from_pem(data),
        bundle::certs_only(data),
        bundle::outlook_blob(data),
        Certificate::from_der(data).map(|c| vec![c]),
    ] {
        if let Ok(certs) = parsed {
            assert!(!certs.is_empty(), "a success holds a certificate");
            assert!(certs.len() <= bundle::MAX_CERTIFICATES);
            found.extend(certs);
        }
    }
    let Some(leaf) = found.first() else { return };
    for cert in &found {
        exercise(cert);
    }
    let mut store = TrustStore::new();
    store.add_anchor(Certificate::from_der(ROOT).expect("the fixture root parses"));
    let crls: Vec<Crl> = crl.into_iter().collect();
    let addresses = leaf.email_addresses();
    for purpose in [Purpose::Signing, Purpose::Encryption] {
        let options = Options {
            time: NOW,
            purpose,
            address: addresses.first().map(String::as_str),
            extra_intermediates: &found[1..],
            revocation: Some(&crls),
        };
        if let Ok(verified) = validate(leaf, &store, &options) {
            assert_eq!(verified.chain.first(), Some(leaf));
            let _ = verified.crl_distribution_points();
        }
    }
});

fn exercise(cert: &Certificate) {
    let _ = (
        cert.fingerprint(),
        cert.subject(),
        cert.issuer(),
        cert.common_name(),
    );
    let _ = (cert.serial_hex(), cert.not_before(), cert.not_after());
    let _ = (cert.is_self_issued(), cert.key_kind(), cert.is_ca());
    let _ = (cert.key_usage(), cert.extended_key_usage());
    let _ = (
        cert.allows_email_protection(),
        cert.crl_distribution_points(),
    );
    for address in cert.email_addresses() {
        // An address with spaces around it matches nothing; harmless.
        if address.trim() != address {
            continue;
        }
        assert!(cert.matches_address(&address), "{address}");
        assert!(
            cert.matches_address(&address.to_ascii_uppercase()),
            "{address}"
        );
    }
    let _ = MiniCertificate::from_certificate(cert).bytes().len();
    assert_eq!(Certificate::from_der(cert.der()).as_ref(), Ok(cert));
    if let Some(blob) = bundle::outlook_blob_for(cert) {
        assert_eq!(bundle::outlook_blob(&blob), Ok(vec![cert.clone()]));
    }
}
