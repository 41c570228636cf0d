//! A pull parser over a WBXML byte slice.
//!
//! Strings and opaque data are borrowed from the input, so decoding allocates
//! nothing but the element stack, whose depth is bounded by [`Limits`]. Every
//! access to the input goes through `get`, never indexing: no byte sequence
//! can make it panic.

use super::error::{DecodeError, DecodeErrorKind};
use super::token::{self, CHARSET_UTF8};
use super::{Limits, Tag};

/// The document header (WBXML 1.3 section 5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    /// 1 ("unknown") from every EAS client; 0 means the id is a string in the
    /// string table, as libwbxml2 writes it.
    pub public_id: u32,
    pub charset: u32,
}

/// One step through a document. Every `Start` is matched by an `End`, also
/// for elements written without content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    Start(Tag),
    End(Tag),
    Text(&'a str),
    Opaque(&'a [u8]),
}

/// Reads events from a WBXML document, checking its structure and limits.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    page: u8,
    stack: Vec<Tag>,
    /// An element without content whose `End` is still to be reported.
    pending_end: Option<Tag>,
    elements: usize,
    root_done: bool,
    limits: Limits,
    header: Header,
}

impl<'a> Reader<'a> {
    /// Checks the size limit and reads the header.
    pub fn new(input: &'a [u8], limits: Limits) -> Result<Self, DecodeError> {
        if input.len() > limits.max_bytes {
            return Err(DecodeError {
                offset: limits.max_bytes,
                kind: DecodeErrorKind::TooLarge {
                    size: input.len(),
                    limit: limits.max_bytes,
                },
            });
        }
        let mut reader = Reader {
            input,
            pos: 0,
            page: 0,
            stack: Vec::new(),
            pending_end: None,
            elements: 0,
            root_done: false,
            limits,
            header: Header {
                version: 0,
                public_id: 0,
                charset: 0,
            },
        };
        reader.read_header()?;
        Ok(reader)
    }

    pub fn header(&self) -> Header {
        self.header
    }

