//! `eas-server import`: .eml files, mbox files and Maildir directories into
//! one folder of one user.
//!
//! Every message is stored exactly as the file holds it (DESIGN.md, promise
//! 1): an .eml or Maildir file whole; an mbox message as the bytes between
//! its From_ line and the next, with the From_ line left out and the `>From `
//! quoting undone, nothing else. Line endings stay as they are.
//!
//! Messages are delivered in batches, one durable transaction each, so a
//! failure part way leaves whole batches stored and the report names what
//! was not.
//!
//! What is read:
//! - A file starting with `From ` is an mbox; any other file named on the
//!   command line is one message, if it starts with a header field.
//! - A directory with `cur/` and `new/` is a Maildir: every file in both is
//!   a message, read when its name's info part (`:2,FLAGS`) has `S`.
//!   Maildir++ subfolders (`.Name/`) are named in the skips, not imported.
//! - Any other directory is searched (symbolic links to directories are not
//!   followed) for `.eml`, `.mbox` and `.mbx` files and Maildirs.
//! - `received` is the Maildir file's mtime or the mbox From_ line's date,
//!   else the Date header, else now.
//!
//! The mbox rules:
//! - A file is an mbox when its first line starts with `From `.
//! - A later line is a separator when it starts with `From ` and the rest
//!   reads as a From_ line: a sender, then a date with a month name, a day,
//!   a time and a year (asctime as RFC 4155 has it, with or without a zone).
//!   A body line that merely starts with `From ` does not split a message.
//! - The blank line a writer puts before each From_ line (and at the end of
//!   the file) belongs to the format, not to the message, and is dropped.
//! - mboxrd (the default): a line of one or more `>` followed by `From ` loses
//!   one `>`. mboxo: only `>From ` loses its `>` (mboxo cannot tell a quoted
//!   `From ` from a body line that began with `>From `; that is the format's
//!   own loss).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::mail::summary::summarize;
use crate::push::Hub;
use crate::store::mailbox::{DEFAULT_FOLDERS, Folder, folder_type};
use crate::store::{MailSummary, NewMail, Store};
use crate::time;

/// Messages per transaction.
pub const BATCH_MESSAGES: usize = 256;
/// Bytes of MIME per transaction, so a batch of large messages stays small.
pub const BATCH_BYTES: usize = 32 << 20;
/// How deep directories are followed.
const MAX_DEPTH: usize = 32;
/// How many files a failure report names.
const MAX_NAMED: usize = 1000;

/// How `>From ` lines in an mbox are unquoted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MboxFormat {
    /// `>+From ` loses one `>`.
    #[default]
    Mboxrd,
    /// `>From ` loses its `>`.
    Mboxo,
}

/// What to import, as the command line gives it (paths absolute: the
/// server reads the files itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJob {
    pub account: String,
    /// A folder's id or name; `None` is the Inbox.
    pub folder: Option<String>,
    pub paths: Vec<PathBuf>,
    #[serde(default)]
    pub mbox_format: MboxFormat,
}

/// Sent while an import runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ImportProgress {
    /// The files were found; nothing is stored yet.
    Started { files: u64, bytes: u64 },
    /// A batch is stored: the totals so far.
    Stored {
        messages: u64,
        bytes_read: u64,
        file: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    pub error: String,
    /// Files (or the rest of an mbox) not imported, at most 1000 named.
    pub not_imported: Vec<String>,
    /// How many more were not imported beyond those named.
    pub more_not_imported: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub account: String,
    pub folder: String,
    pub messages: u64,
    /// Bytes of MIME stored.
    pub bytes: u64,
    pub skipped: Vec<Skipped>,
    pub elapsed_ms: u64,
    /// Why the import stopped early, and what it left out.
    pub failure: Option<ImportFailure>,
}

