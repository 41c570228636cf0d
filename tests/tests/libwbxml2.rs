//! Our codec against Debian's libwbxml2 0.11.8, an independent WBXML
//! implementation with its own ActiveSync tables.
//!
//! What libwbxml2 lacks or names otherwise is listed in
//! `eas_tests::libwbxml2` (`lacks`, `NAMES`, `binary_in_its_xml`); the first
//! test proves those lists exact, tag by tag, so everything else must agree
//! token for token.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use eas_proto::codepages::{ContentKind, PAGES, TagDef};
use eas_proto::wbxml::{Element, Limits, Tag};
use eas_tests::libwbxml2::{self, binary_in_its_xml, lacks};

fn sample(def: &TagDef) -> Element<'static> {
    match def.content {
        ContentKind::Opaque => Element::opaque(def.tag, vec![1, 2, 3]),
        ContentKind::Text => Element::text(def.tag, "v"),
    }
}

/// Ours -> libwbxml2: our bytes, decoded by libwbxml2, are our document.
fn via_their_decoder(doc: &Element<'_>) -> Result<Element<'static>, String> {
    let bytes = doc.encode().map_err(|e| e.to_string())?;
    let xml = libwbxml2::decode(&bytes)?;
    libwbxml2::from_their_xml(&xml).map_err(|e| format!("{e} in {xml}"))
}

/// libwbxml2 -> ours: libwbxml2's encoding, decoded by us, is the document.
fn via_their_encoder(doc: &Element<'_>) -> Result<Element<'static>, String> {
    let bytes = libwbxml2::encode(&libwbxml2::to_their_xml(doc))?;
    Element::decode(&bytes, Limits::default())
        .map(Element::into_owned)
        .map_err(|e| e.to_string())
}

#[test]
fn every_tag_agrees_with_libwbxml2_except_those_listed() {
    let mut disagreements = Vec::new();
    let mut agreed = 0;
    for page in PAGES {
        for def in page.tags {
            let doc = sample(def);
            let decoded = via_their_decoder(&doc);
            let encoded = via_their_encoder(&doc);
            let ok = if lacks(def.tag) {
                // It must really not know the tag, or the list is stale.
                // (Its encoder, meeting a name in a namespace it does not
                // know, takes the first tag of that name on any page.)
                decoded.is_err() && encoded.as_ref() != Ok(&doc)
            } else if binary_in_its_xml(def.tag) {
                decoded.as_ref() == Ok(&doc)
                    && encoded == Ok(Element::opaque(def.tag, b"v".to_vec()))
            } else {
                decoded.as_ref() == Ok(&doc) && encoded.as_ref() == Ok(&doc)
            };
            if ok {
                agreed += 1;
            } else {
                disagreements.push(format!(
                    "{}:{} (0x{:02X}): their decoder {decoded:?}, their encoder {encoded:?}",
                    page.name,
                    def.name,
                    def.tag.token()
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(agreed > 550, "only {agreed} tags compared");
}

/// A deterministic xorshift, so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn known_tags(page: u8) -> Vec<&'static TagDef> {
    PAGES
        .get(usize::from(page))
        .map(|p| {
            p.tags
                .iter()
                .filter(|d| !lacks(d.tag) && !binary_in_its_xml(d.tag))
                .collect()
        })
        .unwrap_or_default()
}

/// Text as it occurs in mail: words, punctuation XML must escape, non-ASCII.
/// No leading or trailing white space, which libwbxml2 trims.
fn text(rng: &mut Rng) -> String {
    const WORDS: &[&str] = &[
        "Meeting",
        "re:",
        "<agenda>",
        "Q3",
        "&",
        "\"quoted\"",
        "naïve",
        "日本語",
        "O'Brien",
        "café",
        "1:12",
        "2026-11-29T18:00:00.000Z",
        "bob@example.com",
        "→",
        "🙂",
    ];
    let n = 1 + rng.below(5);
    (0..n)
        .map(|_| WORDS[rng.below(WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A document rooted on `page`, mixing in tags of a second page, as EAS
/// application data does.
fn generate(rng: &mut Rng, page: u8, other: u8) -> Element<'static> {
    let mine = known_tags(page);
    let theirs = known_tags(other);
    let pick = |rng: &mut Rng| -> &'static TagDef {
        if rng.below(3) == 0 && !theirs.is_empty() {
            theirs[rng.below(theirs.len())]
        } else {
            mine[rng.below(mine.len())]
        }
    };
    fn build(
        rng: &mut Rng,
        depth: usize,
        pick: &dyn Fn(&mut Rng) -> &'static TagDef,
        def: &TagDef,
    ) -> Element<'static> {
        if def.content == ContentKind::Opaque {
            let len = rng.below(300);
            return Element::opaque(
                def.tag,
                (0..len).map(|_| rng.next() as u8).collect::<Vec<_>>(),
            );
        }
        match (depth, rng.below(4)) {
            (0, _) | (_, 0) => Element::text(def.tag, text(rng)),
            (_, 1) => Element::new(def.tag),
            _ => {
                let mut el = Element::new(def.tag);
                for _ in 0..1 + rng.below(5) {
                    let child = pick(rng);
                    el.push(build(rng, depth - 1, pick, child));
                }
                el
            }
        }
    }
    let root = mine[rng.below(mine.len())];
    let mut doc = Element::new(root.tag);
    for _ in 0..2 + rng.below(4) {
        let child = pick(rng);
        doc.push(build(rng, 4, &pick, child));
    }
    doc
}

fn uses_only_known_tags(el: &Element<'_>) -> bool {
    let ok = |tag: Tag| !lacks(tag) && !binary_in_its_xml(tag) && tag.name().is_some();
    ok(el.tag) && el.elements().all(uses_only_known_tags)
}

fn fixture_documents() -> Vec<(String, Element<'static>)> {
    let dir = eas_tests::fixtures().join("wbxml");
    let mut docs = Vec::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "wbxml"))
    {
        let bytes = std::fs::read(&path).unwrap();
        let doc = Element::decode(&bytes, Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .into_owned();
        docs.push((path.display().to_string(), doc));
    }
    docs
}

#[test]
fn a_corpus_of_documents_agrees_both_ways() {
    let mut corpus: Vec<(String, Element)> = fixture_documents()
        .into_iter()
        .filter(|(_, doc)| uses_only_known_tags(doc))
        .collect();
    let fixtures = corpus.len();
    let mut rng = Rng(0x5EED_CAFE_F00D_D00D);
    // Two documents rooted on every page libwbxml2 knows (all but 3, which is
    // empty, and 25), each mixing in a second page.
    for page in (0u8..25).filter(|p| *p != 3) {
        for round in 0..2u8 {
            let other = ((page as usize + 1 + rng.below(23)) % 25) as u8;
            let other = if other == 3 || other == 25 { 17 } else { other };
            let doc = generate(&mut rng, page, other);
            corpus.push((
                format!("generated page {page} #{round} (+ page {other})"),
                doc,
            ));
        }
    }
    assert!(corpus.len() >= 50, "corpus has {} documents", corpus.len());
    assert!(
        fixtures >= 20,
        "only {fixtures} fixtures are usable with libwbxml2"
    );

    let mut failures = Vec::new();
    for (name, doc) in &corpus {
        match via_their_decoder(doc) {
            Ok(d) if &d == doc => {}
            other => failures.push(format!("{name}: libwbxml2 decoded our bytes as {other:?}")),
        }
        match via_their_encoder(doc) {
            Ok(d) if &d == doc => {}
            other => failures.push(format!("{name}: we decoded libwbxml2's bytes as {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documents disagree:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}
