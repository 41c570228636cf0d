//! SmartReply and SmartForward without ReplaceMime (and 12.x's
//! message/rfc822 bodies to the same commands): the client's bytes and the
//! original's, both anything. Byte 0 picks reply or forward, bytes 1–2 say
//! where the client's message ends and the original begins.
//!
//! Building never panics. A forward holds the original byte for byte (a
//! signature inside it must still verify); both hold the client's body
//! byte for byte; the result summarises, as the store will when it files
//! the copy in Sent Items.
#![no_main]

use eas_server::mail::compose::{ComposeError, forward, reply};
use eas_server::mail::summary::summarize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [op, hi, lo, rest @ ..] = data else {
        return;
    };
    let cut = usize::from(u16::from_be_bytes([*hi, *lo])) % (rest.len() + 1);
    let (client, original) = rest.split_at(cut);
    let built = if op & 1 == 0 {
        reply(client, original)
    } else {
        forward(client, original)
    };
    let out = match built {
        Ok(out) => out,
        Err(ComposeError::NoHeaders | ComposeError::UnreadableOriginal) => return,
    };
    if op & 1 == 1 {
        assert!(
            contains(&out, original),
            "the forward lost the original's bytes"
        );
    }
    if let Some(body) = body_of(client) {
        assert!(
            contains(&out, body),
            "the client's body was not kept byte for byte"
        );
    }
    let _ = summarize(&out);
});

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The body of a client message whose header block is well formed (fields
/// and continuations up to an empty line), read independently of the code
/// under test; `None` for anything else, whose split is a judgement call.
fn body_of(message: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    let mut fields = 0;
    loop {
        let rest = message.get(pos..)?;
        let nl = rest.iter().position(|&b| b == b'\n')?;
        let line = rest.get(..nl)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += nl + 1;
        match line.first() {
            None => return (fields > 0).then(|| message.get(pos..)).flatten(),
            Some(b' ' | b'\t') if fields > 0 => {}
            _ => {
                let colon = line.iter().position(|&b| b == b':')?;
                let name = line.get(..colon)?;
                if name.is_empty() || !name.iter().all(u8::is_ascii_graphic) {
                    return None;
                }
                fields += 1;
            }
        }
    }
}
