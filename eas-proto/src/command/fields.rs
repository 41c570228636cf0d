//! What the command modules share beyond `mod.rs`: reading a child once,
//! byte arrays, and one way of writing that serves both the document tree
//! (`to_element`) and the streaming [`Writer`].
//!
//! Every command writes its elements through [`Sink`]. [`Tree`] builds an
//! [`Element`] from those calls and a [`Writer`] encodes them as they come,
//! so a response streamed item by item and the same response built as a
//! tree and encoded are the same bytes by construction.

use std::fmt::Display;
use std::io::Write;

use super::{CommandError, DateTime, boolean, number, text};
use crate::wbxml::{Element, EncodeError, Tag, Writer};

/// Stores a value read from a child element, refusing a second one.
pub(crate) fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    parent: Tag,
    tag: Tag,
) -> Result<(), CommandError> {
    if slot.is_some() {
        return Err(CommandError::Duplicate { parent, tag });
    }
    *slot = Some(value);
    Ok(())
}

/// The content of an element the specs type as a byte array ([MS-ASDTYPE]
/// 2.7.1), sent as WBXML opaque data. A client that sends an inline string
/// instead gets the string's UTF-8 bytes: the value is kept, not refused.
pub(crate) fn bytes(el: &Element<'_>) -> Result<Vec<u8>, CommandError> {
    if el.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(data) = el.opaque_content() {
        return Ok(data.to_vec());
    }
    el.text_content()
        .map(|t| t.as_bytes().to_vec())
        .ok_or(CommandError::NotText { tag: el.tag })
}

