//! Any text: reading it as the XML form never panics, and what it reads
//! encodes to WBXML that decodes to the same document.
#![no_main]

use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_elements: 100_000,
    };
    let Ok(doc) = xml::from_xml(text, limits) else {
        return;
    };
    let bytes = doc
        .encode()
        .expect("XML text cannot hold NUL, so every document encodes");
    let again = Element::decode(&bytes, limits).expect("our own encoding decodes");
    assert_eq!(again, doc);
});
