//! `eas-server import`: .eml files, mbox files and Maildir directories go
//! into the store byte for byte, through the running server (its admin
//! socket) or straight into the store when no server runs. What the store
//! holds is read back with `mailbox list` (SHA-256 of the stored MIME) and
//! `mailbox show` (the MIME itself).

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eas_tests::mail::{Listed, mailbox_list, mailbox_show, sha256_hex};
use eas_tests::server::{TempDir, TestServer};

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn set_mtime(path: &Path, unix: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(unix))
        .unwrap();
}

/// An mbox entry as an mboxrd writer makes it: the From_ line, the message
/// with every `>*From ` line quoted once more, and a blank line.
fn mboxrd_entry(from_line: &str, message: &[u8]) -> Vec<u8> {
    let mut out = format!("{from_line}\n").into_bytes();
    for line in message.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    out.push(b'\n');
    out
}

/// The one listed item with this content.
fn find<'a>(items: &'a [Listed], bytes: &[u8], what: &str) -> &'a Listed {
    let sha = sha256_hex(bytes);
    let found: Vec<&Listed> = items.iter().filter(|i| i.sha256 == sha).collect();
    assert_eq!(
        found.len(),
        1,
        "{what}: expected once in the store, found {} times in {items:#?}",
        found.len()
    );
    found[0]
}

const EML_A: &[u8] = b"From: Ann <ann@example.org>\r\nTo: alice@example.com\r\nSubject: eml one\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <a@example.org>\r\n\r\nHello\r\n.\r\nFrom the edge of a line\r\n";
/// LF line ends, 8-bit and a byte that is not UTF-8, no Date header.
const EML_B: &[u8] = b"Subject: eml two\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nCaf\xc3\xa9 \xff raw\n";

const MBOX_1: &[u8] = b"From: Bob <bob@example.org>\nSubject: mbox one\nDate: Sat, 06 Jan 2024 09:00:00 +0000\n\nFrom the start, a line an mbox writer quotes.\n>From a line that was quoted already.\n>>From and twice.\nSee: From here on it is in the middle.\n";
/// Read (Status: RO), and it ends with an empty line of its own.
const MBOX_2: &[u8] = b"Subject: mbox two\nStatus: RO\n\nread already\n\n";
/// CRLF lines inside an LF mbox stay CRLF.
const MBOX_3: &[u8] = b"Subject: mbox three\r\n\r\nCRLF lines\r\nFrom a CRLF line\r\n";

const MAILDIR_NEW: &[u8] = b"Subject: maildir new\r\n\r\nunread\r\n";
const MAILDIR_SEEN: &[u8] = b"Subject: maildir seen\r\n\r\nread\r\n";
const MAILDIR_FLAGGED: &[u8] = b"Subject: maildir flagged\r\n\r\nreplied, flagged, unread\r\n";

/// A tree of every kind of source; returns the paths to give `import`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let eml = dir.join("eml");
    write(&eml.join("a.eml"), EML_A);
    write(&eml.join("sub/b.EML"), EML_B);
    write(&eml.join("notes.txt"), b"not mail");
    write(&eml.join("notes.eml"), b"not mail either\n");
    write(&eml.join("empty.eml"), b"");

    let mbox = dir.join("archive.mbox");
    let mut bytes = mboxrd_entry("From bob@example.org Sat Jan  6 10:00:00 2024", MBOX_1);
    bytes.extend(mboxrd_entry("From - Sun Jan  7 11:00:00 2024", MBOX_2));
    bytes.extend(mboxrd_entry(
        "From x@y Mon Jan  8 12:00:00 +0100 2024",
        MBOX_3,
    ));
    write(&mbox, &bytes);

    let maildir = dir.join("Maildir");
    let new = maildir.join("new/1700000001.M1P1.host");
    let seen = maildir.join("cur/1700000002.M2P2.host:2,S");
    let flagged = maildir.join("cur/1700000003.M3P3.host:2,FR");
    write(&new, MAILDIR_NEW);
    write(&seen, MAILDIR_SEEN);
    write(&flagged, MAILDIR_FLAGGED);
    set_mtime(&new, 1_700_000_001);
    set_mtime(&seen, 1_700_000_002);
    set_mtime(&flagged, 1_700_000_003);
    write(
        &maildir.join("tmp/1700000009.half"),
        b"Subject: half written\r\n",
    );
    write(&maildir.join("dovecot-uidlist"), b"3 V1 N4\n");
    write(
        &maildir.join(".Sent/cur/1700000004.M4P4.host:2,S"),
        b"Subject: sent\r\n\r\nx\r\n",
    );
    std::fs::create_dir_all(maildir.join(".Sent/new")).unwrap();

    vec![eml, mbox, maildir]
}

