//! A throwaway server for the targets that run whole requests or sessions:
//! a store on tmpfs with two accounts and three messages (one S/MIME), a
//! fresh one per input so that inputs cannot affect each other, removed
//! when dropped.
#![allow(dead_code)] // each target uses part of it

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eas_server::config::Config;
use eas_server::mail::summary::summarize;
use eas_server::state::AppState;
use eas_server::store::{Access, Account, Device, Mailbox, NewMail, PolicyState, RedbStore, Store};
use eas_server::trace::Traces;

pub const PLAIN: &[u8] = b"From: Bob <bob@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: lunch\r\nDate: Sun, 1 Mar 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAt noon?\r\n--b\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAAA\r\n--b--\r\n";
pub const SIGNED: &[u8] = include_bytes!("../../../fixtures/demo/smime/01-clear-signed.eml");

/// alice's password, `secret`, hashed with argon2id at the smallest cost
/// argon2 allows (m=8 KiB, t=1): a real hash that verifies, fast enough
/// for thousands of logins a second. The seeds log in with it.
pub const ALICE_HASH: &str =
    "$argon2id$v=19$m=8,t=1,p=1$ZnV6enNhbHRmdXp6c2FsdA$ggREhkE+d4YFT4eK/euD+RopCA+4xeGU0ckD1E7S1ko";

static N: AtomicU64 = AtomicU64::new(0);

pub struct Throwaway {
    pub state: Arc<AppState>,
    dir: PathBuf,
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn account(name: &str, password_hash: &str) -> Account {
    Account {
        name: name.into(),
        email: format!("{name}@example.com"),
        display_name: name.into(),
        password_hash: password_hash.into(),
        created: 0,
        oof: Default::default(),
    }
}

/// The configuration every target starts from.
pub fn config() -> Config {
    let mut config = Config::default();
    // A CRL fetch (ValidateCert CheckCRL, a distribution point in a
    // certificate the input carries) meets a closed port, never the net.
    config.crl.http_proxy = "http://127.0.0.1:9".into();
    config
}

/// A fresh store holding alice (password `secret`) and bob, two messages
/// in alice's Inbox and one in bob's; `prepare` runs before the state is
/// built (to add a device, say).
pub fn throwaway(config: Config, prepare: impl FnOnce(&RedbStore)) -> Throwaway {
    let dir = PathBuf::from(format!(
        "/dev/shm/eas-fuzz-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a directory on tmpfs");
    let store = RedbStore::open(&dir.join("eas.redb")).expect("a fresh store opens");
    store
        .create_account(&account("alice", ALICE_HASH))
        .expect("alice");
    store.create_account(&account("bob", "")).expect("bob");
    for (who, raw) in [("alice", PLAIN), ("alice", SIGNED), ("bob", PLAIN)] {
        let mail = NewMail {
            raw,
            summary: summarize(raw),
            received: 1_772_366_400,
            read: false,
        };
        store.deliver(who, 1, &[mail]).expect("a delivery");
    }
    prepare(&store);
    let store: Arc<dyn Store> = Arc::new(store);
    let state = Arc::new(AppState::new(
        config,
        store,
        Traces::new(&dir, Vec::new()),
        "https://eas.example".into(),
    ));
    Throwaway { state, dir }
}

/// A runtime whose clock is paused: time-outs, held Pings and Sync waits
/// end as soon as nothing else can run.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// alice's device FUZZ1, an iPhone speaking `version`, allowed and holding
/// policy key 1 for `policy_hash` (the policy's fingerprint at `version`,
/// or None for a device that has not provisioned).
pub fn device(version: eas_proto::ProtocolVersion, policy_hash: Option<String>) -> Device {
    Device {
        account: "alice".into(),
        device_id: "FUZZ1".into(),
        device_type: "iPhone".into(),
        user_agent: String::new(),
        first_seen: 0,
        last_seen: 0,
        protocol_version: version.to_string(),
        info: Default::default(),
        policy: PolicyState {
            key: policy_hash.is_some().then_some(1),
            pending_key: None,
            policy_hash,
        },
        access: Access::Allowed,
        access_by_admin: false,
        wipe: None,
        recovery_password: None,
        held: Vec::new(),
        suspected_clone: false,
    }
}
