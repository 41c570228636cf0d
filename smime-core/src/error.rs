//! Why bytes are not a certificate, a bundle or a CRL. Always the fault of
//! whoever handed them over; never a panic.

/// A decoding failure, with the byte offset where DER decoding stopped
/// when the DER decoder knows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("not valid DER{}: {message}", offset.map(|o| format!(" at byte {o}")).unwrap_or_default())]
    Der {
        offset: Option<usize>,
        message: String,
    },
    #[error("a PEM block is damaged: {0}")]
    Pem(String),
    #[error("the PKCS#7 content type is {0}, not signed-data")]
    NotSignedData(String),
    #[error("the Outlook certificate blob is damaged at byte {offset}: {message}")]
    OutlookBlob {
        offset: usize,
        message: &'static str,
    },
    #[error("no certificate found in the data")]
    Empty,
    #[error("more than {limit} certificates in one bundle")]
    TooMany { limit: usize },
}

impl CertError {
    pub(crate) fn der(e: der::Error) -> CertError {
        CertError::Der {
            offset: e
                .position()
                .and_then(|p| usize::try_from(u32::from(p)).ok()),
            message: e.kind().to_string(),
        }
    }
}
