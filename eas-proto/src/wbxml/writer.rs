//! A streaming WBXML encoder.
//!
//! A start tag is held back until the next call shows whether the element has
//! content, so callers write elements in document order and never say in
//! advance which are empty. Code page switches are written only when the page
//! changes.

use std::io::Write;

use super::Tag;
use super::error::EncodeError;
use super::token;

/// Writes one WBXML document to `W`, header first.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    page: u8,
    stack: Vec<Tag>,
    /// A start tag not yet written: its content bit is not known yet.
    pending: Option<Tag>,
    root_started: bool,
}

impl<W: Write> Writer<W> {
    /// Writes the EAS header: WBXML 1.3, public id 1, UTF-8, no string table.
    pub fn new(mut out: W) -> Result<Self, EncodeError> {
        out.write_all(&token::HEADER)?;
        Ok(Writer {
            out,
            page: 0,
            stack: Vec::new(),
            pending: None,
            root_started: false,
        })
    }

    /// Elements open, including one whose start tag is held back.
    pub fn depth(&self) -> usize {
        self.stack.len() + usize::from(self.pending.is_some())
    }

    fn write_tag(&mut self, tag: Tag, has_content: bool) -> std::io::Result<()> {
        let byte = tag.token() | if has_content { token::HAS_CONTENT } else { 0 };
        if tag.page() != self.page {
            self.page = tag.page();
            self.out.write_all(&[token::SWITCH_PAGE, tag.page(), byte])
        } else {
            self.out.write_all(&[byte])
        }
    }

    /// Writes a held-back start tag, now known to have content.
    fn open_pending(&mut self) -> std::io::Result<()> {
        if let Some(tag) = self.pending.take() {
            self.write_tag(tag, true)?;
            self.stack.push(tag);
        }
        Ok(())
    }

    fn current(&self) -> Option<Tag> {
        self.pending.or_else(|| self.stack.last().copied())
    }

    pub fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        if self.root_started && self.current().is_none() {
            return Err(EncodeError::SecondRoot { tag });
        }
        self.open_pending()?;
        self.pending = Some(tag);
        self.root_started = true;
        Ok(())
    }

    pub fn end(&mut self) -> Result<(), EncodeError> {
        if let Some(tag) = self.pending.take() {
            self.write_tag(tag, false)?;
            return Ok(());
        }
        self.stack.pop().ok_or(EncodeError::UnbalancedEnd)?;
        self.out.write_all(&[token::END])?;
        Ok(())
    }

    /// An inline string. Empty text writes nothing: `<A></A>` and `<A/>` are
    /// one document, and the empty form is the shorter.
    pub fn text(&mut self, text: &str) -> Result<(), EncodeError> {
        let tag = self.current().ok_or(EncodeError::ContentOutsideRoot)?;
        if text.is_empty() {
            return Ok(());
        }
        if memchr::memchr(0, text.as_bytes()).is_some() {
            return Err(EncodeError::NulInText { tag });
        }
        self.open_pending()?;
        self.out.write_all(&[token::STR_I])?;
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(&[0])?;
        Ok(())
    }

    /// An inline string of raw bytes, for MIME that is sent byte for byte
    /// in a body's `Data` (Sync and ItemOperations with body type 4). The
    /// header says UTF-8, but 8-bit MIME in another charset is still sent as
    /// it is stored: re-encoding it would break S/MIME signatures, and
    /// clients take the bytes (Z-Push has sent raw bytes this way to iOS
    /// and Android for years). Only NUL, which would end the string, is
    /// refused.
    pub fn text_bytes(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let tag = self.current().ok_or(EncodeError::ContentOutsideRoot)?;
        if bytes.is_empty() {
            return Ok(());
        }
        if memchr::memchr(0, bytes).is_some() {
            return Err(EncodeError::NulInText { tag });
        }
        self.open_pending()?;
        self.out.write_all(&[token::STR_I])?;
        self.out.write_all(bytes)?;
        self.out.write_all(&[0])?;
        Ok(())
    }

    /// Opaque data: bytes that are not text (MS-ASWBXML 2.1.1 uses it for
    /// MIME in ComposeMail and for conversation ids).
    pub fn opaque(&mut self, data: &[u8]) -> Result<(), EncodeError> {
        self.current().ok_or(EncodeError::ContentOutsideRoot)?;
        let length = u32::try_from(data.len())
            .map_err(|_| EncodeError::OpaqueTooLong { length: data.len() })?;
        self.open_pending()?;
        self.out.write_all(&[token::OPAQUE])?;
        write_mb_u_int32(&mut self.out, length)?;
        self.out.write_all(data)?;
        Ok(())
    }

    /// An element with no content.
    pub fn empty(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.start(tag)?;
        self.end()
    }

    /// An element holding one string, the commonest shape in EAS: written
    /// in one go (tag, string, END), without the held-back start tag.
    pub fn text_element(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        if text.is_empty() {
            return self.empty(tag);
        }
        if self.root_started && self.current().is_none() {
            return Err(EncodeError::SecondRoot { tag });
        }
        if memchr::memchr(0, text.as_bytes()).is_some() {
            return Err(EncodeError::NulInText { tag });
        }
        self.open_pending()?;
        self.root_started = true;
        self.write_tag_head(tag)?;
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(&[0, token::END])?;
        Ok(())
    }

    /// A content-bearing start tag and STR_I, with a page switch if needed.
    fn write_tag_head(&mut self, tag: Tag) -> std::io::Result<()> {
        let byte = tag.token() | token::HAS_CONTENT;
        if tag.page() != self.page {
            self.page = tag.page();
            self.out
                .write_all(&[token::SWITCH_PAGE, tag.page(), byte, token::STR_I])
        } else {
            self.out.write_all(&[byte, token::STR_I])
        }
    }

    /// Checks that the document is complete and hands back the output.
    pub fn finish(self) -> Result<W, EncodeError> {
        if !self.root_started {
            return Err(EncodeError::NoRootElement);
        }
        let open = self.depth();
        if open > 0 {
            return Err(EncodeError::Unclosed { open });
        }
        Ok(self.out)
    }
}

