//! The document model: elements holding elements, text and opaque bytes.
//!
//! Most EAS elements are leaves holding one string (`<SyncKey>1</SyncKey>`),
//! so an element keeps that string inline ([`Element::text_content`]) and
//! needs a list only when it holds elements or mixed content. A 500-message
//! Sync response then costs one allocation per container element instead of
//! one per element and one per string.
//!
//! Content is kept in one normal form, so two documents are equal exactly
//! when their XML is: adjacent strings are one, an empty string is no
//! string (`<A></A>` and `<A/>` are the same element whichever way a client
//! wrote them), and a lone string or opaque block is stored inline. Opaque
//! data is kept as written, empty blocks included.
//!
//! A decoded document borrows its strings and opaque blocks from the input
//! (`Element<'a>`), so decoding a SendMail copies none of its MIME. Documents
//! built in code or read from XML own their content (`Element<'static>`).

use std::borrow::Cow;
use std::io::Write;

use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use super::reader::{Event, Reader};
use super::writer::Writer;
use super::{Limits, Tag};

/// One element. Build it with [`Element::new`], [`Element::text`],
/// [`Element::opaque`] and the `push` methods; read it with
/// [`Element::nodes`] and the accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    pub tag: Tag,
    content: Content<'a>,
}

/// The normal form of an element's content.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content<'a> {
    Empty,
    /// Exactly one string, never empty.
    Text(Cow<'a, str>),
    /// Exactly one opaque block.
    Opaque(Cow<'a, [u8]>),
    /// Anything else: at least one element, or more than one node; no two
    /// adjacent strings, no empty string.
    Nodes(Vec<Node<'a>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node<'a> {
    Element(Element<'a>),
    Text(Cow<'a, str>),
    Opaque(Cow<'a, [u8]>),
}

/// A child of an element, as [`Element::nodes`] yields it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRef<'e, 'a> {
    Element(&'e Element<'a>),
    Text(&'e str),
    Opaque(&'e [u8]),
}

impl<'a> Element<'a> {
    pub fn new(tag: Tag) -> Element<'a> {
        Element {
            tag,
            content: Content::Empty,
        }
    }

    /// An element holding one string (none, if it is empty).
    pub fn text(tag: Tag, text: impl Into<Cow<'a, str>>) -> Element<'a> {
        let mut el = Element::new(tag);
        el.push_text(text);
        el
    }

    /// An element holding opaque bytes.
    pub fn opaque(tag: Tag, data: impl Into<Cow<'a, [u8]>>) -> Element<'a> {
        let mut el = Element::new(tag);
        el.push_opaque(data);
        el
    }

    /// Appends a child element, for building documents in a chain.
    pub fn with(mut self, child: Element<'a>) -> Element<'a> {
        self.push(child);
        self
    }

    /// Appends a child element.
    pub fn push(&mut self, child: Element<'a>) {
        self.push_node(Node::Element(child));
    }

    /// Appends a string, joining it to a string just before it.
    pub fn push_text(&mut self, text: impl Into<Cow<'a, str>>) {
        let text = text.into();
        if !text.is_empty() {
            self.push_node(Node::Text(text));
        }
    }

    /// Appends an opaque block.
    pub fn push_opaque(&mut self, data: impl Into<Cow<'a, [u8]>>) {
        self.push_node(Node::Opaque(data.into()));
    }

    fn push_node(&mut self, node: Node<'a>) {
        self.content = match (std::mem::replace(&mut self.content, Content::Empty), node) {
            (Content::Empty, Node::Text(t)) => Content::Text(t),
            (Content::Empty, Node::Opaque(d)) => Content::Opaque(d),
            (Content::Empty, node) => Content::Nodes(vec![node]),
            (Content::Text(mut t), Node::Text(more)) => {
                t.to_mut().push_str(&more);
                Content::Text(t)
            }
            (Content::Text(t), node) => Content::Nodes(vec![Node::Text(t), node]),
            (Content::Opaque(d), node) => Content::Nodes(vec![Node::Opaque(d), node]),
            (Content::Nodes(mut nodes), node) => {
                match (nodes.last_mut(), node) {
                    (Some(Node::Text(prev)), Node::Text(more)) => prev.to_mut().push_str(&more),
                    (_, node) => nodes.push(node),
                }
                Content::Nodes(nodes)
            }
        };
    }

    /// The children in order: elements, strings and opaque blocks.
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef<'_, 'a>> {
        let (single, list): (Option<NodeRef<'_, 'a>>, &[Node<'a>]) = match &self.content {
            Content::Empty => (None, &[]),
            Content::Text(t) => (Some(NodeRef::Text(t)), &[]),
            Content::Opaque(d) => (Some(NodeRef::Opaque(d)), &[]),
            Content::Nodes(nodes) => (None, nodes),
        };
        single.into_iter().chain(list.iter().map(|n| match n {
            Node::Element(e) => NodeRef::Element(e),
            Node::Text(t) => NodeRef::Text(t),
            Node::Opaque(d) => NodeRef::Opaque(d),
        }))
    }

    /// Whether the element has no content at all.
    pub fn is_empty(&self) -> bool {
        matches!(self.content, Content::Empty)
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element<'a>> {
        let nodes: &[Node<'a>] = match &self.content {
            Content::Nodes(nodes) => nodes,
            _ => &[],
        };
        nodes.iter().filter_map(|n| match n {
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
        match &self.content {
            Content::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The element's bytes, if its content is exactly one opaque block.
    pub fn opaque_content(&self) -> Option<&[u8]> {
        match &self.content {
            Content::Opaque(d) => Some(d),
            _ => None,
        }
    }

    /// Decodes a whole document.
    pub fn decode(input: &'a [u8], limits: Limits) -> Result<Element<'a>, DecodeError> {
        let mut reader = Reader::new(input, limits)?;
        // The children of every open element, one after another, and where
        // each open element's children begin. An element's children move
        // into their own exactly-sized vector once, when it ends.
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
                    let content = match pending.len() - first {
                        0 => Content::Empty,
                        1 => match pending.pop() {
                            Some(Node::Text(t)) => Content::Text(t),
                            Some(Node::Opaque(d)) => Content::Opaque(d),
                            Some(node) => Content::Nodes(vec![node]),
                            None => Content::Empty,
                        },
                        _ => Content::Nodes(pending.drain(first..).collect()),
                    };
                    let el = Element { tag, content };
                    if open.is_empty() {
                        // Read on: the reader refuses anything after the root.
                        root = Some(el);
                    } else {
                        pending.push(Node::Element(el));
                    }
                }
                Event::Text("") => {}
                Event::Text(text) => {
                    let first = open.last().map_or(0, |(_, first)| *first);
                    let has_children = pending.len() > first;
                    match pending.last_mut() {
                        Some(Node::Text(prev)) if has_children => prev.to_mut().push_str(text),
                        _ => pending.push(Node::Text(Cow::Borrowed(text))),
                    }
                }
                Event::Opaque(data) => pending.push(Node::Opaque(Cow::Borrowed(data))),
            }
        }
        root.ok_or(DecodeError {
            offset: input.len(),
            kind: DecodeErrorKind::NoRootElement,
        })
    }

    /// A copy that owns all its content, to outlive the input it was
    /// decoded from.
    pub fn into_owned(self) -> Element<'static> {
        fn own(node: Node<'_>) -> Node<'static> {
            match node {
                Node::Element(el) => Node::Element(el.into_owned()),
                Node::Text(t) => Node::Text(Cow::Owned(t.into_owned())),
                Node::Opaque(d) => Node::Opaque(Cow::Owned(d.into_owned())),
            }
        }
        let content = match self.content {
            Content::Empty => Content::Empty,
            Content::Text(t) => Content::Text(Cow::Owned(t.into_owned())),
            Content::Opaque(d) => Content::Opaque(Cow::Owned(d.into_owned())),
            Content::Nodes(nodes) => Content::Nodes(nodes.into_iter().map(own).collect()),
        };
        Element {
            tag: self.tag,
            content,
        }
    }

    /// Writes this element and everything in it. Iterative, so a deep tree
    /// cannot exhaust the stack.
    pub fn write_to<W: Write>(&self, writer: &mut Writer<W>) -> Result<(), EncodeError> {
        let mut stack: Vec<std::slice::Iter<'_, Node<'a>>> = Vec::new();
        let mut el = self;
        loop {
            match &el.content {
                Content::Empty => writer.empty(el.tag)?,
                Content::Text(t) => writer.text_element(el.tag, t)?,
                _ => writer.start(el.tag)?,
            }
            match &el.content {
                Content::Empty | Content::Text(_) => {}
                Content::Opaque(d) => {
                    writer.opaque(d)?;
                    writer.end()?;
                }
                Content::Nodes(nodes) => stack.push(nodes.iter()),
            }
            // The next element to open, closing finished ones on the way.
            let next = loop {
                let Some(iter) = stack.last_mut() else {
                    return Ok(());
                };
                match iter.next() {
                    Some(Node::Element(child)) => break child,
                    Some(Node::Text(t)) => writer.text(t)?,
                    Some(Node::Opaque(d)) => writer.opaque(d)?,
                    None => {
                        writer.end()?;
                        stack.pop();
                    }
                }
            };
            el = next;
        }
    }

    /// An upper bound of [`Element::encode`]'s output size, so that it is
    /// written into one allocation: every element counted with a page switch,
    /// a content bit's END, and its strings and opaque blocks.
    pub fn encoded_len_bound(&self) -> usize {
        let mut len = super::token::HEADER.len();
        let mut pending = vec![self];
        while let Some(el) = pending.pop() {
            len += 4;
            match &el.content {
                Content::Empty => {}
                Content::Text(t) => len += t.len() + 2,
                Content::Opaque(d) => len += 6 + d.len(),
                Content::Nodes(nodes) => {
                    for node in nodes {
                        match node {
                            Node::Element(child) => pending.push(child),
                            Node::Text(t) => len += t.len() + 2,
                            Node::Opaque(d) => len += 6 + d.len(),
                        }
                    }
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
        let mut expected = Element::text(Tag::new(0, 5), "abcd");
        expected.push(Element::new(Tag::new(0, 6)));
        assert_eq!(el, expected);
        assert_eq!(
            el.nodes().collect::<Vec<_>>(),
            vec![
                NodeRef::Text("abcd"),
                NodeRef::Element(&Element::new(Tag::new(0, 6)))
            ]
        );
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
    fn building_keeps_the_normal_form() {
        let mut a = Element::new(Tag::new(0, 5));
        a.push_text("x");
        a.push_text("");
        a.push_text("y");
        assert_eq!(a, Element::text(Tag::new(0, 5), "xy"));
        assert_eq!(a.text_content(), Some("xy"));
        assert_eq!(
            Element::text(Tag::new(0, 5), ""),
            Element::new(Tag::new(0, 5))
        );
        assert!(Element::text(Tag::new(0, 5), "").is_empty());
        let mut b = Element::opaque(Tag::new(0, 5), vec![1]);
        assert_eq!(b.opaque_content(), Some(&[1u8][..]));
        b.push_text("t");
        b.push_text("u");
        assert_eq!(
            b.nodes().collect::<Vec<_>>(),
            vec![NodeRef::Opaque(&[1]), NodeRef::Text("tu")]
        );
        assert_eq!(b.text_content(), None);
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
        assert_eq!(doc.elements().count(), 3);
    }

    #[test]
    fn decoded_strings_borrow_from_the_input() {
        let input = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, b'h', b'i', 0x00, 0x01];
        let el = Element::decode(&input, Limits::default()).unwrap();
        let text = el.text_content().unwrap();
        assert!(std::ptr::eq(text.as_ptr(), input[6..].as_ptr()));
    }
}
