//! Certificate revocation lists as bytes someone fetched: parsed enough to
//! know whose list it is and until when it holds. Fetching is the
//! caller's business; this crate does no network I/O.

use der::Decode as _;

use crate::error::CertError;

/// One CRL (RFC 5280 5), DER.
#[derive(Clone)]
pub struct Crl {
    der: Vec<u8>,
    issuer: String,
    this_update: u64,
    next_update: Option<u64>,
    pub(crate) owned_list: std::sync::Arc<webpki::CertRevocationList<'static>>,
}

impl std::fmt::Debug for Crl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Crl({}, next update {:?})",
            self.issuer, self.next_update
        )
    }
}

impl Crl {
    /// Parses a DER CRL, or a PEM one (`X509 CRL`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Crl, CertError> {
        let der = pem_crl(bytes).unwrap_or_else(|| bytes.to_vec());
        let list = x509_cert::crl::CertificateList::from_der(&der).map_err(CertError::der)?;
        let owned =
            webpki::OwnedCertRevocationList::from_der(&der).map_err(|e| CertError::Der {
                offset: None,
                message: format!("{e:?}"),
            })?;
        Ok(Crl {
            issuer: list.tbs_cert_list.issuer.to_string(),
            this_update: list.tbs_cert_list.this_update.to_unix_duration().as_secs(),
            next_update: list
                .tbs_cert_list
                .next_update
                .map(|t| t.to_unix_duration().as_secs()),
            der,
            owned_list: std::sync::Arc::new(webpki::CertRevocationList::Owned(owned)),
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn this_update(&self) -> u64 {
        self.this_update
    }

    /// When a newer list is due (seconds since the epoch); until then a
    /// cached copy is as good as a fresh one.
    pub fn next_update(&self) -> Option<u64> {
        self.next_update
    }
}

fn pem_crl(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN X509 CRL-----")? + "-----BEGIN X509 CRL-----".len();
    let end = text.find("-----END X509 CRL-----")?;
    let body: String = text
        .get(start..end)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fixture_crls() {
        let der = std::fs::read(format!(
            "{}/../fixtures/pki/intermediate.crl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let crl = Crl::from_bytes(&der).unwrap();
        assert!(
            crl.issuer().contains("eas Test Intermediate CA"),
            "{}",
            crl.issuer()
        );
        // 2049-12-31 23:59:59
        assert_eq!(crl.next_update(), Some(2_524_607_999));
        assert!(Crl::from_bytes(&der[..der.len() / 2]).is_err());
        assert!(Crl::from_bytes(b"").is_err());
    }
}
