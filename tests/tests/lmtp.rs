//! LMTP (RFC 2033) into the running server over TCP: pipelined commands,
//! one reply per recipient after the data, dot-unstuffing, the bytes kept
//! as sent, and acknowledgements that survive a crash.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eas_tests::mail::{MailClient, dot_stuff, free_port, mailbox_list, mailbox_show, sha256_hex};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};

/// A server with alice and bob, taking LMTP on a free port.
fn lmtp_server() -> (TestServer, SocketAddr) {
    let port = free_port();
    let mut server = TestServer::with_config(&format!("[lmtp]\nlisten = \"127.0.0.1:{port}\"\n"));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.add_user("bob", "bob@example.com", "bob-secret");
    server.start();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    (server, addr)
}

const MESSAGE: &[u8] = b"Return-Path: <sender@example.org>\r\n\
Received: from mta.example.org by mx.example.com; Sun, 29 Nov 2026 18:00:00 +0000\r\n\
From: Sender <sender@example.org>\r\n\
To: alice@example.com, bob@example.com\r\n\
Subject: pipelined\r\n\
Date: Sun, 29 Nov 2026 18:00:00 +0000\r\n\
Message-ID: <p1@example.org>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
.a line that starts with a dot\r\n\
.\r\n\
..two dots\r\n\
Caf\xc3\xa9 and a lone \xff byte\r\n\
trailing spaces   \r\n\
\r\n";

#[test]
fn pipelined_delivery_answers_each_recipient_and_keeps_the_bytes() {
    let (server, addr) = lmtp_server();
    let mut lmtp = MailClient::connect(addr).unwrap();
    let greeting = lmtp.reply().unwrap();
    assert_eq!(greeting.code, 220, "{greeting:?}");
    assert!(greeting.text().contains("LMTP"), "{greeting:?}");
    let lhlo = lmtp.expect("LHLO mta.example.org", 250);
    for extension in ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"] {
        assert!(
            lhlo.lines.iter().any(|l| l == extension),
            "{extension} in {lhlo:?}"
        );
    }
    assert!(
        lhlo.lines.iter().any(|l| l.starts_with("SIZE ")),
        "{lhlo:?}"
    );

    // The whole transaction in one write, as a pipelining MTA sends it.
    lmtp.send(
        b"MAIL FROM:<sender@example.org> BODY=8BITMIME\r\n\
RCPT TO:<alice@example.com>\r\n\
RCPT TO:<nobody@example.com>\r\n\
RCPT TO:<BOB@Example.COM>\r\n\
DATA\r\n",
    )
    .unwrap();
    let replies: Vec<_> = (0..5).map(|_| lmtp.reply().unwrap()).collect();
    let codes: Vec<u16> = replies.iter().map(|r| r.code).collect();
    assert_eq!(codes, [250, 250, 550, 250, 354], "{replies:#?}");
    assert!(replies[2].text().starts_with("5.1.1 "), "{replies:#?}");

    let stuffed = dot_stuff(MESSAGE);
    assert!(
        stuffed.windows(7).any(|w| w == b"\r\n..\r\n.".as_slice()),
        "the test sends a stuffed lone dot"
    );
    lmtp.send(&stuffed).unwrap();
    // One reply per accepted recipient, in RCPT order.
    let alice = lmtp.reply().unwrap();
    assert_eq!(alice.code, 250, "{alice:?}");
    assert!(
        alice.text().starts_with("2.0.0 <alice@example.com>"),
        "{alice:?}"
    );
    let bob = lmtp.reply().unwrap();
    assert_eq!(bob.code, 250, "{bob:?}");
    assert!(bob.text().starts_with("2.0.0 <BOB@Example.COM>"), "{bob:?}");
    // And none for the refused one: the next reply is QUIT's.
    let quit = lmtp.expect("QUIT", 221);
    assert!(quit.text().starts_with("2.0.0"), "{quit:?}");

    for user in ["alice", "bob"] {
        let items = mailbox_list(&server, user, Some("Inbox"));
        assert_eq!(items.len(), 1, "{user}: {items:#?}");
        assert_eq!(items[0].sha256, sha256_hex(MESSAGE), "{user}");
        assert_eq!(items[0].subject, "pipelined");
        assert!(!items[0].read);
        assert_eq!(mailbox_show(&server, user, items[0].id), MESSAGE);
    }
}

