//! The MiniCertificate of ResolveRecipients with CertificateRetrieval 3
//! (MS-ASCMD 2.2.3.112).
//!
//! Microsoft publishes no layout for it: MS-ASCMD says only that it is a
//! "mini-certificate BLOB", base64-encoded. Until a real layout is known,
//! ours is the end-entity certificate's DER itself, which every client can
//! parse and encrypt to. The type is opaque and built in one function, so
//! a real layout can replace this one without touching its callers.

use crate::certificate::Certificate;

/// An opaque mini-certificate; [`MiniCertificate::bytes`] is what goes,
/// base64-encoded, into the MiniCertificate element.
#[derive(Clone, PartialEq, Eq)]
pub struct MiniCertificate(Vec<u8>);

impl MiniCertificate {
    /// The one place a mini-certificate is made (see the module comment).
    pub fn from_certificate(cert: &Certificate) -> MiniCertificate {
        MiniCertificate(cert.der().to_vec())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for MiniCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MiniCertificate({} bytes)", self.0.len())
    }
}
