//! LMTP command lines (RFC 2033) as an MTA, or anyone who reaches the port,
//! sends them: any bytes, cut at each LF the way the session reads lines.
//! Reading never panics; an accepted path holds no space or control
//! character; and a refusal is one reply line with a code, whatever the
//! peer put in the parameter it echoes.
#![no_main]

use eas_server::mail::lmtp::{Command, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split_inclusive(|&b| b == b'\n') {
        match parse_command(line) {
            Ok(Command::Mail { from, .. }) => clean_path(from),
            Ok(Command::Rcpt { to }) => {
                assert!(!to.is_empty());
                clean_path(to);
            }
            Ok(_) => {}
            Err(refusal) => {
                let reply = refusal.reply();
                let code = reply.as_bytes().get(..4).unwrap_or_default();
                assert!(
                    matches!(code, [b'5', b'0'..=b'9', b'0'..=b'9', b' ']),
                    "{reply:?}"
                );
                assert!(!reply.contains(['\r', '\n']), "{reply:?}");
            }
        }
    }
});

fn clean_path(address: &str) {
    assert!(
        !address.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{address:?}"
    );
    assert!(!address.contains(['<', '>']), "{address:?}");
}