#[test]
fn a_session_carries_several_messages_and_refuses_what_is_wrong() {
    let (server, addr) = lmtp_server();
    let mut lmtp = MailClient::connect(addr).unwrap();
    assert_eq!(lmtp.reply().unwrap().code, 220);
    lmtp.expect("MAIL FROM:<a@example.org>", 503);
    lmtp.expect("EHLO x", 500);
    lmtp.expect("LHLO x", 250);
    lmtp.expect("VRFY alice", 252);
    lmtp.expect("NOOP", 250);
    lmtp.expect("DATA", 503);
    lmtp.expect("MAIL FROM:<>", 250);
    lmtp.expect("RCPT TO:<nobody@example.com>", 550);
    lmtp.expect("DATA", 503);
    lmtp.expect("RSET", 250);
    lmtp.expect("RCPT TO:<alice@example.com>", 503);
    lmtp.expect(
        &format!("MAIL FROM:<a@example.org> SIZE={}", 1u64 << 40),
        552,
    );

    // Two messages, LF-only lines kept as they are.
    for i in 0..2 {
        lmtp.expect("MAIL FROM:<a@example.org>", 250);
        lmtp.expect("RCPT TO:<alice@example.com>", 250);
        lmtp.expect("DATA", 354);
        let body = format!("Subject: lf {i}\n\nbare LF lines\n");
        lmtp.send(body.as_bytes()).unwrap();
        lmtp.send(b".\r\n").unwrap();
        assert_eq!(lmtp.reply().unwrap().code, 250);
    }
    lmtp.expect("QUIT", 221);
    let items = mailbox_list(&server, "alice", Some("Inbox"));
    let mut subjects: Vec<&str> = items.iter().map(|i| i.subject.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["lf 0", "lf 1"]);
    let first = items.iter().find(|i| i.subject == "lf 0").unwrap();
    assert_eq!(
        mailbox_show(&server, "alice", first.id),
        b"Subject: lf 0\n\nbare LF lines\n"
    );
}

