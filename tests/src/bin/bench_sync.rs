//! Import and initial-sync benchmark: 10,000 realistic messages imported
//! into an empty store, then synced to a phone-like client at WindowSize
//! 512 over TLS, then idle Syncs at a fixed rate.
//!
//! Run (a release server, measured from outside):
//!   cargo build --release -p eas-server
//!   EAS_SERVER_BIN=target/release/eas-server cargo run --release -p eas-tests --bin bench-sync [MESSAGES]
//!
//! Reports messages/s for the import, items/s, bytes, server CPU seconds
//! per 1,000 items and peak RSS for the sync (read from /proc), and p50/p99
//! latency of no-change Syncs. Figures go in BENCHMARKS.md.

// A benchmark: it should stop loudly on any surprise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::sync::{Collection, Options, Request, Response, ServerCommand};
use eas_proto::http::Command;
use eas_tests::server::{TempDir, TestServer};

/// A message of one of the shapes a mailbox holds: plain, HTML with a text
/// alternative, and now and then a small attachment.
fn message(i: usize) -> Vec<u8> {
    let subject = [
        "Quarterly numbers",
        "Re: Lunch on Thursday?",
        "Build #4821 failed",
        "Invoice 2026-11-0042",
        "Fwd: Offsite agenda",
    ][i % 5];
    let para = "Following up on yesterday's discussion, here are the points we agreed on. Please review the figures before Thursday and send comments to the list so that everyone sees them. ";
    let head = format!(
        "From: \"Sender {}\" <sender{}@example.com>\r\nTo: \"Bench User\" <bench@example.com>\r\nSubject: {subject} #{i}\r\nDate: Sun, 29 Nov 2026 {:02}:{:02}:{:02} +0000\r\nMessage-ID: <bench-{i}@example.com>\r\nMIME-Version: 1.0\r\n",
        i % 97,
        i % 97,
        i / 3600 % 24,
        i / 60 % 60,
        i % 60
    );
    let text = para.repeat(6);
    match i % 10 {
        0..=4 => format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").into_bytes(),
        5..=8 => format!(
            "{head}Content-Type: multipart/alternative; boundary=\"alt{i}\"\r\n\r\n--alt{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--alt{i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>{}</p></body></html>\r\n--alt{i}--\r\n",
            text.replace(". ", ".</p><p>")
        )
        .into_bytes(),
        _ => {
            let attachment: String = (0..40).map(|_| "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n").collect();
            format!(
                "{head}Content-Type: multipart/mixed; boundary=\"mix{i}\"\r\n\r\n--mix{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--mix{i}\r\nContent-Type: application/pdf; name=\"report-{i}.pdf\"\r\nContent-Disposition: attachment; filename=\"report-{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}--mix{i}--\r\n"
            )
            .into_bytes()
        }
    }
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Peak resident set size of a process, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    assert!(
        std::env::var_os("EAS_SERVER_BIN").is_some(),
        "set EAS_SERVER_BIN to a release eas-server (see the comment at the top)"
    );

    // The mailbox, as a Maildir.
    let maildir = TempDir::new("bench-maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.path().join(sub)).unwrap();
    }
    let mut bytes_total = 0usize;
    for i in 0..n {
        let m = message(i);
        bytes_total += m.len();
        std::fs::write(maildir.path().join("cur").join(format!("{i}.bench:2,S")), m).unwrap();
    }

    // No server runs yet: the user and the import go straight to the store.
    let mut server = TestServer::new();
    server.add_user(
        "alice",
        "alice@example.com",
        eas_tests::server::ALICE_PASSWORD,
    );
    let start = Instant::now();
    server.cli_ok(
        &[
            "import",
            "--user",
            "alice",
            maildir.path().to_str().unwrap(),
        ],
        "",
    );
    let import_secs = start.elapsed().as_secs_f64();
    server.start();
    let pid = server.pid().unwrap();

    let mut c = server.alice("BENCH0001", ProtocolVersion::V16_1);
    c.provision_fully();
    let fs = c.post_element(
        Command::FOLDER_SYNC,
        &FolderSyncRequest {
            sync_key: SyncKey::initial(),
        }
        .to_element(),
    );
    FolderSyncResponse::from_element(&fs.element()).unwrap();
    let inbox = CollectionId::new("1").unwrap();
    let options = Options {
        body_preferences: vec![BodyPreference {
            body_type: BodyType::HTML,
            truncation_size: Some(32_768),
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    };
    let mut first = Collection::new(SyncKey::initial(), inbox.clone());
    first.options = vec![options];
    let r = c.post_element(
        Command::SYNC,
        &Request {
            collections: vec![first],
            ..Default::default()
        }
        .to_element(),
    );
    let mut key = Response::from_element(&r.element()).unwrap().collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();

    let cpu_before = cpu_seconds(pid);
    let start = Instant::now();
    let (mut items, mut wire_bytes, mut rounds) = (0usize, 0usize, 0usize);
    loop {
        let mut col = Collection::new(key.clone(), inbox.clone());
        col.window_size = Some(512);
        let reply = c.post_element(
            Command::SYNC,
            &Request {
                collections: vec![col],
                ..Default::default()
            }
            .to_element(),
        );
        wire_bytes += reply.body.len();
        let resp = Response::from_element(&reply.element()).unwrap();
        let col = &resp.collections[0];
        items += col
            .commands
            .iter()
            .filter(|c| matches!(c, ServerCommand::Add { .. }))
            .count();
        key = col.header.sync_key.clone().unwrap();
        rounds += 1;
        if !col.header.more_available {
            break;
        }
    }
    let sync_secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    assert_eq!(items, n, "every message arrives once");
    let rss = peak_rss_mib(pid);

    // Idle Syncs at a fixed rate: nothing changed, the key stays.
    let rate = 100.0;
    let samples = 1000;
    let mut lat = Vec::with_capacity(samples);
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    for _ in 0..samples {
        let col = Collection::new(key.clone(), inbox.clone());
        let body = Request {
            collections: vec![col],
            ..Default::default()
        }
        .to_element();
        let t = Instant::now();
        let reply = c.post_element(Command::SYNC, &body);
        lat.push(t.elapsed());
        assert_eq!(reply.status, 200);
        next += period;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    lat.sort();

    println!("messages: {n}, {:.1} MB of MIME", bytes_total as f64 / 1e6);
    println!(
        "import (no server running): {import_secs:.2} s, {:.0} messages/s",
        n as f64 / import_secs
    );
    println!(
        "initial sync, WindowSize 512, HTML truncated at 32 KB, TLS: {rounds} round trips, {sync_secs:.2} s, {:.0} items/s, {:.1} MB of WBXML",
        items as f64 / sync_secs,
        wire_bytes as f64 / 1e6
    );
    println!(
        "  server CPU: {cpu:.2} s in all, {:.3} s per 1,000 items; server peak RSS {rss:.0} MiB",
        cpu / items as f64 * 1000.0
    );
    println!(
        "  against this machine's figures for peers at WindowSize 512 (from the sync issue): {:.0}x SOGo 5.8 (47 items/s), {:.0}x Z-Push 2.7 (385 items/s)",
        items as f64 / sync_secs / 47.0,
        items as f64 / sync_secs / 385.0
    );
    println!(
        "no-change Sync at {rate:.0}/s, {samples} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );
}
