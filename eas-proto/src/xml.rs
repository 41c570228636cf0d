//! The XML text form of EAS documents, both ways.
//!
//! Written the way MS-ASCMD's examples are: the root's page is the default
//! namespace (`<Sync xmlns="AirSync:">`), every other page used is declared on
//! the root with its lower-case prefix (`xmlns:airsyncbase="AirSyncBase:"`),
//! two-space indentation, and text exactly as it is.
//!
//! Opaque data is shown as base64. Tags whose content the spec defines as
//! opaque ([`ContentKind::Opaque`]) carry base64 with no marker; anywhere else
//! an element holding opaque data gets `wbxml="opaque"`, and an opaque-typed
//! tag that holds an ordinary string gets `wbxml="string"`, so every EAS
//! document survives WBXML -> XML -> WBXML. (An element mixing strings and
//! opaque blocks, which no EAS message does, comes back with them joined.)
//!
//! Tags and pages the table does not know are written `Tag_3F` and `Page30:`
//! and read back the same way.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::name::ResolveResult;

use crate::codepages::{self, ContentKind};
use crate::wbxml::{Element, Limits, NodeRef, Tag};

/// The attribute that marks content whose kind differs from the tag's.
const MARKER: &str = "wbxml";

/// Renders an element as an XML document.
pub fn to_xml(root: &Element<'_>) -> String {
    let mut pages: Vec<u8> = Vec::new();
    collect_pages(root, &mut pages);
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let root_page = root.tag.page();
    // Open tag of the root, with every namespace the document uses.
    out.push('<');
    out.push_str(&tag_name(root.tag));
    let _ = write!(out, " xmlns=\"{}\"", namespace(root_page));
    for &p in pages.iter().filter(|&&p| p != root_page) {
        let _ = write!(out, " xmlns:{}=\"{}\"", prefix(p), namespace(p));
    }
    write_element_rest(&mut out, root, root_page, 0);
    out.push('\n');
    out
}

fn collect_pages(root: &Element<'_>, pages: &mut Vec<u8>) {
    let mut stack = vec![root];
    while let Some(el) = stack.pop() {
        if !pages.contains(&el.tag.page()) {
            pages.push(el.tag.page());
        }
        stack.extend(el.elements());
    }
    pages.sort_unstable();
}

fn namespace(page: u8) -> String {
    match codepages::page(page) {
        Some(p) => p.namespace(),
        None => format!("Page{page}:"),
    }
}

fn prefix(page: u8) -> String {
    match codepages::page(page) {
        Some(p) => p.prefix.to_owned(),
        None => format!("page{page}"),
    }
}

fn tag_name(tag: Tag) -> String {
    match tag.name() {
        Some(name) => name.to_owned(),
        None => format!("Tag_{:02X}", tag.token()),
    }
}

fn qualified_name(tag: Tag, root_page: u8) -> String {
    if tag.page() == root_page {
        tag_name(tag)
    } else {
        format!("{}:{}", prefix(tag.page()), tag_name(tag))
    }
}

fn content_kind(tag: Tag) -> ContentKind {
    codepages::tag_def(tag).map_or(ContentKind::Text, |d| d.content)
}

