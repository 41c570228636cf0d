//! S/MIME and X.509 for eas, with no network I/O.
//!
//! Today: [`classify`], which tells from a message's headers alone whether
//! it is S/MIME and of which kind, so the server can set MessageClass and
//! keep such messages byte for byte. Certificate parsing (DER, PEM, PKCS#7
//! certs-only), mini-certificates, path validation against the configured
//! trust anchors and CRL checks come with the certificates issue (see
//! ../shared/DESIGN.md).

#![forbid(unsafe_code)]

mod classify;

pub use classify::{Classification, classify};
