//! LMTP (RFC 2033): how an MTA such as Postfix hands mail to the server.
//! Each recipient is a user's e-mail address; the message goes into that
//! user's Inbox.
//!
//! The bytes after DATA, with the dot-stuffing undone (RFC 5321 4.5.2), are
//! what is stored: no header is added, no line ending changed (DESIGN.md,
//! promise 1). After the data, each accepted recipient gets its own reply,
//! sent only once that recipient's delivery has committed to disk (promise
//! 2): a `250` is never lost, whenever the server stops.
//!
//! PIPELINING (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034), 8BITMIME (RFC
//! 6152: the bytes are stored as received whatever their top bit) and SIZE
//! (RFC 1870) are offered. Lines, messages, recipients, connections and the
//! waits for the peer are bounded by `[lmtp]` in the configuration.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader,
    BufWriter, ReadHalf, WriteHalf,
};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::mail::summary::summarize;
use crate::state::AppState;
use crate::store::mailbox::{default_folder, folder_type};
use crate::store::{MailSummary, NewMail, StoreError};
use crate::time;

/// Message data is read in pieces of at most this many bytes.
const DATA_CHUNK: usize = 64 * 1024;
/// Bad commands tolerated on one connection before it is closed.
const MAX_ERRORS: u32 = 20;

fn inbox() -> u32 {
    default_folder(folder_type::INBOX).unwrap_or(1)
}

/// Serves LMTP on `listener` until the server stops. The returned task
/// ends when the listener is closed and every session has ended: sessions
/// say 421 at their next command once the server is stopping, and a
/// delivery under way is finished and answered first.
pub fn spawn(state: Arc<AppState>, listener: TcpListener) -> tokio::task::JoinHandle<()> {
    let host: Arc<str> = hostname().into();
    let max = state.config.lmtp.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    tokio::spawn(async move {
        let mut stopping = state.stopping.subscribe();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopping.wait_for(|s| *s) => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("lmtp: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    let state = state.clone();
                    let host = host.clone();
                    tokio::spawn(async move {
                        let _slot = slot;
                        serve_connection(&state, &host, stream, peer).await;
                    });
                }
                Err(_) => {
                    tracing::warn!(%peer, "lmtp: too many connections");
                    tokio::spawn(async move {
                        let mut stream = stream;
                        let _ = tokio::time::timeout(
                            Duration::from_secs(5),
                            stream.write_all(b"421 4.3.2 too busy, try again later\r\n"),
                        )
                        .await;
                    });
                }
            }
        }
        drop(listener);
        // Every slot back means every session has ended.
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let _ = slots.acquire_many(all).await;
    })
}

/// Runs one LMTP conversation on any byte stream.
pub async fn serve_connection<S>(state: &Arc<AppState>, host: &str, stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tracing::debug!(%peer, "lmtp: connected");
    let (read, write) = tokio::io::split(stream);
    let mut session = Session {
        state,
        host,
        peer,
        reader: BufReader::with_capacity(DATA_CHUNK, read),
        writer: BufWriter::new(write),
        greeted: false,
        sender: None,
        recipients: Vec::new(),
        errors: 0,
    };
    match session.run().await {
        Ok(()) => tracing::debug!(%peer, "lmtp: closed"),
        Err(e) => tracing::debug!(%peer, "lmtp: connection ended: {e}"),
    }
}

/// The machine's name, for the greeting.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        })
        .unwrap_or_else(|| "localhost".into())
}

#[derive(Debug)]
struct Recipient {
    /// As the MTA wrote it, for the reply.
    address: String,
    account: String,
}

/// Why a conversation ends.
#[derive(Debug, thiserror::Error)]
enum End {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the peer closed the connection")]
    Closed,
    #[error("the peer was silent too long")]
    Timeout,
    #[error("too many bad commands")]
    TooManyErrors,
    #[error("the server is stopping")]
    Stopping,
}

/// What reading a piece of input found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A line with its LF.
    Line,
    /// The limit was reached before an LF.
    Full,
    /// The peer closed the connection.
    Eof,
}