/// The account's folder a spec names: an id, or a name in any case; `None`
/// is the Inbox.
pub fn resolve_folder(
    store: &dyn Store,
    account: &str,
    spec: Option<&str>,
) -> anyhow::Result<Folder> {
    if store.account(account)?.is_none() {
        anyhow::bail!("there is no user {account}");
    }
    let folders = store.folders(account)?;
    let spec = spec.map(str::trim).unwrap_or("1");
    let found: Vec<&Folder> = match spec.parse::<u32>() {
        Ok(id) => folders.iter().filter(|f| f.id == id).collect(),
        Err(_) => folders
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(spec))
            .collect(),
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let names: Vec<String> = folders
                .iter()
                .map(|f| format!("{} {:?}", f.id, f.name))
                .collect();
            anyhow::bail!(
                "user {account} has no folder {spec:?}; the folders are: {}",
                names.join(", ")
            )
        }
        several => {
            let ids: Vec<String> = several.iter().map(|f| f.id.to_string()).collect();
            anyhow::bail!(
                "user {account} has several folders named {spec:?} (ids {}): give the id",
                ids.join(", ")
            )
        }
    }
}

/// Whether a folder holds mail (not a calendar, contacts, tasks, ...).
pub fn is_mail_folder(folder: &Folder) -> bool {
    matches!(
        folder.kind,
        folder_type::INBOX
            | folder_type::DRAFTS
            | folder_type::DELETED_ITEMS
            | folder_type::SENT_ITEMS
            | folder_type::OUTBOX
            | folder_type::USER_MAIL
            | folder_type::USER_GENERIC
    )
}

/// Runs an import. `progress` hears of each stored batch and returns false
/// to stop (the client went away). `hub` is the running server's, to wake
/// the user's devices after each batch.
pub fn import(
    store: &dyn Store,
    hub: Option<&Hub>,
    job: &ImportJob,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let folder = resolve_folder(store, &job.account, job.folder.as_deref())?;
    if !is_mail_folder(&folder) {
        anyhow::bail!(
            "folder {} {:?} of {} does not hold mail",
            folder.id,
            folder.name,
            job.account
        );
    }
    let mut deliver = |mails: &[NewMail<'_>]| -> Result<(), String> {
        store
            .deliver(&job.account, folder.id, mails)
            .map_err(|e| e.to_string())?;
        if let Some(hub) = hub {
            hub.notify(&job.account, &[folder.id]);
        }
        Ok(())
    };
    let mut report = import_with(&job.paths, job.mbox_format, &mut deliver, progress);
    report.account.clone_from(&job.account);
    report.folder = folder_label(&folder);
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// The import itself, over any way of storing a batch.
fn import_with(
    paths: &[PathBuf],
    format: MboxFormat,
    deliver: &mut dyn FnMut(&[NewMail<'_>]) -> Result<(), String>,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> ImportReport {
    let mut skipped = Vec::new();
    let sources = find_sources(paths, &mut skipped);
    let total: u64 = sources.iter().map(|s| s.size).sum();
    let go_on = progress(ImportProgress::Started {
        files: sources.len() as u64,
        bytes: total,
    });
    let mut run = Run {
        deliver,
        batch: Vec::new(),
        batch_bytes: 0,
        sources: &sources,
        states: vec![SourceState::default(); sources.len()],
        messages: 0,
        bytes: 0,
        bytes_read: 0,
        current: 0,
        skipped,
        progress,
    };
    let outcome = if go_on {
        run.all(format)
    } else {
        Err("the import was cancelled".into())
    };
    let failure = outcome.err().map(|error| {
        let (not_imported, more_not_imported) = run.not_imported();
        ImportFailure {
            error,
            not_imported,
            more_not_imported,
        }
    });
    ImportReport {
        account: String::new(),
        folder: String::new(),
        messages: run.messages,
        bytes: run.bytes,
        skipped: run.skipped,
        elapsed_ms: 0,
        failure,
    }
}

fn folder_label(folder: &Folder) -> String {
    let default = DEFAULT_FOLDERS.iter().any(|(id, _, _)| *id == folder.id);
    if default {
        folder.name.clone()
    } else {
        format!("{} (id {})", folder.name, folder.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eml,
    Mbox,
    Maildir { read: bool },
}

#[derive(Debug)]
struct Source {
    path: PathBuf,
    kind: Kind,
    size: u64,
    /// The file's mtime, for Maildir (where delivery set it).
    mtime: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct SourceState {
    /// Messages read from the file so far.
    found: u64,
    /// Messages of it stored.
    stored: u64,
    skipped: bool,
}

fn skip(skipped: &mut Vec<Skipped>, path: &Path, reason: impl Into<String>) {
    skipped.push(Skipped {
        path: path.display().to_string(),
        reason: reason.into(),
    });
}

fn find_sources(paths: &[PathBuf], skipped: &mut Vec<Skipped>) -> Vec<Source> {
    let mut out = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => skip(skipped, path, e.to_string()),
            Ok(m) if m.is_dir() => {
                if is_maildir(path) {
                    maildir(path, &mut out, skipped);
                } else {
                    walk(path, 0, &mut out, skipped);
                }
            }
            Ok(m) if m.is_file() => file_source(path, m.len(), &mut out, skipped),
            Ok(_) => skip(skipped, path, "not a file or directory"),
        }
    }
    out
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

/// The entries of a directory, sorted by name; a failure is a skip.
fn sorted_entries(dir: &Path, skipped: &mut Vec<Skipped>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            paths
        }
        Err(e) => {
            skip(skipped, dir, e.to_string());
            Vec::new()
        }
    }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Source>, skipped: &mut Vec<Skipped>) {
    for path in sorted_entries(dir, skipped) {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                skip(skipped, &path, e.to_string());
                continue;
            }
        };
        if meta.is_dir() {
            // A link to a directory may lead back up: name it, do not follow.
            if path.is_symlink() {
                skip(
                    skipped,
                    &path,
                    "a symbolic link to a directory: not followed",
                );
            } else if is_maildir(&path) {
                maildir(&path, out, skipped);
            } else if depth + 1 < MAX_DEPTH {
                walk(&path, depth + 1, out, skipped);
            } else {
                skip(skipped, &path, "directories nested too deep");
            }
        } else if meta.is_file() {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("eml" | "mbox" | "mbx") => file_source(&path, meta.len(), out, skipped),
                _ => skip(skipped, &path, "not a .eml or .mbox file"),
            }
        }
    }
}

