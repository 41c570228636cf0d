//! A real Postfix delivers to the server over LMTP: the test submits mail
//! to Postfix over SMTP, Postfix relays it to our LMTP port, and what the
//! store holds is the submitted message with only Postfix's own Received
//! header in front of it.
//!
//! Postfix runs as its own instance (eas_tests::postfix), so the test must
//! run as root (scripts/test and CI do).

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use eas_tests::mail::{MailClient, dot_stuff, free_port, mailbox_list, mailbox_show};
use eas_tests::postfix::Postfix;
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};

/// Postfix relaying example.com to our LMTP port, and the address of its
/// SMTP listener.
struct Relay {
    postfix: Postfix,
    smtp: SocketAddr,
}

impl Relay {
    fn start(dir: &Path, lmtp_port: u16) -> Relay {
        let smtp_port = free_port();
        let postfix = Postfix::start(
            dir,
            &format!(
                "myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = $mydomain
relay_domains = example.com
relay_transport = lmtp:inet:127.0.0.1:{lmtp_port}
"
            ),
            &format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n"),
        );
        Relay {
            postfix,
            smtp: SocketAddr::from(([127, 0, 0, 1], smtp_port)),
        }
    }

    fn log(&self) -> String {
        self.postfix.log()
    }

    /// An SMTP session with Postfix, once it accepts connections.
    fn connect(&self) -> MailClient {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match MailClient::connect(self.smtp) {
                Ok(mut c) => {
                    let greeting = c.reply().unwrap();
                    assert_eq!(greeting.code, 220, "{greeting:?}");
                    return c;
                }
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "Postfix does not listen on {}: {e}\n{}",
                        self.smtp,
                        self.log()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

/// Submits one message over SMTP.
fn submit(smtp: &mut MailClient, sender: &str, recipients: &[&str], message: &[u8]) {
    smtp.expect(&format!("MAIL FROM:<{sender}> BODY=8BITMIME"), 250);
    for r in recipients {
        smtp.expect(&format!("RCPT TO:<{r}>"), 250);
    }
    smtp.expect("DATA", 354);
    smtp.send(&dot_stuff(message)).unwrap();
    let queued = smtp.reply().unwrap();
    assert_eq!(queued.code, 250, "{queued:?}");
}

/// Postfix's own header lines in front of a message: Received, nothing
/// else (no Delivered-To, no Return-Path).
fn assert_only_received(prefix: &[u8]) {
    let text = String::from_utf8_lossy(prefix);
    assert!(text.starts_with("Received: "), "{text}");
    assert!(text.ends_with("\r\n"), "{text}");
    for line in text.split_terminator("\r\n") {
        assert!(
            line.starts_with("Received: ") || line.starts_with([' ', '\t']),
            "a header Postfix added that is not Received: {line:?}"
        );
    }
}

#[test]
fn postfix_delivers_through_lmtp_byte_for_byte() {
    let lmtp_port = free_port();
    let mut server =
        TestServer::with_config(&format!("[lmtp]\nlisten = \"127.0.0.1:{lmtp_port}\"\n"));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.add_user("bob", "bob@example.com", "bob-secret");
    server.start();
    let dir = TempDir::new("postfix");
    let postfix = Relay::start(dir.path(), lmtp_port);

    // 8-bit text, lines that start with dots, a lone dot, trailing spaces.
    let first: &[u8] = b"From: Sender <sender@example.org>\r\n\
To: alice@example.com, bob@example.com\r\n\
Subject: through Postfix\r\n\
Date: Sun, 29 Nov 2026 18:00:00 +0000\r\n\
Message-ID: <postfix-1@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\r\n\
.leading dot\r\n\
.\r\n\
..two\r\n\
trailing spaces   \r\n";
    // Larger than one read: a base64 body of 300 kB in 76-column lines.
    let mut second = b"From: Sender <sender@example.org>\r\n\
To: alice@example.com\r\n\
Subject: a large one\r\n\
Date: Sun, 29 Nov 2026 18:01:00 +0000\r\n\
Message-ID: <postfix-2@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n"
        .to_vec();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for i in 0..4000usize {
        let line: Vec<u8> = (0..76).map(|j| alphabet[(i * 7 + j) % 64]).collect();
        second.extend_from_slice(&line);
        second.extend_from_slice(b"\r\n");
    }
    // To alice and to someone we do not know: Postfix learns of the 550 at
    // RCPT time from our LMTP reply. The null sender means no bounce mail.
    let third: &[u8] = b"From: Sender <sender@example.org>\r\n\
To: alice@example.com, nobody@example.com\r\n\
Subject: one known, one not\r\n\
Message-ID: <postfix-3@example.org>\r\n\
\r\n\
hello\r\n";

    let mut smtp = postfix.connect();
    smtp.expect("EHLO client.example.org", 250);
    submit(
        &mut smtp,
        "sender@example.org",
        &["alice@example.com", "bob@example.com"],
        first,
    );
    submit(
        &mut smtp,
        "sender@example.org",
        &["alice@example.com"],
        &second,
    );
    submit(
        &mut smtp,
        "",
        &["alice@example.com", "nobody@example.com"],
        third,
    );
    smtp.expect("QUIT", 221);

    let deadline = Instant::now() + Duration::from_secs(120);
    let (alice, bob) = loop {
        let alice = mailbox_list(&server, "alice", Some("Inbox"));
        let bob = mailbox_list(&server, "bob", Some("Inbox"));
        if alice.len() >= 3 && !bob.is_empty() {
            break (alice, bob);
        }
        assert!(
            Instant::now() < deadline,
            "Postfix did not deliver in time: alice has {}, bob {}\n{}",
            alice.len(),
            bob.len(),
            postfix.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(alice.len(), 3, "{alice:#?}");
    assert_eq!(bob.len(), 1, "{bob:#?}");

    let mut seen = Vec::new();
    for (user, item) in alice
        .iter()
        .map(|i| ("alice", i))
        .chain(bob.iter().map(|i| ("bob", i)))
    {
        let stored = mailbox_show(&server, user, item.id);
        let original = [first, &second[..], third]
            .into_iter()
            .find(|o| stored.ends_with(o))
            .unwrap_or_else(|| {
                panic!(
                    "{user}'s item {} does not end with a submitted message:\n{}",
                    item.id,
                    String::from_utf8_lossy(&stored)
                )
            });
        assert_only_received(&stored[..stored.len() - original.len()]);
        seen.push((user, item.subject.clone()));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("alice", "a large one".to_owned()),
            ("alice", "one known, one not".to_owned()),
            ("alice", "through Postfix".to_owned()),
            ("bob", "through Postfix".to_owned()),
        ]
    );

    // Postfix's own account of it: each recipient's own LMTP reply.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = postfix.log();
        let sent = log.matches("status=sent (250 2.0.0 <").count();
        let refused = log.contains("<nobody@example.com>: no such user here");
        if sent >= 4 && refused {
            break;
        }
        assert!(Instant::now() < deadline, "the maillog:\n{log}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
