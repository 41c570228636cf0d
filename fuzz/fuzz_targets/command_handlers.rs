//! Every command handler, fed a WBXML document that decodes but says
//! anything: the first byte picks the command (which need not match the
//! document, as a client's query need not match its body), the second the
//! protocol version, the rest is the body. Each input gets a throwaway
//! store on tmpfs holding two accounts, a provisioned device and two
//! messages (one S/MIME), and runs `cmd::dispatch` as the HTTP layer does,
//! on a runtime whose clock is paused so that held Pings and Sync waits end
//! at once. No handler panics, and every WBXML answer encodes.
#![no_main]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eas_proto::ProtocolVersion;
use eas_proto::http::{CommandParams, DeviceId, DeviceType, QueryForm, RequestLine};
use eas_proto::wbxml::Element;
use eas_server::cmd::{Context, IMPLEMENTED, Outcome, dispatch};
use eas_server::config::Config;
use eas_server::mail::summary::summarize;
use eas_server::state::AppState;
use eas_server::store::{Access, Account, Device, Mailbox, NewMail, RedbStore, Store};
use eas_server::trace::Traces;
use libfuzzer_sys::fuzz_target;

const PLAIN: &[u8] = b"From: Bob <bob@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: lunch\r\nDate: Sun, 1 Mar 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAt noon?\r\n--b\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAAA\r\n--b--\r\n";
const SIGNED: &[u8] = include_bytes!("../../fixtures/demo/smime/01-clear-signed.eml");

static N: AtomicU64 = AtomicU64::new(0);

fn account(name: &str) -> Account {
    Account {
        name: name.into(),
        email: format!("{name}@example.com"),
        display_name: name.into(),
        password_hash: String::new(),
        created: 0,
        oof: Default::default(),
    }
}

fn config() -> Config {
    let mut config = Config::default();
    // A CRL fetch (ValidateCert CheckCRL, a distribution point in a
    // certificate the input carries) meets a closed port, never the net.
    config.crl.http_proxy = "http://127.0.0.1:9".into();
    config
}

fuzz_target!(|data: &[u8]| {
    let [command, version, body @ ..] = data else {
        return;
    };
    let command = IMPLEMENTED[usize::from(*command) % IMPLEMENTED.len()];
    let version = ProtocolVersion::ALL[usize::from(*version) % ProtocolVersion::ALL.len()];
    let config = config();
    let Ok(request) = Element::decode(body, config.wbxml_limits()) else {
        return;
    };

    let dir = PathBuf::from(format!(
        "/dev/shm/eas-fuzz-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a directory on tmpfs");
    let store = RedbStore::open(&dir.join("eas.redb")).expect("a fresh store opens");
    let alice = account("alice");
    store.create_account(&alice).expect("alice");
    store.create_account(&account("bob")).expect("bob");
    for (who, raw) in [("alice", PLAIN), ("alice", SIGNED), ("bob", PLAIN)] {
        let mail = NewMail {
            raw,
            summary: summarize(raw),
            received: 1_772_366_400,
            read: false,
        };
        store.deliver(who, 1, &[mail]).expect("a delivery");
    }
    let mut device = Device {
        account: "alice".into(),
        device_id: "FUZZ1".into(),
        device_type: "iPhone".into(),
        user_agent: String::new(),
        first_seen: 0,
        last_seen: 0,
        protocol_version: version.to_string(),
        info: Default::default(),
        policy: Default::default(),
        access: Access::Allowed,
        access_by_admin: false,
        wipe: None,
        recovery_password: None,
        held: Vec::new(),
        suspected_clone: false,
    };
    store.put_device(&device).expect("a device");
    let store: Arc<dyn Store> = Arc::new(store);
    let state = AppState::new(
        config,
        store,
        Traces::new(&dir, Vec::new()),
        "https://eas.example".into(),
    );
    let line = RequestLine {
        form: QueryForm::Plain,
        command,
        user: None,
        device_id: DeviceId::new("FUZZ1").expect("a device id"),
        device_type: DeviceType::new("iPhone").expect("a device type"),
        protocol_version: Some(version),
        policy_key: None,
        locale: None,
        params: CommandParams {
            collection_id: Some("1".into()),
            item_id: Some("1:1".into()),
            save_in_sent: Some(true),
            ..Default::default()
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let mut notes = Vec::new();
    let outcome = runtime.block_on(async {
        let mut ctx = Context {
            state: &state,
            account: &alice,
            device: &mut device,
            version,
            line: &line,
            raw_body: None,
            notes: &mut notes,
        };
        dispatch(&mut ctx, Some(&request)).await
    });
    if let Some(Outcome::Wbxml(response)) = &outcome {
        if let Err(e) = response.encode() {
            panic!("{command} answered with WBXML that does not encode: {e}\nnotes: {notes:?}");
        }
    }
    drop(runtime);
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
});