/// A Maildir: the files of new/ (unread) and cur/ (read when the info part
/// of the name has the S flag).
fn maildir(dir: &Path, out: &mut Vec<Source>, skipped: &mut Vec<Skipped>) {
    for sub in ["new", "cur"] {
        for path in sorted_entries(&dir.join(sub), skipped) {
            let Ok(meta) = std::fs::metadata(&path) else {
                skip(skipped, &path, "cannot be read");
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            if meta.len() == 0 {
                skip(skipped, &path, "empty file");
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            out.push(Source {
                kind: Kind::Maildir {
                    read: sub == "cur" && maildir_seen(name),
                },
                size: meta.len(),
                mtime: meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
                path,
            });
        }
    }
    // Maildir++ keeps subfolders as .Name directories beside cur/ and new/.
    for path in sorted_entries(dir, skipped) {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden && path.is_dir() && is_maildir(&path) {
            skip(
                skipped,
                &path,
                "a Maildir++ subfolder: import it on its own, with --folder",
            );
        }
    }
}

/// Whether a Maildir file name's info part (`:2,FLAGS`; `;` or `!` on file
/// systems without `:`) has the S (seen) flag.
fn maildir_seen(name: &str) -> bool {
    [":2,", ";2,", "!2,"]
        .iter()
        .find_map(|sep| name.rsplit_once(sep))
        .is_some_and(|(_, flags)| flags.contains('S'))
}

fn file_source(path: &Path, size: u64, out: &mut Vec<Source>, skipped: &mut Vec<Skipped>) {
    if size == 0 {
        skip(skipped, path, "empty file");
        return;
    }
    let mut head = Vec::with_capacity(1000);
    let read = std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 1000), &mut head));
    if let Err(e) = read {
        skip(skipped, path, e.to_string());
        return;
    }
    let kind = if head.starts_with(b"From ") {
        Kind::Mbox
    } else if starts_with_header_field(&head) {
        Kind::Eml
    } else {
        skip(
            skipped,
            path,
            "not a message: it does not start with a header field",
        );
        return;
    };
    out.push(Source {
        path: path.to_path_buf(),
        kind,
        size,
        mtime: None,
    });
}

/// Whether bytes start like a message (RFC 5322 2.2): a field name of
/// printable ASCII, then a colon.
fn starts_with_header_field(head: &[u8]) -> bool {
    let name_len = head
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && b != b':')
        .count();
    name_len > 0 && head.get(name_len) == Some(&b':')
}