/// A copy of a decoded element that outlives the input.
pub(crate) fn owned(el: &Element<'_>) -> Element<'static> {
    el.clone().into_owned()
}

pub(crate) fn string(el: &Element<'_>) -> Result<String, CommandError> {
    text(el).map(str::to_owned)
}

pub(crate) fn date(el: &Element<'_>) -> Result<DateTime, CommandError> {
    DateTime::from_element(el)
}

pub(crate) fn flag(el: &Element<'_>) -> Result<bool, CommandError> {
    boolean(el)
}

pub(crate) fn num<T: std::str::FromStr>(
    expected: &'static str,
) -> impl Fn(&Element<'_>) -> Result<T, CommandError> {
    move |el| number(el, expected)
}

/// Reads the child with this tag (at most one) through `read`.
pub(crate) fn opt<T>(
    el: &Element<'_>,
    tag: Tag,
    read: impl FnOnce(&Element<'_>) -> Result<T, CommandError>,
) -> Result<Option<T>, CommandError> {
    super::child(el, tag)?.map(read).transpose()
}

/// Reads the required child with this tag through `read`.
pub(crate) fn req<T>(
    el: &Element<'_>,
    tag: Tag,
    read: impl FnOnce(&Element<'_>) -> Result<T, CommandError>,
) -> Result<T, CommandError> {
    read(super::required(el, tag)?)
}

/// Keeps an element unread, owned.
pub(crate) fn keep(el: &Element<'_>) -> Result<Element<'static>, CommandError> {
    Ok(owned(el))
}

/// Collects every child with `tag` through `read`.
pub(crate) fn all<T>(
    el: &Element<'_>,
    tag: Tag,
    read: impl Fn(&Element<'_>) -> Result<T, CommandError>,
) -> Result<Vec<T>, CommandError> {
    el.children_with(tag).map(read).collect()
}

/// For readers that take children one by one: stores one, refusing a
/// second.
pub(crate) fn once<T>(
    slot: &mut Option<T>,
    parent: &Element<'_>,
    child: &Element<'_>,
    read: impl FnOnce(&Element<'_>) -> Result<T, CommandError>,
) -> Result<(), CommandError> {
    let value = read(child)?;
    set_once(slot, value, parent.tag, child.tag)
}

/// Where the command modules write elements: a [`Tree`] or a [`Writer`].
pub(crate) trait Sink {
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError>;
    fn end(&mut self) -> Result<(), EncodeError>;
    /// A whole element holding one string (none, if it is empty).
    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError>;
    /// A whole element holding opaque bytes.
    fn opaque(&mut self, tag: Tag, data: &[u8]) -> Result<(), EncodeError>;
    /// A whole element, as it is.
    fn element(&mut self, el: &Element<'_>) -> Result<(), EncodeError>;

    fn empty(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.start(tag)?;
        self.end()
    }

    fn boolean(&mut self, tag: Tag, value: bool) -> Result<(), EncodeError> {
        self.text(tag, if value { "1" } else { "0" })
    }

    fn number(&mut self, tag: Tag, value: impl Display) -> Result<(), EncodeError> {
        self.text(tag, &value.to_string())
    }

    fn opt_text(&mut self, tag: Tag, value: Option<&str>) -> Result<(), EncodeError> {
        match value {
            Some(v) => self.text(tag, v),
            None => Ok(()),
        }
    }

    fn opt_bool(&mut self, tag: Tag, value: Option<bool>) -> Result<(), EncodeError> {
        match value {
            Some(v) => self.boolean(tag, v),
            None => Ok(()),
        }
    }

    fn opt_number(&mut self, tag: Tag, value: Option<impl Display>) -> Result<(), EncodeError> {
        match value {
            Some(v) => self.number(tag, v),
            None => Ok(()),
        }
    }

    fn opt_date(&mut self, tag: Tag, value: Option<&DateTime>) -> Result<(), EncodeError> {
        self.opt_text(tag, value.map(DateTime::as_str))
    }

    /// An empty element if `present`: the spec's "empty tag" booleans.
    fn marker(&mut self, tag: Tag, present: bool) -> Result<(), EncodeError> {
        if present { self.empty(tag) } else { Ok(()) }
    }
}

impl<W: Write> Sink for Writer<W> {
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        Writer::start(self, tag)
    }

    fn end(&mut self) -> Result<(), EncodeError> {
        Writer::end(self)
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        self.text_element(tag, text)
    }

    fn opaque(&mut self, tag: Tag, data: &[u8]) -> Result<(), EncodeError> {
        Writer::start(self, tag)?;
        Writer::opaque(self, data)?;
        Writer::end(self)
    }

    fn element(&mut self, el: &Element<'_>) -> Result<(), EncodeError> {
        el.write_to(self)
    }
}

/// Builds a document from [`Sink`] calls.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The open elements, the root first; never empty.
    open: Vec<Element<'static>>,
}

impl Tree {
    /// The element `tag` holding whatever `children` writes into it.
    pub(crate) fn build(
        tag: Tag,
        children: impl FnOnce(&mut Tree) -> Result<(), EncodeError>,
    ) -> Element<'static> {
        let mut tree = Tree {
            open: vec![Element::new(tag)],
        };
        // Building a tree cannot fail: `Tree` returns errors only for an
        // `end` without a `start`, which the command modules never write,
        // and then the document built so far is still the best answer.
        let _ = children(&mut tree);
        while tree.open.len() > 1 {
            let _ = tree.end();
        }
        tree.open.pop().unwrap_or_else(|| Element::new(tag))
    }

    fn add(&mut self, el: Element<'static>) {
        if let Some(parent) = self.open.last_mut() {
            parent.push(el);
        }
    }
}

impl Sink for Tree {
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.open.push(Element::new(tag));
        Ok(())
    }

    fn end(&mut self) -> Result<(), EncodeError> {
        if self.open.len() < 2 {
            return Err(EncodeError::UnbalancedEnd);
        }
        let el = self.open.pop().ok_or(EncodeError::UnbalancedEnd)?;
        self.add(el);
        Ok(())
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        self.add(Element::text(tag, text.to_owned()));
        Ok(())
    }

    fn opaque(&mut self, tag: Tag, data: &[u8]) -> Result<(), EncodeError> {
        self.add(Element::opaque(tag, data.to_vec()));
        Ok(())
    }

    fn element(&mut self, el: &Element<'_>) -> Result<(), EncodeError> {
        self.add(owned(el));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codepages::airsync as a;

    fn emit<S: Sink>(s: &mut S) -> Result<(), EncodeError> {
        s.start(a::Collection)?;
        s.text(a::SyncKey, "1")?;
        s.empty(a::GetChanges)?;
        s.opaque(a::ClientId, &[0, 1, 2])?;
        s.opt_bool(a::DeletesAsMoves, Some(true))?;
        s.opt_number(a::WindowSize, None::<u32>)?;
        s.element(&Element::new(a::Commands).with(Element::text(a::ServerId, "5:1")))?;
        s.end()
    }

    #[test]
    fn a_tree_and_a_writer_give_the_same_bytes() {
        let tree = Tree::build(a::Sync, emit);
        let mut w = Writer::new(Vec::new()).unwrap();
        w.start(a::Sync).unwrap();
        emit(&mut w).unwrap();
        w.end().unwrap();
        assert_eq!(tree.encode().unwrap(), w.finish().unwrap());
        let coll = tree.child(a::Collection).unwrap();
        assert_eq!(coll.elements().count(), 5);
    }

    #[test]
    fn a_tree_closes_what_is_left_open_and_refuses_extra_ends() {
        let el = Tree::build(a::Sync, |t| {
            t.start(a::Collections)?;
            t.start(a::Collection)
        });
        assert_eq!(
            el,
            Element::new(a::Sync)
                .with(Element::new(a::Collections).with(Element::new(a::Collection)))
        );
        let el = Tree::build(a::Sync, |t| t.end());
        assert_eq!(el, Element::new(a::Sync));
    }

    #[test]
    fn byte_arrays_come_as_opaque_or_as_text() {
        assert_eq!(
            bytes(&Element::opaque(a::ClientId, vec![1, 2])).unwrap(),
            [1, 2]
        );
        assert_eq!(bytes(&Element::text(a::ClientId, "ab")).unwrap(), b"ab");
        assert_eq!(bytes(&Element::new(a::ClientId)).unwrap(), b"");
        let mixed = Element::new(a::ClientId).with(Element::new(a::ServerId));
        assert_eq!(
            bytes(&mixed),
            Err(CommandError::NotText { tag: a::ClientId })
        );
        let mut slot = None;
        set_once(&mut slot, 1, a::Sync, a::Status).unwrap();
        assert_eq!(
            set_once(&mut slot, 2, a::Sync, a::Status),
            Err(CommandError::Duplicate {
                parent: a::Sync,
                tag: a::Status
            })
        );
    }
}