/// Writes what follows `<name` of an element: the marker if any, its content
/// and its end tag. Iterative over the tree, so depth cannot exhaust the stack.
fn write_element_rest(out: &mut String, el: &Element<'_>, root_page: u8, depth: usize) {
    struct Frame<'e, 'a> {
        el: &'e Element<'a>,
        nodes: Vec<NodeRef<'e, 'a>>,
        next: usize,
        depth: usize,
        /// Content is text or mixed: no indentation may be added inside.
        inline: bool,
    }
    let mut stack = vec![open_rest(out, el, depth)];
    while let Some(frame) = stack.last_mut() {
        let Some(node) = frame.nodes.get(frame.next).copied() else {
            let (el, depth, inline) = (frame.el, frame.depth, frame.inline);
            stack.pop();
            if !el.is_empty() {
                if !inline {
                    newline_indent(out, depth);
                }
                out.push_str("</");
                out.push_str(&qualified_name(el.tag, root_page));
                out.push('>');
            }
            continue;
        };
        frame.next += 1;
        let (inline, depth) = (frame.inline, frame.depth);
        match node {
            NodeRef::Element(child) => {
                if !inline {
                    newline_indent(out, depth + 1);
                }
                out.push('<');
                out.push_str(&qualified_name(child.tag, root_page));
                let mut f = open_rest(out, child, depth + 1);
                f.inline |= inline;
                stack.push(f);
            }
            NodeRef::Text(text) => escape_into(out, text),
            NodeRef::Opaque(data) => out.push_str(&BASE64.encode(data)),
        }
    }

    fn open_rest<'e, 'a>(out: &mut String, el: &'e Element<'a>, depth: usize) -> Frame<'e, 'a> {
        let nodes: Vec<NodeRef<'e, 'a>> = el.nodes().collect();
        let has_text = nodes.iter().any(|n| matches!(n, NodeRef::Text(_)));
        let has_opaque = nodes.iter().any(|n| matches!(n, NodeRef::Opaque(_)));
        let has_elements = nodes.iter().any(|n| matches!(n, NodeRef::Element(_)));
        match (content_kind(el.tag), has_text, has_opaque) {
            (ContentKind::Text, _, true) => {
                let _ = write!(out, " {MARKER}=\"opaque\"");
            }
            (ContentKind::Opaque, true, false) => {
                let _ = write!(out, " {MARKER}=\"string\"");
            }
            // An empty opaque block would read back as no content at all.
            (ContentKind::Opaque, false, true) if el.opaque_content() == Some(&[]) => {
                let _ = write!(out, " {MARKER}=\"opaque\"");
            }
            _ => {}
        }
        out.push_str(if el.is_empty() { "/>" } else { ">" });
        Frame {
            el,
            nodes,
            next: 0,
            depth,
            inline: has_text || has_opaque || !has_elements,
        }
    }
}

fn newline_indent(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A bare CR would become LF when read back (XML 1.0 section 2.11).
            '\r' => out.push_str("&#13;"),
            // Control characters are not XML 1.0 characters; a WBXML string
            // may hold them (never NUL), so they are written as character
            // references, which the reader accepts as XML 1.1 does.
            c if is_restricted(c) => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Characters XML 1.0 does not allow in a document (section 2.2), NUL
/// apart: they may appear only as character references.
fn is_restricted(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Why XML text could not be read as an EAS document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XML at byte {offset}: {kind}")]
pub struct XmlError {
    pub offset: u64,
    pub kind: XmlErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlErrorKind {
    #[error("{0}")]
    Syntax(String),
    #[error("document of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("element <{0}> has no namespace: declare one, e.g. xmlns=\"AirSync:\"")]
    NoNamespace(String),
    #[error(
        "namespace {0:?} is not an ActiveSync code page (expected e.g. \"AirSync:\", \"Email:\")"
    )]
    UnknownNamespace(String),
    #[error("{namespace} has no element named {name:?}")]
    UnknownTag { namespace: String, name: String },
    #[error(
        "attribute {0:?}: ActiveSync elements have no attributes (only xmlns and wbxml=\"opaque\"/\"string\")"
    )]
    Attribute(String),
    #[error("<{0}> holds opaque data but its content is not valid base64")]
    BadBase64(String),
    #[error("text outside the root element")]
    ContentOutsideRoot,
    #[error("a second root element <{0}>")]
    SecondRoot(String),
    #[error("no root element")]
    NoRootElement,
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error(
        "character U+{0:04X} is not allowed in XML text (write it as a character reference; NUL cannot be written at all)"
    )]
    InvalidCharacter(u32),
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} elements")]
    TooManyElements(usize),
}

/// An element being read: its content so far, and pending text.
struct Open {
    el: Element<'static>,
    opaque: bool,
    /// `wbxml="opaque"` was written: no content is an empty opaque block.
    marked_opaque: bool,
    text: String,
    name: String,
}

impl Open {
    /// Moves pending text into the element. Whitespace next to child
    /// elements is indentation, not content.
    fn flush_text(&mut self, closing: bool, offset: u64) -> Result<(), XmlError> {
        if self.text.is_empty() {
            return Ok(());
        }
        let has_elements = self.el.elements().next().is_some();
        let blank = self
            .text
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        if blank && (has_elements || !closing) {
            self.text.clear();
            return Ok(());
        }
        let text = std::mem::take(&mut self.text);
        if self.opaque {
            let cleaned: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let data = BASE64.decode(cleaned.as_bytes()).map_err(|_| XmlError {
                offset,
                kind: XmlErrorKind::BadBase64(self.name.clone()),
            })?;
            self.el.push_opaque(data);
        } else {
            self.el.push_text(text);
        }
        Ok(())
    }
}

