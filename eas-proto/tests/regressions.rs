//! Inputs the fuzzers found, kept so they stay fixed. Each file under
//! `fixtures/fuzz/<target>/` is replayed through the same checks its fuzz
//! target makes.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml::{self, XmlErrorKind};

fn limits() -> Limits {
    Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_elements: 100_000,
    }
}

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fuzz")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The xml_to_wbxml target: whatever reads as XML encodes, and decodes back
/// to itself.
fn xml_to_wbxml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = xml::from_xml(text, limits()) else {
        return;
    };
    let bytes = doc.encode().expect("a document read from XML encodes");
    assert_eq!(Element::decode(&bytes, limits()).unwrap(), doc);
}

/// The wbxml_decode target: whatever decodes re-encodes to itself.
fn wbxml_decode(data: &[u8]) {
    let Ok(doc) = Element::decode(data, limits()) else {
        return;
    };
    let bytes = doc.encode().expect("a decoded document encodes");
    assert_eq!(Element::decode(&bytes, limits()).unwrap(), doc);
}

#[test]
fn every_saved_input_passes_its_target() {
    let xml_inputs = inputs("xml_to_wbxml");
    assert!(
        !xml_inputs.is_empty(),
        "fixtures/fuzz/xml_to_wbxml is empty"
    );
    for (name, data) in xml_inputs {
        eprintln!("replaying {name}");
        xml_to_wbxml(&data);
    }
    for (name, data) in inputs("wbxml_decode") {
        eprintln!("replaying {name}");
        wbxml_decode(&data);
    }
}

/// Found by xml_to_wbxml: NUL characters between elements were taken as
/// mixed-content text, which no WBXML inline string can carry, so encoding
/// failed. XML 1.0 forbids NUL; the reader now says so.
#[test]
fn nul_in_xml_text_is_refused() {
    let err = xml::from_xml(
        "<Sync xmlns=\"AirSync:\"><Collections/>\0\0<Status>1</Status></Sync>",
        limits(),
    )
    .unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::InvalidCharacter(0));
}
