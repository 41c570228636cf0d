//! Crash safety across the whole server (issue 8, item 2): LMTP
//! deliveries, SendMail, flag and read changes, MoveItems and Syncs from
//! three devices run at once while the server is killed with SIGKILL at
//! random moments. After each restart the test checks DESIGN.md's promise
//! 2 and 3: everything acknowledged is there exactly once, nothing is ever
//! duplicated, and every device carries on from its last acknowledged
//! SyncKey to exactly the server's state (or gets Status 3 and a clean
//! resync), never a silent divergence.
//!
//! An operation the kill cut off may or may not have happened: it is
//! "maybe", and only "never twice" is asked of it.
//!
//! `EAS_SOAK_KILLS` (default 4) sets the number of kills,
//! `EAS_SOAK_RUN_MS` (default 1200) the longest a round runs before its
//! kill, and `EAS_SOAK_SEED` the seed (printed, so a failure can be
//! replayed; the threads' interleaving is the machine's).

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::composemail::{
    Kind, Request as ComposeRequest, Response as ComposeResponse, Status as ComposeStatus,
};
use eas_proto::command::email::{Email, Flag, FlagStatus};
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::items::{Move, MoveItemsRequest, MoveItemsResponse, MoveItemsStatus};
use eas_proto::command::sync::{
    ClientCommand, Collection, ItemResponse, Options, Request, Response, ServerCommand, Status,
};
use eas_proto::http::Command;
use eas_proto::wbxml::{Element, Limits};
use eas_tests::client::{EasClient, Reply};
use eas_tests::mail::{Listed, MailClient, dot_stuff, free_port, mailbox_list, sha256_hex};
use eas_tests::server::{ALICE_PASSWORD, TestServer};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::Method;

const BOB_PASSWORD: &str = "bob-secret";
const INBOX: u32 = 1;
const DELETED: u32 = 3;
const SENT: u32 = 4;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|e| panic!("{name}={v:?}: {e}")))
        .unwrap_or(default)
}

// ---------------------------------------------------------------- ledger

/// What the client side knows of alice's items: the value a property must
/// have, or `None` when a change of it got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    read: Option<bool>,
    flag: Option<u8>,
    folder: Option<u32>,
}

impl Default for Expect {
    fn default() -> Self {
        Expect {
            read: Some(false),
            flag: Some(0),
            folder: Some(INBOX),
        }
    }
}

#[derive(Debug, Default)]
struct LmtpMessage {
    sha256: String,
    /// Recipients (login names) that got their 250.
    acked: Vec<&'static str>,
    to_bob: bool,
}

#[derive(Debug)]
struct Sent {
    mime: Vec<u8>,
    acked: bool,
    /// The round it was first tried in.
    round: usize,
}

/// Everything the clients were told, shared by the workers.
#[derive(Debug, Default)]
struct Ledger {
    lmtp: BTreeMap<String, LmtpMessage>,
    sent: BTreeMap<String, Sent>,
    /// alice's items by subject token.
    expect: HashMap<String, Expect>,
}

#[derive(Debug, Default)]
struct Counts {
    lmtp_acked: AtomicUsize,
    lmtp_maybe: AtomicUsize,
    sends_acked: AtomicUsize,
    sends_maybe: AtomicUsize,
    resends_118: AtomicUsize,
    changes_acked: AtomicUsize,
    changes_maybe: AtomicUsize,
    changes_resent: AtomicUsize,
    moves_acked: AtomicUsize,
    moves_maybe: AtomicUsize,
    syncs_acked: AtomicUsize,
    syncs_cut: AtomicUsize,
    status3: AtomicUsize,
    checked_messages: AtomicUsize,
    checked_changes: AtomicUsize,
    checked_devices: AtomicUsize,
}

fn bump(c: &AtomicUsize) {
    c.fetch_add(1, Ordering::Relaxed);
}

// ---------------------------------------------------------------- protocol

/// A POST that may find the server gone: `None` when there is no whole
/// answer.
fn try_post(c: &EasClient, command: Command, el: &Element<'_>) -> Option<Reply> {
    let path = format!("/Microsoft-Server-ActiveSync?{}", c.query(command));
    c.try_send(
        Method::POST,
        &path,
        &c.headers(),
        el.encode().unwrap(),
        true,
    )
    .ok()
}

fn options() -> Options {
    Options {
        body_preferences: vec![BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: Some(16),
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    }
}

fn sync_request(key: &SyncKey, folder: u32, commands: Vec<ClientCommand>) -> Request {
    let mut col = Collection::new(key.clone(), CollectionId::new(folder.to_string()).unwrap());
    col.options = vec![options()];
    col.window_size = Some(40);
    col.commands = commands;
    Request {
        collections: vec![col],
        ..Default::default()
    }
}

fn parse_sync(reply: &Reply) -> Option<Response> {
    if reply.status != 200 {
        return None;
    }
    let el = Element::decode(&reply.body, Limits::default()).ok()?;
    Some(Response::from_element(&el).unwrap_or_else(|e| panic!("a Sync response: {e}")))
}

fn flag_status(flag: Option<&Flag>) -> u8 {
    flag.and_then(|f| f.status).map_or(0, |s| s.0)
}

/// One device's copy of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Copy {
    token: String,
    read: bool,
    flag: u8,
}