fn check_sources_imported(server: &TestServer) {
    let items = mailbox_list(server, "alice", Some("Inbox"));
    assert_eq!(items.len(), 8, "{items:#?}");
    assert!(items.iter().all(|i| i.folder == 1), "all in the Inbox");

    // (bytes, read, received when the rules fix it, subject)
    let expected: [(&[u8], bool, Option<&str>, &str); 8] = [
        (EML_A, false, Some("2023-11-14T22:13:20Z"), "eml one"),
        (EML_B, false, None, "eml two"),
        (MBOX_1, false, Some("2024-01-06T10:00:00Z"), "mbox one"),
        (MBOX_2, true, Some("2024-01-07T11:00:00Z"), "mbox two"),
        (MBOX_3, false, Some("2024-01-08T11:00:00Z"), "mbox three"),
        (
            MAILDIR_NEW,
            false,
            Some("2023-11-14T22:13:21Z"),
            "maildir new",
        ),
        (
            MAILDIR_SEEN,
            true,
            Some("2023-11-14T22:13:22Z"),
            "maildir seen",
        ),
        (
            MAILDIR_FLAGGED,
            false,
            Some("2023-11-14T22:13:23Z"),
            "maildir flagged",
        ),
    ];
    for (bytes, read, received, subject) in expected {
        let item = find(&items, bytes, subject);
        assert_eq!(item.size, bytes.len() as u64, "{subject}");
        assert_eq!(item.read, read, "{subject}: read flag");
        assert_eq!(item.subject, subject);
        if let Some(r) = received {
            assert_eq!(item.received, r, "{subject}: received");
        }
    }
    // The bytes themselves, not only their digest.
    for (bytes, subject) in [
        (MBOX_1, "mbox one"),
        (EML_B, "eml two"),
        (MBOX_3, "mbox three"),
    ] {
        let id = find(&items, bytes, subject).id;
        assert_eq!(mailbox_show(server, "alice", id), bytes, "{subject}");
    }
}

