//! The fleet simulator: N phones across M accounts against a release
//! `eas-server` over TLS on loopback. Each phone provisions (two phases),
//! runs FolderSync and the first Sync of its Inbox, then holds Ping after
//! Ping; mail arrives through LMTP at a chosen rate; the report gives the
//! devices connected, requests/s, notification latency (end of the LMTP
//! DATA to the Ping's answer) p50/p99/max, errors by kind, and the
//! server's RSS with what each held Ping costs.
//!
//! Run:
//!   cargo build --release -p eas-server -p eas-tests --bin eas-server --bin fleet
//!   target/release/fleet --devices 2000 --accounts 200
//!
//! Every run is bounded: `--timeout` ends it whatever happens, the mail
//! phase ends after `--messages` or `--mail-secs`, and the fleet stops the
//! server it started. Only loopback addresses are used: the server's
//! 127.0.0.1 and source addresses 127.0.0.2 and up, so one address's
//! ephemeral ports do not bound the number of connections.

mod device;
mod mail;
mod server;
mod stats;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::Parser;
use eas_proto::ProtocolVersion;
use hyper::header::HeaderValue;
use tokio::sync::{Semaphore, watch};

use crate::device::{Account, Fleet};
use crate::server::Server;
use crate::stats::{ProcSample, Stats, lock, ms, percentile};

/// Simulates a fleet of phones holding Pings against eas-server.
#[derive(Debug, Parser)]
#[command(name = "fleet")]
struct Args {
    /// Simulated devices; each holds its own TLS connection.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Accounts the devices are spread over (device i belongs to account
    /// i mod M).
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// The Ping HeartbeatInterval, seconds (60 to 3540).
    #[arg(long, default_value_t = 1800)]
    heartbeat: u32,
    /// Messages per second delivered through LMTP once every device holds
    /// its Ping; 0 skips the mail phase.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// The most messages delivered.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// The longest the mail phase lasts, seconds.
    #[arg(long, default_value_t = 60)]
    mail_secs: u64,
    /// LMTP connections delivering at once.
    #[arg(long, default_value_t = 4)]
    lmtp_connections: usize,
    /// Devices setting up (Provision to first Sync) at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Source addresses to spread connections over: 127.0.0.2 and up.
    #[arg(long, default_value_t = 8)]
    sources: u8,
    /// The whole run ends after this many seconds, whatever happens.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Seconds to wait once every device holds a Ping before reading the
    /// server's memory.
    #[arg(long, default_value_t = 10)]
    settle: u64,
    /// Worker threads of the fleet's own runtime (the server has the
    /// machine's other cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// `user add` processes at once when creating accounts.
    #[arg(long, default_value_t = 2)]
    account_jobs: usize,
    /// Keep the server's data directory here; accounts already in it are
    /// reused (creating thousands takes a while: argon2).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Load a server that already runs (https://127.0.0.1:PORT) instead of
    /// starting one; needs --lmtp and --data (its data directory).
    #[arg(long, requires_all = ["lmtp", "data"])]
    url: Option<String>,
    /// With --url: the server's LMTP address.
    #[arg(long)]
    lmtp: Option<SocketAddr>,
    /// With --url: the server's process id, for its memory figures.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Extra TOML for the configuration of the server the fleet starts.
    #[arg(long, default_value = "")]
    server_config: String,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.devices == 0 || args.accounts == 0 {
        bail!("--devices and --accounts must be at least 1");
    }
    if !(60..=3540).contains(&args.heartbeat) {
        bail!("--heartbeat must be within 60..=3540 s");
    }
    // A held Ping is a socket here as on the server.
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("raising RLIMIT_NOFILE")?;
    let needed = args.devices as u64 + 64;
    if needed > limit {
        bail!(
            "{} devices need about {needed} open files, and this process may open {limit} (the hard RLIMIT_NOFILE); run fewer devices or raise the hard limit",
            args.devices
        );
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);