/// Appends to `buf` up to and including the next LF, at most `limit` bytes
/// in all.
async fn read_piece<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Piece> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Piece::Eof);
        }
        let room = limit.saturating_sub(buf.len());
        let window = available
            .get(..room.min(available.len()))
            .unwrap_or(available);
        if let Some(at) = window.iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(window.get(..=at).unwrap_or(window));
            reader.consume(at + 1);
            return Ok(Piece::Line);
        }
        let taken = window.len();
        buf.extend_from_slice(window);
        reader.consume(taken);
        if buf.len() >= limit {
            return Ok(Piece::Full);
        }
    }
}

/// The outcome of one recipient's delivery.
#[derive(Debug, Clone)]
enum Delivery {
    Stored(u64),
    Gone,
    Failed,
}

struct Session<'a, S> {
    state: &'a Arc<AppState>,
    host: &'a str,
    peer: SocketAddr,
    reader: BufReader<ReadHalf<S>>,
    writer: BufWriter<WriteHalf<S>>,
    greeted: bool,
    /// The reverse path of the transaction in progress.
    sender: Option<String>,
    recipients: Vec<Recipient>,
    errors: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.state.config.lmtp.command_timeout_secs.max(1))
    }

    fn data_timeout(&self) -> Duration {
        Duration::from_secs(self.state.config.lmtp.data_timeout_secs.max(1))
    }

    async fn reply(&mut self, line: &str) -> std::io::Result<()> {
        self.writer.write_all(line.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await
    }

    async fn flush(&mut self) -> Result<(), End> {
        match tokio::time::timeout(self.command_timeout(), self.writer.flush()).await {
            Ok(done) => Ok(done?),
            Err(_) => Err(End::Timeout),
        }
    }

    /// A reply to a command that was wrong: counts towards the limit.
    async fn refuse(&mut self, line: &str) -> Result<(), End> {
        self.reply(line).await?;
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            self.reply("421 4.7.0 too many errors, closing the connection")
                .await?;
            self.flush().await?;
            return Err(End::TooManyErrors);
        }
        Ok(())
    }

    async fn timed_out(&mut self) -> End {
        let line = format!("421 4.4.2 {} timeout, closing the connection", self.host);
        if self.reply(&line).await.is_ok() {
            let _ = self.flush().await;
        }
        End::Timeout
    }

    fn reset(&mut self) {
        self.sender = None;
        self.recipients.clear();
    }

    /// RFC 5321 3.8: a server that shuts down answers the next command
    /// with 421 and closes; the MTA keeps the message and tries again.
    async fn stopping(&mut self) -> End {
        let line = format!("421 4.3.2 {} shutting down, try again later", self.host);
        if self.reply(&line).await.is_ok() {
            let _ = self.flush().await;
        }
        End::Stopping
    }

    async fn run(&mut self) -> Result<(), End> {
        let mut stopping = self.state.stopping.subscribe();
        let greeting = format!("220 {} LMTP eas-server ready", self.host);
        self.reply(&greeting).await?;
        let mut line = Vec::new();
        loop {
            // Replies to pipelined commands go out together, once the
            // commands read so far are answered (RFC 2920 3.1).
            if self.reader.buffer().is_empty() {
                self.flush().await?;
            }
            line.clear();
            let limit = self.state.config.lmtp.max_line_bytes.max(64);
            let piece = tokio::select! {
                piece = tokio::time::timeout(
                    self.command_timeout(),
                    read_piece(&mut self.reader, &mut line, limit),
                ) => piece,
                // Between commands only: a transaction's DATA is read and
                // answered before this is looked at again.
                () = async { drop(stopping.wait_for(|s| *s).await) } => {
                    return Err(self.stopping().await);
                }
            };
            match piece {
                Err(_) => return Err(self.timed_out().await),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(Piece::Eof)) => return Err(End::Closed),
                Ok(Ok(Piece::Full)) => {
                    self.discard_line().await?;
                    self.refuse("500 5.5.2 line too long").await?;
                    continue;
                }
                Ok(Ok(Piece::Line)) => {}
            }
            let command = match parse_command(&line) {
                Ok(command) => command,
                Err(refusal) => {
                    self.refuse(&refusal.reply()).await?;
                    continue;
                }
            };
            match command {
                Command::Lhlo => self.lhlo().await?,
                Command::Mail { from, size } => self.mail(from, size).await?,
                Command::Rcpt { to } => self.rcpt(to).await?,
                Command::Data => self.data().await?,
                Command::Rset => {
                    self.reset();
                    self.reply("250 2.0.0 OK").await?;
                }
                Command::Noop => self.reply("250 2.0.0 OK").await?,
                Command::Vrfy => {
                    self.reply("252 2.5.0 cannot VRFY, but give RCPT a try")
                        .await?;
                }
                Command::Quit => {
                    let bye = format!("221 2.0.0 {} closing the connection", self.host);
                    self.reply(&bye).await?;
                    self.flush().await?;
                    return Ok(());
                }
            }
        }
    }

    /// Reads and drops the rest of an over-long line.
    async fn discard_line(&mut self) -> Result<(), End> {
        let mut scrap = Vec::new();
        loop {
            scrap.clear();
            let piece = tokio::time::timeout(
                self.command_timeout(),
                read_piece(&mut self.reader, &mut scrap, DATA_CHUNK),
            )
            .await;
            match piece {
                Err(_) => return Err(self.timed_out().await),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(Piece::Eof)) => return Err(End::Closed),
                Ok(Ok(Piece::Line)) => return Ok(()),
                Ok(Ok(Piece::Full)) => {}
            }
        }
    }

    async fn lhlo(&mut self) -> Result<(), End> {
        self.reset();
        self.greeted = true;
        let max = self.state.config.lmtp.max_message_bytes;
        let text = format!(
            "250-{}\r\n250-PIPELINING\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES",
            self.host
        );
        Ok(self.reply(&text).await?)
    }

    async fn mail(&mut self, from: &str, size: Option<u64>) -> Result<(), End> {
        if !self.greeted {
            return self.refuse("503 5.5.1 say LHLO first").await;
        }
        if self.sender.is_some() {
            return self.refuse("503 5.5.1 a transaction is already open").await;
        }
        let max = self.state.config.lmtp.max_message_bytes;
        if size.is_some_and(|size| size > max as u64) {
            let line = format!("552 5.3.4 the message is larger than the limit of {max} bytes");
            return self.refuse(&line).await;
        }
        self.sender = Some(from.to_owned());
        Ok(self.reply("250 2.1.0 sender OK").await?)
    }

    async fn rcpt(&mut self, address: &str) -> Result<(), End> {
        if self.sender.is_none() {
            return self.refuse("503 5.5.1 need MAIL first").await;
        }
        if self.recipients.len() >= self.state.config.lmtp.max_recipients.max(1) {
            return Ok(self.reply("452 4.5.3 too many recipients").await?);
        }
        let store = self.state.store.clone();
        let login = address.to_owned();
        let found = tokio::task::spawn_blocking(move || store.account_by_login(&login)).await;
        match found {
            Ok(Ok(Some(account))) if account.email.eq_ignore_ascii_case(address) => {
                let line = format!("250 2.1.5 <{address}> OK");
                self.recipients.push(Recipient {
                    address: address.to_owned(),
                    account: account.name,
                });
                Ok(self.reply(&line).await?)
            }
            Ok(Ok(_)) => {
                let line = format!("550 5.1.1 <{address}>: no such user here");
                self.refuse(&line).await
            }
            Ok(Err(e)) => {
                tracing::error!(peer = %self.peer, "lmtp: looking up {address}: {e}");
                let line = format!("451 4.3.0 <{address}>: cannot look the user up now");
                Ok(self.reply(&line).await?)
            }
            Err(e) => {
                tracing::error!(peer = %self.peer, "lmtp: looking up {address}: {e}");
                let line = format!("451 4.3.0 <{address}>: cannot look the user up now");
                Ok(self.reply(&line).await?)
            }
        }
    }

    async fn data(&mut self) -> Result<(), End> {
        if self.sender.is_none() {
            return self.refuse("503 5.5.1 need MAIL first").await;
        }
        // RFC 2033 4.2: without an accepted recipient, DATA fails.
        if self.recipients.is_empty() {
            return self.refuse("503 5.5.1 no valid recipients").await;
        }
        self.reply("354 send the message; end with <CRLF>.<CRLF>")
            .await?;
        self.flush().await?;

        let max = self.state.config.lmtp.max_message_bytes;
        let mut message = Vec::new();
        let mut too_big = false;
        let mut piece_buf = Vec::new();
        let mut at_line_start = true;
        loop {
            piece_buf.clear();
            let piece = tokio::time::timeout(
                self.data_timeout(),
                read_piece(&mut self.reader, &mut piece_buf, DATA_CHUNK),
            )
            .await;
            let piece = match piece {
                Err(_) => return Err(self.timed_out().await),
                Ok(Err(e)) => return Err(e.into()),
                // A message cut off is not delivered.
                Ok(Ok(Piece::Eof)) => return Err(End::Closed),
                Ok(Ok(piece)) => piece,
            };
            if at_line_start && (piece_buf == b".\r\n" || piece_buf == b".\n") {
                break;
            }
            // RFC 5321 4.5.2: a line's leading dot was doubled by the sender.
            let content = match piece_buf.strip_prefix(b".") {
                Some(rest) if at_line_start => rest,
                _ => &piece_buf[..],
            };
            if !too_big {
                if message.len() + content.len() > max {
                    too_big = true;
                    message = Vec::new();
                } else {
                    message.extend_from_slice(content);
                }
            }
            at_line_start = piece == Piece::Line;
        }

        let recipients = std::mem::take(&mut self.recipients);
        let envelope_sender = self.sender.take().unwrap_or_default();
        if too_big {
            for r in &recipients {
                let line = format!(
                    "552 5.3.4 <{}> the message is larger than the limit of {max} bytes",
                    r.address
                );
                self.reply(&line).await?;
            }
            return self.flush().await;
        }

        let raw = Arc::new(message);
        let summary = {
            let raw = raw.clone();
            tokio::task::spawn_blocking(move || summarize(&raw))
                .await
                .unwrap_or_default()
        };
        // One copy per user, however often the user was named; one reply
        // per RCPT, each written once its delivery is on disk.
        let mut done: HashMap<String, Delivery> = HashMap::new();
        for r in &recipients {
            let outcome = match done.get(&r.account) {
                Some(outcome) => outcome.clone(),
                None => {
                    let outcome = self.deliver(&r.account, &raw, &summary).await;
                    if matches!(outcome, Delivery::Stored(_)) {
                        crate::mail::oof::after_delivery(
                            self.state,
                            &r.account,
                            &envelope_sender,
                            raw.clone(),
                        );
                    }
                    done.insert(r.account.clone(), outcome.clone());
                    outcome
                }
            };
            let line = match outcome {
                Delivery::Stored(id) => format!("250 2.0.0 <{}> delivered as item {id}", r.address),
                Delivery::Gone => format!("550 5.1.1 <{}> no such user here", r.address),
                Delivery::Failed => format!(
                    "451 4.3.0 <{}> the message could not be stored, try again later",
                    r.address
                ),
            };
            self.reply(&line).await?;
            self.flush().await?;
        }
        Ok(())
    }

    async fn deliver(&self, account: &str, raw: &Arc<Vec<u8>>, summary: &MailSummary) -> Delivery {
        let state = self.state.clone();
        let name = account.to_owned();
        let bytes = raw.clone();
        let summary = summary.clone();
        let stored = tokio::task::spawn_blocking(move || {
            state.store.deliver(
                &name,
                inbox(),
                &[NewMail {
                    raw: &bytes,
                    summary,
                    received: time::now(),
                    read: false,
                }],
            )
        })
        .await;
        match stored {
            Ok(Ok(items)) => {
                self.state.hub.notify(account, &[inbox()]);
                let id = items.first().map_or(0, |item| item.id);
                tracing::info!(
                    peer = %self.peer,
                    account,
                    size = raw.len(),
                    "lmtp: delivered item {id}"
                );
                Delivery::Stored(id)
            }
            Ok(Err(StoreError::NotFound(what))) => {
                tracing::warn!(peer = %self.peer, account, "lmtp: {what} not found");
                Delivery::Gone
            }
            Ok(Err(e)) => {
                tracing::error!(peer = %self.peer, account, "lmtp: storing a message: {e}");
                Delivery::Failed
            }
            Err(e) => {
                tracing::error!(peer = %self.peer, account, "lmtp: storing a message: {e}");
                Delivery::Failed
            }
        }
    }
}