/// A message read, waiting for its batch.
struct Pending {
    raw: Vec<u8>,
    summary: MailSummary,
    received: u64,
    read: bool,
    source: usize,
}

struct Run<'a> {
    deliver: &'a mut dyn FnMut(&[NewMail<'_>]) -> Result<(), String>,
    batch: Vec<Pending>,
    batch_bytes: usize,
    sources: &'a [Source],
    states: Vec<SourceState>,
    messages: u64,
    bytes: u64,
    bytes_read: u64,
    /// The source being read.
    current: usize,
    skipped: Vec<Skipped>,
    progress: &'a mut dyn FnMut(ImportProgress) -> bool,
}

impl Run<'_> {
    /// Imports every source; an error stops it (the batch being filled is
    /// not stored).
    fn all(&mut self, format: MboxFormat) -> Result<(), String> {
        for (i, source) in self.sources.iter().enumerate() {
            self.current = i;
            match source.kind {
                Kind::Eml | Kind::Maildir { .. } => self.single(i, source)?,
                Kind::Mbox => self.mbox(i, source, format)?,
            }
        }
        self.current = self.sources.len();
        self.flush()
    }

    fn state(&mut self, i: usize) -> Option<&mut SourceState> {
        self.states.get_mut(i)
    }

    fn skip_source(&mut self, i: usize, source: &Source, reason: String) {
        if let Some(s) = self.state(i) {
            s.skipped = true;
        }
        skip(&mut self.skipped, &source.path, reason);
    }

    fn single(&mut self, i: usize, source: &Source) -> Result<(), String> {
        let raw = match std::fs::read(&source.path) {
            Ok(raw) => raw,
            Err(e) => {
                self.skip_source(i, source, e.to_string());
                return Ok(());
            }
        };
        self.bytes_read += source.size;
        if raw.is_empty() {
            self.skip_source(i, source, "empty file".into());
            return Ok(());
        }
        let read = matches!(source.kind, Kind::Maildir { read: true });
        self.push(i, raw, source.mtime, read)
    }

    fn mbox(&mut self, i: usize, source: &Source, format: MboxFormat) -> Result<(), String> {
        let file = match std::fs::File::open(&source.path) {
            Ok(f) => f,
            Err(e) => {
                self.skip_source(i, source, e.to_string());
                return Ok(());
            }
        };
        let mut reader = MboxReader::new(std::io::BufReader::with_capacity(1 << 16, file), format);
        let mut read_before = 0;
        // Messages of this file so far, empty ones included.
        let mut n = 0u64;
        loop {
            let next = reader.next_message();
            self.bytes_read += reader.bytes_read - read_before;
            read_before = reader.bytes_read;
            match next {
                Ok(Some(msg)) => {
                    n += 1;
                    if msg.raw.is_empty() {
                        skip(
                            &mut self.skipped,
                            &source.path,
                            format!("message {n} is empty"),
                        );
                        continue;
                    }
                    let read = mbox_status_read(&msg.raw);
                    self.push(i, msg.raw, msg.date, read)?;
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    let reason = if n == 0 {
                        format!("not read: {e}")
                    } else {
                        format!("read error after message {n}, the rest not imported: {e}")
                    };
                    self.skip_source(i, source, reason);
                    return Ok(());
                }
            }
        }
    }

    fn push(
        &mut self,
        i: usize,
        raw: Vec<u8>,
        received: Option<u64>,
        read: bool,
    ) -> Result<(), String> {
        let summary = summarize(&raw);
        let received = received.or(summary.date).unwrap_or_else(time::now);
        if let Some(s) = self.state(i) {
            s.found += 1;
        }
        self.batch_bytes += raw.len();
        self.batch.push(Pending {
            raw,
            summary,
            received,
            read,
            source: i,
        });
        if self.batch.len() >= BATCH_MESSAGES || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Stores the batch in one transaction.
    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mails: Vec<NewMail<'_>> = self
            .batch
            .iter()
            .map(|p| NewMail {
                raw: &p.raw,
                summary: p.summary.clone(),
                received: p.received,
                read: p.read,
            })
            .collect();
        (self.deliver)(&mails)
            .map_err(|e| format!("storing a batch of {} messages failed: {e}", mails.len()))?;
        drop(mails);
        for p in std::mem::take(&mut self.batch) {
            self.messages += 1;
            self.bytes += p.raw.len() as u64;
            if let Some(s) = self.state(p.source) {
                s.stored += 1;
            }
        }
        self.batch_bytes = 0;
        let file = self
            .sources
            .get(self.current)
            .map(|s| s.path.display().to_string())
            .unwrap_or_default();
        let go_on = (self.progress)(ImportProgress::Stored {
            messages: self.messages,
            bytes_read: self.bytes_read,
            file,
        });
        if go_on {
            Ok(())
        } else {
            Err("the import was cancelled".into())
        }
    }

    /// What a stop left out: files with nothing stored, and mbox files
    /// stored only in part.
    fn not_imported(&self) -> (Vec<String>, u64) {
        let mut named = Vec::new();
        let mut more = 0u64;
        for (i, (source, state)) in self.sources.iter().zip(&self.states).enumerate() {
            // A skipped file says so in the skips, unless part of it was
            // waiting in the lost batch.
            if state.skipped && state.stored == state.found {
                continue;
            }
            // Files before the one being read are done with; the rest are not.
            if i < self.current && state.stored == state.found {
                continue;
            }
            let line = if state.stored == 0 {
                source.path.display().to_string()
            } else {
                format!(
                    "{}: messages after the first {} (those are stored)",
                    source.path.display(),
                    state.stored
                )
            };
            if named.len() < MAX_NAMED {
                named.push(line);
            } else {
                more += 1;
            }
        }
        (named, more)
    }
}

