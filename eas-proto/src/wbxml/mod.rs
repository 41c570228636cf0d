//! WBXML 1.3 as Exchange ActiveSync uses it (MS-ASWBXML 2.1.1): tags on code
//! pages, inline strings and opaque data, nothing else.
//!
//! This layer knows tokens, not EAS: a [`Tag`] is a page number and a token,
//! and names come from [`crate::codepages`]. Three parts:
//!
//! - [`Reader`], a pull parser over a byte slice that borrows strings and
//!   opaque data from the input and checks every [`Limits`] as it goes;
//! - [`Writer`], a streaming encoder over any `io::Write`, so a large Sync
//!   response is written element by element instead of built as a tree first;
//! - [`Element`] and [`Node`], the document model for everything smaller.

mod document;
mod error;
mod limits;
mod reader;
mod token;
mod writer;

pub use document::{Element, NodeRef};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use limits::Limits;
pub use reader::{Event, Header, Reader};
pub use writer::Writer;

use std::fmt;

/// An element tag: a code page and a token within it.
///
/// Tokens are the low six bits of a WBXML tag byte, so 0x05 to 0x3F (0x00 to
/// 0x04 are global tokens). Every value in that range is representable,
/// known to the code page table or not, so an unknown tag survives a round
/// trip through the codec.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    page: u8,
    token: u8,
}

impl Tag {
    pub const MIN_TOKEN: u8 = 0x05;
    pub const MAX_TOKEN: u8 = 0x3F;

    /// For constants: an out-of-range token fails at compile time there.
    pub const fn new(page: u8, token: u8) -> Tag {
        assert!(token >= Self::MIN_TOKEN && token <= Self::MAX_TOKEN);
        Tag { page, token }
    }

    /// For values that come from input.
    pub const fn try_new(page: u8, token: u8) -> Option<Tag> {
        if token >= Self::MIN_TOKEN && token <= Self::MAX_TOKEN {
            Some(Tag { page, token })
        } else {
            None
        }
    }

    pub const fn page(self) -> u8 {
        self.page
    }

    pub const fn token(self) -> u8 {
        self.token
    }

    /// The spec's name for this tag, if the code page table knows it.
    pub fn name(self) -> Option<&'static str> {
        crate::codepages::tag_def(self).map(|d| d.name)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (crate::codepages::page(self.page), self.name()) {
            (Some(page), Some(name)) => write!(f, "{}:{}", page.name, name),
            (Some(page), None) => write!(f, "{}:0x{:02X}", page.name, self.token),
            _ => write!(f, "Page{}:0x{:02X}", self.page, self.token),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