/// One LMTP command line, read (RFC 2033 4, RFC 5321 4.1). What it may do
/// depends on the conversation so far; that is the session's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `LHLO domain`: the domain is not checked, only required.
    Lhlo,
    /// `MAIL FROM:<path>`, with the `SIZE=` the sender declared.
    Mail {
        from: &'a str,
        size: Option<u64>,
    },
    /// `RCPT TO:<address>`, the address never empty.
    Rcpt {
        to: &'a str,
    },
    Data,
    Rset,
    Noop,
    Vrfy,
    Quit,
}

/// Why a command line was refused, before the conversation's state is
/// looked at. Each becomes one reply line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("500 5.5.2 a command is ASCII")]
    NotText,
    #[error("500 5.5.2 command not recognized")]
    Unknown,
    #[error("500 5.5.1 this is LMTP: say LHLO")]
    SmtpGreeting,
    #[error("501 5.5.4 LHLO needs a domain")]
    NoDomain,
    #[error("501 5.5.4 syntax: MAIL FROM:<address>")]
    MailSyntax,
    #[error("501 5.5.4 SIZE needs a number")]
    BadSize,
    #[error("501 5.5.4 syntax: RCPT TO:<address>")]
    RcptSyntax,
    #[error("501 5.1.3 an empty recipient")]
    EmptyRecipient,
    #[error("555 5.5.4 unsupported parameter {0}")]
    Parameter(String),
    #[error("501 5.5.4 DATA takes no arguments")]
    DataArguments,
}