/// Whether an mbox message's `Status:` header (mutt, pine, mail) says read.
fn mbox_status_read(raw: &[u8]) -> bool {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return false;
        }
        if let Some((name, value)) = line.split_at_checked(7) {
            if name.eq_ignore_ascii_case(b"status:") {
                return value.contains(&b'R');
            }
        }
    }
    false
}

/// One message of an mbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    pub raw: Vec<u8>,
    /// The date of its From_ line.
    pub date: Option<u64>,
}

/// Reads an mbox one message at a time (the rules are in the module's
/// documentation).
#[derive(Debug)]
pub struct MboxReader<R> {
    reader: R,
    format: MboxFormat,
    line: Vec<u8>,
    /// The date of the From_ line that starts the next message, once read.
    next_from: Option<Option<u64>>,
    started: bool,
    done: bool,
    /// Bytes read from the file so far.
    pub bytes_read: u64,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(reader: R, format: MboxFormat) -> MboxReader<R> {
        MboxReader {
            reader,
            format,
            line: Vec::new(),
            next_from: None,
            started: false,
            done: false,
            bytes_read: 0,
        }
    }

    fn read_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line)?;
        self.bytes_read += n as u64;
        Ok(n > 0)
    }

    /// The next message; `None` at the end of the file. A file that does not
    /// start with a From_ line is an error.
    pub fn next_message(&mut self) -> std::io::Result<Option<MboxMessage>> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            if !self.read_line()? {
                self.done = true;
                return Ok(None);
            }
            if !self.line.starts_with(b"From ") {
                self.done = true;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not an mbox: the first line is not a From_ line",
                ));
            }
            self.next_from = Some(from_line_date(&self.line));
        }
        let Some(date) = self.next_from.take() else {
            self.done = true;
            return Ok(None);
        };
        let mut raw = Vec::new();
        // A blank line, held back until we know it does not come right
        // before a From_ line (or the end).
        let mut held: Option<Vec<u8>> = None;
        loop {
            if !self.read_line()? {
                self.done = true;
                break;
            }
            if self.line.starts_with(b"From ") {
                if let Some(next) = from_line_date(&self.line) {
                    self.next_from = Some(Some(next));
                    break;
                }
            }
            if let Some(blank) = held.take() {
                raw.extend_from_slice(&blank);
            }
            if self.line == b"\n" || self.line == b"\r\n" {
                held = Some(self.line.clone());
                continue;
            }
            raw.extend_from_slice(unquote(&self.line, self.format));
        }
        Ok(Some(MboxMessage { raw, date }))
    }
}

