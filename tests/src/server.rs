//! The real `eas-server`, run in a temporary data directory on a free
//! loopback port, and the tools to reach it: its command line, an HTTP
//! client that trusts its self-signed certificate, and raw TLS connections.
//!
//! [`TestServer`] is a guard: dropping it kills the server and removes the
//! directory. A test that fails prints the server's log.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::client::EasClient;
use crate::eas_server;

/// What the server prints once it accepts connections.
const READY: &str = "eas-server listening on ";

/// How long a start may take before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "eas-{label}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The log filter tests run the server with: `info`, and the debug lines
/// a held Ping or Sync writes when it starts to wait, which
/// [`TestServer::wait_for_hold`] waits on instead of on time.
pub const HOLD_LOG_FILTER: &str = "info,eas_server::cmd::ping=debug,eas_server::cmd::sync=debug";

/// A running (or stopped, between restarts) `eas-server`.
#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    addr: Option<SocketAddr>,
    config: Option<PathBuf>,
    /// More arguments for `serve`, such as `--demo`.
    serve_args: Vec<String>,
    /// `EAS_LOG` for the server: [`HOLD_LOG_FILTER`] unless a test wants
    /// something else.
    log_filter: String,
    /// Everything the server printed on stdout, shared with the thread that
    /// reads it.
    stdout: Arc<std::sync::Mutex<String>>,
    /// Holds `data/`, `config.toml` and `server.log`; declared last so the
    /// process is gone before its directory goes.
    dir: TempDir,
}

impl TestServer {
    /// A data directory with no server running yet.
    pub fn new() -> TestServer {
        let dir = TempDir::new("e2e");
        TestServer {
            child: None,
            addr: None,
            config: None,
            serve_args: Vec::new(),
            log_filter: HOLD_LOG_FILTER.to_owned(),
            stdout: Arc::default(),
            dir,
        }
    }

    /// Like [`TestServer::new`], with this configuration file (TOML) given
    /// to `serve --config`.
    pub fn with_config(toml: &str) -> TestServer {
        let mut server = TestServer::new();
        let path = server.dir.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        server.config = Some(path);
        server
    }

    /// A started server with the user alice (password `alice-secret`).
    pub fn with_alice() -> TestServer {
        TestServer::with_alice_and_config("")
    }

    pub fn with_alice_and_config(toml: &str) -> TestServer {
        let mut server = TestServer::with_config(toml);
        server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
        server.start();
        server
    }

    /// Adds arguments to `serve` for the next start.
    pub fn serve_args(&mut self, args: &[&str]) {
        self.serve_args.extend(args.iter().map(|a| (*a).to_owned()));
    }

    /// Sets `EAS_LOG` (an `EnvFilter`) for the next start, for a test that
    /// waits on a debug line.
    pub fn log_filter(&mut self, filter: &str) {
        filter.clone_into(&mut self.log_filter);
    }

