//! S/MIME and X.509 for eas, with no network I/O.
//!
//! - [`classify`]: which kind of S/MIME message a message is, from its
//!   headers alone, so the server can set MessageClass and keep such
//!   messages byte for byte.
//! - [`Certificate`] and [`bundle`]: certificates from DER, PEM, PKCS#7
//!   certs-only SignedData and Outlook's tag/length/data blob, the forms
//!   Active Directory's userSMIMECertificate and userCertificate hold.
//! - [`MiniCertificate`]: what ResolveRecipients returns for
//!   CertificateRetrieval 3 (an opaque stand-in; see its module).
//! - [`validate`]: path validation against trust anchors and
//!   intermediates, with the emailProtection usage, the address, and
//!   revocation from the [`Crl`]s the caller fetched.

#![forbid(unsafe_code)]

pub mod bundle;
mod certificate;
mod classify;
mod crl;
mod error;
mod minicert;
pub mod validate;

pub use certificate::{Certificate, EMAIL_PROTECTION, KeyKind};
pub use classify::{Classification, classify};
pub use crl::Crl;
pub use error::CertError;
pub use minicert::MiniCertificate;
pub use validate::{Failure, Options, Purpose, TrustStore, Verified, validate};