/// A body line without its From_ quoting.
fn unquote(line: &[u8], format: MboxFormat) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes == 0 {
        return line;
    }
    let quoted_from = line.get(quotes..).is_some_and(|r| r.starts_with(b"From "));
    let unquote = quoted_from && (format == MboxFormat::Mboxrd || quotes == 1);
    match line.get(1..) {
        Some(rest) if unquote => rest,
        _ => line,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The date of a From_ line (`From sender Sat Jan  3 01:05:34 1996`, with
/// or without a zone before or after the year), as Unix seconds; `None`
/// when the line is not one.
pub fn from_line_date(line: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(line.strip_prefix(b"From ")?);
    // The sender comes first; the date follows.
    let mut tokens = text.split_whitespace().skip(1);
    let (mut month, mut day, mut clock, mut year, mut zone) = (None, None, None, None, 0i64);
    for token in tokens.by_ref() {
        let t = token.trim_end_matches(',');
        let lower = t.to_ascii_lowercase();
        if month.is_none() && lower.len() >= 3 {
            if let Some(m) = MONTHS
                .iter()
                .position(|m| lower.starts_with(m) && lower.len() <= 9)
            {
                month = Some(m as u32 + 1);
                continue;
            }
        }
        if t.contains(':') && clock.is_none() {
            clock = Some(parse_clock(t)?);
        } else if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) && year.is_none() {
            year = t.parse::<i64>().ok();
        } else if (1..=2).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
            day = t.parse::<u32>().ok().filter(|d| (1..=31).contains(d));
        } else if let Some(offset) = parse_zone(t) {
            zone = offset;
        }
    }
    let (month, day, clock, year) = (month?, day?, clock?, year?);
    if year < 1970 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + clock - zone;
    u64::try_from(secs).ok()
}