/// A phone: its last acknowledged key and what it holds of one folder.
#[derive(Debug)]
struct Device {
    name: &'static str,
    login: &'static str,
    password: &'static str,
    folder: u32,
    policy_key: Option<eas_proto::http::PolicyKey>,
    client: Option<EasClient>,
    key: SyncKey,
    items: BTreeMap<String, Copy>,
    /// Tokens whose read/flag this device changed without an answer.
    uncertain: HashSet<String>,
    /// Tokens this device moved away (or tried to).
    moved: HashSet<String>,
    /// A change that got no answer, to send again with the same key.
    pending: Option<PendingChange>,
    /// Deletes of ids it did not hold.
    unknown_deletes: usize,
}

/// A read or flag change a device sends through Sync.
#[derive(Debug)]
struct PendingChange {
    command: ClientCommand,
    sid: String,
    token: String,
    read: Option<bool>,
    flag: Option<u8>,
    /// Sent again with the same key when it gets no answer.
    resend: bool,
}

impl Device {
    fn new(name: &'static str, login: &'static str, password: &'static str) -> Device {
        Device {
            name,
            login,
            password,
            folder: INBOX,
            policy_key: None,
            client: None,
            key: SyncKey::initial(),
            items: BTreeMap::new(),
            uncertain: HashSet::new(),
            moved: HashSet::new(),
            pending: None,
            unknown_deletes: 0,
        }
    }

    fn client(&self) -> &EasClient {
        self.client.as_ref().unwrap()
    }

    /// A client for the (re)started server, provisioned the first time.
    fn connect(&mut self, server: &TestServer) {
        let mut c = server.client(self.login, self.password, self.name, ProtocolVersion::V16_1);
        match self.policy_key {
            Some(k) => c.policy_key = Some(k),
            None => {
                self.policy_key = Some(c.provision_fully());
                c.folder_sync(&SyncKey::initial());
            }
        }
        self.client = Some(c);
    }

    /// One Sync with the last key and `commands`; `None` when it got no
    /// answer (the key stays). A Status 3 resets the device to key 0.
    fn sync(&mut self, commands: Vec<ClientCommand>, counts: &Counts) -> Option<Response> {
        let request = sync_request(&self.key, self.folder, commands);
        let Some(reply) = try_post(self.client(), Command::SYNC, &request.to_element()) else {
            bump(&counts.syncs_cut);
            return None;
        };
        let Some(r) = parse_sync(&reply) else {
            bump(&counts.syncs_cut);
            return None;
        };
        bump(&counts.syncs_acked);
        let col = r
            .collections
            .first()
            .unwrap_or_else(|| panic!("{}: a Sync with no collection: {r:?}", self.name));
        if col.header.status == Status::INVALID_SYNC_KEY {
            eprintln!("{}: Status 3 for key {:?}; resyncing", self.name, self.key);
            bump(&counts.status3);
            self.key = SyncKey::initial();
            self.items.clear();
            self.uncertain.clear();
            return Some(r);
        }
        assert_eq!(
            col.header.status,
            Status::SUCCESS,
            "{}: {:?}",
            self.name,
            col
        );
        self.apply(&col.commands);
        self.key = col
            .header
            .sync_key
            .clone()
            .unwrap_or_else(|| panic!("{}: no new key: {col:?}", self.name));
        Some(r)
    }

    /// The server's commands, each of which must make sense to what this
    /// device holds: an Add of something held is a duplicate, a Change or
    /// Delete of something not held a divergence.
    fn apply(&mut self, commands: &[ServerCommand]) {
        for command in commands {
            match command {
                ServerCommand::Add {
                    server_id,
                    application_data,
                    ..
                } => {
                    let e = Email::from_element(application_data).unwrap();
                    let token = e.subject.clone().unwrap_or_default();
                    assert!(
                        !self.items.contains_key(server_id.as_str()),
                        "{}: DUPLICATE Add of {server_id:?} ({token}), key {:?}",
                        self.name,
                        self.key
                    );
                    assert!(
                        !self.items.values().any(|c| c.token == token),
                        "{}: DUPLICATE message {token} under a second id {server_id:?}",
                        self.name
                    );
                    self.items.insert(
                        server_id.as_str().to_owned(),
                        Copy {
                            token,
                            read: e.read.unwrap_or(false),
                            flag: flag_status(e.flag.as_ref()),
                        },
                    );
                }
                ServerCommand::Change {
                    server_id,
                    application_data,
                    ..
                } => {
                    let e = Email::from_element(application_data).unwrap();
                    let copy = self.items.get_mut(server_id.as_str()).unwrap_or_else(|| {
                        panic!(
                            "{}: DIVERGED: a Change of {server_id:?}, which it does not hold",
                            self.name
                        )
                    });
                    if let Some(read) = e.read {
                        copy.read = read;
                    }
                    if e.flag.is_some() {
                        copy.flag = flag_status(e.flag.as_ref());
                    }
                    // The server told it: it knows again.
                    let token = copy.token.clone();
                    self.uncertain.remove(&token);
                }
                ServerCommand::Delete { server_id, .. }
                | ServerCommand::SoftDelete { server_id } => {
                    // A Delete of an id never sent is harmless (an Add of
                    // an item moved away between choosing a batch and
                    // sending it is left out, its Delete is not): the
                    // comparison with the store after each restart is what
                    // catches a loss.
                    if self.items.remove(server_id.as_str()).is_none() {
                        self.unknown_deletes += 1;
                    }
                }
            }
        }
    }

