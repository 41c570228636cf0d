//! The document model: elements holding elements, text and opaque bytes.
//!
//! Decoding normalises text the way XML does: adjacent strings are one, and
//! an empty string is no string, so `<A></A>` and `<A/>` are the same element
//! whichever way a client wrote them. Opaque data is kept as written.
//!
//! A decoded document borrows its strings and opaque blocks from the input
//! (`Element<'a>`), so decoding a SendMail copies none of its MIME and a Sync
//! request costs an allocation per element, not per string. Documents built
//! in code or read from XML own their content (`Element<'static>`).

use std::borrow::Cow;
use std::io::Write;

use super::error::{DecodeError, EncodeError};
use super::reader::{Event, Reader};
use super::writer::Writer;
use super::{Limits, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node<'a> {
    Element(Element<'a>),
    Text(Cow<'a, str>),
    Opaque(Cow<'a, [u8]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    pub tag: Tag,
    pub children: Vec<Node<'a>>,
}

impl<'a> Element<'a> {
    pub fn new(tag: Tag) -> Element<'a> {
        Element {
            tag,
            children: Vec::new(),
        }
    }

    /// An element holding one string.
    pub fn text(tag: Tag, text: impl Into<Cow<'a, str>>) -> Element<'a> {
        let text = text.into();
        let mut el = Element::new(tag);
        if !text.is_empty() {
            el.children.push(Node::Text(text));
        }
        el
    }

    /// An element holding opaque bytes.
    pub fn opaque(tag: Tag, data: impl Into<Cow<'a, [u8]>>) -> Element<'a> {
        Element {
            tag,
            children: vec![Node::Opaque(data.into())],
        }
    }

    /// Appends a child element, for building documents in a chain.
    pub fn with(mut self, child: Element<'a>) -> Element<'a> {
        self.children.push(Node::Element(child));
        self
    }

    pub fn push(&mut self, child: Element<'a>) {
        self.children.push(Node::Element(child));
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element<'a>> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this tag.
    pub fn child(&self, tag: Tag) -> Option<&Element<'a>> {
        self.elements().find(|e| e.tag == tag)
    }

    /// Every child element with this tag.
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Element<'a>> {
        self.elements().filter(move |e| e.tag == tag)
    }

    /// The element's text, if its content is exactly one string.
    pub fn text_content(&self) -> Option<&str> {
        match self.children.as_slice() {
            [Node::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// The element's bytes, if its content is exactly one opaque block.
    pub fn opaque_content(&self) -> Option<&[u8]> {
        match self.children.as_slice() {
            [Node::Opaque(d)] => Some(d),
            _ => None,
        }
    }

    /// Decodes a whole document.
    pub fn decode(input: &'a [u8], limits: Limits) -> Result<Element<'a>, DecodeError> {
        let mut reader = Reader::new(input, limits)?;
        // The children of every open element, one after another, and where
        // each open element's children begin. An element's children move into
        // their own exactly-sized vector once, when it ends, instead of
        // growing one by one.
        let mut pending: Vec<Node<'a>> = Vec::with_capacity(64);
        let mut open: Vec<(Tag, usize)> = Vec::new();
        let mut root = None;
        while let Some(event) = reader.next_event()? {
            match event {
                Event::Start(tag) => open.push((tag, pending.len())),
                Event::End(_) => {
                    // The reader pairs every End with a Start.
                    let Some((tag, first)) = open.pop() else {
                        break;
                    };
                    let children: Vec<Node<'a>> = pending.drain(first..).collect();
                    let el = Element { tag, children };
                    if open.is_empty() {
                        // Read on: the reader refuses anything after the root.
                        root = Some(el);
                    } else {
                        pending.push(Node::Element(el));
                    }
                }
                Event::Text(text) => {
                    let first = open.last().map_or(0, |(_, first)| *first);
                    let has_children = pending.len() > first;
                    match pending.last_mut() {
                        _ if text.is_empty() => {}
                        Some(Node::Text(prev)) if has_children => prev.to_mut().push_str(text),
                        _ => pending.push(Node::Text(Cow::Borrowed(text))),
                    }
                }
                Event::Opaque(data) => pending.push(Node::Opaque(Cow::Borrowed(data))),
            }
        }
        root.ok_or(DecodeError {
            offset: input.len(),
            kind: super::DecodeErrorKind::NoRootElement,
        })
    }

    /// Appends text, joining it to a string just before it.
    pub(crate) fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(prev)) = self.children.last_mut() {
            prev.to_mut().push_str(text);
        } else {
            self.children.push(Node::Text(Cow::Owned(text.to_owned())));
        }
    }

    /// A copy that owns all its content, to outlive the input it was
    /// decoded from.
    pub fn into_owned(self) -> Element<'static> {
        Element {
            tag: self.tag,
            children: self
                .children
                .into_iter()
                .map(|node| match node {
                    Node::Element(el) => Node::Element(el.into_owned()),
                    Node::Text(t) => Node::Text(Cow::Owned(t.into_owned())),
                    Node::Opaque(d) => Node::Opaque(Cow::Owned(d.into_owned())),
                })
                .collect(),
        }
    }

    /// Writes this element and everything in it. Iterative, so a deep tree
    /// cannot exhaust the stack.
    pub fn write_to<W: Write>(&self, writer: &mut Writer<W>) -> Result<(), EncodeError> {
        let mut stack: Vec<std::slice::Iter<'_, Node<'a>>> = Vec::new();
        writer.start(self.tag)?;
        stack.push(self.children.iter());
        while let Some(iter) = stack.last_mut() {
            match iter.next() {
                Some(Node::Element(el)) => {
                    writer.start(el.tag)?;
                    stack.push(el.children.iter());
                }
                Some(Node::Text(text)) => writer.text(text)?,
                Some(Node::Opaque(data)) => writer.opaque(data)?,
                None => {
                    writer.end()?;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    /// An upper bound of [`Element::encode`]'s output size, so that it is
    /// written into one allocation: every element counted with a page switch,
    /// a content bit's END, and its strings and opaque blocks.
    pub fn encoded_len_bound(&self) -> usize {
        let mut len = super::token::HEADER.len();
        let mut pending = vec![self];
        while let Some(el) = pending.pop() {
            len += 4;
            for node in &el.children {
                match node {
                    Node::Element(child) => pending.push(child),
                    Node::Text(t) => len += t.len() + 2,
                    Node::Opaque(d) => len += 6 + d.len(),
                }
            }
        }
        len
    }

    /// Encodes this element as a whole document.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut writer = Writer::new(Vec::with_capacity(self.encoded_len_bound()))?;
        self.write_to(&mut writer)?;
        writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_normalises_text_and_encode_round_trips() {
        // <A>"" "ab" "cd"<B></B></A>: the strings join, the empty one vanishes,
        // and B with content bit but no content equals an empty B.
        let input = [
            0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, 0x00, 0x03, b'a', b'b', 0x00, 0x03, b'c', b'd',
            0x00, 0x46, 0x01, 0x01,
        ];
        let el = Element::decode(&input, Limits::default()).unwrap();
        let expected = Element {
            tag: Tag::new(0, 5),
            children: vec![
                Node::Text("abcd".into()),
                Node::Element(Element::new(Tag::new(0, 6))),
            ],
        };
        assert_eq!(el, expected);
        let bytes = el.encode().unwrap();
        assert_eq!(
            bytes,
            [
                0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, b'a', b'b', b'c', b'd', 0x00, 0x06, 0x01
            ]
        );
        assert_eq!(
            Element::decode(&bytes, Limits::default()).unwrap(),
            expected
        );
    }

    #[test]
    fn accessors() {
        let doc = Element::new(Tag::new(0, 5))
            .with(Element::text(Tag::new(0, 6), "x"))
            .with(Element::opaque(Tag::new(0, 7), vec![9]))
            .with(Element::text(Tag::new(0, 6), "y"));
        assert_eq!(
            doc.child(Tag::new(0, 6)).and_then(|e| e.text_content()),
            Some("x")
        );
        assert_eq!(doc.children_with(Tag::new(0, 6)).count(), 2);
        assert_eq!(
            doc.child(Tag::new(0, 7)).and_then(|e| e.opaque_content()),
            Some(&[9u8][..])
        );
        assert_eq!(Element::text(Tag::new(0, 5), "").children, vec![]);
    }
}