impl Refusal {
    /// The reply line, without its CRLF.
    pub fn reply(&self) -> String {
        self.to_string()
    }
}

/// Reads one command line, with or without its CRLF. Public so that the
/// fuzz target (fuzz/fuzz_targets/lmtp_command.rs) reaches it: every byte
/// of it comes from the peer.
pub fn parse_command(line: &[u8]) -> Result<Command<'_>, Refusal> {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let text = std::str::from_utf8(text).map_err(|_| Refusal::NotText)?;
    let (verb, args) = text.split_once(' ').unwrap_or((text, ""));
    let args = args.trim();
    let verb = verb.to_ascii_uppercase();
    Ok(match verb.as_str() {
        "LHLO" if args.is_empty() => return Err(Refusal::NoDomain),
        "LHLO" => Command::Lhlo,
        "HELO" | "EHLO" => return Err(Refusal::SmtpGreeting),
        "MAIL" => {
            let (from, params) = strip_keyword(args, "FROM:")
                .and_then(parse_path)
                .ok_or(Refusal::MailSyntax)?;
            Command::Mail {
                from,
                size: mail_parameters(params)?,
            }
        }
        "RCPT" => {
            let (to, params) = strip_keyword(args, "TO:")
                .and_then(parse_path)
                .ok_or(Refusal::RcptSyntax)?;
            if to.is_empty() {
                return Err(Refusal::EmptyRecipient);
            }
            if let Some(param) = params.split_whitespace().next() {
                return Err(Refusal::Parameter(param.to_owned()));
            }
            Command::Rcpt { to }
        }
        "DATA" if !args.is_empty() => return Err(Refusal::DataArguments),
        "DATA" => Command::Data,
        "RSET" => Command::Rset,
        "NOOP" => Command::Noop,
        "VRFY" => Command::Vrfy,
        "QUIT" => Command::Quit,
        _ => return Err(Refusal::Unknown),
    })
}

