//! The EAS code pages of MS-ASWBXML 2.1.2.1: every tag of pages 0 to 25 with
//! its token and the protocol versions that define it.
//!
//! The table is written once, in `table.rs`, through the `code_pages!` macro.
//! From it come a module of named [`Tag`] constants per page (`airsync::Sync`,
//! `email::Subject`, named exactly as the spec names them) and the static
//! [`PAGES`] that the decoder's XML form, the encoder and the XML reader all
//! consult. Nothing else in the crate spells a token number.

use crate::version::Versions;
use crate::wbxml::Tag;

/// How the content of a tag is written in WBXML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// Child elements or an inline string (`STR_I`).
    Text,
    /// Raw bytes (`OPAQUE`): the spec defines the value as binary, so the XML
    /// form shows it as base64 and turns base64 back into bytes.
    Opaque,
}

/// One tag of a code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagDef {
    pub tag: Tag,
    /// The element name as MS-ASWBXML spells it.
    pub name: &'static str,
    /// The protocol versions whose table lists this tag.
    pub versions: Versions,
    pub content: ContentKind,
}

/// One code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageDef {
    pub number: u8,
    /// The page name, which is also the XML namespace without its colon
    /// (`AirSync` is written `xmlns="AirSync:"`, as MS-ASCMD's examples do).
    pub name: &'static str,
    /// The prefix used for this namespace in the XML form (`airsyncbase`).
    pub prefix: &'static str,
    /// Sorted by token.
    pub tags: &'static [TagDef],
}

impl PageDef {
    pub fn tag(&self, token: u8) -> Option<&'static TagDef> {
        let tags: &'static [TagDef] = self.tags;
        tags.binary_search_by_key(&token, |t| t.tag.token())
            .ok()
            .and_then(|i| tags.get(i))
    }

    /// The tag with this name. Letter case is forgiven when nothing matches
    /// exactly: the specs themselves disagree on it (MS-ASWBXML's `Timezone`
    /// and `DtStamp` are MS-ASCAL's `TimeZone` and libwbxml2's `DTStamp`), and
    /// no two names of one page differ only in case.
    pub fn tag_by_name(&self, name: &str) -> Option<&'static TagDef> {
        let tags: &'static [TagDef] = self.tags;
        tags.iter()
            .find(|t| t.name == name)
            .or_else(|| tags.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
    }

    /// The namespace URI of the XML form: the page name and a colon.
    pub fn namespace(&self) -> String {
        format!("{}:", self.name)
    }
}

/// The page with this number, if EAS defines one.
pub fn page(number: u8) -> Option<&'static PageDef> {
    PAGES.get(usize::from(number))
}

/// The definition of a tag, if its page and token are known.
pub fn tag_def(tag: Tag) -> Option<&'static TagDef> {
    page(tag.page()).and_then(|p| p.tag(tag.token()))
}

/// The page whose namespace this is. Accepts the spec's `AirSync:` and the
/// bare `AirSync`, in any letter case, since captures and hand-written XML
/// use both.
pub fn page_by_namespace(ns: &str) -> Option<&'static PageDef> {
    let bare = ns.strip_suffix(':').unwrap_or(ns);
    PAGES.iter().find(|p| p.name.eq_ignore_ascii_case(bare))
}

macro_rules! code_pages {
    ($(
        $(#[$doc:meta])*
        $number:literal => $page:ident, $module:ident {
            $( $name:ident = $token:literal, $versions:expr $(, $kind:ident)? ; )*
        }
    )*) => {
        $(
            $(#[$doc])*
            #[allow(non_upper_case_globals)]
            pub mod $module {
                #[allow(unused_imports)]
                use crate::wbxml::Tag;
                $(
                    pub const $name: Tag = Tag::new($number, $token);
                )*
            }
        )*

        /// Every page, indexed by its number.
        pub static PAGES: &[PageDef] = &[
            $(
                PageDef {
                    number: $number,
                    name: stringify!($page),
                    prefix: stringify!($module),
                    tags: {
                        #[allow(unused_imports)]
                        use crate::version::ProtocolVersion::*;
                        #[allow(unused_imports)]
                        use crate::version::Versions;
                        #[allow(dead_code)]
                        const ALL: Versions = Versions::ALL;
                        #[allow(dead_code)]
                        const fn since(v: crate::version::ProtocolVersion) -> Versions {
                            Versions::since(v)
                        }
                        #[allow(dead_code)]
                        const fn only(v: &[crate::version::ProtocolVersion]) -> Versions {
                            Versions::only(v)
                        }
                        &[
                            $(
                                TagDef {
                                    tag: crate::wbxml::Tag::new($number, $token),
                                    name: stringify!($name),
                                    versions: $versions,
                                    content: {
                                        #[allow(unused_variables)]
                                        let kind = ContentKind::Text;
                                        $( let kind = ContentKind::$kind; )?
                                        kind
                                    },
                                },
                            )*
                        ]
                    },
                },
            )*
        ];
    };
}

mod table;
pub use table::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbered_in_order_and_tokens_are_sorted_and_in_range() {
        assert_eq!(PAGES.len(), 26, "MS-ASWBXML 16.1 defines pages 0 to 25");
        for (i, page) in PAGES.iter().enumerate() {
            assert_eq!(
                usize::from(page.number),
                i,
                "page {} out of place",
                page.name
            );
            assert!(
                !page.tags.is_empty() || page.name == "AirNotify",
                "{} has no tags",
                page.name
            );
            for pair in page.tags.windows(2) {
                if let [a, b] = pair {
                    assert!(
                        a.tag.token() < b.tag.token(),
                        "{}: {} (0x{:02X}) before {} (0x{:02X})",
                        page.name,
                        a.name,
                        a.tag.token(),
                        b.name,
                        b.tag.token()
                    );
                }
            }
            for t in page.tags {
                assert!(
                    (0x05..=0x3F).contains(&t.tag.token()),
                    "{}:{}",
                    page.name,
                    t.name
                );
                assert_eq!(t.tag.page(), page.number);
                assert_eq!(
                    page.tag_by_name(t.name).map(|d| d.tag),
                    Some(t.tag),
                    "{}:{} named twice",
                    page.name,
                    t.name
                );
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(tag_def(airsync::Sync).map(|d| d.name), Some("Sync"));
        assert_eq!(
            page_by_namespace("AirSyncBase:").map(|p| p.number),
            Some(17)
        );
        assert_eq!(page_by_namespace("email2").map(|p| p.number), Some(22));
        assert_eq!(page(26), None);
    }
}