    let mut server = match &args.url {
        Some(url) => Server::running(
            url,
            args.lmtp.context("--lmtp")?,
            args.data.as_deref().context("--data")?,
            args.server_pid,
        )?,
        None => Server::start(args.data.as_deref(), &args.server_config)?,
    };
    println!(
        "server https://{} (LMTP {}), data {}",
        server.addr,
        server.lmtp,
        server.data.display()
    );
    if let Some(pid) = server.pid {
        if let Some(limit) = stats::open_files_limit(pid) {
            println!("  server pid {pid}, open files limit {limit}");
            if args.devices as u64 + 32 > limit {
                println!(
                    "  warning: {} devices need more open files than the server may have",
                    args.devices
                );
            }
        }
    }
    let t = Instant::now();
    let added = server.ensure_accounts(args.accounts, args.account_jobs)?;
    println!(
        "accounts: {} ({added} added in {:.1} s)",
        args.accounts,
        t.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the fleet's runtime")?;
    let within = deadline.saturating_duration_since(Instant::now());
    let outcome = runtime.block_on(async {
        match tokio::time::timeout(within, drive(&args, &mut server)).await {
            Ok(result) => result,
            Err(_) => bail!("the run reached --timeout {} s", args.timeout),
        }
    });
    // Connections still open end with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(5));
    if outcome.is_err() && server.pid.is_some() {
        eprintln!("server log (tail):\n{}", server.log_tail(20));
    }
    outcome
}

/// Figures taken while the fleet runs.
#[derive(Debug, Default)]
struct Snapshots {
    idle: Option<ProcSample>,
    held: Option<ProcSample>,
    after_mail: Option<ProcSample>,
    holding: usize,
    setup_secs: f64,
    setup_requests: u64,
}

async fn drive(args: &Args, server: &mut Server) -> anyhow::Result<()> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.certificate()?)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    let accounts = (0..args.accounts)
        .map(|i| {
            let login = server::account_name(i);
            let creds = base64::engine::general_purpose::STANDARD
                .encode(format!("{login}:{}", server::account_password(i)));
            Ok(Account {
                login,
                authorization: HeaderValue::from_str(&format!("Basic {creds}"))?,
                deliveries: Default::default(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sources = (0..args.sources.clamp(1, 250))
        .map(|k| Ipv4Addr::new(127, 0, 0, 2 + k))
        .collect();
    let (stop_tx, stop) = watch::channel(false);
    let fleet = Arc::new(Fleet {
        server: server.addr,
        host: HeaderValue::from_str(&server.addr.to_string())?,
        tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        sources,
        accounts,
        heartbeat: args.heartbeat,
        version: ProtocolVersion::V16_1,
        stats: Stats::default(),
        stop,
        setup: Semaphore::new(args.concurrency.max(1)),
    });
    let pid = server.pid;
    let sample = || pid.and_then(ProcSample::read);
    let mut snap = Snapshots {
        idle: sample(),
        ..Default::default()
    };
    if let Some(s) = &snap.idle {
        println!("server before the devices: {}", s.describe());
    }

    // Phase 1: every device sets up and holds a Ping.
    let started = Instant::now();
    let mut devices = tokio::task::JoinSet::new();
    for i in 0..args.devices {
        devices.spawn(device::run(fleet.clone(), i));
    }
    let stats = &fleet.stats;
    let mut last_report = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let set_up = stats.set_up.load(Ordering::Relaxed);
        let failed = stats.failed.load(Ordering::Relaxed);
        let holding = stats.holding.load(Ordering::Relaxed);
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "  {:>5.0} s: {} connected, {set_up} set up, {failed} failed, {holding} holding a Ping, {} requests, {} errors{}",
                started.elapsed().as_secs_f64(),
                stats.connected.load(Ordering::Relaxed),
                stats.requests(),
                stats.error_count(),
                sample()
                    .map(|s| format!("; server RSS {:.0} MiB", s.rss_kib as f64 / 1024.0))
                    .unwrap_or_default()
            );
        }
        let gave_up = stats.gave_up.load(Ordering::Relaxed);
        if set_up + failed >= args.devices && holding + gave_up >= set_up {
            break;
        }
    }
    snap.setup_secs = started.elapsed().as_secs_f64();
    snap.setup_requests = stats.requests();
    println!(
        "set up: {} devices in {:.1} s ({:.0} requests/s), {} failed",
        stats.set_up.load(Ordering::Relaxed),
        snap.setup_secs,
        snap.setup_requests as f64 / snap.setup_secs,
        stats.failed.load(Ordering::Relaxed)
    );
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    snap.holding = stats.holding.load(Ordering::Relaxed);
    snap.held = sample();
    if let Some(s) = &snap.held {
        println!("server with {} Pings held: {}", snap.holding, s.describe());
    }

    // Phase 2: mail arrives while the Pings are held.
    let mail_started = Instant::now();
    let requests_before = stats.requests();
    let injected = if args.rate > 0.0 && args.messages > 0 {
        let injected = mail::inject(
            fleet.clone(),
            server.lmtp,
            args.lmtp_connections,
            args.rate,
            args.messages,
            Duration::from_secs(args.mail_secs),
        )
        .await;
        // The last answers, and the Syncs and Pings after them.
        let quiet = Instant::now();
        while quiet.elapsed() < Duration::from_secs(10)
            && stats.holding.load(Ordering::Relaxed) < snap.holding
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        snap.after_mail = sample();
        Some(injected)
    } else {
        None
    };
    let mail_secs = mail_started.elapsed().as_secs_f64();
    let mail_requests = stats.requests() - requests_before;

    // The end: the server is stopped while the devices hold their Pings.
    stop_tx.send_replace(true);
    let shutdown = if pid.is_some() && args.url.is_none() {
        let server_ref = &mut *server;
        let took = tokio::task::block_in_place(|| server_ref.terminate(Duration::from_secs(60)));
        Some(took)
    } else {
        None
    };
    let drain = tokio::time::timeout(Duration::from_secs(10), async {
        while devices.join_next().await.is_some() {}
    })
    .await;
    if drain.is_err() {
        devices.abort_all();
    }

    report(
        args,
        &fleet,
        &snap,
        injected,
        mail_secs,
        mail_requests,
        shutdown,
    );
    Ok(())
}

fn report(
    args: &Args,
    fleet: &Fleet,
    snap: &Snapshots,
    injected: Option<mail::Injected>,
    mail_secs: f64,
    mail_requests: u64,
    shutdown: Option<Option<Duration>>,
) {
    let stats = &fleet.stats;
    println!("\n== fleet report ==");
    println!(
        "devices: {} over {} accounts, {} source addresses, heartbeat {} s, TLS 1.3 on loopback",
        args.devices,
        args.accounts,
        fleet.sources.len(),
        args.heartbeat
    );
    println!(
        "connected and holding a Ping at the measurement: {} (set up {}, failed to set up {}, gave up later {})",
        snap.holding,
        stats.set_up.load(Ordering::Relaxed),
        stats.failed.load(Ordering::Relaxed),
        stats.gave_up.load(Ordering::Relaxed)
    );
    println!(
        "setup: {:.1} s, {} requests, {:.0} requests/s",
        snap.setup_secs,
        snap.setup_requests,
        snap.setup_requests as f64 / snap.setup_secs.max(0.001)
    );
    if let (Some(idle), Some(held)) = (snap.idle, snap.held) {
        let per = (held.rss_kib.saturating_sub(idle.rss_kib)) as f64 * 1024.0
            / snap.holding.max(1) as f64;
        println!(
            "server RSS: {:.1} MiB before the devices, {:.1} MiB with {} held Pings: {:.1} KB per held Ping (VmHWM {:.1} MiB)",
            idle.rss_kib as f64 / 1024.0,
            held.rss_kib as f64 / 1024.0,
            snap.holding,
            per / 1000.0,
            held.hwm_kib as f64 / 1024.0
        );
        println!(
            "server with the Pings held: {} threads, {} open files",
            held.threads, held.fds
        );
    }
    if let Some(injected) = injected {
        let delivered = stats.delivered.load(Ordering::Relaxed);
        println!(
            "mail: {delivered} delivered of {} offered in {:.1} s ({:.1}/s asked, {:.1}/s achieved)",
            injected.offered,
            injected.took.as_secs_f64(),
            args.rate,
            delivered as f64 / injected.took.as_secs_f64().max(0.001)
        );
        let mut acks = lock(&stats.lmtp_acks).clone();
        acks.sort();
        println!(
            "  LMTP end of DATA to 250 (durable): p50 {}, p99 {}, max {}",
            ms(percentile(&acks, 0.5)),
            ms(percentile(&acks, 0.99)),
            ms(acks.last().copied().unwrap_or_default())
        );
        let mut lat = lock(&stats.latencies).clone();
        lat.sort();
        println!(
            "  notification latency, end of DATA to the Ping's answer: p50 {}, p99 {}, max {} ({} answers; {} more found the change already waiting)",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default()),
            lat.len(),
            stats.immediate.load(Ordering::Relaxed)
        );
        let per_account = args.devices as f64 / args.accounts as f64;
        println!(
            "  items fetched by Sync after Status 2: {} (deliveries x devices per account: {:.0})",
            stats.items.load(Ordering::Relaxed),
            delivered as f64 * per_account
        );
        println!(
            "  requests during the mail phase: {mail_requests} in {mail_secs:.1} s, {:.0}/s",
            mail_requests as f64 / mail_secs.max(0.001)
        );
        if let Some(after) = snap.after_mail {
            println!("  server after the mail phase: {}", after.describe());
        }
    }
    let statuses = lock(&stats.ping_status);
    println!(
        "Ping answers by Status: {}",
        statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let errors = lock(&stats.errors);
    if errors.is_empty() {
        println!("errors: none");
    } else {
        println!("errors:");
        for (kind, n) in errors.iter() {
            println!("  {n:>7}  {kind}");
        }
    }
    match shutdown {
        Some(Some(took)) => println!(
            "server stopped (SIGTERM) with the Pings held in {:.2} s",
            took.as_secs_f64()
        ),
        Some(None) => println!("server did not stop within 60 s of SIGTERM"),
        None => {}
    }
    if let Some(me) = ProcSample::read(std::process::id()) {
        println!("fleet process: {}", me.describe());
    }
}
