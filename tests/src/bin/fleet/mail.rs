//! Mail in at a chosen rate: LMTP connections to the server, each
//! delivering one message at a time to one account, as an MTA does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::Rng as _;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

use crate::device::Fleet;
use crate::server::account_email;
use crate::stats::lock;

/// How many messages were offered and how long the injection took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    pub(crate) offered: usize,
    pub(crate) took: Duration,
}

/// Delivers up to `messages` messages at `rate` per second for at most
/// `within`, over `connections` LMTP connections.
pub(crate) async fn inject(
    fleet: Arc<Fleet>,
    lmtp: SocketAddr,
    connections: usize,
    rate: f64,
    messages: usize,
    within: Duration,
) -> Injected {
    let (tx, rx) = mpsc::channel::<usize>(connections.max(1));
    let rx = Arc::new(Mutex::new(rx));
    let mut workers = Vec::new();
    for w in 0..connections.max(1) {
        let fleet = fleet.clone();
        let rx = rx.clone();
        workers.push(tokio::spawn(async move {
            if let Err(e) = worker(&fleet, lmtp, w, &rx).await {
                fleet.stats.error(format!("LMTP: {e}"));
            }
        }));
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut offered = 0;
    let accounts = fleet.accounts.len().max(1);
    for k in 0..messages {
        let at = tokio::time::Instant::from_std(started) + period.mul_f64(k as f64);
        if at >= deadline {
            break;
        }
        tokio::time::sleep_until(at).await;
        let account = rand::rng().random_range(0..accounts);
        // A full queue waits here: the rate achieved is reported.
        tokio::select! {
            sent = tx.send(account) => if sent.is_err() { break },
            () = tokio::time::sleep_until(deadline) => break,
        }
        offered += 1;
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    Injected {
        offered,
        took: started.elapsed(),
    }
}

async fn worker(
    fleet: &Fleet,
    lmtp: SocketAddr,
    w: usize,
    jobs: &Mutex<mpsc::Receiver<usize>>,
) -> std::io::Result<()> {
    let stream = TcpStream::connect(lmtp).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, 220).await?;
    write.write_all(b"LHLO fleet.example\r\n").await?;
    expect(&mut read, 250).await?;
    let mut sent = 0usize;
    loop {
        let next = jobs.lock().await.recv().await;
        let Some(account) = next else { break };
        let Some(target) = fleet.accounts.get(account) else {
            continue;
        };
        let rcpt = account_email(account);
        write
            .write_all(
                format!("MAIL FROM:<mta@fleet.example>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes(),
            )
            .await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 354).await?;
        let message = format!(
            "From: Fleet <mta@fleet.example>\r\nTo: <{rcpt}>\r\nSubject: fleet message {w}-{sent}\r\nMessage-ID: <{w}.{sent}@fleet.example>\r\nDate: Sun, 29 Nov 2026 18:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA message for the fleet, number {sent} of connection {w}.\r\n.\r\n"
        );
        // The delivery starts now: the time is taken and recorded under the
        // lock, so each account's list stays in order.
        let handed = {
            let mut deliveries = lock(&target.deliveries);
            let now = Instant::now();
            deliveries.push(now);
            now
        };
        write.write_all(message.as_bytes()).await?;
        match expect(&mut read, 250).await {
            Ok(()) => {
                lock(&fleet.stats.lmtp_acks).push(handed.elapsed());
                fleet.stats.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => fleet.stats.error(format!("LMTP delivery: {e}")),
        }
        sent += 1;
    }
    let _ = write.write_all(b"QUIT\r\n").await;
    Ok(())
}

/// Reads one reply, possibly of several lines, and insists on its code.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: u16,
) -> std::io::Result<()> {
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(60), read.read_line(&mut line))
            .await
            .map_err(|_| std::io::Error::other("no reply within 60 s"))??;
        if n == 0 {
            return Err(std::io::Error::other("the server closed the connection"));
        }
        let got: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if got != code {
            return Err(std::io::Error::other(format!(
                "expected {code}, got {:?}",
                line.trim_end()
            )));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}
