//! The Exchange ActiveSync protocol as data, with no I/O: the WBXML codec
//! ([`wbxml`]), the EAS code pages ([`codepages`]), the XML text form
//! ([`xml`]) and protocol versions ([`version`]).
//!
//! The server, the tests and the command-line tools all speak EAS through this
//! crate; it never imports an async runtime, a socket or a store.

#![forbid(unsafe_code)]

pub mod autodiscover;
pub mod codepages;
pub mod command;
pub mod http;
mod number;
pub mod status;
pub mod version;
pub mod wbxml;
pub mod xml;

pub use version::ProtocolVersion;
