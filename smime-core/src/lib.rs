//! S/MIME and X.509 for eas, with no network I/O.
//!
//! This crate is where certificate parsing (DER, PEM, PKCS#7 certs-only),
//! mini-certificates, path validation against the configured trust anchors,
//! CRL checks and S/MIME classification of MIME messages will live (see the
//! certificates issue and ../shared/DESIGN.md). It holds nothing yet: the
//! workspace is laid out first so that the dependency direction
//! `eas-server -> smime-core` is fixed from the start.

#![forbid(unsafe_code)]
