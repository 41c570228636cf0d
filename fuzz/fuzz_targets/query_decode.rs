//! The query of the request line (MS-ASHTTP 2.2.1.1.1), the first thing any
//! client controls. Any bytes, read three ways: as the bytes under the
//! base64 form (2.2.1.1.1.1), as those bytes base64-encoded the way a
//! client sends them, and as query text in whichever form it looks like.
//! None of them panics; the base64 text says exactly what its bytes say;
//! and whatever parses is written back in both forms and parses again to
//! the same request line.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eas_proto::http::{MAX_QUERY_LEN, QueryForm, RequestLine, encoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let direct = encoded::parse_bytes(data);
    let query = STANDARD.encode(data);
    if !query.is_empty() && query.len() <= MAX_QUERY_LEN {
        assert_eq!(RequestLine::parse(&query), direct, "query {query}");
    }
    if let Ok(line) = &direct {
        round_trip(line);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(line) = RequestLine::parse(text)
    {
        round_trip(&line);
    }
});

fn round_trip(line: &RequestLine) {
    if line.form == QueryForm::Base64 {
        // Fields of more than 255 bytes (a binary DeviceId turned into hex)
        // cannot be written back; that is the encoder saying so, not a bug.
        if let Ok(query) = line.to_base64_query() {
            assert_eq!(
                RequestLine::parse(&query).as_ref(),
                Ok(line),
                "query {query}"
            );
        }
    }
    // The plain form leaves the version, policy key and locale to headers.
    let plain = line.to_plain_query();
    if plain.len() > MAX_QUERY_LEN {
        // Percent-encoding can triple a long base64 field; the length
        // limit then refuses it, as it should.
        return;
    }
    let back = RequestLine::parse(&plain).unwrap_or_else(|e| panic!("{plain}: {e}"));
    assert_eq!(back.form, QueryForm::Plain);
    assert_eq!(back.command, line.command, "{plain}");
    assert_eq!(back.user, line.user, "{plain}");
    assert_eq!(back.device_id, line.device_id, "{plain}");
    assert_eq!(back.device_type, line.device_type, "{plain}");
    assert_eq!(back.params, line.params, "{plain}");
}
