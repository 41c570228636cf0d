//! Bounds on what a decoder accepts; the caller (the server's config) sets
//! them, so no input can make the decoder allocate or recurse without bound.

/// Limits checked while decoding WBXML or reading the XML form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document, in bytes, accepted at all.
    pub max_bytes: usize,
    /// The deepest element nesting (the root is depth 1).
    pub max_depth: usize,
    /// The most elements in one document.
    pub max_elements: usize,
}

impl Limits {
    /// No limit but memory: for trusted input such as our own fixtures.
    pub const UNLIMITED: Limits = Limits {
        max_bytes: usize::MAX,
        max_depth: usize::MAX,
        max_elements: usize::MAX,
    };
}

impl Default for Limits {
    /// Room for any real request (a SendMail with a large attachment is an
    /// opaque blob, not many elements; a Sync of hundreds of changes is tens
    /// of thousands of elements), while a hostile body stays cheap.
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_elements: 1_000_000,
        }
    }
}