/// MAIL's parameters: SIZE (RFC 1870) and BODY (RFC 6152) are known; the
/// declared size, if any, is returned.
fn mail_parameters(params: &str) -> Result<Option<u64>, Refusal> {
    let mut size = None;
    for param in params.split_whitespace() {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => size = Some(value.parse::<u64>().map_err(|_| Refusal::BadSize)?),
            "BODY"
                if value.eq_ignore_ascii_case("7BIT") || value.eq_ignore_ascii_case("8BITMIME") => {
            }
            _ => return Err(Refusal::Parameter(key.to_owned())),
        }
    }
    Ok(size)
}

/// `args` after a keyword such as `FROM:`, in any case.
fn strip_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| args.get(keyword.len()..))
        .flatten()
}

/// `<address> params`: the address without its brackets and source route
/// (RFC 5321 4.1.2), and the parameters.
fn parse_path(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim_start().strip_prefix('<')?;
    let (path, params) = rest.split_once('>')?;
    let address = match path.strip_prefix('@') {
        Some(routed) => routed.split_once(':')?.1,
        None => path,
    };
    // A '<' inside is a second path, not an address (found by the
    // lmtp_command fuzz target: `<a@b.c:<a@b.c>` was a sender).
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<')
    {
        return None;
    }
    Some((address, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::{Account, RedbStore, Store};
    use crate::trace::Traces;

    fn tempdir() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eas-lmtp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn state(config: Config) -> Arc<AppState> {
        let dir = tempdir();
        let store = RedbStore::open(&dir.join("eas.redb")).unwrap();
        for (name, email) in [("alice", "alice@example.com"), ("bob", "bob@example.com")] {
            store
                .create_account(&Account {
                    name: name.into(),
                    email: email.into(),
                    display_name: name.into(),
                    password_hash: String::new(),
                    created: 0,
                    oof: Default::default(),
                })
                .unwrap();
        }
        let store: Arc<dyn Store> = Arc::new(store);
        Arc::new(AppState::new(
            config,
            store,
            Traces::new(&dir, Vec::new()),
            String::new(),
        ))
    }

    /// Sends `input` at once (pipelined), then reads the replies until the
    /// server closes.
    async fn converse(state: &Arc<AppState>, input: &[u8]) -> String {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let state2 = state.clone();
        let task = tokio::spawn(async move {
            serve_connection(&state2, "test.host", server, peer).await;
        });
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut out)
            .await
            .unwrap();
        task.await.unwrap();
        String::from_utf8(out).unwrap()
    }

    fn replies(text: &str) -> Vec<&str> {
        text.split("\r\n")
            .filter(|l| !l.is_empty() && l.as_bytes().get(3) != Some(&b'-'))
            .collect()
    }

    #[tokio::test]
    async fn pipelined_delivery_unstuffs_dots_and_answers_per_recipient() {
        let state = state(Config::default());
        let body = b"Subject: dots\r\n\r\n..leading dot\r\n.\xc3\xa9\r\nend\r\n";
        let mut input = b"LHLO mta.example\r\nMAIL FROM:<x@example.org> SIZE=99 BODY=8BITMIME\r\nRCPT TO:<Alice@Example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n".to_vec();
        input.extend_from_slice(body);
        input.extend_from_slice(b".\r\nQUIT\r\n");
        let out = converse(&state, &input).await;
        let r = replies(&out);
        assert!(r[0].starts_with("220 test.host"), "{out}");
        assert!(out.contains("250-PIPELINING\r\n"), "{out}");
        assert!(out.contains("250-8BITMIME\r\n"), "{out}");
        assert!(out.contains("250 ENHANCEDSTATUSCODES\r\n"), "{out}");
        assert!(r[2].starts_with("250 2.1.0"), "{out}");
        assert!(r[3].starts_with("250 2.1.5 <Alice@Example.com>"), "{out}");
        assert!(r[4].starts_with("550 5.1.1 <nobody@example.com>"), "{out}");
        assert!(r[5].starts_with("250 2.1.5"), "{out}");
        assert!(r[6].starts_with("250 2.1.5"), "{out}");
        assert!(r[7].starts_with("354 "), "{out}");
        assert!(
            r[8].starts_with("250 2.0.0 <Alice@Example.com> delivered"),
            "{out}"
        );
        assert!(
            r[9].starts_with("250 2.0.0 <bob@example.com> delivered"),
            "{out}"
        );
        assert!(
            r[10].starts_with("250 2.0.0 <alice@example.com> delivered"),
            "{out}"
        );
        assert!(r[11].starts_with("221 "), "{out}");
        assert_eq!(r.len(), 12, "{out}");

        let stored = b"Subject: dots\r\n\r\n.leading dot\r\n\xc3\xa9\r\nend\r\n";
        for account in ["alice", "bob"] {
            let items = state.store.folder_items(account, 1).unwrap();
            assert_eq!(items.len(), 1, "{account} gets one copy");
            let mime = state
                .store
                .item_mime(account, items[0].id)
                .unwrap()
                .unwrap();
            assert_eq!(mime, stored);
            assert_eq!(items[0].summary.subject, "dots");
        }
    }

    #[tokio::test]
    async fn order_of_commands_is_enforced() {
        let state = state(Config::default());
        let out = converse(
            &state,
            b"MAIL FROM:<a@b.c>\r\nHELO x\r\nLHLO x\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nMAIL FROM:<>\r\nDATA\r\nRCPT TO:<alice@example.com> NOTIFY=NEVER\r\nMAIL FROM:<>\r\nRSET\r\nNOOP\r\nVRFY alice\r\nBDAT 10\r\nMAIL FROM:<a@b.c> AUTH=x\r\nQUIT\r\n",
        )
        .await;
        let codes: Vec<&str> = replies(&out).iter().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "503", "500", "250", "503", "503", "250", "503", "555", "503", "250", "250",
                "252", "500", "555", "221"
            ],
            "{out}"
        );
        assert!(state.store.folder_items("alice", 1).unwrap().is_empty());
    }

    #[tokio::test]
    async fn limits_on_size_and_lines() {
        let mut config = Config::default();
        config.lmtp.max_message_bytes = 20;
        config.lmtp.max_line_bytes = 100;
        let state = state(config);
        let long = "NOOP ".repeat(40);
        let input = format!(
            "LHLO x\r\n{long}\r\nMAIL FROM:<a@b.c> SIZE=21\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n0123456789\r\n0123456789\r\n.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n0123456789\r\n.\r\nQUIT\r\n"
        );
        let out = converse(&state, input.as_bytes()).await;
        let r = replies(&out);
        assert!(r[2].starts_with("500 5.5.2 line too long"), "{out}");
        assert!(r[3].starts_with("552 5.3.4"), "{out}");
        assert!(r[7].starts_with("354"), "{out}");
        assert!(r[8].starts_with("552 5.3.4 <alice@example.com>"), "{out}");
        assert!(r[9].starts_with("552 5.3.4 <bob@example.com>"), "{out}");
        assert!(r[12].starts_with("354"), "{out}");
        assert!(r[13].starts_with("250 2.0.0"), "{out}");
        let items = state.store.folder_items("alice", 1).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            state
                .store
                .item_mime("alice", items[0].id)
                .unwrap()
                .unwrap(),
            b"0123456789\r\n"
        );
    }

    #[tokio::test]
    async fn recipients_beyond_the_limit_get_452_and_the_rest_are_served() {
        let mut config = Config::default();
        config.lmtp.max_recipients = 2;
        let state = state(config);
        let out = converse(
            &state,
            b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: two\r\n\r\nhi\r\n.\r\nQUIT\r\n",
        )
        .await;
        let r = replies(&out);
        assert!(r[5].starts_with("452 4.5.3"), "{out}");
        assert!(r[6].starts_with("354"), "{out}");
        assert!(r[7].starts_with("250 2.0.0 <alice@example.com>"), "{out}");
        assert!(r[8].starts_with("250 2.0.0 <bob@example.com>"), "{out}");
        assert_eq!(state.store.folder_items("alice", 1).unwrap().len(), 1);
        assert_eq!(state.store.folder_items("bob", 1).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn too_many_errors_close_the_connection_with_421() {
        let state = state(Config::default());
        let mut input = b"LHLO x\r\n".to_vec();
        for _ in 0..=MAX_ERRORS {
            input.extend_from_slice(b"BOGUS\r\n");
        }
        // Never read: the connection is closed before it.
        input.extend_from_slice(
            b"MAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nhi\r\n.\r\n",
        );
        let out = converse(&state, &input).await;
        let r = replies(&out);
        let last = r.last().unwrap();
        assert!(last.starts_with("421 4.7.0 too many errors"), "{out}");
        assert_eq!(
            r.iter().filter(|l| l.starts_with("500")).count(),
            MAX_ERRORS as usize + 1
        );
        assert!(!out.contains("sender OK"), "{out}");
        assert!(state.store.folder_items("alice", 1).unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_idle_client_gets_421_after_the_command_timeout() {
        let mut config = Config::default();
        config.lmtp.command_timeout_secs = 1;
        let state = state(config);
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let state2 = state.clone();
        let task = tokio::spawn(async move {
            serve_connection(&state2, "test.host", server, peer).await;
        });
        // Says hello, then nothing: the connection stays open on this side.
        client.write_all(b"LHLO x\r\n").await.unwrap();
        let started = std::time::Instant::now();
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut out)
            .await
            .unwrap();
        task.await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            replies(&out)
                .last()
                .unwrap()
                .starts_with("421 4.4.2 test.host timeout"),
            "{out}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_message_cut_off_is_not_delivered() {
        let state = state(Config::default());
        let out = converse(
            &state,
            b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: half\r\n",
        )
        .await;
        assert!(out.contains("354 "), "{out}");
        assert!(!out.contains("2.0.0"), "{out}");
        assert!(state.store.folder_items("alice", 1).unwrap().is_empty());
    }

    #[test]
    fn commands_are_read_before_the_state_is_looked_at() {
        assert_eq!(parse_command(b"lhlo x\r\n"), Ok(Command::Lhlo));
        assert_eq!(parse_command(b"LHLO\r\n"), Err(Refusal::NoDomain));
        assert_eq!(
            parse_command(b"MAIL FROM:<a@b.c> SIZE=12 body=8bitmime\r\n"),
            Ok(Command::Mail {
                from: "a@b.c",
                size: Some(12)
            })
        );
        assert_eq!(parse_command(b"MAIL FROM:<> SIZE=x"), Err(Refusal::BadSize));
        assert_eq!(
            parse_command(b"MAIL FROM:<> AUTH=<>"),
            Err(Refusal::Parameter("AUTH".into()))
        );
        assert_eq!(parse_command(b"RCPT TO:<>\n"), Err(Refusal::EmptyRecipient));
        assert_eq!(
            parse_command(b"RCPT TO:<a@b.c> NOTIFY=NEVER").map_err(|r| r.reply()),
            Err("555 5.5.4 unsupported parameter NOTIFY=NEVER".into())
        );
        assert_eq!(parse_command(b"DATA x"), Err(Refusal::DataArguments));
        assert_eq!(parse_command(b"\xff\r\n"), Err(Refusal::NotText));
        assert_eq!(parse_command(b""), Err(Refusal::Unknown));
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("<a@b.c> SIZE=1"), Some(("a@b.c", " SIZE=1")));
        assert_eq!(parse_path(" <>"), Some(("", "")));
        assert_eq!(
            parse_path("<@relay.example,@x.example:a@b.c>"),
            Some(("a@b.c", ""))
        );
        assert_eq!(parse_path("a@b.c"), None);
        // fixtures/fuzz/lmtp_command/nested-path.txt
        assert_eq!(parse_path("<a@b.c:<a@b.c>"), None);
        assert_eq!(parse_path("<@r.example:<a@b.c>"), None);
        assert_eq!(
            parse_command(b"MAIL FROM:<a@b.c:<a@b.c>\r\n"),
            Err(Refusal::MailSyntax)
        );
        assert_eq!(
            parse_command(b"RCPT TO:<<alice@example.com>\r\n"),
            Err(Refusal::RcptSyntax)
        );
        assert_eq!(strip_keyword("from:<a>", "FROM:"), Some("<a>"));
        assert_eq!(strip_keyword("fr", "FROM:"), None);
    }
}
