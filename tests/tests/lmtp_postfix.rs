//! A real Postfix delivers to the server over LMTP: the test submits mail
//! to Postfix over SMTP, Postfix relays it to our LMTP port, and what the
//! store holds is the submitted message with only Postfix's own Received
//! header in front of it.
//!
//! Postfix runs as its own instance: a config_directory, queue_directory
//! and data_directory in a temporary directory, listening on a free
//! loopback port. Its master starts as root and its daemons run as the
//! `postfix` user, as the Debian package sets them up, so the test must run
//! as root (scripts/test and CI do).

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use eas_tests::mail::{MailClient, dot_stuff, free_port, mailbox_list, mailbox_show};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};

/// A running Postfix instance; dropping it stops Postfix.
struct Postfix {
    postfix: PathBuf,
    config: PathBuf,
    maillog: PathBuf,
    smtp: SocketAddr,
}

impl Postfix {
    fn start(dir: &Path, lmtp_port: u16) -> Postfix {
        let postfix = ["/usr/sbin/postfix", "/usr/bin/postfix"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| eas_tests::require_tool("postfix", "postfix"));
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "this test runs a Postfix instance, whose master must start as root \
             (it drops to the postfix user): run the tests as root"
        );
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        assert!(
            passwd.lines().any(|l| l.starts_with("postfix:")),
            "there is no postfix user: reinstall the Debian package postfix"
        );

        let config = dir.join("conf");
        let queue = dir.join("queue");
        let data = dir.join("data");
        for d in [&config, &queue, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        // Postfix keeps its lock and caches in data_directory, as its user.
        let chown = Command::new(eas_tests::require_tool("chown", "coreutils"))
            .arg("postfix")
            .arg(&data)
            .status()
            .unwrap();
        assert!(chown.success(), "chown postfix {}", data.display());
        let smtp_port = free_port();
        let maillog = dir.join("maillog");
        let d = dir.display();
        std::fs::write(
            config.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.com
relay_transport = lmtp:inet:127.0.0.1:{lmtp_port}
alias_maps =
alias_database =
local_header_rewrite_clients =
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
biff = no
"
            ),
        )
        .unwrap();
        // Every service Postfix needs, none chrooted.
        std::fs::write(
            config.join("master.cf"),
            format!(
                "127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"
            ),
        )
        .unwrap();
        let out = Command::new(&postfix)
            .arg("-c")
            .arg(&config)
            .arg("start")
            .output()
            .unwrap();
        let instance = Postfix {
            postfix,
            config,
            maillog,
            smtp: SocketAddr::from(([127, 0, 0, 1], smtp_port)),
        };
        assert!(
            out.status.success(),
            "postfix start failed: {}{}\nmaillog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            instance.log()
        );
        instance
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.maillog).unwrap_or_default()
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

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(&self.postfix)
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
        if std::thread::panicking() {
            eprintln!("--- postfix maillog ---\n{}--- end ---", self.log());
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
    let postfix = Postfix::start(dir.path(), lmtp_port);

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
