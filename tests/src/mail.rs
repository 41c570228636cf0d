//! Mail in and out of the server for the tests: a plain SMTP/LMTP client
//! over `std::net::TcpStream`, and what `eas-server mailbox list|show`
//! says the store holds.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use sha2::Digest as _;

use crate::server::TestServer;

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("finding a free port: {e}"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 5321 4.5.2: a line that starts with a dot gets another, and the
/// data ends with `.` alone on a line. `message` must end with CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    assert!(message.ends_with(b"\r\n"), "the message must end with CRLF");
    let mut out = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// One reply: its code and its lines' texts (after `NNN-` / `NNN `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// A client for SMTP and LMTP: the test says what to send, byte for byte.
#[derive(Debug)]
pub struct MailClient {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl MailClient {
    pub fn connect(addr: SocketAddr) -> std::io::Result<MailClient> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_write_timeout(Some(Duration::from_secs(60)))?;
        Ok(MailClient {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()
    }

    /// Reads one (possibly multi-line) reply.
    pub fn reply(&mut self) -> std::io::Result<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the server closed the connection after {lines:?}"),
                ));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let code: u16 = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| std::io::Error::other(format!("not a reply: {line:?}")))?;
            lines.push(line.get(4..).unwrap_or("").to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, lines });
            }
        }
    }

    /// Sends a command line (CRLF added) and reads its reply.
    pub fn command(&mut self, line: &str) -> std::io::Result<Reply> {
        self.send(format!("{line}\r\n").as_bytes())?;
        self.reply()
    }

    /// Sends a command and insists on the reply code.
    pub fn expect(&mut self, line: &str, code: u16) -> Reply {
        let reply = self
            .command(line)
            .unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(reply.code, code, "{line:?} got {reply:?}");
        reply
    }
}

/// One line of `eas-server mailbox list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: u64,
    pub folder: u32,
    pub read: bool,
    pub size: u64,
    /// RFC 3339, UTC.
    pub received: String,
    pub sha256: String,
    pub subject: String,
}

/// What the store holds for `user` (in `folder`, or everywhere), as
/// `mailbox list` reports it.
pub fn mailbox_list(server: &TestServer, user: &str, folder: Option<&str>) -> Vec<Listed> {
    let mut args = vec!["mailbox", "list", user];
    if let Some(f) = folder {
        args.extend(["--folder", f]);
    }
    let out = server.cli_ok(&args, "");
    out.lines()
        .skip(1)
        .map(|line| {
            let mut cols = line.split_whitespace();
            let mut next = || cols.next().unwrap_or_else(|| panic!("short line {line:?}"));
            let id = next().parse().unwrap();
            let folder = next().parse().unwrap();
            let read = match next() {
                "yes" => true,
                "no" => false,
                other => panic!("read column {other:?} in {line:?}"),
            };
            let size = next().parse().unwrap();
            let received = next().to_owned();
            let sha256 = next().to_owned();
            assert_eq!(sha256.len(), 64, "{line:?}");
            let subject = cols.collect::<Vec<_>>().join(" ");
            Listed {
                id,
                folder,
                read,
                size,
                received,
                sha256,
                subject,
            }
        })
        .collect()
}

/// The MIME of one message, exactly as stored (`mailbox show`).
pub fn mailbox_show(server: &TestServer, user: &str, id: u64) -> Vec<u8> {
    let out = server.cli(&["mailbox", "show", user, &id.to_string()], "");
    assert!(
        out.status.success(),
        "mailbox show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
