//! Authentication and transport hardening through the running server
//! (issue 8): failed logins lock out one login from one address for a
//! while, never the real user at their own address and never for good;
//! TLS 1.2 and 1.3 only, AEAD suites only, as openssl sees it; plain HTTP
//! only with `serve --http`, and no HSTS header on it.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_tests::client::EasClient;
use eas_tests::server::{ALICE_PASSWORD, TestServer};

/// The attacker's address: another loopback address of this machine.
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn from_elsewhere(server: &TestServer, password: &str) -> EasClient {
    EasClient::new(
        server.http_from(ELSEWHERE),
        server.url(""),
        "alice",
        password,
        "ATTACKER",
        ProtocolVersion::V16_1,
    )
}

#[test]
fn a_lockout_holds_one_address_for_a_while_and_never_the_user_elsewhere() {
    let server = TestServer::with_alice_and_config(
        "[auth]\nfree_failures = 2\nlockout_base_secs = 2\nlockout_max_secs = 4\n",
    );
    // Three wrong passwords from the attacker's address.
    let guesser = from_elsewhere(&server, "wrong-guess");
    for _ in 0..3 {
        assert_eq!(guesser.options(true).status, 401);
    }
    // Locked: from that address even the right password is refused now,
    // and the log says why.
    let locked_at = Instant::now();
    let right_from_there = from_elsewhere(&server, ALICE_PASSWORD);
    assert_eq!(right_from_there.options(true).status, 401);
    assert!(server.log().contains("login throttled"), "{}", server.log());
    // alice's own phone, at her own address, is not locked out.
    let phone = server.alice("OWNPHONE", ProtocolVersion::V16_1);
    assert_eq!(phone.options(true).status, 200);
    // The lockout ends (lockout_max_secs = 4): the right password from
    // the attacker's address is let in again. Refused tries while locked
    // do not lengthen it.
    let deadline = locked_at + Duration::from_secs(30);
    let fresh = || from_elsewhere(&server, ALICE_PASSWORD).options(true).status;
    while fresh() != 200 {
        assert!(Instant::now() < deadline, "still locked after 30 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        locked_at.elapsed() >= Duration::from_millis(1500),
        "the lockout ended after {:?}",
        locked_at.elapsed()
    );
    // The password never reaches the log.
    assert!(!server.log().contains(ALICE_PASSWORD));
    assert!(!server.log().contains("wrong-guess"));
}

/// `openssl s_client` against the server with these arguments; its
/// combined output and whether the handshake finished.
fn s_client(server: &TestServer, args: &[&str]) -> (String, bool) {
    let openssl = eas_tests::require_tool("openssl", "openssl");
    let out = Command::new(openssl)
        .arg("s_client")
        .arg("-connect")
        .arg(server.addr().to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let done = text.contains("New, TLSv1.2") || text.contains("New, TLSv1.3");
    (text, done)
}

#[test]
fn tls_is_1_2_or_1_3_with_aead_suites_only() {
    let server = TestServer::with_alice();
    let (text, done) = s_client(&server, &["-tls1_3"]);
    assert!(done, "TLS 1.3 refused:\n{text}");
    let (text, done) = s_client(&server, &["-tls1_2"]);
    assert!(done, "TLS 1.2 refused:\n{text}");
    // The client allows the old versions and suites (security level 0),
    // so a refusal is the server's: it answers with an alert (rustls
    // sends handshake_failure, 40, for both).
    let (text, done) = s_client(&server, &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    assert!(!done, "TLS 1.1 accepted:\n{text}");
    assert!(text.contains("SSL alert number"), "{text}");
    for cbc in [
        "AES128-SHA",
        "ECDHE-RSA-AES128-SHA",
        "ECDHE-ECDSA-AES128-SHA",
    ] {
        let (text, done) = s_client(
            &server,
            &["-tls1_2", "-cipher", &format!("{cbc}:@SECLEVEL=0")],
        );
        assert!(!done, "{cbc} accepted:\n{text}");
        assert!(text.contains("SSL alert number"), "{cbc}: {text}");
    }
}

/// What the server answers a plain-HTTP OPTIONS, read to the connection's
/// close or 10 s.
fn plain_options(server: &TestServer) -> Vec<u8> {
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(
        b"OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: eas\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    got
}

#[test]
fn plain_http_only_with_the_http_flag_and_without_hsts() {
    // The default is TLS: a plain request gets no HTTP answer.
    let server = TestServer::with_alice();
    let got = plain_options(&server);
    assert!(
        !got.starts_with(b"HTTP/"),
        "plain HTTP answered without --http: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(server.stdout().contains("https://"), "{}", server.stdout());
    drop(server);

    let mut server = TestServer::new();
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.serve_args(&["--http"]);
    server.start();
    let got = String::from_utf8_lossy(&plain_options(&server)).into_owned();
    assert!(got.starts_with("HTTP/1.1 401"), "{got}");
    assert!(
        !got.to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{got}"
    );
    assert!(server.stdout().contains("http://"), "{}", server.stdout());
}