    /// Sends a change (again, with the key it was first sent with, when it
    /// is a retry) and records what the answer promises.
    fn change(&mut self, p: PendingChange, ledger: &Mutex<Ledger>, counts: &Counts) {
        let before = self.key.clone();
        match self.sync(vec![p.command.clone()], counts) {
            Some(r) if r.collections[0].header.status == Status::SUCCESS => {
                let failed = r.collections[0].responses.iter().find_map(|x| match x {
                    ItemResponse::Change { status, .. } => Some(*status),
                    _ => None,
                });
                assert_eq!(
                    failed, None,
                    "{}: the change of {} ({}) failed",
                    self.name, p.sid, p.token
                );
                let mut l = ledger.lock().unwrap();
                let e = l.expect.entry(p.token.clone()).or_default();
                if let Some(read) = p.read {
                    e.read = Some(read);
                }
                if let Some(flag) = p.flag {
                    e.flag = Some(flag);
                }
                drop(l);
                if let Some(c) = self.items.get_mut(&p.sid) {
                    if let Some(read) = p.read {
                        c.read = read;
                    }
                    if let Some(flag) = p.flag {
                        c.flag = flag;
                    }
                }
                self.uncertain.remove(&p.token);
                bump(&counts.changes_acked);
            }
            // Status 3: nothing was applied (the key was not the device's).
            Some(_) => {}
            None => {
                assert_eq!(self.key, before);
                let mut l = ledger.lock().unwrap();
                let e = l.expect.entry(p.token.clone()).or_default();
                if p.read.is_some() {
                    e.read = None;
                }
                if p.flag.is_some() {
                    e.flag = None;
                }
                drop(l);
                self.uncertain.insert(p.token.clone());
                bump(&counts.changes_maybe);
                if p.resend {
                    self.pending = Some(p);
                }
            }
        }
    }

    /// Syncs until nothing more waits. Panics if the server is gone.
    fn catch_up(&mut self, counts: &Counts) {
        for _ in 0..200 {
            let was_initial = self.key == SyncKey::initial();
            let r = self
                .sync(Vec::new(), counts)
                .unwrap_or_else(|| panic!("{}: no answer from a running server", self.name));
            let col = &r.collections[0];
            if col.header.status == Status::INVALID_SYNC_KEY || was_initial {
                continue;
            }
            if col.commands.is_empty() && !col.header.more_available {
                return;
            }
        }
        panic!("{}: never caught up", self.name);
    }
}

// ---------------------------------------------------------------- workers

fn lmtp_bytes(token: &str, to_bob: bool) -> Vec<u8> {
    let to = if to_bob {
        "alice@example.com, bob@example.com"
    } else {
        "alice@example.com"
    };
    format!(
        "From: Soak <soak@example.org>\r\nTo: {to}\r\nSubject: {token}\r\nDate: Sun, 29 Nov 2026 23:00:00 +0000\r\nMessage-ID: <{token}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody of {token}.\r\n.a dot line\r\n"
    )
    .into_bytes()
}

/// Delivers messages until `stop`, one LMTP session after another.
fn lmtp_worker(
    addr: SocketAddr,
    next: &AtomicUsize,
    rng: &mut StdRng,
    ledger: &Mutex<Ledger>,
    counts: &Counts,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut m) = MailClient::connect(addr) else {
            continue;
        };
        let session = (|| -> std::io::Result<()> {
            if m.reply()?.code != 220 || m.command("LHLO soak.example.org")?.code != 250 {
                return Err(std::io::Error::other("no greeting"));
            }
            while !stop.load(Ordering::Relaxed) {
                let token = format!("soak-L{}", next.fetch_add(1, Ordering::Relaxed));
                let to_bob = rng.random_bool(0.5);
                let bytes = lmtp_bytes(&token, to_bob);
                ledger.lock().unwrap().lmtp.insert(
                    token.clone(),
                    LmtpMessage {
                        sha256: sha256_hex(&bytes),
                        acked: Vec::new(),
                        to_bob,
                    },
                );
                let mut rcpts = vec!["alice"];
                if to_bob {
                    rcpts.push("bob");
                }
                let mut pipelined = String::from("MAIL FROM:<soak@example.org>\r\n");
                for r in &rcpts {
                    pipelined.push_str(&format!("RCPT TO:<{r}@example.com>\r\n"));
                }
                pipelined.push_str("DATA\r\n");
                m.send(pipelined.as_bytes())?;
                // MAIL, each RCPT, DATA.
                for _ in 0..rcpts.len() + 2 {
                    let r = m.reply()?;
                    assert!(matches!(r.code, 250 | 354), "{token}: {r:?}");
                }
                m.send(&dot_stuff(&bytes))?;
                for r in &rcpts {
                    let reply = m.reply()?;
                    assert_eq!(reply.code, 250, "{token} for {r}: {reply:?}");
                    ledger
                        .lock()
                        .unwrap()
                        .lmtp
                        .get_mut(&token)
                        .unwrap()
                        .acked
                        .push(r);
                    bump(&counts.lmtp_acked);
                }
            }
            Ok(())
        })();
        if session.is_err() {
            bump(&counts.lmtp_maybe);
        }
    }
}

