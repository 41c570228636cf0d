//! Mail content: what the server reads from a message's MIME. The bytes
//! themselves are never changed (DESIGN.md, promise 1).

pub mod content;
pub mod import;
pub mod lmtp;
pub mod summary;
