//! Decode and encode a realistic 1 MB Sync response (500 messages with HTML
//! bodies, as an initial mail sync sends them), ours against libwbxml2 called
//! as a library, on the same bytes, in the same run.
//!
//! Run: `cargo bench -p eas-proto --bench wbxml` (needs libwbxml2-dev, cc and
//! pkg-config: scripts/install-test-deps installs them). Figures go in
//! BENCHMARKS.md.

// A benchmark: it should stop loudly on any surprise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use eas_proto::codepages::{airsync, airsyncbase, email, email2};
use eas_proto::wbxml::{Element, Event, Limits, Reader};

/// The allocator eas-server ships with; libwbxml2 is run with glibc's and,
/// where Debian's libmimalloc2.0 is installed, with mimalloc preloaded too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MIMALLOC_SO: &str = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";

const MESSAGES: usize = 500;

/// One message as a Sync Add with Email and AirSyncBase properties, the way
/// a 16.1 server sends it with BodyPreference Type 2.
fn message(i: usize) -> Element<'static> {
    let subjects = [
        "Quarterly review: numbers and next steps",
        "Re: Lunch on Thursday?",
        "Build #4821 failed on main",
        "Your invoice 2026-11-0042",
        "Fwd: Offsite agenda (final)",
    ];
    let subject = subjects[i % subjects.len()];
    let paragraph = "<p>Hi team,</p><p>Following up on yesterday&#39;s discussion, here are the points we agreed on. \
        Please review the attached figures before Thursday and send comments to the list so that everyone \
        sees them. We will go through open questions in the meeting; bring anything that is blocking you.</p>";
    let html = format!(
        "<html><head><meta charset=\"utf-8\"></head><body>{}<p>Thanks,<br>Alice — message {i}</p></body></html>",
        paragraph.repeat(5)
    );
    let conversation: Vec<u8> = (0..16).map(|b| (i * 31 + b * 7) as u8).collect();
    Element::new(airsync::Add)
        .with(Element::text(airsync::ServerId, format!("5:{}", i + 1)))
        .with(
            Element::new(airsync::ApplicationData)
                .with(Element::text(
                    email::To,
                    "\"Bob Example\" <bob@example.com>, \"Team\" <team@example.com>",
                ))
                .with(Element::text(
                    email::From,
                    "\"Alice Example\" <alice@example.com>",
                ))
                .with(Element::text(email::Subject, subject))
                .with(Element::text(
                    email::DateReceived,
                    format!(
                        "2026-11-{:02}T{:02}:{:02}:00.000Z",
                        1 + i % 28,
                        i % 24,
                        i % 60
                    ),
                ))
                .with(Element::text(email::DisplayTo, "Bob Example; Team"))
                .with(Element::text(email::ThreadTopic, subject))
                .with(Element::text(email::Importance, "1"))
                .with(Element::text(
                    email::Read,
                    if i % 3 == 0 { "0" } else { "1" },
                ))
                .with(
                    Element::new(airsyncbase::Body)
                        .with(Element::text(airsyncbase::Type, "2"))
                        .with(Element::text(
                            airsyncbase::EstimatedDataSize,
                            html.len().to_string(),
                        ))
                        .with(Element::text(airsyncbase::Data, html)),
                )
                .with(Element::text(email::MessageClass, "IPM.Note"))
                .with(Element::text(email::InternetCPID, "65001"))
                .with(Element::new(email::Flag))
                .with(Element::text(
                    email::ContentClass,
                    "urn:content-classes:message",
                ))
                .with(Element::text(airsyncbase::NativeBodyType, "2"))
                .with(Element::opaque(
                    email2::ConversationId,
                    conversation.clone(),
                ))
                .with(Element::opaque(
                    email2::ConversationIndex,
                    conversation[..5].to_vec(),
                ))
                .with(Element::new(email::Categories)),
        )
}

fn sync_response() -> Element<'static> {
    let mut commands = Element::new(airsync::Commands);
    for i in 0..MESSAGES {
        commands.push(message(i));
    }
    Element::new(airsync::Sync).with(
        Element::new(airsync::Collections).with(
            Element::new(airsync::Collection)
                .with(Element::text(
                    airsync::SyncKey,
                    "{5c2e0b8e-1f5a-4b0e-9a57-3f3d1c8b2a10}2",
                ))
                .with(Element::text(airsync::CollectionId, "5"))
                .with(Element::text(airsync::Status, "1"))
                .with(commands)
                .with(Element::new(airsync::MoreAvailable)),
        ),
    )
}

/// The median of `runs` timings of `f`, in nanoseconds.
fn median_ns(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<u128> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2] as f64
}

