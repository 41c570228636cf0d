//! Property tests: generated documents over every code page survive
//! encode -> decode, and the XML form -> back, unchanged.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use eas_proto::codepages::{ContentKind, PAGES};
use eas_proto::wbxml::{Element, Limits, Tag};
use eas_proto::xml;
use proptest::prelude::*;

/// Any tag of the table, so every page is drawn; now and then a token the
/// table does not know, which must round-trip too.
fn any_tag() -> impl Strategy<Value = Tag> {
    let known: Vec<Tag> = PAGES
        .iter()
        .flat_map(|p| p.tags.iter().map(|t| t.tag))
        .collect();
    prop_oneof![
        20 => proptest::sample::select(known),
        1 => (0u8..=40, Tag::MIN_TOKEN..=Tag::MAX_TOKEN).prop_map(|(p, t)| Tag::new(p, t)),
    ]
}

/// Text as clients send it: any Unicode but NUL, which WBXML strings cannot
/// hold. Non-empty, since decoding drops empty strings.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 :.@<>&\"'-]{1,20}",
        "[^\u{0}]{1,12}",
        Just("\r\n".to_owned()),
    ]
}

/// What a generated element holds.
#[derive(Debug, Clone)]
enum Piece {
    Element(Element<'static>),
    Text(String),
    Opaque(Vec<u8>),
}

fn build(tag: Tag, pieces: Vec<Piece>) -> Element<'static> {
    let mut el = Element::new(tag);
    for piece in pieces {
        match piece {
            Piece::Element(e) => el.push(e),
            Piece::Text(t) => el.push_text(t),
            Piece::Opaque(d) => el.push_opaque(d),
        }
    }
    el
}

/// Documents shaped as EAS's are: each element holds elements, one string, one
/// opaque block, or nothing. This is the shape the XML form is lossless for.
fn eas_shaped() -> impl Strategy<Value = Element<'static>> {
    let leaf = (
        any_tag(),
        prop_oneof![
            Just(None),
            any_text().prop_map(|t| Some(Piece::Text(t))),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|d| Some(Piece::Opaque(d))),
        ],
    )
        .prop_map(|(tag, content)| build(tag, content.into_iter().collect()));
    leaf.prop_recursive(6, 200, 8, |inner| {
        (any_tag(), proptest::collection::vec(inner, 1..8))
            .prop_map(|(tag, kids)| build(tag, kids.into_iter().map(Piece::Element).collect()))
    })
}

/// Any document WBXML can carry, mixed content included.
fn any_document() -> impl Strategy<Value = Element<'static>> {
    let node_leaf = prop_oneof![
        any_text().prop_map(Piece::Text),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Piece::Opaque),
    ];
    let leaf = any_tag().prop_map(Element::new);
    leaf.prop_recursive(6, 300, 8, move |inner| {
        (
            any_tag(),
            proptest::collection::vec(
                prop_oneof![inner.prop_map(Piece::Element), node_leaf.clone()],
                0..8,
            ),
        )
            .prop_map(|(tag, pieces)| build(tag, pieces))
    })
}

fn generous() -> Limits {
    Limits {
        max_depth: 64,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn wbxml_round_trip(doc in any_document()) {
        let bytes = doc.encode().unwrap();
        prop_assert_eq!(Element::decode(&bytes, generous()).unwrap(), doc);
    }

    #[test]
    fn xml_round_trip(doc in eas_shaped()) {
        let text = xml::to_xml(&doc);
        let back = xml::from_xml(&text, generous());
        prop_assert_eq!(back.as_ref(), Ok(&doc), "XML was:\n{}", text);
    }

    #[test]
    fn wbxml_xml_wbxml_is_byte_identical(doc in eas_shaped()) {
        let bytes = doc.encode().unwrap();
        let decoded = Element::decode(&bytes, generous()).unwrap();
        let again = xml::from_xml(&xml::to_xml(&decoded), generous()).unwrap().encode().unwrap();
        prop_assert_eq!(again, bytes);
    }

    /// Truncating a valid document anywhere gives an error, never a panic or
    /// a different document.
    #[test]
    fn every_truncation_is_an_error(doc in eas_shaped(), cut in any::<prop::sample::Index>()) {
        let bytes = doc.encode().unwrap();
        let at = cut.index(bytes.len());
        prop_assert!(Element::decode(bytes.get(..at).unwrap_or_default(), generous()).is_err());
    }
}

#[test]
fn every_tag_of_every_page_round_trips_alone() {
    for page in PAGES {
        for def in page.tags {
            let el = match def.content {
                ContentKind::Opaque => Element::opaque(def.tag, vec![1, 2, 3]),
                ContentKind::Text => Element::text(def.tag, "v"),
            };
            let bytes = el.encode().unwrap();
            assert_eq!(
                Element::decode(&bytes, Limits::default()).unwrap(),
                el,
                "{}:{}",
                page.name,
                def.name
            );
            let text = xml::to_xml(&el);
            assert!(
                !text.contains("wbxml="),
                "{}:{} needs no marker: {text}",
                page.name,
                def.name
            );
            assert_eq!(
                xml::from_xml(&text, Limits::default()).unwrap(),
                el,
                "{text}"
            );
        }
    }
}
