//! A real Postfix as the smarthost: alice sends S/MIME messages built by
//! openssl to a user of another domain; the server relays them to Postfix
//! on loopback, once with BDAT (Postfix offers CHUNKING) and once with DATA
//! (a second smtpd that hides CHUNKING), and Postfix's virtual(8) delivers
//! them into a Maildir.
//!
//! Postfix stores lines with LF endings in a Maildir and puts Return-Path,
//! Delivered-To and its own Received field in front: the test turns the
//! file's LFs back into CRLF and then requires the message alice sent,
//! every byte of it, under those fields and the server's own Received
//! line. openssl verifies or decrypts the Maildir file itself.
//!
//! Postfix runs as its own instance (eas_tests::postfix), its master as
//! root: the test must run as root.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::composemail::{Kind, Request};
use eas_proto::command::ids::SyncKey;
use eas_proto::http::Command;
use eas_tests::mail::free_port;
use eas_tests::postfix::{Postfix, give_to_postfix, postfix_ids};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};
use eas_tests::smime::{Pki, body_of, crlf_throughout as crlf, message, text_entity};

/// Postfix listening on a port with CHUNKING and one without, delivering
/// mail for remote.test into one Maildir.
struct Smarthost {
    postfix: Postfix,
    maildir: PathBuf,
}

impl Smarthost {
    fn start(dir: &Path, bdat_port: u16, data_port: u16) -> Smarthost {
        let (uid, gid) = postfix_ids();
        let vmail = dir.join("vmail");
        give_to_postfix(&vmail);
        let d = dir.display();
        let postfix = Postfix::start(
            dir,
            &format!(
                "myhostname = mx.remote.test
mydomain = remote.test
myorigin = $mydomain
virtual_mailbox_domains = remote.test
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
"
            ),
            &format!(
                "127.0.0.1:{bdat_port} inet n - n - - smtpd
127.0.0.1:{data_port} inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=chunking
"
            ),
        );
        Smarthost {
            postfix,
            maildir: vmail.join("mailbox"),
        }
    }

    fn log(&self) -> String {
        self.postfix.log()
    }

    /// The messages in the Maildir, once there are `n`.
    fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            if files.len() >= n {
                return files.iter().map(|f| std::fs::read(f).unwrap()).collect();
            }
            assert!(
                Instant::now() < deadline,
                "Postfix delivered {} of {n} messages\n{}",
                files.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn server(port: u16) -> TestServer {
    let mut server = TestServer::with_config(&format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nhelo_name = \"eas.test\"\ntimeout_secs = 30\n[queue]\nretry_min_secs = 1\nretry_max_secs = 2\n"
    ));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.start();
    server
}

#[test]
fn postfix_relays_smime_into_a_maildir_byte_for_byte() {
    let dir = TempDir::new("smarthost");
    let (bdat_port, data_port) = (free_port(), free_port());
    let postfix = Smarthost::start(dir.path(), bdat_port, data_port);
    let pki = Pki::new();
    let alice_id = pki.user("alice", "alice@example.com");
    let carol_id = pki.user("carol", "carol@remote.test");
    let inner = text_entity("Hello Carol, caf\u{e9}.\r\n.a dot line\r\n.");
    let kinds = [
        ("clear-signed", pki.sign_clear(&alice_id, &inner)),
        ("opaque-signed", pki.sign_opaque(&alice_id, &inner)),
        ("encrypted", pki.encrypt(&[&carol_id], &inner)),
        (
            "signed-then-encrypted",
            pki.encrypt(&[&carol_id], &pki.sign_clear(&alice_id, &inner)),
        ),
    ];

    let mut sent = Vec::new();
    for (round, port) in [("BDAT", bdat_port), ("DATA", data_port)] {
        let server = server(port);
        let mut alice = server.alice(&format!("RELAY{round}"), ProtocolVersion::V16_1);
        alice.provision_fully();
        alice.folder_sync(&SyncKey::initial());
        for (kind, entity) in &kinds {
            let subject = format!("{kind} by {round}");
            let mime = message(
                "Alice <alice@example.com>",
                &["Carol <carol@remote.test>"],
                &subject,
                &format!("{kind}-{round}@example.com"),
                entity,
            );
            let request = Request::new(Kind::SendMail, subject.clone(), mime.clone());
            let reply = alice.post_element(Command::SEND_MAIL, &request.to_element());
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert!(reply.body.is_empty(), "{:02x?}", reply.body);
            sent.push((subject, *kind, mime));
        }
        postfix.wait_for(sent.len());
        // The queue is empty once Postfix took everything.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server
            .cli_ok(&["queue", "list"], "")
            .contains("the queue is empty")
        {
            assert!(Instant::now() < deadline, "{}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = server.log();
        assert!(log.contains("relayed to 127.0.0.1"), "{log}");
    }

    let files = postfix.wait_for(sent.len());
    assert_eq!(files.len(), sent.len());
    let log = postfix.log();
    // smtpd counts the commands of each session it served.
    assert!(log.contains(" bdat=1"), "no BDAT in the maillog:\n{log}");
    assert!(log.contains(" data=1"), "no DATA in the maillog:\n{log}");
    for (subject, kind, mime) in &sent {
        let needle = format!("Subject: {subject}\n");
        let file = files
            .iter()
            .find(|f| f.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or_else(|| panic!("no {subject:?} in the Maildir"));
        let wire = crlf(file);
        assert!(
            wire.ends_with(mime),
            "{subject}: the Maildir copy is not the sent message:\n{}",
            String::from_utf8_lossy(file)
        );
        assert_eq!(body_of(&wire), body_of(mime), "{subject}");
        let prefix = String::from_utf8_lossy(&wire[..wire.len() - mime.len()]).into_owned();
        for line in prefix.split_terminator("\r\n") {
            assert!(
                line.starts_with("Return-Path: ")
                    || line.starts_with("Delivered-To: ")
                    // Postfix's virtual delivery agent records the envelope
                    // recipient.
                    || line.starts_with("X-Original-To: ")
                    || line.starts_with("Received: ")
                    || line.starts_with([' ', '\t']),
                "{subject}: a field in front that no MTA adds: {line:?}"
            );
        }
        assert!(prefix.contains("by eas.test (eas-server)"), "{prefix}");
        // openssl, as carol, on the Maildir file as Postfix wrote it.
        let content = match *kind {
            "clear-signed" | "opaque-signed" => pki
                .verify(file)
                .unwrap_or_else(|e| panic!("{subject}: verify: {e}")),
            "encrypted" => pki
                .decrypt(file, &carol_id)
                .unwrap_or_else(|e| panic!("{subject}: decrypt: {e}")),
            _ => {
                let signed = pki
                    .decrypt(file, &carol_id)
                    .unwrap_or_else(|e| panic!("{subject}: decrypt: {e}"));
                pki.verify(&signed)
                    .unwrap_or_else(|e| panic!("{subject}: verify after decrypt: {e}"))
            }
        };
        assert!(
            String::from_utf8_lossy(&content).contains("Hello Carol"),
            "{subject}"
        );
    }
}