fn send_mime(token: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: {token}\r\nDate: Sun, 29 Nov 2026 23:00:00 +0000\r\nMessage-ID: <{token}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSent {token}.\r\n"
    )
    .into_bytes()
}

fn compose(c: &EasClient, token: &str, mime: &[u8]) -> Option<Reply> {
    let mut r = ComposeRequest::new(Kind::SendMail, token, mime.to_vec());
    r.save_in_sent_items = true;
    try_post(c, Command::SEND_MAIL, &r.to_element())
}

/// What a SendMail answer says: `Some(None)` sent, `Some(Some(status))`
/// refused, `None` no answer.
fn compose_outcome(reply: Option<Reply>) -> Option<Option<ComposeStatus>> {
    let reply = reply?;
    if reply.status != 200 {
        return None;
    }
    if reply.body.is_empty() {
        return Some(None);
    }
    let el = Element::decode(&reply.body, Limits::default()).ok()?;
    Some(Some(ComposeResponse::from_element(&el).unwrap().status))
}

/// alice sends to bob until `stop`.
fn send_worker(
    c: &EasClient,
    round: usize,
    next: &AtomicUsize,
    ledger: &Mutex<Ledger>,
    counts: &Counts,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let token = format!("soak-S{}", next.fetch_add(1, Ordering::Relaxed));
        let mime = send_mime(&token);
        ledger.lock().unwrap().sent.insert(
            token.clone(),
            Sent {
                mime: mime.clone(),
                acked: false,
                round,
            },
        );
        match compose_outcome(compose(c, &token, &mime)) {
            Some(None) => {
                ledger.lock().unwrap().sent.get_mut(&token).unwrap().acked = true;
                bump(&counts.sends_acked);
            }
            Some(Some(status)) => panic!("{token}: a first SendMail refused: {status:?}"),
            None => bump(&counts.sends_maybe),
        }
    }
}

/// A device that only syncs, until `stop`.
fn sync_worker(d: &mut Device, counts: &Counts, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        d.sync(Vec::new(), counts);
    }
}