#[test]
fn import_through_the_running_server_keeps_every_byte() {
    let server = TestServer::with_alice();
    let src = TempDir::new("import-src");
    let paths = sources(src.path());

    let mut args = vec!["import", "--user", "alice"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = server.cli_ok(&args, "");
    assert!(
        out.starts_with("imported 8 messages ("),
        "the summary: {out}"
    );
    assert!(out.contains("into alice's Inbox in "), "{out}");
    assert!(out.contains(" messages/s)"), "{out}");
    assert!(out.contains("skipped 4:"), "{out}");
    assert!(out.contains("notes.txt: not a .eml or .mbox file"), "{out}");
    assert!(out.contains("empty.eml: empty file"), "{out}");
    assert!(
        out.contains("notes.eml: not a message: it does not start with a header field"),
        "{out}"
    );
    assert!(out.contains(".Sent: a Maildir++ subfolder"), "{out}");

    check_sources_imported(&server);
}

#[test]
fn import_without_a_server_opens_the_store() {
    let mut server = TestServer::new();
    server.add_user("alice", "alice@example.com", "alice-secret");
    assert!(!server.data().join("admin.sock").exists());
    let src = TempDir::new("import-src");
    let paths = sources(src.path());
    let mut args = vec!["import", "--user", "alice"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = server.cli_ok(&args, "");
    assert!(out.starts_with("imported 8 messages"), "{out}");

    // mboxo: only ">From " is unquoted, so a ">>From " line stays as it is
    // (mboxrd would have taken a '>' off it).
    let original = b"Subject: mboxo\n\nFrom the top\n>>From twice\n";
    let mboxo = src.path().join("o.mbox");
    write(
        &mboxo,
        b"From a@b Tue Jan  9 08:00:00 2024\nSubject: mboxo\n\n>From the top\n>>From twice\n\n",
    );
    let out = server.cli_ok(
        &[
            "import",
            "--user",
            "alice",
            "--folder",
            "sent items",
            "--mbox-format",
            "mboxo",
            mboxo.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.starts_with("imported 1 messages"), "{out}");
    assert!(out.contains("into alice's Sent Items"), "{out}");
    let sent = mailbox_list(&server, "alice", Some("4"));
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].sha256, sha256_hex(original));

    // The server finds it all.
    server.start();
    check_sources_imported(&server);
    assert_eq!(mailbox_list(&server, "alice", Some("Sent Items")), sent);
}

#[test]
fn import_mistakes_are_reported_and_change_nothing() {
    let server = TestServer::with_alice();
    let src = TempDir::new("import-src");
    let eml = src.path().join("a.eml");
    write(&eml, EML_A);
    let eml = eml.to_str().unwrap();

    let fails = |args: &[&str], says: &str| {
        let out = server.cli(args, "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    fails(&["import", "--user", "bob", eml], "there is no user bob");
    fails(
        &["import", "--user", "alice", "--folder", "Calendar", eml],
        "does not hold mail",
    );
    fails(
        &["import", "--user", "alice", "--folder", "Nope", eml],
        "has no folder \"Nope\"; the folders are: 1 \"Inbox\"",
    );
    fails(
        &["import", "--user", "alice", eml, "/no/such/file.mbox"],
        "nothing imported: /no/such/file.mbox",
    );
    fails(&["import", "--user", "alice"], "PATH");
    assert!(mailbox_list(&server, "alice", None).is_empty());
}

/// An mbox of `n` distinct small messages.
fn big_mbox(path: &Path, n: usize) {
    let mut bytes = Vec::new();
    for i in 0..n {
        bytes.extend(mboxrd_entry(
            "From bulk@example.org Sun Nov 29 18:00:00 2026",
            format!(
                "From: bulk@example.org\nSubject: bulk {i}\nMessage-ID: <{i}@example.org>\n\nmessage {i}\nFrom the bulk sender\n"
            )
            .as_bytes(),
        ));
    }
    write(path, &bytes);
}

/// Sends an import over the admin socket as the command line does.
fn admin_import(server: &TestServer, path: &Path) -> BufReader<UnixStream> {
    let mut socket = UnixStream::connect(server.data().join("admin.sock")).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(300)))
        .unwrap();
    let request = format!(
        "{{\"op\":\"import\",\"account\":\"alice\",\"folder\":null,\"paths\":[{:?}],\"mbox_format\":\"mboxrd\"}}\n",
        path.to_str().unwrap()
    );
    socket.write_all(request.as_bytes()).unwrap();
    BufReader::new(socket)
}

/// The number after `"key":` in a JSON line.
fn number(line: &str, key: &str) -> u64 {
    let at = line
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {line}"));
    line[at + key.len() + 3..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[test]
fn ten_thousand_messages_go_in_batches_with_progress() {
    let server = TestServer::with_alice();
    let src = TempDir::new("import-bulk");
    let mbox = src.path().join("bulk.mbox");
    big_mbox(&mbox, 10_000);

    let started = SystemTime::now();
    let mut reader = admin_import(&server, &mbox);
    let mut progress = Vec::new();
    let last = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no reply");
        if line.starts_with("{\"progress\":") {
            progress.push(line);
        } else {
            break line;
        }
    };
    eprintln!(
        "10,000 messages imported in {:?}",
        started.elapsed().unwrap()
    );
    assert!(
        progress[0].contains("\"event\":\"started\"") && number(&progress[0], "files") == 1,
        "{}",
        progress[0]
    );
    // One line per stored batch of 256.
    let stored: Vec<u64> = progress[1..]
        .iter()
        .map(|l| number(l, "messages"))
        .collect();
    let expected: Vec<u64> = (1..=39).map(|b| b * 256).chain([10_000]).collect();
    assert_eq!(stored, expected);
    assert!(last.starts_with("{\"imported\":"), "{last}");
    assert_eq!(number(&last, "messages"), 10_000, "{last}");
    assert!(last.contains("\"failure\":null"), "{last}");

    let items = mailbox_list(&server, "alice", Some("Inbox"));
    assert_eq!(items.len(), 10_000);
    let mut digests: Vec<&str> = items.iter().map(|i| i.sha256.as_str()).collect();
    digests.sort_unstable();
    digests.dedup();
    assert_eq!(digests.len(), 10_000, "every message once");
    let first = items.iter().find(|i| i.subject == "bulk 0").unwrap();
    assert_eq!(
        mailbox_show(&server, "alice", first.id),
        b"From: bulk@example.org\nSubject: bulk 0\nMessage-ID: <0@example.org>\n\nmessage 0\nFrom the bulk sender\n"
    );
}

#[test]
fn an_import_cut_short_keeps_whole_batches() {
    let server = TestServer::with_alice();
    let src = TempDir::new("import-cut");
    let mbox = src.path().join("bulk.mbox");
    big_mbox(&mbox, 10_000);

    // The client goes away after the first stored batch.
    let mut reader = admin_import(&server, &mbox);
    for _ in 0..2 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("{\"progress\":"), "{line}");
    }
    drop(reader);

    // The server stops at the next batch, and says so.
    for _ in 0..600 {
        if server.log().contains("import stopped") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let count = mailbox_list(&server, "alice", None).len();
    assert!((256..10_000).contains(&count), "{count} stored");
    assert_eq!(count % 256, 0, "whole batches only: {count}");
    let log = server.log();
    assert!(
        log.contains("the import was cancelled") && log.contains("bulk.mbox"),
        "the server says what was not imported:\n{log}"
    );
}