    /// What the server printed on stdout so far (its banner).
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the server and returns once it listens: it prints its address
    /// only after binding the port and the admin socket.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the server already runs");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = Command::new(eas_server());
        cmd.arg("--data")
            .arg(self.data())
            .args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(&self.serve_args);
        let mut child = cmd
            .env("EAS_LOG", &self.log_filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting eas-server: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let printed = self.stdout.clone();
        // Reads the banner up to the blank line that ends it (so `stdout()`
        // holds all of it once `start` returns), then keeps draining stdout
        // so the server never blocks on (or fails writing to) a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut address = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                {
                    let mut all = printed.lock().unwrap_or_else(|e| e.into_inner());
                    all.push_str(&line);
                    all.push('\n');
                }
                if address.is_none() {
                    address = line.strip_prefix(READY).and_then(|url| {
                        url.strip_prefix("https://")
                            .or_else(|| url.strip_prefix("http://"))
                            .map(|rest| rest.trim().to_owned())
                    });
                } else if line.trim().is_empty() {
                    if let (Some(tx), Some(address)) = (tx.take(), address.clone()) {
                        let _ = tx.send(address);
                    }
                }
            }
        });
        self.child = Some(child);
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                self.addr = Some(
                    addr.parse()
                        .unwrap_or_else(|e| panic!("the banner's address {addr:?}: {e}")),
                );
            }
            Err(_) => panic!(
                "eas-server did not say it was listening; its log:\n{}",
                self.log()
            ),
        }
    }

    /// How many times a Ping or a Sync with Wait from `device` has started
    /// to wait so far (the server's debug lines under
    /// [`HOLD_LOG_FILTER`]).
    pub fn holds(&self, device: &str) -> usize {
        let field = format!("device={device}");
        self.log()
            .lines()
            .filter(|l| l.contains("ping: holding") || l.contains("sync: waiting"))
            .filter(|l| l.split_whitespace().any(|w| w == field))
            .count()
    }

    /// Waits (bounded) until `device` has started to wait `count` times in
    /// all: a test that acts on a held request knows it is held.
    pub fn wait_for_hold(&self, device: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.holds(device) < count {
            assert!(
                Instant::now() < deadline,
                "{device} was not held {count} time(s) within 30 s; the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `hold` (a Ping or a Sync with Wait from `device`) on its own
    /// thread, and `during` once the server holds it; returns both
    /// answers. If `hold` is answered without waiting, `during` runs when
    /// it has been.
    pub fn while_held<H, D>(
        &self,
        device: &str,
        hold: impl FnOnce() -> H + Send,
        during: impl FnOnce() -> D,
    ) -> (H, D)
    where
        H: Send,
    {
        let before = self.holds(device);
        std::thread::scope(|s| {
            let h = s.spawn(hold);
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.holds(device) <= before && !h.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "{device} was not held within 30 s; the log:\n{}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            let d = during();
            (h.join().unwrap(), d)
        })
    }

    /// Forbids the running server to grow any file past the store's
    /// present size (RLIMIT_FSIZE through `prlimit`): the next write that
    /// needs more room fails in the kernel with EFBIG, as a full disk
    /// fails one with ENOSPC.
    pub fn freeze_store_size(&self) {
        let size = std::fs::metadata(self.data().join("eas.redb"))
            .unwrap()
            .len();
        let prlimit = crate::require_tool("prlimit", "util-linux");
        let pid = self.pid().expect("the server is not running").to_string();
        let limited = Command::new(prlimit)
            .args(["--pid", &pid, &format!("--fsize={size}")])
            .status()
            .unwrap();
        assert!(limited.success(), "prlimit failed");
    }

    /// Sends SIGTERM and returns at once; [`TestServer::wait_for_exit`]
    /// waits for the end.
    pub fn signal_term(&self) -> Instant {
        let child = self.child.as_ref().expect("the server is not running");
        let kill = crate::require_tool("kill", "procps");
        let started = Instant::now();
        let sent = Command::new(kill)
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        started
    }

    /// Sends SIGTERM and waits (bounded) for the process to end; returns
    /// its exit status and how long it took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let started = self.signal_term();
        self.wait_for_exit(started)
    }

    /// Waits (bounded) for the process to end after
    /// [`TestServer::signal_term`]; returns its exit status and how long
    /// it took since `signalled`.
    pub fn wait_for_exit(&mut self, signalled: Instant) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("the server is not running");
        let started = signalled;
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.addr = None;
                return (status, started.elapsed());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "eas-server did not exit within 30 s of SIGTERM; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is not running");
        child.kill().unwrap();
        child.wait().unwrap();
        self.addr = None;
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the server is not running")
    }

    /// `https://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr())
    }

    /// Runs `eas-server --data DATA ARGS...` with `stdin` as its input.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(eas_server())
            .arg("--data")
            .arg(self.data())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Like [`TestServer::cli`], and the command must succeed; its stdout.
    pub fn cli_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert!(
            out.status.success(),
            "eas-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `user add NAME --email ADDR --password-stdin`.
    pub fn add_user(&self, name: &str, email: &str, password: &str) {
        self.cli_ok(
            &["user", "add", name, "--email", email, "--password-stdin"],
            &format!("{password}\n"),
        );
    }

    /// The server's certificate, as the clients trust it.
    pub fn certificate(&self) -> CertificateDer<'static> {
        let path = self.data().join("tls-cert.pem");
        CertificateDer::from_pem_file(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// A rustls client configuration (ring provider) whose only root is the
    /// server's self-signed certificate: verification stays on.
    pub fn tls_config(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.certificate()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }

    /// A new HTTP client, with its own connection pool, that trusts the
    /// server's certificate.
    pub fn http(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(self.tls_config())
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// Like [`TestServer::http`], connecting from `local`, another loopback
    /// address (127.0.0.2, say): a second client address on one machine.
    pub fn http_from(&self, local: std::net::IpAddr) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(self.tls_config())
            .no_proxy()
            .local_address(local)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// A TLS connection to the server with the handshake done, for
    /// requests no HTTP client would send.
    pub fn raw_tls(&self) -> RawTls {
        let tcp = TcpStream::connect(self.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let name = ServerName::IpAddress(self.addr().ip().into());
        let conn = rustls::ClientConnection::new(Arc::new(self.tls_config()), name).unwrap();
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .unwrap_or_else(|e| panic!("TLS handshake with the server: {e}"));
        }
        RawTls(stream)
    }

    /// An ActiveSync client of this server.
    pub fn client(
        &self,
        login: &str,
        password: &str,
        device_id: &str,
        version: eas_proto::ProtocolVersion,
    ) -> EasClient {
        EasClient::new(
            self.http(),
            self.url(""),
            login,
            password,
            device_id,
            version,
        )
    }

    /// alice's client for a device.
    pub fn alice(&self, device_id: &str, version: eas_proto::ProtocolVersion) -> EasClient {
        self.client("alice", ALICE_PASSWORD, device_id, version)
    }
}

impl Default for TestServer {
    fn default() -> Self {
        TestServer::new()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- eas-server log ---\n{}--- end ---", self.log());
        }
    }
}

/// alice's password in [`TestServer::with_alice`].
pub const ALICE_PASSWORD: &str = "alice-secret";

/// A raw TLS connection to the server.
#[derive(Debug)]
pub struct RawTls(rustls::StreamOwned<rustls::ClientConnection, TcpStream>);

/// How a connection ended when read to its end.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// The server closed it; what it sent first, if anything.
    Closed(Vec<u8>),
    /// Still open when the read timed out.
    StillOpen(Vec<u8>),
}

impl RawTls {
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)?;
        self.0.flush()
    }

    /// Reads until the server closes the connection (cleanly or not) or
    /// `within` passes.
    pub fn read_to_close(&mut self, within: Duration) -> Closed {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Closed::StillOpen(got);
            }
            self.0.sock.set_read_timeout(Some(left)).unwrap();
            match self.0.read(&mut buf) {
                Ok(0) => return Closed::Closed(got),
                Ok(n) => got.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Closed::StillOpen(got);
                }
                // A reset or a close without close_notify is a close too.
                Err(_) => return Closed::Closed(got),
            }
        }
    }
}