/// alice's first phone: syncs, changes read and flag, moves to Deleted
/// Items, until `stop`.
fn changer_worker(
    d: &mut Device,
    rng: &mut StdRng,
    ledger: &Mutex<Ledger>,
    counts: &Counts,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        if let Some(pending) = d.pending.take() {
            d.change(pending, ledger, counts);
            continue;
        }
        let candidates: Vec<(String, Copy)> = d
            .items
            .iter()
            .filter(|(_, c)| !d.moved.contains(&c.token))
            .map(|(s, c)| (s.clone(), c.clone()))
            .collect();
        let roll = rng.random_range(0..10);
        if candidates.is_empty() || roll < 3 || d.key == SyncKey::initial() {
            d.sync(Vec::new(), counts);
            continue;
        }
        let (sid, copy) = candidates[rng.random_range(0..candidates.len())].clone();
        if roll < 8 {
            // A read or flag change, through Sync.
            let mut email = Email::default();
            let (read, flag) = if rng.random_bool(0.5) {
                (Some(!copy.read), None)
            } else {
                let status = if copy.flag == FlagStatus::ACTIVE.0 {
                    FlagStatus::COMPLETE
                } else {
                    FlagStatus::ACTIVE
                };
                (None, Some(status.0))
            };
            email.read = read;
            email.flag = flag.map(|s| Flag {
                status: Some(FlagStatus(s)),
                flag_type: Some("for Follow Up".to_owned()),
                ..Default::default()
            });
            let change = PendingChange {
                command: ClientCommand::Change {
                    server_id: ServerId::new(sid.clone()).unwrap(),
                    instance_id: None,
                    application_data: email.to_element(),
                    send: false,
                },
                sid,
                token: copy.token,
                read,
                flag,
                // Most phones send an unanswered change again with the
                // same key; some give up on it.
                resend: rng.random_bool(0.7),
            };
            d.change(change, ledger, counts);
        } else {
            let request = MoveItemsRequest {
                moves: vec![Move {
                    src_msg_id: ServerId::new(sid.clone()).unwrap(),
                    src_fld_id: CollectionId::new(INBOX.to_string()).unwrap(),
                    dst_fld_id: CollectionId::new(DELETED.to_string()).unwrap(),
                }],
            };
            d.moved.insert(copy.token.clone());
            let answer = try_post(d.client(), Command::MOVE_ITEMS, &request.to_element())
                .filter(|r| r.status == 200)
                .and_then(|r| {
                    let el = Element::decode(&r.body, Limits::default()).ok()?;
                    Some(MoveItemsResponse::from_element(&el).unwrap())
                });
            let mut l = ledger.lock().unwrap();
            let e = l.expect.entry(copy.token.clone()).or_default();
            match answer {
                Some(r) => {
                    assert_eq!(
                        r.responses.first().map(|x| x.status),
                        Some(MoveItemsStatus::SUCCESS),
                        "{}: the move of {sid} ({}): {r:?}",
                        d.name,
                        copy.token
                    );
                    e.folder = Some(DELETED);
                    bump(&counts.moves_acked);
                }
                None => {
                    e.folder = None;
                    bump(&counts.moves_maybe);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- checks

/// Waits until the outbound queue has delivered everything (local delivery
/// runs in the queue worker, after the 200).
fn wait_queue_empty(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = server.cli_ok(&["queue", "list"], "");
        if list.contains("the queue is empty") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the queue never emptied:\n{list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How often each subject and each sha256 occurs in `items`.
fn tally(items: &[Listed]) -> (HashMap<&str, usize>, HashMap<&str, usize>) {
    let mut by_subject = HashMap::new();
    let mut by_sha = HashMap::new();
    for i in items {
        *by_subject.entry(i.subject.as_str()).or_insert(0) += 1;
        *by_sha.entry(i.sha256.as_str()).or_insert(0) += 1;
    }
    (by_subject, by_sha)
}

/// Every item of alice's folder from key 0, by token: (read, flag).
fn fresh_view(d: &mut Device, folder: u32, counts: &Counts) -> BTreeMap<String, (bool, u8)> {
    d.folder = folder;
    d.key = SyncKey::initial();
    d.items.clear();
    d.catch_up(counts);
    d.items
        .values()
        .map(|c| (c.token.clone(), (c.read, c.flag)))
        .collect()
}

/// After a restart, with nothing else running: the whole ledger against
/// the store, then every device against the store.
#[allow(clippy::too_many_lines)]
fn verify(
    server: &TestServer,
    round: usize,
    ledger: &Mutex<Ledger>,
    devices: &mut [&mut Device],
    checker: &mut Device,
    sender: &EasClient,
    counts: &Counts,
) {
    // A phone with an unanswered change sends it again, first thing.
    for d in devices.iter_mut() {
        if let Some(p) = d.pending.take() {
            bump(&counts.changes_resent);
            d.change(p, ledger, counts);
            assert!(
                d.pending.is_none(),
                "{}: no answer to a resent change",
                d.name
            );
        }
    }
    wait_queue_empty(server);

    // SendMail again with the same ClientId: an acknowledged one is
    // "previously sent" and goes nowhere; an unanswered one goes once.
    let resend: Vec<(String, Vec<u8>, bool)> = ledger
        .lock()
        .unwrap()
        .sent
        .iter()
        .filter(|(_, s)| !s.acked || s.round + 1 == round)
        .map(|(t, s)| (t.clone(), s.mime.clone(), s.acked))
        .collect();
    for (token, mime, acked) in resend {
        let outcome = compose_outcome(compose(sender, &token, &mime))
            .unwrap_or_else(|| panic!("{token}: no answer to a resend"));
        match outcome {
            Some(ComposeStatus::MESSAGE_PREVIOUSLY_SENT) => bump(&counts.resends_118),
            None if !acked => {}
            other => panic!("{token} (acknowledged: {acked}) sent again: {other:?}"),
        }
        ledger.lock().unwrap().sent.get_mut(&token).unwrap().acked = true;
    }
    wait_queue_empty(server);

    let alice = mailbox_list(server, "alice", None);
    let bob = mailbox_list(server, "bob", None);
    let (alice_subjects, alice_shas) = tally(&alice);
    let (bob_subjects, _) = tally(&bob);
    for (subject, n) in alice_subjects.iter().chain(&bob_subjects) {
        assert_eq!(*n, 1, "DUPLICATE: {subject} is there {n} times");
    }

    let mut l = ledger.lock().unwrap();
    for (token, m) in &l.lmtp {
        for (user, subjects) in [("alice", &alice_subjects), ("bob", &bob_subjects)] {
            let n = subjects.get(token.as_str()).copied().unwrap_or(0);
            if m.acked.contains(&user) {
                assert_eq!(
                    n, 1,
                    "LOST: {token} got its 250 for {user}, stored {n} times"
                );
                bump(&counts.checked_messages);
            }
            assert!(
                n <= 1 && (user == "alice" || m.to_bob || n == 0),
                "{token} for {user}: {n}"
            );
        }
        if m.acked.contains(&"alice") {
            assert_eq!(
                alice_shas.get(m.sha256.as_str()),
                Some(&1),
                "{token}: not the bytes delivered"
            );
        }
    }
    for (token, s) in &l.sent {
        assert!(s.acked);
        let in_bob = bob
            .iter()
            .filter(|i| i.subject == *token && i.folder == INBOX)
            .count();
        let sha = sha256_hex(&s.mime);
        let in_sent = alice
            .iter()
            .filter(|i| i.folder == SENT && i.sha256 == sha)
            .count();
        assert_eq!(
            (in_bob, in_sent),
            (1, 1),
            "LOST or DUPLICATE: {token} acknowledged; bob's Inbox and alice's Sent Items hold it"
        );
        bump(&counts.checked_messages);
    }

    // Acknowledged changes: folders and read flags from the store, flags
    // from a fresh Sync of Inbox and Deleted Items.
    let inbox_view = fresh_view(checker, INBOX, counts);
    let deleted_view = fresh_view(checker, DELETED, counts);
    let alice_by_token: HashMap<&str, &Listed> =
        alice.iter().map(|i| (i.subject.as_str(), i)).collect();
    let expect = std::mem::take(&mut l.expect);
    for (token, mut e) in expect {
        let Some(item) = alice_by_token.get(token.as_str()) else {
            panic!("LOST: {token}, which alice's phone held and changed, is gone");
        };
        if let Some(folder) = e.folder {
            assert_eq!(item.folder, folder, "{token}: an acknowledged move");
            bump(&counts.checked_changes);
        }
        if let Some(read) = e.read {
            assert_eq!(item.read, read, "{token}: an acknowledged read change");
            bump(&counts.checked_changes);
        }
        let view = if item.folder == DELETED {
            &deleted_view
        } else {
            &inbox_view
        };
        let (read, flag) = *view
            .get(&token)
            .unwrap_or_else(|| panic!("{token} in folder {} but not synced", item.folder));
        assert_eq!(read, item.read, "{token}: Sync and store disagree on read");
        if let Some(f) = e.flag {
            assert_eq!(flag, f, "{token}: an acknowledged flag change");
            bump(&counts.checked_changes);
        }
        // What is unknown becomes what the store says.
        e = Expect {
            read: Some(item.read),
            flag: Some(flag),
            folder: Some(item.folder),
        };
        l.expect.insert(token, e);
    }
    drop(l);

    // Every device, from its last acknowledged key, reaches the store's
    // state exactly.
    for d in devices.iter_mut() {
        d.catch_up(counts);
        let truth: BTreeMap<String, (bool, u8)> = if d.login == "alice" {
            inbox_view.clone()
        } else {
            bob.iter()
                .filter(|i| i.folder == INBOX)
                .map(|i| (i.subject.clone(), (i.read, 0)))
                .collect()
        };
        let mut held: BTreeMap<String, (bool, u8)> = BTreeMap::new();
        for c in d.items.values() {
            assert!(
                held.insert(c.token.clone(), (c.read, c.flag)).is_none(),
                "{}: DUPLICATE {}",
                d.name,
                c.token
            );
        }
        let held_tokens: Vec<&String> = held.keys().collect();
        let truth_tokens: Vec<&String> = truth.keys().collect();
        assert_eq!(
            held_tokens, truth_tokens,
            "{}: DIVERGED from the store (key {:?})",
            d.name, d.key
        );
        for (token, value) in &truth {
            if d.uncertain.contains(token) {
                continue;
            }
            assert_eq!(
                held.get(token),
                Some(value),
                "{}: DIVERGED on {token}'s read/flag",
                d.name
            );
        }
        // Its own unanswered changes: the phone takes the server's word.
        for c in d.items.values_mut() {
            if d.uncertain.contains(&c.token) {
                (c.read, c.flag) = truth[&c.token];
            }
        }
        d.uncertain.clear();
        bump(&counts.checked_devices);
    }
}

// ---------------------------------------------------------------- the soak

#[test]
fn acknowledged_work_survives_sigkill_exactly_once() {
    let kills = env_num("EAS_SOAK_KILLS", 4);
    let run_ms = env_num("EAS_SOAK_RUN_MS", 1200).max(100);
    let seed = env_num(
        "EAS_SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    println!("crash soak: EAS_SOAK_SEED={seed} EAS_SOAK_KILLS={kills} EAS_SOAK_RUN_MS={run_ms}");
    let mut rng = StdRng::seed_from_u64(seed);

    let port = free_port();
    let mut server = TestServer::with_config(&format!("[lmtp]\nlisten = \"127.0.0.1:{port}\"\n"));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    server.start();
    let lmtp = SocketAddr::from(([127, 0, 0, 1], port));

    let ledger = Mutex::new(Ledger::default());
    let counts = Counts::default();
    let next_lmtp = AtomicUsize::new(0);
    let next_send = AtomicUsize::new(0);
    let mut a1 = Device::new("SOAKA1", "alice", ALICE_PASSWORD);
    let mut a2 = Device::new("SOAKA2", "alice", ALICE_PASSWORD);
    let mut b1 = Device::new("SOAKB1", "bob", BOB_PASSWORD);
    let mut sender = Device::new("SOAKSEND", "alice", ALICE_PASSWORD);
    let mut checker = Device::new("SOAKCHECK", "alice", ALICE_PASSWORD);
    let started = Instant::now();

    for round in 0..=kills as usize {
        for d in [&mut a1, &mut a2, &mut b1, &mut sender, &mut checker] {
            d.connect(&server);
        }
        if round > 0 {
            verify(
                &server,
                round,
                &ledger,
                &mut [&mut a1, &mut a2, &mut b1],
                &mut checker,
                sender.client(),
                &counts,
            );
        }
        if round == kills as usize {
            break;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let run = Duration::from_millis(rng.random_range(run_ms / 4..=run_ms));
        let mut seeds: Vec<u64> = (0..2).map(|_| rng.random()).collect();
        std::thread::scope(|s| {
            let stop = &*stop;
            let (ledger, counts) = (&ledger, &counts);
            let mut lmtp_rng = StdRng::seed_from_u64(seeds.pop().unwrap());
            let mut change_rng = StdRng::seed_from_u64(seeds.pop().unwrap());
            let next_lmtp = &next_lmtp;
            let next_send = &next_send;
            let sender = sender.client();
            let a1 = &mut a1;
            let a2 = &mut a2;
            let b1 = &mut b1;
            let workers = vec![
                s.spawn(move || lmtp_worker(lmtp, next_lmtp, &mut lmtp_rng, ledger, counts, stop)),
                s.spawn(move || send_worker(sender, round, next_send, ledger, counts, stop)),
                s.spawn(move || changer_worker(a1, &mut change_rng, ledger, counts, stop)),
                s.spawn(move || sync_worker(a2, counts, stop)),
                s.spawn(move || sync_worker(b1, counts, stop)),
            ];
            // The random moment: the workers are all mid-flight by now.
            std::thread::sleep(run);
            if workers.iter().any(|w| w.is_finished()) {
                stop.store(true, Ordering::Relaxed);
                for w in workers {
                    if let Err(e) = w.join() {
                        std::panic::resume_unwind(e);
                    }
                }
                panic!("a worker ended before the kill");
            }
            server.kill();
            stop.store(true, Ordering::Relaxed);
            for w in workers {
                if let Err(e) = w.join() {
                    std::panic::resume_unwind(e);
                }
            }
        });
        server.start();
    }

    let c = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    let l = ledger.lock().unwrap();
    let unique_lmtp: usize = l.lmtp.values().map(|m| m.acked.len()).sum();
    let unique_sent = l.sent.values().filter(|s| s.acked).count();
    drop(l);
    println!(
        "crash soak: distinct acknowledged deliveries at the end: {unique_lmtp} by LMTP, {unique_sent} by SendMail \
         (each in bob's Inbox and alice's Sent Items); Deletes of ids a device never held: {}",
        a1.unknown_deletes + a2.unknown_deletes + b1.unknown_deletes
    );
    println!(
        "crash soak (seed {seed}) in {:.1?}: {kills} kills; LMTP 250s {} (cut sessions {}); \
         SendMail 200s {} (cut {}), resends answered 118: {}; changes acked {} (cut {}, resent after a restart {}); \
         moves acked {} (cut {}); Syncs answered {} (cut {}), Status 3 resyncs {}; \
         checked: {} acknowledged messages, {} acknowledged changes, {} device catch-ups; lost 0, duplicated 0",
        started.elapsed(),
        c(&counts.lmtp_acked),
        c(&counts.lmtp_maybe),
        c(&counts.sends_acked),
        c(&counts.sends_maybe),
        c(&counts.resends_118),
        c(&counts.changes_acked),
        c(&counts.changes_maybe),
        c(&counts.changes_resent),
        c(&counts.moves_acked),
        c(&counts.moves_maybe),
        c(&counts.syncs_acked),
        c(&counts.syncs_cut),
        c(&counts.status3),
        c(&counts.checked_messages),
        c(&counts.checked_changes),
        c(&counts.checked_devices),
    );
    assert!(c(&counts.lmtp_acked) > 0 && c(&counts.checked_messages) > 0);
}

/// A server with alice (and bob) taking LMTP, and one message delivered.
fn server_with_one_message(token: &str) -> TestServer {
    let port = free_port();
    let mut server = TestServer::with_config(&format!("[lmtp]\nlisten = \"127.0.0.1:{port}\"\n"));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.start();
    let mut m = MailClient::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    assert_eq!(m.reply().unwrap().code, 220);
    m.expect("LHLO x", 250);
    m.expect("MAIL FROM:<soak@example.org>", 250);
    m.expect("RCPT TO:<alice@example.com>", 250);
    m.expect("DATA", 354);
    m.send(&dot_stuff(&lmtp_bytes(token, false))).unwrap();
    assert_eq!(m.reply().unwrap().code, 250);
    server
}

/// Found by the soak: a batch that carries a Change of an item which is
/// moved away before the batch is sent (a replay after a lost answer, or a
/// move running between choosing and loading) named the item by its new
/// folder's ServerId, an id the device never had in this collection.
#[test]
fn a_replayed_change_of_an_item_moved_away_is_not_sent_under_another_folders_id() {
    let server = server_with_one_message("soak-M1");
    let counts = Counts::default();
    let mut a = Device::new("MOVEDA", "alice", ALICE_PASSWORD);
    let mut b = Device::new("MOVEDB", "alice", ALICE_PASSWORD);
    for d in [&mut a, &mut b] {
        d.connect(&server);
        d.catch_up(&counts);
    }
    let sid = a.items.keys().next().unwrap().clone();
    let ledger = Mutex::new(Ledger::default());
    a.change(
        PendingChange {
            command: ClientCommand::Change {
                server_id: ServerId::new(sid.clone()).unwrap(),
                instance_id: None,
                application_data: Email {
                    read: Some(true),
                    ..Default::default()
                }
                .to_element(),
                send: false,
            },
            sid: sid.clone(),
            token: "soak-M1".into(),
            read: Some(true),
            flag: None,
            resend: false,
        },
        &ledger,
        &counts,
    );
    assert_eq!(counts.changes_acked.load(Ordering::Relaxed), 1);
    // B gets the Change; its answer is "lost".
    let kb = b.key.clone();
    let r = b.sync(Vec::new(), &counts).unwrap();
    assert_eq!(r.collections[0].commands.len(), 1, "{r:?}");
    b.key = kb;
    b.items.get_mut(&sid).unwrap().read = false;
    // A moves the item to Deleted Items.
    let moved = MoveItemsResponse::from_element(
        &a.client()
            .post_element(
                Command::MOVE_ITEMS,
                &MoveItemsRequest {
                    moves: vec![Move {
                        src_msg_id: ServerId::new(sid.clone()).unwrap(),
                        src_fld_id: CollectionId::new("1").unwrap(),
                        dst_fld_id: CollectionId::new("3").unwrap(),
                    }],
                }
                .to_element(),
            )
            .element(),
    )
    .unwrap();
    assert_eq!(moved.responses[0].status, MoveItemsStatus::SUCCESS);
    // B sends its previous key again: nothing under a ServerId of folder 3.
    let r = b.sync(Vec::new(), &counts).unwrap();
    for command in &r.collections[0].commands {
        let id = match command {
            ServerCommand::Add { server_id, .. }
            | ServerCommand::Change { server_id, .. }
            | ServerCommand::Delete { server_id, .. }
            | ServerCommand::SoftDelete { server_id } => server_id,
        };
        assert!(id.as_str().starts_with("1:"), "{command:?} in the Inbox");
    }
    // And it carries on to the store's state: the Inbox is empty.
    b.catch_up(&counts);
    assert!(b.items.is_empty(), "{:?}", b.items);
    assert_eq!(b.unknown_deletes, 0);
}

/// Found while writing the soak: a phone that lost the answer to a Sync
/// carrying a change, and then sends the previous key with another change,
/// was answered from the saved batch with success and its new change
/// dropped. The server may answer the old batch again only for the same
/// request; for another it must apply it or say Status 3 (it says 3).
/// Never "success" for a change it dropped.
#[test]
fn a_different_change_with_the_previous_key_is_not_silently_dropped() {
    let server = server_with_one_message("soak-R1");
    let counts = Counts::default();
    let mut d = Device::new("REPLAY1", "alice", ALICE_PASSWORD);
    d.connect(&server);
    d.catch_up(&counts);
    let (sid, _) = d
        .items
        .iter()
        .next()
        .map(|(s, c)| (s.clone(), c.clone()))
        .unwrap();
    let change = |email: Email| ClientCommand::Change {
        server_id: ServerId::new(sid.clone()).unwrap(),
        instance_id: None,
        application_data: email.to_element(),
        send: false,
    };
    let key = d.key.clone();
    // The read change is applied; its answer is "lost".
    let first = d
        .sync(
            vec![change(Email {
                read: Some(true),
                ..Default::default()
            })],
            &counts,
        )
        .unwrap();
    assert_eq!(first.collections[0].header.status, Status::SUCCESS);
    d.key = key;
    // The phone sends the previous key with a flag change.
    let second = d
        .sync(
            vec![change(Email {
                flag: Some(Flag {
                    status: Some(FlagStatus::ACTIVE),
                    flag_type: Some("for Follow Up".to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            })],
            &counts,
        )
        .unwrap();
    let col = &second.collections[0];
    if col.header.status == Status::SUCCESS
        && !col
            .responses
            .iter()
            .any(|r| matches!(r, ItemResponse::Change { .. }))
    {
        // Acknowledged: the flag must be there.
        let mut checker = Device::new("REPLAYCHECK", "alice", ALICE_PASSWORD);
        checker.connect(&server);
        let view = fresh_view(&mut checker, INBOX, &counts);
        assert_eq!(
            view.get("soak-R1"),
            Some(&(true, FlagStatus::ACTIVE.0)),
            "the flag change was acknowledged with {:?} and dropped",
            col.header
        );
    } else {
        assert_eq!(col.header.status, Status::INVALID_SYNC_KEY, "{col:?}");
    }
}
