//! Known answers: every `fixtures/wbxml/<case>.wbxml`, written byte by byte
//! from the spec's examples, against its `<case>.xml`, both ways.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml;

fn cases() -> Vec<(String, Vec<u8>, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/wbxml");
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for wbxml in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "wbxml"))
    {
        let xml = wbxml.with_extension("xml");
        let name = wbxml
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(wbxml).unwrap();
        let text =
            std::fs::read_to_string(&xml).unwrap_or_else(|e| panic!("{}: {e}", xml.display()));
        out.push((name, bytes, text));
    }
    out
}

#[test]
fn every_fixture_decodes_to_its_xml_and_encodes_to_its_bytes() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} fixtures", cases.len());
    let mut failures = Vec::new();
    for (name, bytes, text) in &cases {
        let expected = match xml::from_xml(text, Limits::default()) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{name}.xml: {e}"));
                continue;
            }
        };
        match Element::decode(bytes, Limits::default()) {
            Ok(doc) if doc == expected => {}
            Ok(doc) => failures.push(format!(
                "{name}: the bytes decode to\n{}\nnot\n{}",
                xml::to_xml(&doc),
                xml::to_xml(&expected)
            )),
            Err(e) => failures.push(format!("{name}.wbxml: {e}")),
        }
        match expected.encode() {
            Ok(ours) if &ours == bytes => {}
            Ok(ours) => failures.push(format!(
                "{name}: we encode\n{}\nthe fixture has\n{}",
                hex(&ours),
                hex(bytes)
            )),
            Err(e) => failures.push(format!("{name}: encoding failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