/// Reads the XML text form back into an element.
pub fn from_xml(text: &str, limits: Limits) -> Result<Element<'static>, XmlError> {
    if text.len() > limits.max_bytes {
        return Err(XmlError {
            offset: 0,
            kind: XmlErrorKind::TooLarge {
                size: text.len(),
                limit: limits.max_bytes,
            },
        });
    }
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let offset = reader.buffer_position();
        let err = |kind| XmlError { offset, kind };
        let (ns, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(e) => {
                let kind = XmlErrorKind::Syntax(e.to_string());
                return Err(XmlError {
                    offset: reader.error_position(),
                    kind,
                });
            }
        };
        let ns = match ns {
            ResolveResult::Bound(ns) => Some(ns.into_inner().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(err(XmlErrorKind::Syntax(format!(
                    "undeclared namespace prefix {prefix:?}"
                ))));
            }
        };
        match event {
            XmlEvent::Start(ref start) | XmlEvent::Empty(ref start) => {
                let empty = matches!(event, XmlEvent::Empty(_));
                let name = start.name().as_ref().to_owned();
                if root.is_some() {
                    return Err(err(XmlErrorKind::SecondRoot(name)));
                }
                if stack.len() >= limits.max_depth {
                    return Err(err(XmlErrorKind::TooDeep(limits.max_depth)));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(err(XmlErrorKind::TooManyElements(limits.max_elements)));
                }
                let tag = resolve_tag(ns.as_deref(), start).map_err(err)?;
                let (opaque, marked_opaque) = opaque_marker(tag, start).map_err(err)?;
                if let Some(parent) = stack.last_mut() {
                    parent.flush_text(false, offset)?;
                }
                let open = Open {
                    el: Element::new(tag),
                    opaque,
                    marked_opaque,
                    text: String::new(),
                    name,
                };
                if empty {
                    close(open, &mut stack, &mut root, offset)?;
                } else {
                    stack.push(open);
                }
            }
            XmlEvent::End(_) => {
                if let Some(open) = stack.pop() {
                    close(open, &mut stack, &mut root, offset)?;
                }
            }
            XmlEvent::Text(t) => {
                let content = t.xml10_content();
                check_chars(&content).map_err(err)?;
                append_text(&mut stack, &content).map_err(err)?;
            }
            XmlEvent::CData(c) => {
                let content = c.xml10_content();
                check_chars(&content).map_err(err)?;
                append_text(&mut stack, &content).map_err(err)?;
            }
            XmlEvent::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) if c != '\0' => c.to_string(),
                    Ok(Some(_)) | Err(_) => {
                        return Err(err(XmlErrorKind::UnknownEntity(String::from(&*r))));
                    }
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| err(XmlErrorKind::UnknownEntity(String::from(&*r))))?
                        .to_owned(),
                };
                append_text(&mut stack, &resolved).map_err(err)?;
            }
            XmlEvent::Eof => break,
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError {
            offset: reader.buffer_position(),
            kind: XmlErrorKind::Syntax("document ends inside an element".into()),
        });
    }
    root.ok_or(XmlError {
        offset: reader.buffer_position(),
        kind: XmlErrorKind::NoRootElement,
    })
}

fn close(
    mut open: Open,
    stack: &mut [Open],
    root: &mut Option<Element>,
    offset: u64,
) -> Result<(), XmlError> {
    open.flush_text(true, offset)?;
    if open.marked_opaque && open.el.is_empty() {
        open.el.push_opaque(Vec::new());
    }
    match stack.last_mut() {
        Some(parent) => parent.el.push(open.el),
        None => *root = Some(open.el),
    }
    Ok(())
}

/// Raw text must hold XML characters only; NUL in particular could not be
/// encoded as a WBXML inline string at all.
fn check_chars(text: &str) -> Result<(), XmlErrorKind> {
    match text.chars().find(|&c| c == '\0' || is_restricted(c)) {
        Some(c) => Err(XmlErrorKind::InvalidCharacter(u32::from(c))),
        None => Ok(()),
    }
}

