//! The server under load: a release `eas-server` the fleet starts in a data
//! directory of its own, or one already running (`--url`). Accounts are
//! added with the server's own command line.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use eas_tests::server::TempDir;

const READY: &str = "eas-server listening on https://";

/// The fleet's accounts: `fleet00000`, `fleet00001`, ...
pub(crate) fn account_name(i: usize) -> String {
    format!("fleet{i:05}")
}

pub(crate) fn account_email(i: usize) -> String {
    format!("{}@fleet.example", account_name(i))
}

pub(crate) fn account_password(i: usize) -> String {
    format!("fleet-secret-{i}")
}

/// The server the fleet talks to.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) bin: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) addr: SocketAddr,
    pub(crate) lmtp: SocketAddr,
    pub(crate) pid: Option<u32>,
    child: Option<Child>,
    log: Option<PathBuf>,
    /// Holds the data directory when the fleet made it.
    _dir: Option<TempDir>,
}

/// The release server: `EAS_SERVER_BIN`, or `eas-server` beside this binary
/// (`cargo build --release -p eas-server` puts it there).
pub(crate) fn server_bin() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("EAS_SERVER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe().context("locating the fleet binary")?;
    let beside = exe.with_file_name("eas-server");
    if beside.is_file() {
        return Ok(beside);
    }
    bail!(
        "no eas-server next to {}: run `cargo build --release -p eas-server` or set EAS_SERVER_BIN",
        exe.display()
    )
}

impl Server {
    /// Starts a server on a free loopback port with LMTP on another, in
    /// `data` (kept) or a temporary directory (removed at the end).
    pub(crate) fn start(data: Option<&Path>, config_extra: &str) -> anyhow::Result<Server> {
        let bin = server_bin()?;
        let dir = TempDir::new("fleet");
        let data = match data {
            Some(d) => d.to_path_buf(),
            None => dir.path().join("data"),
        };
        let lmtp_port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let lmtp = SocketAddr::from(([127, 0, 0, 1], lmtp_port));
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[push]\nmin_heartbeat_secs = 60\nmax_heartbeat_secs = 3540\n\n[lmtp]\nlisten = \"{lmtp}\"\nmax_connections = 64\n\n{config_extra}"
            ),
        )?;
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log)?;
        let mut child = Command::new(&bin)
            .arg("--data")
            .arg(&data)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env(
                "EAS_LOG",
                std::env::var("EAS_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(READY) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(rest.trim().to_owned());
                    }
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().context("the banner's address")?,
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "the server did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Ok(Server {
            bin,
            data,
            addr,
            lmtp,
            pid: Some(child.id()),
            child: Some(child),
            log: Some(log),
            _dir: Some(dir),
        })
    }

    /// A server that already runs: its HTTPS address, LMTP address and data
    /// directory (for the certificate and the admin socket).
    pub(crate) fn running(
        url: &str,
        lmtp: SocketAddr,
        data: &Path,
        pid: Option<u32>,
    ) -> anyhow::Result<Server> {
        let addr: SocketAddr = url
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .parse()
            .context("--url must be https://IP:PORT")?;
        if !addr.ip().is_loopback() || !lmtp.ip().is_loopback() {
            bail!("the fleet only loads servers on loopback addresses");
        }
        Ok(Server {
            bin: server_bin()?,
            data: data.to_path_buf(),
            addr,
            lmtp,
            pid,
            child: None,
            log: None,
            _dir: None,
        })
    }

    /// The server's certificate, which the devices trust.
    pub(crate) fn certificate(&self) -> anyhow::Result<rustls::pki_types::CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject as _;
        let path = self.data.join("tls-cert.pem");
        rustls::pki_types::CertificateDer::from_pem_file(&path)
            .with_context(|| format!("reading {}", path.display()))
    }

    fn cli(&self, args: &[&str], stdin: &str) -> anyhow::Result<String> {
        let mut child = Command::new(&self.bin)
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "eas-server {args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Adds the accounts `0..count` that do not exist yet, with `eas-server
    /// user add` through the running server's admin socket, `parallel` at
    /// a time (each hashes its password with argon2 first). Returns how
    /// many were added.
    pub(crate) fn ensure_accounts(&self, count: usize, parallel: usize) -> anyhow::Result<usize> {
        let listed = self.cli(&["user", "list"], "")?;
        let existing: HashSet<&str> = listed
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let missing: Vec<usize> = (0..count)
            .filter(|i| !existing.contains(account_name(*i).as_str()))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let started = Instant::now();
        let next = AtomicUsize::new(0);
        let failures = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..parallel.max(1) {
                s.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = missing.get(k) else { break };
                        let name = account_name(i);
                        let email = account_email(i);
                        if let Err(e) = self.cli(
                            &["user", "add", &name, "--email", &email, "--password-stdin"],
                            &format!("{}\n", account_password(i)),
                        ) {
                            crate::stats::lock(&failures).push(e.to_string());
                        }
                        if k % 500 == 499 {
                            eprintln!(
                                "  {} of {} accounts added ({:.0} s)",
                                k + 1,
                                missing.len(),
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                });
            }
        });
        let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(first) = failures.first() {
            bail!("{} accounts could not be added: {first}", failures.len());
        }
        Ok(missing.len())
    }

    /// SIGTERM, then waits (bounded) for the server to exit; how long it took.
    pub(crate) fn terminate(&mut self, within: Duration) -> Option<Duration> {
        let child = self.child.as_mut()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while started.elapsed() < within {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The last lines of the server's log, when the fleet started it.
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all.iter()
            .skip(all.len().saturating_sub(lines))
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
