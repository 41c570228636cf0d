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
//! Like lmtp_postfix.rs, Postfix runs as its own instance in a temporary
//! directory, its master as root: the test must run as root.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::composemail::{Kind, Request};
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse};
use eas_proto::command::ids::SyncKey;
use eas_proto::http::Command;
use eas_tests::mail::free_port;
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};
use eas_tests::smime::{Pki, body_of, message, text_entity};

struct Postfix {
    postfix: PathBuf,
    config: PathBuf,
    maillog: PathBuf,
    maildir: PathBuf,
}

impl Postfix {
    /// Postfix listening on `bdat_port` (CHUNKING offered) and `data_port`
    /// (CHUNKING hidden), delivering mail for remote.test into one Maildir.
    fn start(dir: &Path, bdat_port: u16, data_port: u16) -> Postfix {
        let postfix = ["/usr/sbin/postfix", "/usr/bin/postfix"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| eas_tests::require_tool("postfix", "postfix"));
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "this test runs a Postfix instance, whose master must start as root: run the tests as root"
        );
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let entry = passwd
            .lines()
            .find(|l| l.starts_with("postfix:"))
            .expect("there is no postfix user: reinstall the Debian package postfix");
        let fields: Vec<&str> = entry.split(':').collect();
        let (uid, gid) = (fields[2], fields[3]);

        let config = dir.join("conf");
        let vmail = dir.join("vmail");
        for d in [&config, &dir.join("queue"), &dir.join("data"), &vmail] {
            std::fs::create_dir_all(d).unwrap();
        }
        for d in [dir.join("data"), vmail.clone()] {
            let chown = Process::new(eas_tests::require_tool("chown", "coreutils"))
                .arg("postfix")
                .arg(&d)
                .status()
                .unwrap();
            assert!(chown.success(), "chown postfix {}", d.display());
        }
        let d = dir.display();
        std::fs::write(
            config.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.remote.test
mydomain = remote.test
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = remote.test
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
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
        std::fs::write(
            config.join("master.cf"),
            format!(
                "127.0.0.1:{bdat_port} inet n - n - - smtpd
127.0.0.1:{data_port} inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=chunking
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
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"
            ),
        )
        .unwrap();
        let out = Process::new(&postfix)
            .arg("-c")
            .arg(&config)
            .arg("start")
            .output()
            .unwrap();
        let instance = Postfix {
            postfix,
            config,
            maillog: dir.join("maillog"),
            maildir: vmail.join("mailbox"),
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

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Process::new(&self.postfix)
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
        if std::thread::panicking() {
            eprintln!("--- postfix maillog ---\n{}--- end ---", self.log());
        }
    }
}

/// LF line ends back to CRLF, as the message was on the wire.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
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
    let postfix = Postfix::start(dir.path(), bdat_port, data_port);
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
        let fs = alice.post_element(
            Command::FOLDER_SYNC,
            &FolderSyncRequest {
                sync_key: SyncKey::initial(),
            }
            .to_element(),
        );
        FolderSyncResponse::from_element(&fs.element()).unwrap();
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
