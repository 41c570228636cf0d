//! A small SMTP server that stands in for a smarthost and records exactly
//! what it is sent: the envelope, and the message bytes as the receiver
//! sees them (DATA with the dot-stuffing undone, or BDAT chunks as they
//! came). What it offers in EHLO and how it answers is the test's choice,
//! so the tests can see the queue retry, refuse, and send byte for byte.
//!
//! It runs on its own threads and stops when dropped.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the smarthost offers and answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub chunking: bool,
    pub eight_bit_mime: bool,
    pub binary_mime: bool,
    /// Recipients refused at RCPT, with the reply line to give
    /// (`550 5.1.1 no such user`).
    pub refuse: Vec<(String, String)>,
    /// The reply to the end of the data.
    pub data_reply: String,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            chunking: true,
            eight_bit_mime: true,
            binary_mime: false,
            refuse: Vec::new(),
            data_reply: "250 2.0.0 Ok: queued".into(),
        }
    }
}

/// One message the smarthost took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The MAIL command's argument, as sent (`FROM:<a@b> BODY=8BITMIME`).
    pub mail_from: String,
    /// The accepted recipients.
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
    pub via_bdat: bool,
}

#[derive(Debug)]
pub struct Smarthost {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    delivered: Arc<Mutex<Vec<Delivered>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Smarthost {
    /// Listens on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Smarthost {
        Smarthost::start_on(0, behaviour)
    }

    /// Listens on this loopback port (0: any free one).
    pub fn start_on(port: u16, behaviour: Behaviour) -> Smarthost {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("binding the test smarthost to port {port}: {e}"));
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = stop.clone();
            let delivered = delivered.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let behaviour = behaviour.clone();
                    let delivered = delivered.clone();
                    std::thread::spawn(move || {
                        let _ = session(stream, &behaviour, &delivered);
                    });
                }
            })
        };
        Smarthost {
            addr,
            stop,
            delivered,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived; panics after `within`.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Delivered> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.delivered();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the smarthost got {} messages, not {n}, within {within:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smarthost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn session(
    stream: TcpStream,
    b: &Behaviour,
    delivered: &Mutex<Vec<Delivered>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 smarthost.test ESMTP test\r\n")?;
    let mut mail_from: Option<String> = None;
    let mut rcpt: Vec<String> = Vec::new();
    let mut chunks: Vec<u8> = Vec::new();
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let mut ext = vec!["smarthost.test", "PIPELINING", "SIZE 100000000"];
            if b.eight_bit_mime {
                ext.push("8BITMIME");
            }
            if b.binary_mime {
                ext.push("BINARYMIME");
            }
            if b.chunking {
                ext.push("CHUNKING");
            }
            ext.push("ENHANCEDSTATUSCODES");
            let n = ext.len();
            for (i, e) in ext.iter().enumerate() {
                let sep = if i + 1 == n { ' ' } else { '-' };
                out.write_all(format!("250{sep}{e}\r\n").as_bytes())?;
            }
        } else if upper.starts_with("MAIL ") {
            mail_from = Some(line[5..].to_owned());
            rcpt.clear();
            chunks.clear();
            out.write_all(b"250 2.1.0 Ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let addr = line[8..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_owned();
            match b.refuse.iter().find(|(a, _)| a.eq_ignore_ascii_case(&addr)) {
                Some((_, reply)) => out.write_all(format!("{reply}\r\n").as_bytes())?,
                None => {
                    rcpt.push(addr);
                    out.write_all(b"250 2.1.5 Ok\r\n")?;
                }
            }
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if input.read_until(b'\n', &mut l)? == 0 {
                    return Ok(());
                }
                if l == b".\r\n" {
                    break;
                }
                match l.strip_prefix(b".") {
                    Some(rest) => data.extend_from_slice(rest),
                    None => data.extend_from_slice(&l),
                }
            }
            finish(
                &mut out,
                b,
                &mut mail_from,
                &mut rcpt,
                data,
                false,
                delivered,
            )?;
        } else if upper.starts_with("BDAT ") {
            let mut parts = line[5..].split_whitespace();
            let n: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let last = parts.next().is_some_and(|p| p.eq_ignore_ascii_case("LAST"));
            let mut chunk = vec![0u8; n];
            input.read_exact(&mut chunk)?;
            chunks.extend_from_slice(&chunk);
            if last {
                let data = std::mem::take(&mut chunks);
                finish(
                    &mut out,
                    b,
                    &mut mail_from,
                    &mut rcpt,
                    data,
                    true,
                    delivered,
                )?;
            } else {
                out.write_all(format!("250 2.0.0 {n} octets received\r\n").as_bytes())?;
            }
        } else if upper == "RSET" || upper == "NOOP" {
            mail_from = None;
            rcpt.clear();
            out.write_all(b"250 2.0.0 Ok\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 5.5.2 Error: command not recognized\r\n")?;
        }
    }
}

fn finish(
    out: &mut TcpStream,
    b: &Behaviour,
    mail_from: &mut Option<String>,
    rcpt: &mut Vec<String>,
    data: Vec<u8>,
    via_bdat: bool,
    delivered: &Mutex<Vec<Delivered>>,
) -> std::io::Result<()> {
    if b.data_reply.starts_with('2') {
        delivered.lock().unwrap().push(Delivered {
            mail_from: mail_from.take().unwrap_or_default(),
            rcpt_to: std::mem::take(rcpt),
            data,
            via_bdat,
        });
    }
    out.write_all(format!("{}\r\n", b.data_reply).as_bytes())
}