fn append_text(stack: &mut [Open], text: &str) -> Result<(), XmlErrorKind> {
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(text);
            Ok(())
        }
        None if text.chars().all(|c| c.is_ascii_whitespace()) => Ok(()),
        None => Err(XmlErrorKind::ContentOutsideRoot),
    }
}

fn resolve_tag(ns: Option<&str>, start: &BytesStart<'_>) -> Result<Tag, XmlErrorKind> {
    let local = start.local_name();
    let local = local.as_ref();
    let ns = ns.ok_or_else(|| XmlErrorKind::NoNamespace(local.to_owned()))?;
    let page = match codepages::page_by_namespace(ns) {
        Some(p) => p.number,
        None => ns
            .strip_suffix(':')
            .unwrap_or(ns)
            .strip_prefix("Page")
            .and_then(|n| n.parse::<u8>().ok())
            .ok_or_else(|| XmlErrorKind::UnknownNamespace(ns.to_owned()))?,
    };
    let known = codepages::page(page)
        .and_then(|p| p.tag_by_name(local))
        .map(|d| d.tag);
    known
        .or_else(|| {
            local
                .strip_prefix("Tag_")
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .and_then(|token| Tag::try_new(page, token))
        })
        .ok_or_else(|| XmlErrorKind::UnknownTag {
            namespace: ns.to_owned(),
            name: local.to_owned(),
        })
}

/// Whether the element's text is base64 of opaque data: by the table, unless
/// a `wbxml` attribute says otherwise; and whether the attribute said so.
/// Namespace declarations are the only other attributes allowed.
fn opaque_marker(tag: Tag, start: &BytesStart<'_>) -> Result<(bool, bool), XmlErrorKind> {
    let mut opaque = content_kind(tag) == ContentKind::Opaque;
    let mut marked = false;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlErrorKind::Syntax(e.to_string()))?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        match (key, attr.value.as_ref()) {
            (MARKER, "opaque") => {
                opaque = true;
                marked = true;
            }
            (MARKER, "string") => opaque = false,
            _ => return Err(XmlErrorKind::Attribute(key.to_owned())),
        }
    }
    Ok((opaque, marked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codepages::{airsync, airsyncbase, email};

    fn sample() -> Element<'static> {
        Element::new(airsync::Sync).with(
            Element::new(airsync::Collections).with(
                Element::new(airsync::Collection)
                    .with(Element::text(airsync::SyncKey, "1"))
                    .with(Element::new(airsync::GetChanges))
                    .with(
                        Element::new(airsync::ApplicationData)
                            .with(Element::text(email::Subject, " a < b & \"c\"\r\n"))
                            .with(
                                Element::new(airsyncbase::Body)
                                    .with(Element::text(airsyncbase::Type, "1")),
                            ),
                    ),
            ),
        )
    }

    #[test]
    fn writes_the_spec_s_form() {
        let xml = to_xml(&sample());
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync:" xmlns:email="Email:" xmlns:airsyncbase="AirSyncBase:">
  <Collections>
    <Collection>
      <SyncKey>1</SyncKey>
      <GetChanges/>
      <ApplicationData>
        <email:Subject> a &lt; b &amp; "c"&#13;
</email:Subject>
        <airsyncbase:Body>
          <airsyncbase:Type>1</airsyncbase:Type>
        </airsyncbase:Body>
      </ApplicationData>
    </Collection>
  </Collections>
</Sync>
"#
        );
        assert_eq!(from_xml(&xml, Limits::default()).unwrap(), sample());
    }

    #[test]
    fn reads_per_element_namespaces_as_libwbxml2_writes_them() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/"><Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey><GetChanges/><ApplicationData><Subject xmlns="Email:"> a &lt; b &amp; "c"&#13;
