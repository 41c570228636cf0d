//! Decoding errors say where (a byte offset) and what; they are always the
//! peer's fault, so the server answers them with HTTP 400 or the command's
//! protocol-error status. Encoding errors are ours.

use std::fmt;

use super::Tag;

/// Why a WBXML document was rejected, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WBXML at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset into the input of the byte that could not be accepted.
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input is larger than [`super::Limits::max_bytes`].
    TooLarge { size: usize, limit: usize },
    /// The input ended inside a header, token, string or element.
    Truncated,
    /// The WBXML version byte is not 1.0 to 1.3.
    UnsupportedVersion(u8),
    /// A charset other than UTF-8 (MIBenum 106), which EAS always uses.
    UnsupportedCharset(u32),
    /// A multi-byte integer longer than 32 bits.
    IntegerOverflow,
    /// A global token EAS does not use (entities, string table references,
    /// literals, extensions, processing instructions).
    UnsupportedToken { byte: u8, name: &'static str },
    /// A tag byte with the attribute bit set: EAS has no attributes.
    Attributes { tag: Tag },
    /// An END with no element open.
    UnbalancedEnd,
    /// A string, opaque data or END before the root element.
    ContentOutsideRoot,
    /// Bytes after the root element ended.
    TrailingData,
    /// No root element at all.
    NoRootElement,
    /// An inline string that is not UTF-8.
    InvalidUtf8,
    /// An OPAQUE whose length runs past the end of the input.
    OpaqueTooLong { length: u32 },
    /// Elements nested deeper than [`super::Limits::max_depth`].
    TooDeep { limit: usize },
    /// More elements than [`super::Limits::max_elements`].
    TooManyElements { limit: usize },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, limit } => {
                write!(f, "document of {size} bytes exceeds the limit of {limit}")
            }
            Self::Truncated => f.write_str("input ends too early"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "WBXML version byte 0x{v:02X} is not 1.0 to 1.3 (EAS sends 0x03)"
            ),
            Self::UnsupportedCharset(c) => {
                write!(f, "charset {c} is not UTF-8 (106), the only one EAS uses")
            }
            Self::IntegerOverflow => f.write_str("multi-byte integer does not fit in 32 bits"),
            Self::UnsupportedToken { byte, name } => write!(
                f,
                "global token {name} (0x{byte:02X}) is not used by ActiveSync"
            ),
            Self::Attributes { tag } => write!(
                f,
                "tag {tag} has the attribute bit set; ActiveSync has no attributes"
            ),
            Self::UnbalancedEnd => f.write_str("END with no open element"),
            Self::ContentOutsideRoot => f.write_str("content outside the root element"),
            Self::TrailingData => f.write_str("data after the root element"),
            Self::NoRootElement => f.write_str("no root element"),
            Self::InvalidUtf8 => f.write_str("inline string is not valid UTF-8"),
            Self::OpaqueTooLong { length } => {
                write!(
                    f,
                    "opaque data of {length} bytes runs past the end of input"
                )
            }
            Self::TooDeep { limit } => write!(f, "elements nested deeper than {limit}"),
            Self::TooManyElements { limit } => write!(f, "more than {limit} elements"),
        }
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("writing WBXML: {0}")]
    Io(#[from] std::io::Error),
    /// WBXML inline strings end at a NUL byte, so text cannot contain one.
    #[error("text in {tag} contains a NUL character, which an inline string cannot carry")]
    NulInText { tag: Tag },
    #[error("text or opaque data outside any element")]
    ContentOutsideRoot,
    #[error("a second root element {tag}")]
    SecondRoot { tag: Tag },
    #[error("end of an element that was never started")]
    UnbalancedEnd,
    #[error("{open} element(s) still open at the end of the document")]
    Unclosed { open: usize },
    #[error("no root element was written")]
    NoRootElement,
    #[error("opaque data of {length} bytes is longer than WBXML can express")]
    OpaqueTooLong { length: usize },
}