/// `hh:mm` or `hh:mm:ss` as seconds into the day.
fn parse_clock(t: &str) -> Option<i64> {
    let mut parts = t.split(':').map(|p| p.parse::<i64>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let s = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some()
        || !(0..24).contains(&h)
        || !(0..60).contains(&m)
        || !(0..61).contains(&s)
    {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

/// `+hhmm` / `-hhmm` as seconds east of UTC.
fn parse_zone(t: &str) -> Option<i64> {
    let (sign, digits) = match t.as_bytes().first()? {
        b'+' => (1, t.get(1..)?),
        b'-' => (-1, t.get(1..)?),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(sign * ((n / 100) * 3600 + (n % 100) * 60))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(mbox: &[u8], format: MboxFormat) -> Vec<MboxMessage> {
        let mut reader = MboxReader::new(mbox, format);
        let mut out = Vec::new();
        while let Some(m) = reader.next_message().unwrap() {
            out.push(m);
        }
        assert_eq!(reader.bytes_read, mbox.len() as u64);
        out
    }

    #[test]
    fn from_lines() {
        assert_eq!(
            from_line_date(b"From alice@example.com Thu Jan  1 00:00:00 1970\n"),
            Some(0)
        );
        assert_eq!(
            from_line_date(b"From MAILER-DAEMON Sun Nov 29 18:00:00 2026\r\n"),
            Some(1_795_975_200)
        );
        assert_eq!(
            from_line_date(b"From - Sun Nov 29 19:00:00 +0100 2026\n"),
            Some(1_795_975_200)
        );
        assert_eq!(
            from_line_date(b"From a@b Sun Nov 29 13:00 2026 -0500\n"),
            Some(1_795_975_200)
        );
        assert_eq!(from_line_date(b"From here on, we do it my way.\n"), None);
        assert_eq!(from_line_date(b"From: alice\n"), None);
        assert_eq!(from_line_date(b"From a Jan 99 10:00 2020\n"), None);
    }

    #[test]
    fn mboxrd_splits_unquotes_and_keeps_bytes() {
        let mbox = b"From a@example.com Sun Nov 29 18:00:00 2026\n\
Subject: one\n\
\n\
>From the start\n\
>>From quoted\n\
From here on, not a separator\n\
Sent From home\n\
\n\
\n\
From b@example.com Mon Nov 30 18:00:00 2026\n\
Subject: two\n\
Status: RO\n\
\n\
last\n\
\n";
        let got = messages(mbox, MboxFormat::Mboxrd);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].raw,
            b"Subject: one\n\nFrom the start\n>From quoted\nFrom here on, not a separator\nSent From home\n\n"
        );
        assert_eq!(got[0].date, Some(1_795_975_200));
        assert_eq!(got[1].raw, b"Subject: two\nStatus: RO\n\nlast\n");
        assert!(mbox_status_read(&got[1].raw));
        assert!(!mbox_status_read(&got[0].raw));

        let o = messages(mbox, MboxFormat::Mboxo);
        assert_eq!(
            o[0].raw,
            b"Subject: one\n\nFrom the start\n>>From quoted\nFrom here on, not a separator\nSent From home\n\n"
        );
    }

    #[test]
    fn crlf_mbox_and_no_trailing_blank() {
        let mbox = b"From x Sun Nov 29 18:00:00 2026\r\nA: 1\r\n\r\nbody\r\n\r\nFrom y Sun Nov 29 18:00:01 2026\r\nB: 2\r\n\r\nend";
        let got = messages(mbox, MboxFormat::Mboxrd);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].raw, b"A: 1\r\n\r\nbody\r\n");
        assert_eq!(got[1].raw, b"B: 2\r\n\r\nend");
    }

    #[test]
    fn not_an_mbox() {
        let mut reader = MboxReader::new(&b"Subject: x\n\nhi\n"[..], MboxFormat::Mboxrd);
        assert!(reader.next_message().is_err());
        assert!(reader.next_message().unwrap().is_none());
    }

    #[test]
    fn a_failed_batch_stops_the_import_and_names_what_is_left() {
        let dir = std::env::temp_dir().join(format!("eas-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mbox = |n: usize| {
            let mut m = Vec::new();
            for i in 0..n {
                m.extend_from_slice(
                    format!("From x Sun Nov 29 18:00:00 2026\nSubject: {i}\n\nbody {i}\n\n")
                        .as_bytes(),
                );
            }
            m
        };
        let (a, b, c) = (dir.join("a.mbox"), dir.join("b.eml"), dir.join("c.mbox"));
        std::fs::write(&a, mbox(300)).unwrap();
        std::fs::write(&b, b"Subject: b\r\n\r\nb\r\n").unwrap();
        std::fs::write(&c, mbox(300)).unwrap();

        let mut stored = Vec::new();
        let mut calls = 0;
        let mut deliver = |mails: &[NewMail<'_>]| {
            calls += 1;
            if calls == 2 {
                return Err("disk full".to_owned());
            }
            stored.extend(mails.iter().map(|m| m.raw.to_vec()));
            Ok(())
        };
        let mut events = Vec::new();
        let report = import_with(
            &[a.clone(), b.clone(), c.clone()],
            MboxFormat::Mboxrd,
            &mut deliver,
            &mut |p| {
                events.push(p);
                true
            },
        );
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(report.messages, 256);
        assert_eq!(stored.len(), 256);
        assert_eq!(stored[0], b"Subject: 0\n\nbody 0\n");
        let failure = report.failure.unwrap();
        assert!(failure.error.contains("disk full"), "{failure:?}");
        assert_eq!(
            failure.not_imported,
            [
                format!(
                    "{}: messages after the first 256 (those are stored)",
                    a.display()
                ),
                b.display().to_string(),
                c.display().to_string(),
            ]
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(
            events[1],
            ImportProgress::Stored { messages: 256, .. }
        ));
    }

    #[test]
    fn messages_start_with_a_field() {
        assert!(starts_with_header_field(b"Received: from x\r\n"));
        assert!(starts_with_header_field(b"X-Y:z"));
        assert!(!starts_with_header_field(b"hello world\n"));
        assert!(!starts_with_header_field(b": x"));
        assert!(!starts_with_header_field(b"\xef\xbb\xbfSubject: x"));
    }

    #[test]
    fn maildir_flags() {
        assert!(maildir_seen("1700000000.M1P2.host:2,RS"));
        assert!(maildir_seen("1700000000.M1P2.host;2,S"));
        assert!(!maildir_seen("1700000000.M1P2.host:2,FR"));
        assert!(!maildir_seen("1700000000.M1P2.host"));
    }
}