</Subject><Body xmlns="AirSyncBase:"><Type>1</Type></Body></ApplicationData></Collection></Collections></Sync>"#;
        assert_eq!(from_xml(xml, Limits::default()).unwrap(), sample());
    }

    #[test]
    fn opaque_round_trips_with_and_without_marker() {
        use crate::codepages::{composemail, email2};
        let doc = Element::new(composemail::SendMail)
            .with(Element::text(composemail::ClientId, "1"))
            .with(Element::opaque(
                composemail::Mime,
                b"From: a\r\n\r\nhi".to_vec(),
            ))
            .with(Element::opaque(airsync::Class, vec![0, 255]))
            .with(Element::text(email2::ConversationId, "plain"));
        let xml = to_xml(&doc);
        assert!(xml.contains("<Mime>RnJvbTogYQ0KDQpoaQ==</Mime>"), "{xml}");
        assert!(
            xml.contains("<airsync:Class wbxml=\"opaque\">AP8=</airsync:Class>"),
            "{xml}"
        );
        assert!(
            xml.contains("<email2:ConversationId wbxml=\"string\">plain</email2:ConversationId>"),
            "{xml}"
        );
        assert_eq!(from_xml(&xml, Limits::default()).unwrap(), doc);
    }

    #[test]
    fn control_characters_travel_as_character_references() {
        let doc = Element::text(email::Subject, "bell\u{7} tab\t form\u{C} \u{FFFE}");
        let xml = to_xml(&doc);
        assert!(
            xml.contains("<Subject xmlns=\"Email:\">bell&#x7; tab\t form&#xC; &#xFFFE;</Subject>"),
            "{xml}"
        );
        assert_eq!(from_xml(&xml, Limits::default()).unwrap(), doc);
    }

    #[test]
    fn unknown_tags_and_pages_round_trip() {
        let doc = Element::new(Tag::new(0, 0x3F)).with(Element::text(Tag::new(40, 0x05), "x"));
        let xml = to_xml(&doc);
        assert!(
            xml.contains("<Tag_3F xmlns=\"AirSync:\" xmlns:page40=\"Page40:\">"),
            "{xml}"
        );
        assert_eq!(from_xml(&xml, Limits::default()).unwrap(), doc);
    }

    #[test]
    fn whitespace_inside_text_is_kept_between_elements_dropped() {
        let xml =
            "<Sync xmlns=\"AirSync:\">\n  <SyncKey>  </SyncKey>\n  <Class> x </Class>\n</Sync>";
        let el = from_xml(xml, Limits::default()).unwrap();
        assert_eq!(
            el,
            Element::new(airsync::Sync)
                .with(Element::text(airsync::SyncKey, "  "))
                .with(Element::text(airsync::Class, " x "))
        );
    }

    #[test]
    fn errors() {
        let kind = |xml: &str| from_xml(xml, Limits::default()).unwrap_err().kind;
        assert_eq!(kind("<Sync/>"), XmlErrorKind::NoNamespace("Sync".into()));
        assert_eq!(
            kind("<Sync xmlns=\"Nope:\"/>"),
            XmlErrorKind::UnknownNamespace("Nope:".into())
        );
        assert!(matches!(
            kind("<Sink xmlns=\"AirSync:\"/>"),
            XmlErrorKind::UnknownTag { .. }
        ));
        assert_eq!(
            kind("<Sync xmlns=\"AirSync:\" a=\"1\"/>"),
            XmlErrorKind::Attribute("a".into())
        );
        assert_eq!(
            kind("<Sync xmlns=\"AirSync:\"/><Sync xmlns=\"AirSync:\"/>"),
            XmlErrorKind::SecondRoot("Sync".into())
        );
        assert_eq!(kind(""), XmlErrorKind::NoRootElement);
        assert_eq!(
            kind("x<Sync xmlns=\"AirSync:\"/>"),
            XmlErrorKind::ContentOutsideRoot
        );
        assert_eq!(
            kind("<Sync xmlns=\"AirSync:\">&foo;</Sync>"),
            XmlErrorKind::UnknownEntity("foo".into())
        );
        assert_eq!(
            kind("<Sync xmlns=\"AirSync:\">&#0;</Sync>"),
            XmlErrorKind::UnknownEntity("#0".into())
        );
        assert!(matches!(
            kind("<Sync xmlns=\"AirSync:\"><Class>"),
            XmlErrorKind::Syntax(_)
        ));
        assert!(matches!(
            kind("<Sync xmlns=\"AirSync:\"></Class>"),
            XmlErrorKind::Syntax(_)
        ));
        assert!(matches!(
            kind("<SendMail xmlns=\"ComposeMail:\"><Mime>!!</Mime></SendMail>"),
            XmlErrorKind::BadBase64(_)
        ));
        let deep = Limits {
            max_depth: 1,
            ..Limits::default()
        };
        assert_eq!(
            from_xml("<Sync xmlns=\"AirSync:\"><Class/></Sync>", deep)
                .unwrap_err()
                .kind,
            XmlErrorKind::TooDeep(1)
        );
    }
}