fn harness(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/libwbxml2_harness.c");
    let bin = dir.join("libwbxml2_harness");
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libwbxml2"])
        .output()
        .expect("pkg-config (Debian package pkg-config) is needed to find libwbxml2");
    assert!(
        flags.status.success(),
        "libwbxml2-dev is not installed: run scripts/install-test-deps"
    );
    let flags = String::from_utf8(flags.stdout).unwrap();
    let status = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .args(flags.split_whitespace())
        .status()
        .expect("a C compiler (cc) is needed to build the libwbxml2 harness");
    assert!(status.success(), "building {} failed", src.display());
    bin
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let doc = sync_response();
    let bytes = doc.encode().unwrap();
    let size = bytes.len() as f64;
    assert_eq!(Element::decode(&bytes, Limits::default()).unwrap(), doc);

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let input = dir.join("sync-response-500.wbxml");
    std::fs::write(&input, &bytes).unwrap();

    let harness = harness(&dir);
    let run_harness = |preload: Option<&str>, n: usize| -> String {
        let mut cmd = Command::new(&harness);
        cmd.arg(&input).arg(n.to_string());
        if let Some(lib) = preload {
            cmd.env("LD_PRELOAD", lib);
        }
        let out = cmd.output().expect("running the libwbxml2 harness");
        assert!(
            out.status.success(),
            "libwbxml2 harness: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let field = |report: &str, name: &str| -> f64 {
        report
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("harness printed no {name}: {report}"))
    };
    let preload = Path::new(MIMALLOC_SO).exists().then_some(MIMALLOC_SO);

    // The machine is shared and noisy: the two codecs take turns, in
    // ROUNDS rounds of runs/ROUNDS each, and each keeps its best round's
    // median. A burst of load then costs both sides alike.
    const ROUNDS: usize = 5;
    let per_round = (runs / ROUNDS).max(1);
    let (mut ours_decode, mut ours_events, mut ours_encode) = (f64::MAX, f64::MAX, f64::MAX);
    let best = |acc: &mut [f64; 3], report: &str| {
        for (slot, key) in acc.iter_mut().zip(["tree_decode", "parse", "tree_encode"]) {
            *slot = slot.min(field(report, key));
        }
    };
    let mut glibc_best = [f64::MAX; 3];
    let mut mimalloc_best = [f64::MAX; 3];
    let mut glibc = String::new();
    for _ in 0..ROUNDS {
        ours_decode = ours_decode.min(median_ns(per_round, || {
            black_box(Element::decode(black_box(&bytes), Limits::default()).unwrap());
        }));
        ours_events = ours_events.min(median_ns(per_round, || {
            let mut reader = Reader::new(black_box(&bytes), Limits::default()).unwrap();
            let mut n = 0usize;
            while let Some(event) = reader.next_event().unwrap() {
                if let Event::Text(t) = event {
                    n += t.len();
                }
            }
            black_box(n);
        }));
        ours_encode = ours_encode.min(median_ns(per_round, || {
            black_box(black_box(&doc).encode().unwrap());
        }));
        glibc = run_harness(None, per_round);
        best(&mut glibc_best, &glibc);
        if let Some(lib) = preload {
            best(&mut mimalloc_best, &run_harness(Some(lib), per_round));
        }
    }
    assert_eq!(
        field(&glibc, "encoded_bytes") as usize,
        bytes.len(),
        "libwbxml2 encodes the document to other bytes"
    );

    let mbps = |ns: f64| size / ns * 1e9 / 1e6;
    println!(
        "input: {MESSAGES}-message Sync response, {} bytes; best median of {ROUNDS} alternating rounds of {per_round} runs",
        bytes.len()
    );
    println!(
        "{:<30} {:>10} {:>18} {:>7} {:>21} {:>7}",
        "operation", "ours MB/s", "libwbxml2 (glibc)", "ratio", "libwbxml2 (mimalloc)", "ratio"
    );
    for (i, (name, ours)) in [
        ("decode to a tree", ours_decode),
        ("parse events only (no tree)", ours_events),
        ("encode a tree", ours_encode),
    ]
    .into_iter()
    .enumerate()
    {
        let g = glibc_best[i];
        let (m_rate, m_ratio) = match preload.map(|_| mimalloc_best[i]) {
            Some(m) => (format!("{:.0}", mbps(m)), format!("{:.1}x", m / ours)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{name:<30} {:>10.0} {:>18.0} {:>6.1}x {m_rate:>21} {m_ratio:>7}",
            mbps(ours),
            mbps(g),
            g / ours
        );
    }
}