/// WBXML's multi-byte integer: big-endian groups of seven bits, the high bit
/// set on every byte but the last.
fn write_mb_u_int32<W: Write>(out: &mut W, value: u32) -> std::io::Result<()> {
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    let mut v = value;
    loop {
        i -= 1;
        let continuation = if i == buf.len() - 1 { 0 } else { 0x80 };
        if let Some(b) = buf.get_mut(i) {
            *b = (v & 0x7F) as u8 | continuation;
        }
        v >>= 7;
        if v == 0 || i == 0 {
            break;
        }
    }
    out.write_all(buf.get(i..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(v: u32) -> Vec<u8> {
        let mut out = Vec::new();
        write_mb_u_int32(&mut out, v).unwrap();
        out
    }

    #[test]
    fn multi_byte_integers() {
        assert_eq!(mb(0), [0x00]);
        assert_eq!(mb(0x7F), [0x7F]);
        assert_eq!(mb(0x80), [0x81, 0x00]);
        assert_eq!(mb(0xA0), [0x81, 0x20]);
        assert_eq!(mb(u32::MAX), [0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
    }

    #[test]
    fn writes_content_bits_and_page_switches() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.start(Tag::new(7, 0x16)).unwrap();
        w.text_element(Tag::new(7, 0x12), "0").unwrap();
        w.empty(Tag::new(0, 0x05)).unwrap();
        w.start(Tag::new(0, 0x0B)).unwrap();
        w.opaque(&[1, 2, 3]).unwrap();
        w.end().unwrap();
        w.end().unwrap();
        let out = w.finish().unwrap();
        assert_eq!(
            out,
            [
                0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, b'0', 0x00, 0x01, 0x00, 0x00,
                0x05, 0x4B, 0xC3, 0x03, 1, 2, 3, 0x01, 0x01,
            ]
        );
    }

    #[test]
    fn refuses_malformed_documents() {
        let mut w = Writer::new(Vec::new()).unwrap();
        assert!(matches!(w.text("x"), Err(EncodeError::ContentOutsideRoot)));
        assert!(matches!(w.end(), Err(EncodeError::UnbalancedEnd)));
        w.start(Tag::new(0, 5)).unwrap();
        assert!(matches!(w.text("a\0b"), Err(EncodeError::NulInText { .. })));
        assert!(matches!(
            w.text_bytes(b"\xe9\0"),
            Err(EncodeError::NulInText { .. })
        ));
        w.text_bytes(b"caf\xe9").unwrap();
        w.end().unwrap();
        assert!(matches!(
            w.start(Tag::new(0, 6)),
            Err(EncodeError::SecondRoot { .. })
        ));
        w.finish().unwrap();

        let mut w = Writer::new(Vec::new()).unwrap();
        w.start(Tag::new(0, 5)).unwrap();
        w.start(Tag::new(0, 6)).unwrap();
        w.end().unwrap();
        assert!(matches!(w.finish(), Err(EncodeError::Unclosed { open: 1 })));
        assert!(matches!(
            Writer::new(Vec::new()).unwrap().finish(),
            Err(EncodeError::NoRootElement)
        ));
    }
}
