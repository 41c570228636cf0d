//! Search and Find benchmark: 10,000 varied messages imported into an
//! empty store, then searched by a 14.1 and a 16.1 device over TLS.
//!
//! Run (a release server, measured from outside):
//!   cargo build --release -p eas-server -p eas-tests
//!   EAS_SERVER_BIN=target/release/eas-server target/release/bench-search [MESSAGES]
//!
//! Reports the first search (which builds the account's index), the
//! server's resident memory before and after, p50/p99 latency of warm
//! queries of several shapes (each rebuilding its result set, 10 results
//! with a 256-byte text body), paging a kept result set, Find with KQL, and
//! the first search after 100 more messages arrive while the server runs.
//! Figures go in BENCHMARKS.md.

// A benchmark: it should stop loudly on any surprise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::codepages::email;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::find::{Criterion, FindOptions, FindRequest, FindResponse, FindStatus};
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::search::{
    Comparison, Condition, Query, ResultRange, STORE_MAILBOX, SearchOption, SearchOptions,
    SearchRequest, SearchResponse, SearchStatus, StoreRequest,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::{TempDir, TestServer};

/// A small deterministic generator (a 64-bit LCG): the same mailbox every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 4,000 made-up words of two to four syllables, some common, most rare.
fn vocabulary() -> Vec<String> {
    let syllables = [
        "ka", "lo", "mi", "ren", "tas", "vo", "qui", "bel", "dor", "nax", "pe", "sul", "tri",
        "gam", "hul", "zo", "fen", "ir", "wa", "cot",
    ];
    let mut rng = Lcg(7);
    (0..4000)
        .map(|_| {
            let n = 2 + rng.below(3);
            (0..n)
                .map(|_| syllables[rng.below(syllables.len())])
                .collect()
        })
        .collect()
}

/// Zipf-like: word i is chosen about 1/(i+1) as often as word 0.
fn pick<'v>(rng: &mut Lcg, words: &'v [String]) -> &'v str {
    let r = rng.below(1_000_000) as f64 / 1_000_000.0;
    let i = ((words.len() as f64).powf(r) - 1.0) as usize;
    &words[i.min(words.len() - 1)]
}

fn message(i: usize, words: &[String], rng: &mut Lcg) -> Vec<u8> {
    let subject = [
        "Quarterly numbers",
        "Re: Lunch on Thursday?",
        "Build failed",
        "Invoice",
        "Fwd: Offsite agenda",
        "Weekly report",
        "Meeting notes",
        "Question about the contract",
    ][i % 8];
    let body: Vec<&str> = (0..120).map(|_| pick(rng, words)).collect();
    let day = 1 + i % 28;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"][i / 28 % 6];
    format!(
        "From: \"Sender {s}\" <sender{s}@example.com>\r\nTo: \"Bench User\" <bench@example.com>\r\nSubject: {subject} {i}\r\nDate: {day:02} {month} 2026 {:02}:{:02}:00 +0000\r\nMessage-ID: <search-{i}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        i / 60 % 24,
        i % 60,
        body.join(" "),
        s = i % 200,
    )
    .into_bytes()
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn request(query: Vec<Condition>, options: Vec<SearchOption>) -> SearchRequest {
    SearchRequest {
        stores: vec![StoreRequest {
            name: STORE_MAILBOX.into(),
            query: Query::Conditions(query),
            options: Some(SearchOptions(options)),
        }],
    }
}

fn text_body() -> SearchOption {
    SearchOption::BodyPreference(BodyPreference {
        body_type: BodyType::PLAIN_TEXT,
        truncation_size: Some(256),
        all_or_none: None,
        preview: None,
    })
}

/// One search; its latency and Total.
fn search(c: &EasClient, req: &SearchRequest) -> (Duration, u32) {
    let body = req.to_element().encode().unwrap();
    let t = Instant::now();
    let reply = c.post(Command::SEARCH, body);
    let took = t.elapsed();
    let r = SearchResponse::from_element(&reply.element()).unwrap();
    let store = r.store.unwrap();
    assert!(
        matches!(store.status, SearchStatus::SUCCESS),
        "{:?}",
        store.status
    );
    (took, store.total.unwrap())
}

fn measure(c: &EasClient, label: &str, req: &SearchRequest, samples: usize) {
    let mut lat = Vec::with_capacity(samples);
    let mut total = 0;
    for _ in 0..samples {
        let (d, t) = search(c, req);
        lat.push(d);
        total = t;
    }
    lat.sort();
    println!(
        "| {label} | {total} | {:.2} | {:.2} |",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99))
    );
}

