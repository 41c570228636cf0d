//! `eas-server wbxml decode|encode`, run as users run it.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use eas_tests::{eas_server, fixtures};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(eas_server())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn decode_then_encode_gives_the_capture_back() {
    let capture = fixtures().join("wbxml/sync-email-response.wbxml");
    let original = std::fs::read(&capture).unwrap();
    let decoded = run(&["wbxml", "decode", capture.to_str().unwrap()], b"");
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let xml = String::from_utf8(decoded.stdout).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sync xmlns=\"AirSync:\""),
        "{xml}"
    );
    // Opaque conversation ids show as base64.
    assert!(xml.contains("<email2:ConversationId>"), "{xml}");

    let encoded = run(&["wbxml", "encode", "-"], xml.as_bytes());
    assert!(
        encoded.status.success(),
        "{}",
        String::from_utf8_lossy(&encoded.stderr)
    );
    assert_eq!(encoded.stdout, original);
}

#[test]
fn decode_reads_hex_dumps_from_stdin() {
    let out = run(
        &["wbxml", "decode", "--hex", "-"],
        b"03 01 6a 00 00 07 56 52 03 30 00 01 01\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<FolderSync xmlns=\"FolderHierarchy:\">\n  <SyncKey>0</SyncKey>\n</FolderSync>\n"
    );
}

#[test]
fn bad_input_fails_with_the_offset_and_no_output() {
    let out = run(
        &["wbxml", "decode", "-"],
        &[0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, b'x'],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("WBXML at byte 7: input ends too early"),
        "{err}"
    );

    let out = run(
        &["wbxml", "encode", "-"],
        b"<Sync xmlns=\"AirSync:\"><Bogus/></Sync>",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("AirSync: has no element named \"Bogus\""),
        "{err}"
    );

    let out = run(&["wbxml", "decode", "/nonexistent/capture.wbxml"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("reading /nonexistent/capture.wbxml")
    );
}

#[test]
fn output_file_option_writes_the_file() {
    let dir = std::env::temp_dir().join(format!("eas-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("out.wbxml");
    let xml = fixtures().join("wbxml/ping-request.xml");
    let out = run(
        &[
            "wbxml",
            "encode",
            xml.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        std::fs::read(fixtures().join("wbxml/ping-request.wbxml")).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
