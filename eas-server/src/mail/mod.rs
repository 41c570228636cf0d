//! Mail content: what the server reads from a message's MIME. The bytes
//! themselves are never changed (DESIGN.md, promise 1).

pub mod compose;
pub mod content;
pub mod draft;
pub mod dsn;
pub mod import;
pub mod lmtp;
pub mod oof;
pub mod queue;
pub mod queue_cli;
pub mod smtp;
pub mod submission;
pub mod summary;
