//! Any bytes: decoding never panics, and whatever decodes re-encodes to a
//! document that decodes to the same thing, and survives the XML form.
#![no_main]

use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_elements: 100_000,
    };
    let Ok(doc) = Element::decode(data, limits) else {
        return;
    };
    let bytes = doc.encode().expect("a decoded document always encodes");
    let again = Element::decode(&bytes, limits).expect("our own encoding decodes");
    assert_eq!(again, doc);
    let text = xml::to_xml(&doc);
    let back = xml::from_xml(
        &text,
        Limits {
            max_bytes: usize::MAX,
            ..limits
        },
    );
    // The XML form joins strings and opaque blocks that share an element;
    // every other document must come back whole.
    if is_eas_shaped(&doc) {
        assert_eq!(back.as_ref(), Ok(&doc), "XML was {text}");
    }
});

fn is_eas_shaped(el: &Element<'_>) -> bool {
    use eas_proto::wbxml::NodeRef;
    let nodes: Vec<NodeRef<'_, '_>> = el.nodes().collect();
    let elements = nodes
        .iter()
        .filter(|n| matches!(n, NodeRef::Element(_)))
        .count();
    let leaves = nodes.len() - elements;
    (leaves == 0 || (elements == 0 && leaves == 1)) && el.elements().all(is_eas_shaped)
}
