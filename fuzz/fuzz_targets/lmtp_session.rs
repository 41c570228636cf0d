//! A whole LMTP session (RFC 2033) from a peer that sends anything: the
//! command parser, the transaction's order, DATA's dot un-stuffing and the
//! size and line limits, and delivery into a throwaway store.
//!
//! Never a panic. Every reply is a line of three digits, a space or
//! hyphen, text and CRLF. Nothing is half-written: the Inboxes gain
//! exactly as many messages as recipients were answered "delivered as
//! item".
#![no_main]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use eas_server::mail::lmtp::serve_connection;
use eas_server::store::mailbox::{default_folder, folder_type};
use libfuzzer_sys::fuzz_target;

const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2424);

fuzz_target!(|data: &[u8]| {
    let mut config = common::config();
    // Small enough that the limits are in reach of a fuzzer's input.
    config.lmtp.max_message_bytes = 4096;
    config.lmtp.max_line_bytes = 256;
    config.lmtp.max_recipients = 4;
    let server = common::throwaway(config, |_| {});
    let before = inbox_count(&server);
    let mut replies = Vec::new();
    common::runtime().block_on(serve_connection(
        &server.state,
        "fuzz.example",
        tokio::io::join(data, &mut replies),
        PEER,
    ));

    // One RCPT per recipient gets its reply; the same mailbox named twice
    // gets one copy, so what is counted is the items named.
    let mut delivered = std::collections::BTreeSet::new();
    for line in replies.split_inclusive(|&b| b == b'\n') {
        let ok = line.len() >= 6
            && line[..3].iter().all(u8::is_ascii_digit)
            && matches!(line[3], b' ' | b'-')
            && line.ends_with(b"\r\n")
            && !line[..line.len() - 2].contains(&b'\r');
        assert!(ok, "not a reply line: {:?}", String::from_utf8_lossy(line));
        if line.starts_with(b"250 2.0.0 <") {
            if let Some(at) = find(line, b"> delivered as item ") {
                let id = &line[at + b"> delivered as item ".len()..line.len() - 2];
                delivered.insert((account_of(line), id.to_vec()));
            }
        }
    }
    let gained = inbox_count(&server) - before;
    assert_eq!(
        gained,
        delivered.len(),
        "the Inboxes gained {gained} messages but {} were acknowledged\n{}",
        delivered.len(),
        String::from_utf8_lossy(&replies)
    );
});

fn inbox_count(server: &common::Throwaway) -> usize {
    let inbox = default_folder(folder_type::INBOX).unwrap_or(1);
    ["alice", "bob"]
        .into_iter()
        .map(|a| {
            server
                .state
                .store
                .folder_items(a, inbox)
                .map_or(0, |items| items.len())
        })
        .sum()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The account a delivery reply names (item ids count per account): the
/// local part of its address, lower-cased, which is the account's name
/// for both accounts here, however the address was written.
fn account_of(reply: &[u8]) -> Vec<u8> {
    let start = b"250 2.0.0 <".len();
    let end = find(reply, b">").unwrap_or(start);
    let address = reply.get(start..end).unwrap_or_default();
    let local = address.split(|&b| b == b'@').next().unwrap_or_default();
    local.to_ascii_lowercase()
}