/// Kills the child on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn connections_beyond_max_connections_get_421_and_the_slot_comes_back() {
    let port = free_port();
    let server = TestServer::with_alice_and_config(&format!(
        "[lmtp]\nlisten = \"127.0.0.1:{port}\"\nmax_connections = 1\n"
    ));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut first = MailClient::connect(addr).unwrap();
    assert_eq!(first.reply().unwrap().code, 220);
    // RFC 5321 3.8: a server that cannot serve a connection now says 421
    // and closes it; the MTA tries again later.
    let mut second = MailClient::connect(addr).unwrap();
    let refused = second.reply().unwrap();
    assert_eq!(refused.code, 421, "{refused:?}");
    assert!(second.reply().is_err(), "the connection stayed open");
    assert!(server.log().contains("lmtp: too many connections"));
    // The first connection is still served.
    first.expect("LHLO mta.example.org", 250);
    first.expect("QUIT", 221);
    drop(first);
    // Its slot is free once the server has seen it go.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut next = MailClient::connect(addr).unwrap();
        let greeting = next.reply().unwrap();
        if greeting.code == 220 {
            next.expect("LHLO mta.example.org", 250);
            break;
        }
        assert_eq!(greeting.code, 421, "{greeting:?}");
        assert!(Instant::now() < deadline, "the slot never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_lmtp_flag_listens_and_the_banner_says_where() {
    let dir = TempDir::new("lmtp-flag");
    let mut child = Killed(
        Command::new(eas_tests::eas_server())
            .arg("--data")
            .arg(dir.path().join("data"))
            .args([
                "serve",
                "--http",
                "--listen",
                "127.0.0.1:0",
                "--lmtp",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut banner = Vec::new();
    let mut addr = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim_start().strip_prefix("LMTP: ") {
            addr = Some(
                rest.split_whitespace()
                    .next()
                    .unwrap()
                    .parse::<SocketAddr>()
                    .unwrap(),
            );
            break;
        }
        banner.push(line);
        assert!(banner.len() < 20, "no LMTP line in {banner:#?}");
    }
    let addr = addr.unwrap_or_else(|| panic!("no LMTP line in {banner:#?}"));
    assert_ne!(addr.port(), 0);
    let mut lmtp = greeted(addr, "x");
    lmtp.expect("QUIT", 221);
}

/// A connection to the server's LMTP port, greeted (220) and past LHLO.
fn greeted(addr: SocketAddr, domain: &str) -> MailClient {
    let mut lmtp = MailClient::connect(addr).unwrap();
    assert_eq!(lmtp.reply().unwrap().code, 220);
    lmtp.expect(&format!("LHLO {domain}"), 250);
    lmtp
}

/// One delivery: the message's digest and whether the server said 250.
fn deliver_one(lmtp: &mut MailClient, message: &[u8]) -> std::io::Result<bool> {
    lmtp.send(b"MAIL FROM:<crash@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n")?;
    for expected in [250, 250, 354] {
        let reply = lmtp.reply()?;
        assert_eq!(reply.code, expected, "{reply:?}");
    }
    lmtp.send(&dot_stuff(message))?;
    Ok(lmtp.reply()?.code == 250)
}

#[test]
fn acknowledged_deliveries_survive_sigkill() {
    let (mut server, addr) = lmtp_server();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let attempted: Arc<Mutex<Vec<String>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));

    let clients: Vec<_> = (0..8)
        .map(|t| {
            let (acked, attempted, count, killed) =
                (acked.clone(), attempted.clone(), count.clone(), killed.clone());
            std::thread::spawn(move || {
                let Ok(mut lmtp) = MailClient::connect(addr) else {
                    return;
                };
                if lmtp.reply().is_err() || lmtp.command("LHLO crash.example").is_err() {
                    return;
                }
                // Bounded: the kill comes long before.
                for i in 0..2000 {
                    let message = format!(
                        "From: crash@example.org\r\nTo: alice@example.com\r\nSubject: crash {t}-{i}\r\nMessage-ID: <{t}.{i}@example.org>\r\n\r\n{}\r\n",
                        format!("thread {t} message {i} ").repeat(200)
                    );
                    let digest = sha256_hex(message.as_bytes());
                    attempted.lock().unwrap().push(digest.clone());
                    match deliver_one(&mut lmtp, message.as_bytes()) {
                        Ok(true) => {
                            acked.lock().unwrap().push(digest);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(false) => panic!("a delivery was refused before the kill"),
                        Err(e) => {
                            assert!(killed.load(Ordering::SeqCst), "before the kill: {e}");
                            return;
                        }
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < 60 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(
        acked.len() >= 60,
        "only {} deliveries before the kill",
        acked.len()
    );
    eprintln!(
        "{} deliveries acknowledged, {} in flight at the kill",
        acked.len(),
        attempted.len() - acked.len()
    );

    server.start();
    let items = mailbox_list(&server, "alice", Some("Inbox"));
    let mut stored: HashMap<&str, usize> = HashMap::new();
    for item in &items {
        *stored.entry(item.sha256.as_str()).or_default() += 1;
    }
    for digest in &acked {
        assert_eq!(
            stored.get(digest.as_str()).copied(),
            Some(1),
            "an acknowledged message is stored exactly once"
        );
    }
    for (digest, n) in &stored {
        assert_eq!(*n, 1, "stored twice: {digest}");
        assert!(
            attempted.iter().any(|a| a == digest),
            "a message nobody sent: {digest}"
        );
    }
    // The store still takes mail after the crash.
    let mut lmtp = greeted(addr, "x");
    assert!(deliver_one(&mut lmtp, b"Subject: after\r\n\r\nx\r\n").unwrap());
}

/// A message of about `lines` KB, unique by `tag`.
fn large_message(tag: &str, lines: usize) -> Vec<u8> {
    let mut m = format!(
        "From: sender@example.org\r\nTo: alice@example.com, bob@example.com\r\nSubject: {tag}\r\nMessage-ID: <{tag}@example.org>\r\n\r\n"
    )
    .into_bytes();
    for i in 0..lines {
        m.extend_from_slice(format!("{tag} line {i:06} {}\r\n", "x".repeat(1000)).as_bytes());
    }
    m
}

/// One transaction to alice and bob, pipelined; the two replies after
/// the data, one per recipient (RFC 2033 4.2).
fn to_alice_and_bob(lmtp: &mut MailClient, message: &[u8]) -> Vec<eas_tests::mail::Reply> {
    lmtp.send(
        b"MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n",
    )
    .unwrap();
    for expected in [250, 250, 250, 354] {
        assert_eq!(lmtp.reply().unwrap().code, expected);
    }
    lmtp.send(&dot_stuff(message)).unwrap();
    vec![lmtp.reply().unwrap(), lmtp.reply().unwrap()]
}

#[test]
fn a_store_that_cannot_write_answers_451_stops_and_loses_nothing() {
    let (mut server, addr) = lmtp_server();
    let mut lmtp = greeted(addr, "mta.example.org");
    let first = large_message("before", 2);
    assert!(deliver_one(&mut lmtp, &first).unwrap());

    // The store's file may not grow any more: a real write error from the
    // kernel (EFBIG), as a full disk gives ENOSPC.
    server.freeze_store_size();

    // A message that needs more room: each recipient gets 451 (RFC 2033
    // 4.2: one reply per recipient), so the MTA keeps it and retries.
    let big = large_message("too-big", 1024);
    for reply in to_alice_and_bob(&mut lmtp, &big) {
        assert_eq!(reply.code, 451, "{reply:?}");
    }
    // The store refuses everything after an I/O error, so the server
    // stops by itself: the session is told 421 at a command (one read
    // before the stop began is still answered) and the process exits
    // non-zero, naming the cause.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match lmtp.command("NOOP") {
            Ok(reply) if reply.code == 250 => {
                assert!(Instant::now() < deadline, "the server went on");
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(reply) => {
                assert_eq!(reply.code, 421, "{reply:?}");
                break;
            }
            // Closed: the 421 may be lost to a reset.
            Err(_) => break,
        }
    }
    let (status, _) = server.wait_for_exit(Instant::now());
    assert!(!status.success(), "{status:?}");
    let log = server.log();
    assert!(log.contains("the store could not write its file"), "{log}");

    // Started again (without the limit): what was acknowledged is there,
    // what was refused is not, and the retried message is delivered.
    server.start();
    let subjects = |user: &str| -> Vec<String> {
        mailbox_list(&server, user, Some("Inbox"))
            .into_iter()
            .map(|l| l.subject)
            .collect()
    };
    assert_eq!(subjects("alice"), vec!["before".to_owned()]);
    assert!(subjects("bob").is_empty());
    let mut lmtp = greeted(addr, "mta.example.org");
    for reply in to_alice_and_bob(&mut lmtp, &big) {
        assert_eq!(reply.code, 250, "{reply:?}");
    }
    for user in ["alice", "bob"] {
        let listed = mailbox_list(&server, user, Some("Inbox"));
        let big_one = listed.iter().find(|l| l.subject == "too-big").unwrap();
        assert_eq!(big_one.sha256, sha256_hex(&big), "{user}");
    }
    assert_eq!(subjects("alice").len(), 2);
}

#[test]
fn a_session_waiting_for_a_command_is_told_421_when_the_server_stops() {
    let (mut server, addr) = lmtp_server();
    let mut lmtp = greeted(addr, "mta.example.org");
    // RFC 5321 3.8: a server shut down sends 421 before it goes, unasked.
    let signalled = server.signal_term();
    let reply = lmtp.reply().unwrap();
    assert_eq!(reply.code, 421, "{reply:?}");
    assert!(lmtp.reply().is_err(), "the connection stayed open");
    let (status, took) = server.wait_for_exit(signalled);
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