fn device(server: &TestServer, id: &str, version: ProtocolVersion) -> EasClient {
    let mut c = server.alice(id, version);
    c.provision_fully();
    let fs = c.post_element(
        Command::FOLDER_SYNC,
        &FolderSyncRequest {
            sync_key: SyncKey::initial(),
        }
        .to_element(),
    );
    FolderSyncResponse::from_element(&fs.element()).unwrap();
    c
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
    let words = vocabulary();
    let mut rng = Lcg(42);
    let dir = TempDir::new("bench-search");
    let mut bytes_total = 0usize;
    for i in 0..n {
        let m = message(i, &words, &mut rng);
        bytes_total += m.len();
        std::fs::write(dir.path().join(format!("{i:05}.eml")), m).unwrap();
    }
    let mut server = TestServer::new();
    server.add_user(
        "alice",
        "alice@example.com",
        eas_tests::server::ALICE_PASSWORD,
    );
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    server.start();
    let pid = server.pid().unwrap();
    let c = device(&server, "BENCHSEARCH1", ProtocolVersion::V14_1);
    let rss_before = rss_mib(pid, "VmRSS:");

    let rare = &words[3000];
    let common = &words[0];
    let cold = request(
        vec![Condition::And(vec![Condition::FreeText(rare.clone())])],
        vec![
            SearchOption::Range(ResultRange::new(0, 9).unwrap()),
            text_body(),
        ],
    );
    let (first, total) = search(&c, &cold);
    let rss_after = rss_mib(pid, "VmRSS:");
    println!("messages: {n}, {:.1} MB of MIME", bytes_total as f64 / 1e6);
    println!(
        "first search (builds the index): {:.0} ms, {total} matches; server RSS {rss_before:.0} MiB before, {rss_after:.0} MiB after",
        ms(first)
    );

    let samples = 200;
    let rebuild = |q: Vec<Condition>| {
        request(
            q,
            vec![
                SearchOption::Range(ResultRange::new(0, 9).unwrap()),
                SearchOption::RebuildResults,
                text_body(),
            ],
        )
    };
    let free = |t: &str| vec![Condition::And(vec![Condition::FreeText(t.into())])];
    let date = |after: bool, v: &str| {
        let c = Comparison {
            property: email::DateReceived,
            value: v.into(),
        };
        if after {
            Condition::GreaterThan(c)
        } else {
            Condition::LessThan(c)
        }
    };
    println!("\n| query (Range 0-9, text body 256 B, RebuildResults) | Total | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    measure(
        &c,
        "a word in no message",
        &rebuild(free("zzzzzz")),
        samples,
    );
    measure(&c, "a rare word", &rebuild(free(rare)), samples);
    measure(&c, "the commonest word", &rebuild(free(common)), samples);
    measure(
        &c,
        "a two-letter prefix (`ka`)",
        &rebuild(free("ka")),
        samples,
    );
    measure(
        &c,
        "sender and subject words (`sender7 invoice`)",
        &rebuild(free("sender7 invoice")),
        samples,
    );
    measure(
        &c,
        "And: Inbox, a common word, February",
        &rebuild(vec![Condition::And(vec![
            Condition::CollectionId(CollectionId::new("1").unwrap()),
            Condition::FreeText(common.clone()),
            date(true, "2026-02-01T00:00:00.000Z"),
            date(false, "2026-03-01T00:00:00.000Z"),
        ])]),
        samples,
    );
    measure(
        &c,
        "Or of two rare words",
        &rebuild(vec![Condition::Or(vec![
            Condition::FreeText(rare.clone()),
            Condition::FreeText(words[2500].clone()),
        ])]),
        samples,
    );
    measure(
        &c,
        "every message (dates only), 10 of them sent",
        &rebuild(vec![Condition::And(vec![date(
            true,
            "2000-01-01T00:00:00.000Z",
        )])]),
        samples,
    );
    // Paging the kept set of the commonest word.
    search(&c, &rebuild(free(common)));
    measure(
        &c,
        "paging the kept set of the commonest word (Range 10-19)",
        &request(
            free(common),
            vec![
                SearchOption::Range(ResultRange::new(10, 19).unwrap()),
                text_body(),
            ],
        ),
        samples,
    );

    // Find, 16.1, KQL.
    let f = device(&server, "BENCHSEARCH2", ProtocolVersion::V16_1);
    let mut lat = Vec::with_capacity(samples);
    let mut total = 0;
    for i in 0..samples {
        let req = FindRequest {
            search_id: format!("00000000-0000-0000-0000-{i:012}"),
            criterion: Criterion::Mailbox {
                class: Some("Email".into()),
                collection_id: None,
                free_text: format!("from:sender7 subject:invoice {common}"),
                options: Some(FindOptions {
                    range: ResultRange::new(0, 9),
                    deep_traversal: false,
                    picture: None,
                }),
            },
        };
        let body = req.to_element().encode().unwrap();
        let t = Instant::now();
        let reply = f.post(Command::FIND, body);
        lat.push(t.elapsed());
        let r = FindResponse::from_element(&reply.element()).unwrap();
        assert_eq!(r.status, FindStatus::SUCCESS);
        total = r.response.unwrap().total.unwrap();
    }
    lat.sort();
    println!(
        "| Find `from:sender7 subject:invoice {common}` (16.1, 10 results with previews) | {total} | {:.2} | {:.2} |",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99))
    );

    // 100 more messages while the server runs: the next search catches up.
    let more = TempDir::new("bench-search-more");
    for i in n..n + 100 {
        std::fs::write(
            more.path().join(format!("{i:05}.eml")),
            message(i, &words, &mut rng),
        )
        .unwrap();
    }
    server.cli_ok(
        &["import", "--user", "alice", more.path().to_str().unwrap()],
        "",
    );
    let (catch_up, total_after) = search(&c, &rebuild(free(common)));
    let (warm, _) = search(&c, &rebuild(free(common)));
    println!(
        "\nafter 100 more messages arrive: first search {:.1} ms (catches up), the next {:.1} ms; the commonest word now in {total_after}",
        ms(catch_up),
        ms(warm)
    );
    println!("server peak RSS {:.0} MiB", rss_mib(pid, "VmHWM:"));
}