    /// The offset of the next byte to be read.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn error(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = self
            .input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.error(self.pos, DecodeErrorKind::Truncated))?;
        self.pos += 1;
        Ok(b)
    }

    /// A multi-byte unsigned integer (WBXML 1.3 section 5.1): seven bits a
    /// byte, high bit set on all but the last, at most 32 bits in all.
    fn mb_u_int32(&mut self) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut value: u32 = 0;
        for _ in 0..5 {
            let b = self.byte()?;
            if value > (u32::MAX >> 7) {
                return Err(self.error(start, DecodeErrorKind::IntegerOverflow));
            }
            value = (value << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error(start, DecodeErrorKind::IntegerOverflow))
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let slice = self.input.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn read_header(&mut self) -> Result<(), DecodeError> {
        let version = self.byte()?;
        // 1.0's header has no charset field; EAS has always sent 1.3.
        if !(0x01..=0x03).contains(&version) {
            return Err(self.error(0, DecodeErrorKind::UnsupportedVersion(version)));
        }
        let public_id = self.mb_u_int32()?;
        if public_id == 0 {
            // The public id is a string-table index; we have no use for it.
            self.mb_u_int32()?;
        }
        let charset_at = self.pos;
        let charset = self.mb_u_int32()?;
        if charset != CHARSET_UTF8 {
            return Err(self.error(charset_at, DecodeErrorKind::UnsupportedCharset(charset)));
        }
        // MS-ASWBXML 2.1.1: EAS does not use the string table. A non-empty
        // one (libwbxml2 puts its public id there) is skipped, and any STR_T
        // that would reference it is refused below.
        let table_at = self.pos;
        let table_len = self.mb_u_int32()?;
        let table_len = usize::try_from(table_len)
            .map_err(|_| self.error(table_at, DecodeErrorKind::Truncated))?;
        if self.take(table_len).is_none() {
            return Err(self.error(self.input.len(), DecodeErrorKind::Truncated));
        }
        self.header = Header {
            version,
            public_id,
            charset,
        };
        Ok(())
    }

    /// The next event, or `None` once the root element has ended and the
    /// input is exhausted.
    pub fn next_event(&mut self) -> Result<Option<Event<'a>>, DecodeError> {
        if let Some(tag) = self.pending_end.take() {
            if self.stack.is_empty() {
                self.root_done = true;
            }
            return Ok(Some(Event::End(tag)));
        }
        loop {
            let at = self.pos;
            let Some(&byte) = self.input.get(at) else {
                return if self.root_done {
                    Ok(None)
                } else if self.elements == 0 {
                    Err(self.error(at, DecodeErrorKind::NoRootElement))
                } else {
                    Err(self.error(at, DecodeErrorKind::Truncated))
                };
            };
            if self.root_done {
                return Err(self.error(at, DecodeErrorKind::TrailingData));
            }
            self.pos += 1;
            match byte {
                token::SWITCH_PAGE => {
                    // Accepted anywhere before the root ends: some encoders
                    // switch pages ahead of an END or a string, harmlessly.
                    self.page = self.byte()?;
                }
                token::END => {
                    let tag = self
                        .stack
                        .pop()
                        .ok_or_else(|| self.error(at, DecodeErrorKind::UnbalancedEnd))?;
                    if self.stack.is_empty() {
                        self.root_done = true;
                    }
                    return Ok(Some(Event::End(tag)));
                }
                token::STR_I => {
                    if self.stack.is_empty() {
                        return Err(self.error(at, DecodeErrorKind::ContentOutsideRoot));
                    }
                    let rest = self.input.get(self.pos..).unwrap_or_default();
                    let len = memchr::memchr(0, rest)
                        .ok_or_else(|| self.error(self.input.len(), DecodeErrorKind::Truncated))?;
                    let bytes = rest.get(..len).unwrap_or_default();
                    let text = std::str::from_utf8(bytes).map_err(|e| {
                        self.error(self.pos + e.valid_up_to(), DecodeErrorKind::InvalidUtf8)
                    })?;
                    self.pos += len + 1;
                    return Ok(Some(Event::Text(text)));
                }
                token::OPAQUE => {
                    if self.stack.is_empty() {
                        return Err(self.error(at, DecodeErrorKind::ContentOutsideRoot));
                    }
                    let length = self.mb_u_int32()?;
                    let data = usize::try_from(length)
                        .ok()
                        .and_then(|len| self.take(len))
                        .ok_or_else(|| self.error(at, DecodeErrorKind::OpaqueTooLong { length }))?;
                    return Ok(Some(Event::Opaque(data)));
                }
                _ => {
                    if let Some(name) = token::global_name(byte) {
                        return Err(
                            self.error(at, DecodeErrorKind::UnsupportedToken { byte, name })
                        );
                    }
                    // Every byte that is not a global token has a token of
                    // 0x05 or more in its low six bits.
                    let tag =
                        Tag::try_new(self.page, byte & token::TOKEN_MASK).ok_or_else(|| {
                            self.error(at, DecodeErrorKind::UnsupportedToken { byte, name: "?" })
                        })?;
                    if byte & token::HAS_ATTRIBUTES != 0 {
                        return Err(self.error(at, DecodeErrorKind::Attributes { tag }));
                    }
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(self.error(
                            at,
                            DecodeErrorKind::TooDeep {
                                limit: self.limits.max_depth,
                            },
                        ));
                    }
                    self.elements += 1;
                    if self.elements > self.limits.max_elements {
                        return Err(self.error(
                            at,
                            DecodeErrorKind::TooManyElements {
                                limit: self.limits.max_elements,
                            },
                        ));
                    }
                    if byte & token::HAS_CONTENT != 0 {
                        self.stack.push(tag);
                    } else {
                        self.pending_end = Some(tag);
                    }
                    return Ok(Some(Event::Start(tag)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(input: &[u8]) -> Result<Vec<Event<'_>>, DecodeError> {
        let mut r = Reader::new(input, Limits::default())?;
        let mut out = Vec::new();
        while let Some(e) = r.next_event()? {
            out.push(e);
        }
        Ok(out)
    }

    fn kind(input: &[u8]) -> (usize, DecodeErrorKind) {
        match events(input) {
            Err(e) => (e.offset, e.kind),
            Ok(ev) => panic!("expected an error, got {ev:?}"),
        }
    }

    #[test]
    fn reads_tags_strings_opaque_and_page_switches() {
        // <FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>
        // with an empty AirSync:Sync tag and 3 opaque bytes thrown in.
        let input = [
            0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, b'0', 0x00, 0x01, 0x00, 0x00,
            0x05, 0x4B, 0xC3, 0x03, 1, 2, 3, 0x01, 0x01,
        ];
        let ev = events(&input).unwrap();
        let fs = Tag::new(7, 0x16);
        let sk = Tag::new(7, 0x12);
        let sync = Tag::new(0, 0x05);
        let k = Tag::new(0, 0x0B);
        assert_eq!(
            ev,
            vec![
                Event::Start(fs),
                Event::Start(sk),
                Event::Text("0"),
                Event::End(sk),
                Event::Start(sync),
                Event::End(sync),
                Event::Start(k),
                Event::Opaque(&[1, 2, 3]),
                Event::End(k),
                Event::End(fs),
            ]
        );
    }

    #[test]
    fn accepts_a_string_table_and_public_id_index() {
        // libwbxml2 writes public id 0 with the DTD name in the string table.
        let input = [0x03, 0x00, 0x00, 0x6A, 0x03, b'a', b'b', 0x00, 0x05];
        let mut r = Reader::new(&input, Limits::default()).unwrap();
        assert_eq!(r.header().public_id, 0);
        assert_eq!(r.next_event().unwrap(), Some(Event::Start(Tag::new(0, 5))));
    }

    #[test]
    fn mb_u_int32_limits() {
        // 0xFFFFFFFF is 8F FF FF FF 7F; one more byte or a larger first byte overflows.
        let ok = [
            0x03, 0x01, 0x6A, 0x00, 0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F,
        ];
        assert_eq!(
            kind(&ok).1,
            DecodeErrorKind::OpaqueTooLong { length: u32::MAX }
        );
        let over = [
            0x03, 0x01, 0x6A, 0x00, 0x45, 0xC3, 0x90, 0x80, 0x80, 0x80, 0x00,
        ];
        assert_eq!(kind(&over), (6, DecodeErrorKind::IntegerOverflow));
        let long = [0x03, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(kind(&long), (1, DecodeErrorKind::IntegerOverflow));
    }

    #[test]
    fn rejects_with_offsets() {
        let h = [0x03, 0x01, 0x6A, 0x00];
        let with = |body: &[u8]| [&h[..], body].concat();
        assert_eq!(kind(&[]), (0, DecodeErrorKind::Truncated));
        assert_eq!(
            kind(&[0x04, 1, 0x6A, 0]),
            (0, DecodeErrorKind::UnsupportedVersion(4))
        );
        assert_eq!(
            kind(&[0x03, 1, 0x04, 0]),
            (2, DecodeErrorKind::UnsupportedCharset(4))
        );
        assert_eq!(
            kind(&[0x03, 1, 0x6A, 0x05, b'a']),
            (5, DecodeErrorKind::Truncated)
        );
        assert_eq!(kind(&h), (4, DecodeErrorKind::NoRootElement));
        assert_eq!(kind(&with(&[0x45])), (5, DecodeErrorKind::Truncated));
        assert_eq!(
            kind(&with(&[0x45, 0x03, b'a'])),
            (7, DecodeErrorKind::Truncated)
        );
        assert_eq!(
            kind(&with(&[0x45, 0x03, 0xFF, 0x00, 0x01])),
            (6, DecodeErrorKind::InvalidUtf8)
        );
        assert_eq!(
            kind(&with(&[0x05, 0x05])),
            (5, DecodeErrorKind::TrailingData)
        );
        assert_eq!(kind(&with(&[0x01])), (4, DecodeErrorKind::UnbalancedEnd));
        assert_eq!(
            kind(&with(&[0x03, b'a', 0])),
            (4, DecodeErrorKind::ContentOutsideRoot)
        );
        assert_eq!(
            kind(&with(&[0x45, 0xC3, 0x05, 1, 0x01])),
            (5, DecodeErrorKind::OpaqueTooLong { length: 5 })
        );
        assert_eq!(
            kind(&with(&[0x45, 0x83, 0x00, 0x01])),
            (
                5,
                DecodeErrorKind::UnsupportedToken {
                    byte: 0x83,
                    name: "STR_T"
                }
            )
        );
        assert_eq!(
            kind(&with(&[0xC5, 0x01, 0x01])),
            (
                4,
                DecodeErrorKind::Attributes {
                    tag: Tag::new(0, 5)
                }
            )
        );
        assert_eq!(
            kind(&with(&[0x02])),
            (
                4,
                DecodeErrorKind::UnsupportedToken {
                    byte: 0x02,
                    name: "ENTITY"
                }
            )
        );
    }

    #[test]
    fn limits_are_enforced() {
        let input = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x45, 0x45, 0x01, 0x01, 0x01];
        let deep = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        let mut r = Reader::new(&input, deep).unwrap();
        let err = loop {
            match r.next_event() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("limit not enforced"),
                Err(e) => break e,
            }
        };
        assert_eq!(
            err,
            DecodeError {
                offset: 6,
                kind: DecodeErrorKind::TooDeep { limit: 2 }
            }
        );

        let few = Limits {
            max_elements: 2,
            ..Limits::default()
        };
        let mut r = Reader::new(&input, few).unwrap();
        let err = loop {
            match r.next_event() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("limit not enforced"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind, DecodeErrorKind::TooManyElements { limit: 2 });

        let small = Limits {
            max_bytes: 5,
            ..Limits::default()
        };
        assert_eq!(
            Reader::new(&input, small).unwrap_err().kind,
            DecodeErrorKind::TooLarge { size: 10, limit: 5 }
        );
    }
}
